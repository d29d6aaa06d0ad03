"""Probability and statistics: sampling, covariance, the Gaussian density, two losses.

Fill in each function below. Run ``grade probability`` to check your work, or
``grade probability.covariance`` for one exercise. Arrays are numpy arrays of float64 unless a
docstring says otherwise.
"""

import numpy as np


def sample_binomial(n, p, size, rng):
    """Binomial counts, built from Bernoulli trials.  [probability.sample_binomial]

    Math:   X = B_1 + B_2 + ... + B_n  with independent B_j ~ Bernoulli(p)  (B_j = 1 with
            probability p, else 0), so X ~ Binomial(n, p):  P(X = k) = C(n, k) p^k (1-p)^(n-k),
            E[X] = n p,  Var[X] = n p (1 - p),  and X is an integer in 0..n.

    A Bernoulli(p) trial from a uniform draw: u ~ Uniform[0, 1) succeeds when u < p (that has
    probability exactly p). Draw all trials at once, an array of shape size + (n,), and sum over
    the last axis: every count gets its OWN n trials (a single Bernoulli draw times n has the
    right mean n p but the wrong variance n^2 p (1-p)).

    Randomness: the grader passes rng as an int seed; you may also be given a
    np.random.Generator. Start with ``rng = np.random.default_rng(rng)``, which seeds a new
    generator from an int and returns a Generator unchanged, and draw everything from it: the
    same seed must give the same counts, different seeds different ones.

    Args:
        n: int >= 0, the number of trials per count. n = 0 gives zeros.
        p: float in [0, 1], the success probability of each trial. p = 0 gives zeros, p = 1
            gives n everywhere (both are valid probabilities: do not reject them).
        size: int or tuple of ints, the shape of the result (as numpy's ``size``): 5 gives
            shape (5,), (2, 3) gives shape (2, 3).
        rng: an int seed or a np.random.Generator.

    Returns:
        An array of shape size with an INTEGER dtype (counts; the sum of a boolean array is
        int64), every entry in 0..n.

    Raises:
        ValueError: when n < 0 or p is outside [0, 1].

    Not allowed: rng.binomial (np.random.Generator.binomial), np.random.binomial,
    RandomState.binomial, multinomial draws, scipy.stats.binom, torch.binomial and
    torch.distributions.Binomial: the exercise is to build the count from Bernoulli trials.

    Performance: one vectorized draw of shape size + (n,) and a sum; no Python loop over the
    counts.
    """
    raise NotImplementedError("probability.sample_binomial: implement sample_binomial(n, p, "
                              "size, rng) in exercises/probability.py")


def covariance(X, ddof=1):
    """Sample covariance matrix of the columns of a data matrix.  [probability.covariance]

    Math:   mean m = (1/n) sum_i x_i, centered rows c_i = x_i - m, and
            C = (1/(n - ddof)) sum_i c_i c_i^T = Xc^T Xc / (n - ddof),   Xc = X - m.
            C[j, k] is the covariance of features j and k; C[j, j] the variance of feature j.
            ddof = 1 (the default) gives the unbiased sample covariance, as np.cov;
            ddof = 0 divides by n.

    Convention: rows are SAMPLES and columns are features, so C is d x d. (np.cov(X) treats
    each ROW as a variable; np.cov(X, rowvar=False) matches this function.)

    Numerical stability: center first, then multiply. The one-pass formula
    E[x x^T] - E[x] E[x]^T is the same in exact arithmetic, but for features whose mean is
    large next to their spread (a mean of 1e8 and a standard deviation of 1, say) both terms are
    about 1e16 and their difference is rounding noise; the grader uses such data.

    Args:
        X: array of shape (n, d), float64; one sample per row.
        ddof: int, "delta degrees of freedom": the divisor is n - ddof.

    Returns:
        Array of shape (d, d), float64, symmetric and positive semi-definite. A constant
        feature has zero variance and zero covariance with every other feature.

    Raises:
        ValueError: when n - ddof <= 0 (one sample has no sample covariance with ddof = 1;
        np.cov returns NaN there with a warning).

    Not allowed: np.cov, torch.cov (the exercise is to compute it).

    Performance: array operations (one matrix product); a Python loop over pairs of features
    is flagged as slow.
    """
    raise NotImplementedError("probability.covariance: implement covariance(X, ddof=1) in "
                              "exercises/probability.py")


def mvn_logpdf(X, mu, Sigma):
    """Log-density of a multivariate Gaussian at a batch of points.  [probability.mvn_logpdf]

    Math:   log N(x; mu, Sigma) = -1/2 (x - mu)^T Sigma^{-1} (x - mu)
                                  - 1/2 log det Sigma - (d/2) log(2 pi)
            for each row x of X. Note d/2 copies of log(2 pi), one per dimension.

    How to compute it (one Cholesky factorization, Sigma = L L^T with L lower triangular):
        - Mahalanobis term: solve L z = (x - mu) for z; then (x - mu)^T Sigma^{-1} (x - mu)
          = z^T z. Solve for all points at once (the right-hand side can have n columns).
        - log det Sigma = 2 sum_j log L_jj. Never np.log(np.linalg.det(Sigma)): the
          determinant of a 40 x 40 covariance with variances about 1e-9 is 1e-360, which
          underflows to 0 (log 0 = -inf); np.linalg.slogdet is fine too.
        - np.linalg.cholesky raises LinAlgError (a subclass of ValueError) when Sigma is not
          positive definite, which is exactly the error wanted here.
    Forming np.linalg.inv(Sigma) is not needed. Do not add a "jitter" (Sigma + 1e-6 I) or drop
    small eigenvalues: the grader uses covariances whose feature scales span 1e-3 to 1e3
    (cond(Sigma) about 1e12), and their log-density is still determined to many digits.

    Args:
        X: array of shape (n, d), float64, one point per row (a single point is X[None, :]).
        mu: array of shape (d,), float64, the mean.
        Sigma: array of shape (d, d), float64, the covariance: symmetric positive definite.
            For d = 1 it is the 1 x 1 matrix of the VARIANCE (not the standard deviation).

    Returns:
        Array of shape (n,), float64: the log-density of each row of X (not the density).

    Raises:
        ValueError (np.linalg.LinAlgError is one): when Sigma is not positive definite.

    Not allowed: scipy.stats.multivariate_normal, torch.distributions.MultivariateNormal.

    Performance: one factorization and array operations for the whole batch; no Python loop
    over the points.
    """
    raise NotImplementedError("probability.mvn_logpdf: implement mvn_logpdf(X, mu, Sigma) in "
                              "exercises/probability.py")


def bce_with_logits(z, y):
    """Binary cross-entropy on logits, and its gradient.  [probability.bce_with_logits]

    Math:   with s(z) = 1 / (1 + exp(-z)) the sigmoid, each element's loss is
                l = -[ y log s(z) + (1 - y) log(1 - s(z)) ],
            and the loss is the MEAN over all N elements of z (all axes). Its gradient is
                dloss/dz = (s(z) - y) / N.

    Numerical stability: for z = 1000, s(z) rounds to exactly 1.0 and log(1 - s(z)) = log 0 =
    -inf; for z = -1000, exp(-z) overflows. Use the identities
            log s(z) = -log(1 + exp(-z)),   log(1 - s(z)) = -log(1 + exp(z)),
    which give  l = max(z, 0) - z y + log(1 + exp(-|z|))  (np.log1p): exp never sees a
    positive argument. Clipping s(z) to [eps, 1 - eps] is NOT a fix: it caps the loss of
    z = 1000 with y = 0 at -log(eps) instead of 1000. The grader uses z = +-1000.

    Labels may be soft: any y in [0, 1] (label smoothing), not only 0 and 1.

    Args:
        z: array of any shape, float64: logits.
        y: array of the SAME shape as z, float64, values in [0, 1].

    Returns:
        (loss, dz): loss a real scalar (Python float or numpy float64), the mean loss;
        dz an array of z's shape, float64.

    Raises:
        ValueError: when z and y have different shapes. (z of shape (N, 1) and y of shape (N,)
        would broadcast to (N, N) pairs and give a loss over N^2 wrong terms.)

    Not allowed: torch.nn.functional.binary_cross_entropy(_with_logits) and autograd
    (torch.autograd, loss.backward()): the exercise is to derive the gradient.

    Performance: array operations only.
    """
    raise NotImplementedError("probability.bce_with_logits: implement bce_with_logits(z, y) "
                              "in exercises/probability.py")


def mse_loss(pred, target):
    """Mean squared error, and its gradient.  [probability.mse_loss]

    Math:   loss = (1/N) sum_i (pred_i - target_i)^2 over all N elements (all axes), as
            torch.nn.functional.mse_loss; dloss/dpred = 2 (pred - target) / N.
            (The factor 2 comes from the square; N is the total number of elements, so for a
            (B, K) array it is B * K, not B.)

    Args:
        pred: array of any shape, float64.
        target: array of the SAME shape as pred, float64.

    Returns:
        (loss, dpred): loss a real scalar (Python float or numpy float64); dpred an array of
        pred's shape, float64.

    Raises:
        ValueError: when pred and target have different shapes. pred of shape (N,) minus
        target of shape (N, 1) broadcasts to an (N, N) array of all pairs: numpy does not
        complain, the loss is silently wrong (torch only warns).

    Not allowed: torch.nn.functional.mse_loss and autograd (torch.autograd, loss.backward()).

    Performance: array operations only.
    """
    raise NotImplementedError("probability.mse_loss: implement mse_loss(pred, target) in "
                              "exercises/probability.py")
