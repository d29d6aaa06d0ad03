"""Linear algebra: dot products, the pseudo-inverse, principal component analysis.

Fill in each function below. Run ``grade linalg`` to check your work, or ``grade linalg.dot``
for one exercise. Arrays are numpy arrays of float64 unless a docstring says otherwise.
"""

import numpy as np


def dot(u, v):
    """Dot product of two vectors.  [linalg.dot]

    Math:   u . v = sum_i u_i v_i

    Args:
        u: array of shape (n,), real entries (float or int).
        v: array of shape (n,), real entries.

    Returns:
        The real scalar u . v (a Python float or a numpy float64). For n = 0 it is 0.0.

    Raises:
        ValueError: when u and v have different lengths. (Code built on ``zip`` silently
        truncates the longer vector: check the lengths yourself.)

    Performance: one vectorized expression; a Python loop over 10^6 elements is flagged
    as not vectorized.
    """
    raise NotImplementedError("linalg.dot: implement dot(u, v) in exercises/linalg.py")


def pinv(A, rtol=None):
    """Moore-Penrose pseudo-inverse of a real matrix, computed from its SVD.  [linalg.pinv]

    Math:   A = U S V^T (thin SVD, singular values s_1 >= s_2 >= ... >= 0), then
            A^+ = V S^+ U^T,   with (S^+)_ii = 1 / s_i  if s_i > rtol * max(s), else 0.

    Singular values at or below the cutoff rtol * max(s) count as zero: they are rounding
    noise of a rank-deficient matrix, and 1 / (1e-17) would swamp the answer. The cutoff is
    RELATIVE to the largest singular value, so pinv(c * A) == pinv(A) / c for every c != 0;
    an absolute threshold (s > 1e-10, or s > rtol) breaks that for very small or very large
    matrices.

    Args:
        A: array of shape (m, n), real entries; tall, wide, square, rank-deficient or all-zero.
        rtol: relative cutoff; None means max(m, n) * machine epsilon
            (``max(m, n) * np.finfo(np.float64).eps``, the default of
            ``np.linalg.pinv(A, rtol=None)``).

    Returns:
        Array of shape (n, m), float64. For the all-zero matrix it is the zero matrix (n, m).
        It satisfies the Penrose conditions A P A = A, P A P = P, (A P)^T = A P, (P A)^T = P A.

    Not allowed: np.linalg.pinv, scipy.linalg.pinv, torch.linalg.pinv, torch.pinverse
    (np.linalg.svd is the tool to use).

    Performance: one SVD and array operations; no Python loop over singular values needed.
    """
    raise NotImplementedError("linalg.pinv: implement pinv(A, rtol=None) in exercises/linalg.py")


def pca(X, k):
    """Principal component analysis of a data matrix (covariance PCA).  [linalg.pca]

    Math:   center the columns, Xc = X - mean(X, axis=0), and take the sample covariance
            C = Xc^T Xc / (n - 1)   (ddof = 1, as np.cov). The principal components are the
            eigenvectors of C for its k largest eigenvalues; the explained variances are those
            eigenvalues. Equivalently, from the SVD Xc = U S V^T: components = the first k
            columns of V, variances = s_i^2 / (n - 1).

    Convention: center, but do NOT standardize (no division by the feature standard
    deviations: features keep their scales). Eigenvalues are returned largest first
    (np.linalg.eigh returns them in ASCENDING order). Components are COLUMNS here, while
    scikit-learn's PCA.components_ stores them as rows.

    Args:
        X: array of shape (n_samples, d), float64, n_samples >= 2; each row is one sample.
        k: int, number of components, 1 <= k <= d.

    Returns:
        (components, explained_variance):
        components: array of shape (d, k), float64; its COLUMNS are orthonormal principal
            directions, column j for the j-th largest variance. The sign of each column is
            arbitrary (v and -v are the same direction) and the grader accepts either; where
            variances are equal, any orthonormal basis of their eigenspace is accepted.
        explained_variance: array of shape (k,), float64, decreasing: the variance of the data
            along each component (the eigenvalues of C), not singular values, not standard
            deviations.

    Performance: one SVD (or one eigh of the d x d covariance) and array operations; no loops.
    """
    raise NotImplementedError("linalg.pca: implement pca(X, k) in exercises/linalg.py")
