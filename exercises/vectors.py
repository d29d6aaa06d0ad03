"""Vectors and matrices: norms, numerical rank, cosine similarity, orthonormal bases.

Fill in each function below. Run ``grade vectors`` to check your work, or
``grade vectors.norms`` for one exercise. Arrays are numpy arrays of float64 unless a docstring
says otherwise.
"""

import numpy as np


def l2_norm(x, axis=None):
    """Euclidean (l2) norm of a vector, or of every vector along one axis.  [vectors.norms]

    Math:   ||x||_2 = sqrt(sum_i x_i^2)

    Computing it literally fails at the ends of the float64 range: for x_i = 1e200 the square
    1e400 overflows to inf, and for x_i = 1e-200 the square 1e-400 underflows to 0, although
    the norms (about 1e200 and 1e-200) are ordinary numbers. Scale first: with
    s = max_i |x_i| > 0,  ||x||_2 = s * sqrt(sum_i (x_i / s)^2),  and every (x_i / s)^2 is in
    [0, 1]. The zero vector has norm 0 (do not divide by s = 0).

    Args:
        x: array of any shape, real entries.
        axis: None: the norm of all entries of x together (the flattened x);
            an int: the norm of each vector along that axis (like ``np.linalg.norm(x,
            axis=axis)``), e.g. axis=1 gives the norm of each row of a matrix.

    Returns:
        axis=None: a real scalar (float). axis=k: an array of x's shape without axis k, float64.

    Not allowed in this exercise: np.linalg.norm, np.linalg.vector_norm, np.linalg.matrix_norm,
    np.linalg.matrix_rank, np.linalg.cond, scipy.linalg.norm and torch's norms.

    Performance: array operations only (no Python loop over the entries).
    """
    raise NotImplementedError("vectors.norms: implement l2_norm(x, axis=None) in "
                              "exercises/vectors.py")


def spectral_norm(A):
    """Spectral norm (operator 2-norm) of a matrix.  [vectors.norms]

    Math:   ||A||_2 = max_{x != 0} ||A x||_2 / ||x||_2 = sigma_max(A), the largest singular
            value of A.

    It is NOT the largest |eigenvalue| of A (the spectral radius): for a non-symmetric A the
    two differ (A = [[0, 1], [0, 0]] has eigenvalues 0, 0 but ||A||_2 = 1). It is not the
    Frobenius norm sqrt(sum_i sigma_i^2) either. sqrt(largest eigenvalue of A^T A) is right in
    exact arithmetic, but forming A^T A squares the entries: 1e200 overflows.

    Args:
        A: array of shape (m, n), real entries (entries may be as large as 1e200).

    Returns:
        A real scalar (float) >= 0; 0.0 for the zero matrix.

    Tools: ``np.linalg.svd(A, compute_uv=False)`` returns the singular values, largest first.
    """
    raise NotImplementedError("vectors.norms: implement spectral_norm(A) in exercises/vectors.py")


def frobenius_norm(A):
    """Frobenius norm of a matrix.  [vectors.norms]

    Math:   ||A||_F = sqrt(sum_ij A_ij^2) = sqrt(sum_i sigma_i^2)  (the l2 norm of A's entries)

    The same overflow and underflow traps as l2_norm: entries of 1e200 must give a finite
    norm of about 1e200.

    Args:
        A: array of shape (m, n), real entries.

    Returns:
        A real scalar (float) >= 0; 0.0 for the zero matrix.
    """
    raise NotImplementedError("vectors.norms: implement frobenius_norm(A) in "
                              "exercises/vectors.py")


def numerical_rank(A, rtol=None):
    """Numerical rank: how many singular values are not zero up to rounding.  [vectors.norms]

    Math:   rank(A) = #{ i : sigma_i > rtol * sigma_max },
            rtol = None means max(m, n) * eps, eps = np.finfo(np.float64).eps (about 2.2e-16).

    In floating point the singular values that are zero in exact arithmetic come out as
    rounding noise of about eps * sigma_max, and data may carry noise of its own (1e-14, say):
    counting sigma_i > 0 counts the noise. The cutoff is RELATIVE to sigma_max, so that
    rank(c * A) == rank(A) for every c != 0: a fixed threshold like sigma_i > 1e-10 calls
    1e-12 * A rank 0 and counts the rounding noise of 1e12 * A. The comparison is strict, so
    the zero matrix has rank 0. This is ``np.linalg.matrix_rank(A, rtol=rtol)`` (which is not
    allowed here: compute the singular values with np.linalg.svd and count).

    Singular values, not eigenvalues of A^T A: those are sigma_i^2, and rounding puts the
    "zero" ones near eps * sigma_max^2, whose square root (1e-8 * sigma_max) passes any
    reasonable cutoff.

    Args:
        A: array of shape (m, n), real entries.
        rtol: relative cutoff (a float), or None for max(m, n) * eps.

    Returns:
        An int (a Python int or a numpy integer), 0 <= rank <= min(m, n).
    """
    raise NotImplementedError("vectors.norms: implement numerical_rank(A, rtol=None) in "
                              "exercises/vectors.py")


def cosine_sim(A, B):
    """Cosine similarity between every row of A and every row of B.  [vectors.cosine_similarity]

    Math:   S_ij = (a_i . b_j) / (||a_i||_2 ||b_j||_2),  the cosine of the angle between row i
            of A and row j of B; S = A_hat B_hat^T where each row of A_hat, B_hat is a row of
            A, B divided by its norm.

    Convention: a zero row has no direction; its similarity with every row is 0 (not NaN
    from 0 / 0). For nonzero rows the result is exactly the cosine, however small their
    entries: do not add an epsilon to the denominator (a . b / (||a|| ||b|| + 1e-8) is
    visibly wrong for rows with entries of 1e-6). Rounding may put a cosine at 1 + 2e-16; the
    grader accepts values within 1e-12 of [-1, 1] (clip with np.clip if you pass them to
    arccos).

    Args:
        A: array of shape (m, d), real entries, one vector per ROW.
        B: array of shape (p, d), real entries, one vector per ROW.

    Returns:
        Array of shape (m, p), float64: S[i, j] compares A[i] with B[j]. A row with itself
        gives 1 (within 1e-12).

    Not allowed: scipy.spatial.distance (cdist, pdist, cosine), sklearn's cosine_similarity,
    torch.nn.functional.cosine_similarity.

    Performance: normalize the rows, then one matrix product; a loop over pairs of rows is
    hundreds of times slower at 300 x 500.
    """
    raise NotImplementedError("vectors.cosine_similarity: implement cosine_sim(A, B) in "
                              "exercises/vectors.py")


def orthonormalize(A, tol=1e-10):
    """An orthonormal basis of the column space of A, by Gram-Schmidt.  [vectors.orthonormalize]

    Math:   for k = 0, 1, ..., n-1: take column a_k, remove its components along the basis
            vectors found so far, w_k = a_k - sum_j (q_j . a_k) q_j, and, unless w_k is
            (nearly) zero, append q = w_k / ||w_k|| to the basis.

    Use MODIFIED Gram-Schmidt: remove the components one at a time from the vector as it is
    being reduced, w <- w - (q_j . w) q_j (equivalently: as soon as q_k is known, remove its
    component from every later column). Classical Gram-Schmidt computes every coefficient
    q_j . a_k from the original a_k; in exact arithmetic the two are the same, but for nearly
    dependent columns (condition number 5e4) classical Gram-Schmidt returns columns that are
    far from orthogonal (|q_i . q_j| up to 1e-7) while modified Gram-Schmidt keeps them
    orthogonal to 1e-11.

    Dependent columns: a column is DROPPED when what is left of it is zero up to rounding,
    ||w_k|| <= tol * ||a_k|| (a zero column included). The test is relative to the column's
    own norm, so that the result does not depend on the scale of A (entries of 1e-12 or
    1e12). Normalizing a w_k of norm 1e-16 * ||a_k|| would make rounding noise a basis vector.

    Args:
        A: array of shape (m, n), real entries.
        tol: the relative threshold above (a float).

    Returns:
        Q: array of shape (m, r), float64, r = the number of columns kept (the rank of A),
        with Q^T Q = I (to 1e-10) and the same column space as A. Its columns are the basis
        vectors in the order they were found; their signs are as Gram-Schmidt gives them (the
        grader accepts either sign). For A = 0, Q has shape (m, 0).

    Not allowed: np.linalg.qr, np.linalg.svd, scipy.linalg.qr, scipy.linalg.svd,
    scipy.linalg.orth, torch.linalg.qr, torch.linalg.svd: build the basis from inner products.

    Performance: one pass over the columns with vectorized inner products (q . w over whole
    columns, or q^T times all later columns at once); no loop over single entries.
    """
    raise NotImplementedError("vectors.orthonormalize: implement orthonormalize(A, tol=1e-10) "
                              "in exercises/vectors.py")
