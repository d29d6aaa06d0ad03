"""Optimizers: the update rules that turn gradients into parameter steps.

Fill in each function below. Run ``grade optim`` to check your work, or ``grade optim.adam``
for one exercise. Arrays are numpy arrays of float64 unless a docstring says otherwise.
"""

import numpy as np


def adam(w, dw, config=None):
    """One update of the Adam optimizer (the CS231n interface).  [optim.adam]

    Math: t counts the updates ALREADY applied; it is incremented BEFORE use, so the first
    update of a fresh run uses t = 1. All operations are elementwise:

        t      <- t + 1
        m      <- beta1 * m + (1 - beta1) * dw        first moment: running mean of dw
        v      <- beta2 * v + (1 - beta2) * dw**2     second moment: running mean of dw**2
        m_hat  =  m / (1 - beta1**t)                  bias correction: m and v start at 0,
        v_hat  =  v / (1 - beta2**t)                  so early averages are too small
        next_w =  w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    Convention (the field disagrees; this is torch.optim.Adam's): epsilon is added OUTSIDE
    the square root, AFTER bias correction. Not sqrt(v_hat + epsilon), and not the paper's
    "efficient" form learning_rate * sqrt(1 - beta2**t) / (1 - beta1**t) * m / (sqrt(v) +
    epsilon), which adds epsilon to the uncorrected sqrt(v). All three agree for ordinary
    gradients; they differ by up to 60% when gradients are as small as 1e-7, and the grader
    checks such gradients.

    Args:
        w: array of any shape, float64: the parameters.
        dw: array of w's shape, float64: the gradient of the loss at w.
        config: dict or None. Its keys, each optional (a missing key takes its default):
            learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8),
            m (zeros like w), v (zeros like w), t (0).
            None starts a fresh run: every key takes its default.

    Returns:
        (next_w, config):
        next_w: array of w's shape, float64.
        config: a dict with the hyper-parameters it was given (pass it back as the next
            call's config to continue the run, so keep them) and the new state: m and v as
            updated above (the running averages, NOT the bias-corrected m_hat and v_hat:
            those are recomputed at every update) and the new t. Filling in the defaults of
            missing hyper-parameters is fine; updating the given dict and returning it is
            fine too.

    Leave w and dw unchanged: return next_w as a new array.

    Performance: array operations on whole arrays; a Python loop over the elements is
    flagged as not vectorized (about 76x slower at 10^5 parameters).
    """
    raise NotImplementedError("optim.adam: implement adam(w, dw, config=None) in "
                              "exercises/optim.py")
