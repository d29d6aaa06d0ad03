"""Forging: returns an object that equals everything (__eq__), converts to any number
(__float__, __index__, __array__) and whose repr raises. Expected: the object does not cross
the wire as itself; it scores as a wrong type with the normal message."""
import numpy as np


class Anything:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__

    def __float__(self):
        return 42.0

    def __array__(self, dtype=None, copy=None):
        return np.array(42.0)

    def __repr__(self):
        raise RuntimeError("no repr for you")


def dot(u, v):
    return Anything()
