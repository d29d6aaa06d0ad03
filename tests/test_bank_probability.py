"""probability.*: sample_binomial, covariance, mvn_logpdf, bce_with_logits and mse_loss.

The references against independent implementations (scipy, torch, exact arithmetic), the
statistics of the random sampler over many seeds (false failures, calibration, power), the
numerical margins of the cases, and realistic right and wrong submissions graded through the
worker (each wrong one loses points with a message saying what differs, and each declared
mistake gets its diagnosis).
"""

from __future__ import annotations

import math
import textwrap
import warnings
from fractions import Fraction

import numpy as np
import pytest

from conftest import benchmark_module, cases, check, failed_checks, reference_source
from grader import stats
from grader.bank import probability as bank
from grader.bank import probability_likelihoods as likelihoods
from grader.bank.inputs import combine, rotation
from grader.catalog import catalog, reference_module
from grader.compare import compare
from grader.grading import run_reference
from grader.catalog import Verdict
from grader.judges import CallResult, StudentRaised, Trial, diagnose_mistakes
from grader.sandbox import wire

REF = reference_module("probability")
REF_SOURCE = reference_source("probability")
MISTAKES = (*bank.COV_MISTAKES, *likelihoods.MVN_MISTAKES, *likelihoods.BCE_MISTAKES,
            *likelihoods.MSE_MISTAKES)
EXPLAIN = {m.name: m.explain for m in MISTAKES}
BINOMIAL = bank.BINOMIAL_MISTAKES


BENCH = benchmark_module("probability_false_failures")


def _function(source, name):
    namespace = {}
    exec(textwrap.dedent(source), namespace)
    return namespace[name]


def failures_in_process(exercise_id, source, seeds):
    """Judge a (trusted) implementation run here on every check and seed: faster than the
    worker, so that many seeds can be tried. Returns the failing (seed, check, message)."""
    exercise = catalog()[exercise_id]
    function = _function(source, exercise.functions[0])
    failures = []
    for seed in seeds:
        for check_, case in cases(exercise_id, (seed,)):
            actual = []
            for call in case.calls:
                try:
                    with np.errstate(all="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # as in a worker: no warning is fatal
                        value = function(*[np.copy(a) if isinstance(a, np.ndarray) else a
                                           for a in call.args], **call.kwargs)
                except Exception as exc:  # noqa: BLE001 - an expected ValueError
                    actual.append(CallResult(raised={
                        "type": type(exc).__name__, "message": str(exc),
                        "mro": [c.__name__ for c in type(exc).__mro__]}))
                    continue
                actual.append(CallResult(value=wire.decode(*wire.encode(value))))
            try:
                with np.errstate(all="ignore"):
                    verdict = check_.judge(Trial(case, actual, run_reference(REF, case)))
            except StudentRaised as exc:
                verdict = Verdict(False, f"{exc.func} raised {exc.result.raised['type']}")
            if not verdict.passed:
                failures.append((seed, check_.name, verdict.message))
    return failures


def assert_full_marks(result, points):
    assert result.status == "passed", [(c.name, c.message) for c in result.checks]
    assert result.score == result.max_score == points
    assert result.diagnosis is None and all(c.diagnosis is None for c in result.checks)


def assert_wrong(result, expected, score, max_score):
    """``expected``: check name -> (message fragment, diagnosis text or None); every other
    check passes."""
    assert result.status in ("partial", "failed")
    assert result.score == score < result.max_score == max_score
    assert failed_checks(result) == set(expected), [(c.name, c.message) for c in result.checks]
    for name, (fragment, diagnosis) in expected.items():
        got = check(result, name)
        assert got.status == "failed" and got.score == 0
        assert fragment in got.message, got.message
        assert got.diagnosis == diagnosis, (name, got.diagnosis)


# ============================================================================ bank-wide

def test_mistake_names_are_unique_in_the_module():
    """The release freezes every Mistake of a bank module by name."""
    names = [m.name for m in MISTAKES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("exercise_id,mistakes", [
    ("probability.covariance", bank.COV_MISTAKES),
    ("probability.mvn_logpdf", likelihoods.MVN_MISTAKES),
    ("probability.bce_with_logits", likelihoods.BCE_MISTAKES),
    ("probability.mse_loss", likelihoods.MSE_MISTAKES)], ids=["cov", "mvn", "bce", "mse"])
def test_every_mistake_differs_from_the_reference_on_some_case(exercise_id, mistakes):
    built = [case for _, case in cases(exercise_id, range(2))]
    for mistake in mistakes:
        differs = False
        for case in built:
            want = run_reference(REF, case)[-1]
            if want.raised is not None:
                continue
            try:
                with np.errstate(all="ignore"):
                    wrong = mistake.variant(case)
            except Exception:  # noqa: BLE001 - a variant that does not apply to this case
                continue
            differs |= compare(wrong, want.value, rtol=1e-9, atol=1e-12,
                                    check_dtype=False) is not None
        assert differs, mistake.name


# ============================================================================ sample_binomial

def test_reference_counts_follow_scipy_binomial_pmf():
    """Chi-square goodness of fit of the reference against scipy.stats.binom (bins with an
    expected count below 5 pooled), at alpha = 1e-6."""
    scipy_stats = pytest.importorskip("scipy.stats")
    for seed, (n, p) in enumerate([(20, 0.3), (12, 0.65), (50, 0.02), (1, 0.7), (200, 0.5)]):
        counts = REF.sample_binomial(n, p, 50000, seed)
        assert counts.dtype == np.int64 and counts.shape == (50000,)
        observed = np.bincount(counts, minlength=n + 1).astype(float)
        expected = scipy_stats.binom.pmf(np.arange(n + 1), n, p) * counts.size
        keep = expected >= 5
        obs = np.append(observed[keep], observed[~keep].sum())
        exp = np.append(expected[keep], expected[~keep].sum())
        obs, exp = obs[exp > 0], exp[exp > 0]
        assert scipy_stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-6, (n, p)


def test_reference_edge_cases_and_generator_argument():
    assert np.array_equal(REF.sample_binomial(15, 0.0, 7, 1), np.zeros(7, dtype=np.int64))
    assert np.array_equal(REF.sample_binomial(15, 1.0, (2, 3), 1), np.full((2, 3), 15))
    assert np.array_equal(REF.sample_binomial(0, 0.4, 5, 1), np.zeros(5, dtype=np.int64))
    a = REF.sample_binomial(10, 0.4, 30, np.random.default_rng(9))
    assert np.array_equal(a, REF.sample_binomial(10, 0.4, 30, 9))
    for n, p in ((5, 1.5), (5, -0.1), (-2, 0.5), (5, float("nan"))):
        with pytest.raises(ValueError):
            REF.sample_binomial(n, p, 10, 0)


def test_test_moments_match_scipy_and_torch_and_accept_torch_samples():
    """The expected values the variance test uses (n p (1-p), and mu4 - sigma^4 for its
    spread) against scipy's moments; torch's own Binomial sampler passes both tests."""
    scipy_stats = pytest.importorskip("scipy.stats")
    torch = pytest.importorskip("torch")
    for n, p in ((20, 0.3), (12, 0.65), (50, 0.02), (1, 0.7)):
        mean, var, _, kurt = scipy_stats.binom.stats(n, p, moments="mvsk")
        torch_dist = torch.distributions.Binomial(n, torch.tensor(p, dtype=torch.float64))
        assert torch_dist.mean.item() == pytest.approx(mean) and \
            torch_dist.variance.item() == pytest.approx(var)
        m = 10000
        tests = bank.binomial_tests(np.full(m, round(n * p)), n, p)
        mu4 = (kurt + 3) * var**2
        spread = (tests["variance"].observed - tests["variance"].expected) / tests["variance"].z
        assert tests["variance"].expected == pytest.approx(var)
        assert spread == pytest.approx(math.sqrt((mu4 - var**2) / m), rel=1e-9)
        torch.manual_seed(n)
        sample = torch_dist.sample((m,)).numpy().astype(np.int64)
        assert all(t.passed for t in bank.binomial_tests(sample, n, p).values())


def test_statistical_checks_never_fail_the_reference_and_are_calibrated():
    """The fast version of benchmarks/probability_false_failures.py (which runs 10,000 seeds)."""
    result = BENCH.false_failures(150, checks=BENCH.STATISTICAL)
    assert result["failed"] == {name: 0 for name in BENCH.STATISTICAL}
    assert set(result["z"]) == {(c, t) for c in BENCH.STATISTICAL for t in ("mean", "variance")}
    for key, z in result["z"].items():
        # For a correct sampler each z is about standard normal: E[z^2] = 1, and the mean of
        # 150 squares has standard deviation 0.12; a wrong variance formula shows here.
        assert 0.6 < float(np.mean(z * z)) < 1.5, key
        assert float(np.abs(z).max()) < 4.5, key


@pytest.mark.parametrize("label", list(BENCH.CORRECT)[1:], ids=["RandomState", "per_trial"])
def test_other_correct_samplers_pass_every_check_over_seeds(label):
    result = BENCH.false_failures(15, label)
    assert result["failed"] == {c.name: 0 for c in catalog()[BENCH.EXERCISE].checks}


def test_each_statistical_check_runs_at_most_the_allowed_number_of_tests():
    for _, case in cases(BENCH.EXERCISE, names=BENCH.STATISTICAL):
        n, p, size, seed = case.calls[0].args
        tests = bank.binomial_tests(REF.sample_binomial(n, p, size, seed), n, p)
        assert 1 <= len(tests) <= stats.MAX_TESTS_PER_CHECK
        assert all(t.passed for t in tests.values())


def test_every_wrong_sampler_is_caught_and_named():
    """The power of the checks, on 3 seeds (the benchmark measures 200), and every declared
    mistake has a wrong sampler that shows it."""
    assert {key for _, key in BENCH.WRONG.values() if key} == set(BINOMIAL)
    for name, row in BENCH.power(3).items():
        assert row["caught"] == 3, name
        if BENCH.WRONG[name][1] is not None:
            assert row["named"] == 3, name


@pytest.mark.parametrize("draw", [
    "rng.binomial(n, p, size)", "np.random.RandomState(seed).binomial(n, p, size)",
    "rng.multinomial(n, [p, 1 - p], size)[..., 0]",
    "scipy.stats.binom.rvs(n, p, size=size, random_state=rng)",
    "scipy.stats.binom.rvs(n, p, size=size, random_state=seed)"])
def test_library_samplers_are_detected_from_the_seed(draw):
    if "scipy" in draw:
        pytest.importorskip("scipy.stats")
    source = f"""
        import numpy as np
        import scipy.stats
        def sample_binomial(n, p, size, seed):
            if n < 0 or not 0 <= p <= 1:
                raise ValueError("bad")
            rng = np.random.default_rng(seed)
            return {draw}
        """
    failures = failures_in_process(BENCH.EXERCISE, source, range(2))
    assert {name for _, name, _ in failures} == {"moments", "shape_tuple", "seeded",
                                                 "rare_successes"}
    assert all("which this exercise does not allow (an honesty check)" in m
               for _, _, m in failures)


def test_a_bernoulli_from_rng_binomial_is_the_same_bits_as_u_below_p():
    """Why rng.binomial(1, p, ...) is not flagged: for p > 0.5 numpy draws it as u < p."""
    for p in (0.65, 0.9):
        assert np.array_equal(np.random.default_rng(3).binomial(1, p, 1000),
                              np.random.default_rng(3).random(1000) < p)


BINOMIAL_SOURCE = '''
import numpy as np

def sample_binomial(n, p, size, rng):
    if n < 0 or not 0 <= p <= 1:
        raise ValueError("n must be >= 0 and p in [0, 1]")
    rng = np.random.default_rng(rng)
    shape = (size,) if np.ndim(size) == 0 else tuple(size)
    return (rng.random(shape + (n,)) < p).sum(axis=-1)
'''
DRAW = "return (rng.random(shape + (n,)) < p).sum(axis=-1)"
STAT_CHECKS = ("moments", "shape_tuple", "rare_successes", "one_trial")

BINOMIAL_WRONG = {  # name: ((replace, with), {check: (fragment, mistake key)}, score)
    "counts_failures": (
        ("< p).sum", "> p).sum"),
        {**{c: ("mean(counts) / n is 0.7", "counted_failures") for c in ("moments",)},
         "shape_tuple": ("mean(counts) / n is 0.35", "counted_failures"),
         "rare_successes": ("mean(counts) / n is 0.98", "counted_failures"),
         "one_trial": ("mean(counts) / n is 0.29", "counted_failures"),
         "p_zero": ("got 15, expected 0", "counted_failures"),
         "p_one": ("got 0, expected 15", "counted_failures")}, 1.5),
    "one_draw_times_n": (
        (DRAW, "return n * (rng.random(shape) < p)"),
        {c: ("mean((counts - n p)^2), the variance about n p is ", "one_draw_times_n")
         for c in ("moments", "shape_tuple", "rare_successes")}, 3.0),
    "rng_binomial": (
        (DRAW, "return rng.binomial(n, p, shape)"),
        {c: ("your counts are exactly the draws of rng.binomial(n, p, size) "
             "(numpy.random.Generator.binomial) from this seed, which this exercise does not "
             "allow (an honesty check)", "library_binomial")
         for c in ("moments", "shape_tuple", "seeded", "rare_successes")}, 2.5),
    "float_counts": (
        (").sum(axis=-1)", ").mean(axis=-1) * n"),
        {**{c: ("dtype float64, expected an integer dtype", "float_counts")
            for c in ("moments", "shape_tuple", "seeded", "rare_successes", "one_trial",
                      "p_zero", "p_one")},
         "n_zero": ("300 elements with NaN where the expected value is finite", "float_counts")},
        0.5),
    "ignores_the_seed": (
        ("default_rng(rng)", "default_rng()"),
        {"seeded": ("gave different counts", "not_seeded")}, 5.5),
    "rng_used_as_a_generator": (
        ("    rng = np.random.default_rng(rng)\n", ""),
        {c: ("sample_binomial raised AttributeError: 'int' object has no attribute 'random'",
             "rng_is_a_seed")
         for c in ("moments", "shape_tuple", "seeded", "rare_successes", "one_trial", "p_zero",
                   "p_one", "n_zero")}, 0.5),
    "open_interval": (
        ("if n < 0 or not 0 <= p <= 1:", "if n <= 0 or not 0 < p < 1:"),
        {c: ("sample_binomial raised ValueError: n must be >= 0 and p in [0, 1]",
             "edge_rejected") for c in ("p_zero", "p_one", "n_zero")}, 4.5),
    "no_validation": (
        ('        raise ValueError("n must be >= 0 and p in [0, 1]")', "        pass"),
        {"invalid": ("sample_binomial for p=1.5, then n=-2 should raise ValueError: p = 1.5 is "
                     "not a probability; it returned an array of shape (10,) int64", None)}, 5.5),
}


@pytest.mark.parametrize("name", list(BINOMIAL_WRONG), ids=list(BINOMIAL_WRONG))
def test_wrong_sampler_loses_points_with_message_and_diagnosis(grade_one, name):
    (old, new), expected, score = BINOMIAL_WRONG[name]
    assert old in BINOMIAL_SOURCE
    result = grade_one(BENCH.EXERCISE, {"probability.py": BINOMIAL_SOURCE.replace(old, new)})
    assert_wrong(result, {c: (f, BINOMIAL[k] if k else None) for c, (f, k) in expected.items()},
                 score, 6.0)


def test_numpy_binomial_is_refused_by_the_worker(grade_one):
    source = BINOMIAL_SOURCE.replace(DRAW, "return np.random.binomial(n, p, shape)")
    result = grade_one(BENCH.EXERCISE, {"probability.py": source})
    assert result.score == 0.5 and failed_checks(result) == {c.name for c in result.checks} - {
        "invalid"}
    assert check(result, "moments").message.startswith(
        "uses numpy.random.binomial, which this exercise does not allow (an honesty check)")


BINOMIAL_RIGHT = {
    "reference": REF_SOURCE,
    "default_rng_u_below_p": BINOMIAL_SOURCE,
    "random_state_count_nonzero": '''
import numpy as np

def sample_binomial(n, p, size, rng):
    if n < 0 or p < 0 or p > 1:
        raise ValueError("invalid")
    rs = np.random.RandomState(rng)
    shape = (size,) if isinstance(size, int) else tuple(size)
    return np.count_nonzero(rs.uniform(size=(n,) + shape) < p, axis=0)
''',
    "trial_by_trial": '''
import numpy as np

def sample_binomial(n, p, size, rng):
    if n < 0 or not 0.0 <= p <= 1.0:
        raise ValueError("invalid")
    rng = np.random.default_rng(rng)
    counts = np.zeros(size, dtype=np.int32)
    for _ in range(n):
        counts += (rng.random(counts.shape) < p)
    return counts
''',
}


@pytest.mark.parametrize("name", list(BINOMIAL_RIGHT), ids=list(BINOMIAL_RIGHT))
def test_correct_samplers_get_full_marks(grade_one, name):
    assert_full_marks(grade_one(BENCH.EXERCISE, {"probability.py": BINOMIAL_RIGHT[name]}), 6.0)


# ============================================================================ covariance

def test_covariance_reference_matches_numpy_and_torch_on_every_case():
    torch = pytest.importorskip("torch")
    for check_, case in cases("probability.covariance", range(30)):
        for call in case.calls:
            x, ddof = call.args[0], call.kwargs.get("ddof", 1)
            if x.shape[0] - ddof <= 0:
                with pytest.raises(ValueError):
                    REF.covariance(x, ddof=ddof)
                continue
            got = REF.covariance(x, **call.kwargs)
            scale = max(float(np.abs(np.diag(got)).max()), 1e-300)
            for want in (np.cov(x, rowvar=False, ddof=ddof).reshape(got.shape),
                         torch.cov(torch.from_numpy(x.T), correction=ddof).numpy()
                         .reshape(got.shape)):
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14 * scale)
            assert got.shape == (x.shape[1],) * 2 and np.array_equal(got, got.T)
            assert np.linalg.eigvalsh(got).min() >= -1e-12 * scale, check_.name


def test_covariance_with_mean_1e8_is_exact_and_the_one_pass_formula_is_not():
    """Exact rational arithmetic on the bank's inputs: the reference is within 1e-13; the
    one-pass formula is off by more than 1e-3 of the largest variance on every seed."""
    for _, case in cases("probability.covariance", range(3), names=("mean_offset",)):
        x = case.calls[0].args[0]
        n = x.shape[0]
        rows = [[Fraction(v) for v in row] for row in x[:, :2].tolist()]
        means = [sum(r[j] for r in rows) / n for j in range(2)]
        exact = np.array([[float(sum((r[i] - means[i]) * (r[j] - means[j]) for r in rows)
                                 / (n - 1)) for j in range(2)] for i in range(2)])
        got = REF.covariance(x)[:2, :2]
        np.testing.assert_allclose(got, exact, rtol=1e-13)
        m = x.mean(axis=0)
        one_pass = (x.T @ x - n * np.outer(m, m)) / (n - 1)
        assert np.abs(one_pass - REF.covariance(x)).max() > 1e-3 * np.diag(got).max()


COV_SOURCE = '''
import numpy as np

def covariance(X, ddof=1):
    n = X.shape[0]
    if n - ddof <= 0:
        raise ValueError("n - ddof must be positive")
    Xc = X - X.mean(axis=0)
    return Xc.T @ Xc / (n - ddof)
'''
CENTER_AND_MULTIPLY = "    Xc = X - X.mean(axis=0)\n    return Xc.T @ Xc / (n - ddof)"
COV_ALL = ("small", "more_samples", "mean_offset", "ddof_zero", "constant_feature",
           "fewer_samples_than_features", "single_sample")

COV_WRONG = {  # name: ((replace, with), {check: (fragment, diagnosis)}, score)
    "one_pass_formula": (
        (CENTER_AND_MULTIPLY,
         "    m = X.mean(axis=0)\n    return (X.T @ X - n * np.outer(m, m)) / (n - ddof)"),
        {"mean_offset": ("covariance for 500 samples of 4 features with means about 1e8: 16 of "
                         "16 elements differ", bank.COV_ONE_PASS)}, 4.0),
    "one_pass_with_means": (
        (CENTER_AND_MULTIPLY, "    m = X.mean(axis=0)\n    return (np.einsum('ni,nj->ij', X, X) "
                              "/ n - np.outer(m, m)) * n / (n - ddof)"),
        {"mean_offset": ("which a covariance matrix always is", bank.COV_ONE_PASS)}, 4.0),
    "not_centered": (
        ("Xc = X - X.mean(axis=0)", "Xc = X"),
        {c: ("elements differ", EXPLAIN["cov_not_centered"]) for c in COV_ALL}, 0.0),
    "rows_as_variables": (
        (CENTER_AND_MULTIPLY, "    Xc = X - X.mean(axis=1, keepdims=True)\n"
                              "    return Xc @ Xc.T / (X.shape[1] - ddof)"),
        {**{c: ("shape (", EXPLAIN["cov_rows_as_variables"]) for c in COV_ALL[:-1]},
         "single_sample": ("shape (1, 1), expected (3, 3)", None)}, 0.0),
    "divides_by_n": (
        ("/ (n - ddof)", "/ n"),
        {c: ("elements differ", EXPLAIN["cov_divides_by_n"])
         for c in ("small", "more_samples", "mean_offset", "constant_feature",
                   "fewer_samples_than_features")}, 1.0),
    "ignores_ddof": (
        ("/ (n - ddof)", "/ (n - 1)"),
        {"ddof_zero": ("covariance for 30 samples of 3 features, ddof=0: 9 of 9 elements differ",
                       EXPLAIN["cov_ignores_ddof"]),
         "single_sample": ("9 elements with NaN where the expected value is finite",
                           bank.COV_NAN)}, 4.0),
    "correlation": (
        (CENTER_AND_MULTIPLY, "    return np.corrcoef(X, rowvar=False)"),
        {**{c: ("elements differ", EXPLAIN["cov_correlation"])
            for c in COV_ALL[:-3] if c != "constant_feature"},
         "constant_feature": ("7 elements with NaN where the expected value is finite",
                              EXPLAIN["cov_correlation"]),
         "fewer_samples_than_features": ("elements differ", EXPLAIN["cov_correlation"]),
         "single_sample": ("9 elements with NaN", bank.COV_NAN)}, 0.0),
    "centered_rows": (
        ("Xc = X - X.mean(axis=0)", "Xc = X - X.mean(axis=1, keepdims=True)"),
        {c: ("elements differ", EXPLAIN["cov_centered_rows"]) for c in COV_ALL}, 0.0),
    "no_error_for_one_sample": (
        ('        raise ValueError("n - ddof must be positive")', "        pass"),
        {"single_sample": ("covariance for one sample of 3 features, ddof=1 then ddof=0 should "
                           "raise ValueError: one sample has no sample covariance with ddof=1 "
                           "(n - ddof = 0); it returned an array of shape (3, 3) float64", None)},
        4.5),
    "not_symmetric": (
        ("return Xc.T @ Xc / (n - ddof)", "C = Xc.T @ Xc / (n - ddof)\n    C[0, -1] += 1e-3\n"
                                          "    return C"),
        {c: ("the result is not symmetric: C[0, ", None) for c in COV_ALL}, 0.0),
}


@pytest.mark.parametrize("name", list(COV_WRONG), ids=list(COV_WRONG))
def test_wrong_covariance_loses_points_with_message_and_diagnosis(grade_one, name):
    (old, new), expected, score = COV_WRONG[name]
    assert old in COV_SOURCE
    result = grade_one("probability.covariance",
                       {"probability.py": COV_SOURCE.replace(old, new)})
    assert_wrong(result, expected, score, 5.0)


def test_np_cov_is_refused(grade_one):
    source = COV_SOURCE.replace(CENTER_AND_MULTIPLY, "    return np.cov(X, rowvar=False, "
                                                     "ddof=ddof)")
    result = grade_one("probability.covariance", {"probability.py": source})
    assert result.score == 0 and result.status == "failed"
    assert check(result, "small").message.startswith(
        "uses numpy.cov, which this exercise does not allow (an honesty check)")


COV_RIGHT = {
    "reference": REF_SOURCE,
    "einsum_times_reciprocal": COV_SOURCE.replace(
        "return Xc.T @ Xc / (n - ddof)", "return np.einsum('ni,nj->ij', Xc, Xc) * (1.0 / (n - "
                                         "ddof))"),
    "sum_of_outer_products": '''
import numpy as np

def covariance(X, ddof=1):
    n, d = X.shape
    if n <= ddof:
        raise ValueError("need more samples than ddof")
    mean = X.sum(axis=0) / n
    C = np.zeros((d, d))
    for x in X:
        C += np.outer(x - mean, x - mean)
    return C / (n - ddof)
''',
    "welford": '''
import numpy as np

def covariance(X, ddof=1):
    n, d = X.shape
    if n - ddof < 1:
        raise ValueError("n - ddof < 1")
    mean, M2 = np.zeros(d), np.zeros((d, d))
    for k, x in enumerate(X, start=1):
        delta = x - mean
        mean = mean + delta / k
        M2 += np.outer(delta, x - mean)
    return (M2 + M2.T) / 2 / (n - ddof)
''',
}


@pytest.mark.parametrize("name", list(COV_RIGHT), ids=list(COV_RIGHT))
def test_correct_covariances_get_full_marks(grade_one, name):
    assert_full_marks(grade_one("probability.covariance",
                                {"probability.py": COV_RIGHT[name]}), 5.0)


@pytest.mark.parametrize("name", list(COV_RIGHT)[1:], ids=list(COV_RIGHT)[1:])
def test_correct_covariances_pass_every_check_for_many_seeds(name):
    assert failures_in_process("probability.covariance", COV_RIGHT[name], range(1, 21)) == []


# ============================================================================ mvn_logpdf

def _torch_logpdf(x, mu, sigma):
    import torch

    dist = torch.distributions.MultivariateNormal(torch.from_numpy(mu),
                                                  covariance_matrix=torch.from_numpy(sigma))
    return dist.log_prob(torch.from_numpy(x)).numpy()


def test_mvn_reference_matches_torch_on_every_case():
    pytest.importorskip("torch")
    for check_, case in cases("probability.mvn_logpdf", range(10)):
        x, mu, sigma = case.calls[0].args
        if check_.name == "not_positive_definite":
            with pytest.raises(np.linalg.LinAlgError):
                REF.mvn_logpdf(x, mu, sigma)
            with pytest.raises(Exception):  # torch refuses it too (a ValueError of its own)
                _torch_logpdf(x, mu, sigma)
            continue
        got = REF.mvn_logpdf(x, mu, sigma)
        assert got.shape == (x.shape[0],) and got.dtype == np.float64
        np.testing.assert_allclose(got, _torch_logpdf(x, mu, sigma), rtol=1e-12, atol=1e-12)


def test_mvn_reference_matches_scipy_except_where_scipy_calls_sigma_singular():
    scipy_stats = pytest.importorskip("scipy.stats")
    for check_, case in cases("probability.mvn_logpdf", range(3)):
        x, mu, sigma = case.calls[0].args
        if check_.name == "not_positive_definite":
            continue
        if check_.name == "ill_conditioned":  # its eigenvalue cutoff drops the small scales
            with pytest.raises(np.linalg.LinAlgError, match="singular"):
                scipy_stats.multivariate_normal(mu, sigma)
            continue
        np.testing.assert_allclose(REF.mvn_logpdf(x, mu, sigma),
                                   scipy_stats.multivariate_normal(mu, sigma).logpdf(x)
                                   .reshape(-1), rtol=1e-11)


def _exact_logpdf(x, mu, sigma):
    import mpmath

    mpmath.mp.dps = 50
    s = mpmath.matrix(sigma.tolist())
    chol = mpmath.cholesky(s)
    log_det = 2 * sum(mpmath.log(chol[i, i]) for i in range(len(mu)))
    out = []
    for row in x:
        r = mpmath.matrix((row - mu).tolist())
        z = mpmath.lu_solve(s, r)
        quad = sum(r[i] * z[i] for i in range(len(mu)))
        out.append(float(-quad / 2 - log_det / 2 - len(mu) * mpmath.log(2 * mpmath.pi) / 2))
    return np.array(out)


def _logpdf_by(method, x, mu, sigma):
    r, d = x - mu, len(mu)
    const = 0.5 * d * math.log(2 * math.pi)
    if method == "cholesky":
        z = np.linalg.solve(np.linalg.cholesky(sigma), r.T)
        return -0.5 * np.sum(z * z, 0) - np.sum(np.log(np.diag(np.linalg.cholesky(sigma)))) - \
            const
    if method == "eigh":
        w, v = np.linalg.eigh(sigma)
        return -0.5 * np.sum((r @ v) ** 2 / w, 1) - 0.5 * np.sum(np.log(w)) - const
    inverse = np.linalg.inv(sigma) if method == "inv" else None
    quad = np.sum(r * (r @ inverse if inverse is not None else np.linalg.solve(sigma, r.T).T),
                  1)
    return -0.5 * quad - 0.5 * np.linalg.slogdet(sigma)[1] - const


def test_ill_conditioned_case_has_cond_1e12_and_every_stable_method_is_exact():
    """cond(Sigma) is about 1e12, from the feature scales; Cholesky, LU solve, inv and eigh all
    agree with the exact log-density (mpmath, 50 digits) to 1e-12, far inside the 1e-10."""
    pytest.importorskip("mpmath")
    for _, case in cases("probability.mvn_logpdf", range(2), names=("ill_conditioned",)):
        x, mu, sigma = case.calls[0].args
        assert 1e11 < np.linalg.cond(sigma) < 1e14
        exact = _exact_logpdf(x, mu, sigma)
        for method in ("cholesky", "solve", "inv", "eigh"):
            got = _logpdf_by(method, x, mu, sigma)
            assert np.max(np.abs(got - exact) / np.abs(exact)) < 1e-12, method
        assert np.max(np.abs(REF.mvn_logpdf(x, mu, sigma) - exact) / np.abs(exact)) < 1e-13


def test_a_generic_sigma_with_cond_1e12_cannot_be_judged_at_1e_10():
    """Why the ill-conditioned case gets its condition from scales: with a generic eigenbasis
    and eigenvalues 1 ... 1e-12, log det Sigma moves by eps / 1e-12 = 2e-4 under rounding, and
    two stable methods (Cholesky, LU) already disagree by far more than 1e-10."""
    rng = np.random.default_rng(4)
    rot = rotation(rng, 5)
    sigma = combine(rot, np.array([1.0, 1e-3, 1e-6, 1e-9, 1e-12]), rot)
    mu = rng.normal(0, 1, 5)
    x = mu + combine(rng.standard_normal((20, 5)),
                      np.sqrt([1.0, 1e-3, 1e-6, 1e-9, 1e-12]), rot)
    a, b = _logpdf_by("cholesky", x, mu, sigma), _logpdf_by("solve", x, mu, sigma)
    assert np.max(np.abs(a - b) / np.abs(a)) > 1e-8


def test_det_underflow_case_underflows_and_the_reference_stays_finite():
    for _, case in cases("probability.mvn_logpdf", range(5), names=("det_underflow",)):
        x, mu, sigma = case.calls[0].args
        assert np.linalg.det(sigma) == 0.0
        assert np.isfinite(REF.mvn_logpdf(x, mu, sigma)).all()


MVN_SOURCE = '''
import numpy as np

def mvn_logpdf(X, mu, Sigma):
    d = mu.shape[0]
    L = np.linalg.cholesky(Sigma)
    Z = np.linalg.solve(L, (X - mu).T)
    return -0.5 * np.sum(Z**2, axis=0) - np.sum(np.log(np.diag(L))) - 0.5 * d * np.log(2 * np.pi)
'''
MVN_INV = '''
import numpy as np

def mvn_logpdf(X, mu, Sigma):
    d = len(mu)
    R = X - mu
    P = np.linalg.inv(Sigma)
    sign, logdet = np.linalg.slogdet(Sigma)
    if sign <= 0:
        raise ValueError("Sigma is not positive definite")
    quad = np.einsum("ni,ij,nj->n", R, P, R)
    return -0.5 * quad - 0.5 * logdet - 0.5 * d * np.log(2 * np.pi)
'''
MVN_VALUES = ("standard", "batch", "one_dimension", "ill_conditioned", "det_underflow",
              "single_point")


def _mvn_all(fragment, mistake, without=()):
    return {c: (fragment, EXPLAIN[mistake]) for c in MVN_VALUES if c not in without}


MVN_WRONG = {  # name: (source, {check: (fragment, diagnosis)}, score)
    "log_2pi_once": (MVN_SOURCE.replace("0.5 * d * np.log", "0.5 * np.log"),
                     _mvn_all("differ", "mvn_log_2pi_once", ("one_dimension",)), 1.0),
    "no_half_quadratic": (MVN_SOURCE.replace("-0.5 * np.sum(Z**2", "-np.sum(Z**2"),
                          _mvn_all("differ", "mvn_no_half_quadratic"), 0.5),
    "no_half_logdet": (MVN_SOURCE.replace("- np.sum(np.log(np.diag(L)))",
                                          "- 2 * np.sum(np.log(np.diag(L)))"),
                       _mvn_all("differ", "mvn_no_half_logdet"), 0.5),
    "logdet_sign": (MVN_SOURCE.replace("- np.sum(np.log(np.diag(L)))",
                                       "+ np.sum(np.log(np.diag(L)))"),
                    _mvn_all("differ", "mvn_logdet_sign"), 0.5),
    "sigma_not_inverted": (MVN_INV.replace("P = np.linalg.inv(Sigma)", "P = Sigma"),
                           _mvn_all("differ", "mvn_sigma_not_inverted"), 0.5),
    "density": (MVN_SOURCE.replace("return -0.5", "return np.exp(-0.5").replace(
        "np.pi)\n", "np.pi))\n"), _mvn_all("differ", "mvn_density"), 0.5),
    "pairwise": (MVN_INV.replace('np.einsum("ni,ij,nj->n", R, P, R)', "R @ P @ R.T"),
                 {**_mvn_all("shape (", "mvn_pairwise"),
                  "single_point": ("shape (1, 1), expected (1,)", EXPLAIN["mvn_pairwise"])},
                 0.5),
    "log_of_det": (MVN_INV.replace("sign, logdet = np.linalg.slogdet(Sigma)",
                                   "sign, logdet = 1, np.log(np.linalg.det(Sigma))"),
                   {"det_underflow": ("10 elements with Inf where the expected value is finite",
                                      EXPLAIN["mvn_det_underflow"]),
                    "not_positive_definite": ("should raise ValueError: Sigma is not positive "
                                              "definite; it returned an array of shape (5,) "
                                              "float64", None)}, 4.0),
    "std_for_d_1": (MVN_SOURCE.replace("L = np.linalg.cholesky(Sigma)",
                                       "L = np.linalg.cholesky(Sigma @ Sigma if d == 1 else "
                                       "Sigma)"),
                    {"one_dimension": ("20 of 20 elements differ",
                                       EXPLAIN["mvn_std_not_variance"])}, 4.5),
    "jitter": (MVN_SOURCE.replace("L = np.linalg.cholesky(Sigma)",
                                  "L = np.linalg.cholesky(Sigma + 1e-6 * np.eye(d))"),
               _mvn_all("differ", "mvn_jitter"), 0.5),
}


@pytest.mark.parametrize("name", list(MVN_WRONG), ids=list(MVN_WRONG))
def test_wrong_mvn_logpdf_loses_points_with_message_and_diagnosis(grade_one, name):
    source, expected, score = MVN_WRONG[name]
    assert source not in (MVN_SOURCE, MVN_INV)
    result = grade_one("probability.mvn_logpdf", {"probability.py": source})
    assert_wrong(result, expected, score, 5.0)


def test_library_log_densities_are_refused(grade_one):
    pytest.importorskip("scipy.stats")
    source = ("from scipy.stats import multivariate_normal\n"
              "def mvn_logpdf(X, mu, Sigma):\n"
              "    return multivariate_normal.logpdf(X, mu, Sigma)\n")
    result = grade_one("probability.mvn_logpdf", {"probability.py": source})
    assert result.score == 0
    standard = check(result, "standard")
    assert standard.message.startswith("mvn_logpdf raised AttributeError: 'function' object has "
                                       "no attribute 'logpdf'")
    assert standard.diagnosis.startswith("scipy.stats.multivariate_normal is not allowed")
    source = ("import torch\n"
              "def mvn_logpdf(X, mu, Sigma):\n"
              "    d = torch.distributions.MultivariateNormal(torch.tensor(mu), "
              "torch.tensor(Sigma))\n"
              "    return d.log_prob(torch.tensor(X)).numpy()\n")
    result = grade_one("probability.mvn_logpdf", {"probability.py": source})
    assert result.score == 0
    assert check(result, "batch").message.startswith(
        "uses torch.distributions.MultivariateNormal, which this exercise does not allow")


MVN_RIGHT = {
    "reference": REF_SOURCE,
    "cholesky_solve": MVN_SOURCE,
    "inverse_and_slogdet": MVN_INV,
    "eigh": '''
import numpy as np

def mvn_logpdf(X, mu, Sigma):
    w, V = np.linalg.eigh(Sigma)
    if w.min() <= 0:
        raise ValueError("Sigma is not positive definite")
    Y = (X - mu) @ V
    return (-0.5 * np.sum(Y**2 / w, axis=1) - 0.5 * np.sum(np.log(w))
            - 0.5 * len(mu) * np.log(2 * np.pi))
''',
}


@pytest.mark.parametrize("name", list(MVN_RIGHT), ids=list(MVN_RIGHT))
def test_correct_mvn_logpdfs_get_full_marks(grade_one, name):
    assert_full_marks(grade_one("probability.mvn_logpdf",
                                {"probability.py": MVN_RIGHT[name]}), 5.0)


@pytest.mark.parametrize("name", list(MVN_RIGHT)[1:], ids=list(MVN_RIGHT)[1:])
def test_correct_mvn_logpdfs_pass_every_check_for_many_seeds(name):
    assert failures_in_process("probability.mvn_logpdf", MVN_RIGHT[name], range(1, 21)) == []


# ============================================================================ bce_with_logits

def _torch_bce(z, y):
    import torch

    zt = torch.tensor(z, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(zt, torch.tensor(y))
    loss.backward()
    return loss.item(), zt.grad.numpy()


def _torch_mse(pred, target):
    import torch

    pt = torch.tensor(pred, requires_grad=True)
    loss = torch.nn.functional.mse_loss(pt, torch.tensor(target))
    loss.backward()
    return loss.item(), pt.grad.numpy()


@pytest.mark.parametrize("exercise_id,torch_loss,rtol", [
    ("probability.bce_with_logits", _torch_bce, 1e-12),
    ("probability.mse_loss", _torch_mse, 1e-14)], ids=["bce", "mse"])
def test_loss_references_match_torch_and_autograd(exercise_id, torch_loss, rtol):
    pytest.importorskip("torch")
    function = getattr(REF, catalog()[exercise_id].functions[0])
    for _, case in cases(exercise_id, range(20)):
        a, b = case.calls[0].args
        if a.shape != b.shape:
            with pytest.raises(ValueError):
                function(a, b)
            continue
        loss, grad = function(a, b)
        want_loss, want_grad = torch_loss(a, b)
        assert np.isfinite(loss) and loss == pytest.approx(want_loss, rel=rtol)
        assert grad.shape == a.shape and grad.dtype == np.float64
        # The gradient's s(z) - y cancels near y: both sides round it to eps / N.
        np.testing.assert_allclose(grad, want_grad, rtol=rtol, atol=2.3e-16 / a.size)


def test_large_logits_give_the_exact_losses():
    loss, dz = REF.bce_with_logits(np.array([1000.0, -1000.0, 1000.0, -1000.0]),
                                   np.array([0.0, 1.0, 1.0, 0.0]))
    assert loss == 500.0 and np.array_equal(dz, np.array([0.25, -0.25, 0.0, 0.0]))


BCE_SOURCE = '''
import numpy as np

def bce_with_logits(z, y):
    if z.shape != y.shape:
        raise ValueError("z and y have different shapes")
    n = z.size
    loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    s = np.exp(-np.logaddexp(0, -z))
    return loss, (s - y) / n
'''
BCE_NAIVE = '''
import numpy as np

def bce_with_logits(z, y):
    if z.shape != y.shape:
        raise ValueError("z and y have different shapes")
    s = 1 / (1 + np.exp(-z))
    loss = -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s))
    return loss, (s - y) / z.size
'''
STABLE_LOSS = "np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))"
BCE_VALUES = ("small", "matrix", "soft_labels", "large_logits")
LARGE = "bce_with_logits for z of shape (24,), logits +-1000 and +-50: [0]: "

BCE_WRONG = {  # name: (source, {check: (fragment, diagnosis)}, score)
    "naive_log": (BCE_NAIVE, {"large_logits": (LARGE + "1 element with NaN",
                                               EXPLAIN["bce_naive_log"])}, 3.5),
    "clipped_1e-7": (BCE_NAIVE.replace("s = 1 / (1 + np.exp(-z))",
                                       "s = np.clip(1 / (1 + np.exp(-z)), 1e-7, 1 - 1e-7)"),
                     {"large_logits": (LARGE + "got 3.39", likelihoods._CLIPPED)}, 3.5),
    "clipped_1e-15": (BCE_NAIVE.replace("s = 1 / (1 + np.exp(-z))",
                                        "s = np.clip(1 / (1 + np.exp(-z)), 1e-15, 1 - 1e-15)"),
                      {"large_logits": (LARGE + "got 6.08", likelihoods._CLIPPED)}, 3.5),
    "softplus_overflow": (BCE_SOURCE.replace(STABLE_LOSS, "np.mean((1 - y) * z + np.log(1 + "
                                                          "np.exp(-z)))"),
                          {"large_logits": (LARGE + "1 element with Inf",
                                            EXPLAIN["bce_softplus_overflow"])}, 3.5),
    "summed": (BCE_SOURCE.replace("np.mean(", "np.sum(").replace("(s - y) / n", "(s - y)"),
               {c: ("[0]: got ", EXPLAIN["bce_sum"]) for c in BCE_VALUES}, 0.5),
    "per_row": (BCE_SOURCE.replace("n = z.size", "n = len(z)").replace(
        "loss = np.mean(", "loss = 1 / n * np.sum("),
                {"matrix": ("[0]: got ", EXPLAIN["bce_per_row"])}, 3.5),
    "gradient_not_divided": (BCE_SOURCE.replace("(s - y) / n", "(s - y)"),
                             {c: ("[1]: ", EXPLAIN["bce_grad_not_divided"]) for c in BCE_VALUES},
                             0.5),
    "gradient_sign": (BCE_SOURCE.replace("(s - y) / n", "(y - s) / n"),
                      {c: ("[1]: ", EXPLAIN["bce_grad_sign"]) for c in BCE_VALUES}, 0.5),
    "hard_labels": (BCE_SOURCE.replace(STABLE_LOSS, "np.mean(np.where(y == 1, np.logaddexp(0, "
                                                    "-z), np.logaddexp(0, z)))"),
                    {"soft_labels": ("[0]: got ", EXPLAIN["bce_hard_labels"]),
                     "large_logits": (LARGE + "got 86", EXPLAIN["bce_hard_labels"])}, 2.5),
    "no_shape_check": (BCE_SOURCE.replace('        raise ValueError("z and y have different '
                                          'shapes")', "        pass"),
                       {"shape_mismatch": (
                           "bce_with_logits for shapes (8, 1) and (8,) should raise ValueError: "
                           "z and y must have the same shape; it returned a tuple of 2",
                           "shapes (8, 1) and (8,) broadcast to (8, 8): your loss averages 64 "
                           "cross pairs instead of 8 matched ones. Check that the shapes are "
                           "equal and raise ValueError (reshape(-1) in the caller fixes such "
                           "data)")}, 4.0),
}


@pytest.mark.parametrize("name", list(BCE_WRONG), ids=list(BCE_WRONG))
def test_wrong_bce_loses_points_with_message_and_diagnosis(grade_one, name):
    source, expected, score = BCE_WRONG[name]
    assert source != BCE_SOURCE
    result = grade_one("probability.bce_with_logits", {"probability.py": source})
    assert_wrong(result, expected, score, 4.5)


def test_clipping_at_1e_12_is_named_too():
    source = BCE_NAIVE.replace("s = 1 / (1 + np.exp(-z))",
                               "s = np.clip(1 / (1 + np.exp(-z)), 1e-12, 1 - 1e-12)")
    failures = failures_in_process("probability.bce_with_logits", source, range(1))
    assert [name for _, name, _ in failures] == ["large_logits"]
    (_, case), = cases("probability.bce_with_logits", names=("large_logits",))
    with np.errstate(all="ignore"):
        got = _function(source, "bce_with_logits")(*case.calls[0].args)
        assert diagnose_mistakes(got, case, likelihoods.BCE_MISTAKES) == likelihoods._CLIPPED


def test_torch_losses_and_autograd_are_refused(grade_one):
    source = '''
import torch

def bce_with_logits(z, y):
    zt = torch.tensor(z, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(zt, torch.tensor(y))
    loss.backward()
    return loss.item(), zt.grad.numpy()

def mse_loss(pred, target):
    pt = torch.tensor(pred, requires_grad=True)
    loss = ((pt - torch.tensor(target)) ** 2).mean()
    loss.backward()
    return loss.item(), pt.grad.numpy()
'''
    result = grade_one("probability.bce_with_logits", {"probability.py": source})
    assert result.score == 0 and check(result, "small").message.startswith(
        "uses torch.nn.functional.binary_cross_entropy_with_logits, which this exercise does "
        "not allow")
    result = grade_one("probability.mse_loss", {"probability.py": source})
    assert result.score == 0 and check(result, "vector").message.startswith(
        "uses torch.autograd.backward, which this exercise does not allow")


BCE_RIGHT = {
    "reference": REF_SOURCE,
    "logaddexp": BCE_SOURCE,
    "log_sigmoid_both_terms": '''
import numpy as np

def log_sigmoid(z):
    return -np.logaddexp(0.0, -z)

def bce_with_logits(z, y):
    if np.shape(z) != np.shape(y):
        raise ValueError("shapes")
    loss = -np.mean(y * log_sigmoid(z) + (1 - y) * log_sigmoid(-z))
    e = np.exp(-np.abs(z))
    sig = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return float(loss), (sig - y) / z.size
''',
}


@pytest.mark.parametrize("name", list(BCE_RIGHT), ids=list(BCE_RIGHT))
def test_correct_bces_get_full_marks(grade_one, name):
    assert_full_marks(grade_one("probability.bce_with_logits",
                                {"probability.py": BCE_RIGHT[name]}), 4.5)


# ============================================================================ mse_loss

MSE_SOURCE = '''
import numpy as np

def mse_loss(pred, target):
    if pred.shape != target.shape:
        raise ValueError("pred and target have different shapes")
    d = pred - target
    return np.mean(d ** 2), 2 * d / d.size
'''
MSE_RETURN = "np.mean(d ** 2), 2 * d / d.size"
MSE_VALUES = ("vector", "matrix", "column_vectors")

MSE_WRONG = {  # name: ((replace, with), {check: (fragment, diagnosis)}, score)
    "missing_two": ((MSE_RETURN, "np.mean(d ** 2), d / d.size"),
                    {c: ("[1]: ", EXPLAIN["mse_missing_two"]) for c in MSE_VALUES}, 1.0),
    "half_convention": ((MSE_RETURN, "0.5 * np.mean(d ** 2), d / d.size"),
                        {c: ("[0]: got ", EXPLAIN["mse_half"]) for c in MSE_VALUES}, 1.0),
    "not_divided": ((MSE_RETURN, "np.mean(d ** 2), 2 * d"),
                    {c: ("[1]: ", EXPLAIN["mse_not_divided"]) for c in MSE_VALUES}, 1.0),
    "summed": ((MSE_RETURN, "np.sum(d ** 2), 2 * d"),
               {c: ("[0]: got ", EXPLAIN["mse_sum"]) for c in MSE_VALUES}, 1.0),
    "per_row": ((MSE_RETURN, "np.sum(d ** 2) / len(d), 2 * d / len(d)"),
                {"matrix": ("mse_loss for pred of shape (8, 3): [0]: got ",
                            EXPLAIN["mse_per_row"])}, 2.5),
    "gradient_sign": ((MSE_RETURN, "np.mean(d ** 2), 2 * (target - pred) / d.size"),
                      {c: ("[1]: ", EXPLAIN["mse_grad_sign"]) for c in MSE_VALUES}, 1.0),
    "no_shape_check": (('        raise ValueError("pred and target have different shapes")',
                        "        pass"),
                       {"broadcast_trap": (
                           "mse_loss for shapes (10, 1) and (10,) should raise ValueError: pred "
                           "and target must have the same shape; it returned a tuple of 2",
                           "shapes (10, 1) and (10,) broadcast to (10, 10): your loss averages "
                           "100 cross pairs instead of 10 matched ones. Check that the shapes "
                           "are equal and raise ValueError (reshape(-1) in the caller fixes "
                           "such data)")}, 2.5),
}


@pytest.mark.parametrize("name", list(MSE_WRONG), ids=list(MSE_WRONG))
def test_wrong_mse_loses_points_with_message_and_diagnosis(grade_one, name):
    (old, new), expected, score = MSE_WRONG[name]
    assert old in MSE_SOURCE
    result = grade_one("probability.mse_loss", {"probability.py": MSE_SOURCE.replace(old, new)})
    assert_wrong(result, expected, score, 3.5)


MSE_RIGHT = {
    "reference": REF_SOURCE,
    "mean_of_squares": MSE_SOURCE,
    "dot_and_size": '''
import numpy as np

def mse_loss(pred, target):
    if np.shape(pred) != np.shape(target):
        raise ValueError("shape mismatch")
    diff = np.subtract(pred, target)
    n = diff.size
    flat = diff.ravel()
    return float(flat @ flat) / n, diff * (2.0 / n)
''',
}


@pytest.mark.parametrize("name", list(MSE_RIGHT), ids=list(MSE_RIGHT))
def test_correct_mses_get_full_marks(grade_one, name):
    assert_full_marks(grade_one("probability.mse_loss", {"probability.py": MSE_RIGHT[name]}),
                      3.5)


@pytest.mark.parametrize("exercise_id,source", [
    ("probability.bce_with_logits", BCE_RIGHT["log_sigmoid_both_terms"]),
    ("probability.bce_with_logits", BCE_SOURCE),
    ("probability.mse_loss", MSE_RIGHT["dot_and_size"])], ids=["bce_log_sigmoid", "bce_logaddexp",
                                                             "mse_dot"])
def test_correct_losses_pass_every_check_for_many_seeds(exercise_id, source):
    assert failures_in_process(exercise_id, source, range(1, 31)) == []


def test_every_declared_mistake_is_shown_by_a_submission_above():
    """Each Mistake's explanation is the asserted diagnosis of some wrong submission (the clipped
    variants share one text; 1e-12 is checked in process)."""
    shown = {d for table in (COV_WRONG, BCE_WRONG, MSE_WRONG)
             for _, expected, _ in table.values() for _, d in expected.values()}
    shown |= {d for _, expected, _ in MVN_WRONG.values() for _, d in expected.values()}
    assert set(EXPLAIN.values()) <= shown
    assert {bank.COV_ONE_PASS, bank.COV_NAN} <= shown


PAIR_LOOP = '''
import numpy as np

def covariance(X, ddof=1):
    n, d = X.shape
    if n - ddof <= 0:
        raise ValueError("n - ddof must be positive")
    m = X.mean(axis=0)
    C = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            C[i, j] = np.sum((X[:, i] - m[i]) * (X[:, j] - m[j])) / (n - ddof)
    return C
'''


@pytest.mark.slow
def test_a_feature_pair_loop_is_timed_as_slow(grade_files):
    """Measured once at n = 2000, d = 50 with one BLAS thread: 70x the reference."""
    slow = grade_files({"probability.py": PAIR_LOOP}, ids=("probability.covariance",),
                       time_it=True).exercises[0]
    fast = grade_files({"probability.py": COV_SOURCE}, ids=("probability.covariance",),
                       time_it=True).exercises[0]
    assert slow.score == fast.score == 5.0
    assert slow.timing.slow and not fast.timing.slow  # the flag is at 10x
