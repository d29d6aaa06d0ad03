"""vectors.norms, vectors.cosine_similarity and vectors.orthonormalize: the references against
independent implementations, the numerical margins of the case builders, and realistic right
and wrong submissions graded through the worker (each wrong one loses points with a message
saying what differs, and each declared mistake gets its diagnosis)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.linalg
import scipy.spatial.distance
import torch

from conftest import cases, reference_source
from grader import release, report
from grader.bank import vectors as bank
from grader.bank import vectors_angles as angles
from grader.catalog import reference_module, select
from grader.grading import run_reference
from grader.judges import CallResult, Trial
from grader.sandbox import wire

REF = reference_module("vectors")
EPS = np.finfo(np.float64).eps
MISTAKES = (*bank.NORM_MISTAKES, *bank.SPECTRAL_MISTAKES, *bank.RANK_MISTAKES,
            *angles.COS_MISTAKES, angles.GS_CLASSICAL, angles.GS_NOT_NORMALIZED,
            angles.GS_KEEPS_DEPENDENT, angles.GS_ABSOLUTE_TOL, angles.GS_IGNORES_TOL)
EXPLAIN = {m.name: m.explain for m in MISTAKES}


def assert_graded(result, score, failing, passing=None):
    """The exercise's score, and each failing check's message start and diagnosis (a mistake
    name, or None for none); the checks in ``passing`` (default: all others) passed, and any
    check in neither failed."""
    assert result.score == score < result.max_score, (result.score, result.message)
    assert result.status == ("partial" if score > 0 else "failed")
    for c in result.checks:
        if c.name not in failing:
            if passing is None or c.name in passing:
                assert c.status == "passed", (c.name, c.message)
            else:
                assert c.status == "failed" and c.score == 0, (c.name, c.message)
            continue
        message, mistake = failing[c.name]
        assert c.status == "failed" and c.score == 0, (c.name, c.message)
        assert c.message.startswith(message), (c.name, c.message)
        assert c.diagnosis == (EXPLAIN[mistake] if mistake else None), (c.name, c.diagnosis)


def full_marks(result):
    assert result.status == "passed", result.message
    assert result.score == result.max_score
    assert result.diagnosis is None and all(c.diagnosis is None for c in result.checks)


def failures_in_process(exercise_id, source, seeds):
    """Judge a (trusted) implementation run here on every check and seed: faster than the
    worker, so that many seeds can be tried. Returns the failing (seed, check, message)."""
    namespace = {}
    exec(textwrap.dedent(source), namespace)
    failures = []
    for seed in seeds:
        for check_, case in cases(exercise_id, seeds=(seed,)):
            actual = []
            for call in case.calls:
                try:
                    value = namespace[call.func](*[np.copy(a) for a in call.args], **call.kwargs)
                except Exception as exc:  # noqa: BLE001 - judged like the worker reports it
                    actual.append(CallResult(raised={"type": type(exc).__name__, "mro": [
                        c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins"],
                        "message": str(exc)}))
                    continue
                actual.append(CallResult(value=wire.decode(*wire.encode(value))))
            verdict = check_.judge(Trial(case, actual, run_reference(REF, case)))
            if not verdict.passed:
                failures.append((seed, check_.name, verdict.message))
    return failures


# ============================================================================ references

def _hypot(x, axis=None):
    x = np.asarray(x, dtype=np.float64)
    if axis is None:
        return math.hypot(*x.ravel())
    return np.apply_along_axis(lambda v: math.hypot(*v), axis, x)


NORM_INPUTS = {
    "vector": lambda rng: rng.standard_normal(40),
    "matrix": lambda rng: rng.standard_normal((6, 5)),
    "array3": lambda rng: rng.standard_normal((3, 4, 2)),
    "huge": lambda rng: 1e200 * rng.standard_normal((5, 4)),
    "tiny": lambda rng: 1e-200 * rng.standard_normal((5, 4)),
    "mixed": lambda rng: rng.standard_normal((4, 6)) * 10.0 ** rng.integers(-150, 150, (4, 6)),
    "zeros": lambda rng: np.zeros((3, 4)),
    "empty": lambda rng: np.zeros(0),
}


@pytest.mark.parametrize("kind", list(NORM_INPUTS), ids=list(NORM_INPUTS))
def test_l2_and_frobenius_references_match_math_hypot(kind):
    """math.hypot (exact up to rounding, overflow-safe) and BLAS nrm2 (scipy, 1-D)."""
    for seed in range(20):
        x = NORM_INPUTS[kind](np.random.default_rng(seed))
        assert REF.l2_norm(x) == pytest.approx(_hypot(x), rel=1e-13, abs=0.0)
        if x.size:
            assert REF.l2_norm(x) == pytest.approx(scipy.linalg.norm(x.ravel()), rel=1e-13,
                                                   abs=0.0)
        for axis in range(x.ndim):
            got = REF.l2_norm(x, axis=axis)
            assert got.shape == tuple(np.delete(x.shape, axis))
            np.testing.assert_allclose(got, _hypot(x, axis), rtol=1e-13, atol=0)
        if x.ndim == 2:
            assert REF.frobenius_norm(x) == pytest.approx(_hypot(x), rel=1e-13, abs=0.0)
        if kind not in ("huge", "tiny", "mixed") and x.size:  # numpy's own norm overflows there
            assert REF.l2_norm(x) == pytest.approx(np.linalg.norm(x), rel=1e-13)


def test_numpy_norm_overflows_where_the_reference_does_not():
    x = np.full(4, 1e200)
    with np.errstate(over="ignore"):
        assert np.linalg.norm(x) == math.inf
    assert REF.l2_norm(x) == 2e200


@pytest.mark.parametrize("kind", ["matrix", "huge", "tiny", "zeros", "square", "wide"])
def test_spectral_norm_reference_matches_numpy_and_torch(kind):
    inputs = {**NORM_INPUTS, "square": lambda rng: rng.standard_normal((5, 5)),
              "wide": lambda rng: rng.standard_normal((3, 7))}
    for seed in range(20):
        a = inputs[kind](np.random.default_rng(seed))
        got = REF.spectral_norm(a)
        assert got == pytest.approx(np.linalg.norm(a, 2), rel=1e-13, abs=0.0)
        if kind not in ("huge", "tiny"):
            want = float(torch.linalg.matrix_norm(torch.from_numpy(a), ord=2))
            assert got == pytest.approx(want, rel=1e-12, abs=0.0)


RANK_INPUTS = {  # (matrix, rtol)
    "full": lambda rng: (rng.standard_normal((6, 4)), None),
    "rank2_6x5": lambda rng: (rng.standard_normal((6, 2)) @ rng.standard_normal((2, 5)), None),
    "rank3_noise": lambda rng: (bank._low_rank(rng, 10, 8, 3, 100.0)
                                + 1e-14 * rng.standard_normal((10, 8)), None),
    "tiny": lambda rng: (1e-12 * rng.standard_normal((6, 4)), None),
    "large_rank3": lambda rng: (bank._low_rank(rng, 7, 5, 3, 1e12), None),
    "zeros": lambda rng: (np.zeros((3, 4)), None),
    "rtol": lambda rng: (bank._rank_explicit(rng), 0.01),
}


@pytest.mark.parametrize("kind", list(RANK_INPUTS), ids=list(RANK_INPUTS))
def test_numerical_rank_reference_matches_matrix_rank(kind):
    for seed in range(50):
        a, rtol = RANK_INPUTS[kind](np.random.default_rng(seed))
        got = REF.numerical_rank(a, rtol=rtol)
        assert isinstance(got, int)
        assert got == np.linalg.matrix_rank(a, rtol=rtol)
        if rtol is not None:
            assert got == int(torch.linalg.matrix_rank(torch.from_numpy(a), rtol=rtol))


def test_cosine_reference_matches_scipy_and_torch():
    for seed in range(20):
        rng = np.random.default_rng(seed)
        a, b = rng.standard_normal((5, 7)), rng.standard_normal((4, 7)) * 1e-3
        got = REF.cosine_sim(a, b)
        np.testing.assert_allclose(got, 1 - scipy.spatial.distance.cdist(a, b, "cosine"),
                                   rtol=1e-12, atol=1e-14)
        want = torch.nn.functional.cosine_similarity(torch.from_numpy(a)[:, None],
                                                     torch.from_numpy(b)[None], dim=-1)
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-12, atol=1e-14)
        a[2] = 0.0
        got = REF.cosine_sim(a, b)
        assert np.isfinite(got).all() and not got[2].any()


def _span_cosines(q, a):
    basis = scipy.linalg.orth(a)  # an orthonormal basis of the range by SVD
    assert basis.shape == q.shape
    return np.linalg.svd(basis.T @ q, compute_uv=False)


def test_orthonormalize_reference_spans_the_range_like_scipy_orth_and_qr():
    for check_, case in cases("vectors.orthonormalize", seeds=range(30)):
        call = case.calls[0]
        a = call.args[0]
        q = REF.orthonormalize(a, **call.kwargs)
        assert q.shape == (a.shape[0], np.linalg.matrix_rank(a, rtol=call.kwargs.get("tol")))
        assert np.abs(q.T @ q - np.eye(q.shape[1])).max(initial=0.0) <= 2e-11, check_.name
        if q.shape[1] == a.shape[1]:  # full rank: the same columns as Householder QR's, up to sign
            householder = np.linalg.qr(a)[0]
            np.testing.assert_allclose(np.abs(np.sum(q * householder, axis=0)), 1.0, atol=1e-8)
        elif check_.name != "explicit_tol" and q.size:
            assert _span_cosines(q, a).min() >= 1 - 1e-10, check_.name


# ============================================================================ case builders

SVDS = {"numpy": lambda a: np.linalg.svd(a, compute_uv=False),
        "numpy of A^T": lambda a: np.linalg.svd(a.T, compute_uv=False),
        "scipy gesvd": lambda a: scipy.linalg.svd(a, compute_uv=False, lapack_driver="gesvd"),
        "torch": lambda a: torch.linalg.svdvals(torch.from_numpy(a)).numpy()}


def test_rank_cases_have_room_on_both_sides_of_the_default_cutoff():
    """Four SVDs: the rounding (and 1e-14) noise of the zero singular values stays below 0.29
    of the cutoff max(m, n) * eps * sigma_max (1,000 seeds, measured once; 300 here), the true
    ones 1e12 times above it."""
    worst_noise, smallest_kept = 0.0, math.inf
    for check_, case in cases("vectors.norms", seeds=range(300),
                              names=("rank", "rank_noise", "rank_tiny_scale",
                                     "rank_large_scale")):
        for call in case.calls:
            a = call.args[0]
            rank = REF.numerical_rank(a)
            for svd in SVDS.values():
                s = svd(a)
                cutoff = max(a.shape) * EPS * s[0]
                smallest_kept = min(smallest_kept, s[rank - 1] / cutoff)
                if rank < len(s):
                    worst_noise = max(worst_noise, s[rank] / cutoff)
    assert worst_noise < 0.5
    assert smallest_kept > 1e6


def test_explicit_rtol_case_cuts_with_room_on_both_sides():
    for _, case in cases("vectors.norms", seeds=range(50), names=("rank_explicit_rtol",)):
        call = case.calls[0]
        s = np.linalg.svd(call.args[0], compute_uv=False)
        rtol = call.kwargs["rtol"]
        assert s[2] / s[0] > 1.9 * rtol and s[3] / s[0] < rtol / 1.9
        assert s[3] > 2 * rtol  # an absolute cutoff s > rtol keeps a 4th


def classical_gs(a):
    q = np.zeros((a.shape[0], 0))
    for col in a.T:
        w = col - q @ (q.T @ col)
        q = np.column_stack([q, w / np.linalg.norm(w)])
    return q


def test_nearly_dependent_case_separates_modified_from_classical_gram_schmidt():
    """Measured once over 3,000 seeds: modified Gram-Schmidt (three ways) at most 9.6e-12 from
    orthonormal, classical (two ways) at least 2.2e-9; here 300 seeds."""
    namespace = {}
    for source in ORTHO_RIGHT.values():
        exec(textwrap.dedent(source), namespace)
        namespace.setdefault("impls", []).append(namespace["orthonormalize"])
    modified, classical = 0.0, math.inf
    for _, case in cases("vectors.orthonormalize", seeds=range(300),
                         names=("nearly_dependent",)):
        a = case.calls[0].args[0]
        for impl in (REF.orthonormalize, *namespace["impls"]):
            modified = max(modified, angles._orthogonality_error(impl(a)))
        for q in (classical_gs(a), angles._gram_schmidt(a, 1e-10, classical=True)):
            classical = min(classical, angles._orthogonality_error(q))
    assert modified < 0.3 * angles.ORTHO_ATOL
    assert classical > 10 * angles.ORTHO_ATOL


def test_mistake_names_are_unique_in_the_module():
    """The release freezes every Mistake of a bank module by name."""
    names = [m.name for m in MISTAKES]
    assert len(names) == len(set(names))


# ============================================================================ vectors.norms

NORMS_BASE = {
    "l2_norm": """
        def l2_norm(x, axis=None):
            x = np.asarray(x, dtype=float)
            s = np.max(np.abs(x), axis=axis, keepdims=True) if x.size else np.zeros(())
            s = np.where(s == 0, 1.0, s)
            out = s * np.sqrt(np.sum((x / s) ** 2, axis=axis, keepdims=True))
            return float(out.ravel()[0]) if axis is None else np.squeeze(out, axis=axis)
        """,
    "spectral_norm": """
        def spectral_norm(A):
            s = np.abs(A).max()
            return 0.0 if s == 0 else s * np.linalg.svd(A / s, compute_uv=False)[0]
        """,
    "frobenius_norm": """
        def frobenius_norm(A):
            return l2_norm(A)
        """,
    "numerical_rank": """
        def numerical_rank(A, rtol=None):
            s = np.linalg.svd(A, compute_uv=False)
            if rtol is None:
                rtol = max(A.shape) * np.finfo(float).eps
            return int(np.sum(s > rtol * s.max()))
        """,
}


def norms_source(**replace):
    parts = {**NORMS_BASE, **replace}
    return "import math\nimport numpy as np\n" + "".join(textwrap.dedent(p) for p in
                                                         parts.values())


NORMS_RIGHT = {
    "reference": reference_source("vectors"),
    "scaled_sums": norms_source(),
    "hypot_and_gram": norms_source(
        l2_norm="""
        def l2_norm(x, axis=None):
            x = np.asarray(x, dtype=float)
            if axis is None:
                return math.hypot(*x.ravel())
            return np.hypot.reduce(x, axis=axis)
        """,
        spectral_norm="""
        def spectral_norm(A):
            s = np.abs(A).max()           # A^T A of the scaled matrix cannot overflow
            if s == 0:
                return 0.0
            B = A / s
            return s * np.sqrt(np.linalg.eigvalsh(B.T @ B)[-1])
        """,
        numerical_rank="""
        def numerical_rank(A, rtol=None):
            m, n = A.shape
            s = np.linalg.svd(A.T, compute_uv=False)
            tol = (max(m, n) * np.finfo(np.float64).eps if rtol is None else rtol) * s[0]
            return sum(1 for v in s if v > tol)
        """),
}


@pytest.mark.parametrize("name", list(NORMS_RIGHT), ids=list(NORMS_RIGHT))
def test_norms_correct_implementations_get_full_marks(grade_one, name):
    result = grade_one("vectors.norms", {"vectors.py": NORMS_RIGHT[name]})
    full_marks(result)
    assert result.score == 6.5


NAIVE_L2 = """
    def l2_norm(x, axis=None):
        return np.sqrt(np.sum(np.asarray(x, dtype=float) ** 2, axis=axis))
    """
NORMS_WRONG = {  # name: (replacements, score, {failing check: (message start, mistake)})
    "sum_of_squares": ({"l2_norm": NAIVE_L2}, 5.0, {
        "l2_huge": ("l2_norm(a vector of length 30): 1 element with Inf where the expected "
                    "value is finite; got inf, expected 5.", "sum_of_squares_overflow"),
        "l2_tiny": ("l2_norm(a vector of length 30): got 0, expected ",
                    "sum_of_squares_underflow"),
        "matrix_huge": ("frobenius_norm(a 5x4 matrix): 1 element with Inf where the expected "
                        "value is finite; got inf, expected ", "sum_of_squares_overflow")}),
    "zero_unguarded": ({"l2_norm": """
        def l2_norm(x, axis=None):
            s = np.max(np.abs(x), axis=axis, keepdims=True)
            out = s * np.sqrt(np.sum((x / s) ** 2, axis=axis, keepdims=True))
            return float(out.ravel()[0]) if axis is None else np.squeeze(out, axis=axis)
        """}, 6.0, {
        "zeros": ("l2_norm(a vector of length 6): 1 element with NaN where the expected value "
                  "is finite; got nan, expected 0", "scaled_by_zero_max")}),
    "other_axis": ({"l2_norm": """
        def l2_norm(x, axis=None):
            x = np.asarray(x, dtype=float)
            if axis is not None:
                axis = x.ndim - 1 - axis      # counted from the other end
            s = np.max(np.abs(x), axis=axis, keepdims=True)
            s = np.where(s == 0, 1.0, s)
            out = s * np.sqrt(np.sum((x / s) ** 2, axis=axis, keepdims=True))
            return float(out.ravel()[0]) if axis is None else np.squeeze(out, axis=axis)
        """}, 5.0, {
        "l2_axis": ("l2_norm(a 5x5 matrix, axis=1): 5 of 5 elements differ", "norm_other_axis"),
        "l2_huge": ("l2_norm(a 4x5 matrix, axis=1): shape (5,), expected (4,)",
                    "norm_other_axis"),
        "zeros": ("l2_norm(a 3x4 matrix, axis=1): shape (4,), expected (3,)",
                  "norm_other_axis")}),
    "spectral_radius": ({"spectral_norm": """
        def spectral_norm(A):
            return float(np.max(np.abs(np.linalg.eigvals(A))))
        """}, 5.0, {
        "spectral": ("spectral_norm(a 4x4 matrix): got ", "spectral_radius"),
        "matrix_huge": ("spectral_norm(a 5x4 matrix) raised LinAlgError: Last 2 dimensions of "
                        "the array must be square (vectors.py, line ", None),
        "zeros": ("spectral_norm(a 3x4 matrix) raised LinAlgError: ", None)}),
    "spectral_frobenius": ({"spectral_norm": """
        def spectral_norm(A):
            return l2_norm(A)
        """}, 5.5, {
        "spectral": ("spectral_norm(a 4x4 matrix): got ", "spectral_is_frobenius"),
        "matrix_huge": ("spectral_norm(a 5x4 matrix): got ", None)}),
    "spectral_gram": ({"spectral_norm": """
        def spectral_norm(A):
            return float(np.sqrt(np.linalg.eigvalsh(A.T @ A)[-1]))
        """}, 6.0, {
        "matrix_huge": ("spectral_norm(a 5x4 matrix) raised LinAlgError: Eigenvalues did not "
                        "converge", "spectral_gram_overflow")}),
    "rank_nonzero": ({"numerical_rank": """
        def numerical_rank(A, rtol=None):
            return int(np.count_nonzero(np.linalg.svd(A, compute_uv=False)))
        """}, 4.0, {
        "rank": ("numerical_rank(a 6x5 matrix): rank 5, expected 3", "rank_counts_noise"),
        "rank_noise": ("numerical_rank(a 10x8 matrix): rank 8, expected 3",
                       "rank_counts_noise"),
        "rank_tiny_scale": ("numerical_rank(a 6x5 matrix): rank 5, expected 2",
                            "rank_counts_noise"),
        "rank_large_scale": ("numerical_rank(a 7x5 matrix): rank 5, expected 3",
                             "rank_absolute_cutoff"),
        "rank_explicit_rtol": ("numerical_rank(a 7x5 matrix, rtol=0.01): rank 5, expected 3",
                               "rank_ignores_rtol")}),
    "rank_absolute": ({"numerical_rank": """
        def numerical_rank(A, rtol=None):
            return int(np.sum(np.linalg.svd(A, compute_uv=False) > 1e-10))
        """}, 5.0, {
        "rank_tiny_scale": ("numerical_rank(a 6x4 matrix): rank 0, expected 4",
                            "rank_absolute_cutoff"),
        "rank_large_scale": ("numerical_rank(a 7x5 matrix): rank 5, expected 3",
                             "rank_absolute_cutoff"),
        "rank_explicit_rtol": ("numerical_rank(a 7x5 matrix, rtol=0.01): rank 5, expected 3",
                               "rank_ignores_rtol")}),
    "rank_rtol_absolute": ({"numerical_rank": """
        def numerical_rank(A, rtol=None):
            s = np.linalg.svd(A, compute_uv=False)
            cut = rtol if rtol is not None else max(A.shape) * np.finfo(float).eps * s[0]
            return int(np.sum(s > cut))
        """}, 6.0, {
        "rank_explicit_rtol": ("numerical_rank(a 7x5 matrix, rtol=0.01): rank 4, expected 3",
                               "rank_rtol_absolute")}),
    "rank_ignores_rtol": ({"numerical_rank": """
        def numerical_rank(A, rtol=None):
            s = np.linalg.svd(A, compute_uv=False)
            return int(np.sum(s > max(A.shape) * np.finfo(float).eps * s[0]))
        """}, 6.0, {
        "rank_explicit_rtol": ("numerical_rank(a 7x5 matrix, rtol=0.01): rank 5, expected 3",
                               "rank_ignores_rtol")}),
    "rank_not_strict": ({"numerical_rank": """
        def numerical_rank(A, rtol=None):
            s = np.linalg.svd(A, compute_uv=False)
            rtol = max(A.shape) * np.finfo(float).eps if rtol is None else rtol
            return int(np.sum(s >= rtol * s[0]))
        """}, 6.0, {
        "zeros": ("numerical_rank(a 3x4 matrix): rank 3, expected 0",
                  "rank_cutoff_not_strict")}),
    "rank_float": ({"numerical_rank": """
        def numerical_rank(A, rtol=None):
            s = np.linalg.svd(A, compute_uv=False)
            rtol = max(A.shape) * np.finfo(float).eps if rtol is None else rtol
            return float(np.sum(s > rtol * s[0]))
        """}, 3.5, {
        name: (f"numerical_rank(a {shape} matrix{extra}): return the rank as an int (the "
               f"number of singular values above the cutoff), got the float ", None)
        for name, shape, extra in (("rank", "6x5", ""), ("zeros", "3x4", ""),
                                   ("rank_noise", "10x8", ""), ("rank_tiny_scale", "6x4", ""),
                                   ("rank_large_scale", "7x5", ""),
                                   ("rank_explicit_rtol", "7x5", ", rtol=0.01"))}),
}


@pytest.mark.parametrize("name", list(NORMS_WRONG), ids=list(NORMS_WRONG))
def test_norms_wrong_implementations_lose_points_with_their_diagnosis(grade_one, name):
    replace, score, failing = NORMS_WRONG[name]
    result = grade_one("vectors.norms", {"vectors.py": norms_source(**replace)})
    assert_graded(result, score, failing)


def test_norms_with_numpy_norm_scores_only_the_rank_checks(grade_one):
    source = norms_source(l2_norm="""
        def l2_norm(x, axis=None):
            return np.linalg.norm(x, axis=axis)
        """)
    result = grade_one("vectors.norms", {"vectors.py": source})
    assert result.status == "partial" and result.score == 3.0
    for c in result.checks:
        if "rank" in c.name or c.name == "spectral":
            assert c.status == "passed", c.name
        else:
            assert c.status == "failed" and c.message.startswith(
                "uses numpy.linalg.norm, which this exercise does not allow")


@pytest.mark.slow
def test_l2_python_loop_is_timed_as_not_vectorized(grade_files):
    loop = norms_source(l2_norm="""
        def l2_norm(x, axis=None):
            x = np.asarray(x, dtype=float)
            if axis is not None:
                return np.apply_along_axis(l2_norm, axis, x)
            s = max((abs(v) for v in x.ravel()), default=0.0)
            if s == 0:
                return 0.0
            return s * math.sqrt(sum((v / s) ** 2 for v in x.ravel()))
        """)
    graded = grade_files({"vectors.py": loop}, ids=("vectors.norms",), time_it=True)
    result = graded.exercises[0]
    assert result.score == result.max_score
    assert result.timing.slow and result.timing.ratio > 10
    assert "-> not vectorized: scale and sum with array operations" in \
        report.render_terminal(graded)


# ============================================================================ vectors.cosine

COS_RIGHT = {
    "reference": reference_source("vectors"),
    "divide_where": """
        import numpy as np
        def cosine_sim(A, B):
            denom = np.outer(np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1))
            S = A @ B.T
            return np.clip(np.divide(S, denom, out=np.zeros_like(S), where=denom > 0), -1, 1)
        """,
    "einsum_unclipped": """
        import numpy as np
        def cosine_sim(A, B):
            na = np.sqrt(np.einsum("ij,ij->i", A, A))
            nb = np.sqrt(np.einsum("ij,ij->i", B, B))
            A = A / np.where(na == 0, 1.0, na)[:, None]
            B = B / np.where(nb == 0, 1.0, nb)[:, None]
            return np.einsum("id,jd->ij", A, B)
        """,
    "pair_loop": """
        import numpy as np
        def cosine_sim(A, B):
            S = np.zeros((len(A), len(B)))
            for i, a in enumerate(A):
                for j, b in enumerate(B):
                    na, nb = np.linalg.norm(a), np.linalg.norm(b)
                    if na > 0 and nb > 0:
                        S[i, j] = min(1.0, max(-1.0, np.dot(a, b) / (na * nb)))
            return S
        """,
}


@pytest.mark.parametrize("name", list(COS_RIGHT), ids=list(COS_RIGHT))
def test_cosine_correct_implementations_get_full_marks(grade_one, name):
    result = grade_one("vectors.cosine_similarity", {"vectors.py": COS_RIGHT[name]})
    full_marks(result)
    assert result.score == 3.5


def _cos_source(body):
    return ("import numpy as np\n"
            "def cosine_sim(A, B):\n"
            "    na = np.linalg.norm(A, axis=1, keepdims=True)\n"
            "    nb = np.linalg.norm(B, axis=1, keepdims=True)\n"
            + "".join(f"    {line}\n" for line in body))


COS_WRONG = {  # name: (source, score, {failing check: (message start, mistake)})
    "zero_row_nan": (_cos_source(["return (A / na) @ (B / nb).T"]), 3.0, {
        "zero_rows": ("cosine_sim for A and B with a zero row each: 6 elements with NaN where "
                      "the expected value is finite", "cos_zero_row_nan")}),
    "epsilon_1e-8": (_cos_source(["return (A @ B.T) / (na * nb.T + 1e-8)"]), 0.0, {
        "basic": ("cosine_sim for A of shape (4, 6) and B of shape (3, 6): 12 of 12 elements "
                  "differ (100.0%)", "cos_epsilon"),
        "small_entries": ("cosine_sim for rows with entries about 1e-6 and 1e-5: 12 of 12 "
                          "elements differ", "cos_epsilon")}, ()),
    "epsilon_1e-12": (_cos_source(["return (A @ B.T) / (na * nb.T + 1e-12)"]), 2.5, {
        "self": ("cosine_sim for A with itself (A of shape (5, 3)): rows A[1] and B[1] point the "
                 "same way (up to sign), so S[1, 1] must be +1 within 1e-12; got ",
                 "cos_epsilon"),
        "small_entries": ("cosine_sim for rows with entries about 1e-6 and 1e-5: 12 of 12 "
                          "elements differ", "cos_epsilon")}),
    "clamped": (_cos_source(["return (A @ B.T) / np.maximum(na * nb.T, 1e-8)"]), 3.0, {
        "small_entries": ("cosine_sim for rows with entries about 1e-6 and 1e-5: 12 of 12 "
                          "elements differ", "cos_epsilon")}),
    "only_a": (_cos_source(["return (A / np.where(na > 0, na, 1)) @ B.T"]), 0.0, {
        "basic": ("cosine_sim for A of shape (4, 6) and B of shape (3, 6): 12 of 12 elements "
                  "differ", "cos_only_a_normalized")}, ()),
    "columns": (_cos_source(["ca = np.linalg.norm(A, axis=0)",
                             "cb = np.linalg.norm(B, axis=0)",
                             "return (A / ca) @ (B / cb).T"]), 0.0, {
        "basic": ("cosine_sim for A of shape (4, 6) and B of shape (3, 6): 12 of 12 elements "
                  "differ", "cos_columns_normalized")}, ()),
    "whole_matrix": (_cos_source(["return (A @ B.T) / (np.linalg.norm(A) * np.linalg.norm(B))"]),
                     0.5, {
        "basic": ("cosine_sim for A of shape (4, 6) and B of shape (3, 6): 12 of 12 elements "
                  "differ", "cos_whole_matrix_norm")}, ("single_rows",)),
    "dots": (_cos_source(["return A @ B.T"]), 0.0, {
        "basic": ("cosine_sim for A of shape (4, 6) and B of shape (3, 6): 12 of 12 elements "
                  "differ", "cos_not_normalized"),
        "small_entries": ("cosine_sim for rows with entries about 1e-6 and 1e-5: 12 of 12 "
                          "elements differ", "cos_not_normalized")}, ()),
}


@pytest.mark.parametrize("name", list(COS_WRONG), ids=list(COS_WRONG))
def test_cosine_wrong_implementations_lose_points_with_their_diagnosis(grade_one, name):
    source, score, failing, *passing = COS_WRONG[name]
    result = grade_one("vectors.cosine_similarity", {"vectors.py": source})
    assert_graded(result, score, failing, *passing)


def test_cosine_with_scipy_cdist_scores_zero(grade_one):
    source = ("import numpy as np\nfrom scipy.spatial.distance import cdist\n"
              "def cosine_sim(A, B):\n    return 1 - cdist(A, B, 'cosine')\n")
    result = grade_one("vectors.cosine_similarity", {"vectors.py": source})
    assert result.status == "failed" and result.score == 0
    assert all(c.message.startswith("uses scipy.spatial.distance.cdist, which this exercise "
                                    "does not allow") for c in result.checks)


def _judge_cosine(name, transform):
    (check_, case), = cases("vectors.cosine_similarity", names=(name,))
    expected = run_reference(REF, case)
    got = transform(expected[0].value)
    return check_.judge(Trial(case, [CallResult(value=got)], expected))


def test_cosine_judge_wants_values_in_the_unit_interval_and_exact_parallel_rows():
    """Both pass allclose at rtol 1e-10; the catalog asks for more."""
    verdict = _judge_cosine("self", lambda s: s * (1 + 5e-12))
    assert not verdict.passed and verdict.message.startswith(
        "cosine_sim for A with itself (A of shape (5, 3)): S[")
    assert "lies outside [-1, 1] by more than 1e-12 (clip it)" in verdict.message
    verdict = _judge_cosine("parallel_rows",
                            lambda s: np.where(np.abs(s) > 0.999, s * (1 - 5e-12), s))
    assert not verdict.passed and "point the same way (up to sign), so S[" in verdict.message
    assert _judge_cosine("parallel_rows", lambda s: s * (1 - 5e-16)).passed


# ============================================================================ orthonormalize

ORTHO_RIGHT = {
    "left_looking_mgs": """
        import numpy as np
        def orthonormalize(A, tol=1e-10):
            A = np.asarray(A, dtype=float)
            Q = []
            for k in range(A.shape[1]):
                a = A[:, k]
                w = a.copy()
                for q in Q:
                    w -= np.dot(q, w) * q
                if np.linalg.norm(w) > tol * np.linalg.norm(a):
                    Q.append(w / np.linalg.norm(w))
            return np.array(Q).T.reshape(A.shape[0], len(Q))
        """,
    "classical_twice": """
        import numpy as np
        def orthonormalize(A, tol=1e-10):
            A = np.asarray(A, dtype=float)
            Q = np.zeros((A.shape[0], 0))
            for a in A.T:
                w = a - Q @ (Q.T @ a)
                w = w - Q @ (Q.T @ w)      # "twice is enough": reorthogonalize once
                size = np.sqrt(w @ w)
                if size > tol * np.sqrt(a @ a):
                    Q = np.column_stack([Q, w / size])
            return Q
        """,
}
ORTHO_RIGHT_SOURCES = {"reference": reference_source("vectors"), **ORTHO_RIGHT}


@pytest.mark.parametrize("name", list(ORTHO_RIGHT_SOURCES), ids=list(ORTHO_RIGHT_SOURCES))
def test_orthonormalize_correct_implementations_get_full_marks(grade_one, name):
    result = grade_one("vectors.orthonormalize", {"vectors.py": ORTHO_RIGHT_SOURCES[name]})
    full_marks(result)
    assert result.score == 5.5


def _gs_source(project, *, keep="size > tol * np.sqrt(a @ a)", unit="w / size"):
    return f"""
        import numpy as np
        def orthonormalize(A, tol=1e-10):
            A = np.asarray(A, dtype=float)
            Q, found = [], []
            for a in A.T:
                w = a.copy()
                for q in Q:
                    w = w - {project} * q
                size = np.sqrt(w @ w)
                if {keep}:
                    Q.append(w / size)
                    found.append({unit})
            return np.array(found).T.reshape(A.shape[0], len(found))
        """


ORTHO_WRONG = {  # name: (source, score, {failing check: (message start, mistake)})
    "classical": (_gs_source("np.dot(q, a)"), 4.5, {
        "nearly_dependent": ("orthonormalize for a 20x6 matrix of nearly dependent columns "
                             "(condition number about 5e4): the columns of Q must be "
                             "orthonormal (Q^T Q = I to 1e-10); Q[:, ", "gs_classical")}),
    "not_normalized": (_gs_source("np.dot(q, w)", unit="w"), 1.0, {
        "full_rank": ("orthonormalize for a random 8x4 matrix: the columns of Q must be "
                      "orthonormal (Q^T Q = I to 1e-10); ||Q[:, ", "gs_not_normalized")},
        ("zero_matrix", "explicit_tol")),  # explicit_tol's kept columns have length 1
    "keeps_dependent": (_gs_source("np.dot(q, w)", keep="True"), 3.0, {
        "dependent_column": ("orthonormalize for a 7x5 matrix whose column 2 is column 0 - 2 "
                             "column 1: Q has 5 columns, but the columns of A span a space of "
                             "dimension 4", "gs_keeps_dependent"),
        "zero_column": ("orthonormalize for a 6x4 matrix whose column 1 is zero: Q has 4 "
                        "columns, but the columns of A span a space of dimension 3",
                        "gs_keeps_dependent"),
        "zero_matrix": ("orthonormalize for the 4x3 zero matrix: Q has 3 columns, but the "
                        "columns of A span a space of dimension 0", "gs_keeps_dependent"),
        "large_scale_dependent": ("orthonormalize for a 6x4 matrix with entries about 1e12 "
                                  "whose column 2 is column 0 - 2 column 1: Q has 4 columns",
                                  "gs_absolute_tol"),
        "explicit_tol": ("orthonormalize for a 6x4 matrix whose column 3 has 1e-4 of its norm "
                         "outside the span of the others, tol=1e-3: Q has 4 columns",
                         "gs_ignores_tol")}),
    "absolute_tol": (_gs_source("np.dot(q, w)", keep="size > tol"), 4.5, {
        "tiny_scale": ("orthonormalize for a 6x3 matrix with entries about 1e-12: Q has 0 "
                       "columns, but the columns of A span a space of dimension 3",
                       "gs_absolute_tol"),
        "large_scale_dependent": ("orthonormalize for a 6x4 matrix with entries about 1e12 "
                                  "whose column 2 is column 0 - 2 column 1: Q has 4 columns",
                                  "gs_absolute_tol")}),
    "ignores_tol": (_gs_source("np.dot(q, w)", keep="size > 1e-10 * np.sqrt(a @ a)"), 5.0, {
        "explicit_tol": ("orthonormalize for a 6x4 matrix whose column 3 has 1e-4 of its norm "
                         "outside the span of the others, tol=1e-3: Q has 4 columns",
                         "gs_ignores_tol")}),
}


@pytest.mark.parametrize("name", list(ORTHO_WRONG), ids=list(ORTHO_WRONG))
def test_orthonormalize_wrong_implementations_lose_points_with_their_diagnosis(grade_one, name):
    source, score, failing, *passing = ORTHO_WRONG[name]
    result = grade_one("vectors.orthonormalize", {"vectors.py": source})
    assert_graded(result, score, failing, *passing)


def test_orthonormalize_with_numpy_qr_scores_zero(grade_one):
    source = ("import numpy as np\ndef orthonormalize(A, tol=1e-10):\n"
              "    return np.linalg.qr(A)[0]\n")
    result = grade_one("vectors.orthonormalize", {"vectors.py": source})
    assert result.status == "failed" and result.score == 0
    assert all(c.message.startswith("uses numpy.linalg.qr, which this exercise does not allow")
               for c in result.checks)


@pytest.mark.parametrize("exercise_id,name,source", [
    *[("vectors.norms", n, s) for n, s in NORMS_RIGHT.items() if n != "reference"],
    *[("vectors.cosine_similarity", n, s) for n, s in COS_RIGHT.items() if n != "reference"],
    *[("vectors.orthonormalize", n, s) for n, s in ORTHO_RIGHT.items()]],
    ids=[*[n for n in NORMS_RIGHT if n != "reference"],
         *[n for n in COS_RIGHT if n != "reference"], *ORTHO_RIGHT])
def test_correct_implementations_pass_every_check_for_many_seeds(exercise_id, name, source):
    """Measured once with seeds 500-999 (74,700 verdicts with the systems topic's): 0
    failures."""
    assert failures_in_process(exercise_id, source, seeds=range(1, 21)) == []


# Gram-Schmidt entry by entry: 40x the reference on a 200x40 matrix, a flag at 20x (too close
# for a timed assert on a shared machine: benchmarks/timing_flags.py prints it, and
# tests/test_timing_flags.py checks the flag and its advice).
ORTHO_LOOPS = """
        import numpy as np
        def orthonormalize(A, tol=1e-10):
            A = np.array(A, dtype=float)
            m, n = A.shape
            Q = []
            for k in range(n):
                w = [A[i, k] for i in range(m)]
                for q in Q:
                    c = sum(q[i] * w[i] for i in range(m))
                    w = [w[i] - c * q[i] for i in range(m)]
                size = sum(v * v for v in w) ** 0.5
                if size > tol * sum(A[i, k] ** 2 for i in range(m)) ** 0.5:
                    Q.append([v / size for v in w])
            return np.array(Q).T.reshape(m, len(Q))
        """


def test_orthonormalize_entry_loops_keep_their_points(grade_files):
    result = grade_files({"vectors.py": ORTHO_LOOPS}, ids=("vectors.orthonormalize",))
    assert result.exercises[0].score == result.exercises[0].max_score


@pytest.mark.slow
def test_known_mistakes_are_diagnosed_in_a_bundle_of_this_topic_alone(tmp_path):
    """The bundle's bank module has its own case helpers (a bundle carries only the bank
    modules of its topics) and frozen per-call replays of the public cases."""
    out = tmp_path / "bundle"
    release.release(out=out, exercises=select(("vectors",)))
    env = {**os.environ, "PYTHONPATH": str(out), "PYTHONDONTWRITEBYTECODE": "1"}
    for exercise_id, source, mistake in (
            ("vectors.norms", norms_source(**NORMS_WRONG["other_axis"][0]), "norm_other_axis"),
            ("vectors.cosine_similarity", COS_WRONG["dots"][0], "cos_not_normalized")):
        wrong = tmp_path / "vectors.py"
        wrong.write_text(textwrap.dedent(source))
        run = subprocess.run([sys.executable, "-m", "grader.cli", "grade", exercise_id, "-s",
                              str(wrong)], cwd=out, env=env, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stderr
        assert f"-> {EXPLAIN[mistake]}" in run.stdout
