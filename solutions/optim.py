"""Reference solutions for exercises/optim.py."""

import numpy as np

_ADAM_DEFAULTS = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


def adam(w, dw, config=None):
    # A new dict: the caller's config (and its m, v arrays) are left as they were.
    state = dict(_ADAM_DEFAULTS) if config is None else {**_ADAM_DEFAULTS, **config}
    w = np.asarray(w, dtype=np.float64)
    dw = np.asarray(dw, dtype=np.float64)
    if w.shape != dw.shape:
        raise ValueError(f"w and dw have different shapes: {w.shape} and {dw.shape}")
    lr, b1, b2, eps = (state[k] for k in ("learning_rate", "beta1", "beta2", "epsilon"))
    first = state.get("m")
    second = state.get("v")
    first = np.zeros_like(w) if first is None else np.asarray(first, dtype=np.float64)
    second = np.zeros_like(w) if second is None else np.asarray(second, dtype=np.float64)
    step_count = int(state.get("t", 0)) + 1
    first = b1 * first + (1.0 - b1) * dw
    second = b2 * second + (1.0 - b2) * (dw * dw)
    # torch.optim.Adam's placement: epsilon after bias correction, outside the square root.
    first_hat = first / (1.0 - b1**step_count)
    second_hat = second / (1.0 - b2**step_count)
    next_w = w - lr * first_hat / (np.sqrt(second_hat) + eps)
    state.update(m=first, v=second, t=step_count)
    return next_w, state


def iterate_minibatches(X, y, batch_size, rng):
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X holds {n} samples but y holds {len(y)}")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    batch_size = int(batch_size)
    order = rng.permutation(n)
    # One gather of the whole epoch, then views: numpy's per-call overhead dominates a gather
    # per small batch, and np.take gathers rows of a narrow X 10x faster than X[order].
    shuffled_X, shuffled_y = np.take(X, order, axis=0), np.take(y, order, axis=0)
    for start in range(0, n, batch_size):
        yield shuffled_X[start:start + batch_size], shuffled_y[start:start + batch_size]


def minibatches(X, y, batch_size, seed, epochs=1):
    rng = np.random.default_rng(seed)
    return [[(X_batch, y_batch) for X_batch, y_batch in iterate_minibatches(X, y, batch_size,
                                                                               rng)]
            for _ in range(epochs)]


def sgd_momentum(w, dw, config=None):
    # A new dict: the caller's config (and its velocity array) stay as they were.
    state = {"learning_rate": 1e-2, "momentum": 0.9, **(config or {})}
    w = np.asarray(w, dtype=np.float64)
    dw = np.asarray(dw, dtype=np.float64)
    previous = state.get("velocity")
    previous = np.zeros_like(w) if previous is None else np.asarray(previous, dtype=np.float64)
    # The velocity is the step itself (CS231n), not torch's buffer of gradients.
    step = state["momentum"] * previous - state["learning_rate"] * dw
    state["velocity"] = step
    return w + step, state


def rmsprop(w, dw, config=None):
    state = {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8, **(config or {})}
    w = np.asarray(w, dtype=np.float64)
    dw = np.asarray(dw, dtype=np.float64)
    rho = state["decay_rate"]
    mean_square = state.get("cache")
    mean_square = (np.zeros_like(w) if mean_square is None
                   else np.asarray(mean_square, dtype=np.float64))
    mean_square = rho * mean_square + (1.0 - rho) * (dw * dw)
    # torch.optim.RMSprop's placement: epsilon outside the square root.
    next_w = w - state["learning_rate"] * dw / (np.sqrt(mean_square) + state["epsilon"])
    state["cache"] = mean_square
    return next_w, state


class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience!r}")
        if min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        self.patience = patience
        self.min_delta = min_delta
        self.best = float("inf")
        self.bad_epochs = 0

    def step(self, val_loss):
        # Written so that NaN lands in the else branch: NaN < anything is False.
        if val_loss < self.best - self.min_delta:
            self.best = val_loss
            self.bad_epochs = 0
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience


def early_stopping_run(losses, patience, min_delta=0.0):
    stopper = EarlyStopping(patience, min_delta)
    for epoch, loss in enumerate(losses):
        if stopper.step(loss):
            return epoch
    return -1
