"""Calculus: numerical gradients, gradients and Hessians of quadratics, positive definiteness,
gradient descent.

Fill in each function below. Run ``grade calculus`` to check your work, or
``grade calculus.numerical_gradient`` for one exercise. Arrays are numpy arrays of float64
unless a docstring says otherwise.
"""

import numpy as np


def numerical_gradient(f, x, h=1e-5):
    """The gradient of a scalar function by centered differences.  [calculus.numerical_gradient]

    Math:   for every entry i of x (whatever the shape of x), with e_i the array that is 1 at
            entry i and 0 elsewhere,

                grad[i] = ( f(x + h e_i) - f(x - h e_i) ) / (2 h)

            The centered difference is accurate to O(h^2); the forward difference
            (f(x + h e_i) - f(x)) / h only to O(h). For f(x) = sum(x**3) it gives exactly
            3 x_i^2 + h^2 (up to rounding), which the grader uses to check the formula and
            that the h you were given is the h you used.

    You may perturb x in place (x[i] += h) to avoid copies, but then put every entry back
    EXACTLY as it was before the next one: a left-over perturbation moves the point at which
    the later entries are differentiated. (With a separable f such as sum(x**3) that goes
    unnoticed; with a loss where entries interact, such as softmax cross-entropy, it does not.)
    Saving the old value and writing it back is exact; x[i] += h, then -= 2h, then += h may
    leave x a rounding error away.

    Args:
        f: a function taking an array of x's shape and returning a real number.
        x: array of any shape (1-D, a weight matrix, ...), dtype float64.
        h: the step, a positive float.

    Returns:
        Array of x's shape, float64: the estimated gradient. x holds the same values after the
        call as before it.

    Raises:
        TypeError: when x is not a float64 array (a ValueError is accepted too). In float32,
        x + 1e-5 keeps only a few bits of the step and the estimate is noise.

    Use it to check gradients, not to train: it calls f twice per entry of x (for 200
    parameters it was 399 times slower than the analytic gradient).
    """
    raise NotImplementedError("calculus.numerical_gradient: implement numerical_gradient(f, x, "
                              "h=1e-5) in exercises/calculus.py")


def quad_grad_hess(A, b, x):
    """Value, gradient and Hessian of a quadratic function.  [calculus.quad_grad_hess]

    Math:   f(x) = 1/2 x^T A x + b^T x, for a square A that need NOT be symmetric.
            Since x^T A x = x^T A^T x, only the symmetric part S = (A + A^T) / 2 matters:
                grad f(x) = S x + b = 1/2 (A + A^T) x + b
                Hessian   = S       = 1/2 (A + A^T)
            The familiar "A x + b" and "A" hold only when A is symmetric. The grader uses
            non-symmetric A.

    Args:
        A: array of shape (n, n), float64 (n may be 1).
        b: array of shape (n,), float64.
        x: array of shape (n,), float64.

    Returns:
        (f, g, H): f a real scalar (a Python float or a numpy float64), g of shape (n,),
        H of shape (n, n), both float64.

    Performance: a few matrix-vector products; no Python loops over entries.
    """
    raise NotImplementedError("calculus.quad_grad_hess: implement quad_grad_hess(A, b, x) in "
                              "exercises/calculus.py")


def taylor2(f, g, H, x0, x):
    """The second-order Taylor model of a function around x0, evaluated at x.
    [calculus.quad_grad_hess]

    Math:   with d = x - x0,
                m(x) = f + g^T d + 1/2 d^T H d
            where f, g, H are the value, gradient and Hessian of the function AT x0. For a
            quadratic function the model is exact (m(x) = f(x) for every x); for a smooth
            function the error |m(x) - f(x)| shrinks like |d|^3 (halve d, divide the error by 8).

    Args:
        f: real scalar, the value at x0.
        g: array of shape (n,), the gradient at x0.
        H: array of shape (n, n), the Hessian at x0 (symmetric).
        x0: array of shape (n,), the expansion point.
        x: array of shape (n,), where to evaluate the model.

    Returns:
        The real scalar m(x).
    """
    raise NotImplementedError("calculus.taylor2: implement taylor2(f, g, H, x0, x) in "
                              "exercises/calculus.py")


def is_positive_definite(A, tol=1e-10):
    """Is A a symmetric positive-definite matrix?  [calculus.is_positive_definite]

    Math:   A is symmetric positive definite (SPD) when A = A^T and x^T A x > 0 for every
            x != 0, equivalently when every eigenvalue of the symmetric A is positive.

    In floating point both conditions need a RELATIVE tolerance:
      - symmetric: max |A - A^T| <= tol * max |A| (a matrix computed as X^T X is symmetric
        only up to rounding; a non-symmetric A answers False, even when x^T A x > 0);
      - positive: the smallest eigenvalue lambda_min > tol * max |lambda| (the largest
        eigenvalue in absolute value). A matrix whose lambda_min is 1e-14 of its largest is
        singular to working precision and answers False; so do positive SEMI-definite
        matrices (lambda_min = 0) and the zero matrix.
    Relative means that is_positive_definite(c * A) == is_positive_definite(A) for every
    c > 0: an absolute test (lambda_min > tol) gets matrices with entries about 1e-12 wrong.

    np.linalg.eigvalsh reads only the lower triangle of its argument (it assumes symmetry,
    and so does np.linalg.cholesky): test the symmetry yourself first.

    Args:
        A: array of shape (n, n), n >= 1, float64.
        tol: the relative tolerance, a small positive float.

    Returns:
        A bool (Python bool or numpy bool).

    Raises:
        ValueError: when A is not a square 2-D array.

    Performance: one np.linalg.eigvalsh (or one Cholesky factorization plus an estimate of
    lambda_min); not the determinants of all leading minors.
    """
    raise NotImplementedError("calculus.is_positive_definite: implement is_positive_definite("
                              "A, tol=1e-10) in exercises/calculus.py")


def gradient_descent(grad_f, x0, lr, n_steps):
    """Plain gradient descent with a fixed learning rate.  [calculus.gradient_descent]

    Math:   x_0 = x0,   x_{k+1} = x_k - lr * grad_f(x_k)   for k = 0, ..., n_steps - 1.

            On a quadratic f(x) = 1/2 x^T A x (A SPD), grad_f(x) = A x and the iterates are
            x_k = (I - lr A)^k x0: they converge when lr < 2 / lambda_max(A), oscillate
            without shrinking along the top eigenvector at lr = 2 / lambda_max, and diverge
            above it.

    Args:
        grad_f: a function taking an array of x0's shape and returning the gradient there
            (a new array of the same shape). Call it exactly once per step (n_steps calls).
        x0: array of shape (n,), float64, the starting point. Do not change it: start from a
            copy (x = x0 then x -= ... writes into the caller's array).
        lr: the learning rate, a positive float.
        n_steps: the number of updates, an int >= 0.

    Returns:
        (x, history): x the final iterate x_{n_steps}, shape (n,); history of shape
        (n_steps + 1, n), float64, with history[k] = x_k (history[0] = x0, history[-1] = x).
        Store a copy of each iterate: appending the same array that you then update in
        place leaves n_steps + 1 references to the last iterate. (A list of n_steps + 1
        arrays is accepted too.)

    Performance: one grad_f call per step; collect the iterates in a list (or a preallocated
    array) and stack once, not np.vstack inside the loop (that copies the whole history at
    every step).
    """
    raise NotImplementedError("calculus.gradient_descent: implement gradient_descent(grad_f, "
                              "x0, lr, n_steps) in exercises/calculus.py")
