"""Case-input builders shared by bank modules: random orthonormal bases and matrices with given
singular values, made from a generator's draws with + - * / and np.sum only (never BLAS, LAPACK
or libm), so that a case is the same bits on every machine (the student bundle finds the frozen
results of a public case by the digest of its inputs).

A bundle copies this module along with the bank modules that import it.
"""

from __future__ import annotations

import math

import numpy as np


def orthonormal(rng: np.random.Generator, m: int, k: int) -> np.ndarray:
    """(m, k) random orthonormal columns: Gram-Schmidt on Gaussian vectors, twice."""
    basis: list[np.ndarray] = []
    for z in rng.standard_normal((k, m)):
        for _ in range(2):
            for b in basis:
                z = z - np.sum(b * z) * b
        basis.append(z / math.sqrt(np.sum(z * z)))
    return np.stack(basis, axis=1)


def combine(left: np.ndarray, weights, right: np.ndarray) -> np.ndarray:
    """sum_j weights[j] * outer(left[:, j], right[:, j]), i.e. left diag(weights) right^T."""
    out = np.zeros((left.shape[0], right.shape[0]))
    for j, w in enumerate(weights):
        out += np.multiply.outer(w * left[:, j], right[:, j])
    return out


def with_singular_values(rng: np.random.Generator, m: int, n: int, values) -> np.ndarray:
    """An (m, n) matrix with these singular values and random singular vectors."""
    k = len(values)
    return combine(orthonormal(rng, m, k), values, orthonormal(rng, n, k))
