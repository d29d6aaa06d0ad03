"""Reference solutions for exercises/svd.py."""

import numpy as np


def tfidf(counts):
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or (counts < 0).any():
        raise ValueError(f"tfidf expects a (n_docs, n_terms) array of counts >= 0, got shape "
                         f"{counts.shape}")
    n_docs = counts.shape[0]
    lengths = counts.sum(axis=1, keepdims=True)
    tf = np.divide(counts, lengths, out=np.zeros_like(counts), where=lengths > 0)
    df = np.count_nonzero(counts, axis=0)
    idf = np.zeros(counts.shape[1])
    used = df > 0
    idf[used] = np.log(n_docs / df[used])
    return tf * idf


def lsa_similarity(counts, k):
    X = tfidf(counts)
    if int(k) != k or k < 1:
        raise ValueError(f"lsa_similarity expects an integer k >= 1, got {k!r}")
    U, s, _ = np.linalg.svd(X, full_matrices=False)
    docs = U[:, :int(k)] * s[:int(k)]
    # A document without weight (empty, or made only of terms of every document) has no
    # direction: its similarities are 0 by definition. Test its tf-idf row, which is exactly
    # zero; its row of U_k S_k is rounding noise (1e-16), not zero.
    keep = X.any(axis=1)
    unit = np.zeros_like(docs)
    unit[keep] = docs[keep] / np.linalg.norm(docs[keep], axis=1, keepdims=True)
    return unit @ unit.T
