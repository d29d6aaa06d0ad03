"""JUnit XML for CI systems (``grade --junit PATH``), drawn from structured results.

The layout is the one CI systems read (Jenkins, GitLab, GitHub test reporters, Azure):

- ``<testsuites name="grader" tests failures errors skipped time>``, holding
- one ``<testsuite name="linalg.dot" ...>`` per exercise, with ``<properties>`` (``title``,
  ``status``, ``score``, ``max_score``) and the student's printed output as ``<system-out>``;
- one ``<testcase classname="linalg.dot" name="small" time>`` per check; inside it:
  - nothing when the check passed;
  - ``<failure message type="failed">`` when it failed: the grader's message and, when known,
    the mistake's diagnosis (``message -> diagnosis``); the text adds the points and notes;
  - ``<error message type="error">`` when the grader could not judge the check, or when the
    whole exercise ended in an error (a crash, a time-out, an exit: it scores 0, so every check
    of it is reported with that error);
  - ``<skipped message>`` when it is not implemented yet or was not run (a speed check graded
    without timing).
- An exercise graded without any check result (its file or function is missing, or its file
  does not import) is one testcase named after the exercise, failed (missing) or in error.

Times: the grader measures an exercise's wall time, not each check's, so a testsuite's ``time``
is its exercise's seconds (from :class:`Stopwatch`, or 0 when not measured) and each testcase
gets an equal share of it: the testcases add up to their suite, as CI systems that sum them
expect.

Student-made text (exception messages, printed output) can hold characters that XML 1.0 cannot
carry (NUL, ESC, lone surrogates); they are written as visible escapes (``\\x1b``), so the file
always parses. Everything else is escaped by :mod:`xml.etree.ElementTree`.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Mapping

from grader.exports import _write_atomic
from grader.results import CheckResult, ExerciseResult, GradeResult

# Characters outside XML 1.0's Char production: C0 controls but tab, newline and carriage
# return; surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: object) -> str:
    """``text`` with every character XML 1.0 cannot carry written as a visible escape."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", str(text))


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


class Stopwatch:
    """A ``progress`` callback for :func:`grader.grading.grade` that records each exercise's
    wall time (seconds, by id): the time since the previous exercise finished, or since the
    stopwatch was made for the first one.

    ``clock = Stopwatch(); result = grade(..., progress=clock)``, then
    ``write_junit(result, path, durations=clock.durations)``.
    """

    def __init__(self) -> None:
        self.durations: dict[str, float] = {}
        self._last = time.perf_counter()

    def __call__(self, exercise: ExerciseResult) -> None:
        now = time.perf_counter()
        self.durations[exercise.id] = now - self._last
        self._last = now


# ----------------------------------------------------------------------------- one testcase

def _verdict(check: CheckResult | None, exercise: ExerciseResult) -> tuple[str | None, str]:
    """(element, message) of a testcase: ``failure``, ``error``, ``skipped`` or None (passed).

    ``check`` is None for an exercise without check results."""
    if exercise.status == "error":
        return "error", exercise.message
    if check is None:
        return ("failure" if exercise.status != "passed" else None), exercise.message
    if check.status == "passed":
        return None, check.message
    if check.status in ("not_implemented", "skipped"):
        return "skipped", check.message or "not run"
    message = check.message + (f" -> {check.diagnosis}" if check.diagnosis else "")
    return ("error" if check.status == "error" else "failure"), message


def _details(check: CheckResult | None, exercise: ExerciseResult) -> str:
    """The text of a failure or error: what a student reads to fix it."""
    if check is None:
        return exercise.message
    lines = [f"check '{check.name}' of {exercise.id} ({check.about or exercise.title}): "
             f"{check.score:g} / {check.points:g} points"]
    if check.message:
        lines.append(check.message)
    if check.diagnosis:
        lines.append(f"-> {check.diagnosis}")
    lines += [f"note: {note}" for note in check.notes]
    if exercise.status == "error" and check.message != exercise.message:
        lines.append(f"this exercise scores 0: {exercise.message}")
    return "\n".join(lines)


def _testcase(suite: ET.Element, exercise: ExerciseResult, check: CheckResult | None,
              seconds: float) -> str | None:
    case = ET.SubElement(suite, "testcase", {
        "classname": exercise.id, "name": check.name if check is not None else exercise.id,
        "time": _seconds(seconds)})
    element, message = _verdict(check, exercise)
    if element == "skipped":
        ET.SubElement(case, "skipped", {"message": xml_text(message)})
    elif element is not None:
        node = ET.SubElement(case, element, {"message": xml_text(message),
                                             "type": "failed" if element == "failure"
                                             else "error"})
        node.text = xml_text(_details(check, exercise))
    return element


# ----------------------------------------------------------------------------- the document

def _testsuite(root: ET.Element, exercise: ExerciseResult, seconds: float) -> dict[str, int]:
    suite = ET.SubElement(root, "testsuite", {"name": exercise.id})
    properties = ET.SubElement(suite, "properties")
    for name, value in (("title", exercise.title), ("status", exercise.status),
                        ("score", f"{exercise.score:g}"),
                        ("max_score", f"{exercise.max_score:g}")):
        ET.SubElement(properties, "property", {"name": name, "value": xml_text(value)})
    checks: list[CheckResult | None] = list(exercise.checks) or [None]
    outcomes = [_testcase(suite, exercise, check, seconds / len(checks)) for check in checks]
    counts = {"tests": len(outcomes), "failures": outcomes.count("failure"),
              "errors": outcomes.count("error"), "skipped": outcomes.count("skipped")}
    suite.attrib.update({key: str(n) for key, n in counts.items()})
    suite.set("time", _seconds(seconds))
    if exercise.output:
        ET.SubElement(suite, "system-out").text = xml_text(exercise.output)
    return counts


def junit_tree(result: GradeResult, *, durations: Mapping[str, float] | None = None
               ) -> ET.ElementTree:
    """The JUnit document of ``result``; ``durations``: seconds per exercise id."""
    durations = durations or {}
    root = ET.Element("testsuites", {"name": "grader"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for exercise in result.exercises:
        counts = _testsuite(root, exercise, float(durations.get(exercise.id, 0.0)))
        for key in totals:
            totals[key] += counts[key]
    root.attrib.update({key: str(n) for key, n in totals.items()})
    root.set("time", _seconds(sum(float(durations.get(e.id, 0.0)) for e in result.exercises)))
    ET.indent(root)
    return ET.ElementTree(root)


def render_junit(result: GradeResult, *, durations: Mapping[str, float] | None = None) -> str:
    """:func:`junit_tree` as text, with its XML declaration."""
    body = ET.tostring(junit_tree(result, durations=durations).getroot(), encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def write_junit(result: GradeResult, path: str | Path, *,
                durations: Mapping[str, float] | None = None) -> Path:
    """Write :func:`render_junit` to ``path`` (atomically: a CI job never reads half a file)."""
    return _write_atomic(Path(path), render_junit(result, durations=durations))
