"""Checks of exercises/vectors.py, first part: norms and numerical rank, and what the topic's
modules share (case inputs, the matching of known mistakes).

Cosine similarity and Gram-Schmidt live in grader/bank/vectors_angles.py, which imports the
helpers here. A known mistake is a :class:`Mistake` (its variant replays the flawed computation
on the case's inputs); most are recognized by value, a few by a property of the student's answer
that the flawed method leaves (the ``fits`` of :func:`_diagnose`). The norms exercise has cases
of several calls; its replays are tuples with a value per call.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from grader import diagnose
from grader.bank.inputs import combine, with_singular_values
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare, describe
from grader.judges import Mistake, Trial, describe_raise

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


def _gauss(*shape: int, scale: float = 1.0) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: scale * rng.standard_normal(shape)


def _zeros(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: np.zeros(shape)


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

EXERCISES = (NORMS,)
