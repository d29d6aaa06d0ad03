"""Forging: returns a float subclass and a numpy float64 subclass whose comparisons always say
equal and whose value is 42. Expected: they arrive as plain data (or an opaque type name), so
they score as wrong with the normal message."""
import numpy as np


class Close(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__

    def __sub__(self, other):
        return 0.0

    def __abs__(self):
        return 0.0


def dot(u, v):
    return Close(42.0)
