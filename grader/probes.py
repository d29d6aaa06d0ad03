"""Probes of a check, judged in the grader's process as if a student had sent them: the known
mistakes its judge can name, replayed on its case, and trivial wrong answers. Used by
:mod:`grader.validate`; the rules are stated there.

Nothing here runs student code: a mistake's variant and the trivial answers are the bank's and
the grader's own computations, handed to the judge through :func:`grader.judges.judge_check`
as plain data (after the wire's round trip, as a worker would send them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import types
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from grader import catalog as catalog_mod
from grader.catalog import Case, Check
from grader.compare import compare
from grader.judges import CallResult, Mistake, Trial
from grader.sandbox import wire

# A trivial answer is "the right answer here" when it equals the expected value up to rounding
# (the transpose of a symmetric A^k computed in floating point, an identity from V diag V^-1).
RIGHT_RTOL = 1e-9
RIGHT_ATOL_SCALE = 1e-12
TRANSPOSED = "the expected value transposed"


@dataclass
class Probed:
    """What probing found: UNFIT reasons, warnings, and how many probes were handled right."""

    unfit: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    passed: int = 0


def short(text: object, limit: int = 400) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Warnings and floating-point errors off: a replayed mistake or a trivial answer computes
    on purpose what overflows, and under ``-W error`` a warning would look like a crash."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _judge(check: Check, case: Case, actual: list[CallResult], expected: list[CallResult]):
    from grader.judges import judge_check

    return judge_check(check, Trial(case, actual, list(expected)))


def _as_sent(value: Any, like: Any = None) -> Any:
    """A value as the worker would send it (the wire's round trip). Where the reference
    returned a tensor (``like``) and a replay computed an array, the array stands for a tensor
    with the reference's attributes: what a student's tensor of those values arrives as."""
    if isinstance(like, wire.TensorValue) and isinstance(value, np.ndarray):
        return dataclasses.replace(like, array=_as_sent(value).astype(like.array.dtype,
                                                                      copy=False))
    if isinstance(value, wire.TensorValue):
        return value
    if isinstance(value, (tuple, list)):
        likes = like if isinstance(like, (tuple, list)) and len(like) == len(value) else (
            [None] * len(value))
        return type(value)(_as_sent(v, w) for v, w in zip(value, likes))
    if isinstance(value, dict):
        likes = like if isinstance(like, dict) else {}
        return {k: _as_sent(v, likes.get(k)) for k, v in value.items()}
    obj, blobs = wire.encode(value)
    return wire.decode(obj, blobs)


# ----------------------------------------------------------------------------- mistakes

def reachable_mistakes(root: Any) -> list[Mistake]:
    """The Mistake objects a judge can reach: through closures, defaults, partials and the
    globals its code (and nested code) names, in the grader's own modules."""
    found: list[Mistake] = []
    seen: set[int] = set()
    stack = [root]
    while stack:  # depth first, in declaration order (reports list mistakes as declared)
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        refs: list[Any] = []
        if isinstance(obj, Mistake):
            found.append(obj)
        elif isinstance(obj, (tuple, list)):
            refs = list(obj)
        elif isinstance(obj, (set, frozenset)):
            refs = sorted(obj, key=repr)
        elif isinstance(obj, dict):
            refs = list(obj.values())
        elif isinstance(obj, functools.partial):
            refs = [obj.func, obj.args, obj.keywords]
        elif isinstance(obj, types.MethodType):
            refs = [obj.__func__]
        elif isinstance(obj, types.FunctionType) and _ours(obj):
            refs = _function_refs(obj)
        stack.extend(reversed(refs))
    return found


def _ours(func: types.FunctionType) -> bool:
    """A function of this project (the bank, the judges, a test), not of a library."""
    if (getattr(func, "__module__", None) or "").startswith("grader."):
        return True
    file = func.__code__.co_filename
    return file.startswith(str(catalog_mod.ROOT)) and "site-packages" not in file


def _function_refs(func: types.FunctionType) -> list[Any]:
    refs: list[Any] = []
    for cell in func.__closure__ or ():
        try:
            refs.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    refs.extend(func.__defaults__ or ())
    refs.extend((func.__kwdefaults__ or {}).values())
    if hasattr(func, "__wrapped__"):
        refs.append(func.__wrapped__)
    names = func.__globals__
    refs.extend(names[n] for n in _code_names(func.__code__) if n in names)
    return refs


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


@dataclass
class _Replay:
    """How one check judged one mistake: named (its own explanation), other (another
    diagnosis), silent (failed without one), error (the judge crashed) or passed."""

    outcome: str
    check: str
    detail: str = ""


_RANK = {"named": 0, "other": 1, "silent": 2, "error": 3, "passed": 4}


def _layouts(case: Case, expected: list[CallResult], value: Any) -> list[list[CallResult]]:
    """Where a variant's value goes in the student's results, best guesses first.

    A variant computes what the judged call returns, or one value per call of the case (a
    run of updates, a forward and a backward), or per call that sends a value, None where it
    shows no symptom; or a few alternatives, any of which the judge matches. The other calls
    keep the reference's results.
    """
    n = len(case.calls)
    sent = [i for i, c in enumerate(case.calls) if c.send]
    base = [CallResult(value=r.value, raised=r.raised) for r in expected]
    layouts = []
    if isinstance(value, (list, tuple)):
        for positions in dict.fromkeys((tuple(range(n)), tuple(sent))):
            if positions and len(value) == len(positions):
                actual = [dataclasses.replace(r) for r in base]
                for i, v in zip(positions, value):
                    if v is not None or expected[i].value is None:
                        actual[i] = CallResult(value=_as_sent(v, expected[i].value))
                layouts.append(actual)
    for i in reversed(sent or [n - 1]):
        actual = [dataclasses.replace(r) for r in base]
        actual[i] = CallResult(value=_as_sent(value, expected[i].value))
        layouts.append(actual)
    if isinstance(value, (list, tuple)):  # alternatives: "one of these replays"
        for v in value:
            for i in reversed(sent or [n - 1]):
                actual = [dataclasses.replace(r) for r in base]
                actual[i] = CallResult(value=_as_sent(v, expected[i].value))
                layouts.append(actual)
    return layouts


def _replay(mistake: Mistake, check: Check, case: Case, expected: list[CallResult]
            ) -> _Replay | None:
    """The best outcome of the mistake's variant on this check (None: it does not apply)."""
    try:
        with quiet():
            value = mistake.variant(case)
    except Exception as exc:  # noqa: BLE001 - it does not apply, or its symptom is raising
        return _replay_raise(mistake, check, case, expected, exc)
    best: _Replay | None = None
    for actual in _layouts(case, expected, value):
        outcome = _outcome(mistake, check, _judge(check, case, actual, expected))
        if best is None or _RANK[outcome.outcome] < _RANK[best.outcome]:
            best = outcome
        if best.outcome == "named":
            break
    return best


def _replay_raise(mistake: Mistake, check: Check, case: Case, expected: list[CallResult],
                  exc: Exception) -> _Replay | None:
    """A variant that raises may show its mistake as that exception (an absolute pivot
    threshold declaring an invertible matrix singular). Most raise where they do not apply,
    so this counts only where the judge names the mistake, with the exception as the
    worker reports it (its type and its builtin base classes)."""
    cls = type(exc)
    raised = {"type": cls.__name__, "message": str(exc), "where": [],
              "mro": [c.__name__ for c in cls.__mro__ if c.__module__ == "builtins"]}
    base = [CallResult(value=r.value, raised=r.raised) for r in expected]
    for i in reversed([i for i, c in enumerate(case.calls) if c.send] or [len(base) - 1]):
        actual = list(base)
        actual[i] = CallResult(raised=dict(raised))
        outcome = _outcome(mistake, check, _judge(check, case, actual, expected))
        if outcome.outcome == "named":
            return outcome
    return None


def _outcome(mistake: Mistake, check: Check, result: Any) -> _Replay:
    if result.status == "passed":
        return _Replay("passed", check.name)
    if result.status == "error":
        return _Replay("error", check.name, result.message)
    if result.diagnosis and mistake.explain in result.diagnosis:
        return _Replay("named", check.name)
    if result.diagnosis:
        return _Replay("other", check.name, result.diagnosis)
    return _Replay("silent", check.name, result.message)


def probe_mistakes(cases: list[tuple[Check, Case]], expected: list[list[CallResult]]
                   ) -> Probed:
    """Every mistake the checks' judges reach, replayed on each check's case; per mistake
    name, it must be caught with a diagnosis on at least one check where it applies.
    ``passed`` counts the mistakes diagnosed."""
    probed = Probed()
    replays: dict[str, list[_Replay]] = {}
    for (check, case), want in zip(cases, expected):
        for mistake in reachable_mistakes(check.judge):
            replays.setdefault(mistake.name, [])
            outcome = _replay(mistake, check, case, want)
            if outcome is not None:
                replays[mistake.name].append(outcome)
    for name, outcomes in replays.items():
        problem, warning = _mistake_verdict(name, outcomes)
        if problem:
            probed.unfit.append(problem)
        else:
            probed.passed += 1
        if warning:
            probed.warnings.append(warning)
    return probed


def _mistake_verdict(name: str, outcomes: list[_Replay]) -> tuple[str | None, str | None]:
    """(UNFIT reason, warning) for one mistake from its outcomes on every check it applies to."""
    kinds = {o.outcome for o in outcomes}
    crashed = next((o for o in outcomes if o.outcome == "error"), None)
    warning = (f"mistake '{name}': the judge of check '{crashed.check}' could not judge it "
               f"({short(crashed.detail, 200)})") if crashed else None
    if not outcomes:
        return (f"mistake '{name}' applies to no check: its variant raised on every case",
                None)
    if "named" in kinds:
        return None, warning
    if "other" in kinds:
        other = next(o for o in outcomes if o.outcome == "other")
        return None, (f"mistake '{name}' is caught but never named: check '{other.check}' "
                      f"explains it as {short(other.detail, 160)!r}")
    if "silent" in kinds:
        silent = next(o for o in outcomes if o.outcome == "silent")
        return (f"mistake '{name}' fails check '{silent.check}' without a diagnosis "
                f"({short(silent.detail, 200)})"), warning
    applies = ", ".join(sorted({o.check for o in outcomes}))
    return (f"mistake '{name}' is caught by no check: it passes {applies}"), warning


# ----------------------------------------------------------------------------- trivial answers

def _map(value: Any, leaf: Callable[[Any], Any]) -> Any:
    if isinstance(value, tuple):
        return tuple(_map(v, leaf) for v in value)
    if isinstance(value, list):
        return [_map(v, leaf) for v in value]
    if isinstance(value, dict):
        return {k: _map(v, leaf) for k, v in value.items()}
    return leaf(value)


def _zero(value: Any) -> Any:
    if isinstance(value, wire.TensorValue):
        return dataclasses.replace(value, array=np.zeros_like(value.array))
    if isinstance(value, np.ndarray):
        return np.zeros_like(value)
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, complex, np.number)):
        return type(value)(0)
    return value


def _transpose(value: Any) -> Any:
    if isinstance(value, wire.TensorValue) and value.array.ndim == 2:
        return dataclasses.replace(value, array=value.array.T.copy())
    if isinstance(value, np.ndarray) and value.ndim == 2:
        return value.T.copy()
    return value


def _has_2d(value: Any) -> bool:
    found = []
    _map(value, lambda v: found.append(
        isinstance(v, (np.ndarray, wire.TensorValue)) and np.ndim(getattr(v, "array", v)) == 2))
    return any(found)


def _first_input(call: Any) -> Any:
    for arg in (*call.args, *dict(call.kwargs).values()):
        if isinstance(arg, np.ndarray):
            return arg.copy()
        if isinstance(arg, wire.TensorInput):
            return wire.TensorValue(np.array(arg.array), "cpu", f"torch.{arg.dtype}",
                                    arg.requires_grad, False)
    return None


def trivial_answers(case: Case, expected: list[CallResult]) -> dict[str, list[Any]]:
    """Trivial wrong answers, as the value of each call (None for calls that send nothing)."""
    sent = [c.send for c in case.calls]
    wants = [r.value if r.raised is None else 0.0 for r in expected]
    answers = {"zeros like the expected value": [_map(w, _zero) for w in wants],
               "the constant 0.0": [0.0 for _ in wants]}
    inputs = [_first_input(c) for c in case.calls]
    if any(i is not None for i in inputs):
        answers["the first array input returned unchanged"] = [
            0.0 if i is None else i for i in inputs]
    if any(_has_2d(w) for w, s in zip(wants, sent) if s):
        answers[TRANSPOSED] = [_map(w, _transpose) for w in wants]
    return {name: [v if s else None for v, s in zip(values, sent)]
            for name, values in answers.items()}


def _is_expected(values: list[Any], case: Case, expected: list[CallResult]) -> bool:
    """Is a trivial answer the expected value, call by call, up to rounding?"""
    return all(call.send is False or (want.raised is None and _same(value, want.value))
               for value, call, want in zip(values, case.calls, expected))


def _same(value: Any, want: Any) -> bool:
    """Equal up to rounding: every leaf within RIGHT_RTOL, plus RIGHT_ATOL_SCALE times the
    leaf's largest |expected entry| (where a symmetric result's transpose differs)."""
    if isinstance(want, (tuple, list)):
        return (isinstance(value, (tuple, list)) and len(value) == len(want)
                and all(_same(v, w) for v, w in zip(value, want)))
    if isinstance(want, dict):
        return (isinstance(value, dict) and value.keys() == want.keys()
                and all(_same(value[k], want[k]) for k in want))
    if isinstance(want, wire.TensorValue):
        return isinstance(value, wire.TensorValue) and _same(value.array, want.array)
    if isinstance(want, (np.ndarray, np.number, int, float)) and not isinstance(want, bool):
        finite = np.abs(np.asarray(want, dtype=np.float64))
        finite = finite[np.isfinite(finite)]
        atol = RIGHT_ATOL_SCALE * float(finite.max()) if finite.size else 0.0
        return compare(value, want, rtol=RIGHT_RTOL, atol=atol, check_dtype=False) is None
    return compare(value, want, rtol=0.0, atol=0.0, check_dtype=False) is None


def _normal_transpose(values: list[Any], case: Case, expected: list[CallResult]) -> bool:
    """Is every 2-D leaf the transposed answer changed a normal matrix (E E^T = E^T E up to
    rounding: symmetric, orthogonal, a multiple of either)? Its transpose then has the same
    singular values and Gram matrix, and is often a right answer too (another orthonormal
    basis of a sphere's axes), which a judge comparing up to a change of basis accepts."""
    leaves: list[np.ndarray] = []
    for call, want in zip(case.calls, expected):
        if call.send and want.raised is None:
            _map(want.value, lambda v: leaves.append(np.asarray(getattr(v, "array", v)))
                 if np.ndim(getattr(v, "array", v)) == 2 else None)
    for leaf in leaves:
        if leaf.shape[0] != leaf.shape[1] or leaf.dtype.kind not in "biuf":
            return False
        e = leaf.astype(np.float64)
        scale = float(np.abs(e).max()) ** 2 * e.shape[0] if e.size else 0.0
        if not np.all(np.abs(e @ e.T - e.T @ e) <= RIGHT_RTOL * scale):
            return False
    return bool(leaves)


def probe_trivial(check: Check, case: Case, expected: list[CallResult]) -> Probed:
    """The trivial answers judged by the check; ``passed`` counts those it refuses."""
    probed = Probed()
    for name, values in trivial_answers(case, expected).items():
        actual = [CallResult(value=None if v is None else _as_sent(v)) for v in values]
        with quiet():
            result = _judge(check, case, actual, expected)
            right = _is_expected(values, case, expected)
            normal = (not right and name == TRANSPOSED
                      and _normal_transpose(values, case, expected))
        if right and name == TRANSPOSED:
            continue  # a symmetric answer: its transpose is no wrong answer at all
        if result.status == "error":
            probed.warnings.append(f"check '{check.name}': the judge could not judge {name} "
                                    f"({short(result.message, 200)})")
        elif result.status != "passed":
            probed.passed += 1
        elif right:
            probed.warnings.append(f"check '{check.name}' passes {name}, which is the right "
                                    "answer here: the check cannot tell it from a correct one")
        elif normal:
            probed.warnings.append(f"check '{check.name}' passes {name}, a normal matrix's "
                                    "transpose (symmetric or orthogonal up to scale): make sure "
                                    "the check accepts it on purpose (a basis of a subspace)")
        else:
            probed.unfit.append(f"check '{check.name}' passes a trivial wrong answer: {name} "
                                 "(its tolerance or judge is too loose)")
    return probed
