"""Generic diagnoses: common ways an array result goes wrong, named in plain terms.

They run in the grader's process on returned data, after a comparison failed, and only speak
when the student's result matches the transformed expected one within tolerance.
Exercise-specific mistakes (Adam without bias correction, ...) are declared with the exercise
as :class:`grader.judges.Mistake`.
"""

from __future__ import annotations

import numpy as np

from grader.compare import compare_arrays, fmt, tolerance


def _close(actual: np.ndarray, target: np.ndarray, rtol: float, atol: float) -> bool:
    return (actual.shape == target.shape
            and compare_arrays(actual, target, rtol=rtol, atol=atol, check_dtype=False) is None)


def generic(actual: object, expected: object, *, rtol: float | None = None,
            atol: float | None = None) -> str | None:
    """The first generic diagnosis that fits, or ``None``."""
    if not isinstance(actual, np.ndarray) or not isinstance(expected, np.ndarray):
        if _scalar_like(actual) and _scalar_like(expected):
            return _scalar(actual, expected)
        return None
    if actual.dtype.kind not in "biuf" or expected.dtype.kind not in "biuf":
        return None
    rt, at = tolerance(expected.dtype if expected.dtype.kind == "f" else np.float64, rtol, atol)
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    if a.shape != e.shape:  # a transpose, an axis of length 1, or the wrong axis reduced
        if e.ndim == 2 and a.shape == e.shape[::-1] and _close(a, e.T, rt, at):
            return "your result is the transpose of the expected one: check the order of the axes"
        squeezed = [d for d in a.shape if d != 1] == [d for d in e.shape if d != 1]
        if squeezed and _close(a.reshape(e.shape), e, rt, at):
            return (f"your values are right but the shape is {a.shape}, not {e.shape}: an extra "
                    "or missing axis of length 1 (keepdims=True, or a column vector where a "
                    "flat one was expected?)")
        if a.ndim == e.ndim == 1 and a.size != e.size:
            return (f"your result has {a.size} entries where {e.size} were expected: a sum or "
                    "mean over the wrong axis?")
        return None
    if np.isfinite(e).all() and not np.isfinite(a).all():
        return ("your result has NaN or Inf where the expected values are finite: look for an "
                "overflow (exp of a large number: subtract the maximum first), a division by "
                "zero or the log of zero")
    if e.ndim == 2 and not _close(e, e.T, rt, at) and _close(a, e.T, rt, at):
        return "your result is the transpose of the expected one: check the order of the axes"
    if e.size and np.any(e != 0) and _close(a, -e, rt, at):
        return "your result has the wrong sign everywhere: check a minus sign"
    factor = _factor(a, e)
    if factor is not None and _close(a, factor * e, rt, at):
        return (f"your result is the expected one times {fmt(factor)}: a missing or extra "
                "constant factor (a 1/N, a 2, a 1/(1-p)?)")
    if actual.dtype == np.float32 and expected.dtype == np.float64:
        return "your result is float32 where float64 was expected: keep float64 throughout"
    return None


def _factor(a: np.ndarray, e: np.ndarray) -> float | None:
    denom = float(np.vdot(e, e))
    if not np.isfinite(denom) or denom == 0 or not np.isfinite(a).all():
        return None
    c = float(np.vdot(e, a)) / denom
    if not np.isfinite(c) or c == 0 or abs(c - 1) < 1e-6:
        return None
    return c


def _scalar_like(value: object) -> bool:
    # Not np.ndim(value): it builds an array from whatever came back (a ragged list raises).
    if isinstance(value, np.ndarray):
        return value.ndim == 0
    return isinstance(value, (int, float, np.number, np.bool_))


def _scalar(actual: object, expected: object) -> str | None:
    try:
        a, e = float(actual), float(expected)
    except (TypeError, ValueError):
        return None
    if np.isfinite(e) and not np.isfinite(a):
        return ("your result is NaN or Inf where the expected value is finite: look for an "
                "overflow, a division by zero or the log of zero")
    if e != 0 and a == -e:
        return "your result has the wrong sign: check a minus sign"
    return None
