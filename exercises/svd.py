"""The singular value decomposition at work: tf-idf weights and latent semantic analysis.

Fill in each function below. Run ``grade svd`` to check your work, or ``grade svd.tfidf_lsa``
for one exercise. Arrays are numpy arrays of float64 unless a docstring says otherwise.
"""

import numpy as np


def tfidf(counts):
    """tf-idf weights of a document-term count matrix.  [svd.tfidf_lsa]

    Math, for N documents (rows d) and the terms (columns t):
            tf[d, t]  = counts[d, t] / sum_t' counts[d, t']     (term frequency: the share of
                                                                 document d's words that are t)
            df[t]     = number of documents d with counts[d, t] > 0
            idf[t]    = ln(N / df[t])                            (NATURAL log)
            tfidf[d, t] = tf[d, t] * idf[t]

    Conventions (tf-idf has many variants; this is the one graded):
        - no smoothing and no "+ 1" in the idf (scikit-learn's TfidfTransformer differs): a
          term that occurs in EVERY document has idf = ln(1) = 0, so its column is 0;
        - df counts documents, not occurrences;
        - an empty document (a row of zeros) has tf = 0, not 0/0 = NaN: its row is 0;
        - a term that occurs in no document (df = 0) has idf = 0, not ln(N/0) = inf: its
          column is 0;
        - no normalization of the rows afterwards.

    Args:
        counts: array of shape (n_docs, n_terms) of non-negative integers (int64).

    Returns:
        Array of shape (n_docs, n_terms), float64, with no NaN or Inf.

    Performance: array operations over the whole matrix, no loops over documents or terms.
    """
    raise NotImplementedError("svd.tfidf_lsa: implement tfidf(counts) in exercises/svd.py")


def lsa_similarity(counts, k):
    """Document-document similarities by latent semantic analysis.  [svd.tfidf_lsa]

    Math:   X = tfidf(counts), of shape (n_docs, n_terms), and its thin SVD X = U S V^T
            (np.linalg.svd(X, full_matrices=False)). Keep the k largest singular values: the
            document vectors are the ROWS of
                D = U_k S_k = U[:, :k] * s[:k]      (equivalently X V_k),   shape (n_docs, k),
            and the similarity of documents i and j is the cosine of their vectors:
                sim[i, j] = d_i . d_j / (||d_i|| ||d_j||).
            Flipping the sign of a singular vector flips a column of D and changes no cosine.

    Conventions:
        - a document whose tf-idf row is all zero (an empty document, or one made only of
          terms that occur in every document) has similarity 0 with every document, itself
          included. Find those documents from X (X.any(axis=1) is False): their rows of
          U_k S_k are rounding noise of size 1e-16, not exact zeros, and normalizing that
          noise gives a random direction;
        - every other document has sim[i, i] = 1;
        - k larger than min(n_docs, n_terms) keeps every singular value (slicing does that).

    Args:
        counts: array of shape (n_docs, n_terms) of non-negative integers (int64).
        k: int >= 1, the number of latent dimensions.

    Returns:
        Array of shape (n_docs, n_docs), float64, symmetric, entries in [-1, 1].

    Performance: one SVD, then one matrix product of the normalized document vectors; a
    Python loop over pairs of documents is flagged as slow (60x at 300 documents).
    """
    raise NotImplementedError("svd.tfidf_lsa: implement lsa_similarity(counts, k) in "
                              "exercises/svd.py")
