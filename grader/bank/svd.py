"""Checks of exercises/svd.py: tf-idf weights and latent semantic analysis (tfidf_lsa).

The document similarities of LSA are cosines between rows of U_k S_k: they do not change when
a singular vector flips its sign, so they are compared entry by entry. They are unique when
sigma_k > sigma_(k+1); every case keeps that gap at 2% of sigma_1 or more.
"""

from __future__ import annotations

import numpy as np

from grader import diagnose
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare
from grader.judges import Mistake, Trial

# tf-idf is a quotient times a logarithm: implementations differ by an ulp or two.
TFIDF_RTOL, TFIDF_ATOL = 1e-10, 1e-12
# Cosines of rank-k document vectors: SVDs (thin or full, of X or of X X^T) agree to about
# eps * sigma_1 / gap, below 1e-13 with the gaps of these cases.
LSA_RTOL, LSA_ATOL = 1e-8, 1e-9
# A student's version of a known mistake rounds differently from ours.
_MISTAKE_RTOL, _MISTAKE_ATOL = 1e-6, 1e-9
MIN_GAP = 0.02  # (sigma_k - sigma_(k+1)) / sigma_1 in every LSA case
MIN_NORM = 0.05  # every non-empty document's rank-k vector, relative to the longest


# ----------------------------------------------------------------------------- case inputs

# Built from the generator's integer and uniform draws only (no Poisson: its sampler calls
# libm's exp), so that a case is the same bits on every machine.

def _sparse_counts(rng: np.random.Generator, shape: tuple, density) -> np.ndarray:
    """Counts 1..4 where a uniform draw falls below ``density`` (a scalar or an array)."""
    return rng.integers(1, 5, shape) * (rng.random(shape) < density)


def _edge_cases(counts: np.ndarray) -> tuple[int, int, int]:
    """(terms in every document, empty documents, unused terms)."""
    documents_with = (counts > 0).sum(axis=0)
    return (int((documents_with == len(counts)).sum()), int((~counts.any(axis=1)).sum()),
            int((documents_with == 0).sum()))


def _generic_counts(rng: np.random.Generator, n_docs: int, n_terms: int,
                    density: float = 0.4) -> np.ndarray:
    """Counts with no empty document, no unused term and no term in every document."""
    while True:
        counts = _sparse_counts(rng, (n_docs, n_terms), density)
        if _edge_cases(counts) == (0, 0, 0):
            return counts


def _tfidf_case(n_docs: int, n_terms: int, note: str, edit=None, edges=(0, 0, 0)):
    """Generic counts, edited to hold exactly ``edges`` (redrawn until they do: an emptied
    document may have held a term's only occurrence)."""
    def build(rng: np.random.Generator) -> Case:
        while True:
            counts = _generic_counts(rng, n_docs, n_terms)
            if edit is not None:
                edit(rng, counts)
            if _edge_cases(counts) == edges:
                return Case((Call("tfidf", (counts,)),), note)
    return build


def _in_every_document(rng: np.random.Generator, counts: np.ndarray) -> None:
    counts[:, 2] = rng.integers(1, 5, len(counts))


def _empty_document(rng: np.random.Generator, counts: np.ndarray) -> None:
    counts[int(rng.integers(0, len(counts)))] = 0


def _unused_term(rng: np.random.Generator, counts: np.ndarray) -> None:
    counts[:, int(rng.integers(0, counts.shape[1]))] = 0


def _weights(counts, *, raw_tf: bool = False, df_total: bool = False, idf=None,
             nan_tf: bool = False, nan_idf: bool = False) -> np.ndarray:
    """tf-idf as the docstring states it, or with one of the known mistakes."""
    c = np.asarray(counts, dtype=np.float64)
    n = len(c)
    with np.errstate(all="ignore"):
        lengths = c.sum(axis=1, keepdims=True)
        tf = c if raw_tf else c / lengths
        if not nan_tf:
            tf = np.where(lengths > 0, tf, 0.0)
        df = c.sum(axis=0) if df_total else np.count_nonzero(c, axis=0).astype(np.float64)
        weight = np.log(n / df) if idf is None else idf(n, df)
        if not nan_idf:
            weight = np.where(df > 0, weight, 0.0)
        return tf * weight


def _cosines(vectors: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return unit @ unit.T


def _topic_counts(rng: np.random.Generator, n_docs: int, n_terms: int, k: int,
                  empty: int = 0) -> np.ndarray:
    """Documents drawn mostly from one of k topics (disjoint sets of terms), redrawn until the
    rank-k similarities are well determined: sigma_k - sigma_(k+1) >= MIN_GAP sigma_1 and
    every non-empty document keeps MIN_NORM of the longest rank-k vector (the SVD only
    decides; the counts are the generator's draws). ``empty`` documents are all zero; every
    term occurs somewhere (the tf-idf checks judge unused terms)."""
    topic_of_term = np.arange(n_terms) % k
    while True:
        topic_of_doc = rng.integers(0, k, n_docs)
        density = np.where(topic_of_term[None, :] == topic_of_doc[:, None], 0.6, 0.08)
        counts = _sparse_counts(rng, (n_docs, n_terms), density)
        counts[rng.permutation(n_docs)[:empty]] = 0
        x = _weights(counts)
        u, s, _ = np.linalg.svd(x, full_matrices=False)
        docs = u[:, :k] * s[:k]
        norms = np.linalg.norm(docs, axis=1)
        full = x.any(axis=1)
        if full.sum() != n_docs - empty or (norms[full] < MIN_NORM * norms.max()).any() \
                or not counts.any(axis=0).all() or not _mixed(docs[full]):
            continue
        if k >= len(s) or s[k - 1] - s[k] >= MIN_GAP * s[0]:
            return counts


def _mixed(docs: np.ndarray) -> bool:
    """Some cosine between 0.1 and 0.9 in size: documents that do not split into orthogonal
    groups of parallel vectors (topics with no shared term), whose cosines (all 0 or 1) would
    not change with the weights of the directions."""
    sims = np.abs(_cosines(docs))
    return bool(((sims > 0.1) & (sims < 0.9)).any())


def _lsa_case(n_docs: int, n_terms: int, k: int, note: str, *, empty: int = 0,
              call_k: int | None = None):
    def build(rng: np.random.Generator) -> Case:
        counts = _topic_counts(rng, n_docs, n_terms, k, empty)
        return Case((Call("lsa_similarity", (counts, call_k or k)),), note)
    return build


# ----------------------------------------------------------------------------- mistakes

def _counts(case: Case) -> np.ndarray:
    return np.asarray(case.calls[-1].args[0])


def _tfidf_wrong(**options):
    return lambda case: _weights(_counts(case), **options)


TFIDF_MISTAKES = (
    Mistake("tfidf_raw_counts",
            "you used the raw counts as tf: tf is the count divided by the length of the "
            "document (its total count), so that long documents do not weigh more",
            _tfidf_wrong(raw_tf=True), rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL),
    Mistake("tfidf_df_total_count",
            "your df counts every occurrence of the term: df_t is the number of DOCUMENTS "
            "that contain t (np.count_nonzero(counts, axis=0)), not the column sum",
            _tfidf_wrong(df_total=True), rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL),
    Mistake("tfidf_smooth_idf",
            "you used scikit-learn's smoothed idf ln((1 + N) / (1 + df)) + 1: this exercise "
            "uses idf = ln(N / df), which is 0 for a term in every document",
            _tfidf_wrong(idf=lambda n, df: np.log((1 + n) / (1 + df)) + 1),
            rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL),
    Mistake("tfidf_idf_plus_one",
            "you added 1 to the idf (scikit-learn's smooth_idf=False): here idf = ln(N / df), "
            "so a term in every document gets weight 0",
            _tfidf_wrong(idf=lambda n, df: np.log(n / df) + 1),
            rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL),
    Mistake("tfidf_log10",
            "you used log10: idf = ln(N / df) uses the NATURAL logarithm (np.log)",
            _tfidf_wrong(idf=lambda n, df: np.log10(n / df)),
            rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL),
    Mistake("tfidf_empty_document_nan",
            "an empty document has length 0, so count / length is 0/0 = NaN: its tf is 0 by "
            "definition (np.divide(..., where=length > 0) or a mask)",
            _tfidf_wrong(nan_tf=True), rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL),
    Mistake("tfidf_unused_term_nan",
            "a term in no document has df = 0 and ln(N / 0) = inf, and tf * inf = 0 * inf = "
            "NaN: its idf is 0 by definition",
            _tfidf_wrong(nan_idf=True), rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL),
)


def _lsa_wrong(how: str):
    """LSA similarities with one mistake; the documents (or terms) without weight get 0 as the
    docstring says, except in the 'nan' variant (0/0) and the 'noise' one (normalized noise)."""

    def variant(case: Case) -> np.ndarray:
        counts, k = _counts(case), int(case.calls[-1].args[1])
        x = counts.astype(np.float64) if how == "counts" else _weights(counts)
        u, s, vt = np.linalg.svd(x, full_matrices=False)
        docs = {"full": x, "no_s": u[:, :k], "terms": vt[:k].T * s[:k],
                "nan": x @ vt[:k].T}.get(how, u[:, :k] * s[:k])
        sims = docs @ docs.T if how == "dot" else _cosines(docs)
        if how in ("nan", "noise"):
            return sims
        empty = ~x.any(axis=0 if how == "terms" else 1)
        sims[empty] = sims[:, empty] = 0.0
        return sims

    return variant


LSA_MISTAKES = (
    Mistake("lsa_no_singular_values",
            "you compared the rows of U_k: the document vectors of LSA are the rows of "
            "U_k S_k (each direction weighted by its singular value), i.e. X V_k",
            _lsa_wrong("no_s"), rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL),
    Mistake("lsa_no_truncation",
            "your similarities are the cosines of the full tf-idf rows: LSA keeps only the k "
            "largest singular values (U[:, :k] * s[:k])", _lsa_wrong("full"),
            rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL),
    Mistake("lsa_dot_products",
            "you returned dot products of the document vectors: the similarity is their "
            "COSINE, d_i . d_j / (||d_i|| ||d_j||), 1 on the diagonal", _lsa_wrong("dot"),
            rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL),
    Mistake("lsa_on_counts",
            "you ran the SVD on the raw counts: LSA decomposes the tf-idf matrix "
            "(tfidf(counts))", _lsa_wrong("counts"), rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL),
    Mistake("lsa_term_similarity",
            "you compared TERMS (rows of V_k S_k), a (n_terms, n_terms) array: the documents "
            "are the rows of U_k S_k, (n_docs, n_docs)", _lsa_wrong("terms"),
            rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL),
    Mistake("lsa_empty_document_nan",
            "an empty document's vector is zero and its cosine is 0/0 = NaN: its similarity "
            "to every document (itself included) is 0 by definition", _lsa_wrong("nan"),
            rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL),
)
LSA_EMPTY_NOISE = Mistake(
    "lsa_empty_document_noise",
    "your empty document got nonzero similarities: its row of U_k S_k is rounding noise "
    "(about 1e-16), not exactly zero, and normalizing noise gives a random direction. Find "
    "the documents whose tf-idf row is all zero (X.any(axis=1) is False) and set their "
    "similarities to 0", _lsa_wrong("noise"))


def _noise_on_empty(got: object, case: Case, want: np.ndarray) -> bool:
    """Right everywhere but in the rows and columns of the empty documents, nonzero there."""
    empty = ~_weights(_counts(case)).any(axis=1)
    if not empty.any() or not isinstance(got, np.ndarray) or got.shape != want.shape:
        return False
    full = ~empty
    return (compare(got[np.ix_(full, full)], want[np.ix_(full, full)], rtol=_MISTAKE_RTOL,
                    atol=_MISTAKE_ATOL, check_dtype=False) is None
            and np.isfinite(got[empty]).all() and bool(np.abs(got[empty]).max() > 1e-6))


def _matches(got: object, wrong: object, mistake: Mistake, case: Case, want: np.ndarray
             ) -> bool:
    if mistake is LSA_EMPTY_NOISE:
        return _noise_on_empty(got, case, want)
    return compare(got, wrong, rtol=mistake.rtol, atol=mistake.atol, check_dtype=False) is None


def _diagnosis(got: object, case: Case, want: np.ndarray, mistakes: tuple[Mistake, ...]
               ) -> str | None:
    """The first mistake that shows on this case (the right answer does not match it) and that
    the student's result matches."""
    for mistake in mistakes:
        try:
            with np.errstate(all="ignore"):
                wrong = mistake.variant(case)
                if not _matches(want, wrong, mistake, case, want) and \
                        _matches(got, wrong, mistake, case, want):
                    return mistake.explain
        except Exception:  # noqa: BLE001 - a variant that does not apply (or is not frozen)
            continue
    return None


def _judge(func: str, rtol: float, atol: float, mistakes: tuple[Mistake, ...]):
    """Entry by entry against the reference; a failure names a known mistake if one fits."""

    def judge(trial: Trial) -> Verdict:
        got, want = trial.got(), trial.want()
        found = compare(got, want, rtol=rtol, atol=atol)
        if found is None:
            return Verdict(True)
        diagnosis = _diagnosis(got, trial.case, want, mistakes)
        if diagnosis is None:
            diagnosis = diagnose.generic(got, want, rtol=rtol, atol=atol)
        note = f" for {trial.case.note}" if trial.case.note else ""
        return Verdict(False, f"{func}{note}: {found}", diagnosis)

    return judge


_tfidf_judge = _judge("tfidf", TFIDF_RTOL, TFIDF_ATOL, TFIDF_MISTAKES)
_lsa_judge = _judge("lsa_similarity", LSA_RTOL, LSA_ATOL, (*LSA_MISTAKES, LSA_EMPTY_NOISE))


def _lsa_timing(rng: np.random.Generator) -> Call:
    return Call("lsa_similarity", (_sparse_counts(rng, (300, 200), 0.2), 20), send=False)


TFIDF_LSA = Exercise(
    id="svd.tfidf_lsa",
    title="tf-idf and latent semantic analysis",
    functions=("tfidf", "lsa_similarity"),
    summary="tf-idf = (count / document length) * ln(N / df); LSA similarity = cosines of the "
            "rows of U_k S_k",
    checks=(
        Check("tfidf_small", _tfidf_case(5, 8, "5 documents, 8 terms"), _tfidf_judge,
              points=1, about="tf-idf of 5 documents"),
        Check("tfidf_larger", _tfidf_case(40, 60, "40 documents, 60 terms"), _tfidf_judge,
              points=0.5, about="tf-idf of 40 documents"),
        Check("term_in_every_document",
              _tfidf_case(6, 9, "6 documents, term 2 in every one", _in_every_document,
                          (1, 0, 0)),
              _tfidf_judge, points=0.5, hidden=True,
              about="a term in every document has idf 0"),
        Check("empty_document", _tfidf_case(6, 9, "6 documents, one of them empty",
                                            _empty_document, (0, 1, 0)), _tfidf_judge,
              points=0.5,
              hidden=True, about="an empty document gets a zero row, not NaN"),
        Check("unused_term", _tfidf_case(6, 9, "6 documents, a term in none of them",
                                         _unused_term, (0, 0, 1)), _tfidf_judge, points=0.5,
              hidden=True,
              about="a term in no document gets a zero column, not NaN"),
        Check("lsa_small", _lsa_case(8, 12, 2, "8 documents, 12 terms, k=2"), _lsa_judge,
              points=1, about="LSA similarities of 8 documents, k=2"),
        Check("lsa_larger", _lsa_case(40, 60, 5, "40 documents, 60 terms, k=5"), _lsa_judge,
              points=0.5, about="LSA similarities of 40 documents, k=5"),
        Check("lsa_empty_document", _lsa_case(10, 15, 3, "10 documents (one empty), 15 terms, "
                                                         "k=3", empty=1),
              _lsa_judge, points=0.5, hidden=True,
              about="an empty document has similarity 0, not NaN"),
        Check("lsa_k_at_least_rank", _lsa_case(5, 12, 5, "5 documents, 12 terms, k=7 (more "
                                                         "than the rank)", call_k=7),
              _lsa_judge, points=0.5, hidden=True,
              about="k >= rank keeps every singular value"),
    ),
    timing=Timing(_lsa_timing, slow_ratio=10.0,
                  advice="normalize the rows of U_k S_k once and take one matrix product "
                         "(D_hat D_hat^T) instead of a Python loop over pairs of documents"),
)

EXERCISES = (TFIDF_LSA,)
