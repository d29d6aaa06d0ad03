"""Statistical tests for checks of random functions (dropout masks, sampling, initializers).

A random function's output cannot be compared with expected values. A check computes a
statistic of the student's output whose distribution is known when the function is right, and
fails only when the statistic lands where a correct function lands with a tiny probability:

- every test here is two-sided at :data:`Z_LIMIT` = 5.3 standard deviations, so a correct
  function fails one test with probability :data:`FALSE_FAILURE` = erfc(5.3 / sqrt 2), about
  1.16e-7 (for counts the exact binomial tails are used, which never exceed it; for sums the
  normal approximation, within a few percent of it under :data:`MIN_EXPECTED_COUNT`);
- a check that runs k tests on one output fails a correct function with probability at most
  k * FALSE_FAILURE (the union bound, whatever the dependence between the tests), so a check
  runs at most :data:`MAX_TESTS_PER_CHECK` tests to stay within :data:`CHECK_FALSE_FAILURE`.

These are nominal rates. They are also measured on the reference over thousands of seeds
(for dropout, ``python benchmarks/dropout_false_failures.py`` prints the false failures per
check, the calibration of every statistic and the power against known wrong variants).

Every function works on plain numbers and numpy arrays in the grader's process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z_LIMIT = 5.3
# P(|Z| > 5.3) for a standard normal Z: the false-failure probability of one test.
FALSE_FAILURE = math.erfc(Z_LIMIT / math.sqrt(2.0))
# What a whole check may cost a correct submission, and so how many tests it may run.
CHECK_FALSE_FAILURE = 1e-6
MAX_TESTS_PER_CHECK = int(CHECK_FALSE_FAILURE // FALSE_FAILURE)
# The normal approximation of a sum of n weighted Bernoulli(q) draws is used only when
# n * min(q, 1 - q) >= MIN_EXPECTED_COUNT. The sum's skewness is at most
# |1 - 2q| / sqrt(n q (1 - q)) * max|w| / rms(w), then below 0.045 * max|w| / rms(w); in a
# two-sided test the skewness term of the Edgeworth expansion cancels, and the next one scales
# the rate at 5.3 sigma by about 1 + 38.5 * skewness^2 (1.01 for the dropout checks, whose
# skewness is below 0.02).
MIN_EXPECTED_COUNT = 1000
RATE_NOTE = (f"a correct implementation fails each of these tests with probability "
             f"{FALSE_FAILURE:.1e}")


@dataclass(frozen=True)
class StatResult:
    """One test: what was measured, what a correct function gives, and the verdict.

    ``z`` is the standardized difference (observed - expected) / sd, shown in feedback; the
    verdict comes from ``p_value`` (exact for counts) against :data:`FALSE_FAILURE`.
    Feedback states the rate once per message: :data:`RATE_NOTE`.
    """

    what: str
    observed: float
    expected: float
    z: float
    p_value: float
    passed: bool

    def describe(self, note: str = "") -> str:
        """Feedback: what was measured against what a correct function gives, and z."""
        return (f"{self.what} is {self.observed:.6g}, expected {self.expected:.6g} "
                f"(z = {self.z:+.1f}, {'inside' if self.passed else 'outside'} +-{Z_LIMIT}"
                f"{'; ' + note if note else ''})")

    def __str__(self) -> str:
        return self.describe()


def normal_p_value(z: float) -> float:
    """Two-sided tail P(|Z| >= |z|) of a standard normal."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def z_test(what: str, observed: float, expected: float, sd: float) -> StatResult:
    """Two-sided z-test of a statistic with a known (approximately normal) distribution."""
    if sd <= 0:
        z = 0.0 if observed == expected else math.copysign(math.inf, observed - expected)
    else:
        z = (observed - expected) / sd
    if math.isnan(z):
        z = math.inf
    p_value = normal_p_value(z)
    return StatResult(what, observed, expected, z, p_value, p_value >= FALSE_FAILURE)


def _log_add(a: float, b: float) -> float:
    hi, lo = max(a, b), min(a, b)
    return hi if lo == -math.inf else hi + math.log1p(math.exp(lo - hi))


def _log_tail(logpmf: np.ndarray) -> float:
    if logpmf.size == 0:
        return -math.inf
    top = float(logpmf.max())
    return top + math.log(float(np.exp(logpmf - top).sum()))


def binomial_tails(k: int, n: int, q: float) -> tuple[float, float]:
    """Exact (P(X <= k), P(X >= k)) for X ~ Binomial(n, q).

    The log-probabilities come from the ratio pmf(j+1)/pmf(j) = (n-j)/(j+1) * q/(1-q),
    accumulated from the mode outwards so that rounding grows with the distance from the mode
    only (the tails that matter are within a few hundred terms of a 5.3-sigma point).
    """
    if not 0 <= k <= n:
        raise ValueError(f"k = {k} is not in 0..{n}")
    if q <= 0.0 or q >= 1.0:
        certain = 0 if q <= 0.0 else n
        return (1.0 if k >= certain else 0.0, 1.0 if k <= certain else 0.0)
    mode = min(n, int(math.floor((n + 1) * q)))
    log_mode = (math.lgamma(n + 1) - math.lgamma(mode + 1) - math.lgamma(n - mode + 1)
                + mode * math.log(q) + (n - mode) * math.log1p(-q))
    odds = math.log(q) - math.log1p(-q)
    j_up = np.arange(mode, n, dtype=np.float64)
    up = log_mode + np.cumsum(np.log((n - j_up) / (j_up + 1)) + odds)  # j = mode+1..n
    j_down = np.arange(mode, 0, -1, dtype=np.float64)
    down = log_mode + np.cumsum(np.log(j_down / (n - j_down + 1)) - odds)  # j = mode-1..0
    logpmf = np.concatenate([down[::-1], [log_mode], up])  # index j = 0..n
    lower = _log_tail(logpmf[:k + 1])
    upper = _log_tail(logpmf[k:])
    return min(1.0, math.exp(lower)), min(1.0, math.exp(upper))


def binomial_fraction(what: str, k: int, n: int, q: float) -> StatResult:
    """Exact two-sided test that k successes out of n independent trials have probability q.

    The test rejects when 2 * min(P(X <= k), P(X >= k)) < FALSE_FAILURE, so a correct function
    fails with probability at most FALSE_FAILURE (less: the binomial is discrete). The result
    reports the fraction k / n against q.
    """
    lower, upper = binomial_tails(int(k), int(n), float(q))
    p_value = min(1.0, 2.0 * min(lower, upper))
    sd = math.sqrt(n * q * (1.0 - q))
    z = (k - n * q) / sd if sd > 0 else (0.0 if k == n * q else math.copysign(math.inf,
                                                                              k - n * q))
    return StatResult(what, k / n if n else 0.0, q, z, p_value, p_value >= FALSE_FAILURE)


def consistent_rates(k: int, n: int, candidates: dict[str, float]) -> list[str]:
    """The names of the candidate probabilities that k successes in n trials do not reject.

    Diagnoses use it: a drop fraction that fails against p but passes against 1 - p names the
    keep-versus-drop mistake.
    """
    return [name for name, q in candidates.items()
            if binomial_fraction(name, k, n, q).passed]


def weighted_bernoulli_mean(what: str, x: np.ndarray, out: np.ndarray, q: float
                            ) -> StatResult:
    """z-test that sum(out) = sum(x) in expectation for out_i = x_i * m_i / q, m_i ~ Bern(q).

    Given x, sum(out) - sum(x) = sum_i x_i (m_i / q - 1) has mean 0 and variance
    sum_i x_i^2 (1 - q) / q; the test is the normal approximation of that sum. It reports the
    ratio mean(out) / mean(x) against 1, so mean(x) must be well away from 0.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    out = np.asarray(out, dtype=np.float64).ravel()
    if x.size * min(q, 1.0 - q) < MIN_EXPECTED_COUNT:
        raise ValueError(f"{x.size} draws with probability {q}: too few for the normal "
                         f"approximation at {Z_LIMIT} sigma (need n * min(q, 1 - q) >= "
                         f"{MIN_EXPECTED_COUNT})")
    total = float(x.sum())
    sd = math.sqrt(float((x * x).sum()) * (1.0 - q) / q)
    result = z_test(what, float(out.sum()), total, sd)
    # Feedback reads better as a ratio of means; the test itself is on the sums.
    return StatResult(what, result.observed / total, 1.0, result.z, result.p_value,
                      result.passed)


def pair_agreement(what: str, mask: np.ndarray, axis: int, q: float) -> StatResult:
    """Exact test that neighbouring slices of a boolean mask along ``axis`` agree at rate
    q^2 + (1 - q)^2, as independent Bernoulli(q) elements do.

    Slices 0 and 1, 2 and 3, ... are paired (disjoint pairs, so the agreements are independent
    and their count is binomial). A mask shared along ``axis`` agrees everywhere.
    """
    mask = np.moveaxis(np.asarray(mask, dtype=bool), axis, 0)
    half = mask.shape[0] // 2
    agree = mask[0:2 * half:2] == mask[1:2 * half:2]
    expected = q * q + (1.0 - q) * (1.0 - q)
    return binomial_fraction(what, int(agree.sum()), int(agree.size), expected)


def inverted_mask_tests(x: np.ndarray, out: np.ndarray, keep: float) -> dict[str, StatResult]:
    """The tests of out = x * m / keep with independent m_i ~ Bernoulli(keep) (inverted dropout).

    x must be nonzero everywhere, so that out == 0 marks exactly the dropped elements; the first
    axis is the batch, the last the features. Four tests, by name: ``drop_fraction`` (the share
    of zeros is 1 - keep), ``mean`` (mean(out) / mean(x) is 1), ``row_pairs`` and
    ``column_pairs`` (neighbouring rows, and neighbouring columns, of the mask agree as
    independent draws do: a mask shared across the batch, or one draw per row, agrees
    everywhere). The last two need at least two rows or columns.
    """
    dropped = np.asarray(out) == 0
    tests = {
        "drop_fraction": binomial_fraction("the share of zeros in out", int(dropped.sum()),
                                           int(dropped.size), 1.0 - keep),
        "mean": weighted_bernoulli_mean("mean(out) / mean(x)", x, out, keep),
    }
    rows = dropped.reshape(dropped.shape[0], -1)
    if rows.shape[0] >= 2:
        tests["row_pairs"] = pair_agreement(
            "the share of units on which rows 2i and 2i+1 are both kept or both dropped",
            rows, 0, keep)
    columns = dropped.reshape(-1, dropped.shape[-1])
    if columns.shape[1] >= 2:
        tests["column_pairs"] = pair_agreement(
            "the share of units on which columns 2j and 2j+1 are both kept or both dropped",
            columns, 1, keep)
    return tests
