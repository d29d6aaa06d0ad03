"""Grading one submission: a pure function of (submission, catalog, seed, limits) -> results.

For each exercise: build every check's inputs from its seeded generator; compute the expected
results with the reference in this (trusted) process; run the same calls for the student in a
worker (:mod:`grader.student_calls`; :class:`Sandboxes` says which worker); judge each check
here (:func:`grader.judges.judge_check`); time student against reference; score, failing
closed.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import importlib.util
import os
import threading
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from grader import __version__, devices, frozen
from grader.catalog import (ROOT, SOLUTIONS_DIR, Call, Case, Check, Exercise, reference_module,
                            select)
from grader.errors import SandboxError
from grader.judges import CallResult, Trial, judge_check, where
from grader.results import CheckResult, ExerciseResult, GradeResult, TimingResult
from grader.sandbox import confine, wire
from grader.sandbox.parent import Limits, Session, Worker, WorkerFailure, zygote
from grader.student_calls import run_student_cases
from grader.submission import Submission, locate
from grader import timing as timing_mod



@functools.lru_cache(maxsize=None)
def _reference(topic: str) -> ModuleType:
    return reference_module(topic)


# ----------------------------------------------------------------------------- reference side

def _resolve(value: Any, outputs: list[Any], module: ModuleType) -> Any:
    """A call's argument as the reference takes it: earlier results, tensors (on the CPU: this
    process never initialises CUDA), the check's functions."""
    if isinstance(value, wire.Out):
        result = outputs[value.call]
        for key in value.path:
            result = result[key]
        return result
    if isinstance(value, wire.TensorInput):
        import torch  # only torch exercises have tensor inputs

        tensor = torch.as_tensor(value.array, dtype=getattr(torch, value.dtype))
        return tensor.requires_grad_(value.requires_grad)
    if isinstance(value, wire.Fn):
        return wire.build_function(value, module)
    if isinstance(value, tuple):
        return tuple(_resolve(v, outputs, module) for v in value)
    if isinstance(value, list):
        return [_resolve(v, outputs, module) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, outputs, module) for k, v in value.items()}
    return value


def run_reference(module: ModuleType, case: Case) -> list[CallResult]:
    """The reference's results for a case, on pristine copies of its inputs, as plain data."""
    outputs: list[Any] = []
    results: list[CallResult] = []
    for index, call in enumerate(case.calls):
        try:
            args = _resolve(copy.deepcopy(call.args), outputs, module)
            kwargs = _resolve(copy.deepcopy(dict(call.kwargs)), outputs, module)
        except (TypeError, KeyError, IndexError, AttributeError):
            # An earlier call raised or returned no such item: as in the worker, this call and
            # the later ones were not made (replays of wrong code in the grader get here).
            results += [CallResult(missing=True) for _ in case.calls[index:]]
            break
        func = _resolve(call.func, outputs, module) if isinstance(call.func, wire.Fn) else (
            getattr(module, call.func))
        try:
            value = func(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - an expected exception (e.g. ValueError)
            outputs.append(None)
            results.append(CallResult(raised={"type": type(exc).__name__,
                                              "mro": [c.__name__ for c in type(exc).__mro__],
                                              "message": str(exc)}))
            continue
        outputs.append(value)
        picked = value
        for key in call.pick:
            picked = picked[key]
        # The same round trip as the student's value, so both sides are the same kinds of data.
        obj, blobs = wire.encode(picked if call.send else None)
        results.append(CallResult(value=wire.decode(obj, blobs)))
    return results


@functools.lru_cache(maxsize=256)
def _prepared(exercise: Exercise, seed: int, hidden: bool
              ) -> tuple[list[tuple[Check, Case]], list[list[CallResult]]]:
    """Cases and expected results: the same for every submission graded with this seed.

    In a student bundle the expected results are the frozen ones (:mod:`grader.frozen`).
    """
    cases = [(check, check.build(exercise.check_rng(check, seed)))
             for check in exercise.checks if hidden or not check.hidden]
    if frozen.is_bundle():
        return cases, [_frozen_expected(exercise, case) for _, case in cases]
    reference = _reference(exercise.topic)
    return cases, [run_reference(reference, case) for _, case in cases]


def _frozen_expected(exercise: Exercise, case: Case) -> list[CallResult]:
    try:
        stored = frozen.expected(exercise.id, frozen.case_digest(case))
    except frozen.FrozenMissing:
        why = {"type": "FrozenMissing", "mro": ["FrozenMissing"],
               "message": "this bundle has no expected results for these inputs (were they "
                          "generated with another seed or numpy version than the release?)"}
        return [CallResult(raised=why) for _ in case.calls]
    return [CallResult(value=r.get("value"), raised=r.get("raised")) for r in stored]


# ----------------------------------------------------------------------------- one exercise

def _display(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    return _display_from(str(path), os.getcwd())


@functools.lru_cache(maxsize=4096)
def _display_from(path: str, cwd: str) -> str:
    # Cached: resolving stats every folder of both paths, for each message that names a file.
    try:
        return str(Path(path).resolve().relative_to(Path(cwd).resolve()))
    except ValueError:
        return path


def _student_config(exercise: Exercise, device: str) -> dict:
    return {"forbidden": list(exercise.forbidden), "strip_paths": [str(ROOT)],
            "device": _runner_device(exercise, device)}


def _import(worker: Worker, exercise: Exercise, name: str, *, student: bool = True) -> dict:
    """Import module ``name`` from the worker's copies (it never sees the originals); in a
    student's worker, this starts the exercise (its forbidden calls)."""
    _send_import(worker, exercise, name, student=student)
    header, _ = worker.receive()
    return header


def _send_import(worker: Worker, exercise: Exercise, name: str, *, student: bool = True
                 ) -> None:
    request = {"op": "import", "file": str(worker.source_dir / f"{name}.py"), "name": name,
               "functions": list(exercise.functions)}
    if student:
        request["forbidden"] = list(exercise.forbidden)
    worker.send(request)


def _import_failure(result: ExerciseResult, header: dict, file: Path) -> ExerciseResult:
    err = header["error"]
    if "line" in err and err["type"] in ("SyntaxError", "IndentationError", "TabError"):
        result.message = (f"{_display(file)}, line {err['line']}: {err['type']}: "
                          f"{err['message']}; fix it and grade again")
    elif err.get("base"):
        result.message = (f"importing {_display(file)} ended the program: "
                          f"{err['message'] or err['type']}")
    else:
        result.message = (f"importing {_display(file)} raised {err['type']}: {err['message']}"
                          f"{where(err)}")
    result.status = "error"
    return result


def _runner_device(exercise: Exercise, device: str) -> str:
    return device if exercise.framework == "torch" else "cpu"


class Sandboxes:
    """The sandbox sessions of one submission's grading: the student's (all its exercises'
    workers, confined once) and, opened when first needed, the reference's for timing.

    With ``share``, a worker grades the next exercise too (one worker per device) as long as
    it is alive and nothing the last exercise started is left running in it, instead of a
    fresh worker per exercise: each exercise still executes the student's module afresh, and
    :func:`grade_exercise` grades again, in a fresh worker, any exercise that failed in a
    worker that had graded another before. So every verdict short of a pass (or of "not
    implemented", which the stub's own ``raise`` decides) is the one a worker of its own
    gives: what one exercise's code does to its process costs no other exercise a point. The
    reference's workers (trusted code) are always shared.
    """

    def __init__(self, submission: Submission, exercises: list[Exercise],
                 limits: Limits, *, share: bool = False, ahead: bool = False) -> None:
        zyg = zygote()
        if any(e.framework == "torch" for e in exercises):
            zyg.preload(["torch"])  # before the session forks: its workers inherit it
        self.limits = limits
        self.share = share
        # A shared worker has the stand-ins of every exercise's forbidden calls; each exercise
        # turns on its own (runner.Runner.active_forbidden).
        self.forbidden = sorted({f for e in exercises for f in e.forbidden})
        self.ahead = ahead
        self.student: Session = zyg.session(sources=submission.sources(), limits=limits,
                                            ahead=ahead)
        self._reference: Session | None = None
        self._workers: dict[str, Worker] = {}  # runner device -> the worker for the next one
        self._references: dict[str, Worker] = {}

    def reference(self) -> Session:
        if self._reference is None:
            self._reference = zygote().session(sources=sorted(SOLUTIONS_DIR.glob("*.py")),
                                               limits=self.limits)
        return self._reference

    def student_worker(self, exercise: Exercise, device: str, *, fresh: bool = False
                       ) -> tuple[Worker, bool]:
        """A worker for ``exercise`` and whether it is fresh (has graded nothing before)."""
        kept = self._workers.pop(_runner_device(exercise, device), None)
        if kept is not None:
            if not fresh:
                return kept, False
            _retire(kept)
        config = _student_config(exercise, device)
        if self.share:
            config["forbidden"] = self.forbidden
        return self.student.spawn(config, self.limits), True

    def finish(self, worker: Worker, exercise: Exercise, device: str, *, keep: bool
               ) -> tuple[str, bool]:
        """What the student's code printed during the exercise just graded, and whether it
        hit the output limit; the worker is kept for the next exercise when ``keep``, sharing
        is on, and nothing of the exercise is left running (else it ends here)."""
        keep = keep and self.share
        if not keep:
            worker.close()  # the runner exits: what it still had to print is in the file
        output = worker.output()
        if keep and not output[1] and worker.is_clean(meanwhile=self._swept_clean):
            self._workers[_runner_device(exercise, device)] = worker
            return output
        if keep:
            worker.close()
        worker.cleanup()
        return output

    def _swept_clean(self) -> bool:
        """Whether no process the student's code started was left in the session (any there
        was is killed now)."""
        try:
            return self.student.sweep() == 0
        except SandboxError:  # the session's init is gone: the next spawn says so
            return False

    def reference_worker(self, device: str) -> Worker:
        worker = self._references.get(device)
        if worker is None:
            worker = self.reference().spawn({"device": device}, self.limits)
            self._references[device] = worker
        return worker

    def drop_reference(self, device: str) -> None:
        worker = self._references.pop(device, None)
        if worker is not None:
            _retire(worker)

    def close(self) -> None:
        """End the sessions; with ``ahead``, their end is confirmed in the background
        (:meth:`grader.sandbox.parent.Zygote.settle`)."""
        # Sessions first: their init ends the workers and forks no runner for a next exercise.
        self.student.close(wait=not self.ahead)
        if self._reference is not None:
            self._reference.close(wait=not self.ahead)
        for worker in [*self._workers.values(), *self._references.values()]:
            worker.close()


def _retire(worker: Worker) -> None:
    worker.close()
    worker.cleanup()


def grade_exercise(exercise: Exercise, submission: Submission, *, seed: int = 0,
                   limits: Limits = Limits(), hidden: bool = True, time_it: bool = True,
                   sandboxes: Sandboxes | None = None, device: str = "cpu") -> ExerciseResult:
    """Grade one exercise of one submission (in ``sandboxes``, or in sessions of its own);
    ``device`` is a resolved grading device (:func:`grader.devices.resolve`)."""
    checks = [c for c in exercise.checks if hidden or not c.hidden]
    result = ExerciseResult(exercise.id, exercise.title, float(sum(c.points for c in checks)),
                            "missing")
    file = submission.file_for(exercise)
    if file is None:
        result.message = submission.describe_missing(exercise)
        return result
    result.file = _display(file)
    if exercise.framework == "torch" and importlib.util.find_spec("torch") is None:
        result.status = "error"
        result.message = ("this exercise needs torch, which is not installed here: "
                          "pip install \"torch==2.13.0\" (the CPU build), then grade again")
        return result
    cases, expected = _prepared(exercise, seed, hidden)
    if device != "cpu":
        expected = [[dataclasses.replace(r, value=devices.relabel(r.value, device)) for r in rs]
                    for rs in expected]
    own = sandboxes is None
    boxes = Sandboxes(submission, [exercise], limits) if own else sandboxes
    attempt = functools.partial(_attempt, exercise, submission, file, cases, expected, boxes,
                                dataclasses.replace(result), seed=seed, limits=limits,
                                time_it=time_it, device=device)
    try:
        result, fresh, final = attempt(fresh=False)
        if not (fresh or final):
            # Graded after another exercise in the same worker, and not a clean pass (nor "not
            # implemented"): the verdict is the one a worker of its own gives.
            result, _, _ = attempt(fresh=True)
    finally:
        if own:
            boxes.close()
    return result


def _attempt(exercise: Exercise, submission: Submission, file: Path,
             cases: list[tuple[Check, Case]], expected: list[list[CallResult]],
             boxes: Sandboxes, blank: ExerciseResult, *, seed: int, limits: Limits,
             time_it: bool, device: str, fresh: bool) -> tuple[ExerciseResult, bool, bool]:
    """Grade the exercise in a worker of ``boxes`` (a fresh one when ``fresh``): the result,
    whether the worker was fresh, and whether the verdict stands wherever it was reached (the
    exercise passed cleanly, or is not implemented)."""
    result = dataclasses.replace(blank, checks=[])
    worker, fresh = boxes.student_worker(exercise, device, fresh=fresh)
    final = graded = False
    try:
        _run_checks(exercise, worker, file, submission.module_name(exercise), cases,
                    expected, result, device)
        if time_it and exercise.timing is not None and result.status in (
                "passed", "partial", "failed"):
            mutates = any(c.mutated for c in result.checks)
            result.timing = _time(exercise, worker, boxes, seed, mutates, device)
        _judge_speed(exercise, result, file, time_it)
        final = result.status == "not_implemented" or result.status == "passed" and not (
            result.timing is not None and (result.timing.slow or result.timing.scales_differently))
        graded = True
    finally:
        # Whatever the verdict, a worker still alive with nothing left running in it may grade
        # the next exercise: a failure there is graded again in a fresh worker anyway.
        result.output, result.output_truncated = boxes.finish(worker, exercise, device,
                                                              keep=graded)
    if result.output_truncated:
        final = False
        _fail_exercise(result, f"printed more than {size_text(limits.output_bytes)}; output "
                               "truncated")
    return result, fresh, final


def _skip_rest(result: ExerciseResult, cases: list[tuple[Check, Case]], why: str) -> None:
    """The checks that never ran, listed as skipped (they score nothing)."""
    for check, _ in cases[len(result.checks):]:
        result.checks.append(CheckResult(check.name, check.points, "skipped",
                                         hidden=check.hidden, about=check.about, message=why))


def _fail_exercise(result: ExerciseResult, message: str) -> None:
    result.status = "error"
    result.message = message
    result.score = 0.0
    for check in result.checks:
        check.score = 0.0


def _run_checks(exercise: Exercise, worker: Worker, file: Path, module: str,
                cases: list[tuple[Check, Case]], expected: list[list[CallResult]],
                result: ExerciseResult, device: str) -> None:
    func = exercise.functions[0]
    imported = False
    try:
        # The import and the cases go together; the cases wait in the worker behind the import
        # (a round trip less per exercise). A speed check is judged from the timing, after the
        # others: it makes no calls.
        _send_import(worker, exercise, module)
        replies = run_student_cases(worker, [case for check, case in cases
                                             if check.speed_within is None], device)
        header, _ = worker.receive()
        if "error" in header or header["missing"]:
            try:  # the worker ran none of them (no module) or could not (no such function)
                replies.drain()
            except WorkerFailure:
                pass  # not kept for another exercise (see Sandboxes.finish)
        if "error" in header:
            _import_failure(result, header, file)
            return
        if header["missing"]:
            result.message = (f"{_display(file)} does not define "
                              f"{', '.join(header['missing'])}")
            return
        imported = True
        for index, (check, case) in enumerate(cases):
            if check.speed_within is not None:
                result.checks.append(CheckResult(check.name, check.points, "skipped",
                                                 hidden=check.hidden, about=check.about))
                continue
            actual = next(replies)
            limit = _limit_hit(actual, worker.limits)
            if limit is not None:
                _fail_exercise(result, f"{exercise.id} {limit} during check '{check.name}'")
                return
            base = next((r.raised for r in actual if r.raised and r.raised.get("base")), None)
            if base is not None:
                what = base["message"] if base["type"] == "SystemExit" else base["type"]
                _fail_exercise(result, f"{func} ended the program during check "
                                       f"'{check.name}': {what}")
                _skip_rest(result, cases, what)
                return
            result.checks.append(judge_check(check, Trial(case, actual, expected[index])))
    except WorkerFailure as failure:
        if not imported:
            _fail_exercise(result, f"{exercise.id} {failure.cause} while importing "
                                   f"{_display(file)}")
        else:
            name = cases[len(result.checks)][0].name if len(result.checks) < len(cases) else ""
            during = f" during check '{name}'" if name else ""
            _fail_exercise(result, f"{exercise.id} {failure.cause}{during}")
        _skip_rest(result, cases, failure.cause)
        return
    _score(exercise, result, file)


def size_text(n: int) -> str:
    """Bytes as people say them: 1 MiB, 512 KiB, 4 GiB."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


def _limit_hit(actual: list[CallResult], limits: Limits) -> str | None:
    """A resource limit the student's code ran into (it raised because of it), in words."""
    for r in actual:
        raised = r.raised or {}
        if "MemoryError" in raised.get("mro", ()):
            return f"exceeded the {size_text(limits.memory_bytes)} memory limit"
        if "OSError" in raised.get("mro", ()) and "File too large" in raised.get("message", ""):
            return f"wrote a file larger than the {size_text(limits.output_bytes)} limit"
    return None


def _judge_speed(exercise: Exercise, result: ExerciseResult, file: Path, time_it: bool
                 ) -> None:
    """Speed checks (:func:`grader.catalog.speed_check`), from the timing; fail closed."""
    within = {c.name: c.speed_within for c in exercise.checks if c.speed_within is not None}
    speed = [c for c in result.checks if c.name in within]
    if not speed or result.status not in ("passed", "partial", "failed"):
        return
    timing = result.timing
    for check in speed:
        limit = within[check.name]
        if timing is None:
            check.message = ("not timed (graded with --no-timing): speed points need the timing"
                             if not time_it else "the timing against the reference could not "
                             "be measured here, so speed points cannot be given")
        else:
            ok = timing.ratio <= limit
            check.status, check.score = ("passed", check.points) if ok else ("failed", 0.0)
            check.message = (f"{timing.ratio:.1f}x the reference's time per call"
                             + (f", within {limit:g}x" if ok else
                                f"; the points need {limit:g}x or less ({timing.advice})"))
    _score(exercise, result, file)


def _score(exercise: Exercise, result: ExerciseResult, file: Path) -> None:
    result.score = round(sum(c.score for c in result.checks), 6)
    # A skipped check here is a speed check waiting for (or without) the timing.
    statuses = {c.status for c in result.checks} - {"skipped"}
    if statuses == {"not_implemented"}:
        result.status = "not_implemented"
        result.message = (f"not implemented yet: write {', '.join(exercise.functions)} in "
                          f"{_display(file)} (it still raises NotImplementedError)")
        return
    if statuses == {"passed"} and all(c.status == "passed" for c in result.checks):
        result.status = "passed"
        result.message = f"all {len(result.checks)} checks passed"
        return
    result.status = "partial" if result.score > 0 else "failed"
    first = next(c for c in result.checks if c.status != "passed")
    result.message = f"check '{first.name}': {first.message}"
    result.diagnosis = first.diagnosis


def _time(exercise: Exercise, worker: Worker, boxes: Sandboxes, seed: int, mutates: bool,
          device: str) -> TimingResult | None:
    spec = exercise.timing
    call = _placed(spec.build(exercise.check_rng(exercise.checks[0], seed + 1)), device)
    ref_file = SOLUTIONS_DIR / f"{exercise.topic}.py"
    if not ref_file.is_file():
        return None  # the student bundle has no reference to time against
    runner_device = _runner_device(exercise, device)
    reference = boxes.reference_worker(runner_device)
    try:
        header = _import(reference, exercise, exercise.topic, student=False)
        if "error" in header:
            return None
        student_s, reference_s = timing_mod.interleaved(worker, reference, call,
                                                        copy_inputs=mutates)
        exponents = None
        if spec.scaling is not None:
            rng = exercise.check_rng(exercise.checks[0], seed + 2)
            sizes = list(spec.scaling.sizes)
            calls = [_placed(spec.scaling.build(rng, n), device) for n in sizes]
            exponents = timing_mod.scaling(worker, reference, calls, sizes,
                                           copy_inputs=mutates)
    except Exception:  # noqa: BLE001 - timing is feedback: a forged or failed one is dropped
        boxes.drop_reference(runner_device)  # a fresh one for the next exercise
        return None
    ratio = student_s / reference_s if reference_s > 0 else float("inf")
    result = TimingResult(student_s, reference_s, ratio, ratio > spec.slow_ratio, spec.advice)
    if exponents is not None:
        result.size_name = spec.scaling.size_name
        result.student_exponent, result.reference_exponent = (round(k, 2) for k in exponents)
        result.scales_differently = abs(exponents[0] - exponents[1]) > spec.scaling.tolerance
    return result


def _placed(call: Call, device: str) -> Call:
    return dataclasses.replace(call, args=devices.place(call.args, device),
                               kwargs=devices.place(dict(call.kwargs), device))


# ----------------------------------------------------------------------------- a submission

def warm_zygote(exercises: list[Exercise]) -> None:
    """Start the zygote (with torch when an exercise needs it) in the background: whatever the
    caller does meanwhile (finding submissions, computing references) overlaps its start."""
    threading.Thread(target=_warm_zygote, args=(exercises,), daemon=True).start()


def _warm_zygote(exercises: list[Exercise]) -> None:
    try:
        zyg = zygote()
        if any(e.framework == "torch" for e in exercises):
            zyg.preload(["torch"])
    except Exception:  # noqa: BLE001 - the first spawn raises the same error, visibly
        pass


def grade(*, submission: str | Path | None = None, ids: tuple[str, ...] | list[str] = (),
          exercises: list[Exercise] | None = None, seed: int = 0, limits: Limits | None = None,
          hidden: bool = True, time_it: bool = True, device: str = "cpu",
          progress: Callable[[ExerciseResult], None] | None = None,
          ahead: bool = False) -> GradeResult:
    """Grade a submission (default: ``./exercises``).

    The exercises are ``exercises`` when given (an assignment's, see :mod:`grader.course`),
    else those selected by ``ids`` (ids or topics; every exercise when empty). Torch exercises'
    inputs go to ``device`` (``cpu``, ``cuda`` or ``auto``, see :mod:`grader.devices`).
    ``ahead`` (a batch: more submissions follow): the next submission's sandbox starts now,
    and this one's end is confirmed in the background; the caller then calls
    :func:`grader.sandbox.parent.settle` when done, after which nothing of any submission
    runs.
    """
    device = devices.resolve(device)
    exercises = list(exercises) if exercises is not None else select(ids)
    sub = locate(submission)
    confine.protect_grader()
    limits = limits or Limits()
    warm_zygote(exercises)  # while this process computes the first references
    results = []
    boxes = Sandboxes(sub, exercises, limits, share=True, ahead=ahead)
    try:
        for exercise in exercises:
            res = grade_exercise(exercise, sub, seed=seed, limits=limits, hidden=hidden,
                                 time_it=time_it, sandboxes=boxes, device=device)
            results.append(res)
            if progress is not None:
                progress(res)
    finally:
        boxes.close()
    notes = list(sub.notes)  # what a notebook's conversion left out (grader.notebook)
    if frozen.is_bundle():
        notes.append("This is the student bundle: only the public checks run here. Hidden checks "
                     "run when your submission is graded, and speed is compared with the "
                     "reference there.")
    return GradeResult(_display(sub.path), seed, __version__, results, zygote().protections,
                       notes, device=device)
