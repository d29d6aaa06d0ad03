"""Reference solutions for exercises/nn.py."""

import numpy as np


def two_layer_mlp_loss(X, y, W1, b1, W2, b2):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    n = X.shape[0]
    pre = X @ W1 + b1
    hidden = np.maximum(pre, 0.0)
    scores = hidden @ W2 + b2
    # log-softmax through the row maximum: exp never sees a positive number, so scores of any
    # size give finite logs (exp(1000) alone overflows to inf).
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_norm
    rows = np.arange(n)
    loss = -log_probs[rows, y].mean()

    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1.0
    dscores /= n
    dhidden = dscores @ W2.T
    dpre = dhidden * (pre > 0)
    grads = {
        "W1": X.T @ dpre,
        "b1": dpre.sum(axis=0),
        "W2": hidden.T @ dscores,
        "b2": dscores.sum(axis=0),
    }
    return float(loss), grads


def dropout_forward(x, dropout_param):
    x = np.asarray(x)
    p = float(dropout_param["p"])
    mode = dropout_param["mode"]
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"the drop probability p must be in [0, 1], got {p}")
    if mode == "test":
        return x.copy(), (mode, None)
    if mode != "train":
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
    rng = np.random.default_rng(dropout_param.get("seed"))
    keep = rng.random(x.shape) >= p
    # p = 1 drops everything: the scale 1 / (1 - p) is never formed, so no 0 / 0 = NaN.
    scale = np.where(keep, 1.0 / (1.0 - p), 0.0) if p < 1.0 else np.zeros(x.shape)
    return x * scale, (mode, scale)


def dropout_backward(dout, cache):
    mode, scale = cache
    if mode == "test":
        return np.array(dout, copy=True)
    return dout * scale
