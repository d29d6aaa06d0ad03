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
