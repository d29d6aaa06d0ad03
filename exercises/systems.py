"""Linear systems: Gaussian elimination, least squares, minimum-norm solutions.

Fill in each function below. Run ``grade systems`` to check your work, or ``grade systems.solve``
for one exercise. Arrays are numpy arrays of float64 unless a docstring says otherwise.
"""

import numpy as np


def solve(A, b):
    """Solve the square system A x = b by Gaussian elimination with partial pivoting.
    [systems.solve]

    Math:   eliminate below the diagonal column by column, k = 0, ..., n-1:
              1. pivoting: swap row k with the row p >= k whose |A[p, k]| is the largest, and
                 swap the same rows of b;
              2. for every row i > k: l_i = A[i, k] / A[k, k]; row_i <- row_i - l_i * row_k
                 (of A and of b);
            then back-substitute through the upper-triangular U:
              x_k = (y_k - sum_{j>k} U[k, j] x_j) / U[k, k],  k = n-1, ..., 0.

    Why pivot: without row swaps a zero (or tiny) A[k, k] divides by 0 (or makes multipliers
    like 1e18 that wipe out the other entries), although A may be perfectly invertible.

    Why not x = inv(A) @ b: forming the inverse costs more and is less accurate. Elimination
    with partial pivoting is backward stable: its residual ||A x - b|| is at rounding level
    even for the Hilbert matrix H_ij = 1 / (i + j + 1) of order 10 (condition number 1.6e13),
    where inv(A) @ b leaves relative residuals ||A x - b|| / ||b|| of 1e-7 to 1e-4. x itself
    is only accurate to about cond(A) * eps, for any method: ill-conditioned systems are
    judged by the residual.

    Singular A: raise ``np.linalg.LinAlgError`` when a column has no nonzero pivot left (the
    largest |candidate| is 0; you may also treat |pivot| <= n * eps * max|A_ij| as 0). Two
    equal rows or a zero column make A singular. Hilbert(10) is NOT singular (its smallest
    pivot is about 2.6e-12): a fixed threshold such as |pivot| < 1e-10 wrongly rejects it.

    Args:
        A: array of shape (n, n), real entries (float or int).
        b: array of shape (n,) or (n, k): one right-hand side, or k of them as columns.

    Returns:
        x: float64 array of b's shape with A x = b. Do not change A or b (work on copies).

    Not allowed: np.linalg.solve, np.linalg.lstsq, np.linalg.pinv, np.linalg.tensorsolve,
    scipy.linalg.solve, scipy.linalg.lu, scipy.linalg.lu_factor, scipy.linalg.lu_solve,
    scipy.linalg.lstsq, torch.linalg.solve. (scipy.linalg.solve_triangular is allowed for the
    back substitution.)

    Performance: one elimination (O(n^3)), vectorized over each step's rows and columns.
    """
    raise NotImplementedError("systems.solve: implement solve(A, b) in exercises/systems.py")


def least_squares(A, b):
    """The least-squares solution of an over-determined system A x ~ b.  [systems.least_squares]

    Math:   x minimizes ||A x - b||_2. Every minimizer satisfies the normal equations
            A^T (A x - b) = 0; when A has dependent columns there are infinitely many, and the
            answer is the one of smallest ||x||_2 (the minimum-norm least-squares solution):
              A = U S V^T (thin SVD),
              x = V S^+ U^T b = sum over sigma_i > cutoff of (u_i . b / sigma_i) v_i,
            cutoff = max(m, n) * eps * sigma_max (smaller singular values are rounding noise
            of zero ones: dividing by them would blow x up). This is A^+ b.

    Do NOT solve the normal equations (A^T A) x = A^T b: cond(A^T A) = cond(A)^2, so for
    cond(A) = 1e8 the system A^T A is singular to working precision (1e16) and x loses every
    digit along the directions of small singular values. An orthogonal factorization (SVD, or
    QR when A has full column rank) works on A itself.

    Args:
        A: array of shape (m, n), m >= n, real entries; full column rank or not.
        b: array of shape (m,) or (m, k): one right-hand side, or k as columns.

    Returns:
        x: float64 array of shape (n,) or (n, k).

    Not allowed: np.linalg.lstsq, np.linalg.pinv, scipy.linalg.lstsq, scipy.linalg.pinv,
    torch.linalg.lstsq, torch.linalg.pinv (np.linalg.svd and np.linalg.qr are the tools).

    Performance: one factorization of A (one SVD); no loops.
    """
    raise NotImplementedError("systems.least_squares: implement least_squares(A, b) in "
                              "exercises/systems.py")


def min_norm_solution(A, b):
    """The minimum-norm solution of an under-determined system A x = b.
    [systems.min_norm_solution]

    Math:   with m < n equations, A x = b has infinitely many solutions (when it has any):
            any one plus any vector of the null space of A. The one of smallest ||x||_2 is the
            one in the ROW space of A (orthogonal to the null space):
              A = U S V^T (thin SVD),  x = V S^+ U^T b = A^+ b,
            singular values <= max(m, n) * eps * sigma_max treated as zero (as in pinv).
            When b is not in the range of A (a rank-deficient A), no x solves A x = b; the
            same formula then gives the minimum-norm least-squares solution.

    x = A^T (A A^T)^{-1} b is the same vector when A has full row rank, but A A^T is
    singular when the rows of A are dependent, and cond(A A^T) = cond(A)^2 costs half the
    digits when A is ill-conditioned. Setting n - m unknowns to 0 and solving for the others
    gives a solution, but not the minimum-norm one.

    Args:
        A: array of shape (m, n), m <= n, real entries; full row rank or not.
        b: array of shape (m,) or (m, k).

    Returns:
        x: float64 array of shape (n,) or (n, k).

    Not allowed: np.linalg.lstsq, np.linalg.pinv, scipy.linalg.lstsq, scipy.linalg.pinv,
    torch.linalg.lstsq, torch.linalg.pinv.

    Performance: one SVD (or QR) of A; no loops.
    """
    raise NotImplementedError("systems.min_norm_solution: implement min_norm_solution(A, b) in "
                              "exercises/systems.py")
