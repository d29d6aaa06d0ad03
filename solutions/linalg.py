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


def pinv(A, rtol=None):
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"pinv expects a 2-D array, got shape {A.shape}")
    m, n = A.shape
    if rtol is None:
        rtol = max(m, n) * np.finfo(np.float64).eps
    if A.size == 0:
        return np.zeros((n, m))
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    # Strictly greater: for the zero matrix max(s) = 0 and nothing is inverted.
    keep = s > rtol * s[0]
    s_plus = np.zeros_like(s)
    s_plus[keep] = 1.0 / s[keep]
    return (Vt.T * s_plus) @ U.T


def pca(X, k):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"pca expects X of shape (n_samples >= 2, d), got {X.shape}")
    n, d = X.shape
    if not 1 <= int(k) <= d:
        raise ValueError(f"k must be in 1..{d}, got {k}")
    k = int(k)
    centered = X - X.mean(axis=0)
    # The SVD of the centered data avoids forming Xc^T Xc (which squares its condition number);
    # all d right singular vectors are needed only when there are fewer samples than features.
    _, s, Vt = np.linalg.svd(centered, full_matrices=n < d)
    variances = np.zeros(d)
    variances[:s.size] = s**2 / (n - 1)
    return Vt[:k].T.copy(), variances[:k]
