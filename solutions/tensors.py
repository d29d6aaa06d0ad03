"""Reference solutions for exercises/tensors.py."""

import torch


def matmul(A, B):
    if A.ndim != 2 or B.ndim != 2:
        raise ValueError(f"matmul expects two 2-D tensors, got shapes {tuple(A.shape)} and "
                         f"{tuple(B.shape)}")
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"inner dimensions differ: A is {tuple(A.shape)}, B is "
                         f"{tuple(B.shape)}")
    # C[i, j] = sum_k A[i, k] B[k, j]: the products laid out as (m, n, p), summed over k.
    return (A.unsqueeze(2) * B.unsqueeze(0)).sum(dim=1)


def dense_relu(x, W, b):
    rows = x.reshape(x.shape[0], -1)
    if rows.shape[1] != W.shape[0]:
        raise ValueError(f"x has {rows.shape[1]} features per sample but W has "
                         f"{W.shape[0]} rows")
    return torch.relu(rows @ W + b.reshape(-1))


def low_rank_approx(A, k):
    m, n = A.shape
    if not 0 <= k <= min(m, n):
        raise ValueError(f"k must be in 0..{min(m, n)} for a {m}x{n} matrix, got {k}")
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    # U_k diag(S_k) V_k^T: scale the first k columns of U, then one product with k rows of Vh.
    return (U[:, :k] * S[:k]) @ Vh[:k]


def sample_categorical(probs, n, generator):
    if probs.ndim != 1 or probs.shape[0] == 0:
        raise ValueError(f"probs must be a non-empty 1-D tensor, got shape {tuple(probs.shape)}")
    if bool((probs < 0).any()):
        raise ValueError("probs has a negative entry")
    total = float(probs.sum())
    if abs(total - 1.0) > 1e-5:
        raise ValueError(f"probs sums to {total}, not 1")
    cdf = torch.cumsum(probs, dim=0)
    # Uniforms on [0, cdf[-1]): the last cumulative sum may round a little below 1, and a draw
    # above it would fall past the last class with positive probability.
    u = torch.rand(n, generator=generator, dtype=probs.dtype, device=probs.device) * cdf[-1]
    # Class i owns [cdf[i-1], cdf[i]): the number of cumulative sums <= u. A class of
    # probability 0 owns an empty interval, so it is never drawn.
    classes = torch.searchsorted(cdf, u, right=True)
    one_hot = torch.zeros(n, probs.shape[0], dtype=probs.dtype, device=probs.device)
    one_hot[torch.arange(n, device=probs.device), classes] = 1
    return one_hot
