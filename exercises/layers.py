"""Neural-network layers: affine, ReLU, softmax cross-entropy and 2-D convolution.

Fill in each function below. Run ``grade layers`` to check your work, or ``grade layers.affine``
for one exercise. Arrays are numpy arrays of float64 unless a docstring says otherwise.

The layers follow the CS231n interface: a forward function returns ``(out, cache)`` and the
matching backward function takes the upstream gradient ``dout`` (the gradient of the loss with
respect to ``out``, shaped like ``out``) and that cache, and returns the gradients of the loss
with respect to the forward's inputs, each shaped like its input.
"""

import numpy as np


def affine_forward(x, w, b):
    """Forward pass of an affine (fully connected) layer.  [layers.affine]

    Math:   each sample x_i (any shape d_1 x ... x d_k) is flattened into a row of
            D = d_1 * ... * d_k numbers; with X the (N, D) matrix of those rows,
            out = X w + b         (N, M)      b is added to every row

    Flatten with ``x.reshape(x.shape[0], -1)``: it keeps the N samples apart whatever the
    number of dimensions of a sample (x may be (N, D), (N, d1, d2), (N, C, H, W), N may be 1).

    Args:
        x: array of shape (N, d_1, ..., d_k), float64; N samples.
        w: array of shape (D, M), float64, D = d_1 * ... * d_k.
        b: array of shape (M,), float64.

    Returns:
        (out, cache):
        out: array of shape (N, M), float64.
        cache: the tuple (x, w, b) (the CS231n convention). The grader hands your cache to your
            affine_backward without looking inside; it also times affine_backward(dout,
            (x, w, b)) with such a tuple, so keep this layout.
    """
    raise NotImplementedError("layers.affine: implement affine_forward(x, w, b) in "
                              "exercises/layers.py")


def affine_backward(dout, cache):
    """Backward pass of an affine layer.  [layers.affine]

    Math:   out = X w + b with X = x reshaped to (N, D), so by the chain rule
            dX = dout w^T      (N, D), then reshaped back to x's shape: dx.shape == x.shape
            dw = X^T dout      (D, M)   (a sum over the samples of outer products x_i dout_i^T)
            db = sum of dout over the samples, axis 0 only: shape (M,)
    The bias is added to every row, so its gradient sums over the N rows; it is a sum, not a
    mean (any 1/N belongs to the loss, which already put it in dout).

    Args:
        dout: array of shape (N, M), float64: the upstream gradient.
        cache: what your affine_forward returned as its cache.

    Returns:
        (dx, dw, db): arrays of the shapes of x, w and b, float64.

    Performance: two matrix products and a sum; a Python loop over the samples (adding one
    outer product per sample) is flagged as not vectorized.
    """
    raise NotImplementedError("layers.affine: implement affine_backward(dout, cache) in "
                              "exercises/layers.py")


def relu_forward(x):
    """Forward pass of a rectified linear unit, elementwise.  [layers.relu]

    Math:   out = max(x, 0)   for every element; x may have any shape.

    Args:
        x: array of any shape, float64.

    Returns:
        (out, cache): out has x's shape, float64; cache is whatever your relu_backward needs
        (x itself, say). The grader never looks inside it.

    Performance: one array operation (np.maximum); no Python loop over elements.
    """
    raise NotImplementedError("layers.relu: implement relu_forward(x) in exercises/layers.py")


def relu_backward(dout, cache):
    """Backward pass of a ReLU.  [layers.relu]

    Math:   relu'(x) = 1 where x > 0 and 0 where x < 0, so by the chain rule
            dx = dout * [x > 0]      (elementwise)
    The upstream gradient passes where the unit was active and is zero where it was not.

    Convention at the kink: ReLU has no derivative at exactly x = 0; this exercise (like
    torch.relu and CS231n) takes it as 0, so dx = 0 wherever x == 0 (the mask is x > 0,
    strictly). The grader checks inputs with exact zeros.

    Args:
        dout: array of the shape of x, float64: the upstream gradient.
        cache: what your relu_forward returned as its cache.

    Returns:
        dx: array of dout's shape, float64.
    """
    raise NotImplementedError("layers.relu: implement relu_backward(dout, cache) in "
                              "exercises/layers.py")


def softmax_loss(x, y):
    """Softmax cross-entropy loss, averaged over the batch, and its gradient.  [layers.softmax_loss]

    Math:   p_ic = exp(x_ic) / sum_c' exp(x_ic')           (softmax of each row)
            loss = (1/N) sum_i -log p_i,y_i                 (the MEAN over the N samples)
            dx   = (P - Y) / N                              (Y: the one-hot rows of y)

    Numerical stability (the grader checks all three):
    - exp(1000) overflows to inf, and inf / inf is NaN. Softmax is unchanged when a constant is
      subtracted from a row, so subtract each ROW's own maximum before exponentiating (one
      maximum over the whole batch is not enough when rows differ by 1000: the exponentials
      of the lower rows all underflow to 0 and 0 / 0 is NaN).
    - Even after the shift, p can underflow to 0 (x = [0, 1000, 0] with y = 0 has
      p_0 = exp(-1000)), and -log(0) = inf, while the loss is exactly 1000. Compute the
      log-probabilities directly: log p_ic = z_ic - log sum_c' exp(z_ic'), with z the shifted
      row; adding a small epsilon inside the log gives a wrong, finite number instead.
    - The loss is the mean, so dx has the factor 1/N.

    Args:
        x: array of shape (N, C), float64: the scores (logits) of N samples over C classes.
        y: array of shape (N,), integer labels in 0..C-1.

    Returns:
        (loss, dx): loss a real scalar (Python float or numpy float64), dx an array of shape
        (N, C), float64: the gradient of loss with respect to x.

    Not allowed: library softmax, log-softmax, logsumexp and cross-entropy functions
    (scipy.special.softmax / log_softmax / logsumexp, torch.nn.functional.softmax /
    log_softmax / cross_entropy, torch.softmax, torch.log_softmax, torch.logsumexp) and
    autograd: the exercise is the stable formula and its gradient.
    """
    raise NotImplementedError("layers.softmax_loss: implement softmax_loss(x, y) in "
                              "exercises/layers.py")


def conv2d(x, w, b, stride=1, pad=0):
    """Forward pass of a 2-D convolution layer, NCHW layout.  [layers.conv2d]

    Math (what deep-learning libraries call convolution is CROSS-correlation: the kernel is
    NOT flipped):
            xp = x zero-padded by `pad` on all four sides of each image (not along N or C)
            out[n, f, i, j] = b[f] + sum_{c, p, q} xp[n, c, i*stride + p, j*stride + q]
                                                   * w[f, c, p, q]
    The textbook "true" convolution flips the kernel (w[f, c, HH-1-p, WW-1-q]); that is the
    wrong convention here (torch.nn.functional.conv2d does not flip).

    Output size, per spatial axis (as torch, which rounds down):
            H' = 1 + floor((H + 2 * pad - HH) / stride)
            W' = 1 + floor((W + 2 * pad - WW) / stride)
    When stride does not divide H + 2 * pad - HH, the last rows that no full window reaches
    are ignored (do not assert divisibility, as some course code does). H and W, and HH and
    WW, may differ.

    Args:
        x: array of shape (N, C, H, W), float64: N images of C channels.
        w: array of shape (F, C, HH, WW), float64: F filters.
        b: array of shape (F,), float64: one bias per filter.
        stride: int >= 1, the step between windows along both axes.
        pad: int >= 0, the zero padding on each side of both spatial axes.

    Returns:
        out: array of shape (N, F, H', W'), float64.

    Not allowed: library convolutions (torch.nn.functional.conv2d, torch.conv2d,
    scipy.signal.correlate / correlate2d / convolve / convolve2d / fftconvolve,
    scipy.ndimage.correlate / convolve). np.pad, np.lib.stride_tricks.sliding_window_view,
    np.tensordot, np.einsum and matrix products are fine.

    Performance: a loop over the few kernel offsets (HH * WW) or over the output positions is
    fine; four nested Python loops (over N, F, H' and W') are 40 to 130 times slower than a
    vectorized version (im2col with one matrix product, or sliding_window_view with
    np.tensordot) and are flagged.
    """
    raise NotImplementedError("layers.conv2d: implement conv2d(x, w, b, stride=1, pad=0) in "
                              "exercises/layers.py")
