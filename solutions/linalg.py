"""Reference solutions for exercises/linalg.py."""

import numpy as np


def dot(u, v):
    u = np.asarray(u)
    v = np.asarray(v)
    if u.ndim != 1 or v.ndim != 1:
        raise ValueError(f"dot expects two 1-D arrays, got shapes {u.shape} and {v.shape}")
    if u.shape[0] != v.shape[0]:
        raise ValueError(f"vectors of different lengths: {u.shape[0]} and {v.shape[0]}")
    return float(np.dot(u, v))
