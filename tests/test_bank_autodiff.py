"""autodiff.forward_mode and autodiff.reverse_mode: the references against torch autograd
(every check's own code run on torch-backed stand-ins for Dual and Value), and realistic right
and wrong classes graded through the worker (each wrong one loses points with a message
saying what differs, and each declared mistake gets its diagnosis)."""

from __future__ import annotations

import math
import textwrap
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import cases, check, reference_source
from grader.bank import autodiff as bank
from grader.catalog import reference_module
from grader.grading import run_reference
from grader.judges import Trial

torch = pytest.importorskip("torch")

REF = reference_module("autodiff")
EXERCISES = {e.id: e for e in bank.EXERCISES}
EXPLAIN = {m.name: m.explain for m in (*bank.FORWARD_MISTAKES, *bank.REVERSE_MISTAKES)}
REFERENCE = reference_source("autodiff")


def failures_in_process(exercise_id, source, seeds):
    """Judge a (trusted) implementation run here on every check and seed (faster than the
    worker). Returns the failing (seed, check, message)."""
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


def test_mistake_names_are_unique_in_the_module():
    names = list(EXPLAIN)
    assert len(names) == len(bank.FORWARD_MISTAKES) + len(bank.REVERSE_MISTAKES)


# ============================================================================ torch stand-ins

def _tensor(x):
    return torch.tensor(float(x), dtype=torch.float64, requires_grad=True)


class TorchDual:
    """A Dual whose eps is computed by torch autograd: eps = seed * d val / d x."""

    def __init__(self, val, eps=0.0, *, _t=None, _leaf=None):
        if _t is None:
            self.t = self.leaf = _tensor(val)
            self.seed = float(eps)
        else:
            self.t, self.leaf, self.seed = _t, _leaf, eps

    def _wrap(self, t):
        return TorchDual(None, self.seed, _t=t, _leaf=self.leaf)

    @property
    def val(self):
        return self.t.item()

    @property
    def eps(self):
        if not self.t.requires_grad:
            return 0.0
        (grad,) = torch.autograd.grad(self.t, self.leaf, retain_graph=True)
        return grad.item() * self.seed

    def __add__(self, o):
        return self._wrap(self.t + o)

    def __radd__(self, o):
        return self._wrap(o + self.t)

    def __sub__(self, o):
        return self._wrap(self.t - o)

    def __rsub__(self, o):
        return self._wrap(o - self.t)

    def __mul__(self, o):
        return self._wrap(self.t * o)

    def __rmul__(self, o):
        return self._wrap(o * self.t)

    def __truediv__(self, o):
        return self._wrap(self.t / o)

    def __rtruediv__(self, o):
        return self._wrap(o / self.t)

    def __neg__(self):
        return self._wrap(-self.t)


def _on_tensor(x):  # what torch operators should see of a TorchDual operand
    return x.t if isinstance(x, TorchDual) else x


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__"):
    _method = getattr(TorchDual, _name)
    setattr(TorchDual, _name, lambda self, o, m=_method: m(self, _on_tensor(o)))


def _torch_unary(fn, plain):
    return lambda x: x._wrap(fn(x.t)) if isinstance(x, TorchDual) else plain(x)


def _torch_derivative(f, x):
    out = f(TorchDual(x, 1.0))
    return out.eps if isinstance(out, TorchDual) else 0.0


TORCH_FORWARD = SimpleNamespace(Dual=TorchDual, derivative=_torch_derivative,
                                sin=_torch_unary(torch.sin, math.sin),
                                exp=_torch_unary(torch.exp, math.exp),
                                log=_torch_unary(torch.log, math.log))


class TorchValue:
    """A Value on torch tensors: grads by torch autograd, every node's (retain_grad)."""

    made: list = []  # the nodes of the current check, whose grads backward() zeroes

    def __init__(self, data, *, _t=None):
        if _t is None:
            self.t = _tensor(data)
        else:
            self.t = _t
            self.t.retain_grad()
        TorchValue.made.append(self)

    @property
    def data(self):
        return self.t.item()

    @property
    def grad(self):
        return 0.0 if self.t.grad is None else self.t.grad.item()

    def _op(self, fn):
        return TorchValue(None, _t=fn(self.t))

    def __add__(self, o):
        return self._op(lambda t: t + _value_tensor(o))

    __radd__ = __add__

    def __mul__(self, o):
        return self._op(lambda t: t * _value_tensor(o))

    __rmul__ = __mul__

    def __sub__(self, o):
        return self._op(lambda t: t - _value_tensor(o))

    def __rsub__(self, o):
        return self._op(lambda t: o - t)

    def __truediv__(self, o):
        return self._op(lambda t: t / _value_tensor(o))

    def __rtruediv__(self, o):
        return self._op(lambda t: o / t)

    def __pow__(self, k):
        return self._op(lambda t: t ** k)

    def __neg__(self):
        return self._op(lambda t: -t)

    def exp(self):
        return self._op(torch.exp)

    def log(self):
        return self._op(torch.log)

    def tanh(self):
        return self._op(torch.tanh)

    def relu(self):
        return self._op(torch.relu)

    def backward(self):
        for node in TorchValue.made:
            node.t.grad = None
        self.t.backward(retain_graph=True)


def _value_tensor(x):
    return x.t if isinstance(x, TorchValue) else x


# ============================================================================ references

@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_reference_agrees_with_torch_autograd_on_every_check(exercise_id):
    """Each check's own code, run with the reference's classes and with torch's: the values,
    derivatives and grads agree to rtol 1e-12 (measured on 50 seeds: at most 1e-14 relative)."""
    stand_in = TORCH_FORWARD if exercise_id == "autodiff.forward_mode" else SimpleNamespace(
        Value=TorchValue)
    for check_, case in cases(exercise_id, seeds=range(20)):
        TorchValue.made = []
        want = run_reference(stand_in, case)[0]
        got = run_reference(REF, case)[0]
        assert want.raised is None and got.raised is None, (check_.name, want.raised, got.raised)
        np.testing.assert_allclose(got.value, want.value, rtol=1e-12, atol=1e-12,
                                   err_msg=check_.name)


def test_forward_reference_matches_analytic_derivatives():
    for x in (0.3, 1.0, 2.7):
        d = REF.derivative
        np.testing.assert_allclose(d(lambda t: REF.sin(t) * REF.exp(t), x),
                                   (math.cos(x) + math.sin(x)) * math.exp(x), rtol=1e-14)
        np.testing.assert_allclose(d(lambda t: (t + 1) / (t * t + 1), x),
                                   (1 - 2 * x - x * x) / (x * x + 1) ** 2, rtol=1e-13)
        np.testing.assert_allclose(d(lambda t: REF.log(t * t + 1), x), 2 * x / (x * x + 1),
                                   rtol=1e-14)
        assert d(lambda t: 4.0, x) == 0.0
        assert isinstance(REF.sin(x), float) and REF.sin(x) == math.sin(x)


def test_reverse_reference_accumulates_reused_nodes_and_backward_twice_is_idempotent():
    a, b = REF.Value(1.5), REF.Value(-2.0)
    out = a * b + a * a  # a used three times: d/da = b + 2a = 1, d/db = a
    out.backward()
    assert (a.grad, b.grad) == (1.0, 1.5)
    out.backward()
    assert (a.grad, b.grad) == (1.0, 1.5)


def test_reverse_reference_handles_a_graph_deeper_than_the_recursion_limit():
    x = REF.Value(0.5)
    t = x
    for _ in range(5000):
        t = t * 1.0 + 0.0
    t.backward()
    assert x.grad == 1.0


# ============================================================================ forward mode

FORWARD_RIGHT = {
    "quotient_as_two_terms": """
        import math
        from numbers import Number

        class Dual:
            def __init__(self, val, eps=0.0):
                self.val, self.eps = val, eps

            def _coerce(self, other):
                return other if isinstance(other, Dual) else Dual(float(other))

            def __add__(self, other):
                other = self._coerce(other)
                return Dual(self.val + other.val, self.eps + other.eps)

            def __radd__(self, other):
                return self + other

            def __sub__(self, other):
                other = self._coerce(other)
                return Dual(self.val - other.val, self.eps - other.eps)

            def __rsub__(self, other):
                return self._coerce(other) - self

            def __mul__(self, other):
                other = self._coerce(other)
                return Dual(self.val * other.val, self.val * other.eps + self.eps * other.val)

            def __rmul__(self, other):
                return self * other

            def __truediv__(self, other):
                other = self._coerce(other)
                return Dual(self.val / other.val,
                            self.eps / other.val - self.val * other.eps / other.val ** 2)

            def __rtruediv__(self, other):
                return self._coerce(other) / self

            def __neg__(self):
                return Dual(-self.val, -self.eps)

        def sin(x):
            if isinstance(x, Number):
                return math.sin(x)
            return Dual(math.sin(x.val), x.eps * math.cos(x.val))

        def exp(x):
            if isinstance(x, Number):
                return math.exp(x)
            return Dual(math.exp(x.val), x.eps * math.exp(x.val))

        def log(x):
            if isinstance(x, Number):
                return math.log(x)
            return Dual(math.log(x.val), x.eps / x.val)

        def derivative(f, x):
            y = f(Dual(x, 1.0))
            return y.eps if isinstance(y, Dual) else 0.0
        """,
    "numpy_functions": """
        import numpy as np

        class Dual:
            def __init__(self, val, eps=0.0):
                self.val = val
                self.eps = eps

            @staticmethod
            def of(x):
                return x if isinstance(x, Dual) else Dual(x, 0.0)

            def __add__(self, o):
                o = Dual.of(o)
                return Dual(self.val + o.val, self.eps + o.eps)

            __radd__ = __add__

            def __neg__(self):
                return Dual(-self.val, -self.eps)

            def __sub__(self, o):
                return self + (-Dual.of(o))

            def __rsub__(self, o):
                return (-self) + o

            def __mul__(self, o):
                o = Dual.of(o)
                return Dual(self.val * o.val, self.eps * o.val + self.val * o.eps)

            __rmul__ = __mul__

            def reciprocal(self):
                return Dual(1.0 / self.val, -self.eps / (self.val * self.val))

            def __truediv__(self, o):
                return self * Dual.of(o).reciprocal()

            def __rtruediv__(self, o):
                return Dual.of(o) * self.reciprocal()

        def _lift(fn, slope):
            def apply(x):
                if isinstance(x, Dual):
                    return Dual(float(fn(x.val)), float(slope(x.val)) * x.eps)
                return float(fn(x))
            return apply

        sin = _lift(np.sin, np.cos)
        exp = _lift(np.exp, np.exp)
        log = _lift(np.log, lambda v: 1.0 / v)

        def derivative(f, x):
            out = f(Dual(x, 1.0))
            return out.eps if isinstance(out, Dual) else 0.0
        """,
}


@pytest.mark.parametrize("name", ["reference", *FORWARD_RIGHT])
def test_forward_mode_correct_implementations_get_full_marks(grade_one, name):
    source = REFERENCE if name == "reference" else FORWARD_RIGHT[name]
    result = grade_one("autodiff.forward_mode", {"autodiff.py": source})
    assert result.status == "passed", result.message
    assert result.score == result.max_score == 4.0
    assert result.diagnosis is None and all(c.diagnosis is None for c in result.checks)


@pytest.mark.parametrize("name", list(FORWARD_RIGHT))
def test_forward_mode_correct_implementations_pass_for_many_seeds(name):
    assert failures_in_process("autodiff.forward_mode", FORWARD_RIGHT[name], range(1, 51)) == []


def _forward(old: str, new: str) -> str:
    assert old in REFERENCE
    return REFERENCE.replace(old, new)


RULES = ("derivative(f, x) for f(t) = t^3 - 2t + 1, (t + 1) / (t^2 + 1), t (t - 1) / (t + 2), "
         "t^2 / (t - 3) * t for x (")
CONSTANTS = ("[val, eps] of 2 + d, d + 0.5, 3 - d, d - 2, 2.5 * d, d * 2, 3 / d, d / 4, -d for "
             "d = Dual(x, 1.5) for x (")
ELEMENTARY = ("derivative(f, x) for f(t) = sin(t) exp(t), log(t^2 + 1), exp(sin t) / t, "
              "sin(log t) + exp(-t) for x (")
FORWARD_WRONG = {  # name: (source, score, failing check, message start, mistake)
    "product_of_derivatives": (
        _forward("self.eps * other.val + self.val * other.eps", "self.eps * other.eps"),
        0.5, "product_quotient_rules", RULES, "fw_product_of_derivatives"),
    "quotient_rule_swapped": (
        _forward("(self.eps * other.val - self.val * other.eps)",
                 "(self.val * other.eps - self.eps * other.val)"),
        0.5, "product_quotient_rules", RULES, "fw_quotient_rule_swapped"),
    "rsub_is_sub": (_forward("        return Dual.lift(other) + (-self)",
                             "        return self - other"),
                    3.5, "constants_both_sides", CONSTANTS, "fw_rsub_reversed"),
    "rtruediv_is_truediv": (_forward("        return Dual.lift(other) / self",
                                     "        return self / other"),
                            3.5, "constants_both_sides", CONSTANTS, "fw_rtruediv_reversed"),
    "chain_rule_missing": (
        _forward("math.cos(x.val) * x.eps", "math.cos(x.val)").replace(
            "Dual(e, e * x.eps)", "Dual(e, e)").replace("x.eps / x.val", "1.0 / x.val"),
        2.0, "elementary_functions", ELEMENTARY, "fw_chain_rule_missing"),
    "sin_of_float_is_a_dual": (
        _forward("    return math.sin(x)\n", "    return Dual(math.sin(x), 0.0)\n"),
        3.5, "plain_numbers", "[sin(x), exp(x), log(x), derivative(lambda t: 5.0, x), "
        "derivative(lambda t: exp(2.0) + log(3.0), x)] for x (", None),
    "no_radd": (_forward("    __radd__ = __add__\n", ""), 3.0, "constants_both_sides",
                "[val, eps] of 2 + d, d + 0.5, 3 - d, d - 2, 2.5 * d, d * 2, 3 / d, d / 4, -d "
                "for d = Dual(x, 1.5) raised TypeError: unsupported operand type(s) for +: "
                "'int' and 'Dual'", None),
}


@pytest.mark.parametrize("name", list(FORWARD_WRONG))
def test_forward_mode_wrong_implementations_lose_points_with_their_diagnosis(grade_one, name):
    source, score, failing, message, mistake = FORWARD_WRONG[name]
    result = grade_one("autodiff.forward_mode", {"autodiff.py": source})
    assert (result.status, result.score) == ("partial", score), result.message
    got = check(result, failing)
    assert got.status == "failed" and got.score == 0
    assert got.message.startswith(message), got.message
    assert got.diagnosis == (EXPLAIN[mistake] if mistake else None)


# ============================================================================ reverse mode

REVERSE_RIGHT = {
    "recursive_topological_sort": """
        import math

        class Value:
            def __init__(self, data, _children=(), _op=""):
                self.data = data
                self.grad = 0.0
                self._backward = lambda: None
                self._prev = set(_children)
                self._op = _op

            def __add__(self, other):
                other = other if isinstance(other, Value) else Value(other)
                out = Value(self.data + other.data, (self, other), "+")
                def _backward():
                    self.grad += out.grad
                    other.grad += out.grad
                out._backward = _backward
                return out

            def __mul__(self, other):
                other = other if isinstance(other, Value) else Value(other)
                out = Value(self.data * other.data, (self, other), "*")
                def _backward():
                    self.grad += other.data * out.grad
                    other.grad += self.data * out.grad
                out._backward = _backward
                return out

            def __pow__(self, other):
                out = Value(self.data ** other, (self,), f"**{other}")
                def _backward():
                    self.grad += (other * self.data ** (other - 1)) * out.grad
                out._backward = _backward
                return out

            def relu(self):
                out = Value(0 if self.data < 0 else self.data, (self,), "ReLU")
                def _backward():
                    self.grad += (out.data > 0) * out.grad
                out._backward = _backward
                return out

            def tanh(self):
                t = (math.exp(2 * self.data) - 1) / (math.exp(2 * self.data) + 1)
                out = Value(t, (self,), "tanh")
                def _backward():
                    self.grad += (1 - t ** 2) * out.grad
                out._backward = _backward
                return out

            def exp(self):
                out = Value(math.exp(self.data), (self,), "exp")
                def _backward():
                    self.grad += out.data * out.grad
                out._backward = _backward
                return out

            def log(self):
                out = Value(math.log(self.data), (self,), "log")
                def _backward():
                    self.grad += out.grad / self.data
                out._backward = _backward
                return out

            def backward(self):
                topo = []
                visited = set()
                def build_topo(v):
                    if v not in visited:
                        visited.add(v)
                        for child in v._prev:
                            build_topo(child)
                        topo.append(v)
                build_topo(self)
                for v in topo:
                    v.grad = 0.0
                self.grad = 1.0
                for v in reversed(topo):
                    v._backward()

            def __neg__(self):
                return self * -1

            def __radd__(self, other):
                return self + other

            def __sub__(self, other):
                return self + (-other)

            def __rsub__(self, other):
                return other + (-self)

            def __rmul__(self, other):
                return self * other

            def __truediv__(self, other):
                return self * other ** -1

            def __rtruediv__(self, other):
                return other * self ** -1
        """,
    "kahn_order_with_local_grads": """
        import math

        class Value:
            def __init__(self, data, parents=()):
                self.data = float(data)
                self.grad = 0.0
                self.parents = list(parents)      # (operand, d self / d operand)

            @staticmethod
            def wrap(x):
                return x if isinstance(x, Value) else Value(x)

            def __add__(self, o):
                o = Value.wrap(o)
                return Value(self.data + o.data, [(self, 1.0), (o, 1.0)])

            def __radd__(self, o):
                return Value.wrap(o) + self

            def __sub__(self, o):
                o = Value.wrap(o)
                return Value(self.data - o.data, [(self, 1.0), (o, -1.0)])

            def __rsub__(self, o):
                return Value.wrap(o) - self

            def __mul__(self, o):
                o = Value.wrap(o)
                return Value(self.data * o.data, [(self, o.data), (o, self.data)])

            def __rmul__(self, o):
                return Value.wrap(o) * self

            def __truediv__(self, o):
                o = Value.wrap(o)
                return Value(self.data / o.data,
                             [(self, 1.0 / o.data), (o, -self.data / o.data ** 2)])

            def __rtruediv__(self, o):
                return Value.wrap(o) / self

            def __pow__(self, k):
                return Value(self.data ** k, [(self, k * self.data ** (k - 1))])

            def __neg__(self):
                return Value(-self.data, [(self, -1.0)])

            def exp(self):
                e = math.exp(self.data)
                return Value(e, [(self, e)])

            def log(self):
                return Value(math.log(self.data), [(self, 1.0 / self.data)])

            def tanh(self):
                t = math.tanh(self.data)
                return Value(t, [(self, 1.0 - t * t)])

            def relu(self):
                return Value(max(0.0, self.data), [(self, float(self.data > 0))])

            def backward(self):
                # Kahn's algorithm from the output: a node runs once all its users have run.
                users, stack, seen = {}, [self], {id(self)}
                while stack:
                    node = stack.pop()
                    for parent, _ in node.parents:
                        users[id(parent)] = users.get(id(parent), 0) + 1
                        if id(parent) not in seen:
                            seen.add(id(parent))
                            stack.append(parent)
                nodes = {}
                stack = [self]
                while stack:
                    node = stack.pop()
                    nodes[id(node)] = node
                    stack.extend(p for p, _ in node.parents if id(p) not in nodes)
                for node in nodes.values():
                    node.grad = 0.0
                self.grad = 1.0
                ready = [self]
                while ready:
                    node = ready.pop()
                    for parent, local in node.parents:
                        parent.grad += local * node.grad
                        users[id(parent)] -= 1
                        if users[id(parent)] == 0:
                            ready.append(parent)
        """,
}


@pytest.mark.parametrize("name", ["reference", *REVERSE_RIGHT])
def test_reverse_mode_correct_implementations_get_full_marks(grade_one, name):
    source = REFERENCE if name == "reference" else REVERSE_RIGHT[name]
    result = grade_one("autodiff.reverse_mode", {"autodiff.py": source})
    assert result.status == "passed", result.message
    assert result.score == result.max_score == 5.5
    assert result.diagnosis is None and all(c.diagnosis is None for c in result.checks)


@pytest.mark.parametrize("name", list(REVERSE_RIGHT))
def test_reverse_mode_correct_implementations_pass_for_many_seeds(name):
    assert failures_in_process("autodiff.reverse_mode", REVERSE_RIGHT[name], range(1, 51)) == []


def _reverse(old: str, new: str) -> str:
    assert old in REFERENCE, old
    return REFERENCE.replace(old, new)


_NAIVE = """    def backward(self):
        self.grad = 1.0
        self._propagate()

    def _propagate(self):
        self._backward()
        for child in self._prev:
            child._propagate()

    def unused(self):"""
_PREORDER = """    def backward(self):
        self.grad = 1.0
        seen = set()
        def visit(node):
            if id(node) in seen:
                return
            seen.add(id(node))
            node._backward()
            for child in node._prev:
                visit(child)
        visit(self)

    def unused(self):"""
DIAMOND = ("out.data and the grads of x, y, z, w for y = x x, z = exp(y) y, w = z + 3 y, out = w z "
           "+ y for x (")
REUSED = "out.data and the grads of a, b, c for c = a b + a, out = c c + b for a, b ("
REVERSE_WRONG = {  # name: (source, score, failing check, message start, mistake)
    "grads_overwritten": (REFERENCE.replace(".grad += ", ".grad = "), 2.5, "node_used_twice",
                          REUSED, "rv_grad_overwritten"),
    "no_topological_order": (_reverse("    def backward(self):", _NAIVE), 3.5,
                             "node_used_twice", REUSED, "rv_no_topological_order"),
    "preorder_with_visited_set": (_reverse("    def backward(self):", _PREORDER), 4.5,
                                  "topological_order", DIAMOND, "rv_preorder_visit"),
    "grads_not_reset": (_reverse("        for node in order:\n            node.grad = 0.0\n",
                                 ""), 5.0, "backward_twice",
                        "the grads of a, b, c after calling backward() twice on out = (a b) a + "
                        "tanh(b) for a, b (", "rv_grads_not_reset"),
    "rsub_is_sub": (_reverse("        return Value.lift(other) + (-self)",
                             "        return self - other"),
                    5.0, "constants_both_sides",
                    "[out.data, a.grad] of 2 + a, a + 0.5, 3 - a, a - 2, 2.5 a, a 2, 3 / a, "
                    "a / 4, -a for a (", "rv_rsub_reversed"),
    "no_rtruediv": (_reverse("    def __rtruediv__(self, other):\n"
                             "        return Value.lift(other) * self ** -1\n", ""),
                    5.0, "constants_both_sides",
                    "[out.data, a.grad] of 2 + a, a + 0.5, 3 - a, a - 2, 2.5 a, a 2, 3 / a, "
                    "a / 4, -a raised TypeError: unsupported operand type(s) for /: 'int' and "
                    "'Value'", None),
}


@pytest.mark.parametrize("name", list(REVERSE_WRONG))
def test_reverse_mode_wrong_implementations_lose_points_with_their_diagnosis(grade_one, name):
    source, score, failing, message, mistake = REVERSE_WRONG[name]
    result = grade_one("autodiff.reverse_mode", {"autodiff.py": source})
    assert (result.status, result.score) == ("partial", score), result.message
    got = check(result, failing)
    assert got.status == "failed" and got.score == 0
    assert got.message.startswith(message), got.message
    assert got.diagnosis == (EXPLAIN[mistake] if mistake else None)


LIST_VISITED = _reverse("""        order, seen, stack = [], set(), [(self, False)]
        while stack:  # iterative: a deep graph does not reach the recursion limit
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)""", """        order, seen = [], []
        def visit(node):
            if node not in seen:
                seen.append(node)
                for child in node._prev:
                    visit(child)
                order.append(node)
        visit(self)""")


def test_a_list_of_visited_nodes_keeps_its_points(grade_files):
    """Quadratic (``node not in seen`` scans a list): 11x to 17x the reference on the timing
    graph of 8,000 nodes, a flag at 5x (benchmarks/timing_flags.py; the flag itself is tested
    in tests/test_timing_flags.py)."""
    graded = grade_files({"autodiff.py": LIST_VISITED}, ids=("autodiff.reverse_mode",))
    result = graded.exercises[0]
    assert result.status == "passed" and result.score == result.max_score
