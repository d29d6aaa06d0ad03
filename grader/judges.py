"""Judges: small functions that turn a trial (student results, reference results) into a verdict.

A judge runs in the grader's process on plain data. It reads the student's value with
:meth:`Trial.got`; when the student's call raised instead, ``got`` raises :class:`StudentRaised`
and the grader turns it into a failing verdict that names the exception and the line. So a judge
only has to say what is right.

Exercise-specific known mistakes are :class:`Mistake` objects: a wrong variant of the solution,
computed here from the same inputs; when the student's result matches it, the feedback names
the mistake in the terms of the math.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from grader import diagnose
from grader.catalog import Case, Check, Verdict
from grader.compare import Mismatch, compare
from grader.results import CheckResult


@dataclass
class CallResult:
    """What one call did: its value, or the exception it raised (as plain data)."""

    value: Any = None
    raised: dict | None = None
    mutated: bool = False
    forbidden: tuple[str, ...] = ()
    missing: bool = False
    seconds: float = 0.0


class StudentRaised(Exception):
    """The student's call raised (or never ran) where a judge needed its value."""

    def __init__(self, func: str, result: CallResult) -> None:
        super().__init__(func)
        self.func = func
        self.result = result


@dataclass
class Trial:
    """One check's case with both sides' results, call by call."""

    case: Case
    actual: list[CallResult]
    expected: list[CallResult]

    def got(self, call: int = -1) -> Any:
        """The student's value of a call; raises :class:`StudentRaised` when there is none."""
        result = self.actual[call]
        if result.raised is not None or result.missing:
            raise StudentRaised(self.case.calls[call].name, result)
        return result.value

    def want(self, call: int = -1) -> Any:
        """The reference's value of a call."""
        result = self.expected[call]
        if result.raised is not None:
            raise RuntimeError(f"the reference raised {result.raised['type']}: "
                               f"{result.raised['message']}")
        return result.value

    def func(self, call: int = -1) -> str:
        return self.case.calls[call].name


@dataclass(frozen=True)
class Mistake:
    """A known wrong variant of the solution and how to explain it.

    ``variant(case) -> value`` computes the wrong answer from the case's inputs in the grader's
    process. ``explain`` is shown when the student's result matches the variant.
    """

    name: str
    explain: str
    variant: Callable[[Case], Any]
    rtol: float | None = None
    atol: float | None = None


def diagnose_mistakes(got: Any, case: Case, mistakes: tuple[Mistake, ...]) -> str | None:
    for mistake in mistakes:
        try:
            wrong = mistake.variant(case)
        except Exception:  # noqa: BLE001 - a variant that does not apply to these inputs
            continue
        if compare(got, wrong, rtol=mistake.rtol, atol=mistake.atol, check_dtype=False) is None:
            return mistake.explain
    return None


def explain_mismatch(trial: Trial, mismatch: Mismatch, got: Any, want: Any, *,
                     rtol: float | None, atol: float | None, mistakes: tuple[Mistake, ...],
                     call: int = -1) -> Verdict:
    """A failing verdict for a mismatch, with a known-mistake or generic diagnosis."""
    note = f" for {trial.case.note}" if trial.case.note else ""
    message = f"{trial.func(call)}{note}: {mismatch}"
    diagnosis = diagnose_mistakes(got, trial.case, mistakes)
    if diagnosis is None:
        a, e = _at_path(got, want, mismatch.path)
        diagnosis = diagnose.generic(a, e, rtol=rtol, atol=atol)
    return Verdict(False, message, diagnosis)


def _at_path(got: Any, want: Any, path: str) -> tuple[Any, Any]:
    """The sub-values at a mismatch path like ``[1]['W1']`` (best effort)."""
    import ast

    a, e = got, want
    rest = path
    while rest.startswith("["):
        end = rest.index("]")
        try:
            key = ast.literal_eval(rest[1:end])
            a, e = a[key], e[key]
        except Exception:  # noqa: BLE001 - an index into the array itself: stop here
            break
        rest = rest[end + 1:]
    return a, e


def matches(*, rtol: float | None = None, atol: float | None = None, call: int = -1,
            mistakes: tuple[Mistake, ...] = (), check_dtype: bool = True
            ) -> Callable[[Trial], Verdict]:
    """Judge: the student's result of ``call`` equals the reference's within tolerance."""

    def judge(trial: Trial) -> Verdict:
        got, want = trial.got(call), trial.want(call)
        mismatch = compare(got, want, rtol=rtol, atol=atol, check_dtype=check_dtype)
        if mismatch is None:
            return Verdict(True)
        return explain_mismatch(trial, mismatch, got, want, rtol=rtol, atol=atol,
                                mistakes=mistakes, call=call)

    return judge


def raises(exc_name: str, *, call: int = -1, why: str = "") -> Callable[[Trial], Verdict]:
    """Judge: the student's call raises ``exc_name`` (or a subclass of it)."""

    def judge(trial: Trial) -> Verdict:
        result = trial.actual[call]
        note = f" for {trial.case.note}" if trial.case.note else ""
        if result.raised is not None and exc_name in result.raised.get("mro", ()):
            return Verdict(True)
        if result.raised is not None:
            got = f"raised {result.raised['type']}: {result.raised['message']}"
        else:
            from grader.compare import describe

            got = f"returned {describe(result.value)}"
        return Verdict(False, f"{trial.func(call)}{note} should raise {exc_name}"
                              f"{': ' + why if why else ''}; it {got}")

    return judge


def all_of(*judges: Callable[[Trial], Verdict]) -> Callable[[Trial], Verdict]:
    """Judge: every judge passes; the first failure is the verdict."""

    def judge(trial: Trial) -> Verdict:
        for each in judges:
            verdict = each(trial)
            if not verdict.passed:
                return verdict
        return Verdict(True)

    return judge


def as_float_array(value: Any) -> np.ndarray | None:
    """A real-valued array of a returned value, or None when it is not one."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.astype(np.float64)
    return None


# ----------------------------------------------------------------------------- a check's verdict

def where(raised: dict) -> str:
    """Where a raise happened, from the worker's last frame: ` (file, line N, in f: `code`)`."""
    frames = raised.get("where") or []
    if not frames:
        return ""
    file, line, func, text = frames[-1]
    code = f": `{text.strip()}`" if text else ""
    return f" ({file}, line {line}, in {func}{code})"


def describe_raise(func: str, raised: dict) -> str:
    return f"{func} raised {raised['type']}: {raised['message']}{where(raised)}"


def _not_implemented(results: list[CallResult]) -> bool:
    return any(r.raised and "NotImplementedError" in r.raised.get("mro", ()) for r in results)


def judge_check(check: Check, trial: Trial) -> CheckResult:
    """The verdict of one check, failing closed on anything unexpected."""
    result = CheckResult(check.name, check.points, "failed", hidden=check.hidden,
                         about=check.about)
    forbidden = sorted({f for r in trial.actual for f in r.forbidden} | {
        f for r in trial.actual if r.raised for f in r.raised.get("forbidden", ())})
    if any(r.mutated for r in trial.actual):
        result.mutated = True
        result.notes.append("your function changed its input arrays in place; the grader used "
                            "fresh copies, but a caller would see its data changed")
    if forbidden:
        result.message = (f"uses {', '.join(forbidden)}, which this exercise does not allow "
                          "(an honesty check): compute it from the math in the docstring")
        return result
    if _not_implemented(trial.actual):
        result.status = "not_implemented"
        result.message = "not implemented yet (raises NotImplementedError)"
        return result
    try:
        # Overflow in a student's NaN-filled result is the judge's business, not a warning.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            verdict = check.judge(trial)
    except StudentRaised as exc:
        if exc.result.missing:
            result.message = f"{exc.func} was not called: an earlier call of this check failed"
        else:
            result.message = describe_raise(exc.func, exc.result.raised)
        return result
    except Exception as exc:  # noqa: BLE001 - fail closed, visibly
        result.status = "error"
        result.message = f"the grader could not judge this check ({type(exc).__name__}: {exc})"
        return result
    result.status = "passed" if verdict.passed else "failed"
    result.score = float(check.points) if verdict.passed else 0.0
    result.message = verdict.message
    result.diagnosis = verdict.diagnosis
    return result
