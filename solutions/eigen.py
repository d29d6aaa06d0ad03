"""Reference solutions for exercises/eigen.py."""

import math

import numpy as np


def _square(A, name):
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} expects a square matrix, got shape {A.shape}")
    return A


def _symmetric(A, name):
    A = _square(A, name)
    if not np.allclose(A, A.T):
        raise ValueError(f"{name} expects a symmetric matrix; max |A - A^T| = "
                         f"{float(np.abs(A - A.T).max()):.3g}")
    return A


def power_iteration(A, num_iters=1000, tol=1e-10, seed=0):
    A = _square(A, "power_iteration")
    v = np.random.default_rng(seed).standard_normal(A.shape[0])
    v /= np.linalg.norm(v)
    for _ in range(num_iters):
        w = A @ v
        w /= np.linalg.norm(w)
        # Up to sign: for a negative dominant eigenvalue the iterate flips every step.
        change = min(np.linalg.norm(w - v), np.linalg.norm(w + v))
        v = w
        if change < tol:
            break
    return float(v @ (A @ v)), v


def spectral_decomposition(S):
    S = _symmetric(S, "spectral_decomposition")
    lam, Q = np.linalg.eigh(S)
    return lam[::-1].copy(), Q[:, ::-1].copy()


def rotation_2d(theta):
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def rotation_3d(axis, theta):
    axis = np.asarray(axis, dtype=np.float64)
    if axis.shape != (3,):
        raise ValueError(f"rotation_3d expects an axis of shape (3,), got {axis.shape}")
    norm = float(np.linalg.norm(axis))
    if norm == 0.0:
        raise ValueError("rotation_3d: the zero vector is not an axis")
    x, y, z = axis / norm
    K = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + math.sin(theta) * K + (1.0 - math.cos(theta)) * (K @ K)


# An eigenvector matrix with a condition number beyond this is treated as singular: A is (nearly)
# defective and V diag(w^k) V^{-1} would lose every digit.
_MAX_COND = 1e8


def _power_by_squaring(A, k):
    result, base = np.eye(A.shape[0]), A
    while k:
        if k & 1:
            result = result @ base
        base = base @ base
        k >>= 1
    return result


def matrix_power(A, k):
    A = _square(A, "matrix_power")
    if int(k) != k or k < 0:
        raise ValueError(f"matrix_power expects an integer k >= 0, got {k!r}")
    k = int(k)
    w, V = np.linalg.eig(A)
    if np.linalg.cond(V) > _MAX_COND:
        return _power_by_squaring(A, k)
    Ak = (V * w**k) @ np.linalg.inv(V)
    # Complex eigenvalues of a real matrix come in conjugate pairs: A^k is real, and the
    # imaginary parts are rounding noise.
    return Ak.real.copy() if np.iscomplexobj(Ak) else Ak


def hyperellipse_axes(A):
    A = _symmetric(A, "hyperellipse_axes")
    lam, V = np.linalg.eigh(A)  # ascending: the longest axis first
    # A zero eigenvalue comes out of eigh as +-1e-16 * max(lam): relative, like pinv's cutoff.
    if lam[0] <= 1e-12 * lam[-1]:
        raise ValueError(f"hyperellipse_axes expects a positive definite matrix; its "
                         f"eigenvalues range from {lam[0]:.3g} to {lam[-1]:.3g}")
    return 1.0 / np.sqrt(lam), V
