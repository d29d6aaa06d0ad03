"""Tensors in PyTorch: the matrix product, a dense layer, low-rank approximation, sampling.

Fill in each function below. Run ``grade tensors`` to check your work, or ``grade
tensors.matmul`` for one exercise. Inputs are torch tensors, float64 or float32, and may live
on a GPU (``grade --device cuda``). Every result must be a torch tensor on the device of the
inputs, with their dtype: a tensor you create yourself (torch.zeros, torch.ones, torch.arange,
torch.tensor) lands on the CPU in float32 unless you pass ``device=A.device, dtype=A.dtype``
(or use ``A.new_zeros(...)``, ``torch.zeros_like(A)``); results of operations on the inputs
stay where the inputs are.
"""

import torch


def matmul(A, B):
    """The matrix product, written with elementwise operations.  [tensors.matmul]

    Math:   C = A B,   C[i, j] = sum_k A[i, k] * B[k, j]
    Row i of A meets COLUMN j of B. A way without loops: lay the products out as an
    (m, n, p) tensor with broadcasting (A[:, :, None] has shape (m, n, 1), B[None, :, :] has
    shape (1, n, p)) and sum over the middle axis k.

    Args:
        A: tensor of shape (m, n), float64 or float32.
        B: tensor of shape (n, p), same dtype and device as A.

    Returns:
        C: tensor of shape (m, p), A's dtype, on A's device. For a 1 x n row times an n x 1
        column that is shape (1, 1), not a scalar. When A or B requires grad, C must stay
        attached to autograd (no .item(), .tolist(), .numpy() or torch.tensor(...) of values
        on the way), so that C.sum().backward() reaches A.grad and B.grad.

    Raises:
        ValueError (or the RuntimeError torch raises) when the inner dimensions differ,
        A.shape[1] != B.shape[0]. Check it yourself: broadcasting stretches a dimension of
        size 1, so A of shape (3, 1) and B of shape (4, 2) would silently give a (3, 2) result.

    Not allowed (an honesty check: the exercise is to build the product): the @ operator,
    torch.matmul / A.matmul, torch.mm / A.mm, torch.bmm, torch.mv, torch.einsum,
    torch.tensordot, torch.inner, torch.addmm, torch.linalg.matmul, torch.linalg.multi_dot,
    torch.chain_matmul and torch.nn.functional.linear. Elementwise products, broadcasting and
    .sum are what to use.

    Performance: no Python loop over elements; a triple loop over tensor elements is thousands
    of times slower than one broadcast product.
    """
    raise NotImplementedError("tensors.matmul: implement matmul(A, B) in exercises/tensors.py")


def dense_relu(x, W, b):
    """A fully connected layer followed by a ReLU.  [tensors.dense_relu]

    Math:   y = relu(X W + b),   X = x flattened to shape (N, D),   relu(z) = max(z, 0)
    Each of the N samples (the first axis of x) is flattened into one row of D features:
    an image batch of shape (N, C, H, W) becomes (N, C*H*W) (x.flatten(1), or
    x.reshape(x.shape[0], -1); NOT x.flatten(), which also merges the batch axis). The bias
    is added to every row BEFORE the ReLU.

    Convention: W has shape (D, M), inputs times weights (X W), as in the math of the
    course. torch.nn.Linear stores its weight the other way round, (M, D), and computes
    X W^T: do not transpose W here.

    Args:
        x: tensor of shape (N, d1, d2, ...) with d1 * d2 * ... = D, float32 or float64; N may
            be 1.
        W: tensor of shape (D, M), same dtype and device.
        b: tensor of shape (M,) or (1, M), same dtype and device.

    Returns:
        y: tensor of shape (N, M) (also when N = 1 or M = 1: do not squeeze), x's dtype, on
        x's device, attached to autograd when the inputs require grad.

    Performance: one matrix product for the whole batch (X @ W is allowed here); no Python
    loop over samples.
    """
    raise NotImplementedError("tensors.dense_relu: implement dense_relu(x, W, b) in "
                              "exercises/tensors.py")


def low_rank_approx(A, k):
    """The best rank-k approximation of a matrix, from its SVD.  [tensors.low_rank_approx]

    Math:   A = U S V^T (thin SVD, singular values s_1 >= s_2 >= ... >= 0), then
            A_k = U_k S_k V_k^T = sum_{i <= k} s_i u_i v_i^T,
    with U_k the first k columns of U, V_k the first k columns of V, S_k = diag(s_1..s_k).
    Eckart-Young: no matrix of rank <= k is closer to A in the Frobenius norm, and
    ||A - A_k||_F = sqrt(s_{k+1}^2 + s_{k+2}^2 + ...).

    torch.linalg.svd(A, full_matrices=False) returns (U, S, Vh) with S DESCENDING and
    Vh = V^T: the right singular vectors are the ROWS of Vh, so V_k^T = Vh[:k]. (The
    eigenvalues of A^T A are the SQUARED singular values, and torch.linalg.eigh returns them
    in ascending order.)

    Args:
        A: tensor of shape (m, n), float64 or float32; tall, wide or square.
        k: int, 0 <= k <= min(m, n). k = 0 gives the zero matrix; k = rank(A) gives A itself.

    Returns:
        A_k: tensor of shape (m, n), A's dtype, on A's device (for k = 0 too: zeros made with
        torch.zeros(m, n) alone would be float32 on the CPU).

    Performance: one SVD and one product; no loop over singular values needed.
    """
    raise NotImplementedError("tensors.low_rank_approx: implement low_rank_approx(A, k) in "
                              "exercises/tensors.py")


def sample_categorical(probs, n, generator):
    """n independent draws from a categorical distribution, as one-hot rows.
    [tensors.sample_categorical]

    Math: class i is drawn with probability probs[i]. Inverse-CDF sampling: with the
    cumulative sums c_i = probs[0] + ... + probs[i] and u uniform on [0, 1), the draw is the
    class i with c_{i-1} <= u < c_i, i.e. the number of cumulative sums <= u
    (torch.searchsorted(c, u, right=True) counts them for a whole vector of u at once). A
    class of probability 0 owns an empty interval and must never be drawn.

    Randomness: draw every random number from ``generator`` (a torch.Generator on probs's
    device), e.g. torch.rand(n, generator=generator, dtype=probs.dtype, device=probs.device),
    or torch.multinomial(..., generator=generator). The same generator state must give the
    same samples; the global random state (torch.rand without generator=) does not.

    Args:
        probs: tensor of shape (K,), K >= 1, float32 or float64: nonnegative, summing to 1.
        n: int >= 0, the number of draws.
        generator: torch.Generator on probs's device.

    Returns:
        one_hot: tensor of shape (n, K), probs's dtype, on probs's device: row r has a single
        1 at the class of draw r and 0 elsewhere. (torch.nn.functional.one_hot returns int64:
        convert it with .to(probs.dtype).)

    Raises:
        ValueError: when an entry of probs is negative, or when probs does not sum to 1 within
        1e-5 (do not normalize silently: unnormalized weights are a bug upstream).

    Performance: vectorized over the n draws; no Python loop over samples.
    """
    raise NotImplementedError("tensors.sample_categorical: implement sample_categorical(probs, "
                              "n, generator) in exercises/tensors.py")
