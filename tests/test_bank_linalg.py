"""linalg.dot, linalg.pinv and linalg.pca: the references against independent implementations,
the numerical margins of the case builders, and realistic right and wrong submissions graded
through the worker (each wrong one loses points with a message saying what differs, and each
declared mistake gets its diagnosis)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from conftest import cases, check, reference_source
from grader import report
from grader.bank import linalg as bank
from grader.catalog import reference_module
from grader.grading import run_reference
from grader.judges import CallResult, Trial
from grader.sandbox import wire

REF = reference_module("linalg")
EXERCISES = {e.id: e for e in bank.EXERCISES}
EPS = np.finfo(np.float64).eps
EXPLAIN = {m.name: m.explain for m in (*bank.DOT_MISTAKES, bank.DOT_ZIP, *bank.PINV_MISTAKES,
                                        *bank.PCA_MISTAKES)}


def rel_frobenius(a, b):
    scale = np.linalg.norm(b)
    return np.linalg.norm(a - b) / scale if scale else float(np.linalg.norm(a))


# ============================================================================ references

def _low_rank(rng, m, n, r, scale=1.0):
    return scale * (rng.standard_normal((m, r)) @ rng.standard_normal((r, n)))


PINV_INPUTS = {
    "square": lambda rng: (rng.standard_normal((4, 4)), None),
    "tall": lambda rng: (rng.standard_normal((9, 4)), None),
    "wide": lambda rng: (rng.standard_normal((3, 7)), None),
    "1x1": lambda rng: (rng.standard_normal((1, 1)), None),
    "row": lambda rng: (rng.standard_normal((1, 5)), None),
    "column": lambda rng: (rng.standard_normal((5, 1)), None),
    "rank2_6x5": lambda rng: (_low_rank(rng, 6, 5, 2), None),
    "rank3_8x8": lambda rng: (_low_rank(rng, 8, 8, 3), None),
    "rank1_3x7": lambda rng: (_low_rank(rng, 3, 7, 1), None),
    "tiny_scale": lambda rng: (1e-12 * rng.standard_normal((6, 4)), None),
    "large_rank_deficient": lambda rng: (_low_rank(rng, 4, 7, 3, 1e12), None),
    "zeros": lambda rng: (np.zeros((3, 5)), None),
    "rtol_0.1": lambda rng: (rng.standard_normal((6, 6)), 0.1),
    "rtol_1e-3_rank2": lambda rng: (_low_rank(rng, 5, 4, 2), 1e-3),
}


@pytest.mark.parametrize("kind", list(PINV_INPUTS), ids=list(PINV_INPUTS))
def test_pinv_reference_matches_numpy(kind):
    for seed in range(20):
        a, rtol = PINV_INPUTS[kind](np.random.default_rng(seed))
        got = REF.pinv(a) if rtol is None else REF.pinv(a, rtol=rtol)
        want = np.linalg.pinv(a, rtol=rtol)  # rtol=None: max(m, n) * eps, as the exercise
        assert got.shape == want.shape == a.shape[::-1] and got.dtype == np.float64
        assert rel_frobenius(got, want) <= 1e-12, (kind, seed)
        if not a.any():
            assert not got.any()


PCA_DATA = {  # (n, d, k, feature scales, mean)
    "n50_d4_k2": (50, 4, 2, None, 0.0),
    "n200_d6_k3": (200, 6, 3, None, 3.0),
    "k_equals_d": (30, 5, 5, None, -1.0),
    "k1": (20, 3, 1, None, 0.0),
    "offset_100": (40, 4, 3, None, 100.0),
    "scales": (80, 5, 3, np.array([10.0, 3.0, 1.0, 0.3, 0.1]), 0.0),
    "fewer_samples_than_features": (6, 9, 4, None, 1.0),
}


@pytest.mark.parametrize("name", list(PCA_DATA), ids=list(PCA_DATA))
def test_pca_reference_matches_cov_and_eigh(name):
    n, d, k, scales, mean = PCA_DATA[name]
    for seed in range(20):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + mean
        x = x * scales if scales is not None else x
        components, variances = REF.pca(x, k)
        w, v = np.linalg.eigh(np.cov(x, rowvar=False))
        w, v = w[::-1][:k], v[:, ::-1][:, :k]
        assert components.shape == (d, k) and variances.shape == (k,)
        np.testing.assert_allclose(variances, w, rtol=1e-9, atol=1e-12 * w[0])
        np.testing.assert_allclose(components.T @ components, np.eye(k), atol=1e-12)
        cos = np.abs(np.sum(components * v, axis=0))
        assert cos.min() >= 1 - 1e-9, (name, seed, cos)


def test_pca_reference_and_comparator_agree_with_eigh_on_every_bank_case():
    """Also pins the cases' structure: only 'repeated_variance' has tied variances (a group of
    three), and the k-th and (k+1)-th variances are always at least 1% of the largest apart."""
    for check_, case in cases("linalg.pca", seeds=range(30)):
        x, k = case.calls[0].args
        components, variances = REF.pca(x, k)
        w, v = np.linalg.eigh(np.cov(x, rowvar=False))
        w, v = w[::-1], v[:, ::-1]
        np.testing.assert_allclose(variances, w[:k], rtol=1e-10)
        assert bank.compare_directions(components, v[:, :k], w[:k]) is None
        groups = bank.tied_groups(w)
        if check_.name == "repeated_variance":
            assert groups == [[0], [1, 2, 3], [4]]
        else:
            assert all(len(g) == 1 for g in groups), (check_.name, w)
        if k < len(w):
            assert (w[k - 1] - w[k]) / w[0] >= 0.01, (check_.name, w)


# ============================================================================ case builders

def _noise_ratios(a, rank):
    """Largest zero-by-rounding singular value / default cutoff, by SVD implementation."""
    cutoff = max(a.shape) * EPS
    impls = {"numpy": lambda m: np.linalg.svd(m, compute_uv=False),
             "numpy of A^T": lambda m: np.linalg.svd(m.T, compute_uv=False)}
    try:
        import scipy.linalg

        impls["scipy gesvd"] = lambda m: scipy.linalg.svd(m, compute_uv=False,
                                                          lapack_driver="gesvd")
    except ImportError:
        pass
    try:
        import torch

        impls["torch"] = lambda m: torch.linalg.svdvals(torch.from_numpy(m)).numpy()
    except ImportError:
        pass
    out = {}
    for name, svd in impls.items():
        s = svd(a)
        out[name] = (s[rank] / (cutoff * s[0]), s[rank - 1] / s[0])
    return out


@pytest.mark.parametrize("name,rank", [("rank_deficient", 2), ("large_scale", 3)],
                         ids=["rank_deficient", "large_scale"])
def test_zero_singular_values_stay_far_below_the_default_cutoff(name, rank):
    """Measured: any SVD puts the rounding noise of the zero singular values at most 0.28x the
    cutoff max(m, n) * eps * max(s), and the kept ones far above it."""
    worst_noise, smallest_kept = 0.0, 1.0
    for check_, case in cases("linalg.pinv", seeds=range(300)):
        if check_.name != name:
            continue
        a = case.calls[0].args[0]
        for noise, kept in _noise_ratios(a, rank).values():
            worst_noise, smallest_kept = max(worst_noise, noise), min(smallest_kept, kept)
    assert worst_noise < 0.5
    assert smallest_kept > 1e-6


def test_explicit_rtol_case_cuts_with_room_on_both_sides():
    for check_, case in cases("linalg.pinv", seeds=range(50)):
        if check_.name != "explicit_rtol":
            continue
        call = case.calls[0]
        s = np.linalg.svd(call.args[0], compute_uv=False)
        rtol = call.kwargs["rtol"]
        assert s[2] / s[0] > 1.9 * rtol and s[3] / s[0] < rtol / 1.9  # relative cutoff: 3 kept
        assert s[3] > 2 * rtol  # an absolute cutoff s > rtol keeps a 4th


def test_mistake_names_are_unique_in_the_module():
    """The release freezes every Mistake of a bank module by name."""
    names = [m.name for m in (*bank.DOT_MISTAKES, bank.DOT_ZIP, *bank.PINV_MISTAKES,
                              *bank.PCA_MISTAKES)]
    assert len(names) == len(set(names))


# ============================================================================ the comparator

def _rotate(c, i, j, degrees):
    t = np.radians(degrees)
    out = c.copy()
    out[:, i], out[:, j] = np.cos(t) * c[:, i] - np.sin(t) * c[:, j], \
        np.sin(t) * c[:, i] + np.cos(t) * c[:, j]
    return out


BASIS, _ = np.linalg.qr(np.random.default_rng(7).standard_normal((6, 5)))
TIED = np.array([9.0, 4.0, 4.0, 4.0, 1.0])


def test_compare_directions_accepts_signs_and_any_basis_of_a_tied_eigenspace():
    flipped = BASIS * np.array([-1, 1, -1, -1, 1])
    assert bank.compare_directions(flipped, BASIS, TIED) is None
    assert bank.compare_directions(_rotate(_rotate(BASIS, 1, 3, 40), 2, 3, -70), BASIS,
                                   TIED) is None


def test_compare_directions_refuses_a_column_turned_out_of_its_place():
    message = bank.compare_directions(_rotate(BASIS, 0, 1, 30), BASIS, TIED)
    assert message.startswith("components[:, 0] is not along the expected direction (either "
                              "sign is fine): |cos| of the angle between them is 0.866025 "
                              "(30 degrees")
    message = bank.compare_directions(_rotate(BASIS, 3, 4, 30), BASIS, TIED)
    assert message == ("components[:, 1:4] belong to equal variances (4), so any orthonormal "
                       "basis of that eigenspace is accepted, but they do not span it: the "
                       "largest principal angle to it is 30 degrees")
    # Without the tie, the rotation within columns 1..3 is a wrong answer.
    distinct = np.array([9.0, 5.0, 4.0, 3.0, 1.0])
    assert "components[:, 1] is not along" in bank.compare_directions(
        _rotate(BASIS, 1, 2, 10), BASIS, distinct)


# ============================================================================ linalg.dot

DOT_PYTHON_LOOP = """
def dot(u, v):
    if len(u) != len(v):
        raise ValueError(f"vectors of lengths {len(u)} and {len(v)}")
    total = 0.0
    for a, b in zip(u, v):
        total += a * b
    return total
"""

DOT_WRONG = {
    "zip_loop": ("""
        def dot(u, v):
            return float(sum(a * b for a, b in zip(u, v)))
        """, 3.0, "length_mismatch",
        "dot for vectors of lengths 6 and 4 should raise ValueError: vectors of different "
        "lengths have no dot product; it returned the float", "zip_truncates"),
    "off_by_one": ("""
        def dot(u, v):
            if len(u) != len(v):
                raise ValueError("lengths differ")
            total = 0.0
            for i in range(len(u) - 1):
                total += u[i] * v[i]
            return total
        """, 1.5, "length_1000", "dot for two vectors of length 1000: got ", "off_by_one"),
    "sum_of_squares": ("""
        import numpy as np
        def dot(u, v):
            if len(u) != len(v):
                raise ValueError("lengths differ")
            return float(np.sum(u * u))
        """, 1.5, "small", "dot for two vectors of length 3: got ",
        "elementwise_sum_of_squares"),
}


@pytest.mark.parametrize("name", list(DOT_WRONG), ids=list(DOT_WRONG))
def test_dot_wrong_implementations_lose_points_with_their_diagnosis(grade_one, name):
    source, score, failing, message, mistake = DOT_WRONG[name]
    result = grade_one("linalg.dot", {"linalg.py": source})
    assert result.status == "partial" and result.score == score < result.max_score
    failed = check(result, failing)
    assert failed.status == "failed" and failed.score == 0
    assert failed.message.startswith(message)
    assert failed.diagnosis == EXPLAIN[mistake]
    if name != "zip_loop":  # the integer check names the same mistake exactly (atol 0)
        assert check(result, "integers").diagnosis == EXPLAIN[mistake]


def test_dot_python_loop_keeps_full_marks(grade_one):
    result = grade_one("linalg.dot", {"linalg.py": DOT_PYTHON_LOOP})
    assert result.status == "passed" and result.score == result.max_score == 4
    assert result.diagnosis is None and result.timing is None  # timing is off in the fixture


@pytest.mark.slow
def test_dot_python_loop_is_timed_as_not_vectorized(grade_files):
    graded = grade_files({"linalg.py": DOT_PYTHON_LOOP}, ids=("linalg.dot",), time_it=True)
    result = graded.exercises[0]
    assert result.status == "passed" and result.score == result.max_score
    assert result.timing.slow and result.timing.ratio > 20
    text = report.render_terminal(graded)
    assert ("-> not vectorized: use np.dot, u @ v or np.sum(u * v) instead of a Python loop "
            "(correctness points are kept)") in text


# ============================================================================ linalg.pinv

PINV_RIGHT = {
    "full_matrices_true_loop": """
        import numpy as np
        def pinv(A, rtol=None):
            m, n = A.shape
            if rtol is None:
                rtol = max(m, n) * np.finfo(np.float64).eps
            U, s, Vt = np.linalg.svd(A, full_matrices=True)
            S_plus = np.zeros((n, m))
            for i in range(len(s)):
                if s[i] > rtol * s.max():
                    S_plus[i, i] = 1.0 / s[i]
            return Vt.T @ S_plus @ U.T
        """,
    "thin_flipped_signs": """
        import numpy as np
        def pinv(A, rtol=None):
            if rtol is None:
                rtol = max(A.shape) * np.finfo(float).eps
            U, s, Vt = np.linalg.svd(A, full_matrices=False)
            U[:, ::2] *= -1           # flip pairs of singular vectors: still an SVD
            Vt[::2] *= -1
            keep = s > rtol * (s[0] if s.size else 0.0)
            with np.errstate(divide="ignore"):
                s_plus = np.where(keep, 1.0 / s, 0.0)
            return (Vt.T * s_plus) @ U.T
        """,
    "svd_of_the_transpose": """
        import numpy as np
        def pinv(A, rtol=None):
            m, n = A.shape
            cut = max(m, n) * np.finfo(float).eps if rtol is None else rtol
            U, s, Vt = np.linalg.svd(A.T, full_matrices=False)   # A^T = U S V^T
            inv = np.array([1 / x if x > cut * s.max() else 0.0 for x in s])
            return (U * inv) @ Vt    # (A^+)^T = U S^+ V^T, so A^+ = ((A^T)^+)^T
        """,
}
PINV_RIGHT_SOURCES = {"reference": reference_source("linalg"), **PINV_RIGHT}


@pytest.mark.parametrize("name", list(PINV_RIGHT_SOURCES), ids=list(PINV_RIGHT_SOURCES))
def test_pinv_correct_implementations_get_full_marks(grade_one, name):
    source = PINV_RIGHT_SOURCES[name]
    result = grade_one("linalg.pinv", {"linalg.py": source})
    assert result.status == "passed", result.message
    assert result.score == result.max_score == 4
    assert result.diagnosis is None and all(c.diagnosis is None for c in result.checks)


def _pinv_source(body):
    return ("import numpy as np\n"
            "def pinv(A, rtol=None):\n"
            "    m, n = A.shape\n"
            "    rtol = max(m, n) * np.finfo(float).eps if rtol is None else rtol\n"
            "    U, s, Vt = np.linalg.svd(A, full_matrices=False)\n"
            + "".join(f"    {line}\n" for line in body))


ANY = "any diagnosis"
PINV_WRONG = {  # name: (source, {check: None if it passes, else (message start, mistake name,
    #                                None for no diagnosis, or ANY)})
    "transposed": (_pinv_source([
        "s_plus = np.array([1 / x if x > rtol * s.max() else 0.0 for x in s])",
        "return U @ np.diag(s_plus) @ Vt"]), {
        "tall": ("pinv for a tall 8x5 matrix: shape (8, 5), expected (5, 8)", "pinv_transposed"),
        "square": ("pinv for a square 4x4 matrix: relative Frobenius error ||P - A^+||_F / "
                   "||A^+||_F = ", "pinv_transposed")}),
    "no_cutoff": (_pinv_source(["return Vt.T @ np.diag(1 / s) @ U.T"]), {
        "square": None,
        "rank_deficient": ("pinv for a 6x5 matrix of rank 2: relative Frobenius error ",
                           "pinv_no_cutoff"),
        "zero_matrix": ("pinv for the all-zero 3x5 matrix: 15 elements with NaN where the "
                        "expected value is finite", "pinv_cutoff_not_strict")}),
    "absolute_rtol": (_pinv_source([
        "s_plus = np.array([1 / x if x > rtol else 0.0 for x in s])",
        "return (Vt.T * s_plus) @ U.T"]), {
        "tiny_scale": None,
        "explicit_rtol": ("pinv for a 7x5 matrix with singular values spread over 1e-4..1 of "
                          "the largest, rtol=0.01: relative Frobenius error ",
                          "pinv_absolute_rtol"),
        "large_scale": ("pinv for a 4x7 matrix of rank 3 with entries about 1e12: relative "
                        "Frobenius error ", "pinv_no_cutoff")}),
    "absolute_threshold": (_pinv_source([
        "s_plus = np.array([1 / x if x > 1e-10 else 0.0 for x in s])",
        "return (Vt.T * s_plus) @ U.T"]), {
        "square": None,
        "tiny_scale": ("pinv for a full-rank 6x4 matrix with entries about 1e-12: relative "
                       "Frobenius error ||P - A^+||_F / ||A^+||_F = 1 (allowed 1e-08)",
                       "pinv_absolute_threshold")}),
    "cutoff_not_strict": (_pinv_source([
        "with np.errstate(divide='ignore', invalid='ignore'):",
        "    s_plus = np.where(s >= rtol * s.max(), 1 / s, 0.0)",
        "return (Vt.T * s_plus) @ U.T"]), {
        "rank_deficient": None,
        "zero_matrix": ("pinv for the all-zero 3x5 matrix: 15 elements with NaN where the "
                        "expected value is finite; first at [0, 0]: got nan, expected 0",
                        "pinv_cutoff_not_strict")}),
    "ignores_rtol": (_pinv_source([
        "rtol = max(m, n) * np.finfo(float).eps",
        "s_plus = np.array([1 / x if x > rtol * s.max() else 0.0 for x in s])",
        "return (Vt.T * s_plus) @ U.T"]), {
        "rank_deficient": None,
        "explicit_rtol": ("pinv for a 7x5 matrix with singular values spread over 1e-4..1 of "
                          "the largest, rtol=0.01: relative Frobenius error ",
                          "pinv_ignores_rtol")}),
    "epsilon_instead_of_cutoff": (_pinv_source([
        "return (Vt.T / (s + 1e-12)) @ U.T"]), {
        "square": None,
        "rank_deficient": ("pinv for a 6x5 matrix of rank 2: relative Frobenius error ",
                           "pinv_no_cutoff"),
        "zero_matrix": ("pinv for the all-zero 3x5 matrix: expected the zero matrix of shape "
                        "(5, 3) (no singular value is above the cutoff); got entries up to ",
                        None)}),
    "normal_equations": ("""
        import numpy as np
        def pinv(A, rtol=None):
            return np.linalg.inv(A.T @ A) @ A.T
        """, {
        "tall": None,
        # A^T A is singular for wide and rank-deficient A: inv raises, or returns garbage
        # (a third of the seeds so large that it reads as "1 / s_i blew up": any diagnosis).
        "wide": ("pinv", ANY),
        "rank_deficient": ("pinv", ANY),
        "zero_matrix": ("pinv raised LinAlgError: Singular matrix", None)}),
}


@pytest.mark.parametrize("name", list(PINV_WRONG), ids=list(PINV_WRONG))
def test_pinv_wrong_implementations_lose_points_with_their_diagnosis(grade_one, name):
    source, expected = PINV_WRONG[name]
    result = grade_one("linalg.pinv", {"linalg.py": source})
    assert result.status in ("partial", "failed") and result.score < result.max_score
    for check_name, want in expected.items():
        got = check(result, check_name)
        if want is None:
            assert got.status == "passed", (check_name, got.message)
            continue
        message, mistake = want
        assert got.status == "failed" and got.score == 0
        assert got.message.startswith(message), got.message
        if mistake is not ANY:
            assert got.diagnosis == (EXPLAIN[mistake] if mistake else None)


def test_pinv_failure_names_the_violated_penrose_conditions(grade_one):
    result = grade_one("linalg.pinv", {"linalg.py": PINV_WRONG["absolute_threshold"][0]})
    assert check(result, "tiny_scale").message.endswith(
        "your P violates the Penrose condition(s) A P A = A (relative residual 1)")


@pytest.mark.parametrize("call,name", [("np.linalg.pinv(A, rtol=rtol)", "numpy.linalg.pinv"),
                                       ("scipy.linalg.pinv(A)", "scipy.linalg.pinv")],
                         ids=["numpy", "scipy"])
def test_pinv_with_a_library_pseudo_inverse_scores_zero(grade_one, call, name):
    module = "scipy.linalg" if name.startswith("scipy") else "numpy"
    pytest.importorskip(module)
    source = f"import numpy as np\nimport {module}\ndef pinv(A, rtol=None):\n    return {call}\n"
    result = grade_one("linalg.pinv", {"linalg.py": source})
    assert result.status == "failed" and result.score == 0
    for c in result.checks:
        assert c.status == "failed" and c.score == 0
        assert c.message.startswith(f"uses {name}, which this exercise does not allow")


# ============================================================================ linalg.pca

PCA_RIGHT = {
    "eigh_of_np_cov": """
        import numpy as np
        def pca(X, k):
            w, V = np.linalg.eigh(np.cov(X, rowvar=False))
            return V[:, ::-1][:, :k], w[::-1][:k]
        """,
    "full_svd_flipped_signs": """
        import numpy as np
        def pca(X, k):
            Xc = X - X.mean(axis=0)
            U, s, Vt = np.linalg.svd(Xc)
            C = -Vt[:k].T
            C[:, 1::2] *= -1
            return C, s[:k] ** 2 / (X.shape[0] - 1)
        """,
    "eigh_argsort": """
        import numpy as np
        def pca(X, k):
            Xc = X - X.mean(axis=0, keepdims=True)
            w, V = np.linalg.eigh(Xc.T @ Xc / (len(X) - 1))
            order = np.argsort(w)[::-1][:k]
            return V[:, order], w[order]
        """,
}
PCA_RIGHT_SOURCES = {"reference": reference_source("linalg"), **PCA_RIGHT}


@pytest.mark.parametrize("name", list(PCA_RIGHT_SOURCES), ids=list(PCA_RIGHT_SOURCES))
def test_pca_correct_implementations_get_full_marks(grade_one, name):
    result = grade_one("linalg.pca", {"linalg.py": PCA_RIGHT_SOURCES[name]})
    assert result.status == "passed", result.message
    assert result.score == result.max_score == 4
    assert result.diagnosis is None and all(c.diagnosis is None for c in result.checks)


def _failures_in_process(exercise_id, source, seeds):
    """Judge a (trusted) implementation run here on every check and seed: faster than the
    worker, so that many seeds can be tried. Returns the failing (seed, check, message)."""
    namespace = {}
    exec(textwrap.dedent(source), namespace)
    function = namespace[EXERCISES[exercise_id].functions[0]]
    failures = []
    for seed in seeds:
        for check_, case in cases(exercise_id, seeds=(seed,)):
            call = case.calls[0]
            value = function(*[np.copy(a) for a in call.args], **call.kwargs)
            value = wire.decode(*wire.encode(value))  # the same round trip as a worker's
            verdict = check_.judge(Trial(case, [CallResult(value=value)],
                                         run_reference(REF, case)))
            if not verdict.passed:
                failures.append((seed, check_.name, verdict.message))
    return failures


@pytest.mark.parametrize("exercise_id,name,source", [
    *[("linalg.pinv", n, s) for n, s in PINV_RIGHT.items()],
    *[("linalg.pca", n, s) for n, s in PCA_RIGHT.items()]],
    ids=[*PINV_RIGHT, *PCA_RIGHT])
def test_correct_implementations_pass_every_check_for_many_seeds(exercise_id, name, source):
    """Measured once with 500 seeds, these and SVDs/eighs from scipy and torch (38,000
    verdicts): 0 failures; the largest error was 1e-13 against tolerances of 1e-8 and 1e-6."""
    assert _failures_in_process(exercise_id, source, seeds=range(1, 11)) == []


def test_pca_tied_variances_are_compared_as_a_subspace():
    """eigh and the SVD pick different bases of the tied eigenspace (so a per-column comparison
    would fail the eigh implementation above): the comparison must be the subspace one."""
    (_, case), = [(c, k) for c, k in cases("linalg.pca") if c.name == "repeated_variance"]
    x, k = case.calls[0].args
    components, variances = REF.pca(x, k)
    w, v = np.linalg.eigh(np.cov(x, rowvar=False))
    cos = np.abs(np.sum(components * v[:, ::-1][:, :k], axis=0))
    assert cos[1:4].min() < 0.99
    assert bank.compare_directions(v[:, ::-1][:, :k], components, variances) is None


PCA_WRONG = {  # name: (source, check, message start, diagnosis: mistake name or None)
    "not_centered": ("""
        import numpy as np
        def pca(X, k):
            U, s, Vt = np.linalg.svd(X, full_matrices=False)
            return Vt[:k].T, s[:k] ** 2 / (len(X) - 1)
        """, "mean_offset", "pca for 50 samples of 4 features with means about 10, k=2: "
                            "explained_variance: 2 of 2 elements differ", "pca_not_centered"),
    "standardized": ("""
        import numpy as np
        def pca(X, k):
            Z = (X - X.mean(axis=0)) / X.std(axis=0)
            w, V = np.linalg.eigh(np.cov(Z, rowvar=False))
            return V[:, ::-1][:, :k], w[::-1][:k]
        """, "anisotropic", "pca for 80 samples of 5 features with standard deviations from "
                            "about 6 to 0.4, k=3: explained_variance: ", "pca_standardized"),
    "ddof_0": ("""
        import numpy as np
        def pca(X, k):
            Xc = X - X.mean(axis=0)
            w, V = np.linalg.eigh(Xc.T @ Xc / len(X))
            return V[:, ::-1][:, :k], w[::-1][:k]
        """, "small", "pca for 40 samples of 4 features, k=2: explained_variance: 2 of 2 "
                      "elements differ", "pca_ddof0"),
    "rows": ("""
        import numpy as np
        def pca(X, k):
            U, s, Vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
            return Vt[:k], s[:k] ** 2 / (len(X) - 1)
        """, "small", "pca for 40 samples of 4 features, k=2: components: shape (2, 4), "
                      "expected (4, 2)", "pca_rows"),
    "ascending": ("""
        import numpy as np
        def pca(X, k):
            w, V = np.linalg.eigh(np.cov(X.T))
            return V[:, -k:], w[-k:]
        """, "small", "pca for 40 samples of 4 features, k=2: explained_variance: ",
        "pca_ascending"),
    "smallest": ("""
        import numpy as np
        def pca(X, k):
            w, V = np.linalg.eigh(np.cov(X.T))
            return V[:, :k], w[:k]
        """, "more_samples", "pca for 200 samples of 6 features, k=3: explained_variance: ",
        "pca_smallest"),
    "singular_values": ("""
        import numpy as np
        def pca(X, k):
            U, s, Vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
            return Vt[:k].T, s[:k]
        """, "small", "pca for 40 samples of 4 features, k=2: explained_variance: ",
        "pca_singular_values"),
    "standard_deviations": ("""
        import numpy as np
        def pca(X, k):
            U, s, Vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
            return Vt[:k].T, s[:k] / np.sqrt(len(X) - 1)
        """, "repeated_variance", "pca for 60 samples of 5 features, three of them with equal "
                                  "variances, k=4: explained_variance: ", "pca_std"),
    "scaled_components": ("""
        import numpy as np
        def pca(X, k):
            U, s, Vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
            return Vt[:k].T * s[:k], s[:k] ** 2 / (len(X) - 1)
        """, "small", "pca for 40 samples of 4 features, k=2: the columns of components must "
                      "be orthonormal (C^T C = I); components[:, 0] has norm ", None),
    "mixes_the_kth_direction": ("""
        import numpy as np
        def pca(X, k):
            w, V = np.linalg.eigh(np.cov(X, rowvar=False))
            w, V = w[::-1], V[:, ::-1].copy()
            if k < len(w):      # turn column k-1 by 30 degrees towards column k
                c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
                V[:, k - 1], V[:, k] = c * V[:, k - 1] - s * V[:, k], s * V[:, k - 1] + c * V[:, k]
            return V[:, :k], w[:k]
        """, "repeated_variance", "pca for 60 samples of 5 features, three of them with equal "
                                  "variances, k=4: components[:, 1:4] belong to equal variances "
                                  "(", None),
}


@pytest.mark.parametrize("name", list(PCA_WRONG), ids=list(PCA_WRONG))
def test_pca_wrong_implementations_lose_points_with_their_diagnosis(grade_one, name):
    source, failing, message, mistake = PCA_WRONG[name]
    result = grade_one("linalg.pca", {"linalg.py": source})
    assert result.status in ("partial", "failed") and result.score < result.max_score
    got = check(result, failing)
    assert got.status == "failed" and got.score == 0
    assert got.message.startswith(message), got.message
    assert got.diagnosis == (EXPLAIN[mistake] if mistake else None)


def test_pca_turning_a_direction_fails_by_its_angle(grade_one):
    result = grade_one("linalg.pca", {"linalg.py": PCA_WRONG["mixes_the_kth_direction"][0]})
    assert check(result, "k_equals_d").status == "passed"  # nothing to turn when k = d
    assert check(result, "small").message.endswith(
        "components[:, 1] is not along the expected direction (either sign is fine): |cos| of "
        "the angle between them is 0.866025 (30 degrees; need |cos| >= 1 - 1e-06)")
    assert check(result, "repeated_variance").message.endswith(
        "do not span it: the largest principal angle to it is 30 degrees")


@pytest.mark.slow
def test_pca_full_svd_of_many_samples_is_timed_as_slow(grade_files):
    full = PCA_WRONG["rows"][0].replace("full_matrices=False", "full_matrices=True").replace(
        "return Vt[:k], ", "return Vt[:k].T, ")
    slow = grade_files({"linalg.py": full}, ids=("linalg.pca",), time_it=True).exercises[0]
    fast = grade_files({"linalg.py": PCA_RIGHT["eigh_of_np_cov"]}, ids=("linalg.pca",),
                       time_it=True).exercises[0]
    assert slow.score == fast.score == 4
    assert slow.timing.slow and slow.timing.ratio > 50
    assert not fast.timing.slow and fast.timing.ratio < 2
