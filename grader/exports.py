"""Exports for other grading platforms, drawn from structured results (never from report text).

- :func:`write_grades_csv`: the class's points per exercise, one row per student, for an LMS
  gradebook import (Canvas, Moodle, Blackboard; see ``docs/exports.md``).
- :func:`gradescope_results`: one submission as a Gradescope autograder ``results.json``.

Every file is written to a temporary name and renamed into place, so an interrupted export
never leaves half a file for someone to upload.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import uuid
from pathlib import Path

from grader.gradebook import Gradebook
from grader.results import CheckResult, ExerciseResult, GradeResult

# ----------------------------------------------------------------------------- grades.csv

NOTE_LIMIT = 300  # characters of an error message kept in the `note` column


def points_text(value: float) -> str:
    """Points as an LMS reads them: a plain decimal, at most 6 places: 2.5, 3, 0.333333."""
    if not math.isfinite(value):
        raise ValueError(f"a score of {value} cannot be exported; the grader produced a "
                         "non-finite score, which is a grader bug")
    text = f"{round(value, 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _note(text: str) -> str:
    """One line, bounded: a remark in a table; the full error stays in the gradebook."""
    line = re.sub(r"\s+", " ", text).strip()
    return line if len(line) <= NOTE_LIMIT else line[:NOTE_LIMIT - 3].rstrip() + "..."


def grades_table(gradebook: Gradebook, exercise_ids: list[str]) -> list[list[str]]:
    """The rows of ``grades.csv`` (header first), from the gradebook alone.

    A cell is the student's points for that exercise. A submission that could not be graded,
    or an exercise absent from a student's results, scores 0 and says why in ``note``.
    ``max_total`` is the points available over ``exercise_ids``: from the student's own results,
    else the most any recorded result offers for that exercise.
    """
    class_max = gradebook.max_scores()
    table = [["student_id", *exercise_ids, "total", "max_total", "note"]]
    for sub in gradebook.rows():  # one student's rows at a time: a large class stays small
        mine = {ex.exercise: ex for ex in gradebook.exercise_rows(sub.student)}
        cells, total, max_total = [], 0.0, 0.0
        for eid in exercise_ids:
            row = mine.get(eid)
            score = row.score if row is not None else 0.0
            total += score
            max_total += row.max_score if row is not None else class_max.get(eid, 0.0)
            cells.append(points_text(score))
        if sub.status == "error":
            note = f"could not be graded: {sub.error}"
        else:
            absent = [eid for eid in exercise_ids if eid not in mine]
            note = f"not graded: {', '.join(absent)}" if absent else ""
        table.append([sub.student, *cells, points_text(total), points_text(max_total),
                      _note(note)])
    return table


def grades_csv(gradebook: Gradebook, exercise_ids: list[str]) -> str:
    """``grades.csv`` as text: RFC 4180, CRLF line ends, every field quoted.

    Quoting every field is what Blackboard's Grade Center asks of comma-delimited uploads;
    Canvas and Moodle read quoted fields as any CSV reader does.
    """
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(
        grades_table(gradebook, exercise_ids))
    return buffer.getvalue()


def write_grades_csv(gradebook: Gradebook, path: str | Path, exercise_ids: list[str]) -> Path:
    """Write ``grades.csv`` (UTF-8, no byte-order mark) for ``exercise_ids``, in that order."""
    return _write_atomic(Path(path), grades_csv(gradebook, list(exercise_ids)))


# ----------------------------------------------------------------------------- Gradescope
#
# Format, from the Gradescope autograder specification ("Autograder Specifications", Output
# format, gradescope-autograders.readthedocs.io/en/latest/specs/; the same text is
# gradescope/autograder_samples docs/specs.md):
# - top level: "score" (optional if every test has one; overrides the tests' total),
#   "execution_time" (seconds), "output" (text for the whole submission), "tests" (a list);
# - a test: "score", "max_score", "name", "number" (e.g. "1.1"; numbered in array order if
#   absent), "output" (shown in a <pre> block), "visibility", and "status" ("passed" in the
#   spec's example; Gradescope's own gradescope-utils JSONTestRunner writes "passed" or
#   "failed");
# - "visibility": "hidden" (never shown to students), "after_due_date", "after_published"
#   (shown when the assignment's grades are published), "visible" (the default).
# - Output the student should see must be in "output"; stdout goes to instructors only.

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def _check_output(check: CheckResult, exercise: ExerciseResult) -> str:
    lines = [check.about] if check.about else []
    if check.message:
        lines.append(check.message)
    if check.diagnosis:
        lines.append(f"Likely cause: {check.diagnosis}")
    lines += [f"Note: {note}" for note in check.notes]
    if exercise.status == "error" and check.status != "skipped":
        lines.append(f"This exercise scored 0: {exercise.message}")
    return "\n".join(lines)


def _check_test(number: str, check: CheckResult, exercise: ExerciseResult,
                hidden_visibility: str) -> dict:
    passed = check.status == "passed" and check.score >= check.points
    return {"name": f"{exercise.id}: {check.name}", "number": number,
            "score": float(check.score), "max_score": float(check.points),
            "status": "passed" if passed else "failed",
            "output": _check_output(check, exercise),
            "visibility": hidden_visibility if check.hidden else "visible"}


def _exercise_test(number: str, exercise: ExerciseResult) -> dict:
    """An exercise without check results (missing file, import error): one test worth its
    points, so that the points lost show up where the student looks."""
    return {"name": exercise.id, "number": number, "score": float(exercise.score),
            "max_score": float(exercise.max_score),
            "status": "passed" if exercise.status == "passed" else "failed",
            "output": exercise.message, "visibility": "visible"}


def _summary(result: GradeResult) -> str:
    """The top-level text. An exercise's message can come from a hidden check, which waits for
    its own visibility, so partial and failed exercises point at the tests instead."""
    lines = [f"Score: {points_text(result.score)} / {points_text(result.max_score)}"]
    for ex in result.exercises:
        shown = ex.message if ex.status not in ("partial", "failed") else \
            "see the tests below"
        line = (f"{ex.id}: {ex.status.replace('_', ' ')}, {points_text(ex.score)} / "
                f"{points_text(ex.max_score)} - {shown}")
        if ex.timing is not None and ex.timing.slow:
            line += (f" (slow: {ex.timing.ratio:.1f}x the reference's time, points kept; "
                     f"{ex.timing.advice})")
        lines.append(line)
    lines += result.notes
    return "\n".join(lines)


def gradescope_results(result: GradeResult, *, hidden_visibility: str = "after_published",
                       execution_time: float = 0.0) -> dict:
    """``results.json`` for one graded submission: a test per check, numbered
    "exercise.check" from 1 in grading order. Hidden checks get ``hidden_visibility``."""
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden_visibility must be one of {', '.join(VISIBILITIES)}, "
                         f"not {hidden_visibility!r}")
    tests = []
    for i, ex in enumerate(result.exercises, start=1):
        if not ex.checks:
            tests.append(_exercise_test(str(i), ex))
        for j, check in enumerate(ex.checks, start=1):
            tests.append(_check_test(f"{i}.{j}", check, ex, hidden_visibility))
    data = {"score": float(result.score), "execution_time": round(float(execution_time), 3),
            "output": _summary(result), "tests": tests}
    json.dumps(data, allow_nan=False)  # fail here, not on Gradescope, on a non-finite number
    return data


def gradescope_error(reason: str, *, execution_time: float = 0.0) -> dict:
    """``results.json`` for a submission that could not be graded: 0 points, and why."""
    return {"score": 0.0, "execution_time": round(float(execution_time), 3),
            "output": f"Your submission could not be graded: {reason}", "tests": []}


def write_gradescope(result: GradeResult, path: str | Path, *,
                     hidden_visibility: str = "after_published",
                     execution_time: float = 0.0) -> Path:
    """Write :func:`gradescope_results` to ``path``."""
    return _write_json(Path(path), gradescope_results(
        result, hidden_visibility=hidden_visibility, execution_time=execution_time))


def write_gradescope_for(result: GradeResult | None, error: str | None, path: str | Path, *,
                         hidden_visibility: str = "after_published",
                         execution_time: float = 0.0) -> Path:
    """``results.json`` for a gradebook row: its results, or its error when not graded."""
    if result is None:
        return _write_json(Path(path), gradescope_error(error or "unknown error",
                                                        execution_time=execution_time))
    return write_gradescope(result, path, hidden_visibility=hidden_visibility,
                            execution_time=execution_time)


# ----------------------------------------------------------------------------- files

def readable_json(data: dict) -> str:
    """``data`` as JSON with one field per line, and one item per line in a list field (a
    Gradescope test): as readable as ``indent=2`` for a results file, and written by json's C
    encoder, which ``indent`` turns off (its pure-Python one took 5 ms per six-exercise
    results.json, a tenth of what grading the submission costs the grader)."""
    fields = []
    for key, value in data.items():
        name = json.dumps(key)
        if isinstance(value, list) and value:
            items = ",\n".join("    " + json.dumps(v, allow_nan=False) for v in value)
            fields.append(f"  {name}: [\n{items}\n  ]")
        else:
            fields.append(f"  {name}: {json.dumps(value, allow_nan=False)}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


def _write_json(path: Path, data: dict) -> Path:
    return _write_atomic(path, readable_json(data))


def _write_atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fresh name opened with "x" (not mkstemp, whose 0600 mode would outlive the rename):
    # the file gets the permissions the user's umask gives any new file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
