"""Forging: returns +inf (inf - inf is NaN, which can slip through a `diff > tol` check).
Expected: 0 points, the infinity named in the message."""
import numpy as np


def dot(u, v):
    return float("inf")
