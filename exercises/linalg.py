"""Linear algebra: dot products, the pseudo-inverse, principal component analysis.

Fill in each function below. Run ``grade linalg`` to check your work, or ``grade linalg.dot``
for one exercise. Arrays are numpy arrays of float64 unless a docstring says otherwise.
"""

import numpy as np


def dot(u, v):
    """Dot product of two vectors.  [linalg.dot]

    Math:   u . v = sum_i u_i v_i

    Args:
        u: array of shape (n,), real entries (float or int).
        v: array of shape (n,), real entries.

    Returns:
        The real scalar u . v (a Python float or a numpy float64). For n = 0 it is 0.0.

    Raises:
        ValueError: when u and v have different lengths. (Code built on ``zip`` silently
        truncates the longer vector: check the lengths yourself.)

    Performance: one vectorized expression; a Python loop over 10^6 elements is flagged
    as not vectorized.
    """
    raise NotImplementedError("linalg.dot: implement dot(u, v) in exercises/linalg.py")
