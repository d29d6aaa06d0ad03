"""Checks of exercises/linalg.py: dot, pinv, pca."""

from __future__ import annotations

import math

import numpy as np

from grader import diagnose
from grader.bank.inputs import combine, orthonormal, rotation
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare, fmt
from grader.judges import Mistake, Trial, diagnose_mistakes, matches, raises

_EPS = float(np.finfo(np.float64).eps)


# ----------------------------------------------------------------------------- linalg.dot

def _dot_case(n: int, *, ints: bool = False, note: str = ""):
    def build(rng: np.random.Generator) -> Case:
        if ints:
            u, v = rng.integers(-9, 10, n), rng.integers(-9, 10, n)
        else:
            u, v = rng.standard_normal(n), rng.standard_normal(n)
        return Case((Call("dot", (u, v)),), note or f"two vectors of length {n}")
    return build


def _dot_mismatch(rng: np.random.Generator) -> Case:
    # 6 and 4: a loop over range(len(u) - 1) then fails by indexing, not by matching zip.
    return Case((Call("dot", (rng.standard_normal(6), rng.standard_normal(4))),),
                "vectors of lengths 6 and 4")


def _dot_drop_last(case: Case) -> float:
    u, v = case.calls[-1].args
    return float(np.dot(u[:-1], v[:-1]))


DOT_MISTAKES = (
    Mistake("off_by_one", "your loop skips the last element: range(len(u) - 1) instead of "
                          "range(len(u))", _dot_drop_last),
    Mistake("elementwise_sum_of_squares", "you summed u_i * u_i (the squared norm of u) instead "
                                          "of u_i * v_i",
            lambda case: float(np.dot(case.calls[-1].args[0], case.calls[-1].args[0]))),
)


def _dot_truncated(case: Case) -> float:
    u, v = case.calls[-1].args
    n = min(len(u), len(v))
    return float(np.dot(u[:n], v[:n]))


DOT_ZIP = Mistake("zip_truncates", "zip(u, v) stops at the end of the shorter vector, so the "
                                   "lengths were never compared: check len(u) == len(v) yourself "
                                   "and raise ValueError", _dot_truncated)


def _dot_raises_unless_truncated(trial: Trial) -> Verdict:
    """``raises('ValueError')``, naming the zip mistake when the student returned a value."""
    verdict = raises("ValueError", why="vectors of different lengths have no dot product")(trial)
    result = trial.actual[-1]
    if verdict.passed or result.raised is not None or result.missing:
        return verdict
    return Verdict(False, verdict.message, diagnose_mistakes(result.value, trial.case, (DOT_ZIP,)))


DOT = Exercise(
    id="linalg.dot",
    title="Dot product",
    functions=("dot",),
    summary="u . v = sum_i u_i v_i, with a ValueError for vectors of different lengths",
    checks=(
        Check("small", _dot_case(3), matches(rtol=1e-12, atol=1e-12, mistakes=DOT_MISTAKES),
              points=1, about="two short vectors"),
        Check("length_1000", _dot_case(1000), matches(rtol=1e-12, atol=1e-10,
                                                      mistakes=DOT_MISTAKES),
              points=1, about="vectors of length 1000"),
        Check("length_mismatch", _dot_mismatch, _dot_raises_unless_truncated,
              points=1, hidden=True, about="unequal lengths raise ValueError"),
        Check("empty", _dot_case(0, note="two empty vectors"), matches(rtol=0.0, atol=0.0),
              points=0.5, hidden=True, about="n = 0 gives 0.0"),
        Check("integers", _dot_case(50, ints=True, note="integer vectors of length 50"),
              matches(rtol=0.0, atol=0.0, mistakes=DOT_MISTAKES),
              points=0.5, hidden=True, about="integer inputs"),
    ),
    timing=Timing(lambda rng: Call("dot", (rng.standard_normal(2 * 10**5),
                                           rng.standard_normal(2 * 10**5)), send=False),
                  slow_ratio=20.0,
                  advice="use np.dot, u @ v or np.sum(u * v) instead of a Python loop"),
)


# ----------------------------------------------------------------------------- case inputs

# Inputs are built with + - * / and np.sum only, never BLAS, LAPACK or libm (whose last bits
# differ between CPUs and thread counts), so that a case is the same bits on every machine: the
# student bundle finds the frozen expected results of its public cases by their digest.
# The builders are grader.bank.inputs'.


# ----------------------------------------------------------------------------- linalg.pinv

# Relative Frobenius error allowed against the reference. Two SVD-based pseudo-inverses (any
# LAPACK driver, thin or full U, SVD of A or of A^T) differ by about cond(A) * eps; the inputs
# here have cond(A) <= 1e3 on the singular values that are kept, so that is below 1e-12. Every
# known mistake is off by far more than 1e-8 (a dropped or kept singular value changes the
# result by O(1), an uncut one by 1e10 or more).
PINV_RTOL = 1e-8
_PENROSE_TOL = 1e-6


def _conditioned(rng: np.random.Generator, m: int, n: int, max_cond: float = 1e3
                 ) -> np.ndarray:
    """A Gaussian (m, n) matrix, redrawn until its condition number is at most ``max_cond``
    (the SVD only decides; the matrix is the generator's bits)."""
    while True:
        a = rng.standard_normal((m, n))
        s = np.linalg.svd(a, compute_uv=False)
        if s[-1] * max_cond >= s[0]:
            return a


def _pinv_random(m: int, n: int, kind: str, scale: float = 1.0):
    def build(rng: np.random.Generator) -> Case:
        about = f" with entries about 1e{round(math.log10(scale))}" if scale != 1 else ""
        return Case((Call("pinv", (scale * _conditioned(rng, m, n),)),),
                    f"a {kind} {m}x{n} matrix{about}")
    return build


# Products of Gaussian factors: their zero singular values come out of an SVD as rounding noise
# of at most 0.28 * max(m, n) * eps * max(s) (3,000 seeds; numpy's SVD of A and of A^T, scipy's
# gesvd, torch; tests/test_bank_linalg.py measures it again), well below the default cutoff.
def _pinv_low_rank(m: int, n: int, rank: int, scale: float = 1.0):
    def build(rng: np.random.Generator) -> Case:
        a = combine(rng.standard_normal((m, rank)), (scale,) * rank,
                    rng.standard_normal((n, rank)))
        about = f" with entries about 1e{round(math.log10(scale))}" if scale != 1 else ""
        return Case((Call("pinv", (a,)),), f"a {m}x{n} matrix of rank {rank}{about}")
    return build


def _pinv_explicit_rtol(rng: np.random.Generator) -> Case:
    # Singular values 10, 4, 1 | 0.05, 0.001 (times a random scale): rtol = 0.01 cuts between
    # 1 and 0.05 with a factor 2 of room on each side; an absolute cutoff (s > 0.01) keeps 0.05.
    s = np.array([10.0, 4.0, 1.0, 0.05, 0.001]) * rng.uniform(0.5, 2.0)
    a = combine(orthonormal(rng, 7, 5), s, rotation(rng, 5))
    return Case((Call("pinv", (a,), {"rtol": 0.01}),),
                "a 7x5 matrix with singular values spread over 1e-4..1 of the largest, rtol=0.01")


def _pinv_inputs(case: Case) -> tuple[np.ndarray, float, float]:
    """(A, the rtol the call asked for, the default rtol max(m, n) * eps)."""
    call = case.calls[-1]
    a = np.asarray(call.args[0], dtype=np.float64)
    default = max(a.shape) * _EPS
    rtol = call.kwargs.get("rtol")
    return a, default if rtol is None else float(rtol), default


def _pinv_keeping(keep):
    """A pinv variant that inverts the singular values where ``keep(s, rtol, default)``."""

    def variant(case: Case) -> np.ndarray:
        a, rtol, default = _pinv_inputs(case)
        u, sv, vt = np.linalg.svd(a, full_matrices=False)
        with np.errstate(all="ignore"):
            inverted = np.where(keep(sv, rtol, default), 1.0 / sv, 0.0)
            return (vt.T * inverted) @ u.T

    return variant


PINV_MISTAKES = (
    Mistake("pinv_transposed",
            "your result is the transpose of the pseudo-inverse: A^+ = V S^+ U^T has shape "
            "(n, m); U S^+ V^T is its transpose (np.linalg.svd returns V^T, not V)",
            lambda case: _pinv_keeping(lambda s, r, d: s > r * s.max())(case).T),
    Mistake("pinv_cutoff_not_strict",
            "for the all-zero matrix max(s) = 0, so the cutoff rtol * max(s) is 0 and every "
            "singular value equals it: a singular value counts as zero when s_i <= cutoff, so "
            "invert only s_i > cutoff (strictly); you divided by zero",
            _pinv_keeping(lambda s, r, d: s >= r * s.max())),
    Mistake("pinv_ignores_rtol",
            "the rtol argument was not used: with rtol = 0.01 every singular value at or below "
            "0.01 * max(s) counts as zero; the default max(m, n) * eps applies only when rtol is "
            "None",
            _pinv_keeping(lambda s, r, d: s > d * s.max())),
    Mistake("pinv_no_cutoff",
            "you inverted singular values that are zero up to rounding (about 1e-16 * max(s)), "
            "and 1 / s_i blew up: set 1 / s_i to 0 wherever s_i <= rtol * max(s)",
            _pinv_keeping(lambda s, r, d: np.ones(s.shape, dtype=bool))),
    Mistake("pinv_absolute_rtol",
            "you compared the singular values with rtol itself (s_i > rtol), an absolute "
            "threshold: the cutoff is relative, s_i > rtol * max(s), so that pinv(c A) = "
            "pinv(A) / c for every scale c",
            _pinv_keeping(lambda s, r, d: s > r)),
    Mistake("pinv_absolute_threshold",
            "you dropped the singular values below a fixed absolute threshold (like 1e-10): for "
            "a matrix with tiny entries (here about 1e-12) every singular value falls below it. "
            "The cutoff is relative: s_i > rtol * max(s)",
            _pinv_keeping(lambda s, r, d: s > 1e-10)),
)


def _norm(x: np.ndarray) -> float:
    return float(np.linalg.norm(x))


def _blows_up(p: np.ndarray, want: np.ndarray) -> bool:
    """NaN/Inf entries, or a norm a million times the expected one."""
    if not np.isfinite(p).all():
        return True
    scale = _norm(want)
    return scale > 0 and _norm(p) > 1e6 * scale


def _same_pinv(got: object, wrong: object, want: np.ndarray) -> bool:
    """Does the student's result match a mistake's variant (both blowing up counts)?"""
    if not isinstance(got, np.ndarray) or not isinstance(wrong, np.ndarray):
        return False
    if got.shape != wrong.shape or got.dtype.kind not in "biuf":
        return False
    got = got.astype(np.float64)
    if _blows_up(wrong, want) or _blows_up(got, want):
        return _blows_up(wrong, want) and _blows_up(got, want)
    return _norm(got - wrong) <= 1e-6 * max(_norm(wrong), _norm(want))


def _pinv_diagnosis(got: object, case: Case, want: np.ndarray) -> str | None:
    for mistake in PINV_MISTAKES:
        try:
            wrong = mistake.variant(case)
        except Exception:  # noqa: BLE001 - a variant that does not apply (or is not frozen)
            continue
        if _same_pinv(got, wrong, want):
            return mistake.explain
    if isinstance(got, np.ndarray) and got.dtype.kind in "biuf" and want.size:
        scale = float(np.abs(want).max())
        if scale > 0:  # tolerances relative to the entries: they range from 1e-12 to 1e12
            return diagnose.generic(got, want, rtol=1e-6, atol=1e-6 * scale)
    return None


def _penrose(a: np.ndarray, p: np.ndarray) -> str:
    """The Penrose conditions P violates, as text ('' when all hold or they do not apply)."""
    if p.shape != a.shape[::-1] or not np.isfinite(p).all():
        return ""
    ap, pa = a @ p, p @ a
    conditions = (("A P A = A", a @ p @ a - a, a), ("P A P = P", p @ a @ p - p, p),
                  ("(A P)^T = A P", ap.T - ap, ap), ("(P A)^T = P A", pa.T - pa, pa))
    failed = []
    for name, residual, scale in conditions:
        size, ref = _norm(residual), _norm(scale)
        relative = size / ref if ref > 0 else (0.0 if size == 0 else math.inf)
        if not relative <= _PENROSE_TOL:
            failed.append(f"{name} (relative residual {fmt(relative)})")
    return f"your P violates the Penrose condition(s) {', '.join(failed)}" if failed else ""


def _quiet(judge):
    """Judges compute on whatever came back: an overflow there is a wrong answer, not a
    warning (nor, under ``-W error``, a grader error)."""

    def run(trial: Trial) -> Verdict:
        with np.errstate(all="ignore"):
            return judge(trial)

    return run


@_quiet
def _pinv_judge(trial: Trial) -> Verdict:
    """Relative Frobenius error against the reference, with the Penrose conditions as hints."""
    got, want = trial.got(), trial.want()
    note = f" for {trial.case.note}" if trial.case.note else ""
    found = compare(got, want, rtol=0.0, atol=math.inf)  # shape, dtype and NaN/Inf only
    if found is not None:
        return Verdict(False, f"pinv{note}: {found}", _pinv_diagnosis(got, trial.case, want))
    scale, diff = _norm(want), _norm(got - want)
    error = diff / scale if scale > 0 else (0.0 if diff == 0 else math.inf)
    if error <= PINV_RTOL:
        return Verdict(True)
    if scale == 0:
        message = (f"pinv{note}: expected the zero matrix of shape {want.shape} (no singular "
                   f"value is above the cutoff); got entries up to {fmt(np.abs(got).max())}")
    else:
        message = (f"pinv{note}: relative Frobenius error ||P - A^+||_F / ||A^+||_F = "
                   f"{fmt(error)} (allowed {PINV_RTOL:g})")
        where = compare(got, want, rtol=PINV_RTOL, atol=PINV_RTOL * float(np.abs(want).max()))
        if where is not None:
            message += f"; {where}"
    penrose = _penrose(np.asarray(trial.case.calls[-1].args[0], dtype=np.float64), got)
    if penrose:
        message += f"; {penrose}"
    return Verdict(False, message, _pinv_diagnosis(got, trial.case, want))


# No Timing: the realistic slow variant, a loop over singular values adding outer products,
# costs only 2-3x one vectorized product at 300x200 (measured), too little to flag reliably.
PINV = Exercise(
    id="linalg.pinv",
    title="Moore-Penrose pseudo-inverse",
    functions=("pinv",),
    summary="A^+ = V S^+ U^T from the SVD, singular values <= rtol * max(s) treated as zero",
    forbidden=("numpy.linalg.pinv", "scipy.linalg.pinv", "torch.linalg.pinv", "torch.pinverse"),
    checks=(
        Check("square", _pinv_random(4, 4, "square"), _pinv_judge, points=0.5,
              about="a square invertible matrix"),
        Check("tall", _pinv_random(8, 5, "tall"), _pinv_judge, points=0.5,
              about="a tall full-rank matrix"),
        Check("wide", _pinv_random(3, 6, "wide"), _pinv_judge, points=0.5,
              about="a wide full-rank matrix"),
        Check("rank_deficient", _pinv_low_rank(6, 5, 2), _pinv_judge, points=0.5, hidden=True,
              about="rank 2, 6x5: the zero singular values are not inverted"),
        Check("tiny_scale", _pinv_random(6, 4, "full-rank", 1e-12), _pinv_judge, points=0.5,
              hidden=True, about="entries about 1e-12: the cutoff is relative"),
        Check("large_scale", _pinv_low_rank(4, 7, 3, 1e12), _pinv_judge, points=0.5,
              hidden=True, about="rank-deficient with entries about 1e12: the cutoff is relative"),
        Check("zero_matrix", lambda rng: Case((Call("pinv", (np.zeros((3, 5)),)),),
                                              "the all-zero 3x5 matrix"),
              _pinv_judge, points=0.5, hidden=True,
              about="the all-zero matrix gives zeros of shape (n, m)"),
        Check("explicit_rtol", _pinv_explicit_rtol, _pinv_judge, points=0.5, hidden=True,
              about="the rtol argument sets the cutoff"),
    ),
)


# ----------------------------------------------------------------------------- linalg.pca

# Variances: eigh of the covariance and the SVD of the centered data agree to about
# d * eps * lambda_max; with lambda_max / lambda_min < 320 in these cases that is below 1e-12
# relative. The nearest mistake (ddof = 0) is off by 1/n >= 0.5%.
PCA_VAR_RTOL = 1e-8
PCA_ORTHO_ATOL = 1e-8
# Directions: |cos| >= 1 - 1e-6 allows an angle of 0.08 degrees; rounding turns an eigenvector
# by about eps * lambda_max / gap, below 1e-13 rad with the gaps of these cases.
PCA_COS_TOL = 1e-6
# Variances closer than this (relative to the largest) are one eigenspace: any orthonormal basis
# of it is right, so those columns are compared as a subspace. The cases below have exactly
# repeated variances or gaps of at least 0.9% of the largest (200 seeds; tests/test_bank_linalg.py
# checks the gap between the k-th and (k+1)-th, where a tie would make the answer ambiguous).
PCA_TIE = 1e-6


def tied_groups(values: np.ndarray, tie: float = PCA_TIE) -> list[list[int]]:
    """Indices of sorted eigenvalues, grouped where neighbours tie (relative to the largest)."""
    top = max(float(np.abs(values).max()), np.finfo(np.float64).tiny) if len(values) else 1.0
    groups: list[list[int]] = []
    for j, value in enumerate(values):
        if groups and abs(values[j - 1] - value) <= tie * top:
            groups[-1].append(j)
        else:
            groups.append([j])
    return groups


def compare_directions(actual: np.ndarray, expected: np.ndarray, values: np.ndarray, *,
                       cos_tol: float = PCA_COS_TOL, tie: float = PCA_TIE,
                       name: str = "components") -> str | None:
    """Sign- and basis-invariant comparison of orthonormal columns (eigenvectors).

    Column j must lie along expected column j up to sign; where the eigenvalues ``values`` tie,
    the columns of the tie must span the same subspace (every principal angle's cosine, the
    singular values of E^T A, at least ``1 - cos_tol``). Returns a message, or None when they
    agree. Both arrays must have orthonormal columns and the same shape.
    """
    for group in tied_groups(values, tie):
        cos = float(np.linalg.svd(expected[:, group].T @ actual[:, group], compute_uv=False).min())
        if cos >= 1 - cos_tol:
            continue
        angle = math.degrees(math.acos(min(1.0, max(-1.0, cos))))
        if len(group) == 1:
            return (f"{name}[:, {group[0]}] is not along the expected direction (either sign is "
                    f"fine): |cos| of the angle between them is {fmt(cos)} ({fmt(angle)} "
                    f"degrees; need |cos| >= 1 - {cos_tol:g})")
        cols = f"{name}[:, {group[0]}:{group[-1] + 1}]"
        return (f"{cols} belong to equal variances ({fmt(values[group[0]])}), so any "
                f"orthonormal basis of that eigenspace is accepted, but they do not span it: "
                f"the largest principal angle to it is {fmt(angle)} degrees")
    return None


def _pca_data(rng: np.random.Generator, n: int, variances, offset, *, spread: float = 3.0
              ) -> np.ndarray:
    """n samples whose sample covariance (ddof = 1) is R diag(variances) R^T (up to rounding)
    for a rotation R: a generic one, or one near the identity for a small ``spread``, where the
    features keep the scales of ``variances``."""
    variances = np.asarray(variances, dtype=np.float64)
    n_1, d = n - 1, variances.size
    q = orthonormal(rng, n, d, centered=True)
    return combine(q, [math.sqrt(n_1 * v) for v in variances], rotation(rng, d, spread)) + \
        offset


def _pca_case(n: int, variances, k: int, *, mean: float = 0.0, spread: float = 3.0,
              jitter: float = 0.1, note: str = ""):
    """Data with these covariance eigenvalues (each times 1 +- ``jitter``: with neighbours at
    least 1.5 apart, +-10% keeps them 20% apart) and feature means ``mean`` +- 2."""
    def build(rng: np.random.Generator) -> Case:
        values = np.asarray(variances, dtype=np.float64)
        values = values * rng.uniform(1 - jitter, 1 + jitter, values.size)
        x = _pca_data(rng, n, values, mean + rng.normal(0.0, 2.0, values.size), spread=spread)
        return Case((Call("pca", (x, k)),),
                    f"{n} samples of {values.size} features{note}, k={k}")
    return build


def _pca_inputs(case: Case) -> tuple[np.ndarray, int]:
    call = case.calls[-1]
    k = call.kwargs["k"] if "k" in call.kwargs else call.args[1]
    return np.asarray(call.args[0], dtype=np.float64), int(k)


def _pca_wrong(*, center: bool = True, standardize: bool = False, ddof: int = 1,
               smallest: bool = False, ascending: bool = False, rows: bool = False,
               values=None):
    """A wrong pca: (components, variances) from a (mis)computed covariance, (mis)ordered."""

    def variant(case: Case) -> tuple[np.ndarray, np.ndarray]:
        x, k = _pca_inputs(case)
        x = x - x.mean(axis=0) if center else x
        x = x / x.std(axis=0, ddof=1) if standardize else x
        w, v = np.linalg.eigh(x.T @ x / (len(x) - ddof))  # ascending
        w, v = (w, v) if smallest else (w[::-1], v[:, ::-1])
        w, v = (w[:k][::-1], v[:, :k][:, ::-1]) if ascending else (w[:k], v[:, :k])
        w = values(np.maximum(w, 0.0), len(x)) if values else w
        return (v.T if rows else v), w

    return variant


PCA_MISTAKES = (
    Mistake("pca_rows",
            "you returned the components as ROWS, shape (k, d): return them as the columns of "
            "a (d, k) array (Vt[:k].T from the SVD, or V[:, :k] from eigh)",
            _pca_wrong(rows=True)),
    Mistake("pca_not_centered",
            "you did not subtract the mean of each feature: PCA diagonalizes the covariance of "
            "the CENTERED data Xc = X - X.mean(axis=0); without centering the first component "
            "points towards the mean of the data",
            _pca_wrong(center=False)),
    Mistake("pca_standardized",
            "you divided each feature by its standard deviation (PCA of the correlation "
            "matrix): covariance PCA only centers the data, features keep their scales",
            _pca_wrong(standardize=True), rtol=0.05),  # either ddof of the standard deviation
    Mistake("pca_ddof0",
            "your variances are (n-1)/n times the expected ones: you divided by n (ddof = 0); "
            "the sample covariance divides by n - 1 (ddof = 1, as np.cov)",
            _pca_wrong(ddof=0)),
    Mistake("pca_singular_values",
            "you returned the singular values s_i of the centered data; the explained "
            "variances are s_i^2 / (n - 1)",
            _pca_wrong(values=lambda w, n: np.sqrt(w * (n - 1)))),
    Mistake("pca_std",
            "you returned standard deviations sqrt(lambda_i); the explained variances are the "
            "eigenvalues lambda_i of the covariance themselves",
            _pca_wrong(values=lambda w, n: np.sqrt(w))),
    Mistake("pca_ascending",
            "your components and variances are in ascending order: np.linalg.eigh returns "
            "eigenvalues smallest first, so reverse them (w[::-1], V[:, ::-1]) to put the "
            "largest variance first",
            _pca_wrong(ascending=True)),
    Mistake("pca_smallest",
            "you took the k SMALLEST eigenvalues: np.linalg.eigh returns them in ascending "
            "order, so reverse (w[::-1], V[:, ::-1]) before taking the first k",
            _pca_wrong(smallest=True)),
)


def _has_orthonormal_columns(c: np.ndarray) -> bool:
    return bool(np.abs(c.T @ c - np.eye(c.shape[1])).max() <= 1e-6)


def _same_pca(got: object, wrong: object, rtol: float) -> bool:
    """Does the student's (components, variances) match a mistake's, up to column signs (and
    bases of tied eigenspaces)? Row components are compared as rows."""
    if not (isinstance(got, (tuple, list)) and isinstance(wrong, (tuple, list))
            and len(got) == len(wrong) == 2):
        return False
    for a, w, ndim in zip(got, wrong, (2, 1)):
        if not (isinstance(a, np.ndarray) and isinstance(w, np.ndarray) and a.shape == w.shape
                and a.ndim == ndim and a.dtype.kind in "biuf"
                and np.isfinite(a).all() and np.isfinite(w).all()):
            return False
    (c, v), (wc, wv) = got, wrong
    scale = float(np.abs(wv).max()) if wv.size else 0.0
    if not np.allclose(v, wv, rtol=rtol, atol=1e-9 * scale):
        return False
    if np.allclose(np.abs(c), np.abs(wc), rtol=0.0, atol=1e-6):
        return True
    for a, w in ((c, wc), (c.T, wc.T)):  # columns, or rows for the (k, d) mistake
        if a.shape[1] == wv.size and _has_orthonormal_columns(a) and \
                _has_orthonormal_columns(w) and \
                compare_directions(a, w, wv) is None:
            return True
    return False


def _pca_diagnosis(got: object, case: Case, want: tuple) -> str | None:
    for mistake in PCA_MISTAKES:
        try:
            wrong = mistake.variant(case)
        except Exception:  # noqa: BLE001 - a variant that does not apply (or is not frozen)
            continue
        if _same_pca(got, wrong, mistake.rtol or 1e-6):
            return mistake.explain
    if isinstance(got, (tuple, list)) and len(got) == 2 and isinstance(got[1], np.ndarray):
        return diagnose.generic(got[1], want[1], rtol=1e-6, atol=1e-9 * float(want[1].max()))
    return None


@_quiet
def _pca_judge(trial: Trial) -> Verdict:
    """Variances, orthonormality, then directions up to sign (subspaces where variances tie)."""
    got, want = trial.got(), trial.want()
    prefix = f"pca for {trial.case.note}" if trial.case.note else "pca"

    def fail(message: str) -> Verdict:
        return Verdict(False, f"{prefix}: {message}", _pca_diagnosis(got, trial.case, want))

    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return fail(str(compare(got, want)))
    components, variances = got
    want_c, want_v = want
    for name, a, e in (("components", components, want_c), ("explained_variance", variances,
                                                             want_v)):
        found = compare(a, e, rtol=0.0, atol=math.inf, path=name)  # shape, dtype, NaN/Inf
        if found is not None:
            return fail(f"{found} (return (components of shape (d, k), explained_variance of "
                        f"shape (k,)))")
    found = compare(variances, want_v, rtol=PCA_VAR_RTOL,
                    atol=1e-12 * float(np.abs(want_v).max()), path="explained_variance")
    if found is not None:
        return fail(str(found))
    gram = components.T @ components
    off = np.abs(gram - np.eye(gram.shape[0]))
    if off.max() > PCA_ORTHO_ATOL:
        i, j = np.unravel_index(int(np.argmax(off)), off.shape)
        what = (f"components[:, {i}] has norm {fmt(math.sqrt(max(gram[i, i], 0.0)))}" if i == j
                else f"components[:, {i}] . components[:, {j}] = {fmt(gram[i, j])}")
        return fail(f"the columns of components must be orthonormal (C^T C = I); {what}")
    found = compare_directions(components, want_c, want_v)
    return Verdict(True) if found is None else fail(found)


PCA = Exercise(
    id="linalg.pca",
    title="Principal component analysis",
    functions=("pca",),
    summary="top-k eigenvectors (columns) and eigenvalues of the ddof=1 covariance of "
            "centered data",
    checks=(
        Check("small", _pca_case(40, [4.0, 2.0, 1.0, 0.5], 2), _pca_judge, points=1,
              about="40 samples of 4 features, k=2"),
        Check("more_samples", _pca_case(200, [6.0, 3.0, 1.5, 0.8, 0.4, 0.2], 3), _pca_judge,
              points=1, about="200 samples of 6 features, k=3"),
        Check("mean_offset", _pca_case(50, [3.0, 1.5, 0.7, 0.3], 2, mean=10.0,
                                       note=" with means about 10"),
              _pca_judge, points=0.5, hidden=True, about="features with means about 10: center"),
        Check("anisotropic", _pca_case(80, [36.0, 9.0, 2.25, 0.56, 0.14], 3, spread=0.1,
                                       note=" with standard deviations from about 6 to 0.4"),
              _pca_judge, points=0.5, hidden=True,
              about="features of very different scales: do not standardize"),
        Check("k_equals_d", _pca_case(30, [5.0, 2.5, 1.2, 0.6], 4), _pca_judge, points=0.5,
              hidden=True, about="all d components"),
        Check("repeated_variance", _pca_case(60, [9.0, 4.0, 4.0, 4.0, 1.0], 4, jitter=0.0,
                                             note=", three of them with equal variances"),
              _pca_judge, points=0.5, hidden=True,
              about="equal variances: any orthonormal basis of their eigenspace"),
    ),
    timing=Timing(lambda rng: Call("pca", (rng.standard_normal((4000, 5)), 3), send=False),
                  slow_ratio=8.0,
                  advice="center once (X - X.mean(axis=0)) and use one np.linalg.svd(Xc, "
                         "full_matrices=False), or np.linalg.eigh of the d x d covariance: a "
                         "loop over samples, or the n x n U of a full SVD, is slow"),
)

EXERCISES = (DOT, PINV, PCA)
