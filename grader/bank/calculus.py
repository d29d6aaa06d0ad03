"""Checks of exercises/calculus.py: numerical_gradient, quad_grad_hess (with taylor2),
is_positive_definite, gradient_descent.

Functions that a check hands to the student's code (the ``f`` of a numerical gradient, the
``grad_f`` of gradient descent) are :class:`~grader.sandbox.wire.Fn` source text. Where the
function needs data (the X and y of a softmax loss, the A and b of a quadratic), the call
itself is a Fn that takes the data as arguments, builds the function and calls the student's
code: the data cross the wire as arrays, and the worker still reports whether an input array
was changed in place. Known mistakes are replayed in the grader's process by running the same
calls against a flawed implementation (``run_reference`` on a namespace).
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from grader.bank.inputs import combine, rotation
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare, describe, fmt
from grader.grading import describe_raise, run_reference
from grader.judges import Mistake, Trial, diagnose_mistakes, matches, raises
from grader.sandbox.wire import Fn


def _replay(case: Case, **names: Any) -> Any:
    """The last call's sent value when the module under test holds ``names`` (a flawed
    implementation): the same calls, the same data round trip as the student's."""
    with np.errstate(all="ignore"):
        result = run_reference(SimpleNamespace(**names), case)[-1]
    if result.raised is not None:
        raise ArithmeticError(f"the flawed replay raised {result.raised['type']}")
    return result.value


# ----------------------------------------------------------------------------- case inputs

# Inputs are built with + - * / and np.sum only, never BLAS, LAPACK or libm, so that a case is
# the same bits on every machine (the student bundle finds frozen results by their digest).

def _with_eigenvalues(rng: np.random.Generator, values) -> np.ndarray:
    """An exactly symmetric matrix Q diag(values) Q^T for a random rotation Q."""
    q = rotation(rng, len(values))
    a = combine(q, values, q)
    return 0.5 * (a + a.T)


# ----------------------------------------------------------------------------- numerical_gradient

# Student and reference evaluate the same f at the same points, so correct implementations
# differ by rounding only: about eps * |f| / h = 1e-11 for h = 1e-5, however written (copies or
# in-place perturbation, x[i] = old or x[i] += h - 2h + h). Every known mistake is off by
# h * f'' or more: 1e-7 at the least (a forward difference on the softmax check), 100 times
# this tolerance, and far more for the other checks (tests/test_bank_calculus.py measures it).
NG_RTOL, NG_ATOL = 1e-7, 1e-9
_CUBE = "lambda x: np.sum(x * x * x)"
_SOFTMAX_CE = """def f(X, y, W{h}):
    def loss(W):
        s = X @ W
        s = s - np.max(s, axis=1, keepdims=True)
        log_p = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
        return -np.mean(log_p[np.arange(len(y)), y])
    return numerical_gradient(loss, W{h})"""
_SOFTMAX_LABEL = ("numerical_gradient(loss, W{h}) with loss(W) the softmax cross-entropy "
                  "mean_n -log softmax(X W)[n, y_n]")


def _cube_case(rng: np.random.Generator) -> Case:
    x = rng.uniform(-2.0, 2.0, 7)
    return Case((Call("numerical_gradient", (Fn(_CUBE, label="f(x) = sum(x**3)"), x, 0.1)),),
                "f(x) = sum(x**3), x of length 7, h = 0.1 (exactly 3 x**2 + h**2)")


def _softmax_case(d: int, c: int, n: int, h: float | None = None):
    def build(rng: np.random.Generator) -> Case:
        x, y = rng.standard_normal((n, d)), rng.integers(0, c, n)
        w = 0.5 * rng.standard_normal((d, c))
        args, tail = ((x, y, w), "") if h is None else ((x, y, w, h), ", h")
        func = Fn(_SOFTMAX_CE.format(h=tail), label=_SOFTMAX_LABEL.format(h=tail))
        about = "" if h is None else f", h = {h:g}"
        return Case((Call(func, args),), f"W of shape ({d}, {c}), X of shape ({n}, {d}){about}")
    return build


def _tensor_case(rng: np.random.Generator) -> Case:
    x = rng.standard_normal((2, 3, 2))
    source = "lambda x: np.log(np.sum(np.exp(x))) + np.sum(x[0] * x[1])"
    return Case((Call("numerical_gradient", (Fn(source, label="f = logsumexp(x) + "
                                                               "sum(x[0] * x[1])"), x, 1e-4)),),
                "a 3-D x of shape (2, 3, 2), f = logsumexp(x) + sum(x[0] * x[1]), h = 1e-4")


_RESTORED = """def f(x):
    before = x.copy()
    numerical_gradient(lambda v: np.sum(v * v * v) * np.sum(v), x, 1e-3)
    return float(np.max(np.abs(x - before)))"""


def _restored_case(rng: np.random.Generator) -> Case:
    return Case((Call(Fn(_RESTORED, label="max |x after - x before| around "
                                          "numerical_gradient(f, x, 1e-3)"),
                      (rng.uniform(-2.0, 2.0, 6),)),), "x of length 6")


def _float32_case(rng: np.random.Generator) -> Case:
    x = rng.uniform(-2.0, 2.0, 5).astype(np.float32)
    return Case((Call("numerical_gradient", (Fn(_CUBE, label="f(x) = sum(x**3)"), x)),),
                "a float32 x of length 5")


def _flawed_gradient(f, x, h=1e-5, *, flaw: str):
    """numerical_gradient with one known flaw (replayed in the grader's process)."""
    h = 1e-5 if flaw == "h_ignored" else h
    grad = np.zeros_like(x)
    base = f(x)
    rows = [(i,) for i in range(x.shape[0])] if flaw == "whole_rows" else np.ndindex(x.shape)
    for index in rows:
        saved = np.copy(x[index])
        x[index] = saved + h
        above = f(x)
        x[index] = saved - h
        below = f(x)
        if flaw != "not_restored":
            x[index] = saved
        if flaw == "forward":
            grad[index] = (above - base) / h
        else:
            grad[index] = (above - below) / (h if flaw == "divided_by_h" else 2 * h)
    return grad


def _gradient_flaw(flaw: str) -> Callable[[Case], Any]:
    return lambda case: _replay(case, numerical_gradient=functools.partial(
        _flawed_gradient, flaw=flaw))


NG_MISTAKES = (
    Mistake("ng_not_restored",
            "you did not put x[i] back after perturbing it: every later entry was "
            "differentiated at a point shifted by -h in the earlier entries (and the caller's "
            "x came back changed). Save old = x[i], evaluate f at old + h and old - h, then "
            "write x[i] = old before the next entry",
            _gradient_flaw("not_restored")),
    Mistake("ng_forward_difference",
            "you used the forward difference (f(x + h e_i) - f(x)) / h, accurate only to O(h); "
            "the centered difference (f(x + h e_i) - f(x - h e_i)) / (2h) is accurate to "
            "O(h^2) (for sum(x**3) it is exactly 3 x^2 + h^2)",
            _gradient_flaw("forward")),
    Mistake("ng_divided_by_h",
            "your gradient is twice the right one: the centered difference spans 2h, from "
            "x - h e_i to x + h e_i, so divide by 2h, not h",
            _gradient_flaw("divided_by_h")),
)
NG_H_IGNORED = (
    Mistake("ng_h_ignored",
            "you did not use the h argument: your estimate matches a fixed small step instead "
            "(for sum(x**3) with h = 0.1 the centered difference is exactly 3 x^2 + 0.01, and "
            "yours is about 3 x^2). Use the h you are given, with 1e-5 only as its default",
            _gradient_flaw("h_ignored"), rtol=1e-6, atol=1e-6),
)
NG_WHOLE_ROWS = (
    Mistake("ng_whole_rows",
            "you perturbed whole rows: for a 2-D (or higher) x, x[i] is a row and x[i] += h "
            "moves every entry of it. Loop over every entry, e.g. for i in "
            "np.ndindex(x.shape), or over range(x.size) on x.reshape(-1) (a view)",
            _gradient_flaw("whole_rows")),
)


_ng_matches = matches(rtol=NG_RTOL, atol=NG_ATOL, mistakes=NG_MISTAKES + NG_WHOLE_ROWS)


def _raises_type_or_value_error(trial: Trial) -> Verdict:
    result = trial.actual[-1]
    if result.raised is not None and {"TypeError", "ValueError"} & set(result.raised["mro"]):
        return Verdict(True)
    got = (describe_raise("it", result.raised) if result.raised is not None
           else f"it returned {describe(result.value)}")
    return Verdict(False, f"numerical_gradient for {trial.case.note} should raise TypeError (or "
                          f"ValueError): in float32, x + 1e-5 keeps only a few bits of the "
                          f"step; {got}")


_ULPS = 1e-13  # x[i] += h, -= 2h, += h may leave x a few units in the last place away


def _restored_judge(trial: Trial) -> Verdict:
    drift = float(trial.got())  # the check's own code returns a float
    x = np.asarray(trial.case.calls[-1].args[0])
    if drift <= _ULPS * float(np.abs(x).max()):
        return Verdict(True)
    return Verdict(False, f"numerical_gradient changed x: after the call its entries differ "
                          f"from those before by up to {fmt(drift)} (h = 0.001); the caller's "
                          "x must come back as it was",
                   diagnose_mistakes(drift, trial.case, NG_MISTAKES[:1]))


NUMERICAL_GRADIENT = Exercise(
    id="calculus.numerical_gradient",
    title="Numerical gradient (centered differences)",
    functions=("numerical_gradient",),
    summary="grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h) for every entry of an x of any "
            "shape, x left as it was",
    checks=(
        Check("cube_exact", _cube_case,
              matches(rtol=1e-10, atol=1e-12, mistakes=NG_MISTAKES + NG_H_IGNORED), points=1,
              about="sum(x**3) with h = 0.1: exactly 3 x**2 + h**2"),
        Check("softmax_loss", _softmax_case(4, 3, 6), _ng_matches, points=1,
              about="a softmax cross-entropy loss of a weight matrix (entries interact)"),
        Check("softmax_given_h", _softmax_case(5, 4, 8, 1e-3),
              matches(rtol=NG_RTOL, atol=NG_ATOL,
                      mistakes=NG_MISTAKES + NG_WHOLE_ROWS + NG_H_IGNORED), points=0.5,
              hidden=True, about="the softmax loss with h = 1e-3"),
        Check("three_dimensional", _tensor_case, _ng_matches, points=0.5, hidden=True,
              about="an x of shape (2, 3, 2)"),
        Check("input_restored", _restored_case, _restored_judge, points=0.5, hidden=True,
              about="x holds the same values after the call"),
        Check("float32_refused", _float32_case, _raises_type_or_value_error, points=0.5,
              hidden=True, about="a float32 x raises TypeError"),
    ),
)


# ----------------------------------------------------------------------------- quad_grad_hess

# f, g, H are a few products of O(1) numbers (n <= 6): correct formulations (x @ A @ x, sums of
# products, einsum, (A + A.T) / 2 or 0.5 * (A + A.T)) differ by about 1e-15. Every known
# mistake is off by O(1).
QGH_TOL = 1e-10


def _quad_case(n: int, kind: str):
    def build(rng: np.random.Generator) -> Case:
        m = rng.standard_normal((n, n))
        a = {"symmetric": 0.5 * (m + m.T), "general": m,
             "skewed": 0.5 * (m + m.T) + 1.5 * (m - m.T)}[kind]
        about = {"symmetric": "a symmetric", "general": "a non-symmetric",
                 "skewed": "a far-from-symmetric"}[kind]
        return Case((Call("quad_grad_hess", (a, rng.standard_normal(n),
                                             rng.standard_normal(n))),),
                    f"{about} {n}x{n} A" if n > 1 else "n = 1 (A of shape (1, 1))")
    return build


def _taylor_quadratic(rng: np.random.Generator) -> Case:
    m = rng.standard_normal((4, 4))
    s, b = 0.5 * (m + m.T), rng.standard_normal(4)
    x0, x = rng.standard_normal(4), rng.standard_normal(4)
    f0 = float(0.5 * np.sum(s * np.multiply.outer(x0, x0)) + np.sum(b * x0))
    g = np.sum(s * x0, axis=1) + b
    return Case((Call("taylor2", (f0, g, s, x0, x)),),
                "the value, gradient and Hessian at x0 of a quadratic in 4 variables (there "
                "the model is exact)")


_TAYLOR_SIN = """def f(c, x0, d):
    s = float(np.sum(c * x0))
    value, grad, hess = math.sin(s), math.cos(s) * c, -math.sin(s) * np.multiply.outer(c, c)
    errors = []
    for t in (0.2, 0.1, 0.05, 0.025):
        x = x0 + t * d
        errors.append(abs(taylor2(value, grad, hess, x0, x) - math.sin(float(np.sum(c * x)))))
    return errors"""


def _rescaled(rng: np.random.Generator, c: np.ndarray, low: float, high: float) -> np.ndarray:
    """A random vector v with c . v of magnitude in [low, high] (so cos(c . x0) and the
    cubic term (c . d)^3 stay away from 0)."""
    while True:
        v = rng.standard_normal(c.size)
        dot = float(np.sum(c * v))
        if abs(dot) > 0.1:
            return v * (rng.uniform(low, high) / abs(dot))


def _taylor_sin(rng: np.random.Generator) -> Case:
    c = rng.standard_normal(3)
    x0, d = _rescaled(rng, c, 0.2, 1.0), _rescaled(rng, c, 0.8, 1.5)
    return Case((Call(Fn(_TAYLOR_SIN, label="|taylor2(...) - f(x0 + t d)| for f(x) = "
                                            "sin(c . x), t = 0.2, 0.1, 0.05, 0.025"),
                      (c, x0, d)),), "f(x) = sin(c . x) in 3 variables")


def _qgh_variant(kind: str) -> Callable[[Case], Any]:
    def variant(case: Case) -> tuple:
        a, b, x = (np.asarray(v, dtype=np.float64) for v in case.calls[-1].args)
        value = (1.0 if kind == "f_no_half" else 0.5) * float(x @ a @ x) + float(b @ x)
        h = {"assumes_symmetric": a, "transposed": a.T, "no_half": a + a.T}.get(
            kind, 0.5 * (a + a.T))
        return value, h @ x + b, h
    return variant


QGH_MISTAKES = (
    Mistake("qgh_assumes_symmetric",
            "you used g = A x + b and H = A, which hold only for a symmetric A: x^T A x = "
            "x^T A^T x, so only the symmetric part S = (A + A^T)/2 counts, g = S x + b, H = S",
            _qgh_variant("assumes_symmetric")),
    Mistake("qgh_transposed",
            "you used g = A^T x + b and H = A^T: the gradient of 1/2 x^T A x is 1/2 (A + A^T) x, "
            "the average of A x and A^T x, and the Hessian is 1/2 (A + A^T)",
            _qgh_variant("transposed")),
    Mistake("qgh_no_half",
            "your gradient and Hessian are twice the right ones: the gradient of x^T A x is "
            "(A + A^T) x, but f has the factor 1/2, so g = 1/2 (A + A^T) x + b and "
            "H = 1/2 (A + A^T)",
            _qgh_variant("no_half")),
    Mistake("qgh_f_no_half",
            "your value f misses the 1/2: f(x) = 1/2 x^T A x + b^T x",
            _qgh_variant("f_no_half")),
)


def _flawed_taylor(f, g, H, x0, x, *, flaw: str) -> float:
    d = np.asarray(x, dtype=np.float64) - (0.0 if flaw == "x_for_d" else np.asarray(x0))
    return float(f + g @ d + (1.0 if flaw == "no_half" else 0.5) * (d @ H @ d))


def _taylor_flaw(flaw: str) -> Callable[[Case], Any]:
    return lambda case: _replay(case, taylor2=functools.partial(_flawed_taylor, flaw=flaw))


TAYLOR_MISTAKES = (
    Mistake("taylor_no_half",
            "your quadratic term misses the 1/2: the second-order Taylor model is "
            "f + g^T d + 1/2 d^T H d (the 1/2 is the 1/2! of the Taylor series)",
            _taylor_flaw("no_half")),
    Mistake("taylor_x_for_d",
            "you used x itself where the model needs the step d = x - x0: the model expands "
            "around x0, m(x) = f + g^T (x - x0) + 1/2 (x - x0)^T H (x - x0)",
            _taylor_flaw("x_for_d")),
)

_taylor_matches = matches(rtol=1e-6, atol=1e-13, mistakes=TAYLOR_MISTAKES)


def _taylor_sin_judge(trial: Trial) -> Verdict:
    """The errors against the reference's, and how fast they shrink when t halves."""
    verdict = _taylor_matches(trial)
    errors = trial.got()
    if verdict.passed or not isinstance(errors, list) or len(errors) != 4:
        return verdict
    try:
        ratios = ", ".join(fmt(errors[i] / errors[i + 1]) for i in range(3))
    except (TypeError, ZeroDivisionError):
        return verdict
    return Verdict(False, f"{verdict.message}; your errors shrink by the factors {ratios} each "
                          "time t halves, where the error of a second-order model is O(t^3) "
                          "(factors near 8)", verdict.diagnosis)


QUAD_GRAD_HESS = Exercise(
    id="calculus.quad_grad_hess",
    title="Gradient and Hessian of a quadratic; the second-order Taylor model",
    functions=("quad_grad_hess", "taylor2"),
    summary="f = 1/2 x^T A x + b^T x with g = (A + A^T)/2 x + b and H = (A + A^T)/2 for any "
            "square A; m(x) = f + g^T d + 1/2 d^T H d",
    checks=(
        Check("symmetric_A", _quad_case(3, "symmetric"),
              matches(rtol=QGH_TOL, atol=QGH_TOL, mistakes=QGH_MISTAKES), points=1,
              about="f, g, H for a symmetric A"),
        Check("nonsymmetric_A", _quad_case(4, "general"),
              matches(rtol=QGH_TOL, atol=QGH_TOL, mistakes=QGH_MISTAKES), points=1,
              about="f, g, H for a non-symmetric A: only (A + A^T)/2 counts"),
        Check("taylor_quadratic", _taylor_quadratic,
              matches(rtol=QGH_TOL, atol=QGH_TOL, mistakes=TAYLOR_MISTAKES), points=1,
              about="taylor2 of a quadratic: exact"),
        Check("far_from_symmetric", _quad_case(6, "skewed"),
              matches(rtol=QGH_TOL, atol=QGH_TOL, mistakes=QGH_MISTAKES), points=0.5,
              hidden=True, about="an A with a large antisymmetric part"),
        Check("one_variable", _quad_case(1, "general"),
              matches(rtol=QGH_TOL, atol=QGH_TOL, mistakes=QGH_MISTAKES), points=0.5,
              hidden=True, about="n = 1: shapes (), (1,), (1, 1)"),
        Check("taylor_error_order", _taylor_sin, _taylor_sin_judge, points=0.5, hidden=True,
              about="taylor2 of sin(c . x): the error shrinks like t^3"),
    ),
    timing=Timing(lambda rng: Call("quad_grad_hess", (rng.standard_normal((400, 400)),
                                                      rng.standard_normal(400),
                                                      rng.standard_normal(400)), send=False),
                  slow_ratio=10.0,
                  advice="use matrix-vector products (A @ x, A.T @ x) and array arithmetic "
                         "instead of Python loops over the entries"),
)


# ----------------------------------------------------------------------------- is_positive_definite

# Every matrix of a battery is far from the decision boundary of the specification (eigenvalues
# at least 1e4 times the tolerance away from tol * max|lambda|, or exactly 0 up to rounding of
# 1e-16), so any correct eigvalsh- or Cholesky-based test gives the same answers.

def _pd_call(a: np.ndarray, tol: float | None = None) -> Call:
    return Call("is_positive_definite", (a,), {} if tol is None else {"tol": tol})


def _clear_cases(rng: np.random.Generator) -> Case:
    return Case((_pd_call(_with_eigenvalues(rng, [4.0, 2.0, 1.0, 0.5])),
                 _pd_call(_with_eigenvalues(rng, [3.0, 1.0, -2.0])),
                 _pd_call(_with_eigenvalues(rng, [-1.0, -3.0])),
                 _pd_call(_with_eigenvalues(rng, [3.0, 2.0, -1.0, -0.5])),
                 _pd_call(np.eye(3))))


_CLEAR = ("a 4x4 SPD matrix (eigenvalues 4, 2, 1, 0.5)",
          "an indefinite 3x3 matrix (eigenvalues 3, 1, -2)",
          "a negative-definite 2x2 matrix (eigenvalues -1, -3; determinant 3 > 0)",
          "a 4x4 matrix with eigenvalues 3, 2, -1, -0.5 (determinant 3 > 0)",
          "the 3x3 identity")


def _semidefinite(rng: np.random.Generator) -> Case:
    return Case((_pd_call(np.diag([2.0, 0.0, 1.0])),
                 _pd_call(_with_eigenvalues(rng, [3.0, 1.0, 0.0, 0.0])),
                 _pd_call(np.zeros((3, 3))),
                 _pd_call(np.ones((3, 3)))))


_SEMIDEFINITE = ("diag(2, 0, 1)", "a 4x4 matrix of rank 2 (eigenvalues 3, 1, 0, 0)",
                 "the 3x3 zero matrix", "the 3x3 matrix of ones (eigenvalues 3, 0, 0)")


def _relative(rng: np.random.Generator) -> Case:
    return Case((_pd_call(_with_eigenvalues(rng, [4e-12, 2e-12, 1e-12, 5e-13])),
                 _pd_call(_with_eigenvalues(rng, [3e12, 2e12, 1e12])),
                 _pd_call(_with_eigenvalues(rng, [2.0, 1.0, 1e-14])),
                 _pd_call(_with_eigenvalues(rng, [2e12, 1e12, 1e-2])),
                 _pd_call(_with_eigenvalues(rng, [1.0, 0.5, -1e-14])),
                 _pd_call(_with_eigenvalues(rng, [1.0, 1e-6]))))


_RELATIVE = ("a 4x4 SPD matrix with entries about 1e-12 (eigenvalues 4e-12 to 5e-13)",
             "a 3x3 SPD matrix with entries about 1e12",
             "eigenvalues 2, 1, 1e-14 (singular to working precision: 1e-14 <= tol * 2)",
             "eigenvalues 2e12, 1e12, 0.01 (0.01 <= tol * 2e12)",
             "eigenvalues 1, 0.5, -1e-14", "eigenvalues 1, 1e-6 (1e-6 > tol * 1)")


def _nonsymmetric(rng: np.random.Generator) -> Case:
    # An antisymmetric part with entries below 0.6: the symmetric matrix that eigvalsh reads
    # from the lower triangle stays positive definite, so ignoring symmetry answers True.
    m = rng.uniform(-0.3, 0.3, (3, 3))
    skewed = _with_eigenvalues(rng, [4.0, 3.0, 2.0]) + (m - m.T)
    noise = rng.uniform(-1.0, 1.0, (3, 3))
    spd = _with_eigenvalues(rng, [3.0, 2.0, 1.0])
    rounded = spd + 1e-14 * float(np.abs(spd).max()) * noise
    return Case((_pd_call(skewed), _pd_call(np.array([[1.0, 4.0], [0.0, 1.0]])),
                 _pd_call(rounded)))


_NONSYMMETRIC = ("a non-symmetric 3x3 matrix whose symmetric part is SPD (x^T A x > 0, but "
                 "A != A^T)",
                 "the upper-triangular [[1, 4], [0, 1]] (its lower triangle is the identity)",
                 "an SPD matrix whose entries are off by rounding (1e-14 of max |A|), so "
                 "A - A^T is not exactly 0")


def _explicit_tol(rng: np.random.Generator) -> Case:
    return Case((_pd_call(_with_eigenvalues(rng, [1.0, 1e-4]), 1e-3),
                 _pd_call(_with_eigenvalues(rng, [2.0, 1.0, 0.01]), 1e-3)))


_EXPLICIT_TOL = ("eigenvalues 1, 1e-4 with tol=1e-3", "eigenvalues 2, 1, 0.01 with tol=1e-3")


def _one_by_one(rng: np.random.Generator) -> Case:
    return Case(tuple(_pd_call(np.array([[v]])) for v in (rng.uniform(0.5, 3.0), -1.0, 0.0)))


_ONE_BY_ONE = ("a positive 1x1 matrix", "[[-1]]", "[[0]]")


def _pd_flawed(a: np.ndarray, tol: float, flaw: str) -> bool:
    """A flawed positive-definiteness test (replayed in the grader's process)."""
    a = np.asarray(a, dtype=np.float64)
    if flaw == "positive_determinant":
        return bool(np.linalg.det(a) > 0)
    if flaw == "exact_symmetry":
        symmetric = bool(np.array_equal(a, a.T))
    else:
        symmetric = flaw == "no_symmetry_check" or bool(
            np.abs(a - a.T).max() <= tol * np.abs(a).max())
    if not symmetric:
        return False
    lam = np.linalg.eigvalsh(a)
    top = float(np.abs(lam).max())
    return bool({"semidefinite_accepted": lam[0] >= -tol * top, "absolute_tolerance": lam[0] > tol,
                 "no_tolerance": lam[0] > 0, "ignores_tol": lam[0] > 1e-10 * top,
                 }.get(flaw, lam[0] > tol * top))


def _pd_flaw(flaw: str) -> Callable[[Case], list]:
    return lambda case: [_pd_flawed(c.args[0], c.kwargs.get("tol", 1e-10), flaw)
                         for c in case.calls]


PD_MISTAKES = (
    Mistake("pd_positive_determinant",
            "a positive determinant does not make a matrix positive definite: det is the "
            "product of the eigenvalues, positive also when an even number of them are negative "
            "(a negative-definite 2x2 has det > 0). Test the smallest eigenvalue (or try a "
            "Cholesky factorization)",
            _pd_flaw("positive_determinant")),
    Mistake("pd_semidefinite_accepted",
            "you accepted positive SEMI-definite matrices (smallest eigenvalue 0): positive "
            "definite needs lambda_min > tol * max |lambda|, strictly, so a singular matrix (and "
            "the zero matrix) answers False",
            _pd_flaw("semidefinite_accepted")),
    Mistake("pd_absolute_tolerance",
            "you compared the smallest eigenvalue with tol itself (lambda_min > tol), an absolute "
            "threshold: for a matrix with entries about 1e-12 every eigenvalue is below 1e-10, "
            "and for one about 1e12 rounding noise is above it. Compare with tol * max |lambda|",
            _pd_flaw("absolute_tolerance")),
    Mistake("pd_no_tolerance",
            "you tested lambda_min > 0 (or that a Cholesky factorization succeeds) without the "
            "tolerance: a matrix whose smallest eigenvalue is 1e-14 of its largest is singular "
            "to working precision, and the rounding of its entries decides the sign. Require "
            "lambda_min > tol * max |lambda|",
            _pd_flaw("no_tolerance")),
    Mistake("pd_no_symmetry_check",
            "you did not check that A is symmetric: np.linalg.eigvalsh and np.linalg.cholesky "
            "read only the lower triangle and answer for a different, symmetric matrix. Return "
            "False when max |A - A^T| > tol * max |A|",
            _pd_flaw("no_symmetry_check")),
    Mistake("pd_exact_symmetry",
            "you required A == A^T exactly: a matrix computed in floating point is symmetric only "
            "up to rounding. Accept max |A - A^T| <= tol * max |A|",
            _pd_flaw("exact_symmetry")),
    Mistake("pd_ignores_tol",
            "you did not use the tol argument (the check passes tol=1e-3): a matrix with "
            "lambda_min / lambda_max = 1e-4 is not positive definite at that tolerance",
            _pd_flaw("ignores_tol")),
)
_PD_BY_NAME = {m.name: m for m in PD_MISTAKES}


def _battery(labels: tuple[str, ...], mistakes: tuple[str, ...]) -> Callable[[Trial], Verdict]:
    """Judge: the exact bool for every matrix of the case; the first wrong answer is named,
    with the first of ``mistakes`` that gives the same wrong answer there."""

    def judge(trial: Trial) -> Verdict:
        for i, label in enumerate(labels):
            name = f"is_positive_definite for {label}"
            result = trial.actual[i]
            if result.raised is not None:
                return Verdict(False, describe_raise(name, result.raised))
            got, want = trial.got(i), trial.want(i)
            if compare(got, want) is None:
                continue
            return Verdict(False, f"{name}: expected {want}, got {describe(got)}",
                           _pd_diagnosis(trial.case, i, got, want, mistakes))
        return Verdict(True)

    return judge


def _pd_diagnosis(case: Case, i: int, got: Any, want: bool, names: tuple[str, ...]
                  ) -> str | None:
    if not isinstance(got, (bool, np.bool_)) or bool(got) == want:
        return None
    for name in names:
        try:
            wrong = _PD_BY_NAME[name].variant(case)
        except Exception:  # noqa: BLE001 - a variant that does not apply (or is not frozen)
            continue
        if bool(wrong[i]) == bool(got):
            return _PD_BY_NAME[name].explain
    return None


_raises_value_error = raises("ValueError", why="positive definiteness is a property of square "
                                            "matrices")


def _pd_timing(rng: np.random.Generator) -> Call:
    m = rng.standard_normal((300, 300))
    return Call("is_positive_definite", (0.5 * (m + m.T) + 40.0 * np.eye(300),), send=False)


IS_POSITIVE_DEFINITE = Exercise(
    id="calculus.is_positive_definite",
    title="Positive definiteness, with relative tolerances",
    functions=("is_positive_definite",),
    summary="A == A^T up to tol * max|A| and lambda_min > tol * max|lambda|",
    checks=(
        Check("clear_cases", _clear_cases,
              _battery(_CLEAR, ("pd_positive_determinant", "pd_semidefinite_accepted")),
              points=1, about="SPD, indefinite and negative-definite matrices"),
        Check("semidefinite", _semidefinite,
              _battery(_SEMIDEFINITE, ("pd_semidefinite_accepted", "pd_no_tolerance")),
              points=1, about="singular positive semi-definite matrices answer False"),
        Check("relative_tolerance", _relative,
              _battery(_RELATIVE, ("pd_absolute_tolerance", "pd_no_tolerance",
                                   "pd_semidefinite_accepted")),
              points=0.5, hidden=True, about="tiny and huge scales, near-singular matrices"),
        Check("symmetry", _nonsymmetric,
              _battery(_NONSYMMETRIC, ("pd_no_symmetry_check", "pd_exact_symmetry")),
              points=0.5, hidden=True, about="non-symmetric matrices answer False"),
        Check("given_tol", _explicit_tol, _battery(_EXPLICIT_TOL, ("pd_ignores_tol",)),
              points=0.5, hidden=True, about="the tol argument is used"),
        Check("one_by_one", _one_by_one,
              _battery(_ONE_BY_ONE, ("pd_semidefinite_accepted",)), points=0.5, hidden=True,
              about="1x1 matrices"),
        Check("not_square", lambda rng: Case((_pd_call(rng.standard_normal((3, 4))),),
                                             "a 3x4 matrix"),
              _raises_value_error, points=0.5, hidden=True,
              about="a non-square matrix raises ValueError"),
    ),
    timing=Timing(_pd_timing, slow_ratio=10.0,
                  advice="one np.linalg.eigvalsh (or one Cholesky factorization) of the whole "
                         "matrix, not a determinant per leading minor"),
)


# ----------------------------------------------------------------------------- gradient_descent

# Iterates are compared step by step with rtol 1e-10 and an atol of 1e-12 times the largest
# |entry| so far: rounding grows like k * eps relative to the iterates, converging or not.
GD_RTOL, GD_ATOL_SCALE = 1e-10, 1e-12
_GD = """def f(A, b, x0, lr, n_steps):
    return gradient_descent(lambda x: A @ x + b, x0, lr, n_steps)"""
_GD_LABEL = "gradient_descent(grad_f, x0, lr, n_steps) with grad_f(x) = A x + b"
_GD_COUNT = """def f(A, b, x0, lr, n_steps):
    calls = []
    def grad_f(x):
        calls.append(1)
        return A @ x + b
    gradient_descent(grad_f, x0, lr, n_steps)
    return len(calls)"""


def _gd_case(values, lr_times: float, n_steps: int, *, offset: bool = False,
             count: bool = False, about: str = ""):
    """f(x) = 1/2 x^T A x + b^T x with A's eigenvalues ``values`` times a random scale, from a
    random x0, with lr = lr_times / lambda_max."""
    def build(rng: np.random.Generator) -> Case:
        lams = rng.uniform(0.5, 2.0) * np.asarray(values, dtype=np.float64)
        a, n = _with_eigenvalues(rng, lams), len(values)
        b = rng.standard_normal(n) if offset else np.zeros(n)
        lr = float(lr_times / lams.max())
        func = Fn(_GD_COUNT, label="how many times gradient_descent calls grad_f") if count \
            else Fn(_GD, label=_GD_LABEL)
        note = (f"A of shape ({n}, {n}){', b != 0' if offset else ', b = 0'}, "
                f"lr = {lr_times:g} / lambda_max, {n_steps} steps{about}")
        return Case((Call(func, (a, b, rng.standard_normal(n), lr, n_steps)),), note)
    return build


def _stacked(history: Any) -> Any:
    """A list of equal-shaped arrays as one array (the docstring accepts both)."""
    if isinstance(history, (list, tuple)) and history and all(
            isinstance(h, np.ndarray) and h.shape == history[0].shape for h in history):
        return np.stack(history)
    return history


def _run_mismatch(got: Any, want: tuple, rtol: float, atol_scale: float):
    """The first difference of (x, history) against the expected run, or None."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"expected a pair (x, history), got {describe(got)}"
    x, history = got[0], _stacked(got[1])
    want_x, want_h = want
    found = compare(history, want_h, rtol=0.0, atol=math.inf, path="history")
    if found is not None:
        return found
    scale = np.maximum.accumulate(np.abs(want_h).reshape(len(want_h), -1).max(axis=1))
    for k in range(len(want_h)):
        found = compare(history[k], want_h[k], rtol=rtol, atol=atol_scale * scale[k],
                        path=f"history[{k}]")
        if found is not None:
            return found
    return compare(x, want_x, rtol=rtol, atol=atol_scale * scale[-1], path="x")


def _flawed_descent(grad_f, x0, lr, n_steps, *, flaw: str):
    """gradient_descent with one known flaw (replayed in the grader's process)."""
    x = np.array(x0, dtype=np.float64)
    history = [x if flaw == "aliased" else x.copy()]
    for _ in range(n_steps):
        step = lr * grad_f(x)
        if flaw == "aliased":
            x -= step
        else:
            x = x + step if flaw == "ascent" else x - step
        history.append(x if flaw == "aliased" else x.copy())
    return x, np.array(history[1:] if flaw == "without_x0" else history)


def _descent_flaw(flaw: str) -> Callable[[Case], Any]:
    return lambda case: _replay(case, gradient_descent=functools.partial(
        _flawed_descent, flaw=flaw))


GD_MISTAKES = (
    Mistake("gd_history_aliased",
            "every row of your history is the last iterate: you stored the array x itself and "
            "then updated it in place (x -= ...), so all entries are the same object. Store "
            "x.copy(), or update with x = x - lr * g (a new array)",
            _descent_flaw("aliased")),
    Mistake("gd_history_without_x0",
            "your history starts at x_1: it holds n_steps + 1 iterates, history[0] = x0",
            _descent_flaw("without_x0")),
    Mistake("gd_ascent",
            "you stepped uphill, x + lr * grad_f(x): descent moves AGAINST the gradient, "
            "x - lr * grad_f(x)",
            _descent_flaw("ascent")),
)


def _gd_judge(trial: Trial) -> Verdict:
    got, want = trial.got(), trial.want()
    found = _run_mismatch(got, want, GD_RTOL, GD_ATOL_SCALE)
    if found is None:
        return Verdict(True)
    diagnosis = None
    for mistake in GD_MISTAKES:
        try:
            wrong = mistake.variant(trial.case)
        except Exception:  # noqa: BLE001 - a variant that does not apply (or is not frozen)
            continue
        if _run_mismatch(got, wrong, 1e-6, 1e-9) is None:
            diagnosis = mistake.explain
            break
    return Verdict(False, f"{trial.func()} for {trial.case.note}: {found}", diagnosis)


def _untouched_judge(trial: Trial) -> Verdict:
    if trial.actual[-1].mutated:
        return Verdict(False, f"{trial.func()} for {trial.case.note} changed x0 in place: start "
                              "from a copy (x = x0.copy(), or x = x - lr * g, which makes a new "
                              "array); x = x0 followed by x -= ... writes into the caller's x0")
    return _gd_judge(trial)


def _count_judge(trial: Trial) -> Verdict:
    got, want = trial.got(), trial.want()
    if got == want:
        return Verdict(True)
    return Verdict(False, f"gradient_descent called grad_f {got} times for {want} steps: call it "
                          "exactly once per step, at the current iterate")


def _gd_timing(rng: np.random.Generator) -> Call:
    a = _with_eigenvalues(rng, np.linspace(0.1, 1.0, 50))
    return Call(Fn(_GD, label=_GD_LABEL), (a, rng.standard_normal(50), rng.standard_normal(50),
                                           1.0, 3000), send=False)


GRADIENT_DESCENT = Exercise(
    id="calculus.gradient_descent",
    title="Gradient descent with a fixed learning rate",
    functions=("gradient_descent",),
    summary="x_{k+1} = x_k - lr grad_f(x_k), returning the last iterate and the history "
            "x_0, ..., x_n",
    checks=(
        Check("converging", _gd_case([4.0, 2.0, 1.0], 1.0, 20), _gd_judge, points=1,
              about="lr = 1 / lambda_max: the iterates (I - lr A)^k x0 converge"),
        Check("with_offset", _gd_case([3.0, 2.0, 1.0, 0.5], 1.5, 30, offset=True), _gd_judge,
              points=1, about="f = 1/2 x^T A x + b^T x, lr = 1.5 / lambda_max"),
        Check("edge_of_stability", _gd_case([4.0, 1.0, 0.5], 2.0, 15,
                                            about=" (the top direction flips sign every step)"),
              _gd_judge, points=0.5, hidden=True, about="lr = 2 / lambda_max: oscillation"),
        Check("diverging", _gd_case([2.0, 1.0, 0.5], 2.4, 20), _gd_judge, points=0.5,
              hidden=True, about="lr = 2.4 / lambda_max: the iterates grow"),
        Check("x0_untouched", _gd_case([3.0, 1.0], 0.8, 10), _untouched_judge, points=0.5,
              hidden=True, about="x0 is not changed in place"),
        Check("no_steps", _gd_case([2.0, 1.0, 1.0], 1.0, 0), _gd_judge, points=0.5,
              hidden=True, about="n_steps = 0: x0 and a history of one row"),
        Check("grad_calls", _gd_case([2.0, 1.0], 1.0, 12, count=True), _count_judge,
              points=0.5, hidden=True, about="one grad_f call per step"),
    ),
    # Measured (benchmarks/timing_flags.py): np.vstack of the history at every step 8x to 13x
    # the reference at 3,000 steps; a list of iterates or a preallocated array 1x.
    timing=Timing(_gd_timing, slow_ratio=3.0,
                  advice="call grad_f once per step and collect the iterates in a list (or a "
                         "preallocated array): np.vstack or np.append inside the loop copies "
                         "the whole history at every step"),
)

EXERCISES = (NUMERICAL_GRADIENT, QUAD_GRAD_HESS, IS_POSITIVE_DEFINITE, GRADIENT_DESCENT)
