"""Checks of exercises/eigen.py, first part: power_iteration and spectral_decomposition, and the
helpers that the rest (rotation_2d and rotation_3d, matrix_power, hyperellipse_axes: in
:mod:`grader.bank.eigen_maps`) shares.

Eigenvectors are unique only up to sign, and only up to a rotation inside the eigenspace of a
repeated eigenvalue, so no check compares eigenvector matrices entry by entry: they compare
eigenvalues, Q^T Q = I, S Q = Q diag(lam), reconstructions and subspaces (principal angles,
as in :func:`grader.bank.linalg.compare_directions`).
"""

from __future__ import annotations

import math

import numpy as np

from grader.bank.inputs import rotation
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare, describe, fmt
from grader.judges import Mistake, Trial, raises

# A student's version of a known mistake rounds differently from ours: agreement to six digits
# names it.
_MISTAKE_RTOL = 1e-6


# ----------------------------------------------------------------------------- case inputs

# Built with + - * / and np.sum only (see "case inputs" in grader/bank/linalg.py): the same bits
# on every machine, so the student bundle finds its frozen expected results. Shared builders
# are in grader.bank.inputs (a bundle copies it along with the bank modules that import it).

def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b from elementwise products and np.sum (no BLAS)."""
    return np.sum(a[:, :, None] * b[None, :, :], axis=1)


def _symmetric(rng: np.random.Generator, values, spread: float = 3.0
               ) -> tuple[np.ndarray, np.ndarray]:
    """(R diag(values) R^T, R) for a random rotation R; exactly symmetric."""
    values = np.asarray(values, dtype=np.float64)
    r = rotation(rng, values.size, spread)
    s = _mm(r * values, r.T)
    return (s + s.T) / 2, r


def _gram_schmidt(vectors) -> np.ndarray:
    """Orthonormal columns from the given vectors, in order (Gram-Schmidt, twice)."""
    basis: list[np.ndarray] = []
    for z in vectors:
        for _ in range(2):
            for b in basis:
                z = z - np.sum(b * z) * b
        basis.append(z / math.sqrt(np.sum(z * z)))
    return np.stack(basis, axis=1)


def _is_real_scalar(value: object) -> bool:
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in "biuf"
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _real_array(value: object, shape: tuple, *, finite: bool = True) -> bool:
    return (isinstance(value, np.ndarray) and value.shape == shape and value.dtype.kind in "biuf"
            and (not finite or bool(np.isfinite(value).all())))


def _pair_problem(got: object, shapes: tuple, names: tuple) -> str | None:
    """Why ``got`` is not a pair of finite real arrays of these shapes (None when it is)."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"expected a tuple ({', '.join(names)}), got {describe(got)}"
    for value, shape, name in zip(got, shapes, names):
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            return f"{name}: expected a real array of shape {shape}, got {describe(value)}"
        if value.shape != shape:
            return f"{name}: shape {value.shape}, expected {shape}"
        if not np.isfinite(value).all():
            return f"{name} has NaN or Inf entries"
    return None


def _orthonormal_problem(q: np.ndarray, atol: float, name: str) -> str | None:
    gram = q.T @ q
    off = np.abs(gram - np.eye(gram.shape[0]))
    if off.max() <= atol:
        return None
    i, j = np.unravel_index(int(np.argmax(off)), off.shape)
    what = (f"{name}[:, {i}] has norm {fmt(math.sqrt(max(gram[i, i], 0.0)))}" if i == j
            else f"{name}[:, {i}] . {name}[:, {j}] = {fmt(gram[i, j])}")
    return f"the columns of {name} must be orthonormal ({name}^T {name} = I); {what}"


def _same_pairs(got: object, wrong: object, matrix: np.ndarray, rtol: float = _MISTAKE_RTOL
                ) -> bool:
    """Does (values, vectors) match a mistake's, up to signs and bases of tied eigenspaces?

    The vectors are compared as columns, or as rows (a mistake that returns them as rows). Ties
    are read off the Rayleigh quotients of the mistake's vectors, so a mistake that pairs values
    with the wrong vectors is compared by the vectors' own eigenvalues.
    """
    if not (isinstance(got, (tuple, list)) and isinstance(wrong, (tuple, list))
            and len(got) == len(wrong) == 2):
        return False
    (values, vectors), (w_values, w_vectors) = got, wrong
    if not all(isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
               and a.dtype.kind in "biuf" and b.dtype.kind in "biuf"
               and np.isfinite(a).all() and np.isfinite(b).all()
               for a, b in ((values, w_values), (vectors, w_vectors))):
        return False
    scale = float(np.abs(w_values).max(initial=0.0))
    if not np.allclose(values, w_values, rtol=rtol, atol=1e-9 * scale):
        return False
    for a, w in ((vectors, w_vectors), (vectors.T, w_vectors.T)):
        if _orthonormal_problem(a, 1e-6, "Q") or _orthonormal_problem(w, 1e-6, "Q"):
            continue
        if _same_subspaces(a, w, np.sum(w * (matrix @ w), axis=0)):
            return True
    return False


def _same_subspaces(actual: np.ndarray, expected: np.ndarray, values: np.ndarray) -> bool:
    """Orthonormal columns along the expected ones up to sign, or spanning the same subspace
    where neighbouring ``values`` tie (every principal angle's cosine >= 1 - 1e-6)."""
    top = max(float(np.abs(values).max(initial=0.0)), np.finfo(np.float64).tiny)
    groups: list[list[int]] = []
    for j, value in enumerate(values):
        if groups and abs(values[j - 1] - value) <= 1e-6 * top:
            groups[-1].append(j)
        else:
            groups.append([j])
    return all(np.linalg.svd(expected[:, g].T @ actual[:, g], compute_uv=False).min()
               >= 1 - 1e-6 for g in groups)


def _diagnosis(got: object, case: Case, mistakes: tuple[Mistake, ...], same,
               want: object = None) -> str | None:
    """The first mistake whose variant ``same(got, wrong, case, mistake)`` accepts, among those
    that show on this case (whose variant the right answer ``want`` does not match)."""
    for mistake in mistakes:
        try:
            with np.errstate(all="ignore"):
                wrong = mistake.variant(case)
                if want is not None and same(want, wrong, case, mistake):
                    continue
                if same(got, wrong, case, mistake):
                    return mistake.explain
        except Exception:  # noqa: BLE001 - a variant that does not apply (or is not frozen)
            continue
    return None



# ----------------------------------------------------------------------------- power_iteration

POWER_LAM_RTOL = 1e-8
POWER_COS_TOL = 1e-8
# ||A v - lam v|| allowed, relative to |lambda_1| (2.8 to 10 here; the catalog's 1e-6 is for
# |lambda_1| about 1). A run stopped when the iterate changes by less than tol = 1e-10 leaves
# a residual of about |lambda_1 - lambda_2| * 1e-9; one stopped when lam changes by less than
# tol leaves 1e-5 or more (the stops_on_eigenvalue mistake).
POWER_RESIDUAL = 1e-6
# After a fixed number of iterations every correct implementation holds the same iterate up to
# rounding (1e-15); one iteration more or less turns it by far more than this.
POWER_CAP_COS_TOL = 1e-10


def _power_matrix(values, note: str, **kwargs):
    def build(rng: np.random.Generator) -> Case:
        vals = np.asarray(values, dtype=np.float64)
        a, r = _symmetric(rng, vals)
        return Case((Call("power_iteration", (a,), _start_kwargs(rng, r[:, 0], kwargs)),),
                    note)
    return build


def _start_kwargs(rng: np.random.Generator, v1: np.ndarray, kwargs: dict) -> dict:
    """kwargs with a seed whose start vector has a component >= 0.2 along v1 (a correct run
    then converges in the iterations the case allows); no seed for the default call."""
    if kwargs.get("seed", 0) is None:
        return {k: v for k, v in kwargs.items() if k != "seed"}
    while True:
        seed = int(rng.integers(1, 10**6))
        x = np.random.default_rng(seed).standard_normal(v1.size)
        if abs(np.sum(x * v1)) >= 0.2 * math.sqrt(np.sum(x * x)):
            return {**kwargs, "seed": seed}


def _power_larger(rng: np.random.Generator) -> Case:
    values = np.concatenate([[10.0], rng.uniform(-6.0, 6.0, 29)])
    a, r = _symmetric(rng, values)
    return Case((Call("power_iteration", (a,), _start_kwargs(rng, r[:, 0], {})),),
                "a symmetric 30x30 matrix, |lambda_2 / lambda_1| <= 0.6")


def _power_orthogonal_start(rng: np.random.Generator) -> Case:
    # v2 is the all-ones direction and v1 is orthogonal to it and to e_1: a run started from
    # ones, or from e_1, never sees v1 and settles on (lambda_2, v2).
    n = 6
    e1 = np.zeros(n)
    e1[0] = 1.0
    q = _gram_schmidt([np.ones(n), e1, *rng.standard_normal((n - 2, n))])
    values = np.array([2.85, 0.9, 3.0, 0.6, -0.4, 0.2]) * rng.uniform(0.9, 1.1)
    a = _mm(q * values, q.T)
    a = (a + a.T) / 2
    return Case((Call("power_iteration", (a,), _start_kwargs(rng, q[:, 2], {})),),
                "a symmetric 6x6 matrix whose dominant eigenvector is orthogonal to the "
                "all-ones vector and to e_1 (lambda_2 / lambda_1 = 0.95)")


def _power_cap(rng: np.random.Generator) -> Case:
    # A start with components of at least 0.3 along v1 and v2: after 30 steps (0.99^30 = 0.74)
    # the iterate is still a visible mix, and one step more flips its v2 part.
    values = np.array([4.0, -3.96, 1.5, -1.0, 0.5, 0.2])
    a, r = _symmetric(rng, values)
    while True:
        seed = int(rng.integers(1, 10**6))
        x = np.random.default_rng(seed).standard_normal(len(a))
        size = math.sqrt(np.sum(x * x))
        if min(abs(np.sum(x * r[:, 0])), abs(np.sum(x * r[:, 1]))) >= 0.3 * size:
            break
    return Case((Call("power_iteration", (a,), {"num_iters": 30, "seed": seed}),),
                f"a symmetric 6x6 matrix with lambda_2 / lambda_1 = -0.99, num_iters=30, "
                f"seed={seed} (too few iterations to converge)")


def _power_inputs(case: Case) -> tuple[np.ndarray, int, float, int]:
    call = case.calls[-1]
    kw = call.kwargs
    return (np.asarray(call.args[0], dtype=np.float64), int(kw.get("num_iters", 1000)),
            float(kw.get("tol", 1e-10)), int(kw.get("seed", 0)))


def _power_run(a: np.ndarray, start: np.ndarray, num_iters: int, tol: float, *,
               stale: bool = False, on_value: bool = False) -> tuple[float, np.ndarray]:
    """The docstring's iteration from ``start``; ``stale`` returns the Rayleigh quotient of the
    iterate before the last step, ``on_value`` stops when lam changes by less than tol."""
    v = start / np.linalg.norm(start)
    lam = previous = float(v @ a @ v)
    for _ in range(num_iters):
        w = a @ v
        w = w / np.linalg.norm(w)
        previous, lam_w = lam, float(w @ a @ w)
        change = abs(lam_w - lam) if on_value else min(np.linalg.norm(w - v),
                                                        np.linalg.norm(w + v))
        v, lam = w, lam_w
        if change < tol:
            break
    return (previous if stale else lam), v


def _power_variant(start: str, *, extra: int = 0, **options):
    def variant(case: Case) -> tuple[float, np.ndarray]:
        a, num_iters, tol, seed = _power_inputs(case)
        x = {"ones": lambda n: np.ones(n),
             "seeded": lambda n: np.random.default_rng(seed).standard_normal(n),
             "legacy": lambda n: np.random.RandomState(seed).standard_normal(n)}[start](len(a))
        return _power_run(a, x, num_iters + extra, tol, **options)
    return variant


def _power_abs(case: Case) -> tuple[float, np.ndarray]:
    lam, v = _power_variant("seeded")(case)
    return abs(lam), v


POWER_MISTAKES = (
    Mistake("power_norm_as_eigenvalue",
            "you returned ||A v|| as the eigenvalue: that is |lambda|, and the dominant "
            "eigenvalue here is negative. Use the Rayleigh quotient lam = v^T A v (v of unit "
            "norm), which keeps the sign", _power_abs),
    Mistake("power_fixed_start",
            "you started from a fixed vector (all ones or e_1): here it is orthogonal to the "
            "dominant eigenvector, so every iterate stays orthogonal to it and the iteration "
            "settles on the next eigenvector. Start from the random vector "
            "np.random.default_rng(seed).standard_normal(n), as the docstring says",
            _power_variant("ones")),
    Mistake("power_stale_eigenvalue",
            "your lam is the Rayleigh quotient of the iterate BEFORE the last step, not of the "
            "v you return: after the loop, compute lam = v^T A v of the final v",
            _power_variant("seeded", stale=True)),
    Mistake("power_extra_iteration",
            "you made num_iters + 1 matrix-vector products: num_iters counts every product "
            "A v, the first one (from the start vector) included",
            _power_variant("seeded", extra=1)),
    Mistake("power_legacy_rng",
            "your start vector comes from the legacy np.random.RandomState(seed) (or "
            "np.random.seed): use np.random.default_rng(seed).standard_normal(n), as the "
            "docstring says, so that a run is reproducible",
            _power_variant("legacy")),
    Mistake("power_stops_on_eigenvalue",
            "you stopped when lam stopped changing: the Rayleigh quotient converges twice as "
            "fast as the vector (its error is the square of the vector's), so the loop ends "
            "while v is still visibly off. Stop when v itself changes by less than tol (up to "
            "sign)", _power_variant("seeded", on_value=True)),
)


def _power_angle(v: np.ndarray, w: np.ndarray) -> float:
    cos = abs(float(v @ w)) / (np.linalg.norm(v) * np.linalg.norm(w))
    return math.acos(min(1.0, cos))


def _same_power(got: object, wrong: object, case: Case, mistake: Mistake) -> bool:
    if not (isinstance(got, (tuple, list)) and len(got) == 2 and _is_real_scalar(got[0])
            and _real_array(got[1], wrong[1].shape)):
        return False
    lam, v = float(got[0]), got[1].astype(np.float64)
    if not math.isclose(lam, wrong[0], rel_tol=_MISTAKE_RTOL, abs_tol=1e-12):
        return False
    if mistake.name != "power_stops_on_eigenvalue":
        return 1 - abs(float(v @ wrong[1])) / np.linalg.norm(v) <= _MISTAKE_RTOL
    # Stopped early: v is off by about the variant's angle (the exact stop differs by rounding).
    a, _, _, _ = _power_inputs(case)
    values, vectors = np.linalg.eigh(a)
    top = vectors[:, int(np.argmax(np.abs(values)))]
    mine, theirs = _power_angle(v, top), _power_angle(wrong[1], top)
    return theirs > 1e-6 and theirs / 10 <= mine <= theirs * 10


def _power_judge(capped: bool = False):
    def judge(trial: Trial) -> Verdict:
        got, (lam_w, v_w) = trial.got(), trial.want()
        a = _power_inputs(trial.case)[0]
        prefix = f"power_iteration for {trial.case.note}"

        def fail(message: str) -> Verdict:
            return Verdict(False, f"{prefix}: {message}", _diagnosis(
                got, trial.case, POWER_MISTAKES, _same_power, (lam_w, v_w)))

        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return fail(f"expected a tuple (lam, v), got {describe(got)}")
        if not _is_real_scalar(got[0]):
            return fail(f"lam: expected a real scalar (a float), got {describe(got[0])}")
        if _real_array(got[1], v_w.shape, finite=False) and not np.isfinite(got[1]).all():
            return fail("v has NaN or Inf entries: the iterate overflowed (or was divided by "
                        "zero); normalize it after every product")
        if not _real_array(got[1], v_w.shape):
            return fail(f"v: expected a real array of shape {v_w.shape}, got "
                        f"{describe(got[1])}")
        lam, v = float(got[0]), got[1].astype(np.float64)
        norm = float(np.linalg.norm(v))
        if abs(norm - 1) > 1e-8:
            return fail(f"v must have unit norm; ||v|| = {fmt(norm)}")
        if not math.isclose(lam, lam_w, rel_tol=POWER_LAM_RTOL, abs_tol=1e-12):
            what = "the Rayleigh quotient after num_iters iterations" if capped else \
                "the dominant eigenvalue (largest |lambda|)"
            return fail(f"lam = {fmt(lam)}, expected {what} {fmt(lam_w)}")
        off = 1 - abs(float(v @ v_w))
        tol = POWER_CAP_COS_TOL if capped else POWER_COS_TOL
        if off > tol:
            what = "the iterate after num_iters iterations from the docstring's start vector" \
                if capped else "the dominant eigenvector"
            return fail(f"v is not along {what} (either sign is fine): the angle between them "
                        f"is {fmt(math.degrees(_power_angle(v, v_w)))} degrees (1 - |cos| = "
                        f"{fmt(off)}, allowed {tol:g})")
        residual = float(np.linalg.norm(a @ v - lam * v))
        if not capped and residual > POWER_RESIDUAL * abs(lam_w):
            return fail(f"||A v - lam v|| = {fmt(residual)} (allowed "
                        f"{fmt(POWER_RESIDUAL * abs(lam_w))}): v is not yet an eigenvector")
        return Verdict(True)

    return judge


def _power_timing(rng: np.random.Generator) -> Call:
    b = rng.standard_normal((300, 300))
    return Call("power_iteration", ((b + b.T) / 2, 200), {"tol": 0.0}, send=False)


POWER_ITERATION = Exercise(
    id="eigen.power_iteration",
    title="Power iteration",
    functions=("power_iteration",),
    summary="the dominant eigenpair of a symmetric matrix by repeated A v / ||A v||, lam = v^T A v",
    forbidden=("numpy.linalg.eig", "numpy.linalg.eigh", "numpy.linalg.eigvals",
               "numpy.linalg.eigvalsh", "numpy.linalg.svd", "scipy.linalg.eig",
               "scipy.linalg.eigh", "scipy.linalg.eigvals", "scipy.linalg.eigvalsh",
               "scipy.sparse.linalg.eigsh", "torch.linalg.eig", "torch.linalg.eigh"),
    checks=(
        Check("small", _power_matrix([6.0, 3.0, -2.0, 1.5, 0.5], "a symmetric 5x5 matrix, "
                                     "default arguments", seed=None), _power_judge(),
              points=1, about="a 5x5 symmetric matrix, default arguments"),
        Check("larger", _power_larger, _power_judge(), points=1,
              about="a 30x30 symmetric matrix"),
        Check("negative_dominant", _power_matrix([-5.0, 3.5, -3.0, 2.0, 1.0, -0.5],
                                                 "a symmetric 6x6 matrix whose dominant "
                                                 "eigenvalue is -5"),
              _power_judge(), points=0.5, hidden=True,
              about="a negative dominant eigenvalue keeps its sign"),
        Check("close_eigenvalues", _power_matrix([3.0, 2.94, 1.2, -1.0, 0.5, 0.3],
                                                 "a symmetric 6x6 matrix with lambda_2 / "
                                                 "lambda_1 = 0.98"),
              _power_judge(), points=0.5, hidden=True,
              about="|lambda_2| close to |lambda_1|: slow convergence, stop on v, not on lam"),
        Check("orthogonal_start", _power_orthogonal_start, _power_judge(), points=0.5,
              hidden=True, about="a dominant eigenvector orthogonal to ones and to e_1"),
        Check("iteration_cap", _power_cap, _power_judge(capped=True), points=0.5, hidden=True,
              about="num_iters caps the iterations"),
    ),
    timing=Timing(_power_timing, slow_ratio=5.0,
                  advice="one matrix-vector product A @ v per iteration: no Python loop over "
                         "rows or entries, no matrix-matrix products"),
)


# ------------------------------------------------------------------- spectral_decomposition

# Every symmetric eigensolver (eigh's drivers, Jacobi, QR iteration, torch, scipy) agrees with
# eigvalsh to a few n * eps * max|lambda|; eigenvectors of eigh are orthonormal to n * eps.
SPECTRAL_VALUE_RTOL = 1e-10
SPECTRAL_ATOL = 1e-9  # Q^T Q - I, and residuals relative to max|lambda|


def _spectral_case(values, note: str, *, jitter: float = 0.1):
    def build(rng: np.random.Generator) -> Case:
        vals = np.asarray(values, dtype=np.float64) * rng.uniform(1 - jitter, 1 + jitter)
        s, _ = _symmetric(rng, vals)
        return Case((Call("spectral_decomposition", (s,)),), note)
    return build


def _spectral_gram(rng: np.random.Generator) -> Case:
    b = rng.standard_normal((8, 8))
    s = _mm(b, b.T) / 8
    return Case((Call("spectral_decomposition", ((s + s.T) / 2,)),),
                "a positive definite 8x8 matrix B B^T / 8")


def _spectral_non_symmetric(rng: np.random.Generator) -> Case:
    s, _ = _symmetric(rng, [3.0, 1.0, -1.0, 0.5])
    skew = rng.uniform(0.2, 0.5) * np.triu(rng.standard_normal((4, 4)), 1)
    return Case((Call("spectral_decomposition", (s + skew - skew.T,)),),
                "a NON-symmetric 4x4 matrix")


def _spectral_input(case: Case) -> np.ndarray:
    return np.asarray(case.calls[-1].args[0], dtype=np.float64)


def _spectral_wrong(order: str = "value", *, rows: bool = False, unpaired: bool = False,
                    lower: bool = False):
    """eigh's (lam, Q), ordered by ``order`` ('value' descending, 'ascending', 'abs'), with Q
    transposed (``rows``), or with the values reversed and the columns not (``unpaired``)."""

    def variant(case: Case) -> tuple[np.ndarray, np.ndarray]:
        s = _spectral_input(case)
        w, v = np.linalg.eigh(np.tril(s) + np.tril(s, -1).T if lower else s)
        idx = {"value": np.argsort(-w, kind="stable"), "ascending": np.arange(w.size),
               "abs": np.argsort(-np.abs(w), kind="stable")}[order]
        lam, q = w[idx], v[:, idx]
        if unpaired:
            lam, q = w[::-1], v
        return lam, (q.T.copy() if rows else q)

    return variant


def _spectral_eig(case: Case) -> tuple[np.ndarray, np.ndarray]:
    w, v = np.linalg.eig(_spectral_input(case))
    idx = np.argsort(-w.real, kind="stable")
    return w.real[idx], v.real[:, idx]


def _spectral_svd(case: Case) -> tuple[np.ndarray, np.ndarray]:
    u, sv, _ = np.linalg.svd(_spectral_input(case))
    return sv, u


SPECTRAL_MISTAKES = (
    Mistake("spectral_ascending",
            "your eigenvalues are in ASCENDING order, as np.linalg.eigh returns them: reverse "
            "both, lam[::-1] and Q[:, ::-1], so that lam is descending",
            _spectral_wrong("ascending")),
    Mistake("spectral_abs_order",
            "you ordered the eigenvalues by |lambda|: the order is by VALUE, descending, so a "
            "negative eigenvalue of large magnitude comes LAST (sort by -lam, not -|lam|)",
            _spectral_wrong("abs")),
    Mistake("spectral_svd",
            "you used the SVD: singular values are |lambda|, so a negative eigenvalue loses its "
            "sign (and its place in the order). The SVD is the eigendecomposition only for "
            "positive semidefinite matrices: use np.linalg.eigh", _spectral_svd),
    Mistake("spectral_rows",
            "your Q holds the eigenvectors as ROWS (you returned Q^T): column j of Q must be "
            "the eigenvector of lam[j], as np.linalg.eigh returns them",
            _spectral_wrong(rows=True)),
    Mistake("spectral_unpaired",
            "you reversed the eigenvalues but not the columns of Q: column j of Q must stay "
            "the eigenvector of lam[j], so reorder both with the same index (lam[::-1], "
            "Q[:, ::-1])", _spectral_wrong(unpaired=True)),
    Mistake("spectral_eig_not_orthogonal",
            "you used np.linalg.eig, made for general matrices: for a repeated eigenvalue it "
            "returns SOME basis of the eigenspace, not an orthonormal one (at times not even a "
            "basis: two vectors can be parallel, so orthonormalizing them afterwards does not "
            "always help), and rounding can turn the repeated eigenvalue into a complex pair "
            "with tiny imaginary parts. np.linalg.eigh, made for symmetric matrices, always "
            "returns real eigenvalues and orthonormal eigenvectors", _spectral_eig),
)
SPECTRAL_NO_CHECK = Mistake(
    "spectral_no_symmetry_check",
    "you decomposed a matrix that is not symmetric: np.linalg.eigh reads only one triangle of "
    "S and never checks. Test np.allclose(S, S.T) yourself and raise ValueError",
    _spectral_wrong(lower=True))


def _same_spectral(got: object, wrong: object, case: Case, mistake: Mistake) -> bool:
    s = _spectral_input(case)
    if mistake.name == "spectral_no_symmetry_check":
        s = np.tril(s) + np.tril(s, -1).T
    if mistake.name != "spectral_eig_not_orthogonal":
        return _same_pairs(got, wrong, s)
    # eig: the right eigenvalues, with unit eigenvectors that are not orthogonal, or complex
    # numbers with tiny imaginary parts (a repeated eigenvalue perturbed by rounding can come
    # out of a general eigensolver as a complex pair).
    n = len(s)
    if not (isinstance(got, (tuple, list)) and len(got) == 2 and all(
            isinstance(x, np.ndarray) and x.shape == shape and x.dtype.kind in "biufc"
            and np.isfinite(x).all() for x, shape in zip(got, ((n,), (n, n))))):
        return False
    lam, q = got
    scale = float(np.abs(wrong[0]).max(initial=0.0))
    if not np.allclose(lam.real, wrong[0], rtol=_MISTAKE_RTOL, atol=1e-9 * scale):
        return False
    if np.iscomplexobj(lam) or np.iscomplexobj(q):
        return True
    lam, q = lam.astype(np.float64), q.astype(np.float64)
    return (np.allclose(np.sum(q * q, axis=0), 1.0, atol=1e-6)
            and float(np.abs(s @ q - q * lam).max()) <= 1e-6 * scale
            and _orthonormal_problem(q, 1e-6, "Q") is not None)


def _eigen_residual(matrix: np.ndarray, values: np.ndarray, vectors: np.ndarray
                    ) -> tuple[int, float]:
    """The column j with the largest ||M v_j - values_j v_j||, and that norm."""
    norms = np.linalg.norm(matrix @ vectors - vectors * values, axis=0)
    j = int(np.argmax(norms))
    return j, float(norms[j])


def _spectral_judge(trial: Trial) -> Verdict:
    """lam against eigvalsh; then Q^T Q = I, S Q = Q diag(lam) and the reconstruction, which
    hold for every orthonormal eigenbasis (any signs, any basis of a repeated eigenvalue)."""
    got, (lam_w, _) = trial.got(), trial.want()
    s = _spectral_input(trial.case)
    n = len(s)

    def fail(message: str) -> Verdict:
        return Verdict(False, f"spectral_decomposition for {trial.case.note}: {message}",
                       _diagnosis(got, trial.case, SPECTRAL_MISTAKES, _same_spectral,
                                  trial.want()))

    problem = _pair_problem(got, ((n,), (n, n)), ("lam", "Q"))
    if problem:
        return fail(problem)
    lam, q = (np.asarray(x, dtype=np.float64) for x in got)
    scale = float(np.abs(lam_w).max())
    found = compare(lam, lam_w, rtol=SPECTRAL_VALUE_RTOL, atol=SPECTRAL_VALUE_RTOL * scale,
                    path="lam")
    if found is not None:
        return fail(f"{found} (the eigenvalues, in descending order)")
    problem = _orthonormal_problem(q, SPECTRAL_ATOL, "Q")
    if problem:
        return fail(problem)
    j, residual = _eigen_residual(s, lam, q)
    if residual > SPECTRAL_ATOL * scale:
        return fail(f"Q[:, {j}] is not an eigenvector for lam[{j}] = {fmt(lam[j])}: "
                    f"||S q - lam q|| = {fmt(residual)} (S Q = Q diag(lam) must hold)")
    error = float(np.abs((q * lam) @ q.T - s).max())
    if error > SPECTRAL_ATOL * scale:
        return fail(f"Q diag(lam) Q^T differs from S by up to {fmt(error)}")
    return Verdict(True)


def _raises_value_error(why: str, mistakes: tuple[Mistake, ...], same):
    """``raises('ValueError')``, naming a known mistake when the student returned a value."""

    def judge(trial: Trial) -> Verdict:
        verdict = raises("ValueError", why=why)(trial)
        result = trial.actual[-1]
        if verdict.passed or result.raised is not None or result.missing:
            return verdict
        return Verdict(False, verdict.message,
                       _diagnosis(result.value, trial.case, mistakes, same))

    return judge


def _spectral_timing(rng: np.random.Generator) -> Call:
    b = rng.standard_normal((60, 60))
    return Call("spectral_decomposition", ((b + b.T) / 2,), send=False)


SPECTRAL_DECOMPOSITION = Exercise(
    id="eigen.spectral_decomposition",
    title="Spectral decomposition of a symmetric matrix",
    functions=("spectral_decomposition",),
    summary="S = Q diag(lam) Q^T with lam descending and orthonormal eigenvector columns",
    checks=(
        Check("small", _spectral_case([5.0, 2.0, 1.0, 0.5], "a positive definite 4x4 matrix"),
              _spectral_judge, points=1, about="a 4x4 positive definite matrix"),
        Check("larger", _spectral_gram, _spectral_judge, points=1,
              about="an 8x8 positive definite matrix"),
        Check("indefinite", _spectral_case([4.0, 1.5, -0.5, -3.0, -6.0],
                                           "an indefinite 5x5 matrix (eigenvalues of both "
                                           "signs)"),
              _spectral_judge, points=0.5, hidden=True,
              about="negative eigenvalues: order by value, not |value|"),
        Check("repeated", _spectral_case([5.0, 2.0, 2.0, 2.0, -1.0, -1.0],
                                         "a 6x6 matrix with repeated eigenvalues (one "
                                         "three times, one twice)"),
              _spectral_judge, points=0.5, hidden=True,
              about="repeated eigenvalues: orthonormal eigenvectors in each eigenspace"),
        Check("rank_deficient", _spectral_case([3.0, 1.0, 0.0, 0.0, 0.0],
                                               "a 5x5 matrix of rank 2 (0 three times)"),
              _spectral_judge, points=0.5, hidden=True,
              about="a repeated eigenvalue 0"),
        Check("non_symmetric", _spectral_non_symmetric,
              _raises_value_error("the spectral theorem is about symmetric matrices",
                                  (SPECTRAL_NO_CHECK,), _same_spectral),
              points=0.5, hidden=True, about="a non-symmetric matrix raises ValueError"),
    ),
    # np.linalg.eig costs 3-6x eigh (too close to flag reliably); a decomposition or a null
    # space per eigenvalue costs n times as much.
    timing=Timing(_spectral_timing, slow_ratio=10.0,
                  advice="one np.linalg.eigh gives every eigenpair at once: no decomposition "
                         "(or null space, or power iteration) per eigenvalue"),
)

EXERCISES = (POWER_ITERATION, SPECTRAL_DECOMPOSITION)
