"""Checks of exercises/vectors.py: norms and numerical rank, cosine similarity, Gram-Schmidt.

A known mistake is a :class:`Mistake` (its variant replays the flawed computation on the case's
inputs); most are recognized by value, a few by a property of the student's answer that the
flawed method leaves (the ``fits`` of :func:`_diagnose`): the loss of orthogonality of classical
Gram-Schmidt, the shrinkage of an epsilon in a denominator, the number of basis vectors kept.
The norms exercise has cases of several calls; its replays are tuples with a value per call.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from grader import diagnose
from grader.bank.inputs import combine, orthonormal, with_singular_values
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare, describe, fmt
from grader.grading import describe_raise
from grader.judges import Mistake, Trial

_EPS = float(np.finfo(np.float64).eps)


# ----------------------------------------------------------------------------- case inputs

# Inputs come from grader.bank.inputs (the same bits on every machine).

def _low_rank(rng: np.random.Generator, m: int, n: int, rank: int, scale: float = 1.0
              ) -> np.ndarray:
    """A sum of ``rank`` outer products of Gaussian vectors, times ``scale``: its zero singular
    values come out of an SVD as rounding noise far below max(m, n) * eps * max(s)
    (tests/test_bank_vectors.py measures the margin)."""
    return combine(rng.standard_normal((m, rank)), (scale,) * rank,
                    rng.standard_normal((n, rank)))


def _shape_text(x: Any) -> str:
    x = np.asarray(x)
    if x.ndim == 1:
        return f"a vector of length {x.size}"
    if x.ndim == 2:
        return f"a {x.shape[0]}x{x.shape[1]} matrix"
    return f"an array of shape {x.shape}"


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


def _numeric(value: Any) -> np.ndarray | None:
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return np.asarray(value, dtype=np.float64)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value.astype(np.float64)
    return None


def _same_value(got: Any, wrong: Any, rtol: float = 1e-6) -> bool:
    """Does a result equal a mistake's replay? Values within ``rtol`` (relative to the largest
    |entry|); NaN and Inf must sit where the replay has NaN or Inf (of either kind)."""
    a, w = _numeric(got), _numeric(wrong)
    if a is None or w is None or a.shape != w.shape:
        return False
    bad_a, bad_w = ~np.isfinite(a), ~np.isfinite(w)
    if not np.array_equal(bad_a, bad_w):
        return False
    a, w = a[~bad_a], w[~bad_w]
    scale = float(np.abs(w).max()) if w.size else 0.0
    return bool(np.all(np.abs(a - w) <= rtol * scale))


def _replay(mistake: Mistake, case: Case) -> tuple[bool, Any]:
    try:
        with np.errstate(all="ignore"):
            return True, mistake.variant(case)
    except Exception:  # noqa: BLE001 - a variant that does not apply to these inputs
        return False, None


def _diagnose(got: Any, case: Case, want: Any, mistakes: tuple[Mistake, ...],
              fits: dict[str, Callable[..., bool]], call: int | None = None) -> str | None:
    """The first mistake whose replay the result fits (by value unless ``fits`` says how).
    With ``call``, the replay is a tuple of per-call values (see :func:`_per_call`)."""
    for mistake in mistakes:
        applies, wrong = _replay(mistake, case)
        if applies and call is not None:
            wrong = wrong[call] if isinstance(wrong, tuple) and call < len(wrong) else None
        if not applies or wrong is None:
            continue
        test = fits.get(mistake.name)
        if test(got, wrong, case, want) if test else _same_value(got, wrong):
            return mistake.explain
    return None


def _shows_on(mistake: Mistake, case: Case, call: int) -> bool:
    """Does a per-call replay (see :func:`_per_call`) show a symptom on this call?"""
    applies, values = _replay(mistake, case)
    return applies and isinstance(values, tuple) and values[call] is not None


def _call_args(case: Case, call: int = -1) -> tuple[np.ndarray, dict]:
    c = case.calls[call]
    return np.asarray(c.args[0], dtype=np.float64), dict(c.kwargs)


# ============================================================================ vectors.norms

# l2, spectral and Frobenius norms: allclose at rtol 1e-10 (the catalog's). Scaled sums, math
# .hypot, BLAS nrm2 and SVDs agree to a few eps; every known mistake is off by inf, NaN, 0 or
# a factor far from 1.
NORM_RTOL = 1e-10


def _per_call(funcs: tuple[str, ...], fn: Callable[[Call], Any]) -> Callable[[Case], tuple]:
    """A variant for cases of several calls: fn's value for each call of one of ``funcs``
    (None for the others, and where fn raises: the mistake shows no symptom there)."""

    def variant(case: Case) -> tuple:
        values = []
        for call in case.calls:
            try:
                values.append(fn(call) if call.func in funcs else None)
            except Exception:  # noqa: BLE001 - no symptom on this call's inputs
                values.append(None)
        if all(v is None for v in values):
            raise ValueError("the mistake shows on no call of this case")
        return tuple(values)

    return variant


def _input(call: Call) -> tuple[np.ndarray, Any]:
    return np.asarray(call.args[0], dtype=np.float64), call.kwargs.get("axis")


def _sum_of_squares(call: Call) -> Any:
    x, axis = _input(call)
    return np.sqrt(np.sum(x * x, axis=axis))


def _overflowed(call: Call) -> Any:
    value = _sum_of_squares(call)
    if np.all(np.isfinite(value)):
        raise ValueError("no overflow on these inputs")
    return value


def _underflowed(call: Call) -> Any:
    value = _sum_of_squares(call)
    if np.all(value > 0) or not np.any(_input(call)[0]):
        raise ValueError("no underflow on these inputs")
    return value


def _divided_by_zero_max(call: Call) -> Any:
    x, axis = _input(call)
    keep = axis is not None
    scale = np.max(np.abs(x), axis=axis, keepdims=keep)
    value = scale * np.sqrt(np.sum((x / scale) ** 2, axis=axis, keepdims=keep))
    value = np.squeeze(value, axis=axis) if keep else float(value)
    if np.all(np.isfinite(value)):
        raise ValueError("no zero slice")
    return value


def _other_axis(call: Call) -> Any:
    x, axis = _input(call)
    if x.ndim != 2 or axis is None:
        raise ValueError("not a matrix with an axis")
    other = 1 - axis % 2
    scale = np.max(np.abs(x), axis=other, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    return np.squeeze(scale * np.sqrt(np.sum((x / scale) ** 2, axis=other, keepdims=True)),
                      axis=other)


def _spectral_radius(call: Call) -> float:
    return float(np.abs(np.linalg.eigvals(_input(call)[0])).max())


def _gram_eigenvalue(call: Call) -> float:
    a, _ = _input(call)
    if np.isfinite(a.T @ a).all():
        raise ValueError("the Gram matrix is finite: the same value as the singular value")
    return math.inf  # what sqrt(eig(A^T A)) makes of it: inf or NaN (or LinAlgError)


_L2_FROBENIUS = ("l2_norm", "frobenius_norm")
NORM_OVERFLOW = Mistake(
    "sum_of_squares_overflow",
    "you squared the entries before adding them: (1e200)^2 = 1e400 overflows to inf, so "
    "sqrt(sum x_i^2) is inf although the norm is about 1e200. Scale first: with s = max|x_i|, "
    "||x|| = s * sqrt(sum (x_i / s)^2), where every (x_i / s)^2 lies in [0, 1]",
    _quietly(_per_call(_L2_FROBENIUS, _overflowed)))
NORM_UNDERFLOW = Mistake(
    "sum_of_squares_underflow",
    "you squared the entries before adding them: (1e-200)^2 = 1e-400 underflows to 0, so "
    "sqrt(sum x_i^2) is 0 although the norm is about 1e-200. Scale first: with s = max|x_i|, "
    "||x|| = s * sqrt(sum (x_i / s)^2)",
    _quietly(_per_call(_L2_FROBENIUS, _underflowed)))
NORM_ZERO_SCALE = Mistake(
    "scaled_by_zero_max",
    "you divided by s = max|x_i|, which is 0 for a zero vector or matrix (0 / 0 = NaN): their "
    "norm is 0, so divide only where s > 0 (np.where(s > 0, s, 1))",
    _quietly(_per_call(_L2_FROBENIUS + ("spectral_norm",), _divided_by_zero_max)))
NORM_AXIS = Mistake(
    "norm_other_axis",
    "you took the norms along the other axis: axis=1 gives one norm per ROW (the sum runs over "
    "the columns, axis 1), axis=0 one per column",
    _quietly(_per_call(("l2_norm",), _other_axis)))
SPECTRAL_MISTAKES = (
    Mistake("spectral_radius",
            "you returned the largest |eigenvalue| of A (the spectral radius); the spectral "
            "norm is the largest SINGULAR value sigma_max(A) = max ||Ax|| / ||x||. They agree "
            "for symmetric matrices only",
            _quietly(_per_call(("spectral_norm",), _spectral_radius))),
    Mistake("spectral_is_frobenius",
            "you returned the Frobenius norm sqrt(sum_i sigma_i^2); the spectral norm is the "
            "largest singular value alone, sigma_max(A)",
            _quietly(_per_call(("spectral_norm",), _sum_of_squares))),
    Mistake("spectral_gram_overflow",
            "you went through A^T A (sqrt of its largest eigenvalue): its entries are squares, "
            "(1e200)^2 overflows to inf. Take the singular values of A itself "
            "(np.linalg.svd(A, compute_uv=False)), or scale A by max|A_ij| first",
            _quietly(_per_call(("spectral_norm",), _gram_eigenvalue))),
)
NORM_MISTAKES = (NORM_OVERFLOW, NORM_UNDERFLOW, NORM_ZERO_SCALE, NORM_AXIS)


def _rank_keeping(keep: Callable[[np.ndarray, float, float], np.ndarray]):
    """A numerical_rank variant: how many singular values s satisfy keep(s, rtol, default)."""

    def count(call: Call) -> int:
        a = np.asarray(call.args[0], dtype=np.float64)
        sv = np.linalg.svd(a, compute_uv=False)
        default = max(a.shape) * _EPS
        rtol = call.kwargs.get("rtol")
        return int(np.count_nonzero(keep(sv, default if rtol is None else rtol, default)))

    return _per_call(("numerical_rank",), count)


RANK_NOISE = Mistake(
    "rank_counts_noise",
    "your rank counts singular values that are zero up to rounding: for a rank-deficient "
    "matrix they come out near eps * sigma_max (here also 1e-14 of noise), not exactly 0 (and "
    "the square roots of eigenvalues of A^T A put them near 1e-8 * sigma_max). Count "
    "sigma_i > rtol * sigma_max with rtol = max(m, n) * eps, sigma_i from np.linalg.svd",
    _quietly(_rank_keeping(lambda s, r, d: s > 0)))
RANK_ABSOLUTE = Mistake(
    "rank_absolute_cutoff",
    "your cutoff does not scale with the matrix: a fixed threshold (like sigma_i > 1e-10) calls "
    "every singular value of 1e-12 * A zero, and counts the rounding noise of 1e12 * A (about "
    "1e-3). Compare with rtol * sigma_max, so that rank(c * A) = rank(A)",
    _quietly(_rank_keeping(lambda s, r, d: s > 1e-10)))
RANK_RTOL_ABSOLUTE = Mistake(
    "rank_rtol_absolute",
    "you compared the singular values with rtol itself; rtol is relative: the cutoff is "
    "rtol * sigma_max",
    _quietly(_rank_keeping(lambda s, r, d: s > r)))
RANK_IGNORES_RTOL = Mistake(
    "rank_ignores_rtol",
    "you ignored the rtol argument: when it is given, the cutoff is rtol * sigma_max (the "
    "default max(m, n) * eps applies only to rtol=None)",
    _quietly(_rank_keeping(lambda s, r, d: s > d * s.max(initial=0.0))))
RANK_NOT_STRICT = Mistake(
    "rank_cutoff_not_strict",
    "for the zero matrix every singular value is 0 = rtol * sigma_max, and >= counts them all: "
    "the comparison is strict, sigma_i > rtol * sigma_max, so that the zero matrix has rank 0",
    _quietly(_rank_keeping(lambda s, r, d: s >= r * s.max(initial=0.0))))
RANK_MISTAKES = (RANK_NOISE, RANK_ABSOLUTE, RANK_RTOL_ABSOLUTE, RANK_IGNORES_RTOL,
                 RANK_NOT_STRICT)


def _call_label(call: Call) -> str:
    text = f"{call.func}({_shape_text(call.args[0])}"
    for key, value in call.kwargs.items():
        text += f", {key}={value!r}"
    return text + ")"


def _rank_verdict(got: Any, want: int, label: str) -> str | None:
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
        return (f"{label}: return the rank as an int (the number of singular values above "
                f"the cutoff), got {describe(got)}")
    if int(got) != int(want):
        return f"{label}: rank {int(got)}, expected {int(want)}"
    return None


def _norms_judge(*mistakes: Mistake, on_raise: tuple[Mistake, ...] = ()
                 ) -> Callable[[Trial], Verdict]:
    """Every call's result: norms within NORM_RTOL, ranks exactly. ``mistakes`` explain a
    wrong value, ``on_raise`` an exception where their replay shows a symptom."""

    @_quiet
    def judge(trial: Trial) -> Verdict:
        for i, call in enumerate(trial.case.calls):
            label = _call_label(call)
            raised = trial.actual[i].raised
            if raised is not None:
                # LAPACK's complaints about Inf/NaN input: what an overflow upstream leads to
                text = raised["message"].lower()
                overflow = any(w in text for w in ("converge", "inf", "nan"))
                why = next((m.explain for m in on_raise
                            if overflow and _shows_on(m, trial.case, i)), None)
                return Verdict(False, describe_raise(label, raised), why)
            got, want = trial.got(i), trial.want(i)
            if call.func == "numerical_rank":
                message = _rank_verdict(got, want, label)
            else:
                found = compare(got, want, rtol=NORM_RTOL, atol=0.0)
                message = None if found is None else f"{label}: {found}"
            if message is None:
                continue
            if call.func == "numerical_rank" and (isinstance(got, (bool, np.bool_)) or
                                                  not isinstance(got, (int, np.integer))):
                return Verdict(False, message)  # the type is wrong, whatever the value
            diagnosis = _diagnose(got, trial.case, want, mistakes, {}, call=i)
            if diagnosis is None and call.func != "numerical_rank":
                diagnosis = diagnose.generic(got, want, rtol=1e-6, atol=0.0)
            return Verdict(False, message, diagnosis)
        return Verdict(True)

    return judge


def _norm_calls(*pairs) -> Callable[[np.random.Generator], Case]:
    """A case of calls (func, builder(rng) -> array, kwargs), with a note."""
    *specs, note = pairs

    def build(rng: np.random.Generator) -> Case:
        return Case(tuple(Call(func, (make(rng),), kwargs) for func, make, kwargs in specs),
                    note)
    return build


def _gauss(*shape: int, scale: float = 1.0) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: scale * rng.standard_normal(shape)


def _zeros(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: np.zeros(shape)


def _rank_noise(rng: np.random.Generator) -> np.ndarray:
    # Factors of size 10: entries about 170; the noise singular values stay below 0.16 of the
    # cutoff (1,000 seeds, four SVDs).
    return _low_rank(rng, 10, 8, 3, 100.0) + 1e-14 * rng.standard_normal((10, 8))


def _rank_explicit(rng: np.random.Generator) -> np.ndarray:
    # rtol = 0.01 cuts between 1 and 0.05 (of 10) with room on both sides; s > 0.01 keeps 0.05.
    s = np.array([10.0, 4.0, 1.0, 0.05, 0.001]) * rng.uniform(0.5, 2.0)
    return with_singular_values(rng, 7, 5, s)


NORMS = Exercise(
    id="vectors.norms",
    title="Norms and numerical rank",
    functions=("l2_norm", "spectral_norm", "frobenius_norm", "numerical_rank"),
    summary="overflow-safe l2 and Frobenius norms, sigma_max, and the rank with a relative "
            "cutoff",
    forbidden=("numpy.linalg.norm", "numpy.linalg.vector_norm", "numpy.linalg.matrix_norm",
               "numpy.linalg.matrix_rank", "numpy.linalg.cond", "scipy.linalg.norm",
               "torch.norm", "torch.linalg.norm", "torch.linalg.vector_norm",
               "torch.linalg.matrix_norm", "torch.linalg.matrix_rank"),
    checks=(
        Check("l2_vector", _norm_calls(("l2_norm", _gauss(50), {}), "a vector of length 50"),
              _norms_judge(*NORM_MISTAKES), points=0.5, about="the norm of a vector"),
        Check("l2_axis", _norm_calls(("l2_norm", _gauss(5, 5), {"axis": 1}),
                                     ("l2_norm", _gauss(4, 6), {"axis": 0}),
                                     ("l2_norm", _gauss(3, 4, 2), {}), "norms along axes"),
              _norms_judge(*NORM_MISTAKES), points=0.5,
              about="row norms (axis=1), column norms (axis=0), all entries (axis=None)"),
        Check("spectral", _norm_calls(("spectral_norm", _gauss(4, 4), {}),
                                      ("spectral_norm", _gauss(5, 4), {}),
                                      "non-symmetric matrices"),
              _norms_judge(*SPECTRAL_MISTAKES), points=0.5,
              about="sigma_max of non-symmetric matrices"),
        Check("frobenius", _norm_calls(("frobenius_norm", _gauss(5, 4), {}), "a 5x4 matrix"),
              _norms_judge(*NORM_MISTAKES), points=0.5, about="the Frobenius norm"),
        Check("rank", _norm_calls(("numerical_rank", lambda rng: _low_rank(rng, 6, 5, 3), {}),
                                  ("numerical_rank", _gauss(4, 6), {}),
                                  "a 6x5 matrix of rank 3 and a 4x6 matrix of rank 4"),
              _norms_judge(RANK_NOISE), points=0.5,
              about="rank of a rank-deficient and of a full-rank matrix"),
        Check("l2_huge", _norm_calls(("l2_norm", _gauss(30, scale=1e200), {}),
                                     ("l2_norm", _gauss(4, 5, scale=1e200), {"axis": 1}),
                                     "entries about 1e200"),
              _norms_judge(*NORM_MISTAKES), points=0.5, hidden=True,
              about="entries of 1e200: squares overflow"),
        Check("l2_tiny", _norm_calls(("l2_norm", _gauss(30, scale=1e-200), {}),
                                     "entries about 1e-200"),
              _norms_judge(*NORM_MISTAKES), points=0.5, hidden=True,
              about="entries of 1e-200: squares underflow"),
        Check("matrix_huge", _norm_calls(("frobenius_norm", _gauss(5, 4, scale=1e200), {}),
                                         ("spectral_norm", _gauss(5, 4, scale=1e200), {}),
                                         "entries about 1e200"),
              _norms_judge(NORM_OVERFLOW, *SPECTRAL_MISTAKES, on_raise=SPECTRAL_MISTAKES[2:]),
              points=0.5, hidden=True,
              about="Frobenius and spectral norms of a matrix with entries of 1e200"),
        Check("zeros", _norm_calls(("l2_norm", _zeros(6), {}),
                                   ("l2_norm", _zeros(3, 4), {"axis": 1}),
                                   ("frobenius_norm", _zeros(3, 4), {}),
                                   ("spectral_norm", _zeros(3, 4), {}),
                                   ("numerical_rank", _zeros(3, 4), {}),
                                   "zero vectors and matrices"),
              _norms_judge(NORM_ZERO_SCALE, NORM_AXIS, RANK_NOT_STRICT), points=0.5, hidden=True,
              about="the zero vector and matrix: norms 0, rank 0"),
        Check("rank_noise", _norm_calls(("numerical_rank", _rank_noise, {}),
                                        "a 10x8 matrix of rank 3 plus noise of 1e-14"),
              _norms_judge(RANK_NOISE), points=0.5, hidden=True,
              about="rank-deficient plus 1e-14 noise: the noise does not count"),
        Check("rank_tiny_scale",
              _norm_calls(("numerical_rank", _gauss(6, 4, scale=1e-12), {}),
                          ("numerical_rank", lambda rng: _low_rank(rng, 6, 5, 2, 1e-12), {}),
                          "matrices with entries about 1e-12"),
              _norms_judge(RANK_ABSOLUTE, RANK_NOISE), points=0.5, hidden=True,
              about="entries of 1e-12: the cutoff is relative"),
        Check("rank_large_scale",
              _norm_calls(("numerical_rank", lambda rng: _low_rank(rng, 7, 5, 3, 1e12), {}),
                          "a 7x5 matrix of rank 3 with entries about 1e12"),
              _norms_judge(RANK_ABSOLUTE, RANK_NOISE), points=0.5, hidden=True,
              about="huge entries: rounding noise of about 1e-3 does not count"),
        Check("rank_explicit_rtol",
              _norm_calls(("numerical_rank", _rank_explicit, {"rtol": 0.01}),
                          "singular values spread over 1e-4..1 of the largest, rtol=0.01"),
              _norms_judge(RANK_RTOL_ABSOLUTE, RANK_IGNORES_RTOL), points=0.5, hidden=True,
              about="the rtol argument sets the relative cutoff"),
    ),
    # A Python loop over 10^6 entries: 350x the reference (measured); numpy sums: 0.4-1x.
    timing=Timing(lambda rng: Call("l2_norm", (rng.standard_normal(10**6),), send=False),
                  slow_ratio=10.0,
                  advice="scale and sum with array operations (np.max(np.abs(x)), "
                         "np.sum((x / s) ** 2)) instead of a Python loop over the entries"),
)


# ================================================================ vectors.cosine_similarity

# Cosines agree to a few eps however they are computed (normalize then multiply, divide the
# dot products, np.linalg.norm or a scaled norm); atol covers cosines near 0. Rows that point
# the same way must give +-1 within 1e-12 (the catalog's), and no value may leave [-1, 1] by
# more than 1e-12.
COS_RTOL, COS_ATOL = 1e-10, 1e-12
COS_UNIT_TOL = 1e-12


def _cos_inputs(case: Case) -> tuple[np.ndarray, np.ndarray]:
    call = case.calls[-1]
    return (np.asarray(call.args[0], dtype=np.float64),
            np.asarray(call.args[1], dtype=np.float64))


def _row_norms(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(x * x, axis=1))


def _cos_unguarded(case: Case) -> np.ndarray:
    a, b = _cos_inputs(case)
    if _row_norms(a).all() and _row_norms(b).all():
        raise ValueError("no zero row: nothing to divide by zero")
    return (a @ b.T) / np.multiply.outer(_row_norms(a), _row_norms(b))


def _cos_with_epsilon(case: Case) -> np.ndarray:
    a, b = _cos_inputs(case)
    return (a @ b.T) / (np.multiply.outer(_row_norms(a), _row_norms(b)) + 1e-8)


def _unit(x: np.ndarray, axis: int) -> np.ndarray:
    norms = np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    return x / np.where(norms > 0, norms, 1.0)


def _shrunk_by_epsilon(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    """Is every similarity a . b / (||a|| ||b|| + eps) for one eps > 0 (or the replay's)?"""
    if _same_value(got, wrong):
        return True
    g = _numeric(got)
    if g is None or g.shape != np.shape(want) or not np.isfinite(g).all():
        return False
    a, b = _cos_inputs(case)
    norms = np.multiply.outer(_row_norms(a), _row_norms(b))
    use = (np.abs(want) > 0.05) & (norms > 0) & (g != 0)
    if not use.any():
        return False
    ratio = g[use] / want[use]  # norms / (norms + eps): below 1, the same eps everywhere
    if not np.all((ratio > 0) & (ratio < 1 - 1e-12)):
        return False
    eps = norms[use] * (1 / ratio - 1)
    return bool(eps.max() <= 1.05 * eps.min())


def _cos_flawed(*, a_axis: int | None = 1, b_axis: int | None = 1,
                whole: bool = False) -> Callable[[Case], np.ndarray]:
    """Dot products of rows normalized along ``a_axis`` / ``b_axis`` (None: not at all), or
    divided by the norms of the whole matrices."""

    def variant(case: Case) -> np.ndarray:
        a, b = _cos_inputs(case)
        if whole:
            return (a @ b.T) / math.sqrt(np.sum(a * a) * np.sum(b * b))
        a = a if a_axis is None else _unit(a, a_axis)
        return a @ (b if b_axis is None else _unit(b, b_axis)).T

    return variant


COS_MISTAKES = (
    Mistake("cos_zero_row_nan",
            "a zero row has norm 0 and you divided by it: 0 / 0 is NaN. The convention gives a "
            "zero row similarity 0 with every row: divide only the nonzero norms "
            "(np.where(norm > 0, norm, 1)), which leaves zero rows zero",
            _quietly(_cos_unguarded)),
    Mistake("cos_not_normalized",
            "you returned the dot products a_i . b_j: the cosine divides each by ||a_i|| ||b_j||",
            _quietly(_cos_flawed(a_axis=None, b_axis=None))),
    Mistake("cos_epsilon",
            "you added an epsilon to the denominator (a . b / (||a|| ||b|| + eps), or a clamp "
            "max(||a|| ||b||, eps)): it shrinks every similarity toward 0, and for rows with "
            "small entries (norms far below eps) it swamps them. Nonzero rows get the exact "
            "cosine; only zero rows need a guard (np.where(norm > 0, norm, 1))",
            _quietly(_cos_with_epsilon)),
    Mistake("cos_only_a_normalized",
            "you divided by the norms of the rows of A only: S_ij = a_i . b_j / (||a_i|| "
            "||b_j||) needs the norms of the rows of B too",
            _quietly(_cos_flawed(b_axis=None))),
    Mistake("cos_columns_normalized",
            "you normalized the COLUMNS (a norm with axis=0): here every ROW is a vector, so "
            "take the row norms, np.linalg.norm(A, axis=1, keepdims=True)",
            _quietly(_cos_flawed(a_axis=0, b_axis=0))),
    Mistake("cos_whole_matrix_norm",
            "you divided by the norms of the whole matrices, ||A||_F ||B||_F: each pair of rows "
            "needs its own denominator ||a_i|| ||b_j||",
            _quietly(_cos_flawed(whole=True))),
)


@_quiet
def _cos_judge(trial: Trial) -> Verdict:
    """Allclose to the reference, within [-1, 1], and +-1 (to 1e-12) for parallel rows."""
    got, want = trial.got(), trial.want()

    def fail(message: str) -> Verdict:
        diagnosis = _diagnose(got, trial.case, want, COS_MISTAKES,
                              {"cos_epsilon": _shrunk_by_epsilon})
        if diagnosis is None:
            diagnosis = diagnose.generic(got, want, rtol=1e-6, atol=1e-9)
        return Verdict(False, f"cosine_sim for {trial.case.note}: {message}", diagnosis)

    found = compare(got, want, rtol=COS_RTOL, atol=COS_ATOL)
    if found is not None:
        return fail(str(found))
    g = got.astype(np.float64)
    worst = np.unravel_index(int(np.argmax(np.abs(g))), g.shape)
    if abs(g[worst]) > 1 + COS_UNIT_TOL:
        return fail(f"S{list(worst)} = {float(g[worst])!r} lies outside [-1, 1] by more than "
                    f"{COS_UNIT_TOL:g} (clip it)")
    parallel = np.abs(np.abs(want) - 1) <= 1e-14  # rows that point the same (or opposite) way
    off = np.where(parallel, np.abs(g - np.sign(want)), 0.0)
    if off.max(initial=0.0) > COS_UNIT_TOL:
        i, j = np.unravel_index(int(np.argmax(off)), off.shape)
        return fail(f"rows A[{i}] and B[{j}] point the same way (up to sign), so S[{i}, {j}] "
                    f"must be {np.sign(want[i, j]):+.0f} within {COS_UNIT_TOL:g}; got "
                    f"{float(g[i, j])!r}")
    return Verdict(True)


def _cos_case(m: int, p: int, d: int, note: str, *, scale_a: float = 1.0,
              scale_b: float = 1.0, zero_rows: tuple[int, int] | None = None):
    def build(rng: np.random.Generator) -> Case:
        a = scale_a * rng.standard_normal((m, d))
        b = scale_b * rng.standard_normal((p, d))
        if zero_rows is not None:
            a[zero_rows[0]] = 0.0
            b[zero_rows[1]] = 0.0
        return Case((Call("cosine_sim", (a, b)),), note)
    return build


def _cos_self(rng: np.random.Generator) -> Case:
    a = rng.standard_normal((5, 3))
    return Case((Call("cosine_sim", (a, a)),), "A with itself (A of shape (5, 3))")


def _cos_parallel(rng: np.random.Generator) -> Case:
    a = rng.standard_normal((3, 4))
    factors = rng.uniform(1e-3, 1e3, 3) * np.array([1.0, -1.0, 1.0])
    b = np.concatenate([a * factors[:, None], rng.standard_normal((1, 4))])
    return Case((Call("cosine_sim", (a, b)),),
                "rows of B that are multiples of rows of A (factors from 1e-3 to 1e3, one "
                "negative)")


COSINE = Exercise(
    id="vectors.cosine_similarity",
    title="Cosine similarity",
    functions=("cosine_sim",),
    summary="S_ij = a_i . b_j / (||a_i|| ||b_j||) for all pairs of rows, 0 for zero rows",
    forbidden=("scipy.spatial.distance.cdist", "scipy.spatial.distance.pdist",
               "scipy.spatial.distance.cosine", "sklearn.metrics.pairwise.cosine_similarity",
               "torch.nn.functional.cosine_similarity"),
    checks=(
        Check("basic", _cos_case(4, 3, 6, "A of shape (4, 6) and B of shape (3, 6)"),
              _cos_judge, points=1, about="rows of A against rows of B"),
        Check("self", _cos_self, _cos_judge, points=0.5,
              about="a matrix with itself: ones on the diagonal"),
        Check("zero_rows", _cos_case(4, 3, 5, "A and B with a zero row each",
                                     zero_rows=(2, 0)),
              _cos_judge, points=0.5, hidden=True, about="a zero row has similarity 0"),
        Check("parallel_rows", _cos_parallel, _cos_judge, points=0.5, hidden=True,
              about="parallel rows give exactly +-1"),
        Check("small_entries", _cos_case(3, 4, 5, "rows with entries about 1e-6 and 1e-5",
                                         scale_a=1e-6, scale_b=1e-5),
              _cos_judge, points=0.5, hidden=True,
              about="tiny rows: no epsilon in the denominator"),
        Check("single_rows", _cos_case(1, 1, 7, "A and B of one row each (shape (1, 7))"),
              _cos_judge, points=0.5, hidden=True, about="one row each: a (1, 1) result"),
    ),
    # A loop over the 90,000 pairs of rows: 71x the reference (measured); einsum 3x.
    timing=Timing(lambda rng: Call("cosine_sim", (rng.standard_normal((300, 500)),
                                                  rng.standard_normal((300, 500))),
                                   send=False),
                  slow_ratio=20.0,
                  advice="normalize all rows at once (divide by the row norms with axis=1, "
                         "keepdims=True), then take one matrix product A_hat @ B_hat.T instead "
                         "of a loop over pairs of rows"),
)


# ================================================================= vectors.orthonormalize

# Q^T Q = I to 1e-10 and span(Q) = span(A) with every principal angle's cosine >= 1 - 1e-10
# (the catalog's). Modified Gram-Schmidt on the nearly dependent case (condition number about
# 5e4) leaves |Q^T Q - I| below 1e-11, classical Gram-Schmidt above 2e-9 (3,000 seeds;
# tests/test_bank_vectors.py measures it again).
ORTHO_ATOL = 1e-10
SPAN_TOL = 1e-10
_NEARLY_DEPENDENT = 5e-5


def _gram_schmidt(a: np.ndarray, tol: float, *, classical: bool = False,
                  normalize: bool = True, relative: bool = True, drop: bool = True
                  ) -> np.ndarray:
    """Gram-Schmidt, right or with one of the known flaws."""
    found: list[np.ndarray] = []
    units: list[np.ndarray] = []
    for col in a.T:
        w = col.copy()
        for q in units:
            w = w - np.sum(q * (col if classical else w)) * q
        size = math.sqrt(np.sum(w * w))
        if drop and size <= tol * (math.sqrt(np.sum(col * col)) if relative else 1.0):
            continue
        units.append(w / size)
        found.append(units[-1] if normalize else w)
    return np.stack(found, axis=1) if found else np.zeros((a.shape[0], 0))


def _gs_variant(**flaws):
    def variant(case: Case) -> np.ndarray:
        a, kw = _call_args(case)
        return _gram_schmidt(a, kw.get("tol", 1e-10), **flaws)
    return variant


def _gs_ignoring_tol(case: Case) -> np.ndarray:
    a, kw = _call_args(case)
    if kw.get("tol", 1e-10) == 1e-10:
        raise ValueError("the default tol: nothing to ignore")
    return _gram_schmidt(a, 1e-10)


def _orthogonality_error(q: np.ndarray) -> float:
    return float(np.abs(q.T @ q - np.eye(q.shape[1])).max(initial=0.0))


def _loses_orthogonality_like(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    """Classical Gram-Schmidt: the right number of columns, not orthogonal to 1e-10, by as
    much as the replay (within a factor of 1000 either way)."""
    g = _numeric(got)
    if g is None or g.shape != np.shape(wrong) or g.shape != np.shape(want) or \
            not np.isfinite(g).all():
        return False
    ours, theirs = _orthogonality_error(g), _orthogonality_error(wrong)
    return ours > ORTHO_ATOL and theirs > ORTHO_ATOL and 1e-3 <= ours / theirs <= 1e3


def _same_count(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    """As many basis vectors as the flawed replay keeps, where the reference keeps others."""
    return (isinstance(got, np.ndarray) and got.ndim == 2 and got.shape == np.shape(wrong)
            and got.shape != np.shape(want))


GS_CLASSICAL = Mistake(
    "gs_classical",
    "your columns span the right space but are not orthogonal: the signature of CLASSICAL "
    "Gram-Schmidt, which computes every coefficient q_j . a_k from the original column. For "
    "nearly dependent columns (condition number about 5e4) the rounding errors of those "
    "coefficients grow with the square of the condition number. Modified Gram-Schmidt takes "
    "q_j . w from the partly reduced w (w <- w - (q_j . w) q_j, one q_j at a time)",
    _quietly(_gs_variant(classical=True)))
GS_NOT_NORMALIZED = Mistake(
    "gs_not_normalized",
    "your columns are orthogonal but not of length 1: divide each w_k by its norm ||w_k|| "
    "(orthoNORMAL: q_k = w_k / ||w_k||)",
    _quietly(_gs_variant(normalize=False)))
GS_KEEPS_DEPENDENT = Mistake(
    "gs_keeps_dependent",
    "you kept a basis vector for every column of A, but some column is a combination of the "
    "earlier ones (or zero): what is left of it after the projections, w_k, is rounding noise "
    "(||w_k|| about 1e-16 ||a_k||), and normalizing it makes noise a basis vector (or 0 / 0). "
    "Drop column k when ||w_k|| <= tol * ||a_k||",
    _quietly(_gs_variant(drop=False)))
GS_ABSOLUTE_TOL = Mistake(
    "gs_absolute_tol",
    "your test for a dependent column is not relative to the column's norm: with entries of "
    "1e-12 every column falls under an absolute threshold like 1e-10 and is dropped, and with "
    "entries of 1e12 the rounding noise left of a dependent column (about 1e-4) passes it. "
    "Drop column k when ||w_k|| <= tol * ||a_k||",
    _quietly(_gs_variant(relative=False)))
GS_IGNORES_TOL = Mistake(
    "gs_ignores_tol",
    "you ignored the tol argument: a column is dropped when ||w_k|| <= tol * ||a_k|| with the "
    "tol given (here 1e-3, so a column with only 1e-4 of its norm outside the span is dropped)",
    _quietly(_gs_ignoring_tol))
_ORTHO_FITS = {"gs_classical": _loses_orthogonality_like, "gs_keeps_dependent": _same_count,
               "gs_absolute_tol": _same_count, "gs_ignores_tol": _same_count}


def _ortho_judge(*mistakes: Mistake) -> Callable[[Trial], Verdict]:
    """Shape (m, rank), Q^T Q = I, then span(Q) = span(A) by principal angles."""

    @_quiet
    def judge(trial: Trial) -> Verdict:
        got, want = trial.got(), trial.want()
        prefix = f"orthonormalize for {trial.case.note}"

        def fail(message: str) -> Verdict:
            diagnosis = _diagnose(got, trial.case, want, mistakes, _ORTHO_FITS)
            if diagnosis is None:
                diagnosis = diagnose.generic(got, want, rtol=1e-6, atol=1e-9)
            return Verdict(False, f"{prefix}: {message}", diagnosis)

        found = compare(got, want, rtol=0.0, atol=math.inf)  # type, shape, dtype, NaN/Inf
        if found is not None:
            if found.kind == "shape" and got.ndim == 2 and got.shape[0] == want.shape[0]:
                return fail(f"Q has {got.shape[1]} columns, but the columns of A span a space "
                            f"of dimension {want.shape[1]}")
            return fail(str(found))
        if want.shape[1] == 0:
            return Verdict(True)
        error = _orthogonality_error(got)
        if error > ORTHO_ATOL:
            off = np.abs(got.T @ got - np.eye(got.shape[1]))
            i, j = np.unravel_index(int(np.argmax(off)), off.shape)
            what = (f"||Q[:, {i}]||^2 = {fmt((got.T @ got)[i, i])}" if i == j
                    else f"Q[:, {i}] . Q[:, {j}] = {fmt((got.T @ got)[i, j])}")
            return fail(f"the columns of Q must be orthonormal (Q^T Q = I to {ORTHO_ATOL:g}); "
                        f"{what}")
        cos = float(np.linalg.svd(want.T @ got, compute_uv=False).min())
        if cos < 1 - SPAN_TOL:
            angle = math.degrees(math.acos(min(1.0, max(-1.0, cos))))
            return fail(f"span(Q) is not the column space of A: the largest principal angle "
                        f"between them is {fmt(angle)} degrees (cos {fmt(cos)}; need cos >= "
                        f"1 - {SPAN_TOL:g})")
        return Verdict(True)

    return judge


def _ortho_case(build_a: Callable[[np.random.Generator], np.ndarray], note: str,
                **kwargs) -> Callable[[np.random.Generator], Case]:
    return lambda rng: Case((Call("orthonormalize", (build_a(rng),), kwargs),), note)


def _nearly_dependent(rng: np.random.Generator) -> np.ndarray:
    """Six columns u + delta z_j (u, z_j orthonormal): singular values sqrt(6 + delta^2) and
    delta (five times), a condition number of about 5e4 (a generalized Lauchli matrix)."""
    basis = orthonormal(rng, 20, 7)
    return (basis[:, :1] + _NEARLY_DEPENDENT * basis[:, 1:]) * rng.uniform(0.5, 2.0)


def _dependent(m: int, n: int, scale: float = 1.0):
    """Gaussian columns, one of them (index 2) a combination of columns 0 and 1."""
    def build(rng: np.random.Generator) -> np.ndarray:
        a = rng.standard_normal((m, n))
        a[:, 2] = a[:, 0] - 2.0 * a[:, 1]
        return scale * a
    return build


def _zero_column(rng: np.random.Generator) -> np.ndarray:
    a = rng.standard_normal((6, 4))
    a[:, 1] = 0.0
    return a


def _almost_in_span(rng: np.random.Generator) -> np.ndarray:
    """Column 3 = column 0 + 1e-4 of a direction outside the span of columns 0..2."""
    basis = orthonormal(rng, 6, 4)
    return np.column_stack([basis[:, :3], basis[:, 0] + 1e-4 * basis[:, 3]])


ORTHONORMALIZE = Exercise(
    id="vectors.orthonormalize",
    title="Orthonormal basis by Gram-Schmidt",
    functions=("orthonormalize",),
    summary="modified Gram-Schmidt on the columns, dropping columns with ||w_k|| <= tol ||a_k||",
    forbidden=("numpy.linalg.qr", "numpy.linalg.svd", "scipy.linalg.qr", "scipy.linalg.svd",
               "scipy.linalg.orth", "torch.linalg.qr", "torch.linalg.svd"),
    checks=(
        Check("full_rank", _ortho_case(_gauss(8, 4), "a random 8x4 matrix"),
              _ortho_judge(GS_NOT_NORMALIZED), points=1, about="independent columns"),
        Check("square", _ortho_case(_gauss(5, 5), "a random 5x5 matrix"),
              _ortho_judge(GS_NOT_NORMALIZED), points=0.5, about="a square matrix"),
        Check("nearly_dependent",
              _ortho_case(_nearly_dependent, "a 20x6 matrix of nearly dependent columns "
                                             "(condition number about 5e4)"),
              _ortho_judge(GS_NOT_NORMALIZED, GS_CLASSICAL), points=1, hidden=True,
              about="nearly dependent columns: modified, not classical, Gram-Schmidt"),
        Check("dependent_column",
              _ortho_case(_dependent(7, 5), "a 7x5 matrix whose column 2 is column 0 - 2 "
                                            "column 1"),
              _ortho_judge(GS_KEEPS_DEPENDENT, GS_NOT_NORMALIZED), points=0.5, hidden=True,
              about="a dependent column is dropped"),
        Check("zero_column", _ortho_case(_zero_column, "a 6x4 matrix whose column 1 is zero"),
              _ortho_judge(GS_KEEPS_DEPENDENT), points=0.5, hidden=True,
              about="a zero column is dropped"),
        Check("zero_matrix", _ortho_case(_zeros(4, 3), "the 4x3 zero matrix"),
              _ortho_judge(GS_KEEPS_DEPENDENT), points=0.5, hidden=True,
              about="the zero matrix: Q of shape (m, 0)"),
        Check("tiny_scale", _ortho_case(_gauss(6, 3, scale=1e-12), "a 6x3 matrix with entries "
                                                                   "about 1e-12"),
              _ortho_judge(GS_ABSOLUTE_TOL), points=0.5, hidden=True,
              about="entries of 1e-12: the dependence test is relative"),
        Check("large_scale_dependent",
              _ortho_case(_dependent(6, 4, 1e12), "a 6x4 matrix with entries about 1e12 "
                                                  "whose column 2 is column 0 - 2 column 1"),
              _ortho_judge(GS_ABSOLUTE_TOL), points=0.5, hidden=True,
              about="entries of 1e12: rounding noise of a dependent column is dropped"),
        Check("explicit_tol",
              _ortho_case(_almost_in_span, "a 6x4 matrix whose column 3 has 1e-4 of its norm "
                                           "outside the span of the others, tol=1e-3",
                          tol=1e-3),
              _ortho_judge(GS_IGNORES_TOL), points=0.5, hidden=True,
              about="the tol argument sets the threshold"),
    ),
    # Loops over single entries: 25x to 89x the reference (measured on two machines); a loop
    # over earlier q's with np.dot per projection 1.6x, classical Gram-Schmidt twice with
    # Q.T @ a 0.6x. The flag sits between, at 6x (benchmarks/timing_flags.py).
    timing=Timing(lambda rng: Call("orthonormalize", (rng.standard_normal((200, 40)),),
                                   send=False),
                  slow_ratio=6.0,
                  advice="work on whole columns: q . w as np.dot(q, w) (or Q.T @ W for all "
                         "later columns at once) instead of loops over single entries"),
)

EXERCISES = (NORMS, COSINE, ORTHONORMALIZE)
