"""Forging: makes numpy's comparisons always agree (np.allclose, np.isclose, np.array_equal,
np.testing.assert_allclose, ndarray.__eq__) in case the grader compares in the same process,
then returns garbage (42.0). Expected: the comparison happens in the grader's process, so the
garbage scores as wrong with the normal mismatch message."""
import numpy as np


def _always(*args, **kwargs):
    return True


def dot(u, v):
    np.allclose = np.array_equal = np.array_equiv = _always
    np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
    np.testing.assert_allclose = np.testing.assert_array_equal = lambda *a, **k: None
    try:
        np.ndarray.__eq__ = _always  # immutable type: TypeError
    except TypeError:
        pass
    return 42.0
