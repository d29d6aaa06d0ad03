"""Reference solutions for exercises/vectors.py."""

import numpy as np

_EPS = np.finfo(np.float64).eps


def l2_norm(x, axis=None):
    entries = np.asarray(x, dtype=np.float64)
    # Scaling by the largest |x_i| keeps every square in [0, 1]: sqrt(sum x_i^2) squares 1e200
    # to inf and 1e-200 to 0. initial=0 gives an empty slice the norm 0.
    scale = np.max(np.abs(entries), axis=axis, keepdims=True, initial=0.0)
    divisor = np.where(scale > 0, scale, 1.0)  # an all-zero slice has norm 0, not 0/0
    norm = scale * np.sqrt(np.sum((entries / divisor) ** 2, axis=axis, keepdims=True))
    if axis is None:
        return float(norm.reshape(()))
    return np.squeeze(norm, axis=axis)


def _singular_values(A):
    """The singular values of a 2-D float64 array, largest first (none for an empty one)."""
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {A.shape}")
    if A.size == 0:
        return np.zeros(0)
    scale = float(np.max(np.abs(A)))
    if scale == 0:
        return np.zeros(min(A.shape))
    # Scaled to entries of at most 1, so that the SVD never meets an overflow.
    return scale * np.linalg.svd(A / scale, compute_uv=False)


def spectral_norm(A):
    s = _singular_values(A)
    return float(s[0]) if s.size else 0.0


def frobenius_norm(A):
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {A.shape}")
    return l2_norm(A)


def numerical_rank(A, rtol=None):
    A = np.asarray(A, dtype=np.float64)
    s = _singular_values(A)
    if s.size == 0:
        return 0
    if rtol is None:
        rtol = max(A.shape) * _EPS
    # Strictly greater: for the zero matrix s[0] = 0 and no singular value counts.
    return int(np.count_nonzero(s > rtol * s[0]))


def _unit_rows(X):
    norms = l2_norm(X, axis=1)
    return X / np.where(norms > 0, norms, 1.0)[:, None]  # zero rows stay zero


def cosine_sim(A, B):
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise ValueError(f"expected (m, d) and (p, d) arrays, got shapes {A.shape} and "
                         f"{B.shape}")
    # Rounding can put the cosine of two equal directions at 1 + 2e-16; arccos of that is NaN.
    return np.clip(_unit_rows(A) @ _unit_rows(B).T, -1.0, 1.0)


def orthonormalize(A, tol=1e-10):
    W = np.array(A, dtype=np.float64)  # a copy: columns are orthogonalized in place
    if W.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {W.shape}")
    original = l2_norm(W, axis=0)
    kept = []
    # Modified Gram-Schmidt, right-looking: as soon as q_k is known, its component is removed
    # from every later column, so each later projection uses the already-reduced column.
    for k in range(W.shape[1]):
        norm = l2_norm(W[:, k])
        if norm <= tol * original[k]:
            continue  # nothing new: column k lies in the span of the earlier ones
        W[:, k] /= norm
        rest = W[:, k + 1:]
        rest -= np.multiply.outer(W[:, k], W[:, k] @ rest)
        kept.append(k)
    return W[:, kept]
