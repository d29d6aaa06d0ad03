"""Forging: returns an ndarray subclass holding 42 whose ufuncs (__array_ufunc__), __eq__ and
comparisons all report agreement, and whose __array__/view would rewrite it. Expected: the
worker sends the plain values, so it scores as wrong with the normal message."""
import numpy as np


class Agreeable(np.ndarray):
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        shape = np.broadcast(*[np.asarray(i.view(np.ndarray) if isinstance(i, Agreeable) else i)
                               for i in inputs]).shape
        return np.zeros(shape) if ufunc in (np.subtract, np.absolute) else np.ones(shape, bool)

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __eq__(self, other):
        return True

    def __float__(self):
        return 42.0


def dot(u, v):
    return np.asarray(42.0).view(Agreeable)
