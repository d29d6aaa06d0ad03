"""Ben: everything in one file, some of it wrong."""
import numpy as np


def dot(u, v):
    total = 0.0
    for a, b in zip(u, v):  # silently truncates vectors of different lengths
        total += a * b
    return total


def pinv(A, rtol=None):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return Vt.T @ np.diag(1.0 / s) @ U.T  # no cutoff: 1/s of tiny singular values blows up


def pca(X, k):
    # forgot to center the data
    _, s, Vt = np.linalg.svd(X, full_matrices=False)
    return Vt[:k].T, (s[:k] ** 2) / (X.shape[0] - 1)
