"""Neural-network layers and backprop: a two-layer network's loss and gradients, dropout.

Fill in each function below. Run ``grade nn`` to check your work, or ``grade nn.dropout``
for one exercise. Arrays are numpy arrays of float64 unless a docstring says otherwise.
"""

import numpy as np


def two_layer_mlp_loss(X, y, W1, b1, W2, b2):
    """Loss and gradients of a two-layer ReLU softmax classifier.  [nn.two_layer_mlp_loss]

    Math (forward), for a batch of N samples in the rows of X:
            A = X W1 + b1            (N, H)   pre-activations; b1 is added to every row
            h = relu(A) = max(A, 0)  (N, H)
            s = h W2 + b2            (N, C)   scores (logits)
            loss = (1/N) sum_i [ log sum_c exp(s_ic) - s_i,y_i ]   (mean cross-entropy)

    Math (backward), with P = softmax(s) row by row and Y the one-hot matrix of y:
            dS  = (P - Y) / N        (the 1/N of the MEAN appears exactly once)
            dW2 = h^T dS,   db2 = sum of dS over the samples (axis 0)
            dA  = (dS W2^T) * [A > 0]   (the ReLU passes gradient only where A = X W1 + b1
                                         is positive: the mask includes the bias)
            dW1 = X^T dA,   db1 = sum of dA over the samples (axis 0)

    Numerical stability: exp(1000) overflows to inf and inf / inf is NaN. Subtract each row's
    maximum from its scores before exponentiating (softmax is unchanged by a constant shift);
    the grader uses scores around 1000.

    Args:
        X: array of shape (N, D), float64; one sample per row.
        y: array of shape (N,), integer class labels in 0..C-1.
        W1: array of shape (D, H), float64.   b1: array of shape (H,), float64.
        W2: array of shape (H, C), float64.   b2: array of shape (C,), float64.

    Returns:
        (loss, grads):
        loss: a real scalar (Python float or numpy float64), the MEAN cross-entropy.
        grads: a dict with keys 'W1', 'b1', 'W2', 'b2', each the gradient of loss with
            respect to that parameter, with exactly the parameter's shape (b1 is (H,), not
            (1, H)) and dtype float64.

    Use matrix products and array operations only; do not call autograd (torch.autograd is
    not allowed: the exercise is to derive the gradients).

    Performance: a handful of matrix products; no Python loop over samples.
    """
    raise NotImplementedError("nn.two_layer_mlp_loss: implement two_layer_mlp_loss(X, y, W1, b1, "
                              "W2, b2) in exercises/nn.py")


def dropout_forward(x, dropout_param):
    """Inverted dropout, forward pass.  [nn.dropout]

    Math (train mode): draw an independent mask for every element,
            m_i ~ Bernoulli(1 - p)   (1 = keep, 0 = drop),
            out_i = x_i * m_i / (1 - p).
    Dividing the kept units by (1 - p) keeps the expected value: E[out_i] = x_i. That is what
    "inverted" dropout means, and it is why test mode needs no scaling at all.

    Convention: p is the probability of DROPPING a unit (as torch.nn.Dropout(p)), not of
    keeping it (some course notes use p for the keep probability: not here). With p = 0
    nothing is dropped (out = x); with p = 1 everything is: return zeros, without computing
    1 / (1 - p) (0 / 0 is NaN).

    Test mode: out = x, unchanged (no mask, no scaling).

    Randomness: every element gets its own draw (a mask shared by all rows of a batch is not
    dropout). When dropout_param has a 'seed', the same seed must give the same mask, e.g.
    ``rng = np.random.default_rng(seed)`` (or ``np.random.seed(seed)``) before drawing;
    different seeds give different masks. Without a 'seed' any randomness will do.

    Args:
        x: array of any shape, float64.
        dropout_param: dict with
            'p': float in [0, 1], the probability of dropping each element;
            'mode': 'train' or 'test';
            'seed' (optional): int.

    Returns:
        (out, cache): out has x's shape and dtype float64; cache is whatever your
        dropout_backward needs (the mask and p, say). The grader never looks inside it: it
        hands it to your dropout_backward.

    Performance: one vectorized draw for the whole mask (rng.random(x.shape)); no Python loop
    over elements.
    """
    raise NotImplementedError("nn.dropout: implement dropout_forward(x, dropout_param) in "
                              "exercises/nn.py")


def dropout_backward(dout, cache):
    """Inverted dropout, backward pass.  [nn.dropout]

    Math: out_i = x_i * m_i / (1 - p), so dx_i = dout_i * m_i / (1 - p), with the SAME mask m
    that dropout_forward drew (keep it in the cache; drawing a new one is wrong). In test mode
    out = x, so dx = dout.

    Args:
        dout: array of the shape of forward's out, float64: the upstream gradient.
        cache: what your dropout_forward returned as its cache.

    Returns:
        dx: array of dout's shape, float64.
    """
    raise NotImplementedError("nn.dropout: implement dropout_backward(dout, cache) in "
                              "exercises/nn.py")
