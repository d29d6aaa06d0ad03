"""calculus.numerical_gradient, calculus.quad_grad_hess, calculus.is_positive_definite and
calculus.gradient_descent: the references against independent implementations (analytic
gradients, torch autograd, closed forms), the margins of the case builders, and realistic right
and wrong submissions graded through the worker (each wrong one loses points with a message
saying what differs, and each declared mistake gets its diagnosis)."""

from __future__ import annotations

import math
import textwrap
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import cases, check, reference_source
from grader.bank import calculus as bank
from grader.bank import calculus_minima as minima
from grader.catalog import reference_module
from grader.grading import run_reference
from grader.judges import Trial

torch = pytest.importorskip("torch")

REF = reference_module("calculus")
EXERCISES = {e.id: e for e in (*bank.EXERCISES, *minima.EXERCISES)}
MISTAKES = (*bank.NG_MISTAKES, *bank.NG_H_IGNORED, *bank.NG_WHOLE_ROWS, *bank.QGH_MISTAKES,
            *bank.TAYLOR_MISTAKES, *minima.PD_MISTAKES, *minima.GD_MISTAKES)
EXPLAIN = {m.name: m.explain for m in MISTAKES}
REFERENCE = reference_source("calculus")


def failures_in_process(exercise_id, source, seeds):
    """Judge a (trusted) implementation run here, on every check and seed: faster than the
    worker, so that many seeds can be tried. Returns the failing (seed, check, message)."""
    namespace = {}
    exec(textwrap.dedent(source), namespace)
    module = SimpleNamespace(**namespace)
    failures = []
    for seed in seeds:
        for check_, case in cases(exercise_id, seeds=(seed,)):
            verdict = check_.judge(Trial(case, run_reference(module, case),
                                         run_reference(REF, case)))
            if not verdict.passed:
                failures.append((seed, check_.name, verdict.message))
    return failures


def rel_error(a, b):
    """The catalog's rel_error, max |a - b| / max(1e-8, |a| + |b|), with the denominator taken
    over the whole gradient: elementwise (CS231n's reading) it reached 5.6e-7 over 200 seeds
    on entries near 0, where the rounding of f, about 1e-11, is a large part of the entry."""
    return float(np.max(np.abs(a - b)) / max(1e-8, float(np.max(np.abs(a) + np.abs(b)))))


def assert_graded(result, status, score, failing=None, message="", diagnosis=None):
    """The verdict, the score, and the first failing check's message and diagnosis."""
    assert (result.status, result.score) == (status, score), (result.score, result.message)
    if failing is None:
        assert all(c.status == "passed" for c in result.checks), result.message
        assert result.diagnosis is None and all(c.diagnosis is None for c in result.checks)
        return
    got = check(result, failing)
    assert got.status == "failed" and got.score == 0
    assert got.message.startswith(message), got.message
    assert got.diagnosis == (EXPLAIN[diagnosis] if diagnosis else None), got.diagnosis


def test_mistake_names_are_unique_in_the_module():
    """The release freezes every Mistake of a bank module by name."""
    names = [m.name for m in MISTAKES]
    assert len(names) == len(set(names))


# ============================================================================ numerical_gradient

def _softmax_loss(x, y):
    def loss(w):
        s = x @ w
        s = s - s.max(axis=1, keepdims=True)
        log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        return -np.mean(log_p[np.arange(len(y)), y])
    return loss


def _softmax_grad(x, y, w):
    s = x @ w
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    return x.T @ p / len(y)


def test_reference_gradient_matches_the_analytic_one_and_torch_autograd():
    worst = 0.0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        x, y, w = rng.standard_normal((10, 6)), rng.integers(0, 4, 10), rng.standard_normal((6, 4))
        got = REF.numerical_gradient(_softmax_loss(x, y), w)
        wt = torch.tensor(w, requires_grad=True)
        torch.nn.functional.cross_entropy(torch.tensor(x) @ wt, torch.tensor(y)).backward()
        worst = max(worst, rel_error(got, _softmax_grad(x, y, w)), rel_error(got, wt.grad.numpy()))
    assert worst < 1e-9  # measured: 1.4e-10 over 200 seeds


@pytest.mark.parametrize("h", [0.1, 1e-2, 1e-3])
def test_reference_gradient_of_the_cube_is_exactly_3x2_plus_h2(h):
    x = np.random.default_rng(1).uniform(-2, 2, (3, 4))
    got = REF.numerical_gradient(lambda v: np.sum(v * v * v), x, h)
    np.testing.assert_allclose(got, 3 * x * x + h * h, rtol=1e-11, atol=1e-11)


def test_reference_leaves_x_exactly_as_it_was_and_refuses_float32():
    x = np.random.default_rng(2).standard_normal((4, 3))
    kept = x.copy()
    REF.numerical_gradient(lambda v: np.sum(np.sin(v) * v.sum()), x)
    assert np.array_equal(x, kept)
    with pytest.raises(TypeError):
        REF.numerical_gradient(lambda v: float(np.sum(v)), x.astype(np.float32))


def test_a_separable_f_hides_the_missing_restore_and_a_loss_of_w_shows_it():
    """Measured on 100 seeds: not restoring x agrees with the right answer on sum(x**3) (to
    rounding), and on the softmax loss its worst element is 58x or more beyond the tolerance
    (a forward difference: 90x or more)."""
    for seed in range(100):
        for check_, case in cases("calculus.numerical_gradient", seeds=(seed,)):
            if check_.name not in ("cube_exact", "softmax_loss"):
                continue
            want = run_reference(REF, case)[-1].value
            tol = bank.NG_ATOL + bank.NG_RTOL * np.abs(want)
            beyond = [np.max(np.abs(m.variant(case) - want) / tol) for m in bank.NG_MISTAKES[:2]]
            if check_.name == "cube_exact":
                assert np.abs(bank.NG_MISTAKES[0].variant(case) - want).max() < 1e-12
            else:
                assert min(beyond) > 30, (seed, beyond)


NG_LOOP = """
import numpy as np
def numerical_gradient(f, x, h=1e-5):
    if x.dtype != np.float64:
        raise TypeError("float64 only")
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad
"""

NG_RIGHT = {
    "copies_of_x": """
        import numpy as np
        def numerical_gradient(f, x, h=1e-5):
            if x.dtype != np.float64:
                raise ValueError("x must be float64")
            grad = np.empty(x.shape)
            for i in range(x.size):
                e = np.zeros(x.size)
                e[i] = h
                e = e.reshape(x.shape)
                grad.flat[i] = (f(x + e) - f(x - e)) / 2 / h
            return grad
        """,
    "flat_view_plus_minus": """
        import numpy as np
        def numerical_gradient(f, x, h=1e-5):
            if not isinstance(x, np.ndarray) or x.dtype != np.float64:
                raise TypeError("x must be a float64 array")
            flat = x.reshape(-1)          # a view: writes reach x
            grad = np.zeros(x.size)
            for i in range(x.size):
                flat[i] += h
                fp = f(x)
                flat[i] -= 2 * h
                fm = f(x)
                flat[i] += h              # back, up to rounding
                grad[i] = 0.5 * (fp - fm) / h
            return grad.reshape(x.shape)
        """,
    "nditer": """
        import numpy as np
        def numerical_gradient(f, x, h=1e-5):
            if x.dtype != np.float64:
                raise TypeError(x.dtype)
            grad = np.zeros_like(x)
            it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
            while not it.finished:
                i = it.multi_index
                old = x[i]
                x[i] = old + h
                fxph = f(x)
                x[i] = old - h
                fxmh = f(x)
                x[i] = old
                grad[i] = (fxph - fxmh) / (2 * h)
                it.iternext()
            return grad
        """,
}


@pytest.mark.parametrize("name", ["reference", *NG_RIGHT])
def test_numerical_gradient_correct_implementations_get_full_marks(grade_one, name):
    source = REFERENCE if name == "reference" else NG_RIGHT[name]
    result = grade_one("calculus.numerical_gradient", {"calculus.py": source})
    assert_graded(result, "passed", 4.0)


@pytest.mark.parametrize("name", list(NG_RIGHT))
def test_numerical_gradient_correct_implementations_pass_for_many_seeds(name):
    """Measured once on 300 seeds: 0 failures; correct implementations differ from the
    reference by at most 3e-11 against an atol of 1e-9."""
    assert failures_in_process("calculus.numerical_gradient", NG_RIGHT[name], range(1, 21)) == []


def _ng(replace: dict) -> str:
    source = NG_LOOP
    for old, new in replace.items():
        assert old in source
        source = source.replace(old, new)
    return source


SOFTMAX = ("numerical_gradient(loss, W) with loss(W) the softmax cross-entropy mean_n -log "
           "softmax(X W)[n, y_n] for W of shape (4, 3), X of shape (6, 4): ")
CUBE = ("numerical_gradient for f(x) = sum(x**3), x of length 7, h = 0.1 (exactly 3 x**2 + "
        "h**2): 7 of 7 elements differ (100.0%)")
NG_WRONG = {  # name: (source, status, score, failing check, message start, mistake)
    "not_restored": (_ng({"        x[i] = old\n": ""}), "partial", 1.5, "softmax_loss", SOFTMAX,
                     "ng_not_restored"),
    "forward_difference": (_ng({"(fp - fm) / (2 * h)": "(fp - f(x)) / h",
                                "        x[i] = old - h\n        fm = f(x)\n": ""}),
                           "partial", 1.0, "cube_exact", CUBE, "ng_forward_difference"),
    "divided_by_h": (_ng({"(fp - fm) / (2 * h)": "(fp - fm) / h"}), "partial", 1.0,
                     "cube_exact", CUBE, "ng_divided_by_h"),
    "h_ignored": (_ng({"h=1e-5):": "h=1e-5):\n    h = 1e-4"}), "partial", 2.5, "cube_exact",
                  CUBE, "ng_h_ignored"),
    "whole_rows": (_ng({"np.ndindex(x.shape)": "range(len(x))", "old = x[i]": "old = x[i].copy()"}),
                   "partial", 2.0, "softmax_loss", SOFTMAX + "12 of 12 elements differ",
                   "ng_whole_rows"),
    "float32_accepted": (_ng({"        raise TypeError(\"float64 only\")\n": "        pass\n"}),
                         "partial", 3.5, "float32_refused",
                         "numerical_gradient for a float32 x of length 5 should raise TypeError "
                         "(or ValueError): in float32, x + 1e-5 keeps only a few bits of the "
                         "step; it returned an array of shape (5,) float32", None),
}


@pytest.mark.parametrize("name", list(NG_WRONG))
def test_numerical_gradient_wrong_implementations_lose_points_with_their_diagnosis(grade_one,
                                                                                    name):
    source, status, score, failing, message, mistake = NG_WRONG[name]
    result = grade_one("calculus.numerical_gradient", {"calculus.py": source})
    assert_graded(result, status, score, failing, message, mistake)


def test_a_missing_restore_fails_the_input_check_with_the_size_of_the_drift(grade_one):
    result = grade_one("calculus.numerical_gradient", {"calculus.py": NG_WRONG["not_restored"][0]})
    assert check(result, "cube_exact").status == "passed"  # separable: the bug does not show
    got = check(result, "input_restored")
    assert got.message == ("numerical_gradient changed x: after the call its entries differ "
                           "from those before by up to 0.001 (h = 0.001); the caller's x must "
                           "come back as it was")
    assert got.diagnosis == EXPLAIN["ng_not_restored"]
    assert any("changed its input arrays in place" in n for n in got.notes)


# ============================================================================ quad_grad_hess

@pytest.mark.parametrize("n", [1, 2, 4, 6])
def test_reference_gradient_and_hessian_match_torch_autograd(n):
    for seed in range(10):
        rng = np.random.default_rng(seed)
        a, b, x = rng.standard_normal((n, n)), rng.standard_normal(n), rng.standard_normal(n)
        at, bt = torch.tensor(a), torch.tensor(b)

        def f(v):
            return 0.5 * v @ at @ v + bt @ v

        xt = torch.tensor(x)
        value, g, h = REF.quad_grad_hess(a, b, x)
        np.testing.assert_allclose(value, f(xt).item(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g, torch.autograd.functional.jacobian(f, xt).numpy(),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(h, torch.autograd.functional.hessian(f, xt).numpy(),
                                   rtol=1e-10, atol=1e-12)
        assert g.shape == (n,) and h.shape == (n, n)


def test_taylor_model_is_exact_on_the_quadratic_cases_and_third_order_on_sin():
    for check_, case in cases("calculus.quad_grad_hess", seeds=range(30)):
        if check_.name == "taylor_quadratic":
            f0, g, s, x0, x = case.calls[0].args
            q = lambda v: 0.5 * v @ s @ v + np.sum(case_b(s, g, x0) * v)  # noqa: E731
            np.testing.assert_allclose(REF.taylor2(f0, g, s, x0, x), q(x), rtol=1e-12,
                                       atol=1e-12)
        if check_.name == "taylor_error_order":
            errors = run_reference(REF, case)[0].value
            ratios = [errors[i] / errors[i + 1] for i in range(3)]
            assert all(6.0 < r < 10.0 for r in ratios), ratios
            assert errors[-1] > 1e-8  # far above rounding: the ratios are the model's


def case_b(s, g, x0):
    """The b of the quadratic behind a taylor_quadratic case: g = S x0 + b."""
    return g - s @ x0


QGH_SOLVE = """
import numpy as np
def quad_grad_hess(A, b, x):
    S = (A + A.T) / 2
    return 0.5 * x @ A @ x + b @ x, S @ x + b, S
def taylor2(f, g, H, x0, x):
    d = x - x0
    return f + g @ d + 0.5 * d @ H @ d
"""

QGH_RIGHT = {
    "einsum": """
        import numpy as np
        def quad_grad_hess(A, b, x):
            H = 0.5 * A + 0.5 * A.T
            f = 0.5 * np.einsum("i,ij,j->", x, A, x) + np.dot(b, x)
            g = 0.5 * (A @ x + A.T @ x) + b
            return float(f), g, H
        def taylor2(f, g, H, x0, x):
            d = np.subtract(x, x0)
            return float(f + np.dot(g, d) + np.einsum("i,ij,j->", d, H, d) / 2)
        """,
    "sums_of_products": """
        import numpy as np
        def quad_grad_hess(A, b, x):
            S = 0.5 * (A + A.T)
            f = 0.5 * np.sum(A * np.outer(x, x)) + np.sum(b * x)
            return f, np.sum(S * x, axis=1) + b, S
        def taylor2(f, g, H, x0, x):
            d = x - x0
            return f + np.sum(g * d) + 0.5 * np.sum(H * np.outer(d, d))
        """,
}


@pytest.mark.parametrize("name", ["reference", "solve", *QGH_RIGHT])
def test_quad_grad_hess_correct_implementations_get_full_marks(grade_one, name):
    source = {"reference": REFERENCE, "solve": QGH_SOLVE}.get(name) or QGH_RIGHT[name]
    result = grade_one("calculus.quad_grad_hess", {"calculus.py": source})
    assert_graded(result, "passed", 4.5)


@pytest.mark.parametrize("name", list(QGH_RIGHT))
def test_quad_grad_hess_correct_implementations_pass_for_many_seeds(name):
    assert failures_in_process("calculus.quad_grad_hess", QGH_RIGHT[name], range(1, 31)) == []


def _qgh(old: str, new: str) -> str:
    assert old in QGH_SOLVE
    return QGH_SOLVE.replace(old, new)


NONSYM = "quad_grad_hess for a non-symmetric 4x4 A: "
TAYLOR = ("taylor2 for the value, gradient and Hessian at x0 of a quadratic in 4 variables "
          "(there the model is exact): got ")
QGH_WRONG = {  # name: (source, score, failing check, message start, mistake)
    "assumes_symmetric": (_qgh("S @ x + b, S", "A @ x + b, A"), 3.0, "nonsymmetric_A",
                          NONSYM + "[1]: 4 of 4 elements differ", "qgh_assumes_symmetric"),
    "transposed": (_qgh("S @ x + b, S", "A.T @ x + b, A.T"), 3.0, "nonsymmetric_A",
                   NONSYM + "[1]: 4 of 4 elements differ", "qgh_transposed"),
    "no_half": (_qgh("S = (A + A.T) / 2", "S = A + A.T"), 1.5, "symmetric_A",
                "quad_grad_hess for a symmetric 3x3 A: [1]: 3 of 3 elements differ",
                "qgh_no_half"),
    "f_no_half": (_qgh("0.5 * x @ A @ x", "x @ A @ x"), 1.5, "symmetric_A",
                  "quad_grad_hess for a symmetric 3x3 A: [0]: got ", "qgh_f_no_half"),
    "taylor_no_half": (_qgh("0.5 * d @ H @ d", "d @ H @ d"), 3.0, "taylor_quadratic", TAYLOR,
                       "taylor_no_half"),
    "taylor_x_for_d": (_qgh("d = x - x0", "d = x"), 3.0, "taylor_quadratic", TAYLOR,
                       "taylor_x_for_d"),
}


@pytest.mark.parametrize("name", list(QGH_WRONG))
def test_quad_grad_hess_wrong_implementations_lose_points_with_their_diagnosis(grade_one, name):
    source, score, failing, message, mistake = QGH_WRONG[name]
    result = grade_one("calculus.quad_grad_hess", {"calculus.py": source})
    assert_graded(result, "partial", score, failing, message, mistake)


def test_a_first_order_model_is_told_how_fast_its_error_shrinks(grade_one):
    source = _qgh("0.5 * d @ H @ d", "0.0")
    result = grade_one("calculus.quad_grad_hess", {"calculus.py": source})
    got = check(result, "taylor_error_order")
    assert got.status == "failed"
    assert got.message.startswith("|taylor2(...) - f(x0 + t d)| for f(x) = sin(c . x), t = "
                                  "0.2, 0.1, 0.05, 0.025 for f(x) = sin(c . x) in 3 variables: ")
    assert "; your errors shrink by the factors 4" in got.message
    assert got.message.endswith("each time t halves, where the error of a second-order model "
                                "is O(t^3) (factors near 8)")


# ============================================================================ is_positive_definite

BATTERIES = {"clear_cases": [True, False, False, False, True],
             "semidefinite": [False, False, False, False],
             "relative_tolerance": [True, True, False, False, False, True],
             "symmetry": [False, False, True], "given_tol": [False, True],
             "one_by_one": [True, False, False]}


def _torch_spd(a: np.ndarray, tol: float) -> tuple[bool, float]:
    """The definition, with torch's eigensolver on the symmetrized matrix: (answer, margin of
    lambda_min from the cutoff, in units of eps * max|lambda|)."""
    t = torch.tensor(a)
    if (t - t.T).abs().max() > tol * t.abs().max():
        return False, math.inf
    lam = torch.linalg.eigvalsh((t + t.T) / 2)
    top = lam.abs().max().item()
    cutoff = tol * top
    margin = abs(lam[0].item() - cutoff) / (np.finfo(float).eps * top) if top else math.inf
    return bool(lam[0].item() > cutoff), margin


def test_reference_answers_the_batteries_like_an_independent_eigensolver():
    """Every matrix is far from the cutoff tol * max|lambda| (at least 40 eps * max|lambda|
    away, or exactly singular), so any eigensolver gives the same answers."""
    for check_, case in cases("calculus.is_positive_definite", seeds=range(50)):
        if check_.name == "not_square":
            continue
        answers = [REF.is_positive_definite(*c.args, **c.kwargs) for c in case.calls]
        assert answers == BATTERIES[check_.name], check_.name
        for call, answer in zip(case.calls, answers):
            tol = call.kwargs.get("tol", 1e-10)
            independent, margin = _torch_spd(call.args[0], tol)
            assert independent == answer
            zero = np.linalg.eigvalsh(call.args[0]).min() == 0  # diag(2, 0, 1), zeros, [[0]]
            assert margin > 40 or not answer and (zero or margin > 1), (check_.name, margin)


def test_reference_is_scale_invariant_and_refuses_non_square():
    a = np.random.default_rng(3).standard_normal((4, 4))
    spd = a @ a.T + 0.1 * np.eye(4)
    assert all(REF.is_positive_definite(c * spd) for c in (1e-30, 1e-12, 1.0, 1e12, 1e30))
    with pytest.raises(ValueError):
        REF.is_positive_definite(np.ones((2, 3)))


PD_RIGHT = {
    "cholesky_with_shift": """
        import numpy as np
        def is_positive_definite(A, tol=1e-10):
            A = np.asarray(A, dtype=float)
            if A.ndim != 2 or A.shape[0] != A.shape[1]:
                raise ValueError("A must be square")
            if not np.allclose(A, A.T, rtol=0.0, atol=tol * np.abs(A).max()):
                return False
            norm = np.linalg.norm(A, 2)          # max |lambda| of a symmetric matrix
            if norm == 0:
                return False
            try:
                np.linalg.cholesky(A - tol * norm * np.eye(len(A)))
            except np.linalg.LinAlgError:
                return False
            return True
        """,
    "scipy_eigh": """
        import numpy as np
        import scipy.linalg
        def is_positive_definite(A, tol=1e-10):
            if np.ndim(A) != 2 or A.shape[0] != A.shape[1]:
                raise ValueError(f"not square: {np.shape(A)}")
            if np.max(np.abs(A - A.T)) > tol * np.max(np.abs(A)):
                return False
            lam = scipy.linalg.eigh(A, eigvals_only=True)
            return lam.min() > tol * max(abs(lam.min()), abs(lam.max()))
        """,
}


@pytest.mark.parametrize("name", ["reference", *PD_RIGHT])
def test_is_positive_definite_correct_implementations_get_full_marks(grade_one, name):
    source = REFERENCE if name == "reference" else PD_RIGHT[name]
    result = grade_one("calculus.is_positive_definite", {"calculus.py": source})
    assert_graded(result, "passed", 4.5)


@pytest.mark.parametrize("name", list(PD_RIGHT))
def test_is_positive_definite_correct_implementations_pass_for_many_seeds(name):
    assert failures_in_process("calculus.is_positive_definite", PD_RIGHT[name],
                               range(1, 31)) == []


def _pd(symmetric: str, positive: str) -> str:
    return ("import numpy as np\n"
            "def is_positive_definite(A, tol=1e-10):\n"
            "    if A.ndim != 2 or A.shape[0] != A.shape[1]:\n"
            "        raise ValueError('square')\n"
            f"    if not ({symmetric}):\n"
            "        return False\n"
            "    lam = np.linalg.eigvalsh(A)\n"
            f"    return bool({positive})\n")


SYMMETRIC = "np.abs(A - A.T).max() <= tol * np.abs(A).max()"
RELATIVE = "lam[0] > tol * np.abs(lam).max()"
PD_WRONG = {  # name: (source, score, failing check, message, mistake)
    "determinant": ("import numpy as np\n"
                    "def is_positive_definite(A, tol=1e-10):\n"
                    "    if A.shape[0] != A.shape[1]:\n"
                    "        raise ValueError('square')\n"
                    "    return bool(np.linalg.det(A) > 0)\n", 2.0, "clear_cases",
                    "is_positive_definite for a negative-definite 2x2 matrix (eigenvalues -1, "
                    "-3; determinant 3 > 0): expected False, got the bool True",
                    "pd_positive_determinant"),
    "semidefinite": (_pd(SYMMETRIC, "lam[0] >= -tol * np.abs(lam).max()"), 2.0, "semidefinite",
                     "is_positive_definite for diag(2, 0, 1): expected False, got the bool True",
                     "pd_semidefinite_accepted"),
    "absolute_tolerance": (_pd(SYMMETRIC, "lam[0] > tol"), 4.0, "relative_tolerance",
                           "is_positive_definite for a 4x4 SPD matrix with entries about 1e-12 "
                           "(eigenvalues 4e-12 to 5e-13): expected True, got the bool False",
                           "pd_absolute_tolerance"),
    "no_tolerance": ("import numpy as np\n"
                     "def is_positive_definite(A, tol=1e-10):\n"
                     "    if A.shape[0] != A.shape[1]:\n"
                     "        raise ValueError('square')\n"
                     f"    if not ({SYMMETRIC}):\n"
                     "        return False\n"
                     "    try:\n"
                     "        np.linalg.cholesky(A)\n"
                     "    except np.linalg.LinAlgError:\n"
                     "        return False\n"
                     "    return True\n", None, "relative_tolerance",
                     "is_positive_definite for eigenvalues 2, 1, 1e-14 (singular to working "
                     "precision: 1e-14 <= tol * 2): expected False, got the bool True",
                     "pd_no_tolerance"),
    "no_symmetry_check": (_pd("True", RELATIVE), 4.0, "symmetry",
                          "is_positive_definite for a non-symmetric 3x3 matrix whose symmetric "
                          "part is SPD (x^T A x > 0, but A != A^T): expected False, got the "
                          "bool True", "pd_no_symmetry_check"),
    "exact_symmetry": (_pd("np.array_equal(A, A.T)", RELATIVE), 4.0, "symmetry",
                       "is_positive_definite for an SPD matrix whose entries are off by rounding "
                       "(1e-14 of max |A|), so A - A^T is not exactly 0: expected True, got the "
                       "bool False", "pd_exact_symmetry"),
    "ignores_tol": (_pd(SYMMETRIC, "lam[0] > 1e-10 * np.abs(lam).max()"), 4.0, "given_tol",
                    "is_positive_definite for eigenvalues 1, 1e-4 with tol=1e-3: expected "
                    "False, got the bool True", "pd_ignores_tol"),
    "false_for_non_square": (_pd(SYMMETRIC, RELATIVE).replace(
        "raise ValueError('square')", "return False"), 4.0, "not_square",
        "is_positive_definite for a 3x4 matrix should raise ValueError: positive definiteness "
        "is a property of square matrices; it returned the bool False", None),
}


@pytest.mark.parametrize("name", list(PD_WRONG))
def test_is_positive_definite_wrong_implementations_lose_points_with_their_diagnosis(grade_one,
                                                                                      name):
    source, score, failing, message, mistake = PD_WRONG[name]
    result = grade_one("calculus.is_positive_definite", {"calculus.py": source})
    if score is None:  # plain Cholesky: on the rank-2 matrix of 'semidefinite' rounding decides
        assert result.status == "partial" and result.score in (2.5, 3.5)
    else:
        assert (result.status, result.score) == ("partial", score), result.message
    got = check(result, failing)
    assert got.status == "failed" and got.message.startswith(message), got.message
    assert got.diagnosis == (EXPLAIN[mistake] if mistake else None)


# ============================================================================ gradient_descent

def test_reference_iterates_are_the_closed_form_on_every_bank_case():
    """x_k = x* + (I - lr A)^k (x0 - x*), with x* = -A^{-1} b (x* = 0 when b = 0)."""
    for check_, case in cases("calculus.gradient_descent", seeds=range(20)):
        if check_.name == "grad_calls":
            continue
        a, b, x0, lr, n = case.calls[0].args
        x_star = -np.linalg.solve(a, b)
        m = np.eye(len(x0)) - lr * a
        want = np.array([x_star + np.linalg.matrix_power(m, k) @ (x0 - x_star)
                         for k in range(n + 1)])
        x, history = run_reference(REF, case)[0].value
        scale = np.maximum.accumulate(np.abs(want).max(axis=1))[:, None]
        assert np.all(np.abs(history - want) <= 1e-10 * np.abs(want) + 1e-12 * scale)
        assert np.array_equal(x, history[-1])


def test_learning_rates_converge_oscillate_and_diverge_as_the_cases_say():
    """Along the top eigenvector v, x_k . v = (1 - lr lambda_max)^k x0 . v."""
    for check_, case in cases("calculus.gradient_descent", seeds=range(20)):
        if check_.name not in ("converging", "edge_of_stability", "diverging"):
            continue
        a, _, x0, lr, n = case.calls[0].args
        lam, vecs = np.linalg.eigh(a)
        along = run_reference(REF, case)[0].value[1] @ vecs[:, -1]
        factor = {"converging": 0.0, "edge_of_stability": -1.0, "diverging": -1.4}[check_.name]
        np.testing.assert_allclose(lr * lam[-1], 1 - factor, rtol=1e-12)
        if check_.name == "edge_of_stability":
            np.testing.assert_allclose(along[1:], -along[:-1], rtol=1e-9)
        if check_.name == "diverging":
            assert abs(along[-1]) > 500 * abs(along[0])


GD_RIGHT = {
    "list_of_copies": """
        import numpy as np
        def gradient_descent(grad_f, x0, lr, n_steps):
            x = x0.copy()
            history = [x.copy()]
            for _ in range(n_steps):
                x -= lr * grad_f(x)
                history.append(x.copy())
            return x, np.array(history)
        """,
    "preallocated": """
        import numpy as np
        def gradient_descent(grad_f, x0, lr, n_steps):
            history = np.zeros((n_steps + 1, len(x0)))
            history[0] = x0
            for k in range(n_steps):
                history[k + 1] = history[k] - lr * grad_f(history[k])
            return history[-1].copy(), history
        """,
    "returns_a_list": """
        def gradient_descent(grad_f, x0, lr, n_steps):
            xs = [x0 * 1.0]
            for _ in range(n_steps):
                xs.append(xs[-1] - lr * grad_f(xs[-1]))
            return xs[-1], xs
        """,
}


@pytest.mark.parametrize("name", ["reference", *GD_RIGHT])
def test_gradient_descent_correct_implementations_get_full_marks(grade_one, name):
    source = REFERENCE if name == "reference" else GD_RIGHT[name]
    result = grade_one("calculus.gradient_descent", {"calculus.py": source})
    assert_graded(result, "passed", 4.5)


@pytest.mark.parametrize("name", list(GD_RIGHT))
def test_gradient_descent_correct_implementations_pass_for_many_seeds(name):
    assert failures_in_process("calculus.gradient_descent", GD_RIGHT[name], range(1, 31)) == []


GD_LOOP = """
import numpy as np
def gradient_descent(grad_f, x0, lr, n_steps):
    x = np.array(x0, dtype=float)
    history = [x.copy()]
    for _ in range(n_steps):
        x = x - lr * grad_f(x)
        history.append(x.copy())
    return x, np.array(history)
"""


def _gd(old: str, new: str) -> str:
    assert old in GD_LOOP
    return GD_LOOP.replace(old, new)


CONVERGING = ("gradient_descent(grad_f, x0, lr, n_steps) with grad_f(x) = A x + b for A of shape "
              "(3, 3), b = 0, lr = 1 / lambda_max, 20 steps: ")
GD_WRONG = {  # name: (source, score, failing check, message start, mistake)
    "aliased_history": (_gd("x = x - lr * grad_f(x)\n        history.append(x.copy())",
                            "x -= lr * grad_f(x)\n        history.append(x)").replace(
                                "history = [x.copy()]", "history = [x]"),
                        1.0, "converging", CONVERGING + "history[0]: 3 of 3 elements differ",
                        "gd_history_aliased"),
    "history_without_x0": (_gd("history = [x.copy()]", "history = []"), 0.5, "converging",
                           CONVERGING + "history: shape (20, 3), expected (21, 3)",
                           "gd_history_without_x0"),
    "ascent": (_gd("x - lr * grad_f(x)", "x + lr * grad_f(x)"), 1.0, "converging",
               CONVERGING + "history[1]: ", "gd_ascent"),
    "x0_changed": (_gd("x = np.array(x0, dtype=float)", "x = x0").replace(
        "x = x - lr * grad_f(x)", "x -= lr * grad_f(x)"), 4.0, "x0_untouched",
        "gradient_descent(grad_f, x0, lr, n_steps) with grad_f(x) = A x + b for A of shape (2, "
        "2), b = 0, lr = 0.8 / lambda_max, 10 steps changed x0 in place: start from a copy", None),
    "extra_grad_call": (_gd("return x, np.array(history)",
                            "print('final gradient norm', np.linalg.norm(grad_f(x)))\n"
                            "    return x, np.array(history)"),
                        4.0, "grad_calls", "gradient_descent called grad_f 13 times for 12 "
                                           "steps: call it exactly once per step", None),
}


@pytest.mark.parametrize("name", list(GD_WRONG))
def test_gradient_descent_wrong_implementations_lose_points_with_their_diagnosis(grade_one,
                                                                                  name):
    source, score, failing, message, mistake = GD_WRONG[name]
    result = grade_one("calculus.gradient_descent", {"calculus.py": source})
    status = "failed" if score == 0 else "partial"
    assert_graded(result, status, score, failing, message, mistake)


# ============================================================================ timing

SLOW = {
    "calculus.quad_grad_hess": """
        import numpy as np
        def quad_grad_hess(A, b, x):
            n = len(x)
            S = np.zeros((n, n))
            for i in range(n):
                for j in range(n):
                    S[i, j] = 0.5 * (A[i, j] + A[j, i])
            g = np.array([sum(S[i, j] * x[j] for j in range(n)) for i in range(n)]) + b
            return 0.5 * float(x @ A @ x) + float(b @ x), g, S
        def taylor2(f, g, H, x0, x):
            d = x - x0
            return float(f + g @ d + 0.5 * d @ H @ d)
        """,
    "calculus.gradient_descent": """
        import numpy as np
        def gradient_descent(grad_f, x0, lr, n_steps):
            x = np.array(x0, dtype=float)
            history = x[None, :].copy()
            for _ in range(n_steps):
                x = x - lr * grad_f(x)
                history = np.vstack([history, x])
            return x, history
        """,
}


@pytest.mark.parametrize("exercise_id", list(SLOW))
def test_slow_implementations_keep_their_points(grade_files, exercise_id):
    result = grade_files({"calculus.py": SLOW[exercise_id]}, ids=(exercise_id,)).exercises[0]
    assert result.status == "passed" and result.score == result.max_score


@pytest.mark.slow
def test_element_loops_in_quad_grad_hess_are_flagged(grade_files):
    """Measured: element loops 490x to 780x the reference at n = 400, a flag at 10x. (np.vstack
    in the loop of gradient_descent measures 10x to 13x at 3,000 steps against a flag at 5x: too
    close for an assert on a shared machine; benchmarks/timing_flags.py prints it and
    tests/test_timing_flags.py checks that flag.)"""
    exercise_id = "calculus.quad_grad_hess"
    graded = grade_files({"calculus.py": SLOW[exercise_id]}, ids=(exercise_id,), time_it=True)
    result = graded.exercises[0]
    assert result.status == "passed" and result.score == result.max_score
    assert result.timing.slow and result.timing.ratio > EXERCISES[exercise_id].timing.slow_ratio
