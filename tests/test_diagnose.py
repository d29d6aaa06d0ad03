"""Generic diagnoses: each common way an array result goes wrong is named (transposed, negated,
a constant factor with the factor, NaN/Inf from an overflow, float32, an extra axis of length 1,
a reduction over the wrong axis), and nothing is said about
a correct result or a wrong one that none of them explains."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import reference_source
from grader.diagnose import generic

RNG = np.random.default_rng(20240601)
WIDE = RNG.standard_normal((3, 5))
SQUARE = RNG.standard_normal((4, 4))
SYMMETRIC = SQUARE + SQUARE.T
VECTOR = RNG.standard_normal(6)

TRANSPOSED = "your result is the transpose of the expected one: check the order of the axes"
NEGATED = "your result has the wrong sign everywhere: check a minus sign"
NONFINITE = ("your result has NaN or Inf where the expected values are finite: look for an "
             "overflow (exp of a large number: subtract the maximum first), a division by zero "
             "or the log of zero")
FLOAT32 = "your result is float32 where float64 was expected: keep float64 throughout"
COLUMN = ("your values are right but the shape is (6, 1), not (6,): an extra or missing axis of "
          "length 1 (keepdims=True, or a column vector where a flat one was expected?)")


def factor(text: str) -> str:
    return (f"your result is the expected one times {text}: a missing or extra constant factor "
            "(a 1/N, a 2, a 1/(1-p)?)")


def with_inf(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.flat[1] = np.inf
    return a


def with_nan(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.flat[-1] = np.nan
    return a


@pytest.mark.parametrize("actual, expected, diagnosis", [
    (WIDE.T.copy(), WIDE, TRANSPOSED),
    (SQUARE.T.copy(), SQUARE, TRANSPOSED),
    (-WIDE, WIDE, NEGATED),
    (-VECTOR, VECTOR, NEGATED),
    (2 * WIDE, WIDE, factor("2")),
    (WIDE / 32, WIDE, factor("0.03125")),
    (VECTOR / 0.9, VECTOR, factor("1.11111")),
    (-3 * SQUARE, SQUARE, factor("-3")),
    (with_inf(WIDE), WIDE, NONFINITE),
    (with_nan(VECTOR), VECTOR, NONFINITE),
    (WIDE.astype(np.float32), WIDE, FLOAT32),
    (VECTOR[:, None].copy(), VECTOR, COLUMN),
    (WIDE.sum(axis=1), WIDE.sum(axis=0),
     "your result has 3 entries where 5 were expected: a sum or mean over the wrong axis?"),
    (np.float64(-2.5), 2.5, "your result has the wrong sign: check a minus sign"),
    (float("inf"), 2.5, "your result is NaN or Inf where the expected value is finite: look for "
                        "an overflow, a division by zero or the log of zero"),
], ids=["transposed_wide", "transposed_square", "negated", "negated_vector", "factor_2",
        "factor_1_over_32", "factor_1_over_0_9", "factor_minus_3", "inf", "nan", "float32",
        "column_vector", "wrong_axis", "scalar_negated", "scalar_inf"])
def test_generic_diagnosis(actual, expected, diagnosis):
    assert generic(actual, expected) == diagnosis


@pytest.mark.parametrize("actual, expected", [
    (WIDE.copy(), WIDE),
    (SYMMETRIC.T.copy(), SYMMETRIC),  # a symmetric matrix is its own transpose: nothing to say
    (WIDE + RNG.standard_normal(WIDE.shape), WIDE),
    (np.zeros_like(WIDE), WIDE),
    (WIDE * (1 + 1e-7), WIDE),
    (WIDE[:2], WIDE),
    (WIDE.reshape(5, 3), WIDE),  # the right shape for a transpose, not the transpose
    (with_nan(WIDE), with_nan(WIDE)),  # NaN where NaN is expected is not an overflow
    (np.array(["a"]), np.array(["b"])),
    (3.0, 2.5),
    ([1.0, [2.0, 3.0]], np.ones(2)),  # a ragged list: no diagnosis, and no exception
    (None, 2.5),
    ({"W1": 1.0}, VECTOR),
], ids=["correct", "symmetric", "unrelated", "zeros", "within_rounding", "wrong_shape",
        "reshaped", "nan_expected", "strings", "scalar_unrelated", "ragged_list", "none",
        "dict"])
def test_no_diagnosis(actual, expected):
    assert generic(actual, expected) is None


def test_a_given_tolerance_decides_what_is_close():
    noisy = -WIDE + 1e-4
    assert generic(noisy, WIDE) is None
    assert generic(noisy, WIDE, rtol=0.0, atol=1e-3) == NEGATED


def test_diagnosis_reaches_the_student_through_the_worker(grade_one):
    source = reference_source("linalg").replace("return float(np.dot(u, v))",
                                                "return -float(np.dot(u, v))")
    result = grade_one("linalg.dot", {"linalg.py": source})
    assert (result.status, result.score) == ("partial", 1.5)  # the raise and empty checks pass
    assert result.message.startswith("check 'small': dot for two vectors of length 3: got ")
    assert result.diagnosis == "your result has the wrong sign: check a minus sign"
