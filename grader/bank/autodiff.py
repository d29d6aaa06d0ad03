"""Checks of exercises/autodiff.py: forward mode (Dual, derivative, sin, exp, log) and reverse
mode (Value with backward()).

A student's Dual or Value cannot cross the wire, so every check is a call of the check's own
code (a :class:`~grader.sandbox.wire.Fn`), compiled in the worker with the student's module in
scope: it builds expressions from the student's classes and returns plain floats (values,
derivatives, leaf grads). The grader runs the same code with the reference's classes for the
expected floats, and with flawed classes of its own to name known mistakes.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from grader.catalog import Call, Case, Check, Exercise, Timing
from grader.grading import run_reference
from grader.judges import Mistake, matches
from grader.sandbox.wire import Fn

# Values and derivatives are a few dozen float operations on numbers of order 1 to 100:
# correct implementations (the quotient rule as one fraction or as u'/v - u v'/v^2, a / b as
# a * b**-1 or directly, math.tanh or exp-based tanh) differ by a few ulps. Every known mistake
# changes a derivative by O(1).
RTOL = ATOL = 1e-12


def _replay(case: Case, names: dict) -> Any:
    """The check's result when the module under test holds ``names`` (flawed classes)."""
    with np.errstate(all="ignore"):
        result = run_reference(SimpleNamespace(**names), case)[-1]
    if result.raised is not None:
        raise ArithmeticError(f"the flawed replay raised {result.raised['type']}")
    return result.value


def _case(source: str, label: str, draws: Callable[[np.random.Generator], tuple], note: str):
    def build(rng: np.random.Generator) -> Case:
        args = tuple(float(v) for v in draws(rng))
        shown = ", ".join(f"{v:.4g}" for v in args)
        return Case((Call(Fn(source, label=label), args),), f"{note} ({shown})")
    return build


def _positive(n: int) -> Callable[[np.random.Generator], tuple]:
    return lambda rng: tuple(rng.uniform(0.5, 2.0, n))


# ============================================================================ forward mode

_RULES = """def f(x):
    return [derivative(lambda t: t * t * t - 2 * t + 1, x),
            derivative(lambda t: (t + 1) / (t * t + 1), x),
            derivative(lambda t: t * (t - 1) / (t + 2), x),
            derivative(lambda t: t * t / (t - 3) * t, x)]"""
_ELEMENTARY = """def f(x):
    return [derivative(lambda t: sin(t) * exp(t), x),
            derivative(lambda t: log(t * t + 1), x),
            derivative(lambda t: exp(sin(t)) / t, x),
            derivative(lambda t: sin(log(t)) + exp(-t), x)]"""
_CONSTANTS = """def f(x):
    d = Dual(x, 1.5)
    out = []
    for e in (2 + d, d + 0.5, 3 - d, d - 2, 2.5 * d, d * 2, 3 / d, d / 4, -d):
        out += [e.val, e.eps]
    return out"""
_SEEDED = """def f(x):
    d = Dual(x, 0.7)
    out = []
    for e in (sin(d) * d, exp(d) / d, log(d) - d * d, d / (d + 1) - sin(d)):
        out += [e.val, e.eps]
    return out"""
_PLAIN = """def f(x):
    return [sin(x), exp(x), log(x), derivative(lambda t: 5.0, x),
            derivative(lambda t: exp(2.0) + log(3.0), x)]"""
_DEEP = """def f(x):
    def wobble(t):
        for _ in range(20):
            t = sin(t) * 0.9 + t / 3
        return t
    return [derivative(lambda t: log(exp(sin(t * t)) + 2) / t, x),
            derivative(lambda t: exp(exp(t) / (1 + t)), x),
            derivative(lambda t: sin(sin(sin(t))) * log(t + 5), x),
            derivative(wobble, x)]"""


def _forward_names(flaw: str) -> dict:
    """Dual, sin, exp, log, derivative with one known flaw (replayed in the grader)."""

    class D:
        def __init__(self, val, eps=0.0):
            self.val, self.eps = val, eps

    def lift(o):
        return o if isinstance(o, D) else D(o, 0.0)

    def add(a, b):
        b = lift(b)
        return D(a.val + b.val, a.eps + b.eps)

    def mul(a, b):
        b = lift(b)
        eps = a.eps * b.eps if flaw == "product" else a.eps * b.val + a.val * b.eps
        return D(a.val * b.val, eps)

    def div(a, b):
        a, b = lift(a), lift(b)
        num = a.eps * b.val - a.val * b.eps
        return D(a.val / b.val, (-num if flaw == "quotient" else num) / (b.val * b.val))

    def neg(a):
        return D(-a.val, -a.eps)

    D.__add__ = D.__radd__ = add
    D.__mul__ = D.__rmul__ = mul
    D.__neg__ = neg
    D.__sub__ = lambda a, b: add(a, neg(lift(b)))
    D.__rsub__ = D.__sub__ if flaw == "rsub" else (lambda a, b: add(neg(a), b))
    D.__truediv__ = div
    D.__rtruediv__ = div if flaw == "rtruediv" else (lambda a, b: div(lift(b), a))

    def unary(fn, slope):
        def apply(x):
            if not isinstance(x, D):
                return fn(x)
            return D(fn(x.val), slope(x.val) * (1.0 if flaw == "chain" else x.eps))
        return apply

    def derivative(f, x):
        out = f(D(x, 1.0))
        return out.eps if isinstance(out, D) else 0.0

    return {"Dual": D, "sin": unary(math.sin, math.cos), "exp": unary(math.exp, math.exp),
            "log": unary(math.log, lambda v: 1.0 / v), "derivative": derivative}


def _forward_flaw(flaw: str) -> Callable[[Case], Any]:
    return lambda case: _replay(case, _forward_names(flaw))


FORWARD_MISTAKES = (
    Mistake("fw_product_of_derivatives",
            "your product rule multiplies the derivatives, (u v)' = u' v': the product rule is "
            "(u v)' = u' v + u v', so Dual(a, a') * Dual(b, b') = Dual(a b, a' b + a b')",
            _forward_flaw("product")),
    Mistake("fw_quotient_rule_swapped",
            "your quotient rule has the numerator the wrong way round: (u / v)' = "
            "(u' v - u v') / v^2, with the derivative of the numerator first",
            _forward_flaw("quotient")),
    Mistake("fw_rsub_reversed",
            "c - x computed x - c: Python calls x.__rsub__(c) for c - x, so __rsub__ must "
            "return Dual(c - val, -eps), not the same as __sub__",
            _forward_flaw("rsub")),
    Mistake("fw_rtruediv_reversed",
            "c / x computed x / c: Python calls x.__rtruediv__(c) for c / x, so __rtruediv__ "
            "must return Dual(c / val, -c eps / val^2), not the same as __truediv__",
            _forward_flaw("rtruediv")),
    Mistake("fw_chain_rule_missing",
            "your sin, exp and log drop the inner derivative: by the chain rule "
            "sin(Dual(u, u')) = Dual(sin u, cos(u) * u'), not cos(u); the factor u' is what "
            "carries the derivative through compositions like sin(2t) or exp(t^2)",
            _forward_flaw("chain")),
)

_forward_judge = matches(rtol=RTOL, atol=ATOL, mistakes=FORWARD_MISTAKES)

FORWARD_MODE = Exercise(
    id="autodiff.forward_mode",
    title="Forward-mode automatic differentiation with dual numbers",
    functions=("Dual", "derivative", "sin", "exp", "log"),
    summary="Dual(val, eps) with +, -, *, / (constants on either side), sin, exp, log, and "
            "derivative(f, x) = f(Dual(x, 1)).eps",
    checks=(
        Check("product_quotient_rules",
              _case(_RULES, "derivative(f, x) for f(t) = t^3 - 2t + 1, (t + 1) / (t^2 + 1), "
                            "t (t - 1) / (t + 2), t^2 / (t - 3) * t",
                    _positive(1), "x"),
              _forward_judge, points=1, about="sums, products and quotients"),
        Check("elementary_functions",
              _case(_ELEMENTARY, "derivative(f, x) for f(t) = sin(t) exp(t), log(t^2 + 1), "
                                 "exp(sin t) / t, sin(log t) + exp(-t)", _positive(1), "x"),
              _forward_judge, points=1, about="sin, exp, log and the chain rule"),
        Check("constants_both_sides",
              _case(_CONSTANTS, "[val, eps] of 2 + d, d + 0.5, 3 - d, d - 2, 2.5 * d, d * 2, "
                                "3 / d, d / 4, -d for d = Dual(x, 1.5)", _positive(1), "x"),
              _forward_judge, points=0.5, hidden=True,
              about="plain numbers on either side of every operator"),
        Check("values_and_seeds",
              _case(_SEEDED, "[val, eps] of sin(d) d, exp(d) / d, log(d) - d^2, "
                             "d / (d + 1) - sin(d) for d = Dual(x, 0.7)", _positive(1), "x"),
              _forward_judge, points=0.5, hidden=True,
              about="values carried along; a seed eps other than 1"),
        Check("plain_numbers",
              _case(_PLAIN, "[sin(x), exp(x), log(x), derivative(lambda t: 5.0, x), "
                            "derivative(lambda t: exp(2.0) + log(3.0), x)]", _positive(1), "x"),
              _forward_judge, points=0.5, hidden=True,
              about="sin, exp, log of floats; constant functions have derivative 0"),
        Check("deep_composition",
              _case(_DEEP, "derivative(f, x) for deep compositions (sin of sin of sin, 20 "
                           "nested steps of t -> 0.9 sin(t) + t/3)", _positive(1), "x"),
              _forward_judge, points=0.5, hidden=True, about="long chains of the chain rule"),
    ),
)


# ============================================================================ reverse mode

_ARITHMETIC = """def f(x0, x1, x2, x3):
    a, b, c, d = Value(x0), Value(x1), Value(x2), Value(x3)
    out = (a * b - c) / (d + 1.5)
    out.backward()
    return [out.data, a.grad, b.grad, c.grad, d.grad]"""
_REUSED = """def f(x0, x1):
    a, b = Value(x0), Value(x1)
    c = a * b + a
    d = c * c + b
    d.backward()
    return [d.data, a.grad, b.grad, c.grad]"""
_NEURON = """def f(x0, x1, x2, x3, x4):
    x1_, x2_, w1, w2, b = Value(x0), Value(x1), Value(x2), Value(x3), Value(x4)
    out = (x1_ * w1 + x2_ * w2 + b).tanh()
    out.backward()
    return [out.data, x1_.grad, x2_.grad, w1.grad, w2.grad, b.grad]"""
_DIAMOND = """def f(x0):
    x = Value(x0)
    y = x * x
    z = y.exp() * y
    w = z + y * 3.0
    out = w * z + y
    out.backward()
    return [out.data, x.grad, y.grad, z.grad, w.grad]"""
_FUNCTIONS = """def f(x0, x1):
    a, b = Value(x0), Value(x1)
    out = (a.exp() * b.log() + (a * b).tanh() + (a - b).relu() + (b - a).relu()
           + (a - a).relu() + a ** 3 + b ** -0.5)
    out.backward()
    return [out.data, a.grad, b.grad]"""
_R_CONSTANTS = """def f(x0):
    out = []
    for make in (lambda a: 2 + a, lambda a: a + 0.5, lambda a: 3 - a, lambda a: a - 2,
                 lambda a: 2.5 * a, lambda a: a * 2, lambda a: 3 / a, lambda a: a / 4,
                 lambda a: -a):
        a = Value(x0)
        r = make(a)
        r.backward()
        out += [r.data, a.grad]
    return out"""
_TWICE = """def f(x0, x1):
    a, b = Value(x0), Value(x1)
    c = a * b
    out = c * a + b.tanh()
    out.backward()
    out.backward()
    return [a.grad, b.grad, c.grad]"""
_CHAIN = """def f(x0):
    x = Value(x0)
    t = x
    for _ in range(200):
        t = t * 0.99 + x * 0.02
    t.backward()
    return [t.data, x.grad]"""


def _signed(rng: np.random.Generator) -> tuple:
    return tuple(rng.choice((-1.0, 1.0), 5) * rng.uniform(0.3, 1.5, 5))


def _reverse_names(flaw: str) -> dict:
    """Value with one known flaw in backward (replayed in the grader)."""

    class V:
        def __init__(self, data, children=()):
            self.data, self.grad, self.back = float(data), 0.0, list(children)

    def lift(o):
        return o if isinstance(o, V) else V(o)

    def node(value, pairs):
        return V(value, pairs)  # pairs of (child, local derivative)

    def give(child, amount):
        child.grad = amount if flaw == "overwrite" else child.grad + amount

    def mul(a, b):
        b = lift(b)
        return node(a.data * b.data, [(a, b.data), (b, a.data)])

    V.__add__ = V.__radd__ = lambda a, b: node(a.data + lift(b).data, [(a, 1.0), (lift(b), 1.0)])
    V.__mul__ = V.__rmul__ = mul
    V.__pow__ = lambda a, k: node(a.data ** k, [(a, k * a.data ** (k - 1))])
    V.__neg__ = lambda a: mul(a, -1.0)
    V.__sub__ = lambda a, b: a + (-lift(b))
    V.__rsub__ = V.__sub__ if flaw == "rsub" else (lambda a, b: lift(b) + (-a))
    V.__truediv__ = lambda a, b: a * lift(b) ** -1
    V.__rtruediv__ = lambda a, b: lift(b) * a ** -1
    V.exp = lambda a: node(math.exp(a.data), [(a, math.exp(a.data))])
    V.log = lambda a: node(math.log(a.data), [(a, 1.0 / a.data)])
    V.tanh = lambda a: node(math.tanh(a.data), [(a, 1.0 - math.tanh(a.data) ** 2)])
    V.relu = lambda a: node(max(a.data, 0.0), [(a, 1.0 if a.data > 0 else 0.0)])

    def push(n, seen):
        """The recursion without a topological order: a node passes its grad on when reached
        (again on every path, or once when it keeps a visited set)."""
        if seen is not None:
            if id(n) in seen:
                return
            seen.add(id(n))
        for child, local in n.back:
            give(child, local * n.grad)
        for child, _ in n.back:
            push(child, seen)

    def backward(root):
        if flaw in ("no_order", "preorder"):
            root.grad = 1.0
            push(root, set() if flaw == "preorder" else None)
            return
        order, seen = [], set()

        def visit(n):
            if id(n) not in seen:
                seen.add(id(n))
                for child, _ in n.back:
                    visit(child)
                order.append(n)
        visit(root)
        if flaw != "not_reset":
            for n in order:
                n.grad = 0.0
        root.grad = 1.0
        for n in reversed(order):
            for child, local in n.back:
                give(child, local * n.grad)

    V.backward = backward
    return {"Value": V}


def _reverse_flaw(flaw: str) -> Callable[[Case], Any]:
    return lambda case: _replay(case, _reverse_names(flaw))


_ORDER = ("backward() must visit the nodes in reverse TOPOLOGICAL order: a node may pass its "
          "grad to its children only once every node that uses it has passed its contribution "
          "back. A recursion from the output {how} does not guarantee that (and a node reached "
          "by two paths must not run twice). Build the topological order first (a depth-first "
          "search appending a node after its children), then run the nodes in reverse")
# rv_grads_not_reset comes before the order mistakes: on a graph where each node is reached
# once they also fail to reset, and for a single backward() call its replay is the right answer.
REVERSE_MISTAKES = (
    Mistake("rv_grad_overwritten",
            "a node used more than once got only the gradient of its last use: you set "
            "child.grad = ... where the contributions of every use must add up "
            "(child.grad += ...), as for x in x * y + x (d/dx = y + 1)",
            _reverse_flaw("overwrite")),
    Mistake("rv_grads_not_reset",
            "calling backward() a second time changed the grads: backward() starts by setting "
            "the grad of every node of the graph to 0 (then out.grad = 1), so that a second call "
            "gives the same grads as the first",
            _reverse_flaw("not_reset")),
    Mistake("rv_no_topological_order", _ORDER.format(how="that runs each node's backward "
                                                         "whenever it is reached"),
            _reverse_flaw("no_order")),
    Mistake("rv_preorder_visit", _ORDER.format(how="with a visited set (each node once, in "
                                                   "the order first reached)"),
            _reverse_flaw("preorder")),
    Mistake("rv_rsub_reversed",
            "c - a computed a - c: Python calls a.__rsub__(c) for c - a, so __rsub__ must "
            "compute c - a (a new node with local derivative -1 for a), not the same as __sub__",
            _reverse_flaw("rsub")),
)

_reverse_judge = matches(rtol=RTOL, atol=ATOL, mistakes=REVERSE_MISTAKES)
_GRAPH = "out.data and the grads of "

_TIMING = """def f(xs):
    leaves = [Value(v) for v in xs]
    terms = [(a * b).tanh() for a, b in zip(leaves[:-1], leaves[1:])]
    while len(terms) > 1:
        odd = [terms[-1]] if len(terms) % 2 else []
        terms = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)] + odd
    terms[0].backward()"""

REVERSE_MODE = Exercise(
    id="autodiff.reverse_mode",
    title="Reverse-mode automatic differentiation (a scalar Value with backward())",
    functions=("Value",),
    summary="a graph of scalar Values; backward() zeroes every grad, then accumulates the "
            "chain rule in reverse topological order",
    checks=(
        Check("arithmetic",
              _case(_ARITHMETIC, _GRAPH + "a, b, c, d for out = (a b - c) / (d + 1.5)",
                    _positive(4), "a, b, c, d"),
              _reverse_judge, points=1, about="+, -, *, / on a small graph"),
        Check("node_used_twice",
              _case(_REUSED, _GRAPH + "a, b, c for c = a b + a, out = c c + b",
                    _positive(2), "a, b"),
              _reverse_judge, points=1, about="nodes used twice accumulate their grads"),
        Check("neuron",
              _case(_NEURON, _GRAPH + "x1, x2, w1, w2, b for out = tanh(x1 w1 + x2 w2 + b)",
                    _signed, "x1, x2, w1, w2, b"),
              _reverse_judge, points=1, about="a tanh neuron"),
        Check("topological_order",
              _case(_DIAMOND, _GRAPH + "x, y, z, w for y = x x, z = exp(y) y, w = z + 3 y, "
                              "out = w z + y", _positive(1), "x"),
              _reverse_judge, points=0.5, hidden=True,
              about="paths of different lengths: reverse topological order"),
        Check("exp_log_tanh_relu_pow",
              _case(_FUNCTIONS, _GRAPH + "a, b for exp, log, tanh, relu (of both signs and "
                                "of 0) and powers", _positive(2), "a, b"),
              _reverse_judge, points=0.5, hidden=True, about="exp, log, tanh, relu, **"),
        Check("constants_both_sides",
              _case(_R_CONSTANTS, "[out.data, a.grad] of 2 + a, a + 0.5, 3 - a, a - 2, 2.5 a, "
                                  "a 2, 3 / a, a / 4, -a", _positive(1), "a"),
              _reverse_judge, points=0.5, hidden=True,
              about="plain numbers on either side of every operator"),
        Check("backward_twice",
              _case(_TWICE, "the grads of a, b, c after calling backward() twice on "
                            "out = (a b) a + tanh(b)", _positive(2), "a, b"),
              _reverse_judge, points=0.5, hidden=True,
              about="a second backward() gives the same grads"),
        Check("long_chain",
              _case(_CHAIN, _GRAPH + "x after 200 steps t -> 0.99 t + 0.02 x",
                    _positive(1), "x"),
              _reverse_judge, points=0.5, hidden=True, about="a graph of 800 nodes"),
    ),
    timing=Timing(lambda rng: Call(Fn(_TIMING, label="backward() on a graph of 8,000 nodes"),
                                   (rng.standard_normal(2000).tolist(),), send=False),
                  slow_ratio=5.0,
                  advice="keep the visited nodes in a set (a list makes every membership test "
                         "a scan of the graph) and visit each node once"),
)

EXERCISES = (FORWARD_MODE, REVERSE_MODE)
