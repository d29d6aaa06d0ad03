"""Checks of exercises/systems.py, continued from :mod:`grader.bank.systems` (solve): least
squares and minimum-norm solutions.

Both are judged against A^+ b, by the relative error of x; the normal equations (or A x = b, for
a consistent system) say what is wrong. Known mistakes are matched as in
:mod:`grader.bank.systems`, by value or, where rounding makes the flawed answers differ from run
to run, by the property the flaw leaves (``_FITS``): an error along the directions of tiny
singular values, a second minimizer of ||A x - b|| with a larger norm.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from grader.bank.inputs import combine, with_singular_values
from grader.bank.systems import (RESIDUAL_TOL, _as_float, _failure, _inputs, _norm, _quiet,
                                 _quietly, _relative_error, _residual, _same_value, _times,
                                 _unusable, _well_conditioned)
from grader.catalog import Call, Case, Check, Exercise, Verdict
from grader.compare import fmt
from grader.judges import Mistake, Trial

_EPS = float(np.finfo(np.float64).eps)


# ----------------------------------------------------------------------------- case inputs

# Inputs come from grader.bank.inputs (the same bits on every machine).

def _low_rank(rng: np.random.Generator, m: int, n: int, rank: int, scale: float = 1.0
              ) -> np.ndarray:
    """A sum of ``rank`` outer products of Gaussian vectors, times ``scale``: its zero singular
    values come out of an SVD far below max(m, n) * eps * max(s) (measured in the tests)."""
    return combine(rng.standard_normal((m, rank)), (scale,) * rank,
                    rng.standard_normal((n, rank)))


# ----------------------------------------------------------------------------- matching

def _blows_up(x: Any, want: np.ndarray) -> bool:
    x = np.asarray(x, dtype=np.float64)
    return not np.isfinite(x).all() or _norm(x) > 1e6 * max(_norm(want), 1e-300)


def _both_blow_up(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    g = _as_float(got, np.shape(want))
    return g is not None and _blows_up(g, want) and _blows_up(wrong, want)


def _value_or_blow_up(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    return _same_value(got, wrong) or _both_blow_up(got, wrong, case, want)


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
        fail = _failure(trial, f"{func} for {trial.case.note}", mistakes, _FITS)
        unusable = _unusable(trial, on_raise, fail)
        if unusable is not None:
            return unusable
        got, want = trial.got(), trial.want()
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

EXERCISES = (LEAST_SQUARES, MIN_NORM)
