"""Reference solutions for exercises/autodiff.py."""

import math


# ----------------------------------------------------------------------------- forward mode

class Dual:
    def __init__(self, val, eps=0.0):
        self.val = val
        self.eps = eps

    @staticmethod
    def lift(other):
        return other if isinstance(other, Dual) else Dual(other, 0.0)

    def __add__(self, other):
        other = Dual.lift(other)
        return Dual(self.val + other.val, self.eps + other.eps)

    __radd__ = __add__

    def __neg__(self):
        return Dual(-self.val, -self.eps)

    def __sub__(self, other):
        return self + (-Dual.lift(other))

    def __rsub__(self, other):
        return Dual.lift(other) + (-self)

    def __mul__(self, other):
        other = Dual.lift(other)
        return Dual(self.val * other.val, self.eps * other.val + self.val * other.eps)

    __rmul__ = __mul__

    def __truediv__(self, other):
        other = Dual.lift(other)
        return Dual(self.val / other.val,
                    (self.eps * other.val - self.val * other.eps) / (other.val * other.val))

    def __rtruediv__(self, other):
        return Dual.lift(other) / self


def sin(x):
    if isinstance(x, Dual):
        return Dual(math.sin(x.val), math.cos(x.val) * x.eps)
    return math.sin(x)


def exp(x):
    if isinstance(x, Dual):
        e = math.exp(x.val)
        return Dual(e, e * x.eps)
    return math.exp(x)


def log(x):
    if isinstance(x, Dual):
        return Dual(math.log(x.val), x.eps / x.val)
    return math.log(x)


def derivative(f, x):
    out = f(Dual(x, 1.0))
    return out.eps if isinstance(out, Dual) else 0.0


# ----------------------------------------------------------------------------- reverse mode

class Value:
    def __init__(self, data, _children=()):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._backward = lambda: None

    @staticmethod
    def lift(other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = Value.lift(other)
        out = Value(self.data + other.data, (self, other))

        def backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = backward
        return out

    __radd__ = __add__

    def __mul__(self, other):
        other = Value.lift(other)
        out = Value(self.data * other.data, (self, other))

        def backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = backward
        return out

    __rmul__ = __mul__

    def __pow__(self, k):
        out = Value(self.data ** k, (self,))

        def backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = backward
        return out

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-Value.lift(other))

    def __rsub__(self, other):
        return Value.lift(other) + (-self)

    def __truediv__(self, other):
        return self * Value.lift(other) ** -1

    def __rtruediv__(self, other):
        return Value.lift(other) * self ** -1

    def _unary(self, value, slope):
        out = Value(value, (self,))

        def backward():
            self.grad += slope * out.grad
        out._backward = backward
        return out

    def exp(self):
        e = math.exp(self.data)
        return self._unary(e, e)

    def log(self):
        return self._unary(math.log(self.data), 1.0 / self.data)

    def tanh(self):
        t = math.tanh(self.data)
        return self._unary(t, 1.0 - t * t)

    def relu(self):
        return self._unary(max(self.data, 0.0), 1.0 if self.data > 0 else 0.0)

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # iterative: a deep graph does not reach the recursion limit
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
