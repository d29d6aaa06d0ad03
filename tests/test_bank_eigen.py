"""eigen.power_iteration, eigen.spectral_decomposition, eigen.rotation_matrix, eigen.matrix_power
and eigen.hyperellipse_axes: the references against independent implementations (numpy, scipy,
torch), the structure and margins of the case builders, and realistic right and wrong
submissions graded through the worker (each wrong one loses the points of the checks it fails,
with a message saying what differs, and each declared mistake gets its diagnosis)."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
import scipy.linalg
import torch
from scipy.spatial.transform import Rotation

from conftest import cases, check, reference_source
from grader import report
from grader.bank import eigen as bank
from grader.bank import eigen_maps as bank_maps
from grader.catalog import reference_module
from grader.grading import run_reference
from grader.judges import CallResult, Trial
from grader.sandbox import wire

REF = reference_module("eigen")
EXERCISES = {e.id: e for e in (*bank.EXERCISES, *bank_maps.EXERCISES)}
MISTAKES = (*bank.POWER_MISTAKES, *bank.SPECTRAL_MISTAKES, bank.SPECTRAL_NO_CHECK,
            *bank_maps.ROTATION_MISTAKES, *bank_maps.MP_MISTAKES, *bank_maps.ELLIPSE_MISTAKES,
            bank_maps.ELLIPSE_UNBOUNDED)
EXPLAIN = {m.name: m.explain for m in MISTAKES}
ANY = "any diagnosis"


def assert_graded(result, failing):
    """``failing``: every check that fails -> (message start, mistake name, None for no
    diagnosis, or ANY). The others pass; the score is the points of the passing checks."""
    failed = {c.name for c in result.checks if c.status != "passed"}
    assert failed == set(failing), [(c.name, c.message) for c in result.checks
                                    if c.status != "passed"]
    lost = sum(c.points for c in result.checks if c.name in failing)
    assert result.score == result.max_score - lost
    assert result.status == ("passed" if not lost else "partial" if result.score else "failed")
    for name, (message, mistake) in failing.items():
        got = check(result, name)
        assert got.status == "failed" and got.score == 0
        assert got.message.startswith(message), (name, got.message)
        if mistake is not ANY:
            assert got.diagnosis == (EXPLAIN[mistake] if mistake else None), (name, got.diagnosis)


def assert_full_marks(result):
    assert result.status == "passed", [(c.name, c.message) for c in result.checks]
    assert result.score == result.max_score
    assert result.diagnosis is None and all(c.diagnosis is None for c in result.checks)


def judge_in_process(exercise_id, source, seeds):
    """Judge a (trusted) implementation run here on every check and seed: faster than the
    worker, so that many seeds can be tried. Returns the failing (seed, check, message)."""
    namespace = {}
    exec(textwrap.dedent(source), namespace)
    failures = []
    for seed in seeds:
        for check_, case in cases(exercise_id, (seed,)):
            actual = [_run_here(namespace, call) for call in case.calls]
            verdict = check_.judge(Trial(case, actual, run_reference(REF, case)))
            if not verdict.passed:
                failures.append((seed, check_.name, verdict.message))
    return failures


def _run_here(namespace, call):
    args = [np.copy(a) if isinstance(a, np.ndarray) else a for a in call.args]
    try:
        with np.errstate(all="ignore"):
            value = namespace[call.func](*args, **call.kwargs)
    except Exception as exc:  # noqa: BLE001 - recorded as the worker records it
        return CallResult(raised={"type": type(exc).__name__, "message": str(exc),
                                  "mro": [c.__name__ for c in type(exc).__mro__]})
    return CallResult(value=wire.decode(*wire.encode(value)))


# ============================================================================ references

def _random_symmetric(rng, n):
    b = rng.standard_normal((n, n))
    return (b + b.T) / 2


def test_power_iteration_reference_finds_the_dominant_eigenpair():
    """On every converging bank case and on random matrices, against scipy's eigh and torch."""
    matrices = [c.calls[0].args[0] for k, c in cases("eigen.power_iteration", range(20))
                if k.name != "iteration_cap"]
    rng = np.random.default_rng(0)
    for n in (2, 5, 10, 40):
        for _ in range(10):
            a = _random_symmetric(rng, n)
            w = np.sort(np.abs(np.linalg.eigvalsh(a)))
            if w[-2] <= 0.97 * w[-1]:  # 1000 steps converge to 1e-13 (0.97^1000)
                matrices.append(a)
    assert len(matrices) > 130  # 100 bank cases and most random ones
    for a in matrices:
        w, v = scipy.linalg.eigh(a)
        i = int(np.argmax(np.abs(w)))
        lam, vec = REF.power_iteration(a)
        assert math.isclose(lam, w[i], rel_tol=1e-9)
        assert abs(vec @ v[:, i]) >= 1 - 1e-9 and abs(np.linalg.norm(vec) - 1) < 1e-12
        wt, vt = torch.linalg.eigh(torch.from_numpy(a))
        assert abs(vec @ vt[:, int(torch.argmax(wt.abs()))].numpy()) >= 1 - 1e-9
        assert np.linalg.norm(a @ vec - lam * vec) <= 1e-7 * abs(lam)


def test_power_iteration_reference_after_num_iters_is_the_normalized_matrix_power():
    """The capped run returns A^k x0 / ||A^k x0|| and its Rayleigh quotient."""
    for _, case in cases("eigen.power_iteration", range(20), names={"iteration_cap"}):
        call = case.calls[0]
        a, k, seed = call.args[0], call.kwargs["num_iters"], call.kwargs["seed"]
        x = np.linalg.matrix_power(a, k) @ np.random.default_rng(seed).standard_normal(len(a))
        x /= np.linalg.norm(x)
        lam, v = REF.power_iteration(a, **call.kwargs)
        assert abs(v @ x) >= 1 - 1e-13
        assert math.isclose(lam, x @ a @ x, rel_tol=1e-12)
        w, vectors = scipy.linalg.eigh(a)
        assert abs(v @ vectors[:, np.argmax(np.abs(w))]) < 0.99  # far from converged


def _spectral_inputs():
    rng = np.random.default_rng(1)
    inputs = [c.calls[0].args[0] for k, c in cases("eigen.spectral_decomposition", range(10))
              if k.name != "non_symmetric"]
    inputs += [_random_symmetric(rng, n) for n in (1, 2, 7, 30)]
    inputs += [np.eye(4), np.zeros((3, 3)), np.diag([1.0, 5.0, -2.0, 3.0])]
    return inputs


def test_spectral_decomposition_reference_matches_scipy_and_torch():
    for s in _spectral_inputs():
        lam, q = REF.spectral_decomposition(s)
        n = len(s)
        assert lam.shape == (n,) and q.shape == (n, n) and lam.dtype == q.dtype == np.float64
        scale = max(1.0, float(np.abs(lam).max()))
        np.testing.assert_allclose(lam, scipy.linalg.eigvalsh(s)[::-1], rtol=0,
                                   atol=1e-12 * scale)
        np.testing.assert_allclose(lam, torch.linalg.eigvalsh(torch.from_numpy(s)).numpy()[::-1],
                                   rtol=0, atol=1e-12 * scale)
        assert np.all(np.diff(lam) <= 0)
        np.testing.assert_allclose(q.T @ q, np.eye(n), atol=1e-13)
        np.testing.assert_allclose(s @ q, q * lam, atol=1e-12 * scale)
        np.testing.assert_allclose((q * lam) @ q.T, s, atol=1e-12 * scale)


def test_spectral_decomposition_reference_refuses_non_symmetric_and_non_square_input():
    for s in (np.array([[1.0, 2.0], [0.0, 1.0]]), np.ones((2, 3))):
        with pytest.raises(ValueError):
            REF.spectral_decomposition(s)
    for _, case in cases("eigen.spectral_decomposition", range(10), names={"non_symmetric"}):
        s = case.calls[0].args[0]
        assert np.abs(s - s.T).max() > 0.01
        with pytest.raises(ValueError):
            REF.spectral_decomposition(s)


def test_rotations_match_scipy_and_known_values():
    rng = np.random.default_rng(2)
    for _ in range(200):
        axis, theta = rng.standard_normal(3) * rng.uniform(0.1, 10), rng.uniform(-7, 7)
        want = Rotation.from_rotvec(axis / np.linalg.norm(axis) * theta).as_matrix()
        np.testing.assert_allclose(REF.rotation_3d(axis, theta), want, rtol=0, atol=1e-14)
        np.testing.assert_allclose(REF.rotation_2d(theta),
                                   Rotation.from_rotvec([0, 0, theta]).as_matrix()[:2, :2],
                                   rtol=0, atol=1e-15)
    np.testing.assert_allclose(REF.rotation_2d(math.pi / 2), [[0, -1], [1, 0]], atol=1e-15)
    np.testing.assert_allclose(REF.rotation_3d(np.array([0.0, 0.0, 2.5]), math.pi / 2) @
                               [1, 0, 0], [0, 1, 0], atol=1e-15)
    # A third of a turn about (1, 1, 1) permutes the axes cyclically: x -> y -> z -> x.
    np.testing.assert_allclose(REF.rotation_3d(np.ones(3), 2 * math.pi / 3),
                               [[0, 0, 1], [1, 0, 0], [0, 1, 0]], atol=1e-15)


def test_matrix_power_reference_matches_numpy_matrix_power():
    inputs = [c.calls[0].args for _, c in cases("eigen.matrix_power", range(20))]
    rng = np.random.default_rng(3)
    inputs += [(rng.standard_normal((n, n)) / math.sqrt(n), k) for n in (1, 3, 8)
               for k in (0, 1, 2, 13)]
    inputs += [(np.array([[2.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 2.0]]), 6),
               (np.zeros((3, 3)), 3), (np.zeros((2, 2)), 0)]
    for a, k in inputs:
        got, want = REF.matrix_power(a, k), np.linalg.matrix_power(a, k)
        assert got.dtype == np.float64 and got.shape == a.shape
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * max(1.0, np.abs(want).max()))


def test_hyperellipse_reference_axes_lie_on_the_ellipsoid_and_are_extreme():
    inputs = [c.calls[0].args[0] for k, c in cases("eigen.hyperellipse_axes", range(10))
              if k.name not in ("indefinite", "singular")]
    rng = np.random.default_rng(4)
    inputs += [(lambda b: b @ b.T + 0.1 * np.eye(5))(rng.standard_normal((5, 5)))
               for _ in range(10)]
    for a in inputs:
        lengths, d = REF.hyperellipse_axes(a)
        np.testing.assert_allclose(lengths, 1 / np.sqrt(scipy.linalg.eigvalsh(a)), rtol=1e-12)
        assert np.all(np.diff(lengths) <= 0)
        np.testing.assert_allclose(d.T @ d, np.eye(len(a)), atol=1e-13)
        points = d * lengths  # the axis end points x_j = lengths_j d_j
        np.testing.assert_allclose(np.sum(points * (a @ points), axis=0), 1.0, rtol=1e-12)
        # Along the longest axis the ellipsoid reaches farthest: ||x|| for x^T A x = 1 is
        # at most lengths[0] (1 / sqrt of the smallest eigenvalue).
        x = rng.standard_normal((len(a), 200))
        x /= np.sqrt(np.sum(x * (a @ x), axis=0))
        assert np.linalg.norm(x, axis=0).max() <= lengths[0] * (1 + 1e-12)
    for a in (np.diag([1.0, -1.0]), np.diag([1.0, 0.0]), np.array([[1.0, 2.0], [0.0, 1.0]])):
        with pytest.raises(ValueError):
            REF.hyperellipse_axes(a)


# ============================================================================ case builders

def test_mistake_names_are_unique_in_the_module():
    """The release freezes every Mistake of a bank module by name."""
    names = [m.name for m in MISTAKES]
    assert len(names) == len(set(names))


POWER_SPECTRA = {  # check: (|lambda_2 / lambda_1|, sign of lambda_1)
    "small": (0.5, 1), "negative_dominant": (0.7, -1), "close_eigenvalues": (0.98, 1),
    "orthogonal_start": (0.95, 1), "iteration_cap": (0.99, 1)}


def test_power_iteration_cases_have_the_stated_spectra_and_starts():
    for check_, case in cases("eigen.power_iteration", range(50)):
        call = case.calls[0]
        a = call.args[0]
        w, v = np.linalg.eigh(a)
        order = np.argsort(-np.abs(w))
        ratio = abs(w[order[1]] / w[order[0]])
        if check_.name == "larger":
            assert ratio <= 0.6
        else:
            want, sign = POWER_SPECTRA[check_.name]
            assert math.isclose(ratio, want, rel_tol=1e-9) and np.sign(w[order[0]]) == sign
        if "seed" in call.kwargs:  # the start vector has a fair share of v_1
            x = np.random.default_rng(call.kwargs["seed"]).standard_normal(len(a))
            assert abs(x @ v[:, order[0]]) >= 0.2 * np.linalg.norm(x)
        if check_.name == "orthogonal_start":
            v1, v2 = v[:, order[0]], v[:, order[1]]
            assert abs(np.sum(v1)) < 1e-12 and abs(v1[0]) < 1e-12
            assert abs(abs(v2 @ np.ones(len(a))) - math.sqrt(len(a))) < 1e-12


def test_power_iteration_fixed_start_settles_on_the_second_eigenvector():
    """Measured: from all ones or from e_1, the docstring's loop stops (on tol) at lambda_2 for
    every one of 200 seeds, a long way before rounding brings v_1 back."""
    for _, case in cases("eigen.power_iteration", range(200), names={"orthogonal_start"}):
        a = case.calls[0].args[0]
        w = np.linalg.eigvalsh(a)
        for start in (np.ones(len(a)), np.eye(len(a))[0]):
            lam, _ = bank._power_run(a, start, 1000, 1e-10)
            assert math.isclose(lam, np.sort(w)[-2], rel_tol=1e-9)


SPECTRAL_TIES = {"small": [1] * 4, "larger": [1] * 8, "indefinite": [1] * 5,
                 "repeated": [1, 3, 2], "rank_deficient": [1, 1, 3]}


def test_spectral_cases_tie_where_stated_and_eig_is_not_orthogonal_there():
    """Measured over 200 seeds: np.linalg.eig's eigenvectors of the repeated eigenvalues are
    off orthogonality by more than 1e-3 on every case, and orthonormal where they are distinct."""
    for check_, case in cases("eigen.spectral_decomposition", range(200)):
        s = case.calls[0].args[0]
        if check_.name == "non_symmetric":
            continue
        w = np.linalg.eigvalsh(s)[::-1]
        groups = [len(g) for g in _ties(w)]
        assert groups == SPECTRAL_TIES[check_.name], (check_.name, w)
        lam, v = bank._spectral_eig(case)
        off = np.abs(v.T @ v - np.eye(len(s))).max()
        assert off > 1e-3 if check_.name in ("repeated", "rank_deficient") else off < 1e-12


def _ties(values, tie=1e-6):
    groups = []
    for j, value in enumerate(values):
        if groups and abs(values[j - 1] - value) <= tie * np.abs(values).max():
            groups[-1].append(j)
        else:
            groups.append([j])
    return groups


def test_matrix_power_cases_are_well_conditioned_with_the_stated_eigenvalues():
    for check_, case in cases("eigen.matrix_power", range(50)):
        a, k = case.calls[0].args
        w, v = np.linalg.eig(a)
        if check_.name == "defective":
            assert np.linalg.cond(v) > 1e15 and k == 10
            continue
        assert np.linalg.cond(v) < 50
        assert np.iscomplexobj(w) == (check_.name == "complex_eigenvalues")
        if check_.name == "negative_eigenvalues":
            assert (w.real < 0).sum() == 2 and k % 2 == 1
        if check_.name != "symmetric":
            assert np.abs(a - a.T).max() > 0.05


def test_hyperellipse_cases_have_the_stated_spectra():
    for check_, case in cases("eigen.hyperellipse_axes", range(50)):
        a = case.calls[0].args[0]
        w = np.linalg.eigvalsh(a)
        if check_.name == "indefinite":
            assert w[0] < -0.4
        elif check_.name == "singular":
            assert abs(w[0]) <= 1e-15 * w[-1]  # zero up to rounding, either sign
        else:
            assert w[0] > 0.2 and np.array_equal(a, a.T)
            ties = {"spheroid": [1, 2], "sphere": [4]}.get(check_.name, [1] * len(w))
            assert [len(g) for g in _ties(w[::-1])] == ties


# ============================================================================ power_iteration

def _power_source(start="np.random.default_rng(seed).standard_normal(n)", steps="num_iters",
                  stop="min(np.linalg.norm(w - v), np.linalg.norm(w + v)) < tol",
                  lam="float(v @ A @ v)", in_loop=""):
    return f"""
import numpy as np
def power_iteration(A, num_iters=1000, tol=1e-10, seed=0):
    n = A.shape[0]
    v = {start}
    v = v / np.linalg.norm(v)
    lam = v @ A @ v
    for _ in range({steps}):
        w = A @ v
        {in_loop or "pass"}
        w = w / np.linalg.norm(w)
        done = {stop}
        v = w
        if done:
            break
    return {lam}, v
"""


POWER_RIGHT = {
    "sign_naive_stop": _power_source(stop="np.linalg.norm(w - v) < tol"),
    "residual_stop": """
        import numpy as np
        def power_iteration(A, num_iters=1000, tol=1e-10, seed=0):
            rng = np.random.default_rng(seed)
            v = rng.standard_normal(A.shape[0])
            v /= np.linalg.norm(v)
            for _ in range(num_iters):
                Av = A @ v
                if np.linalg.norm(Av - (v @ Av) * v) < tol * abs(v @ Av):
                    break
                v = Av / np.linalg.norm(Av)
            return v @ A @ v, v
        """,
    "max_norm_scaling": """
        import numpy as np
        def power_iteration(A, num_iters=1000, tol=1e-10, seed=0):
            x = np.random.default_rng(seed).standard_normal(len(A))
            for _ in range(num_iters):
                y = A @ x
                y = y / np.abs(y).max()          # textbook scaling by the largest entry
                a, b = x / np.linalg.norm(x), y / np.linalg.norm(y)
                x = y
                if min(np.linalg.norm(a - b), np.linalg.norm(a + b)) < tol:
                    break
            v = x / np.linalg.norm(x)
            return float(v @ A @ v), v
        """,
}
POWER_RIGHT_SOURCES = {"reference": reference_source("eigen"), **POWER_RIGHT}


@pytest.mark.parametrize("name", list(POWER_RIGHT_SOURCES), ids=list(POWER_RIGHT_SOURCES))
def test_power_iteration_correct_implementations_get_full_marks(grade_one, name):
    result = grade_one("eigen.power_iteration", {"eigen.py": POWER_RIGHT_SOURCES[name]})
    assert_full_marks(result)
    assert result.max_score == 4


_CAP = ("power_iteration for a symmetric 6x6 matrix with lambda_2 / lambda_1 = -0.99, "
        "num_iters=30, seed=")
_ORTHO = ("power_iteration for a symmetric 6x6 matrix whose dominant eigenvector is orthogonal "
          "to the all-ones vector and to e_1 (lambda_2 / lambda_1 = 0.95): ")
POWER_WRONG = {
    "norm_as_eigenvalue": (_power_source(lam="float(np.linalg.norm(A @ v))"), {
        "negative_dominant": ("power_iteration for a symmetric 6x6 matrix whose dominant "
                              "eigenvalue is -5: lam = 5, expected the dominant eigenvalue "
                              "(largest |lambda|) -5", "power_norm_as_eigenvalue"),
        "iteration_cap": (_CAP, None)}),
    "ones_start": (_power_source(start="np.ones(n)"), {
        "orthogonal_start": (_ORTHO + "lam = 2.", "power_fixed_start"),
        "iteration_cap": (_CAP, "power_fixed_start")}),
    "e1_start": (_power_source(start="np.eye(n)[0]"), {
        "orthogonal_start": (_ORTHO + "lam = 2.", "power_fixed_start"),
        "iteration_cap": (_CAP, None)}),
    "stale_eigenvalue": (_power_source(in_loop="lam = v @ w", lam="float(lam)"), {
        "iteration_cap": (_CAP, "power_stale_eigenvalue")}),
    "extra_iteration": (_power_source(steps="num_iters + 1"), {
        "iteration_cap": (_CAP, "power_extra_iteration")}),
    "legacy_rng": (_power_source(start="np.random.RandomState(seed).standard_normal(n)"), {
        "iteration_cap": (_CAP, "power_legacy_rng")}),
    "stops_on_eigenvalue": (_power_source(stop="abs(w @ A @ w - lam) < tol",
                                          in_loop="lam = v @ A @ v"), {
        "larger": ("power_iteration for a symmetric 30x30 matrix, |lambda_2 / lambda_1| <= 0.6:"
                   " ||A v - lam v|| = ", "power_stops_on_eigenvalue"),
        "negative_dominant": ("power_iteration for a symmetric 6x6 matrix whose dominant "
                              "eigenvalue is -5: ||A v - lam v|| = ", "power_stops_on_eigenvalue"),
        "close_eigenvalues": ("power_iteration for a symmetric 6x6 matrix with lambda_2 / "
                              "lambda_1 = 0.98: v is not along the dominant eigenvector (either "
                              "sign is fine): the angle between them is ",
                              "power_stops_on_eigenvalue"),
        "orthogonal_start": (_ORTHO + "||A v - lam v|| = ", "power_stops_on_eigenvalue")}),
    "never_normalized": ("""
        import numpy as np
        def power_iteration(A, num_iters=1000, tol=1e-10, seed=0):
            v = np.random.default_rng(seed).standard_normal(len(A))
            for _ in range(num_iters):
                v = A @ v
            v = v / np.linalg.norm(v)
            return v @ A @ v, v
        """, {name: (f"power_iteration for {note}: v has NaN or Inf entries: the iterate "
                     "overflowed (or was divided by zero); normalize it after every product",
                     None)
              for name, note in (("small", "a symmetric 5x5 matrix, default arguments"),
                                 ("larger", "a symmetric 30x30 matrix, |lambda_2 / lambda_1| "
                                            "<= 0.6"),
                                 ("negative_dominant", "a symmetric 6x6 matrix whose dominant "
                                                       "eigenvalue is -5"),
                                 ("close_eigenvalues", "a symmetric 6x6 matrix with lambda_2 / "
                                                       "lambda_1 = 0.98"),
                                 ("orthogonal_start", _ORTHO[len("power_iteration for "):-2]))}),
}


@pytest.mark.parametrize("name", list(POWER_WRONG), ids=list(POWER_WRONG))
def test_power_iteration_wrong_implementations_lose_points_with_their_diagnosis(grade_one,
                                                                              name):
    source, failing = POWER_WRONG[name]
    result = grade_one("eigen.power_iteration", {"eigen.py": source})
    assert_graded(result, failing)


def test_power_iteration_with_an_eigensolver_scores_zero(grade_one):
    source = ("import numpy as np\ndef power_iteration(A, num_iters=1000, tol=1e-10, seed=0):\n"
              "    w, V = np.linalg.eigh(A)\n    i = np.argmax(abs(w))\n    return w[i], V[:, i]\n")
    result = grade_one("eigen.power_iteration", {"eigen.py": source})
    assert result.status == "failed" and result.score == 0
    for c in result.checks:
        assert c.message.startswith("uses numpy.linalg.eigh, which this exercise does not allow")


def test_power_iteration_failure_names_the_angle_to_the_dominant_eigenvector(grade_one):
    result = grade_one("eigen.power_iteration", {"eigen.py": POWER_WRONG["stops_on_eigenvalue"][0]})
    message = check(result, "close_eigenvalues").message
    degrees = float(message.split("the angle between them is ")[1].split(" degrees")[0])
    assert 1e-4 < degrees < 0.1  # lam converged to 1e-10, v only to about 1e-4 rad
    assert message.endswith("allowed 1e-08)")


def test_power_iteration_correct_implementations_pass_every_check_for_many_seeds():
    """Measured once with 300 seeds, for these and the reference (7,200 verdicts): 0 failures."""
    for name, source in POWER_RIGHT.items():
        assert judge_in_process("eigen.power_iteration", source, range(1, 16)) == [], name


# ============================================================================ spectral

_SYMMETRY = "    if not np.allclose(S, S.T):\n        raise ValueError('S is not symmetric')\n"


def _spectral_source(*body, check=_SYMMETRY):
    return ("import numpy as np\ndef spectral_decomposition(S):\n" + check
            + "".join(f"    {line}\n" for line in body))


SPECTRAL_RIGHT = {
    "eigh_argsort_flipped_signs": _spectral_source(
        "w, V = np.linalg.eigh(S)", "order = np.argsort(w)[::-1]",
        "return w[order], -V[:, order]"),
    "torch_eigh": ("import numpy as np\nimport torch\n"
                   "def spectral_decomposition(S):\n"
                   "    T = torch.from_numpy(S)\n"
                   "    if not torch.allclose(T, T.T):\n"
                   "        raise ValueError('S must be symmetric')\n"
                   "    w, V = torch.linalg.eigh(T)\n"
                   "    return w.flip(0).numpy(), V.flip(1).numpy()\n"),
    "scipy_eigh": ("import numpy as np\nimport scipy.linalg\n"
                   "def spectral_decomposition(S):\n"
                   "    if np.abs(S - S.T).max() > 1e-9 * np.abs(S).max():\n"
                   "        raise ValueError('not symmetric')\n"
                   "    w, V = scipy.linalg.eigh(S, driver='evr')\n"
                   "    return w[::-1].copy(), V[:, ::-1].copy()\n"),
    "jacobi": _spectral_source(
        "A, n = S.astype(float).copy(), len(S)",
        "Q = np.eye(n)",
        "for sweep in range(100):",
        "    off = np.sqrt(np.sum(np.tril(A, -1) ** 2))",
        "    if off <= 1e-15 * max(np.abs(A).max(), 1e-300):",
        "        break",
        "    for p in range(n - 1):",
        "        for q in range(p + 1, n):",
        "            if A[p, q] == 0:",
        "                continue",
        "            theta = (A[q, q] - A[p, p]) / (2 * A[p, q])",
        "            t = np.sign(theta) / (abs(theta) + np.sqrt(theta ** 2 + 1)) if theta else 1.0",
        "            c = 1 / np.sqrt(t * t + 1)",
        "            J = np.eye(n)",
        "            J[p, p] = J[q, q] = c",
        "            J[p, q], J[q, p] = c * t, -c * t",
        "            A = J.T @ A @ J",
        "            Q = Q @ J",
        "lam = np.diag(A)",
        "order = np.argsort(-lam, kind='stable')",
        "return lam[order], Q[:, order]"),
}
SPECTRAL_RIGHT_SOURCES = {"reference": reference_source("eigen"), **SPECTRAL_RIGHT}


@pytest.mark.parametrize("name", list(SPECTRAL_RIGHT_SOURCES), ids=list(SPECTRAL_RIGHT_SOURCES))
def test_spectral_decomposition_correct_implementations_get_full_marks(grade_one, name):
    result = grade_one("eigen.spectral_decomposition", {"eigen.py": SPECTRAL_RIGHT_SOURCES[name]})
    assert_full_marks(result)
    assert result.max_score == 4


def test_spectral_decomposition_correct_implementations_pass_every_check_for_many_seeds():
    """Measured once with 300 seeds (30 for Jacobi), for these and the reference: 0 failures
    in 7,380 verdicts."""
    for name, source in SPECTRAL_RIGHT.items():
        seeds = range(1, 6) if name == "jacobi" else range(1, 31)
        assert judge_in_process("eigen.spectral_decomposition", source, seeds) == [], name


_NOTES = {"small": "a positive definite 4x4 matrix",
          "larger": "a positive definite 8x8 matrix B B^T / 8",
          "indefinite": "an indefinite 5x5 matrix (eigenvalues of both signs)",
          "repeated": "a 6x6 matrix with repeated eigenvalues (one three times, one twice)",
          "rank_deficient": "a 5x5 matrix of rank 2 (0 three times)"}


def _spectral_failing(names, message, mistake):
    return {n: (f"spectral_decomposition for {_NOTES[n]}: {message}", mistake) for n in names}


SPECTRAL_WRONG = {
    "ascending": (_spectral_source("w, V = np.linalg.eigh(S)", "return w, V"), _spectral_failing(
        _NOTES, "lam: ", "spectral_ascending")),
    "abs_order": (_spectral_source("w, V = np.linalg.eigh(S)", "i = np.argsort(-np.abs(w))",
                                   "return w[i], V[:, i]"),
                  _spectral_failing(["indefinite"], "lam: 5 of 5 elements differ",
                                    "spectral_abs_order")),
    "svd": (_spectral_source("U, s, Vt = np.linalg.svd(S)", "return s, U"), _spectral_failing(
        ["indefinite", "repeated"], "lam: ", "spectral_svd")),
    "rows": (_spectral_source("w, V = np.linalg.eigh(S)", "return w[::-1], V[:, ::-1].T"),
             _spectral_failing(_NOTES, "Q[:, ", "spectral_rows")),
    "values_reversed_only": (_spectral_source("w, V = np.linalg.eigh(S)", "return w[::-1], V"),
                             _spectral_failing(_NOTES, "Q[:, ", "spectral_unpaired")),
    "eig": (_spectral_source("w, V = np.linalg.eig(S)", "i = np.argsort(-w)",
                             "return w[i], V[:, i]"),
            _spectral_failing(["repeated", "rank_deficient"], "the columns of Q must be "
                              "orthonormal (Q^T Q = I); Q[:, ", "spectral_eig_not_orthogonal")),
    "no_symmetry_check": (_spectral_source("w, V = np.linalg.eigh(S)",
                                           "return w[::-1], V[:, ::-1]", check=""), {
        "non_symmetric": ("spectral_decomposition for a NON-symmetric 4x4 matrix should raise "
                          "ValueError: the spectral theorem is about symmetric matrices; it "
                          "returned a tuple of 2", "spectral_no_symmetry_check")}),
    "not_normalized": (_spectral_source("w, V = np.linalg.eigh(S)", "Q = V[:, ::-1].copy()",
                                        "Q[:, 0] *= 2", "return w[::-1], Q"),
                       _spectral_failing(_NOTES, "the columns of Q must be orthonormal (Q^T Q "
                                                 "= I); Q[:, 0] has norm 2", None)),
}


@pytest.mark.parametrize("name", list(SPECTRAL_WRONG), ids=list(SPECTRAL_WRONG))
def test_spectral_decomposition_wrong_implementations_lose_points_with_their_diagnosis(
        grade_one, name):
    source, failing = SPECTRAL_WRONG[name]
    assert_graded(grade_one("eigen.spectral_decomposition", {"eigen.py": source}), failing)


def test_eig_is_diagnosed_whether_its_output_is_complex_or_not_orthogonal():
    """Measured over 300 seeds: np.linalg.eig returns complex eigenvalues (tiny imaginary
    parts) on 14 'repeated' and 80 'rank_deficient' cases, and real non-orthogonal vectors
    (max |V^T V - I| from 0.065 to 1) on the others; the diagnosis names eig on all 600."""
    source = SPECTRAL_WRONG["eig"][0]
    namespace = {}
    exec(source, namespace)
    kinds = set()
    for check_, case in cases("eigen.spectral_decomposition", range(12),
                              names={"repeated", "rank_deficient"}):
        result = _run_here(namespace, case.calls[0])
        verdict = check_.judge(Trial(case, [result], run_reference(REF, case)))
        assert not verdict.passed
        assert verdict.diagnosis == EXPLAIN["spectral_eig_not_orthogonal"]
        kinds.add("complex" if "complex128" in verdict.message else "not orthogonal")
    assert kinds == {"complex", "not orthogonal"}


def test_eig_then_qr_is_not_a_fix_for_repeated_eigenvalues():
    """Measured: on 4 of 300 seeds of the 'repeated' case, np.linalg.eig returns two parallel
    eigenvectors for the repeated eigenvalue, and orthonormalizing its columns (QR) then leaves
    the eigenspace: the check fails, by its residual."""
    source = _spectral_source(
        "w, V = np.linalg.eig(S)", "order = np.argsort(-w.real)",
        "Q, R = np.linalg.qr(V[:, order].real)", "return w.real[order], Q")
    failures = judge_in_process("eigen.spectral_decomposition", source, (50, 187, 284))
    assert [(seed, name) for seed, name, _ in failures] == [(50, "repeated"), (187, "repeated"),
                                                            (284, "repeated")]
    assert all("is not an eigenvector for lam[" in message for _, _, message in failures)


def test_spectral_comparison_accepts_any_orthonormal_basis_of_a_repeated_eigenvalue():
    """eigh and a rotated basis of the 3-dimensional eigenspace of 2 pass; a column turned out
    of its eigenspace fails, by its residual."""
    (check_, case), = cases("eigen.spectral_decomposition", names={"repeated"})
    s = case.calls[0].args[0]
    expected = run_reference(REF, case)
    lam, q = REF.spectral_decomposition(s)
    t = 0.7
    turned = q.copy()
    turned[:, 1], turned[:, 3] = (math.cos(t) * q[:, 1] - math.sin(t) * q[:, 3],
                                  math.sin(t) * q[:, 1] + math.cos(t) * q[:, 3])
    assert check_.judge(Trial(case, [CallResult(value=(lam, turned))], expected)).passed
    turned[:, 0], turned[:, 1] = turned[:, 1].copy(), turned[:, 0].copy()  # 5 and 2 swapped
    verdict = check_.judge(Trial(case, [CallResult(value=(lam, turned))], expected))
    assert not verdict.passed and "Q[:, 0] is not an eigenvector for lam[0] = " in verdict.message


# ============================================================================ rotation_matrix

def _rotation_source(two="np.array([[c, -s], [s, c]])", three_theta="theta",
                     axis="axis / np.linalg.norm(axis)", two_theta="theta"):
    return f"""
import numpy as np
def rotation_2d(theta):
    c, s = np.cos({two_theta}), np.sin({two_theta})
    return {two}
def rotation_3d(axis, theta):
    k = {axis}
    K = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + np.sin({three_theta}) * K + (1 - np.cos({three_theta})) * (K @ K)
"""


ROTATION_RIGHT = {
    "outer_product_form": """
        import numpy as np
        def rotation_2d(theta):
            return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        def rotation_3d(axis, theta):
            k = axis / np.sqrt(np.sum(axis ** 2))
            K = np.cross(np.eye(3), k)           # K v = k x v (row i is e_i x k)
            return (np.cos(theta) * np.eye(3) + np.sin(theta) * K
                    + (1 - np.cos(theta)) * np.outer(k, k))
        """,
    "matrix_exponential": """
        import numpy as np
        import scipy.linalg
        def rotation_2d(theta):
            return scipy.linalg.expm(theta * np.array([[0.0, -1.0], [1.0, 0.0]]))
        def rotation_3d(axis, theta):
            x, y, z = axis / np.linalg.norm(axis)
            return scipy.linalg.expm(theta * np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]]))
        """,
}
ROTATION_RIGHT_SOURCES = {"reference": reference_source("eigen"), **ROTATION_RIGHT}


@pytest.mark.parametrize("name", list(ROTATION_RIGHT_SOURCES), ids=list(ROTATION_RIGHT_SOURCES))
def test_rotation_correct_implementations_get_full_marks(grade_one, name):
    result = grade_one("eigen.rotation_matrix", {"eigen.py": ROTATION_RIGHT_SOURCES[name]})
    assert_full_marks(result)
    assert result.max_score == 4


def _rotation_failing(names, mistake):
    calls = {"known_2d": "rotation_2d(theta=1.5708): ", "random_2d": "rotation_2d(theta=",
             "special_angles_2d": "rotation_2d(theta=", "known_3d": "rotation_3d(axis=[0., 0., "
             "1.], theta=1.5708): ", "random_3d": "rotation_3d(axis=[",
             "special_angles_3d": "rotation_3d(axis=[",
             "non_unit_axis": "rotation_3d(axis=[0. , 0. , 2.5], theta=1.5708): "}
    return {n: (calls[n], mistake) for n in names}


_ALL_ROTATION = ["known_2d", "random_2d", "special_angles_2d", "known_3d", "random_3d",
                 "special_angles_3d", "non_unit_axis"]
ROTATION_WRONG = {
    "clockwise": (_rotation_source(two="np.array([[c, s], [-s, c]])", three_theta="-theta"),
                  _rotation_failing(_ALL_ROTATION, "rotation_transposed")),
    "clockwise_in_3d_only": (_rotation_source(three_theta="-theta"), _rotation_failing(
        _ALL_ROTATION[3:], "rotation_transposed")),
    "axis_not_normalized": (_rotation_source(axis="axis"), {
        "non_unit_axis": ("rotation_3d(axis=[0. , 0. , 2.5], theta=1.5708): 4 of 9 elements "
                          "differ",
                          "rotation_axis_not_normalized")}),
    "degrees": (_rotation_source(two_theta="np.radians(theta)",
                                 three_theta="np.radians(theta)"),
                _rotation_failing(_ALL_ROTATION, "rotation_degrees")),
    "sin_cos_swapped": (_rotation_source(two="np.array([[s, -c], [c, s]])"), _rotation_failing(
        _ALL_ROTATION[:3], None)),
}


@pytest.mark.parametrize("name", list(ROTATION_WRONG), ids=list(ROTATION_WRONG))
def test_rotation_wrong_implementations_lose_points_with_their_diagnosis(grade_one, name):
    source, failing = ROTATION_WRONG[name]
    assert_graded(grade_one("eigen.rotation_matrix", {"eigen.py": source}), failing)


def test_rotation_failure_names_the_broken_properties(grade_one):
    result = grade_one("eigen.rotation_matrix",
                       {"eigen.py": ROTATION_WRONG["axis_not_normalized"][0]})
    assert check(result, "non_unit_axis").message.endswith(
        "; a rotation must have R^T R = I fails (max |R^T R - I| = 32.8125); det R = 33.8125, "
        "not +1")
    result = grade_one("eigen.rotation_matrix", {"eigen.py": ROTATION_WRONG["clockwise"][0]})
    assert "a rotation must have" not in check(result, "known_3d").message  # R(-theta) is one


def test_rotation_correct_implementations_pass_every_check_for_many_seeds():
    """Measured once with 300 seeds, for these and the reference (6,300 verdicts): 0 failures;
    scipy's matrix exponential differs from Rodrigues' formula by at most 6.3e-14 (3,000 axes
    and angles in (-7, 7)), against the 1e-12 allowed."""
    for name, source in ROTATION_RIGHT.items():
        assert judge_in_process("eigen.rotation_matrix", source, range(1, 51)) == [], name


# ============================================================================ matrix_power

def _mp_source(*body):
    return "import numpy as np\ndef matrix_power(A, k):\n" + "".join(f"    {b}\n" for b in body)


MP_RIGHT = {
    "solve_and_raise": _mp_source(
        "w, V = np.linalg.eig(A)",
        "if np.linalg.cond(V) > 1e10:",
        "    raise np.linalg.LinAlgError('A is not diagonalizable')",
        "# A^k = V D^k V^{-1}: solve V^T X^T = (V D^k)^T instead of inverting V",
        "return np.real(np.linalg.solve(V.T, (V * w ** k).T).T)"),
    "eigh_when_symmetric": _mp_source(
        "if np.allclose(A, A.T):",
        "    w, Q = np.linalg.eigh(A)",
        "    return (Q * w ** k) @ Q.T",
        "w, V = np.linalg.eig(A)",
        "if np.linalg.matrix_rank(V) < len(A):",
        "    raise ValueError('defective matrix')",
        "return (V @ np.diag(w ** k) @ np.linalg.inv(V)).real"),
    "repeated_squaring": _mp_source(
        "result, base = np.eye(len(A)), A.copy()",
        "while k:",
        "    if k % 2:",
        "        result = result @ base",
        "    base, k = base @ base, k // 2",
        "return result"),
}
MP_RIGHT_SOURCES = {"reference": reference_source("eigen"), **MP_RIGHT}


@pytest.mark.parametrize("name", list(MP_RIGHT_SOURCES), ids=list(MP_RIGHT_SOURCES))
def test_matrix_power_correct_implementations_get_full_marks(grade_one, name):
    result = grade_one("eigen.matrix_power", {"eigen.py": MP_RIGHT_SOURCES[name]})
    assert_full_marks(result)
    assert result.max_score == 4


def test_matrix_power_correct_implementations_pass_every_check_for_many_seeds():
    """Measured once with 300 seeds, for these and the reference (8,400 verdicts): 0 failures."""
    for name, source in MP_RIGHT.items():
        assert judge_in_process("eigen.matrix_power", source, range(1, 51)) == [], name


_MP_NOTES = {"symmetric": "a symmetric 4x4 matrix, k=5",
             "non_symmetric": "a non-symmetric 5x5 matrix, k=7",
             "k_zero": "a non-symmetric 4x4 matrix, k=0",
             "k_twenty": "a non-symmetric 6x6 matrix, k=20",
             "negative_eigenvalues": "a non-symmetric 4x4 matrix with negative eigenvalues, k=9",
             "complex_eigenvalues": "a non-symmetric 4x4 matrix with eigenvalues 0.6 +- 0.9i, "
                                    "k=6",
             "defective": "[[1, 1], [0, 1]] (not diagonalizable), k=10"}


def _mp_failing(names, mistake, message="", **overrides):
    out = {n: (f"matrix_power for {_MP_NOTES[n]}: {message}", mistake) for n in names}
    out.update(overrides)
    return out


_NAIVE = ("w, V = np.linalg.eig(A)", "return np.real(V @ np.diag(w ** k) @ np.linalg.inv(V))")
_DEFECTIVE = ("matrix_power for [[1, 1], [0, 1]] (not diagonalizable), k=10: 1 of 4 elements "
              "differ (25.0%); first at [0, 1]; worst at [0, 1]: got ")
MP_WRONG = {
    "elementwise": (_mp_source("return A ** k"), _mp_failing(_MP_NOTES, "mp_elementwise")),
    "transpose_for_inverse": (_mp_source("w, V = np.linalg.eig(A)",
                                         "return np.real(V @ np.diag(w ** k) @ V.T)"),
                              _mp_failing(list(_MP_NOTES)[1:], "mp_transpose_not_inverse")),
    "exp_log": (_mp_source("w, V = np.linalg.eig(A)",
                           "return np.real(V @ np.diag(np.exp(k * np.log(w))) @ np.linalg.inv(V))"),
                _mp_failing(["symmetric", "non_symmetric", "k_zero", "k_twenty",
                             "negative_eigenvalues"], "mp_exp_log",
                            "16 elements with NaN where the expected value is finite",
                            non_symmetric=(f"matrix_power for {_MP_NOTES['non_symmetric']}: 25 "
                                           "elements with NaN", "mp_exp_log"),
                            k_twenty=(f"matrix_power for {_MP_NOTES['k_twenty']}: 36 elements "
                                      "with NaN", "mp_exp_log"),
                            defective=(_DEFECTIVE + "0, expected 10", "mp_defective_ignored"))),
    "complex_result": (_mp_source("w, V = np.linalg.eig(A)",
                                  "return V @ np.diag(w ** k) @ np.linalg.inv(V)"), _mp_failing(
        ["complex_eigenvalues"], "mp_complex", "dtype complex128, expected float64",
        defective=(_DEFECTIVE + "0, expected 10", "mp_defective_ignored"))),
    "defective_ignored": (_mp_source(*_NAIVE), {
        "defective": (_DEFECTIVE + "0, expected 10 (abs diff 10, rel diff 1; rtol=1e-09, "
                      "atol=1e-08); A is not diagonalizable: raise np.linalg.LinAlgError or "
                      "fall back to repeated multiplication", "mp_defective_ignored")}),
    "one_product_short": (_mp_source("result = A.copy()", "for _ in range(k - 1):",
                                     "    result = result @ A", "return result"),
                          _mp_failing(["k_zero"], None, "16 of 16 elements differ")),
}


@pytest.mark.parametrize("name", list(MP_WRONG), ids=list(MP_WRONG))
def test_matrix_power_wrong_implementations_lose_points_with_their_diagnosis(grade_one, name):
    source, failing = MP_WRONG[name]
    assert_graded(grade_one("eigen.matrix_power", {"eigen.py": source}), failing)


def test_matrix_power_with_numpy_matrix_power_scores_zero(grade_one):
    result = grade_one("eigen.matrix_power",
                       {"eigen.py": _mp_source("return np.linalg.matrix_power(A, k)")})
    assert result.status == "failed" and result.score == 0
    for c in result.checks:
        assert c.message.startswith("uses numpy.linalg.matrix_power, which this exercise does "
                                    "not allow")


# ============================================================================ hyperellipse_axes

_PD_CHECK = ("if not np.allclose(A, A.T) or w.min() <= 1e-12 * w.max():",
             "    raise ValueError('A is not symmetric positive definite')")


def _ellipse_source(*body, check=_PD_CHECK):
    return ("import numpy as np\ndef hyperellipse_axes(A):\n    w, V = np.linalg.eigh(A)\n"
            + "".join(f"    {b}\n" for b in (*check, *body)))


ELLIPSE_RIGHT = {
    "svd_flipped": """
        import numpy as np
        def hyperellipse_axes(A):
            if not np.allclose(A, A.T):
                raise ValueError("not symmetric")
            w = np.linalg.eigvalsh(A)
            if w[0] <= 1e-12 * w[-1]:
                raise ValueError("not positive definite")
            U, s, Vt = np.linalg.svd(A)           # s descending: the shortest axis first
            return 1 / np.sqrt(s[::-1]), -U[:, ::-1]
        """,
    "inverse_matrix": """
        import numpy as np
        import scipy.linalg
        def hyperellipse_axes(A):
            w = scipy.linalg.eigvalsh(A)
            if np.abs(A - A.T).max() > 1e-12 or w[0] <= 1e-12 * w[-1]:
                raise ValueError("A must be symmetric positive definite")
            # The semi-axes are the square roots of the eigenvalues of A^{-1}.
            mu, V = scipy.linalg.eigh(np.linalg.inv(A))
            return np.sqrt(mu[::-1]), V[:, ::-1]
        """,
}
ELLIPSE_RIGHT_SOURCES = {"reference": reference_source("eigen"), **ELLIPSE_RIGHT}


@pytest.mark.parametrize("name", list(ELLIPSE_RIGHT_SOURCES), ids=list(ELLIPSE_RIGHT_SOURCES))
def test_hyperellipse_correct_implementations_get_full_marks(grade_one, name):
    result = grade_one("eigen.hyperellipse_axes", {"eigen.py": ELLIPSE_RIGHT_SOURCES[name]})
    assert_full_marks(result)
    assert result.max_score == 4


def test_hyperellipse_correct_implementations_pass_every_check_for_many_seeds():
    """Measured once with 300 seeds, for these and the reference (5,400 verdicts): 0 failures."""
    for name, source in ELLIPSE_RIGHT.items():
        assert judge_in_process("eigen.hyperellipse_axes", source, range(1, 51)) == [], name


_ELL_NOTES = {"ellipse_2d": "a 2x2 positive definite matrix",
              "ellipsoid_4d": "a 4x4 positive definite matrix",
              "spheroid": "a 3x3 positive definite matrix with a repeated eigenvalue",
              "sphere": "c I written in a rotated basis (a sphere)"}


def _ellipse_failing(names, mistake, message="lengths: "):
    return {n: (f"hyperellipse_axes for {_ELL_NOTES[n]}: {message}", mistake) for n in names}


_RAISE = ("hyperellipse_axes for {} should raise ValueError: {{x : x^T A x = 1}} is a bounded "
          "ellipsoid only for a positive definite A; it returned a tuple of 2")
ELLIPSE_WRONG = {
    "no_sqrt": (_ellipse_source("return 1 / w, V"), _ellipse_failing(_ELL_NOTES,
                                                                      "ellipse_no_sqrt")),
    "not_inverted": (_ellipse_source("return np.sqrt(w[::-1]), V[:, ::-1]"),
                     _ellipse_failing(_ELL_NOTES, "ellipse_not_inverted")),
    "diameters": (_ellipse_source("return 2 / np.sqrt(w), V"),
                  _ellipse_failing(_ELL_NOTES, "ellipse_diameters")),
    "ascending": (_ellipse_source("return 1 / np.sqrt(w[::-1]), V[:, ::-1]"),
                  _ellipse_failing(["ellipse_2d", "ellipsoid_4d", "spheroid"],
                                   "ellipse_ascending")),
    "rows": (_ellipse_source("return 1 / np.sqrt(w), V.T"), _ellipse_failing(
        ["ellipsoid_4d", "spheroid"], "ellipse_rows", "directions[:, ")),
    "unbounded": (_ellipse_source("return 1 / np.sqrt(w), V", check=()), {
        "indefinite": (_RAISE.format("a symmetric 3x3 matrix with a negative eigenvalue"),
                       "ellipse_unbounded"),
        "singular": (_RAISE.format("a symmetric 3x3 matrix of rank 2"), "ellipse_unbounded")}),
    "not_unit_directions": (_ellipse_source("return 1 / np.sqrt(w), V * 1 / np.sqrt(w)"),
                            _ellipse_failing(_ELL_NOTES, None, "the columns of directions must "
                                                                "be orthonormal")),
}


@pytest.mark.parametrize("name", list(ELLIPSE_WRONG), ids=list(ELLIPSE_WRONG))
def test_hyperellipse_wrong_implementations_lose_points_with_their_diagnosis(grade_one, name):
    source, failing = ELLIPSE_WRONG[name]
    assert_graded(grade_one("eigen.hyperellipse_axes", {"eigen.py": source}), failing)


# ============================================================================ timing

# Right but slow, measured through the worker (one BLAS thread): a row-by-row matrix-vector
# product 13x to 25x (n = 300, a flag at 5x), an SVD per eigenvalue 55x to 200x (n = 60, a flag
# at 10x), 2000 products of 60x60 matrices 11x to 37x (a flag at 6x); the fast ones 0.6x to
# 1.3x. (np.linalg.eig and a QR measure 3.8x to 4x: not flagged.) Only the SVD per eigenvalue
# is far enough above its flag for an assert on a shared machine; benchmarks/timing_flags.py
# prints all of them, and tests/test_timing_flags.py checks the other flags.
SLOW_CODE = {
    "eigen.power_iteration": _power_source().replace("w = A @ v",
                                                     "w = np.array([row @ v for row in A])"),
    "eigen.spectral_decomposition": _spectral_source(
        "w = np.linalg.eigvalsh(S)[::-1]", "Q = np.empty_like(S)",
        "for j, lam in enumerate(w):   # a null space per eigenvalue",
        "    Q[:, j] = np.linalg.svd(S - lam * np.eye(len(S)))[2][-1]", "return w, Q"),
    "eigen.matrix_power": _mp_source("R = np.eye(len(A))", "for _ in range(k):",
                                     "    R = R @ A", "return R"),
}
FAST_CODE = {
    "eigen.power_iteration": POWER_RIGHT["sign_naive_stop"],
    "eigen.spectral_decomposition": SPECTRAL_RIGHT["eigh_argsort_flipped_signs"],
    "eigen.matrix_power": MP_RIGHT["solve_and_raise"],
}


# (The SVD per eigenvalue is also wrong where an eigenvalue repeats: one null-space vector per
# copy, the same one. The other two are right.)
@pytest.mark.parametrize("exercise_id", ["eigen.power_iteration", "eigen.matrix_power"])
def test_slow_implementations_keep_their_points(grade_files, exercise_id):
    result = grade_files({"eigen.py": SLOW_CODE[exercise_id]}, ids=(exercise_id,)).exercises[0]
    assert result.status == "passed" and result.score == result.max_score, result.message


@pytest.mark.slow
def test_an_svd_per_eigenvalue_is_timed_as_slow(grade_files):
    exercise_id = "eigen.spectral_decomposition"
    result = grade_files({"eigen.py": SLOW_CODE[exercise_id]}, ids=(exercise_id,),
                         time_it=True).exercises[0]
    assert result.timing.slow and result.timing.ratio > EXERCISES[exercise_id].timing.slow_ratio


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", list(FAST_CODE))
def test_vectorized_implementations_are_not_flagged(grade_files, exercise_id):
    result = grade_files({"eigen.py": FAST_CODE[exercise_id]}, ids=(exercise_id,),
                         time_it=True).exercises[0]
    assert result.score == result.max_score and not result.timing.slow, result.timing


def test_the_topic_releases_on_its_own(tmp_path):
    """The bundle of an assignment holds the bank modules of its topics only: this one must
    import nothing from another topic's module (grader/bank/linalg.py's helpers are copied)."""
    from grader import release
    from grader.catalog import select

    report = release.release(out=tmp_path / "bundle", exercises=select(("eigen",)))
    assert report.exercises == list(EXERCISES)
    assert not (tmp_path / "bundle" / "grader" / "bank" / "linalg.py").exists()


@pytest.mark.slow
def test_a_loop_of_k_products_is_told_it_grows_with_k(grade_files):
    """Diagonalization costs the same for every k; 2000 products cost 8 times 250."""
    graded = grade_files({"eigen.py": SLOW_CODE["eigen.matrix_power"]},
                         ids=("eigen.matrix_power",), time_it=True)
    timing = graded.exercises[0].timing
    assert timing.scales_differently and timing.size_name == "k"
    assert timing.student_exponent > 0.7 and timing.reference_exponent < 0.4
    assert (f"scaling: your time grows as k^{timing.student_exponent:.1f}; the reference's as "
            f"k^{timing.reference_exponent:.1f}") in report.render_terminal(graded)
    fast = grade_files({"eigen.py": FAST_CODE["eigen.matrix_power"]},
                       ids=("eigen.matrix_power",), time_it=True).exercises[0].timing
    assert not fast.scales_differently
