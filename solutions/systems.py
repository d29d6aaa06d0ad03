"""Reference solutions for exercises/systems.py."""

import numpy as np

_EPS = np.finfo(np.float64).eps


def solve(A, b):
    U = np.array(A, dtype=np.float64)  # copies: elimination overwrites them
    rhs = np.array(b, dtype=np.float64)
    n = U.shape[0]
    if U.ndim != 2 or U.shape[1] != n:
        raise ValueError(f"A must be square, got shape {U.shape}")
    if rhs.ndim not in (1, 2) or rhs.shape[0] != n:
        raise ValueError(f"b must have {n} rows, got shape {rhs.shape}")
    Y = rhs.reshape(n, -1)
    # Forward elimination with partial pivoting: the pivot is the largest |entry| left in
    # column k, so every multiplier has |l| <= 1 and rounding errors are not amplified.
    for k in range(n):
        p = k + int(np.argmax(np.abs(U[k:, k])))
        if U[p, k] == 0.0:
            raise np.linalg.LinAlgError(f"Singular matrix: no nonzero pivot in column {k}")
        if p != k:
            U[[k, p]] = U[[p, k]]
            Y[[k, p]] = Y[[p, k]]
        factors = U[k + 1:, k] / U[k, k]
        U[k + 1:, k + 1:] -= np.multiply.outer(factors, U[k, k + 1:])
        Y[k + 1:] -= np.multiply.outer(factors, Y[k])
    X = np.empty_like(Y)
    for k in range(n - 1, -1, -1):
        X[k] = (Y[k] - U[k, k + 1:] @ X[k + 1:]) / U[k, k]
    return X.reshape(rhs.shape)


def _pinv_apply(A, b):
    """A^+ b from the thin SVD, singular values <= max(m, n) * eps * max(s) treated as 0."""
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if A.ndim != 2 or b.ndim not in (1, 2) or b.shape[0] != A.shape[0]:
        raise ValueError(f"A of shape (m, n) and b with m rows expected, got {A.shape} and "
                         f"{b.shape}")
    m, n = A.shape
    if A.size == 0:
        return np.zeros((n,) + b.shape[1:])
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    keep = s > max(m, n) * _EPS * s[0]
    coeffs = U[:, keep].T @ b  # b in the basis of the range of A
    scaled = coeffs / (s[keep] if b.ndim == 1 else s[keep][:, None])
    return Vt[keep].T @ scaled  # back from the row space


def least_squares(A, b):
    return _pinv_apply(A, b)


def min_norm_solution(A, b):
    return _pinv_apply(A, b)
