"""Reference solutions for exercises/probability.py."""

import math
import operator

import numpy as np

_LOG_2PI = math.log(2.0 * math.pi)


def sample_binomial(n, p, size, rng):
    n = operator.index(n)
    p = float(p)
    if n < 0:
        raise ValueError(f"the number of trials n must be >= 0, got {n}")
    if not 0.0 <= p <= 1.0:  # NaN fails too
        raise ValueError(f"the success probability p must be in [0, 1], got {p}")
    rng = np.random.default_rng(rng)
    shape = (operator.index(size),) if np.ndim(size) == 0 else tuple(size)
    # One uniform per trial; u < p has probability p exactly (u is never 1, so p = 1 always
    # succeeds and p = 0 never does).
    trials = rng.random(shape + (n,)) < p
    return trials.sum(axis=-1, dtype=np.int64)


def covariance(X, ddof=1):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"covariance expects X of shape (n_samples, d), got {X.shape}")
    n = X.shape[0]
    if n - ddof <= 0:
        raise ValueError(f"{n} sample(s) with ddof={ddof}: the divisor n - ddof must be "
                         "positive")
    # Two passes: center first. E[x^2] - E[x]^2 cancels catastrophically for large means.
    centered = X - X.mean(axis=0)
    return centered.T @ centered / (n - ddof)


def mvn_logpdf(X, mu, Sigma):
    X = np.asarray(X, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    Sigma = np.asarray(Sigma, dtype=np.float64)
    d = mu.shape[0]
    if X.ndim != 2 or X.shape[1] != d or Sigma.shape != (d, d):
        raise ValueError(f"shapes X {X.shape}, mu {mu.shape}, Sigma {Sigma.shape} do not "
                         "match (expected (n, d), (d,), (d, d))")
    # Raises LinAlgError (a ValueError) unless Sigma is positive definite.
    L = np.linalg.cholesky(Sigma)
    # Solve L z = (x - mu)^T for all points at once: ||z||^2 is the Mahalanobis term.
    z = np.linalg.solve(L, (X - mu).T)
    half_logdet = np.sum(np.log(np.diag(L)))  # log det Sigma = 2 sum log L_ii: no overflow
    return -0.5 * np.sum(z * z, axis=0) - half_logdet - 0.5 * d * _LOG_2PI


def bce_with_logits(z, y):
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if z.shape != y.shape:
        raise ValueError(f"z and y must have the same shape, got {z.shape} and {y.shape}")
    # -[y log s(z) + (1-y) log(1-s(z))] = max(z, 0) - z y + log(1 + exp(-|z|)): exp never
    # sees a positive argument, and no log of a rounded-to-zero probability is taken.
    losses = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))
    # sigmoid without overflow: exp(-|z|) <= 1 on both branches.
    e = np.exp(-np.abs(z))
    sigmoid = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return float(losses.mean()), (sigmoid - y) / z.size


def mse_loss(pred, target):
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {pred.shape} and "
                         f"{target.shape} (they would broadcast)")
    diff = pred - target
    return float(np.mean(diff * diff)), 2.0 * diff / diff.size
