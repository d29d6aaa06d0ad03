"""Automatic differentiation: forward mode with dual numbers, reverse mode with a graph of
scalar values (the idea behind torch.autograd, in miniature).

Fill in each class and function below. Run ``grade autodiff`` to check your work, or
``grade autodiff.forward_mode`` for one exercise. Numbers are Python floats.
"""

import math


# ============================================================================ forward mode

class Dual:
    """A dual number val + eps * e with e^2 = 0.  [autodiff.forward_mode]

    Math:   carrying the derivative along with the value: if x = Dual(x0, 1.0), then for any
            f built from the operations below, f(x) = Dual(f(x0), f'(x0)). Each operation
            applies its rule to the eps parts (u, v are Duals, u' and v' their eps):

                u + v  ->  (u + v,  u' + v')
                u - v  ->  (u - v,  u' - v')
                u * v  ->  (u v,    u' v + u v')                   product rule
                u / v  ->  (u / v,  (u' v - u v') / v^2)           quotient rule
                -u     ->  (-u,     -u')

            A plain number c is the Dual (c, 0): a constant has derivative 0. It may stand on
            either side: 2 * x calls x.__rmul__(2), 1 - x calls x.__rsub__(1), and 1 / x calls
            x.__rtruediv__(1); the order matters for - and /.

    Attributes:
        val: the value (a float).
        eps: the derivative part (a float); Dual(x0, 1.0) seeds d/dx.

    Operations with Duals and with plain numbers (int or float) on either side must work;
    each returns a new Dual.
    """

    def __init__(self, val, eps=0.0):
        self.val = val
        self.eps = eps

    def __add__(self, other):
        raise NotImplementedError("autodiff.forward_mode: implement Dual.__add__ in "
                                  "exercises/autodiff.py")

    def __radd__(self, other):
        raise NotImplementedError("autodiff.forward_mode: implement Dual.__radd__ in "
                                  "exercises/autodiff.py")

    def __sub__(self, other):
        raise NotImplementedError("autodiff.forward_mode: implement Dual.__sub__ in "
                                  "exercises/autodiff.py")

    def __rsub__(self, other):
        raise NotImplementedError("autodiff.forward_mode: implement Dual.__rsub__ in "
                                  "exercises/autodiff.py")

    def __mul__(self, other):
        raise NotImplementedError("autodiff.forward_mode: implement Dual.__mul__ in "
                                  "exercises/autodiff.py")

    def __rmul__(self, other):
        raise NotImplementedError("autodiff.forward_mode: implement Dual.__rmul__ in "
                                  "exercises/autodiff.py")

    def __truediv__(self, other):
        raise NotImplementedError("autodiff.forward_mode: implement Dual.__truediv__ in "
                                  "exercises/autodiff.py")

    def __rtruediv__(self, other):
        raise NotImplementedError("autodiff.forward_mode: implement Dual.__rtruediv__ in "
                                  "exercises/autodiff.py")

    def __neg__(self):
        raise NotImplementedError("autodiff.forward_mode: implement Dual.__neg__ in "
                                  "exercises/autodiff.py")


def sin(x):
    """sin of a Dual or of a plain number.  [autodiff.forward_mode]

    Math (chain rule):  sin(u) -> (sin(u), cos(u) * u')   (note the factor u').
    For a plain number return math.sin(x), a float.
    """
    raise NotImplementedError("autodiff.forward_mode: implement sin(x) in exercises/autodiff.py")


def exp(x):
    """exp of a Dual or of a plain number.  [autodiff.forward_mode]

    Math (chain rule):  exp(u) -> (exp(u), exp(u) * u').
    For a plain number return math.exp(x), a float.
    """
    raise NotImplementedError("autodiff.forward_mode: implement exp(x) in exercises/autodiff.py")


def log(x):
    """Natural log of a Dual or of a plain number (x > 0).  [autodiff.forward_mode]

    Math (chain rule):  log(u) -> (log(u), u' / u).
    For a plain number return math.log(x), a float.
    """
    raise NotImplementedError("autodiff.forward_mode: implement log(x) in exercises/autodiff.py")


def derivative(f, x):
    """f'(x) by forward mode: evaluate f at Dual(x, 1.0) and read the eps part.
    [autodiff.forward_mode]

    Args:
        f: a function of one variable built from +, -, *, / and sin, exp, log above.
        x: a float.

    Returns:
        The float f'(x). When f returns a plain number (a constant function, one that ignores
        its argument), the derivative is 0.0.

    Cost: one evaluation of f, O(1) work per operation (no finite differences).
    """
    raise NotImplementedError("autodiff.forward_mode: implement derivative(f, x) in "
                              "exercises/autodiff.py")


# ============================================================================ reverse mode

class Value:
    """A scalar that remembers how it was computed, for reverse-mode differentiation
    (micrograd style).  [autodiff.reverse_mode]

    Every operation returns a new Value whose children are its operands and which knows how
    to pass its gradient back to them (its local derivatives times its own grad, by the chain
    rule). out.backward() then computes d out / d node for EVERY node of the graph in .grad:

      1. order the graph topologically, so that a node comes after everything it depends on
         (a depth-first search that appends a node after its children);
      2. set every node's grad to 0, and out.grad = 1 (d out / d out);
      3. visit the nodes in REVERSE topological order and let each add its contribution to its
         children's grads. A node's grad is complete only once every node that uses it has
         passed its contribution back, which this order guarantees.

    A node used more than once (a * a, or x in x * y + x) receives a contribution from each
    use: ACCUMULATE with +=, never overwrite with =.

    Since step 2 zeroes the grads, calling backward() twice gives the same grads as calling it
    once (torch instead adds to .grad across backward calls until you zero them).

    Local derivatives (out = the result, g = out.grad):
        a + b    : a.grad += g,          b.grad += g
        a * b    : a.grad += b * g,      b.grad += a * g
        a ** k   : a.grad += k a^(k-1) g     (k a plain number)
        -a, a - b, a / b: through the rules above (a / b = a * b ** -1), or directly
        a.exp()  : a.grad += exp(a) g
        a.log()  : a.grad += g / a
        a.tanh() : a.grad += (1 - tanh(a)^2) g
        a.relu() : a.grad += g if a > 0 else 0   (0 at a = 0)

    Plain numbers (int or float) may stand on either side of +, -, *, /: 2 * a calls
    a.__rmul__(2), 1 - a calls a.__rsub__(1), 1 / a calls a.__rtruediv__(1). They are
    constants: they get no grad.

    Attributes:
        data: the value (a float).
        grad: d out / d self after out.backward() (a float, 0.0 before).

    Cost: backward() is linear in the size of the graph (keep the visited nodes in a set).
    """

    def __init__(self, data, _children=()):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)     # the operands this value was computed from
        self._backward = lambda: None     # passes self.grad back to self._prev

    def __add__(self, other):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.__add__ in "
                                  "exercises/autodiff.py")

    def __radd__(self, other):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.__radd__ in "
                                  "exercises/autodiff.py")

    def __sub__(self, other):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.__sub__ in "
                                  "exercises/autodiff.py")

    def __rsub__(self, other):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.__rsub__ in "
                                  "exercises/autodiff.py")

    def __mul__(self, other):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.__mul__ in "
                                  "exercises/autodiff.py")

    def __rmul__(self, other):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.__rmul__ in "
                                  "exercises/autodiff.py")

    def __truediv__(self, other):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.__truediv__ in "
                                  "exercises/autodiff.py")

    def __rtruediv__(self, other):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.__rtruediv__ in "
                                  "exercises/autodiff.py")

    def __pow__(self, k):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.__pow__ in "
                                  "exercises/autodiff.py")

    def __neg__(self):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.__neg__ in "
                                  "exercises/autodiff.py")

    def exp(self):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.exp in "
                                  "exercises/autodiff.py")

    def log(self):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.log in "
                                  "exercises/autodiff.py")

    def tanh(self):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.tanh in "
                                  "exercises/autodiff.py")

    def relu(self):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.relu in "
                                  "exercises/autodiff.py")

    def backward(self):
        raise NotImplementedError("autodiff.reverse_mode: implement Value.backward in "
                                  "exercises/autodiff.py")
