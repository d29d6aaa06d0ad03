"""Case-input builders shared by bank modules: random rotations, orthonormal bases and
matrices with given singular values, made from a generator's draws with + - * / and np.sum only
(never BLAS, LAPACK or libm), so that a case is the same bits on every machine (the student
bundle finds the frozen results of a public case by the digest of its inputs).

A bundle copies this module along with the bank modules that import it.
"""

from __future__ import annotations

import math

import numpy as np


def rotation(rng: np.random.Generator, d: int, spread: float = 3.0) -> np.ndarray:
    """A d x d rotation: Givens rotations in every plane by angles 2 atan(t), |t| <= spread."""
    r = np.eye(d)
    for i in range(d):
        for j in range(i + 1, d):
            t = rng.uniform(-spread, spread)
            c, s = (1 - t * t) / (1 + t * t), 2 * t / (1 + t * t)
            ri, rj = r[:, i].copy(), r[:, j].copy()
            r[:, i], r[:, j] = c * ri - s * rj, s * ri + c * rj
    return r


def orthonormal(rng: np.random.Generator, m: int, k: int, *, centered: bool = False
                ) -> np.ndarray:
    """(m, k) random orthonormal columns: Gram-Schmidt on Gaussian vectors, twice; orthogonal
    to the ones vector when ``centered``."""
    basis: list[np.ndarray] = [np.full(m, 1 / math.sqrt(m))] if centered else []
    for z in rng.standard_normal((k, m)):
        for _ in range(2):
            for b in basis:
                z = z - np.sum(b * z) * b
        basis.append(z / math.sqrt(np.sum(z * z)))
    return np.stack(basis[-k:], axis=1)


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
