"""svd.tfidf_lsa: the reference against independent implementations (plain Python, torch),
the margins of the case builders, and realistic right and wrong submissions graded through
the worker (each wrong one loses the points of the checks it fails, with a message saying what
differs, and each declared mistake gets its diagnosis)."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
import torch

from conftest import cases, check, reference_source
from grader.bank import svd as bank
from grader.catalog import reference_module
from grader.grading import run_reference
from grader.judges import CallResult, Trial
from grader.sandbox import wire

REF = reference_module("svd")
EXERCISE = bank.TFIDF_LSA
MISTAKES = (*bank.TFIDF_MISTAKES, *bank.LSA_MISTAKES, bank.LSA_EMPTY_NOISE)
EXPLAIN = {m.name: m.explain for m in MISTAKES}
TFIDF_CHECKS = ("tfidf_small", "tfidf_larger", "term_in_every_document", "empty_document",
                "unused_term")
LSA_CHECKS = ("lsa_small", "lsa_larger", "lsa_empty_document", "lsa_k_at_least_rank")


def assert_graded(result, failing):
    """``failing``: every check that fails -> (message start, mistake name or None). The
    others pass; the score is the points of the passing checks."""
    failed = {c.name for c in result.checks if c.status != "passed"}
    assert failed == set(failing), [(c.name, c.message) for c in result.checks
                                    if c.status != "passed"]
    lost = sum(c.points for c in result.checks if c.name in failing)
    assert result.score == result.max_score - lost
    assert result.status == ("partial" if result.score else "failed")
    for name, (message, mistake) in failing.items():
        got = check(result, name)
        assert got.status == "failed" and got.score == 0
        assert got.message.startswith(message), (name, got.message)
        assert got.diagnosis == (EXPLAIN[mistake] if mistake else None), (name, got.diagnosis)


# ============================================================================ references

def _tfidf_by_hand(counts):
    """The docstring's formula, term by term in plain Python."""
    n_docs, n_terms = len(counts), len(counts[0])
    df = [sum(1 for d in range(n_docs) if counts[d][t] > 0) for t in range(n_terms)]
    out = []
    for d in range(n_docs):
        length = sum(int(c) for c in counts[d])
        out.append([(counts[d][t] / length if length else 0.0)
                    * (math.log(n_docs / df[t]) if df[t] else 0.0) for t in range(n_terms)])
    return np.array(out)


def _inputs(rng):
    out = [c.calls[0].args[0] for _, c in cases(EXERCISE.id, range(10))]
    out += [rng.integers(0, 3, (n, m)) for n, m in ((1, 4), (3, 1), (7, 11), (30, 20))]
    out += [np.zeros((3, 4), dtype=np.int64), np.ones((4, 3), dtype=np.int64)]
    return out


def test_tfidf_reference_is_the_stated_formula():
    for counts in _inputs(np.random.default_rng(0)):
        got = REF.tfidf(counts)
        assert got.dtype == np.float64 and got.shape == counts.shape
        np.testing.assert_allclose(got, _tfidf_by_hand(counts.tolist()), rtol=1e-13, atol=0)
        assert np.isfinite(got).all()
        every = (counts > 0).all(axis=0)
        assert not got[:, every].any() and not got[~counts.any(axis=1)].any()


def _lsa_by_torch(counts, k):
    x = torch.from_numpy(_tfidf_by_hand(counts.tolist()))
    u, s, _ = torch.linalg.svd(x, full_matrices=True)
    k = min(k, len(s))
    docs = u[:, :k] * s[:k]
    sims = torch.zeros(len(x), len(x), dtype=torch.float64)
    full = x.abs().sum(dim=1) > 0
    unit = docs[full] / docs[full].norm(dim=1, keepdim=True)
    sims[torch.outer(full, full)] = (unit @ unit.T).flatten()
    return sims.numpy()


def test_lsa_reference_matches_torch_on_every_bank_case():
    for _, case in cases(EXERCISE.id, range(20), names=LSA_CHECKS):
        counts, k = case.calls[0].args
        got = REF.lsa_similarity(counts, k)
        np.testing.assert_allclose(got, _lsa_by_torch(counts, k), rtol=0, atol=1e-12)
        np.testing.assert_allclose(got, got.T, atol=1e-15)
        full = counts.any(axis=1)
        np.testing.assert_allclose(np.diag(got)[full], 1.0, atol=1e-14)
        assert not got[~full].any() and not got[:, ~full].any()


def test_lsa_reference_with_every_singular_value_is_the_cosine_of_the_tfidf_rows():
    rng = np.random.default_rng(1)
    for _ in range(20):
        counts = rng.integers(0, 4, (6, 9))
        counts[2] = 0
        x = _tfidf_by_hand(counts.tolist())
        norms = np.linalg.norm(x, axis=1)
        unit = np.divide(x, norms[:, None], out=np.zeros_like(x), where=norms[:, None] > 0)
        for k in (6, 9, 50):
            np.testing.assert_allclose(REF.lsa_similarity(counts, k), unit @ unit.T, atol=1e-12)


# ============================================================================ case builders

def test_mistake_names_are_unique_in_the_module():
    names = [m.name for m in MISTAKES]
    assert len(names) == len(set(names))


def test_tfidf_cases_have_exactly_their_edge_case():
    for check_, case in cases(EXERCISE.id, range(100), names=TFIDF_CHECKS):
        counts = case.calls[0].args[0]
        assert counts.dtype == np.int64 and (counts >= 0).all()
        df = np.count_nonzero(counts, axis=0)
        in_all = int((df == len(counts)).sum())
        empty = int((~counts.any(axis=1)).sum())
        unused = int((df == 0).sum())
        assert (in_all, empty, unused) == {"term_in_every_document": (1, 0, 0),
                                           "empty_document": (0, 1, 0),
                                           "unused_term": (0, 0, 1)}.get(check_.name, (0, 0, 0))


def test_lsa_cases_keep_a_singular_value_gap_and_long_document_vectors():
    """The rank-k similarities are unique only when sigma_k > sigma_(k+1); every non-empty
    document keeps a rank-k vector of at least 5% of the longest (200 seeds)."""
    smallest_gap = 1.0
    for check_, case in cases(EXERCISE.id, range(200), names=LSA_CHECKS):
        counts, k = case.calls[0].args
        x = REF.tfidf(counts)
        s = np.linalg.svd(x, compute_uv=False)
        if k < len(s):
            smallest_gap = min(smallest_gap, (s[k - 1] - s[k]) / s[0])
        else:
            assert check_.name == "lsa_k_at_least_rank" and k > len(s)
        assert int((~counts.any(axis=1)).sum()) == (check_.name == "lsa_empty_document")
    assert smallest_gap >= bank.MIN_GAP


# ============================================================================ right and wrong

_TFIDF = """
import numpy as np
def tfidf(counts):
    c = np.asarray(counts, dtype=float)
    lengths = c.sum(axis=1, keepdims=True)
    tf = {tf}
    df = {df}
    with np.errstate(divide="ignore"):
        idf = {idf}
    {fix_idf}
    return tf * idf
"""
_TFIDF_GOOD = dict(tf="np.divide(c, lengths, out=np.zeros_like(c), where=lengths > 0)",
                   df="np.count_nonzero(c, axis=0)", idf="np.log(len(c) / df)",
                   fix_idf="idf[df == 0] = 0.0")
_LSA = """
def lsa_similarity(counts, k):
    X = {X}
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    D = {D}
    {sims}
"""
_LSA_GOOD = dict(X="tfidf(counts)", D="U[:, :k] * s[:k]", sims="""keep = X.any(axis=1)
    unit = np.zeros_like(D)
    unit[keep] = D[keep] / np.linalg.norm(D[keep], axis=1, keepdims=True)
    return unit @ unit.T""")


def _source(tfidf=None, lsa=None):
    return (_TFIDF.format(**{**_TFIDF_GOOD, **(tfidf or {})})
            + _LSA.format(**{**_LSA_GOOD, **(lsa or {})}))


RIGHT = {
    "masks": _source(),
    "loops_and_eigh": """
        import math
        import numpy as np
        def tfidf(counts):
            n_docs, n_terms = counts.shape
            out = np.zeros((n_docs, n_terms))
            for t in range(n_terms):
                df = np.count_nonzero(counts[:, t])
                if 0 < df < n_docs:
                    for d in range(n_docs):
                        if counts[d, t]:
                            out[d, t] = counts[d, t] / counts[d].sum() * math.log(n_docs / df)
            return out
        def lsa_similarity(counts, k):
            X = tfidf(counts)
            w, U = np.linalg.eigh(X @ X.T)           # X X^T = U S^2 U^T
            w, U = w[::-1][:k], U[:, ::-1][:, :k]
            D = U * np.sqrt(np.clip(w, 0, None))
            norms = np.linalg.norm(D, axis=1)
            empty = ~X.any(axis=1)
            norms[empty] = 1.0
            D = D / norms[:, None]
            D[empty] = 0.0
            return D @ D.T
        """,
    "projection_on_v": _source(lsa=dict(D="X @ Vt[:k].T", sims="""
    norms = np.linalg.norm(D, axis=1, keepdims=True)
    unit = np.divide(D, norms, out=np.zeros_like(D), where=norms > 0)
    return unit @ unit.T""")),
}
RIGHT_SOURCES = {"reference": reference_source("svd"), **RIGHT}


@pytest.mark.parametrize("name", list(RIGHT_SOURCES), ids=list(RIGHT_SOURCES))
def test_correct_implementations_get_full_marks(grade_one, name):
    result = grade_one("svd.tfidf_lsa", {"svd.py": RIGHT_SOURCES[name]})
    assert result.status == "passed", [(c.name, c.message) for c in result.checks]
    assert result.score == result.max_score == 5.5
    assert result.diagnosis is None and all(c.diagnosis is None for c in result.checks)


def _judge_in_process(source, seeds):
    namespace = {}
    exec(textwrap.dedent(source), namespace)
    failures = []
    for seed in seeds:
        for check_, case in cases(EXERCISE.id, (seed,)):
            call = case.calls[0]
            value = namespace[call.func](*[np.copy(a) if isinstance(a, np.ndarray) else a
                                           for a in call.args])
            value = wire.decode(*wire.encode(value))
            verdict = check_.judge(Trial(case, [CallResult(value=value)],
                                         run_reference(REF, case)))
            if not verdict.passed:
                failures.append((seed, check_.name, verdict.message))
    return failures


def test_correct_implementations_pass_every_check_for_many_seeds():
    """Measured once with 300 seeds, for these and the reference (10,800 verdicts): 0 failures."""
    for name, source in RIGHT.items():
        assert _judge_in_process(source, range(1, 21)) == [], name


_NOTES = {c.name: c.build(EXERCISE.check_rng(c, 0)).note for c in EXERCISE.checks}


def _failing(names, mistake, message=""):
    func = {n: "tfidf" if n in TFIDF_CHECKS else "lsa_similarity" for n in _NOTES}
    return {n: (f"{func[n]} for {_NOTES[n]}: {message}", mistake) for n in names}


_NO_TFIDF_DIAGNOSIS = {n: (f"lsa_similarity for {_NOTES[n]}: ", None) for n in LSA_CHECKS}
WRONG = {
    # Scaling a document's row changes no cosine between rows: with every singular value
    # kept, raw counts give the right similarities.
    "raw_counts": (_source(dict(tf="c")), {**_failing(TFIDF_CHECKS, "tfidf_raw_counts"),
                                          **{n: v for n, v in _NO_TFIDF_DIAGNOSIS.items()
                                             if n != "lsa_k_at_least_rank"}}),
    "df_total_count": (_source(dict(df="c.sum(axis=0)")), {
        **_failing(TFIDF_CHECKS, "tfidf_df_total_count"), **_NO_TFIDF_DIAGNOSIS}),
    "smooth_idf": (_source(dict(idf="np.log((1 + len(c)) / (1 + df)) + 1")), {
        **_failing(TFIDF_CHECKS, "tfidf_smooth_idf"), **_NO_TFIDF_DIAGNOSIS}),
    "idf_plus_one": (_source(dict(idf="np.log(len(c) / df) + 1")), {
        **_failing(TFIDF_CHECKS, "tfidf_idf_plus_one"), **_NO_TFIDF_DIAGNOSIS}),
    # log10 scales every weight by 1 / ln(10): the similarities do not change.
    "log10": (_source(dict(idf="np.log10(len(c) / df)")), _failing(TFIDF_CHECKS,
                                                                    "tfidf_log10")),
    "empty_document_nan": (_source(dict(tf="c / lengths")), {
        **_failing(["empty_document"], "tfidf_empty_document_nan", "9 elements with NaN"),
        "lsa_empty_document": ("lsa_similarity raised LinAlgError: SVD did not converge", None)}),
    "unused_term_nan": (_source(dict(fix_idf="pass")), _failing(
        ["unused_term"], "tfidf_unused_term_nan", "6 elements with NaN")),
    "u_without_s": (_source(lsa=dict(D="U[:, :k]")), _failing(
        LSA_CHECKS, "lsa_no_singular_values")),
    "no_truncation": (_source(lsa=dict(D="U * s")), _failing(
        LSA_CHECKS[:3], "lsa_no_truncation")),
    "dot_products": (_source(lsa=dict(sims="return D @ D.T")), _failing(
        LSA_CHECKS, "lsa_dot_products")),
    "svd_of_counts": (_source(lsa=dict(X="np.asarray(counts, dtype=float)")), _failing(
        LSA_CHECKS, "lsa_on_counts")),
    "term_similarities": (_source(lsa=dict(D="Vt[:k].T * s[:k]", sims="""
    unit = D / np.linalg.norm(D, axis=1, keepdims=True)
    return unit @ unit.T""")), _failing(LSA_CHECKS, "lsa_term_similarity", "shape (")),
    "empty_document_nan_cosine": (_source(lsa=dict(D="X @ Vt[:k].T", sims="""
    unit = D / np.linalg.norm(D, axis=1, keepdims=True)
    return unit @ unit.T""")), _failing(["lsa_empty_document"], "lsa_empty_document_nan",
                                        "19 elements with NaN")),
    # The empty document's row of U_k S_k is rounding noise (here made certain by adding 1e-17)
    "empty_document_noise": (_source(lsa=dict(D="(U[:, :k] + 1e-17) * s[:k]", sims="""
    unit = D / np.linalg.norm(D, axis=1, keepdims=True)
    return unit @ unit.T""")), _failing(["lsa_empty_document"], "lsa_empty_document_noise")),
}


@pytest.mark.parametrize("name", list(WRONG), ids=list(WRONG))
def test_wrong_implementations_lose_points_with_their_diagnosis(grade_one, name):
    source, failing = WRONG[name]
    assert_graded(grade_one("svd.tfidf_lsa", {"svd.py": source}), failing)


@pytest.mark.slow
def test_a_loop_over_pairs_of_documents_is_timed_as_slow(grade_files):
    """Measured through the worker (one BLAS thread, 3 runs): a pair loop 42-91x at 300
    documents and 200 terms, k = 20 (the reference's SVD dominates its time); the vectorized
    one 0.9-1.2x."""
    loop = _source(lsa=dict(sims="""n = len(D)
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            a, b = np.linalg.norm(D[i]), np.linalg.norm(D[j])
            out[i, j] = D[i] @ D[j] / (a * b) if X[i].any() and X[j].any() else 0.0
    return out"""))
    slow = grade_files({"svd.py": loop}, ids=("svd.tfidf_lsa",), time_it=True).exercises[0]
    fast = grade_files({"svd.py": RIGHT["masks"]}, ids=("svd.tfidf_lsa",),
                       time_it=True).exercises[0]
    assert slow.score == fast.score == 5.5
    assert slow.timing.slow and not fast.timing.slow  # the flag is at 10x


def test_the_topic_releases_on_its_own(tmp_path):
    """The bundle of an assignment holds the bank modules of its topics only (the release
    verifies it in a fresh process: the reference gets full marks, the stub none)."""
    from grader import release
    from grader.catalog import select

    report = release.release(out=tmp_path / "bundle", exercises=select(("svd",)))
    assert report.exercises == ["svd.tfidf_lsa"] and report.hidden_checks_removed == 5
