"""Eigenvalues and geometry: power iteration, the spectral decomposition, rotations, matrix
powers by diagonalization, the axes of an ellipsoid.

Fill in each function below. Run ``grade eigen`` to check your work, or
``grade eigen.power_iteration`` for one exercise. Arrays are numpy arrays of float64 unless a
docstring says otherwise.

Eigenvectors are never unique: v and -v are both eigenvectors, and a repeated eigenvalue has a
whole subspace of them. The grader accepts any valid choice (it compares eigenvalues, checks
S Q = Q diag(lam) and Q^T Q = I, and compares subspaces), never entries of your vectors.
"""

import numpy as np


def power_iteration(A, num_iters=1000, tol=1e-10, seed=0):
    """The dominant eigenpair of a symmetric matrix by power iteration.  [eigen.power_iteration]

    Math:   the dominant eigenvalue lambda_1 is the one of largest |lambda| (it may be
            negative). Repeated multiplication by A amplifies the component along its
            eigenvector v_1 by |lambda_1 / lambda_2| per step relative to the next one:
                v_0     = x / ||x||,   x = np.random.default_rng(seed).standard_normal(n)
                v_{k+1} = A v_k / ||A v_k||          (one matrix-vector product per step)
            The eigenvalue is the Rayleigh quotient of the returned vector:  lam = v^T A v.

    Stopping: after num_iters steps at most, or as soon as the iterate stops changing,
            min(||v_{k+1} - v_k||, ||v_{k+1} + v_k||) < tol.
            Compare up to sign: for a negative lambda_1 the iterate flips sign every step.
            Judge convergence on v, not on lam: lam converges twice as fast (its error is the
            square of v's), so "lam stopped changing" stops while v is still off.

    Start from the seeded random vector above, never from a fixed one (all ones, e_1): a fixed
    start may be orthogonal to v_1, and then the iteration never finds it. With the same seed
    and num_iters, every correct implementation returns the same iterate (up to rounding).

    Args:
        A: array of shape (n, n), symmetric, float64.
        num_iters: the most matrix-vector products A v to make (the first included).
        tol: the stopping tolerance on the change of v (up to sign); 0 runs all num_iters.
        seed: the seed of the start vector (np.random.default_rng(seed)).

    Returns:
        (lam, v): lam a Python float (or numpy float64 scalar), the Rayleigh quotient v^T A v of
        the returned v; v an array of shape (n,), float64, of unit norm, either sign.

    Not allowed: np.linalg.eig, eigh, eigvals, eigvalsh, svd (and scipy's/torch's eigensolvers).

    Performance: one matrix-vector product A @ v per step, no Python loop over entries.
    """
    raise NotImplementedError("eigen.power_iteration: implement power_iteration(A, num_iters, "
                              "tol, seed) in exercises/eigen.py")


def spectral_decomposition(S):
    """Spectral decomposition of a real symmetric matrix.  [eigen.spectral_decomposition]

    Math:   every real symmetric S is S = Q diag(lam) Q^T with real eigenvalues lam and an
            ORTHOGONAL Q (Q^T Q = I): column j of Q is a unit eigenvector, S q_j = lam_j q_j,
            and eigenvectors of a repeated eigenvalue are chosen orthonormal too.

    Convention: lam in DESCENDING order of VALUE (not of |value|: -6 comes after 4), column j
    of Q paired with lam[j]. np.linalg.eigh returns ascending eigenvalues: reverse both.
    Use np.linalg.eigh, made for symmetric matrices: np.linalg.eig (for general matrices) does
    not orthogonalize the eigenvectors of a repeated eigenvalue.

    Args:
        S: array of shape (n, n), float64.

    Returns:
        (lam, Q): lam of shape (n,), float64, descending; Q of shape (n, n), float64, with
        orthonormal COLUMNS (either sign; any orthonormal basis of a repeated eigenvalue's
        eigenspace).

    Raises:
        ValueError: when S is not symmetric (np.allclose(S, S.T) is False): np.linalg.eigh
        reads one triangle only and would silently decompose another matrix.

    Performance: one np.linalg.eigh.
    """
    raise NotImplementedError("eigen.spectral_decomposition: implement spectral_decomposition(S) "
                              "in exercises/eigen.py")


def rotation_2d(theta):
    """The 2-D rotation by the angle theta.  [eigen.rotation_matrix]

    Math:   R(theta) = [[cos theta, -sin theta],
                        [sin theta,  cos theta]]
            turns vectors COUNTERCLOCKWISE: R(pi/2) e_x = e_y. R is orthogonal (R^T R = I)
            with det R = +1; R(-theta) = R(theta)^T; R(0) = R(2 pi) = I.

    Args:
        theta: a float, the angle in RADIANS (positive: counterclockwise; negative allowed).

    Returns:
        Array of shape (2, 2), float64.
    """
    raise NotImplementedError("eigen.rotation_matrix: implement rotation_2d(theta) in "
                              "exercises/eigen.py")


def rotation_3d(axis, theta):
    """The 3-D rotation by theta about an axis (Rodrigues' formula).  [eigen.rotation_matrix]

    Math:   with the UNIT axis k = axis / ||axis|| and its cross-product matrix
                K = [[  0, -k3,  k2],
                     [ k3,   0, -k1],
                     [-k2,  k1,   0]]        (K v = k x v),
            R = I + sin(theta) K + (1 - cos(theta)) K^2.
            R turns by theta counterclockwise when the axis points at you (right-hand rule):
            rotation_3d([0, 0, 1], pi/2) maps e_x to e_y. R^T R = I, det R = +1, R k = k.

    Args:
        axis: array of shape (3,), float64, any nonzero length (normalize it yourself: the
            formula needs a unit vector, and the grader passes axes of other lengths).
        theta: a float, the angle in RADIANS (negative allowed; theta = 0 and 2 pi give I).

    Returns:
        Array of shape (3, 3), float64.
    """
    raise NotImplementedError("eigen.rotation_matrix: implement rotation_3d(axis, theta) in "
                              "exercises/eigen.py")


def matrix_power(A, k):
    """A^k through the eigendecomposition.  [eigen.matrix_power]

    Math:   if A = V diag(w) V^{-1} (np.linalg.eig: w the eigenvalues, the columns of V the
            eigenvectors), then A^k = V diag(w^k) V^{-1}: one decomposition for any k, instead
            of k - 1 matrix products.
            - V^{-1} is NOT V^T unless A is symmetric (then V is orthogonal).
            - Negative eigenvalues are fine: w**k with an integer k (never exp(k log w)).
            - Complex eigenvalues come in conjugate pairs for a real A; V and w are then
              complex, but A^k is real: return the real part (the imaginary parts are
              rounding noise).
            - k = 0 gives the identity.

    Not every matrix is diagonalizable: [[1, 1], [0, 1]] has only one eigenvector direction,
    so the V from np.linalg.eig is singular up to rounding and V diag(w^k) V^{-1} is
    garbage. Detect this (np.linalg.cond(V) larger than 1e8, say) and either raise
    np.linalg.LinAlgError or fall back to repeated multiplication (A^10 = [[1, 10], [0, 1]]).

    Args:
        A: array of shape (n, n), float64, real.
        k: int >= 0.

    Returns:
        Array of shape (n, n), float64 (real, even when the eigenvalues are complex).

    Not allowed: np.linalg.matrix_power (and scipy's/torch's matrix powers).

    Performance: one eigendecomposition, O(n^3) once; a loop of k matrix products is flagged
    as slow for large k.
    """
    raise NotImplementedError("eigen.matrix_power: implement matrix_power(A, k) in "
                              "exercises/eigen.py")


def hyperellipse_axes(A):
    """The semi-axes of the ellipsoid {x : x^T A x = 1}.  [eigen.hyperellipse_axes]

    Math:   for symmetric positive definite A = Q diag(lam) Q^T, in the coordinates y = Q^T x
            the set is sum_i lam_i y_i^2 = 1: an ellipsoid whose semi-axis along the
            eigenvector q_i has length 1/sqrt(lam_i) (the point t q_i satisfies
            t^2 lam_i = 1). The SMALLEST eigenvalue gives the LONGEST axis.

    Args:
        A: array of shape (n, n), float64, symmetric positive definite.

    Returns:
        (lengths, directions):
        lengths: array of shape (n,), float64, the semi-axis lengths (center to surface, not
            diameters), in DESCENDING order.
        directions: array of shape (n, n), float64; its COLUMNS are unit vectors along the
            axes, column j for lengths[j]. Either sign is fine; where lengths are equal (a
            sphere, a spheroid), any orthonormal basis of their subspace is accepted.

    Raises:
        ValueError: when A is not symmetric, or not positive definite: its smallest
            eigenvalue is <= 1e-12 times its largest (zero or negative: the set is unbounded
            along that eigenvector, and 1/sqrt(lambda) would be NaN or huge).

    Performance: one np.linalg.eigh.
    """
    raise NotImplementedError("eigen.hyperellipse_axes: implement hyperellipse_axes(A) in "
                              "exercises/eigen.py")
