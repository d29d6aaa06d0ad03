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


def iterate_minibatches(X, y, batch_size, rng):
    """Shuffled minibatches for one epoch of minibatch SGD.  [optim.iterate_minibatches]

    Math: one call is one epoch. Draw ONE random permutation pi of 0, 1, ..., N-1 from rng
    and cut it into consecutive chunks of batch_size B:

        batch k = (X[pi[k*B : (k+1)*B]], y[pi[k*B : (k+1)*B]]),   k = 0, 1, ..., ceil(N/B) - 1

    So every sample is in exactly one batch per epoch (sampling WITHOUT replacement), and X
    and y are shuffled by the SAME permutation: row i of X_batch goes with y_batch[i]. When B
    does not divide N the last batch holds the N mod B samples left over: keep it (do not drop
    it), and yield no empty batch. batch_size >= N gives one batch of all N samples in
    shuffled order: full-batch gradient descent.

    Randomness comes from rng only (a numpy Generator, e.g. np.random.default_rng(seed)), not
    from the global np.random functions nor a generator you make: then the same seed gives
    the same batches, and calling again with the same rng (the next epoch) gives a new order.
    Which routine draws the permutation (rng.permutation, rng.shuffle, ...) is up to you.

    Args:
        X: array of shape (N, ...): N samples, any trailing shape, any dtype.
        y: array of shape (N, ...): their N targets (labels or values).
        batch_size: int >= 1.
        rng: numpy.random.Generator.

    Yields (a generator; returning a list of the pairs works too):
        (X_batch, y_batch) pairs: X_batch of shape (b, ...) with X's dtype, y_batch of shape
        (b, ...) with y's dtype; b = batch_size for every batch but possibly the last.

    Raises:
        ValueError: when batch_size < 1, or when X and y hold different numbers of samples
        (a generator may raise when iteration starts).

    The grader calls it through minibatches() below: leave that function as it is.

    Performance: index with the permutation (X[idx] or np.take(X, idx, axis=0) copies the
    rows in C); a Python loop that copies one sample at a time is flagged as slow (about 60x
    at N = 50,000).
    """
    raise NotImplementedError("optim.iterate_minibatches: implement iterate_minibatches(X, y, "
                              "batch_size, rng) in exercises/optim.py")


def minibatches(X, y, batch_size, seed, epochs=1):
    """How a training loop uses iterate_minibatches, and how the grader calls it: one
    generator for the whole run, one call per epoch. Given; leave it as it is.

    A generator cannot travel back to the grader, a list can: this returns a list of
    ``epochs`` lists, each the (X_batch, y_batch) pairs of one epoch.
    """
    rng = np.random.default_rng(seed)
    return [[(X_batch, y_batch) for X_batch, y_batch in iterate_minibatches(X, y, batch_size,
                                                                               rng)]
            for _ in range(epochs)]


def sgd_momentum(w, dw, config=None):
    """One update of stochastic gradient descent with momentum (CS231n).  [optim.sgd_momentum]

    Math (elementwise; the velocity v starts at 0):

        v      <- momentum * v - learning_rate * dw
        next_w =  w + v

    Convention (the field disagrees; this is CS231n's, and Sutskever et al. 2013's): the
    velocity v is the STEP itself, v = next_w - w, pointing downhill. torch.optim.SGD stores
    a buffer b <- momentum * b + dw instead and steps w - learning_rate * b: with a constant
    learning rate the trajectories agree (v = -learning_rate * b), but config['velocity']
    must hold v, and a learning rate changed mid-run scales only the new gradient here. Not
    the "averaged gradient" v <- momentum * v + (1 - momentum) * dw of some courses either.

    Args:
        w: array of any shape, float64: the parameters.
        dw: array of w's shape, float64: the gradient of the loss at w.
        config: dict or None. Its keys, each optional (a missing key takes its default):
            learning_rate (1e-2), momentum (0.9), velocity (zeros like w).
            None starts a fresh run: every key takes its default.

    Returns:
        (next_w, config):
        next_w: array of w's shape, float64.
        config: a dict with the hyper-parameters it was given (pass it back as the next
            call's config to continue the run, so keep them) and velocity = the new v, the
            step just taken. Updating the given dict and returning it is fine.

    Leave w and dw unchanged: return next_w as a new array.

    Performance: array operations on whole arrays; a Python loop over the elements is
    flagged as not vectorized.
    """
    raise NotImplementedError("optim.sgd_momentum: implement sgd_momentum(w, dw, config=None) "
                              "in exercises/optim.py")


def rmsprop(w, dw, config=None):
    """One update of RMSprop (the CS231n interface).  [optim.rmsprop]

    Math (elementwise; the cache starts at 0):

        cache  <- decay_rate * cache + (1 - decay_rate) * dw**2   running mean of dw**2
        next_w =  w - learning_rate * dw / (sqrt(cache) + epsilon)

    Each parameter's step is divided by the root mean square of its recent gradients, so
    parameters with small gradients take steps as large as those with large ones.

    Convention (the field disagrees; this is torch.optim.RMSprop's and the CS231n
    assignment's): epsilon is added OUTSIDE the square root. The CS231n notes write
    dw / np.sqrt(cache + 1e-8): the two agree for ordinary gradients and differ by a factor
    of about 1000 when gradients are near 1e-7, which the grader checks. No momentum, no
    bias correction, no centering (torch's defaults).

    Args:
        w: array of any shape, float64: the parameters.
        dw: array of w's shape, float64: the gradient of the loss at w.
        config: dict or None. Its keys, each optional (a missing key takes its default):
            learning_rate (1e-2), decay_rate (0.99), epsilon (1e-8), cache (zeros like w).
            None starts a fresh run: every key takes its default.

    Returns:
        (next_w, config):
        next_w: array of w's shape, float64. A parameter whose gradient is 0 does not move.
        config: a dict with the hyper-parameters it was given (keep them: it is the next
            call's config) and the new cache. Updating the given dict is fine.

    Leave w and dw unchanged: return next_w as a new array.

    Performance: array operations on whole arrays; a Python loop over the elements is
    flagged as not vectorized.
    """
    raise NotImplementedError("optim.rmsprop: implement rmsprop(w, dw, config=None) in "
                              "exercises/optim.py")


class EarlyStopping:
    """Stop training when the validation loss stops improving.  [optim.early_stopping]

    Rule (Keras' and PyTorch Lightning's EarlyStopping for a loss): keep the best loss so
    far, initially +inf, and the count of consecutive epochs without improvement, initially
    0. At each epoch's step(val_loss):

        improvement   <=>  val_loss < best - min_delta        (strictly less)
        if improvement:    best = val_loss; count = 0; return False
        otherwise:         count = count + 1; return count >= patience

    So training stops at the patience-th non-improving epoch in a row; an improving epoch
    never stops it. Details the grader checks:
    - A loss that beats best by min_delta or less is NOT an improvement, and best keeps its
      value (it does not creep down by small steps). A drop of exactly min_delta does not
      count either.
    - patience = 0 stops at the first non-improving epoch (as patience = 1 does). torch's
      ReduceLROnPlateau counts the other way (it acts when count > patience): not here.
    - A NaN loss is never an improvement: it counts as a non-improving epoch and never
      becomes best (careful: every comparison with NaN is False).
    - Compare with the best loss so far, not with the previous epoch's loss.

    Args:
        patience: int >= 0.
        min_delta: float >= 0, the smallest drop of the loss that counts (default 0.0).

    Raises:
        ValueError: when patience < 0 or min_delta < 0.

    The grader runs it through early_stopping_run() below: leave that function as it is.
    Each step takes O(1) time: keep the best loss and the count, not a history to rescan.
    """

    def __init__(self, patience, min_delta=0.0):
        raise NotImplementedError("optim.early_stopping: implement EarlyStopping.__init__("
                                  "patience, min_delta) in exercises/optim.py")

    def step(self, val_loss):
        """Record one epoch's validation loss (a float); return True to stop training."""
        raise NotImplementedError("optim.early_stopping: implement EarlyStopping.step("
                                  "val_loss) in exercises/optim.py")


def early_stopping_run(losses, patience, min_delta=0.0):
    """How a training loop uses EarlyStopping, and how the grader calls it. Given; leave it
    as it is. Returns the index of the epoch whose step() first returns True, or -1 when
    training never stops.
    """
    stopper = EarlyStopping(patience, min_delta)
    for epoch, loss in enumerate(losses):
        if stopper.step(loss):
            return epoch
    return -1
