"""Reference solutions for exercises/calculus.py."""

import numpy as np


def numerical_gradient(f, x, h=1e-5):
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(f"x must be a float64 array, got {getattr(x, 'dtype', type(x))}: in "
                        "float32, x + h with h = 1e-5 loses most of h to rounding")
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        above = f(x)
        x[index] = saved - h
        below = f(x)
        x[index] = saved  # exactly: x + h - 2h + h is not always x in floating point
        grad[index] = (above - below) / (2 * h)
    return grad


def quad_grad_hess(A, b, x):
    A, b, x = (np.asarray(v, dtype=np.float64) for v in (A, b, x))
    sym = 0.5 * (A + A.T)  # only the symmetric part of A shapes x^T A x
    value = 0.5 * float(x @ (A @ x)) + float(b @ x)
    return value, sym @ x + b, sym


def taylor2(f, g, H, x0, x):
    d = np.asarray(x, dtype=np.float64) - np.asarray(x0, dtype=np.float64)
    return float(f + g @ d + 0.5 * (d @ (H @ d)))


def is_positive_definite(A, tol=1e-10):
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"is_positive_definite expects a non-empty square matrix, got shape "
                         f"{A.shape}")
    scale = float(np.abs(A).max())
    if float(np.abs(A - A.T).max()) > tol * scale:
        return False
    lam = np.linalg.eigvalsh(A)  # ascending
    return bool(lam[0] > tol * float(np.abs(lam).max()))


def gradient_descent(grad_f, x0, lr, n_steps):
    x = np.array(x0, dtype=np.float64)  # a copy: the caller's x0 stays as it was
    history = np.empty((n_steps + 1,) + x.shape)
    history[0] = x
    for k in range(n_steps):
        x = x - lr * grad_f(x)
        history[k + 1] = x
    return x, history
