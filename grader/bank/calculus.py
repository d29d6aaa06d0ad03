"""Checks of exercises/calculus.py: numerical_gradient, quad_grad_hess (with taylor2);
is_positive_definite and gradient_descent are in calculus_minima.py.

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
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import describe, fmt
from grader.grading import run_reference
from grader.judges import Mistake, Trial, describe_raise, diagnose_mistakes, matches
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

EXERCISES = (NUMERICAL_GRADIENT, QUAD_GRAD_HESS)
