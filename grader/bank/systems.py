"""Checks of exercises/systems.py: Gaussian elimination, least squares, minimum-norm solutions.

Ill-conditioned systems are judged by what is well determined: the residual (Hilbert(10)), or x
to the accuracy that cond(A) * eps allows. A known mistake is a :class:`Mistake` whose variant
replays the flawed method on the case's inputs; where rounding makes the flawed answers differ
from run to run, the student's answer is matched by the property the flaw leaves (``_FITS``): a
residual as large as the replay's, an error along the directions of tiny singular values, a
second minimizer of ||A x - b|| with a larger norm.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from grader import diagnose
from grader.bank.inputs import combine, with_singular_values
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare, describe, fmt
from grader.grading import describe_raise
from grader.judges import Mistake, Trial

_EPS = float(np.finfo(np.float64).eps)


# ----------------------------------------------------------------------------- case inputs

# Inputs come from grader.bank.inputs (the same bits on every machine).

def _well_conditioned(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """Singular values in [0.5, 3]: a condition number of at most 6."""
    return with_singular_values(rng, m, n, rng.uniform(0.5, 3.0, min(m, n)))


def _low_rank(rng: np.random.Generator, m: int, n: int, rank: int, scale: float = 1.0
              ) -> np.ndarray:
    """A sum of ``rank`` outer products of Gaussian vectors, times ``scale``: its zero singular
    values come out of an SVD far below max(m, n) * eps * max(s) (measured in the tests)."""
    return combine(rng.standard_normal((m, rank)), (scale,) * rank,
                    rng.standard_normal((n, rank)))


def _times(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """a @ x without BLAS (b = A x_true for a consistent system)."""
    if x.ndim == 1:
        return np.sum(a * x, axis=1)
    return np.stack([np.sum(a * x[:, j], axis=1) for j in range(x.shape[1])], axis=1)


def _hilbert(n: int) -> np.ndarray:
    i = np.arange(n, dtype=np.float64)
    return 1.0 / (i[:, None] + i[None, :] + 1.0)


# ----------------------------------------------------------------------------- matching

def _quietly(variant: Callable[[Case], Any]) -> Callable[[Case], Any]:
    """A mistake's replay computes on purpose what overflows or divides by zero; the release
    replays it outside any judge, where a warning may be an error."""

    def run(case: Case) -> Any:
        with np.errstate(all="ignore"):
            return variant(case)

    return run


def _quiet(judge: Callable[[Trial], Verdict]) -> Callable[[Trial], Verdict]:
    """Judges compute on whatever came back: an overflow there is a wrong answer, not a
    warning (nor, under ``-W error``, a grader error)."""

    def run(trial: Trial) -> Verdict:
        with np.errstate(all="ignore"):
            return judge(trial)

    return run


def _inputs(case: Case) -> tuple[np.ndarray, np.ndarray]:
    call = case.calls[-1]
    return (np.asarray(call.args[0], dtype=np.float64),
            np.asarray(call.args[1], dtype=np.float64))


def _norm(x: Any) -> float:
    return float(np.linalg.norm(x))


def _as_float(value: Any, shape: tuple) -> np.ndarray | None:
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf" and value.shape == shape:
        return value.astype(np.float64)
    return None


def _relative_error(got: np.ndarray, want: np.ndarray) -> float:
    scale = _norm(want)
    return _norm(got - want) / scale if scale > 0 else _norm(got)


def _residual(case: Case, x: np.ndarray) -> float:
    """||A x - b|| / ||b||."""
    a, b = _inputs(case)
    return _norm(a @ x - b) / max(_norm(b), np.finfo(np.float64).tiny)


def _blows_up(x: Any, want: np.ndarray) -> bool:
    x = np.asarray(x, dtype=np.float64)
    return not np.isfinite(x).all() or _norm(x) > 1e6 * max(_norm(want), 1e-300)


def _same_value(got: Any, wrong: Any, case: Case | None = None, want: Any = None) -> bool:
    """The replay's value within rtol 1e-6 of its largest entry (NaN/Inf where it has them)."""
    g = _as_float(got, np.shape(wrong))
    w = np.asarray(wrong, dtype=np.float64) if g is not None else None
    if g is None or not np.array_equal(np.isfinite(g), np.isfinite(w)):
        return False
    fin = np.isfinite(w)
    scale = float(np.abs(w[fin]).max()) if fin.any() else 0.0
    return bool(np.all(np.abs(g[fin] - w[fin]) <= 1e-6 * scale))


def _both_blow_up(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    g = _as_float(got, np.shape(want))
    return g is not None and _blows_up(g, want) and _blows_up(wrong, want)


def _value_or_blow_up(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    return _same_value(got, wrong) or _both_blow_up(got, wrong, case, want)


def _diagnose(got: Any, case: Case, want: Any, mistakes: tuple[Mistake, ...]) -> str | None:
    for mistake in mistakes:
        try:
            with np.errstate(all="ignore"):
                wrong = mistake.variant(case)
        except Exception:  # noqa: BLE001 - a variant that does not apply to these inputs
            continue
        if _FITS.get(mistake.name, _same_value)(got, wrong, case, want):
            return mistake.explain
    return None


def _is_linalg_error(raised: dict) -> bool:
    # Workers report only builtin base classes: numpy's LinAlgError is a ValueError by that name.
    return raised.get("type") == "LinAlgError" and "ValueError" in raised.get("mro", ())


def _raised(trial: Trial, on_raise: dict[str, Mistake]) -> Verdict | None:
    """A failing verdict when the student's call raised, naming the mistake of ``on_raise``
    whose key is the exception's type, one of its builtin base classes, or in its message."""
    result = trial.actual[-1]
    if result.raised is None or result.missing:
        return None
    raised = result.raised
    names = {raised.get("type"), *raised.get("mro", ())}
    diagnosis = next((m.explain for key, m in on_raise.items()
                      if key in names or key in raised.get("message", "")), None)
    note = f" for {trial.case.note}" if trial.case.note else ""
    return Verdict(False, describe_raise(f"{trial.func()}{note}", raised), diagnosis)


# ============================================================================ systems.solve

# A backward-stable solve leaves ||A x - b|| / ||b|| at a few eps (at most 1e-15 on Hilbert(10)
# over 200 seeds), inv(A) @ b between 2e-7 and 1e-4 there; x is compared where it is well
# determined (condition numbers up to about 1e3: errors below 1e-12).
RESIDUAL_TOL = 1e-10
X_RTOL = 1e-8


def _eliminate(a: np.ndarray, b: np.ndarray, *, pivot: bool = True, permute_b: bool = True,
               integer: bool = False, threshold: float | None = None) -> np.ndarray:
    """Gaussian elimination as a flawed solution does it: without a zero-pivot test, or
    raising LinAlgError for pivots below an absolute ``threshold``."""
    kind = np.int64 if integer else np.float64
    u, y = a.astype(kind), b.astype(kind).reshape(len(a), -1)
    n = len(u)
    for k in range(n):
        if pivot:
            p = k + int(np.argmax(np.abs(u[k:, k])))
            u[[k, p]] = u[[p, k]]
            if permute_b:
                y[[k, p]] = y[[p, k]]
        if threshold is not None and abs(u[k, k]) < threshold:
            raise np.linalg.LinAlgError("pivot below the absolute threshold")
        for i in range(k + 1, n):
            factor = u[i, k] / u[k, k]
            u[i, k:] = u[i, k:] - factor * u[k, k:]  # truncated when u holds integers
            y[i] = y[i] - factor * y[k]
    x = np.zeros(y.shape)
    for k in reversed(range(n)):
        x[k] = (y[k] - u[k, k + 1:] @ x[k + 1:]) / u[k, k]
    return x.reshape(b.shape)


def _integer_elimination(case: Case) -> np.ndarray:
    """Elimination in the integer arrays of an integer case (each update truncated)."""
    a, b = case.calls[-1].args
    if np.asarray(a).dtype.kind not in "iu":
        raise ValueError("not an integer case")
    return _eliminate(*_inputs(case), integer=True)


def _inverse_times(case: Case) -> np.ndarray:
    a, b = _inputs(case)
    return np.linalg.inv(a) @ b


def _residual_like(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    """A residual above the tolerance, within a factor of 1000 of the replay's."""
    g = _as_float(got, np.shape(want))
    if g is None or not np.isfinite(g).all():
        return False
    ours, theirs = _residual(case, g), _residual(case, np.asarray(wrong))
    return ours > RESIDUAL_TOL and theirs > RESIDUAL_TOL and 1e-3 <= ours / theirs <= 1e3


def _error_like(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    """Inf/NaN where the replay has them, or an error within a factor of 1000 of the replay's
    (rounding amplified by a tiny pivot is different in every implementation)."""
    g = _as_float(got, np.shape(want))
    if g is None:
        return False
    w = np.asarray(wrong, dtype=np.float64)
    if not np.isfinite(w).all() or not np.isfinite(g).all():
        return not np.isfinite(w).all() and not np.isfinite(g).all()
    ours, theirs = _relative_error(g, want), _relative_error(w, want)
    return ours > X_RTOL and theirs > X_RTOL and 1e-3 <= ours / theirs <= 1e3


SOLVE_INVERSE = Mistake(
    "solve_explicit_inverse",
    "your residual ||A x - b|| is far above rounding level: the signature of x = inv(A) @ b. "
    "The computed inverse of a matrix with condition number 1.6e13 is off by about "
    "cond(A) * eps, and so is A x - b; elimination with partial pivoting (LU) is backward "
    "stable, its residual stays at a few eps whatever cond(A). Solve, do not invert",
    _quietly(_inverse_times))
SOLVE_NO_PIVOTING = Mistake(
    "solve_no_pivoting",
    "you eliminate without row exchanges: A[0, 0] is 0 (or 1e-12) here although A is "
    "invertible, so l = A[i, 0] / A[0, 0] divides by zero (or is 1e12 and wipes out the other "
    "entries). Partial pivoting: at step k, swap row k with the row p >= k of largest "
    "|A[p, k]| (and the same rows of b) before eliminating",
    _quietly(lambda case: _eliminate(*_inputs(case), pivot=False)))
SOLVE_B_NOT_PERMUTED = Mistake(
    "solve_b_not_permuted",
    "you swapped rows of A to pivot but not the same rows of b: you solved (P A) x = b instead "
    "of (P A) x = P b. Every row exchange of A must be applied to b too",
    _quietly(lambda case: _eliminate(*_inputs(case), permute_b=False)))
SOLVE_ABSOLUTE_PIVOT = Mistake(
    "solve_absolute_pivot_tolerance",
    "you declared Hilbert(10) singular: it is ill-conditioned (cond 1.6e13) but invertible, its "
    "smallest pivot is about 2.6e-12. A fixed threshold like |pivot| < 1e-10 is not a test of "
    "singularity; raise only for a zero pivot (or one below n * eps * max|A_ij|)",
    _quietly(lambda case: _eliminate(*_inputs(case), threshold=1e-10)))
SOLVE_INTEGER = Mistake(
    "solve_integer_arithmetic",
    "your elimination works in the integer arrays it was given: the updates row_i - l * row_k "
    "are floats, and numpy refuses to store them in an int array (or truncates them). Convert "
    "first: A = np.array(A, dtype=float), b = np.array(b, dtype=float) (copies, so the caller's "
    "arrays are not changed either)",
    _quietly(_integer_elimination))
SOLVE_SINGULAR = Mistake(
    "solve_singular_not_detected",
    "A is singular (two equal rows, or a zero column) but your elimination went on with a zero "
    "pivot: dividing by it gives Inf/NaN or a ZeroDivisionError. When the largest candidate "
    "pivot in a column is 0, raise np.linalg.LinAlgError",
    _quietly(lambda case: _eliminate(*_inputs(case))))


def _solve_judge(*mistakes: Mistake, residual_only: bool = False,
                 on_raise: dict[str, Mistake] | None = None) -> Callable[[Trial], Verdict]:
    """The relative residual, then (unless ``residual_only``) x against the reference."""

    @_quiet
    def judge(trial: Trial) -> Verdict:
        raised = _raised(trial, on_raise or {})
        if raised is not None:
            return raised
        got, want = trial.got(), trial.want()
        prefix = f"solve for {trial.case.note}"

        def fail(message: str) -> Verdict:
            diagnosis = _diagnose(got, trial.case, want, mistakes)
            if diagnosis is None:
                diagnosis = diagnose.generic(got, want, rtol=1e-6,
                                             atol=1e-9 * float(np.abs(want).max()))
            return Verdict(False, f"{prefix}: {message}", diagnosis)

        found = compare(got, want, rtol=0.0, atol=math.inf)  # type, shape, dtype, NaN/Inf
        if found is not None:
            return fail(str(found))
        residual = _residual(trial.case, got)
        if not residual <= RESIDUAL_TOL:
            return fail(f"relative residual ||A x - b|| / ||b|| = {fmt(residual)} (allowed "
                        f"{RESIDUAL_TOL:g})")
        if not residual_only:
            found = compare(got, want, rtol=X_RTOL, atol=X_RTOL * float(np.abs(want).max()))
            if found is not None:
                return fail(str(found))
        return Verdict(True)

    return judge


def _singular_judge(trial: Trial) -> Verdict:
    """np.linalg.LinAlgError, naming the missing zero-pivot test when it is not raised."""
    result = trial.actual[-1]
    if result.raised is not None and _is_linalg_error(result.raised):
        return Verdict(True)
    message = f"solve for {trial.case.note} should raise np.linalg.LinAlgError (A is singular)"
    if result.missing:
        return Verdict(False, f"{message}; it was not called")
    if result.raised is not None:
        got = f"raised {result.raised['type']}: {result.raised['message']}"
    else:
        got = f"returned {describe(result.value)}"
    return Verdict(False, f"{message}; it {got}", SOLVE_SINGULAR.explain)


def _solve_case(n: int, note: str, *, k: int | None = None,
                edit: Callable[[np.ndarray, np.random.Generator], None] | None = None):
    def build(rng: np.random.Generator) -> Case:
        a = _well_conditioned(rng, n, n)
        if edit is not None:
            edit(a, rng)
        b = rng.standard_normal(n if k is None else (n, k))
        return Case((Call("solve", (a, b)),), note)
    return build


def _set_leading(value: float) -> Callable[[np.ndarray, np.random.Generator], None]:
    def edit(a: np.ndarray, rng: np.random.Generator) -> None:
        a[0, 0] = value * rng.uniform(0.5, 2.0)
    return edit


def _hilbert_case(rng: np.random.Generator) -> Case:
    h = _hilbert(10)
    return Case((Call("solve", (h, _times(h, rng.standard_normal(10)))),),
                "the Hilbert matrix of order 10 (condition number 1.6e13), b = H x_true")


def _singular_case(kind: str):
    def build(rng: np.random.Generator) -> Case:
        a = rng.standard_normal((5, 5))
        if kind == "rows":
            a[3] = a[1]
        else:
            a[:, 2] = 0.0
        note = "a 5x5 matrix whose rows 1 and 3 are equal" if kind == "rows" else \
            "a 5x5 matrix whose column 2 is zero"
        return Case((Call("solve", (a, rng.standard_normal(5))),), note)
    return build


def _integer_case(rng: np.random.Generator) -> Case:
    a = rng.integers(-4, 5, (4, 4)) + 12 * np.eye(4, dtype=np.int64)
    return Case((Call("solve", (a, rng.integers(-9, 10, 4))),),
                "an integer 4x4 matrix and an integer b")


SOLVE = Exercise(
    id="systems.solve",
    title="Gaussian elimination with partial pivoting",
    functions=("solve",),
    summary="x with A x = b by LU with row exchanges; LinAlgError for a singular A",
    forbidden=("numpy.linalg.solve", "numpy.linalg.lstsq", "numpy.linalg.pinv",
               "numpy.linalg.tensorsolve", "scipy.linalg.solve", "scipy.linalg.lu",
               "scipy.linalg.lu_factor", "scipy.linalg.lu_solve", "scipy.linalg.lstsq",
               "torch.linalg.solve"),
    checks=(
        Check("small", _solve_case(4, "a 4x4 system"),
              _solve_judge(SOLVE_B_NOT_PERMUTED), points=1, about="a small invertible system"),
        Check("several_rhs", _solve_case(5, "a 5x5 system with b of shape (5, 3)", k=3),
              _solve_judge(SOLVE_B_NOT_PERMUTED), points=1,
              about="b with several columns: one solution per column"),
        Check("larger", _solve_case(40, "a 40x40 system"),
              _solve_judge(SOLVE_B_NOT_PERMUTED), points=0.5, hidden=True,
              about="a 40x40 system"),
        Check("zero_leading_entry",
              _solve_case(4, "an invertible 4x4 matrix with A[0, 0] = 0",
                          edit=lambda a, rng: a.__setitem__((0, 0), 0.0)),
              _solve_judge(SOLVE_NO_PIVOTING, SOLVE_B_NOT_PERMUTED,
                           on_raise={"LinAlgError": SOLVE_NO_PIVOTING,
                                     "ZeroDivisionError": SOLVE_NO_PIVOTING,
                                     "FloatingPointError": SOLVE_NO_PIVOTING}),
              points=0.5, hidden=True, about="a zero leading entry: row exchanges needed"),
        Check("tiny_pivot",
              _solve_case(5, "an invertible 5x5 matrix with A[0, 0] about 1e-12",
                          edit=_set_leading(1e-12)),
              _solve_judge(SOLVE_NO_PIVOTING, SOLVE_B_NOT_PERMUTED), points=0.5, hidden=True,
              about="a tiny leading entry: partial pivoting keeps multipliers <= 1"),
        Check("hilbert10", _hilbert_case,
              _solve_judge(SOLVE_INVERSE, residual_only=True,
                           on_raise={"LinAlgError": SOLVE_ABSOLUTE_PIVOT}),
              points=1, hidden=True,
              about="Hilbert(10): judged by the residual; no explicit inverse"),
        Check("singular_equal_rows", _singular_case("rows"), _singular_judge, points=0.5,
              hidden=True, about="two equal rows: LinAlgError"),
        Check("singular_zero_column", _singular_case("column"), _singular_judge, points=0.5,
              hidden=True, about="a zero column: LinAlgError"),
        Check("integers", _integer_case,
              _solve_judge(SOLVE_INTEGER, on_raise={"Cannot cast ufunc": SOLVE_INTEGER}),
              points=0.5, hidden=True, about="integer A and b: compute in float64"),
    ),
    # n = 200, measured: loops over single entries 25x the reference, a loop over rows with
    # vectorized row updates 6.6x, whole-column updates 0.8-1.3x, inv(A) @ b 0.1x.
    timing=Timing(lambda rng: Call("solve", (_well_conditioned(rng, 200, 200),
                                             rng.standard_normal(200)), send=False),
                  slow_ratio=10.0,
                  advice="eliminate a whole column at a time: l = U[k+1:, k] / U[k, k], then "
                         "U[k+1:, k+1:] -= np.outer(l, U[k, k+1:]), instead of loops over "
                         "rows and entries"),
)


# ====================================================== systems.least_squares / min_norm

# x is compared with A^+ b by the relative error in the 2-norm: 1e-8 where cond(A) <= 6 (or
# the kept singular values span less than 1e3), 1e-6 for cond(A) = 1e8, where any backward-
# stable method is off by about cond(A) * eps (at most 3e-8 in 2,000 seeds: SVD, QR, LAPACK's
# gelsd and gelss) and the normal equations by 7e-3 or more.
LSQ_RTOL = 1e-8
LSQ_ILL_RTOL = 1e-6
# ||A^T (A x - b)|| / (||A|| (||A|| ||x|| + ||b||)): a few eps for a least-squares solution by
# a factorization of A, up to 6.1e-10 for A^+ formed first and then applied to b (cond(A) =
# 1e8; 300 seeds). It names what is wrong; the error of x decides.
NORMAL_TOL = 1e-8
_SMALL = 1e-4  # singular values below this share of the largest are "small" in a diagnosis


def _svd_apply(a: np.ndarray, b: np.ndarray, keep: Callable[[np.ndarray], np.ndarray]
               ) -> np.ndarray:
    """V S^+ U^T b over the singular values where ``keep(s)``: the flawed cutoffs."""
    u, sv, vt = np.linalg.svd(a, full_matrices=False)
    kept = keep(sv)
    coeffs = (u[:, kept].T @ b).T / sv[kept]
    return vt[kept].T @ coeffs.T


def _normal_residual(case: Case, x: np.ndarray) -> float:
    a, b = _inputs(case)
    scale = _norm(a) * (_norm(a) * _norm(x) + _norm(b))
    return _norm(a.T @ (a @ x - b)) / scale if scale > 0 else 0.0


def _small_directions(case: Case) -> np.ndarray:
    """Right singular vectors (rows) of A whose singular values are below _SMALL * max."""
    _, sv, vt = np.linalg.svd(_inputs(case)[0], full_matrices=False)
    return vt[sv < _SMALL * sv[0]]


def _lost_small_directions(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    """The normal equations' signature: right up to the directions of tiny singular values,
    wrong along them (not zero there: that is a cutoff too large)."""
    g = _as_float(got, np.shape(want))
    small = _small_directions(case)
    if g is None or not np.isfinite(g).all() or not len(small):
        return False
    error = g - want
    along = _norm(small @ error)
    return (_relative_error(g, want) > LSQ_ILL_RTOL and along >= 0.9 * _norm(error)
            and _norm(small @ g) > 1e-3 * _norm(small @ want))


def _another_minimizer(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    """A least-squares solution (the normal equations hold) that is longer than A^+ b."""
    g = _as_float(got, np.shape(want))
    return (g is not None and np.isfinite(g).all()
            and _relative_error(g, want) > LSQ_RTOL and _normal_residual(case, g) <= 1e-8
            and _norm(g) > _norm(want) * (1 + 1e-9))


def _gram_either(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    """One of the replays (rounding noise amplified by a singular A A^T is different for every
    order of operations: matched by its size, within a factor of 10)."""
    g = _as_float(got, np.shape(want))
    if g is None:
        return False
    for w in wrong:
        if _same_value(g, w) or _both_blow_up(g, w, case, want):
            return True
        if np.isfinite(g).all() and np.isfinite(w).all():
            ours, theirs = _relative_error(g, want), _relative_error(w, want)
            if ours > LSQ_RTOL and theirs > LSQ_RTOL and 0.1 <= ours / theirs <= 10:
                return True
    return False


def _basic_solution(case: Case) -> np.ndarray:
    """A solution that sets all but the first rank(A) unknowns to zero."""
    a, b = _inputs(case)
    rank = int(np.count_nonzero(np.linalg.svd(a, compute_uv=False) > 1e-10))
    x = np.zeros((a.shape[1],) + b.shape[1:])
    x[:rank] = np.linalg.lstsq(a[:, :rank], b, rcond=None)[0]
    return x


def _cut(rule: Callable[[np.ndarray], np.ndarray]) -> Callable[[Case], np.ndarray]:
    return lambda case: _svd_apply(*_inputs(case), rule)


def _min_norm_gram(case: Case) -> tuple[np.ndarray, np.ndarray]:
    a, b = _inputs(case)
    return a.T @ np.linalg.solve(a @ a.T, b), a.T @ (np.linalg.inv(a @ a.T) @ b)


LSQ_NORMAL_EQUATIONS = Mistake(
    "lsq_normal_equations",
    "x is right except along the directions of the tiny singular values of A: the signature of "
    "the normal equations A^T A x = A^T b. cond(A^T A) = cond(A)^2 = 1e16, so forming A^T A "
    "loses every digit there. Work on A itself: x = V S^+ U^T b from its SVD (or R x = Q^T b "
    "from its QR)",
    _quietly(lambda case: np.linalg.solve(_inputs(case)[0].T @ _inputs(case)[0],
                                 _inputs(case)[0].T @ _inputs(case)[1])))
LSQ_TRUNCATED = Mistake(
    "lsq_truncated",
    "x has no component along the singular values of about 1e-8 * sigma_max: your cutoff "
    "treated them as zero. They are genuine (far above the rounding level max(m, n) * eps * "
    "sigma_max, about 4e-15 * sigma_max): only singular values below that cutoff are dropped",
    _quietly(_cut(lambda s: s > 1e-6 * s[0])))
LSQ_BLOWUP = Mistake(
    "lsq_no_cutoff",
    "x blew up: A is rank-deficient, so some singular values are zero up to rounding "
    "(about 1e-16 * sigma_max), and 1 / sigma_i for them (or the inverse of the singular A^T A, "
    "or R of a QR) is about 1e16. Treat singular values <= max(m, n) * eps * sigma_max as zero: "
    "x = sum over the others of (u_i . b / sigma_i) v_i, the minimum-norm solution",
    _quietly(_cut(lambda s: s > 0)))
LSQ_ABSOLUTE = Mistake(
    "lsq_absolute_cutoff",
    "your cutoff for small singular values is absolute: for entries of 1e-12 every sigma_i is "
    "below a threshold like 1e-10 and x comes out 0; for entries of 1e8 the rounding noise of the "
    "zero singular values (about 1e-7) passes it and 1 / sigma_i blows x up. The cutoff is "
    "relative: sigma_i > max(m, n) * eps * sigma_max",
    _quietly(_cut(lambda s: s > 1e-10)))
LSQ_NOT_MIN_NORM = Mistake(
    "lsq_not_min_norm",
    "x minimizes ||A x - b||, but it is not the minimum-norm minimizer: A has dependent columns, "
    "so adding any null-space vector of A gives another minimizer, and yours has such a "
    "component (a basic solution from a pivoted QR has one; so has a solve with the singular "
    "A^T A, or a division by a singular value that is only rounding noise). The minimum-norm "
    "one lies in the row space: x = V_r S_r^-1 U_r^T b over the singular values above the cutoff",
    _quietly(_basic_solution))
MN_GRAM = Mistake(
    "mn_gram_inverse",
    "you solved a square system built from A, like A A^T w = b in x = A^T (A A^T)^-1 b (or a "
    "square block of A): with dependent rows (rank 2 < 4 rows) that matrix is singular, so the "
    "result is a LinAlgError or noise. x = V S^+ U^T b from the SVD, with singular values "
    "<= max(m, n) * eps * sigma_max treated as zero, needs no inverse",
    _quietly(_min_norm_gram))
MN_NOT_MIN_NORM = Mistake(
    "mn_not_min_norm",
    "your x solves A x = b but is not the minimum-norm solution: it has a component in the null "
    "space of A (setting n - m unknowns to 0 gives one; so does dividing by a singular value "
    "that is only rounding noise, which turns noise into a null-space direction v_i). The "
    "minimum-norm solution lies in the row space of A: x = A^+ b = V S^+ U^T b",
    _quietly(_basic_solution))
_FITS: dict[str, Callable[..., bool]] = {
    "solve_explicit_inverse": _residual_like, "solve_no_pivoting": _error_like,
    "lsq_normal_equations": _lost_small_directions, "lsq_no_cutoff": _value_or_blow_up,
    "lsq_absolute_cutoff": _value_or_blow_up, "lsq_not_min_norm": _another_minimizer,
    "mn_gram_inverse": _gram_either, "mn_not_min_norm": _another_minimizer,
}


def _solution_judge(func: str, *mistakes: Mistake, rtol: float = LSQ_RTOL,
                    consistent: bool = False, on_raise: dict[str, Mistake] | None = None
                    ) -> Callable[[Trial], Verdict]:
    """x against A^+ b (relative 2-norm error); the normal equations, or A x = b for a
    consistent system, as the hint of what is wrong."""

    @_quiet
    def judge(trial: Trial) -> Verdict:
        raised = _raised(trial, on_raise or {})
        if raised is not None:
            return raised
        got, want = trial.got(), trial.want()
        prefix = f"{func} for {trial.case.note}"

        def fail(message: str) -> Verdict:
            diagnosis = _diagnose(got, trial.case, want, mistakes)
            if diagnosis is None:
                diagnosis = diagnose.generic(got, want, rtol=1e-6,
                                             atol=1e-9 * float(np.abs(want).max()))
            return Verdict(False, f"{prefix}: {message}", diagnosis)

        found = compare(got, want, rtol=0.0, atol=math.inf)  # type, shape, dtype, NaN/Inf
        if found is not None:
            return fail(str(found))
        hints = []
        residual = _residual(trial.case, got)
        if consistent and not residual <= RESIDUAL_TOL:
            hints.append(f"A x != b: ||A x - b|| / ||b|| = {fmt(residual)} (allowed "
                         f"{RESIDUAL_TOL:g})")
        normal = _normal_residual(trial.case, got)
        if not consistent and not normal <= NORMAL_TOL:
            hints.append(f"x does not satisfy the normal equations A^T (A x - b) = 0 "
                         f"(relative residual {fmt(normal)}, allowed {NORMAL_TOL:g})")
        error = _relative_error(got, want)
        if not error <= rtol:
            a = _inputs(trial.case)[0]
            _, sv, vt = np.linalg.svd(a, full_matrices=False)
            row_space = vt[sv > max(a.shape) * _EPS * sv[0]]
            null = _norm(got - row_space.T @ (row_space @ got))
            where = (f"; x has a component of norm {fmt(null)} in the null space of A (||x|| = "
                     f"{fmt(_norm(got))}, the minimum-norm solution has {fmt(_norm(want))})"
                     if len(row_space) < a.shape[1] and null > rtol * _norm(want) else "")
            hints.insert(0, f"||x - A^+ b|| / ||A^+ b|| = {fmt(error)} (allowed {rtol:g})"
                            f"{where}")
        return fail("; ".join(hints)) if hints else Verdict(True)

    return judge


def _system(func: str, m: int, n: int, note: str, *, k: int | None = None,
            matrix: Callable[[np.random.Generator], np.ndarray] | None = None,
            consistent: bool = False, scale: float = 1.0):
    """A case: A from ``matrix`` (default: well conditioned), b random (times ``scale``) or,
    when ``consistent``, b = A y."""
    def build(rng: np.random.Generator) -> Case:
        a = matrix(rng) if matrix else _well_conditioned(rng, m, n)
        shape = (m,) if k is None else (m, k)
        if consistent:
            b = _times(a, rng.standard_normal((n,) + shape[1:]))
        else:
            b = scale * rng.standard_normal(shape)
        return Case((Call(func, (a, b)),), note)
    return build


def _ill_conditioned(rng: np.random.Generator) -> np.ndarray:
    """16x8 with singular values 1 .. 0.4 and three of about 1e-8: cond(A) = 1e8."""
    s = np.array([1.0, 0.8, 0.65, 0.5, 0.4, 1.5e-8, 1.2e-8, 1e-8]) * rng.uniform(0.8, 1.25)
    return with_singular_values(rng, 16, 8, s)


_RANK_RAISES = {"LinAlgError": LSQ_BLOWUP}
LEAST_SQUARES = Exercise(
    id="systems.least_squares",
    title="Least squares",
    functions=("least_squares",),
    summary="the minimum-norm minimizer of ||A x - b|| from one SVD, never the normal equations",
    forbidden=("numpy.linalg.lstsq", "numpy.linalg.pinv", "scipy.linalg.lstsq",
               "scipy.linalg.pinv", "torch.linalg.lstsq", "torch.linalg.pinv"),
    checks=(
        Check("tall", _system("least_squares", 10, 4, "a 10x4 system (b not in the range of A)"),
              _solution_judge("least_squares"), points=1, about="an over-determined system"),
        Check("exact_fit", _system("least_squares", 8, 3, "a 8x3 system with b = A x_true",
                                   consistent=True),
              _solution_judge("least_squares"), points=0.5,
              about="b in the range of A: the exact solution"),
        Check("several_rhs", _system("least_squares", 9, 4, "a 9x4 system with b of shape "
                                                            "(9, 2)", k=2),
              _solution_judge("least_squares"), points=0.5,
              about="b with several columns"),
        Check("ill_conditioned",
              _system("least_squares", 16, 8, "a 16x8 system with cond(A) = 1e8, b = A x_true",
                      matrix=_ill_conditioned, consistent=True),
              _solution_judge("least_squares", LSQ_TRUNCATED, LSQ_NORMAL_EQUATIONS,
                              rtol=LSQ_ILL_RTOL),
              points=1, hidden=True, about="cond(A) = 1e8: no normal equations"),
        Check("rank_deficient",
              _system("least_squares", 9, 6, "a 9x6 matrix of rank 3 (b not in its range)",
                      matrix=lambda rng: _low_rank(rng, 9, 6, 3)),
              _solution_judge("least_squares", LSQ_BLOWUP, LSQ_NOT_MIN_NORM,
                              on_raise=_RANK_RAISES),
              points=0.5, hidden=True, about="dependent columns: the minimum-norm solution"),
        Check("rank_deficient_large",
              _system("least_squares", 8, 5, "a 8x5 matrix of rank 2 with entries about 1e8",
                      matrix=lambda rng: _low_rank(rng, 8, 5, 2, 1e8), scale=1e8),
              _solution_judge("least_squares", LSQ_BLOWUP, LSQ_NOT_MIN_NORM,
                              on_raise=_RANK_RAISES),
              points=0.5, hidden=True, about="entries of 1e8: the cutoff is relative"),
        Check("tiny_scale",
              _system("least_squares", 7, 3, "a 7x3 system with entries about 1e-12",
                      matrix=lambda rng: 1e-12 * _well_conditioned(rng, 7, 3), scale=1e-12),
              _solution_judge("least_squares", LSQ_ABSOLUTE), points=0.5, hidden=True,
              about="entries of 1e-12: the cutoff is relative"),
    ),
)

MIN_NORM = Exercise(
    id="systems.min_norm_solution",
    title="Minimum-norm solution",
    functions=("min_norm_solution",),
    summary="x = A^+ b for a wide A: A x = b with x in the row space of A",
    forbidden=("numpy.linalg.lstsq", "numpy.linalg.pinv", "scipy.linalg.lstsq",
               "scipy.linalg.pinv", "torch.linalg.lstsq", "torch.linalg.pinv"),
    checks=(
        Check("wide", _system("min_norm_solution", 3, 7, "a 3x7 system", consistent=True),
              _solution_judge("min_norm_solution", MN_NOT_MIN_NORM, consistent=True),
              points=1, about="an under-determined system of full row rank"),
        Check("several_rhs", _system("min_norm_solution", 4, 6, "a 4x6 system with b of shape "
                                                                "(4, 2)", k=2, consistent=True),
              _solution_judge("min_norm_solution", MN_NOT_MIN_NORM, consistent=True),
              points=0.5, about="b with several columns"),
        Check("rank_deficient",
              _system("min_norm_solution", 4, 7, "a 4x7 matrix of rank 2, b = A y",
                      matrix=lambda rng: _low_rank(rng, 4, 7, 2), consistent=True),
              _solution_judge("min_norm_solution", MN_GRAM, MN_NOT_MIN_NORM, LSQ_BLOWUP,
                              consistent=True, on_raise={"LinAlgError": MN_GRAM}),
              points=0.5, hidden=True, about="dependent rows, b in the range of A"),
        Check("inconsistent",
              _system("min_norm_solution", 4, 7, "a 4x7 matrix of rank 2, b not in its range",
                      matrix=lambda rng: _low_rank(rng, 4, 7, 2)),
              _solution_judge("min_norm_solution", MN_GRAM, LSQ_BLOWUP,
                              on_raise={"LinAlgError": MN_GRAM}),
              points=0.5, hidden=True,
              about="no exact solution: the minimum-norm least-squares one"),
        Check("tiny_scale",
              _system("min_norm_solution", 3, 6, "a 3x6 system with entries about 1e-12",
                      matrix=lambda rng: 1e-12 * _well_conditioned(rng, 3, 6), consistent=True),
              _solution_judge("min_norm_solution", LSQ_ABSOLUTE, MN_NOT_MIN_NORM,
                              consistent=True), points=0.5,
              hidden=True, about="entries of 1e-12: the cutoff is relative"),
    ),
)

EXERCISES = (SOLVE, LEAST_SQUARES, MIN_NORM)
