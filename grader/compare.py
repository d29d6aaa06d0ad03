"""The one comparison engine: structure, shape, dtype, NaN/Inf positions, then values.

:func:`compare` walks nested results (tuples, lists, dicts of arrays) and returns the first
:class:`Mismatch`, with the path of the failure (``grads['W1'][3, 2]``), or ``None``. Values
are close when ``|actual - expected| <= atol + rtol * |expected|`` elementwise, with ``rtol``
and ``atol`` taken together from :data:`TOLERANCES` by the expected dtype unless a check gives
both.

Every message is built from plain numbers, so it cannot raise whatever the student returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Number
from typing import Any

import numpy as np

from grader.sandbox.wire import Opaque, TensorValue

# (rtol, atol) by dtype, stated together (as torch.testing does).
TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-10),
    "float32": (1.3e-6, 1e-5),
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "complex128": (1e-7, 1e-10),
    "complex64": (1.3e-6, 1e-5),
}
_SHOW = 3


@dataclass(frozen=True)
class Mismatch:
    """Where and how a result differs from the expected one."""

    path: str
    kind: str  # "type", "length", "keys", "shape", "dtype", "nonfinite", "values"
    message: str
    max_abs: float | None = None
    max_rel: float | None = None
    count: int | None = None
    total: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def tolerance(dtype: np.dtype | str, rtol: float | None = None, atol: float | None = None
              ) -> tuple[float, float]:
    """``(rtol, atol)`` for ``dtype``; a caller gives both or neither."""
    if (rtol is None) != (atol is None):
        raise ValueError("give both rtol and atol, or neither")
    if rtol is not None:
        return rtol, atol
    name = np.dtype(dtype).name if str(dtype) != "bfloat16" else "bfloat16"
    return TOLERANCES.get(name, (0.0, 0.0))


def describe(value: Any) -> str:
    """A short, safe description of a value's kind: 'an array of shape (3, 4) float64'."""
    if isinstance(value, TensorValue):
        return f"a tensor of shape {tuple(value.array.shape)} {value.dtype} on {value.device}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} {value.dtype}"
    if isinstance(value, (bool, np.bool_)):
        return f"the bool {bool(value)}"
    if isinstance(value, np.generic):
        return f"a numpy {value.dtype} scalar"
    if isinstance(value, Number):
        return f"the {type(value).__name__} {value!r}"
    if value is None:
        return "None"
    if isinstance(value, str):
        return f"the str {value[:60]!r}" + ("..." if len(value) > 60 else "")
    if isinstance(value, Opaque):
        return f"an object of type {value.type_name}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(map(str, value))}"
    return f"a {type(value).__name__}"


def fmt(x: float) -> str:
    """A number as people read it in feedback."""
    if isinstance(x, (complex, np.complexfloating)):
        return f"{complex(x):.6g}"
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.6g}"


def _index(idx: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]" if idx else ""


def _is_real_scalar(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in "biuf"
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (complex, np.complexfloating))


def compare(actual: Any, expected: Any, *, rtol: float | None = None, atol: float | None = None,
            path: str = "", check_dtype: bool = True) -> Mismatch | None:
    """The first difference between ``actual`` and ``expected``, or ``None`` when they match."""
    if isinstance(expected, TensorValue):
        return _compare_tensor(actual, expected, rtol, atol, path, check_dtype)
    if isinstance(expected, (tuple, list)):
        return _compare_sequence(actual, expected, rtol, atol, path, check_dtype)
    if isinstance(expected, dict):
        return _compare_dict(actual, expected, rtol, atol, path, check_dtype)
    if isinstance(expected, np.ndarray) and expected.ndim > 0:
        if not isinstance(actual, np.ndarray):
            return Mismatch(path, "type", f"expected an array of shape {expected.shape}, "
                                          f"got {describe(actual)}")
        return compare_arrays(actual, expected, rtol=rtol, atol=atol, path=path,
                              check_dtype=check_dtype)
    if _is_real_scalar(expected) and not isinstance(expected, (bool, np.bool_)):
        if not _is_real_scalar(actual) or isinstance(actual, (bool, np.bool_)):
            return Mismatch(path, "type", f"expected a real scalar, got {describe(actual)}")
        dtype = np.asarray(expected).dtype
        rt, at = tolerance(dtype if dtype.kind == "f" else np.float64, rtol, atol)
        return compare_arrays(np.asarray(actual, dtype=np.float64),
                              np.asarray(expected, dtype=np.float64), rtol=rt, atol=at,
                              path=path, check_dtype=False)
    if isinstance(expected, (bool, np.bool_)):
        # np.True_ is a right answer where True is expected ((a == b).all() returns one).
        if isinstance(actual, (bool, np.bool_)) and bool(actual) == bool(expected):
            return None
    elif type(actual) is type(expected) and actual == expected:
        return None
    return Mismatch(path, "values", f"expected {describe(expected)}, got {describe(actual)}")


def _compare_sequence(actual, expected, rtol, atol, path, check_dtype) -> Mismatch | None:
    if not isinstance(actual, (tuple, list)):
        return Mismatch(path, "type", f"expected {describe(expected)}, got {describe(actual)}")
    if len(actual) != len(expected):
        return Mismatch(path, "length", f"expected {len(expected)} items, got {len(actual)}")
    for i, (a, e) in enumerate(zip(actual, expected)):
        found = compare(a, e, rtol=rtol, atol=atol, path=f"{path}[{i}]", check_dtype=check_dtype)
        if found:
            return found
    return None


def _compare_dict(actual, expected, rtol, atol, path, check_dtype) -> Mismatch | None:
    if not isinstance(actual, dict):
        return Mismatch(path, "type", f"expected {describe(expected)}, got {describe(actual)}")
    missing = [k for k in expected if k not in actual]
    if missing:
        got = ", ".join(sorted(map(repr, actual))) or "none"
        return Mismatch(path, "keys", f"missing key(s) {', '.join(map(repr, missing))}; "
                                      f"got keys {got}")
    for key, e in expected.items():
        found = compare(actual[key], e, rtol=rtol, atol=atol, path=f"{path}[{key!r}]",
                        check_dtype=check_dtype)
        if found:
            return found
    return None


def _compare_tensor(actual, expected: TensorValue, rtol, atol, path, check_dtype):
    if not isinstance(actual, TensorValue):
        return Mismatch(path, "type", f"expected a torch tensor, got {describe(actual)}")
    if actual.device != expected.device:
        return Mismatch(path, "device", f"the result is on {actual.device} but the input was on "
                                        f"{expected.device}: create new tensors with "
                                        "device=x.device")
    if check_dtype and actual.dtype != expected.dtype:
        return Mismatch(path, "dtype", f"dtype {actual.dtype}, expected {expected.dtype}")
    if expected.requires_grad and not actual.requires_grad:
        return Mismatch(path, "autograd", "the result is detached from autograd (requires_grad "
                                          "is False): avoid .detach(), .numpy() and in-place "
                                          "copies into new tensors")
    dtype = expected.dtype.replace("torch.", "")
    rt, at = tolerance(dtype, rtol, atol) if rtol is None else (rtol, atol)
    return compare_arrays(actual.array, expected.array, rtol=rt, atol=at, path=path,
                          check_dtype=False)


def compare_arrays(actual: np.ndarray, expected: np.ndarray, *, rtol: float | None = None,
                   atol: float | None = None, path: str = "", check_dtype: bool = True
                   ) -> Mismatch | None:
    """Shape, dtype, NaN/Inf positions, then values, in that order."""
    if actual.shape != expected.shape:
        return Mismatch(path, "shape", f"shape {actual.shape}, expected {expected.shape}")
    if check_dtype and actual.dtype != expected.dtype:
        hint = ""
        if expected.dtype == np.float64 and actual.dtype == np.float32:
            hint = ": float32 where float64 was expected (keep float64 throughout)"
        elif expected.dtype.kind == "f" and actual.dtype.kind in "biu":
            hint = ": integers where floats were expected (integer division or an int array?)"
        return Mismatch(path, "dtype", f"dtype {actual.dtype}, expected {expected.dtype}{hint}")
    if actual.dtype.kind not in "biufc" or expected.dtype.kind not in "biufc":
        if np.array_equal(actual, expected):
            return None
        return Mismatch(path, "values", f"expected {describe(expected)}, got {describe(actual)}")
    rt, at = tolerance(expected.dtype if expected.dtype.kind in "fc" else np.float64, rtol, atol)
    a = actual.astype(np.complex128 if actual.dtype.kind == "c" else np.float64, copy=False)
    e = expected.astype(np.complex128 if expected.dtype.kind == "c" else np.float64, copy=False)
    with np.errstate(all="ignore"):
        # The usual case first, in a few operations: every element finite and within the
        # tolerance (a finite bound everywhere means a finite expected value everywhere, and a
        # difference within it a finite answer).
        bound = at + rt * np.abs(e)
        if (np.abs(a - e) <= bound).all() and np.isfinite(bound).all():
            return None
    found = None if np.isfinite(a).all() and np.isfinite(e).all() else _nonfinite(a, e, path)
    if found:
        return found
    with np.errstate(all="ignore"):
        diff = np.abs(a - e)
        bad = ~(diff <= at + rt * np.abs(e))
        bad &= np.isfinite(e)
    count = int(bad.sum())
    if count == 0:
        return None
    with np.errstate(all="ignore"):  # relative to an expected 0, any difference is infinite
        rel = np.where(np.abs(e) > 0, diff / np.abs(e), np.where(diff > 0, np.inf, 0.0))
    masked = np.where(bad, diff, -1.0)
    worst = np.unravel_index(int(np.argmax(masked)), a.shape) if a.ndim else ()
    first = [tuple(int(i) for i in idx) for idx in np.argwhere(bad)[:_SHOW]]
    total = int(a.size)
    tol = f"rtol={rt:g}, atol={at:g}"
    if a.ndim == 0:
        return Mismatch(path, "values", f"got {fmt(a[()])}, expected {fmt(e[()])} (abs diff "
                                        f"{fmt(diff[()])}, rel diff {fmt(rel[()])}; {tol})",
                        max_abs=float(diff), max_rel=float(rel), count=1, total=1)
    where = f"{path}{_index(worst)}"
    msg = (f"{count} of {total} element{'s' if total != 1 else ''} differ "
           f"({100.0 * count / total:.1f}%)")
    msg += "; first at " + ", ".join(_index(i) for i in first) + ("..." if count > _SHOW else "")
    msg += (f"; worst at {where}: got {fmt(a[worst])}, expected {fmt(e[worst])} "
            f"(abs diff {fmt(diff[worst])}, rel diff {fmt(rel[worst])}; {tol})")
    return Mismatch(path, "values", msg, max_abs=float(np.max(diff[bad])),
                    max_rel=float(np.max(rel[bad])), count=count, total=total)


def _nonfinite(a: np.ndarray, e: np.ndarray, path: str) -> Mismatch | None:
    """NaN and Inf where they do not belong (an Inf of the wrong sign included)."""
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    with np.errstate(invalid="ignore"):
        cases = ((nan_a & ~nan_e, "with NaN where the expected value is {want}"),
                 (np.isinf(a) & np.isfinite(e), "with Inf where the expected value is finite"),
                 (~np.isfinite(e) & ~nan_a & (a != e),
                  "where the expected value is NaN or Inf and yours differs"))
    for wrong, text in cases:
        if not wrong.any():
            continue
        idx = tuple(int(i) for i in np.argwhere(wrong)[0]) if a.ndim else ()
        count = int(wrong.sum())
        want = "finite" if np.isfinite(e[idx]) else fmt(e[idx])
        where = f"first at {path}{_index(idx)}: " if a.ndim else ""
        return Mismatch(path, "nonfinite",
                        f"{count} element{'s' if count != 1 else ''} {text.format(want=want)}; "
                        f"{where}got {fmt(a[idx])}, expected {fmt(e[idx])}",
                        count=count, total=int(a.size))
    return None
