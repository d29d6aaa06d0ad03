"""Batch grading of a class: the per-submission step of ``grade`` run over many students.

Each student's results are committed to the gradebook as one transaction when that submission
finishes, so an interrupted batch keeps everything already graded, and running the same command
again grades only what is missing or changed (``regrade`` forces it). A submission that cannot be
read or graded becomes an error row for that student; the batch goes on. Only a failure of the
grader itself (a bug, not a student's code) makes :attr:`BatchSummary.grader_failures` non-zero.
"""

from __future__ import annotations

import concurrent.futures as futures
import contextlib
import functools
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from grader import __version__, class_report, devices, exports, intake, pool
from grader.catalog import Exercise, select
from grader.errors import GraderError
from grader.gradebook import Gradebook, config_fingerprint
from grader.grading import grade, warm_zygote
from grader.report import render_html, write
from grader.results import GradeResult
from grader.sandbox import parent
from grader.sandbox.parent import Limits

GRADEBOOK = "gradebook.sqlite"


@dataclass
class Outcome:
    """What happened to one student in this run."""

    student: str
    status: str  # "graded", "unchanged", "error", "grader_failure"
    score: float = 0.0
    max_score: float = 0.0
    message: str = ""


@dataclass
class BatchSummary:
    out_dir: Path
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    class_data: dict = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def grader_failures(self) -> int:
        return self.count("grader_failure")


def _grade_one(item: intake.Intake, exercises: list[Exercise], seed: int, limits: Limits,
               time_it: bool, device: str
               ) -> tuple[GradeResult | None, str | None, bool, float]:
    """(result, error, grader_failed, seconds) for one student; never raises."""
    start = time.monotonic()
    if item.error is not None:
        return None, item.error, False, 0.0
    try:
        result = grade(submission=item.submission, exercises=exercises, seed=seed,
                       limits=limits, time_it=time_it, device=device, ahead=True)
    except GraderError as exc:
        return None, exc.format_message(), False, time.monotonic() - start
    except Exception as exc:  # noqa: BLE001 - a grader bug costs this row, not the batch
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return None, f"internal grader error: {detail}", True, time.monotonic() - start
    return result, None, False, time.monotonic() - start


def _grade_and_report(item: intake.Intake, *, out: Path, exercises: list[Exercise], seed: int,
                      limits: Limits, time_it: bool, device: str
                      ) -> tuple[GradeResult | None, str | None, bool, float]:
    """:func:`_grade_one`, then that student's reports; never raises."""
    result, error, failed, seconds = _grade_one(item, exercises, seed, limits, time_it, device)
    try:
        write_student_reports(out, item.student, result, error)
    except Exception as exc:  # noqa: BLE001 - a full disk costs this row, visibly
        return None, f"internal grader error: could not write the reports: {exc}", True, seconds
    return result, error, failed, seconds


def _finished_in_threads(todo: list[intake.Intake], work: Callable, workers: int
                         ) -> Iterator[tuple[intake.Intake, tuple]]:
    """``(item, work(item))`` for every item, graded in ``workers`` threads of this process, in
    the order they finish (where grading processes cannot be forked, or one is enough)."""
    queue = iter(todo)
    with futures.ThreadPoolExecutor(max_workers=workers) as threads:
        # A bounded window of submissions in flight: each result is handed on and dropped as
        # it finishes, so memory does not grow with the size of the class.
        pending: dict[futures.Future, intake.Intake] = {}

        def submit_next() -> None:
            item = next(queue, None)
            if item is not None:
                pending[threads.submit(work, item)] = item

        for _ in range(2 * workers):
            submit_next()
        try:
            while pending:
                done, _ = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
                for fut in done:
                    item = pending.pop(fut)
                    yield item, fut.result()
                    submit_next()
        finally:
            for fut in pending:
                fut.cancel()


def student_dir(out_dir: Path, student: str) -> Path:
    return out_dir / "students" / student


def write_student_reports(out_dir: Path, student: str, result: GradeResult | None,
                          error: str | None) -> None:
    """Per-student feedback HTML and Gradescope results.json."""
    folder = student_dir(out_dir, student)
    if result is not None:
        write(folder / "feedback.html", render_html(result))
    exports.write_gradescope_for(result, error, folder / "results.json")


def run(*, submissions_dir: str | Path, out_dir: str | Path, workers: int | None = None,
        exercises: list[Exercise] | None = None, seed: int = 0, limits: Limits | None = None,
        regrade: bool = False, student: str | None = None, time_it: bool = False,
        device: str = "cpu", progress: Callable[[Outcome, int, int], None] | None = None
        ) -> BatchSummary:
    """Grade every submission in ``submissions_dir`` into ``out_dir`` (gradebook, reports).

    With more than one worker, submissions are graded in that many grading processes
    (:mod:`grader.pool`) where they can be forked, else in threads of this process; this
    process records each result as it comes.
    """
    started = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    exercises = list(exercises) if exercises is not None else select(())
    limits = limits or Limits()
    device = devices.resolve(device)
    workers = max(1, workers or os.cpu_count() or 1)
    in_processes = workers > 1 and pool.available()
    if not in_processes:
        warm_zygote(exercises)  # while the submissions are found and unpacked
    items = intake.discover(Path(submissions_dir), workdir=out / "_unpacked")
    if student is not None:
        items = [i for i in items if i.student == student]
        if not items:
            raise GraderError(f"no submission for student {student!r} in {submissions_dir}")
    book = Gradebook(out / GRADEBOOK)
    # Points, visibility and limits change verdicts too: a change regrades.
    config = config_fingerprint(exercises, limits, time_it, device)
    summary = BatchSummary(out)
    todo = []
    for item in items:
        if not regrade and item.error is None and not book.needs_grading(
                item.student, item.content_hash, __version__, seed, config=config):
            summary.outcomes.append(Outcome(item.student, "unchanged"))
        else:
            todo.append(item)
    work = functools.partial(_grade_and_report, out=out, exercises=exercises, seed=seed,
                             limits=limits, time_it=time_it, device=device)
    if in_processes and len(todo) > 1:
        finished = pool.finished(todo, work, workers)
    else:
        finished = _finished_in_threads(todo, work, workers)
    try:
        with contextlib.closing(finished):
            for item, (result, error, failed, seconds) in finished:
                book.record(item.student, item.content_hash, str(item.source), result,
                            error=error, seed=seed, device=device, duration=seconds,
                            config=config)
                summary.outcomes.append(Outcome(
                    item.student, "grader_failure" if failed else "error" if error else "graded",
                    result.score if result else 0.0, result.max_score if result else 0.0,
                    error or ""))
                if progress is not None:
                    progress(summary.outcomes[-1],
                             len(summary.outcomes) - (len(items) - len(todo)), len(todo))
    finally:
        parent.settle()  # the sandboxes of the last submissions are gone before the batch ends
    summary.class_data = write_class_outputs(out, book, exercises)
    summary.outcomes.sort(key=lambda o: o.student)
    summary.seconds = time.monotonic() - started
    return summary


def write_class_outputs(out: Path, book: Gradebook, exercises: list[Exercise]) -> dict:
    """grades.csv and the class report, from the gradebook alone (no regrading).

    Returns the class report's numbers (means per exercise, ...) for the summary table.
    """
    ids = [e.id for e in exercises]
    exports.write_grades_csv(book, out / "grades.csv", ids)
    data = class_report.gather(book, ids)
    write(out / "class_report.html", class_report.render(data))
    return data


def rerender(out_dir: str | Path, exercises: list[Exercise] | None = None) -> int:
    """``grader report``: every report again from the gradebook; the number of students."""
    out = Path(out_dir)
    if not (out / GRADEBOOK).exists():
        raise GraderError(f"no gradebook in {out}: run `grader batch SUBMISSIONS --out {out}` "
                          "first")
    book = Gradebook(out / GRADEBOOK)
    students = book.students()
    for student in students:
        result = book.load(student)
        write_student_reports(out, student, result, None if result else book.error(student))
    write_class_outputs(out, book, list(exercises) if exercises is not None else select(()))
    return len(students)
