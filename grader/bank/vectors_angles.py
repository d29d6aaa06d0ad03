"""Checks of exercises/vectors.py, second part: cosine similarity and Gram-Schmidt.

Norms and numerical rank, and the helpers this module shares with them, are in
grader/bank/vectors.py. A known mistake is recognized by value, or by a property of the
student's answer that the flawed method leaves (the ``fits`` of
:func:`grader.bank.vectors._diagnose`): the loss of orthogonality of classical Gram-Schmidt, the
shrinkage of an epsilon in a denominator, the number of basis vectors kept.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from grader import diagnose
from grader.bank.inputs import orthonormal
from grader.bank.vectors import _diagnose, _gauss, _numeric, _quiet, _quietly, _same_value, _zeros
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare, fmt
from grader.judges import Mistake, Trial


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


def _call_args(case: Case, call: int = -1) -> tuple[np.ndarray, dict]:
    c = case.calls[call]
    return np.asarray(c.args[0], dtype=np.float64), dict(c.kwargs)


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

EXERCISES = (COSINE, ORTHONORMALIZE)
