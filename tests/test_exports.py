"""Exports: grades.csv exactly (golden text), Gradescope results.json keys and values exactly."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

from grader import __version__, exports
from grader.catalog import ROOT
from grader.gradebook import Gradebook
from grader.grading import grade
from grader.results import CheckResult, ExerciseResult, GradeResult, TimingResult


def simple(student: str, scores: dict[str, tuple[float, float]]) -> GradeResult:
    """One all-or-nothing check per exercise, worth the exercise's points."""
    exercises = []
    for eid, (score, top) in scores.items():
        status = "passed" if score == top else "partial" if score else "failed"
        check = CheckResult("only", top, "passed" if score == top else "failed", score)
        exercises.append(ExerciseResult(eid, eid, top, status, score, "", None, "f.py", [check]))
    return GradeResult(student, 0, __version__, exercises)


def gradebook(tmp_path: Path) -> Gradebook:
    book = Gradebook(tmp_path / "gradebook.sqlite")
    rows = {
        "alice": simple("alice", {"linalg.dot": (4.0, 4.0), "optim.sgd": (2.5, 2.5)}),
        "bob": simple("bob", {"linalg.dot": (1 / 3, 4.0), "optim.sgd": (0.0, 2.5)}),
        # dave's results lack optim.sgd (graded before it was assigned); erin has an extra one
        "dave": simple("dave", {"linalg.dot": (4.0, 4.0)}),
        "erin": simple("erin", {"linalg.pca": (2.0, 2.0), "linalg.dot": (3.0, 4.0),
                                "optim.sgd": (1.25, 2.5)}),
    }
    for student, result in rows.items():
        book.record(student, "h", student, result, seed=0, device="cpu", duration=1.0)
    book.record("carol", None, "carol.zip", None, seed=0, device="cpu", duration=0.0,
                error='the zip holds "linalg.py" twice,\n  in a/ and b/: keep one')
    return book


# ----------------------------------------------------------------------------- grades.csv

GOLDEN_CSV = (
    '"student_id","linalg.dot","optim.sgd","total","max_total","note"\r\n'
    '"alice","4","2.5","6.5","6.5",""\r\n'
    '"bob","0.333333","0","0.333333","6.5",""\r\n'
    '"carol","0","0","0","6.5","could not be graded: the zip holds ""linalg.py"" twice, in a/ '
    'and b/: keep one"\r\n'
    '"dave","4","0","4","6.5","not graded: optim.sgd"\r\n'
    '"erin","3","1.25","4.25","6.5",""\r\n')


def test_grades_csv_is_exactly_the_golden_text(tmp_path):
    path = exports.write_grades_csv(gradebook(tmp_path), tmp_path / "out" / "grades.csv",
                                    ["linalg.dot", "optim.sgd"])
    assert path.read_bytes() == GOLDEN_CSV.encode("utf-8")
    assert sorted(p.name for p in path.parent.iterdir()) == ["grades.csv"]  # no temp file left


def test_grades_csv_reads_back_as_the_table(tmp_path):
    book = gradebook(tmp_path)
    rows = list(csv.reader(io.StringIO(GOLDEN_CSV, newline="")))
    assert rows == exports.grades_table(book, ["linalg.dot", "optim.sgd"])
    assert rows[3][-1] == ('could not be graded: the zip holds "linalg.py" twice, in a/ and b/: '
                           'keep one')


def test_a_long_error_note_is_cut_to_one_bounded_line(tmp_path):
    book = Gradebook(tmp_path / "gradebook.sqlite")
    book.record("zed", None, "zed", None, error="x\n" * 400, seed=0, device="cpu", duration=0)
    note = exports.grades_table(book, ["linalg.dot"])[1][-1]
    assert len(note) <= exports.NOTE_LIMIT and note.endswith(" x x...")
    assert len(note) >= exports.NOTE_LIMIT - 4  # cut at the limit, not earlier
    assert note.startswith("could not be graded: x x")


@pytest.mark.parametrize("value, text", [
    (3.0, "3"), (2.5, "2.5"), (1 / 3, "0.333333"), (2 / 3, "0.666667"), (1e-7, "0"),
    (-0.0, "0"), (123456.5, "123456.5"), (1e6, "1000000"), (0.1 + 0.2, "0.3"),
], ids=["integer", "half", "third", "two_thirds", "tiny", "negative_zero", "large",
        "million", "float_noise"])
def test_points_text(value, text):
    assert exports.points_text(value) == text


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan], ids=["inf", "-inf", "nan"])
def test_a_non_finite_score_is_refused(value):
    with pytest.raises(ValueError, match="cannot be exported; the grader produced a non-finite"):
        exports.points_text(value)


# ----------------------------------------------------------------------------- Gradescope

def sample() -> GradeResult:
    dot = ExerciseResult(
        "linalg.dot", "Dot product", 2.0, "partial", 1.0, "check 'empty': ...", None, "f.py",
        [CheckResult("small", 1.0, "passed", 1.0, about="two short vectors"),
         CheckResult("empty", 1.0, "failed", 0.0, "expected 0.0, got nan", "0/0: you divided "
                     "by the length", hidden=True, about="n = 0 gives 0.0",
                     notes=["your function changed its input arrays in place"])],
        TimingResult(1.0, 0.01, 100.0, True, "vectorize the loop"))
    pca = ExerciseResult("linalg.pca", "PCA", 1.5, "error", 0.0,
                         "printed more than 1024 KiB; output truncated", None, "f.py",
                         [CheckResult("small", 1.5, "passed", 0.0, about="3 points")])
    sgd = ExerciseResult("optim.sgd", "SGD", 3.0, "missing", 0.0,
                         "no optim.py in your submission: add it next to linalg.py")
    return GradeResult("sub", 0, __version__, [dot, pca, sgd], "sandbox", ["a run note"])


GOLDEN_GRADESCOPE = {
    "score": 1.0,
    "execution_time": 2.346,
    "output": "Score: 1 / 6.5\n"
              "linalg.dot: partial, 1 / 2 - see the tests below (slow: 100.0x the reference's "
              "time, points kept; vectorize the loop)\n"
              "linalg.pca: error, 0 / 1.5 - printed more than 1024 KiB; output truncated\n"
              "optim.sgd: missing, 0 / 3 - no optim.py in your submission: add it next to "
              "linalg.py\n"
              "a run note",
    "tests": [
        {"name": "linalg.dot: small", "number": "1.1", "score": 1.0, "max_score": 1.0,
         "status": "passed", "output": "two short vectors", "visibility": "visible"},
        {"name": "linalg.dot: empty", "number": "1.2", "score": 0.0, "max_score": 1.0,
         "status": "failed",
         "output": "n = 0 gives 0.0\nexpected 0.0, got nan\n"
                   "Likely cause: 0/0: you divided by the length\n"
                   "Note: your function changed its input arrays in place",
         "visibility": "after_published"},
        {"name": "linalg.pca: small", "number": "2.1", "score": 0.0, "max_score": 1.5,
         "status": "failed",
         "output": "3 points\nThis exercise scored 0: printed more than 1024 KiB; output "
                   "truncated",
         "visibility": "visible"},
        {"name": "optim.sgd", "number": "3", "score": 0.0, "max_score": 3.0,
         "status": "failed", "output": "no optim.py in your submission: add it next to "
                                       "linalg.py", "visibility": "visible"},
    ],
}


def test_gradescope_results_exactly():
    data = exports.gradescope_results(sample(), execution_time=2.3456)
    assert data == GOLDEN_GRADESCOPE
    assert list(data) == ["score", "execution_time", "output", "tests"]
    assert all(list(t) == ["name", "number", "score", "max_score", "status", "output",
                           "visibility"] for t in data["tests"])
    # Gradescope's score is the sum of the tests', and the grader's own total.
    assert math.fsum(t["score"] for t in data["tests"]) == data["score"] == sample().score
    assert math.fsum(t["max_score"] for t in data["tests"]) == sample().max_score
    json.dumps(data, allow_nan=False)


@pytest.mark.parametrize("visibility", ["hidden", "after_due_date", "after_published",
                                        "visible"])
def test_hidden_checks_take_the_chosen_visibility(visibility):
    tests = exports.gradescope_results(sample(), hidden_visibility=visibility)["tests"]
    assert [t["visibility"] for t in tests] == ["visible", visibility, "visible", "visible"]


def test_an_unknown_visibility_is_refused():
    with pytest.raises(ValueError, match="hidden_visibility must be one of hidden, "
                                         "after_due_date, after_published, visible, not 'later'"):
        exports.gradescope_results(sample(), hidden_visibility="later")


def test_a_non_finite_score_never_reaches_gradescope():
    bad = sample()
    bad.exercises[0].checks[0].score = math.nan
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        exports.gradescope_results(bad)


def test_a_real_grading_as_gradescope_results(tmp_path):
    result = grade(submission=ROOT / "solutions", ids=("linalg.dot",), time_it=False)
    path = exports.write_gradescope(result, tmp_path / "results.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == exports.gradescope_results(result)
    assert data["score"] == 4.0
    assert [(t["number"], t["name"], t["score"], t["max_score"], t["status"], t["visibility"])
            for t in data["tests"]] == [
        ("1.1", "linalg.dot: small", 1.0, 1.0, "passed", "visible"),
        ("1.2", "linalg.dot: length_1000", 1.0, 1.0, "passed", "visible"),
        ("1.3", "linalg.dot: length_mismatch", 1.0, 1.0, "passed", "after_published"),
        ("1.4", "linalg.dot: empty", 0.5, 0.5, "passed", "after_published"),
        ("1.5", "linalg.dot: integers", 0.5, 0.5, "passed", "after_published")]
    assert data["output"].startswith("Score: 4 / 4\nlinalg.dot: passed, 4 / 4 - all 5 checks "
                                     "passed")


def test_an_error_submission_gets_zero_and_the_reason(tmp_path):
    path = exports.write_gradescope_for(None, "the zip file is empty", tmp_path / "r.json",
                                        execution_time=0.25)
    assert path.read_text(encoding="utf-8") == (
        '{\n  "score": 0.0,\n  "execution_time": 0.25,\n'
        '  "output": "Your submission could not be graded: the zip file is empty",\n'
        '  "tests": []\n}\n')
    graded = exports.write_gradescope_for(sample(), None, tmp_path / "g.json")
    assert json.loads(graded.read_text(encoding="utf-8"))["tests"] == \
        exports.gradescope_results(sample())["tests"]


def test_results_json_has_a_field_per_line_and_a_test_per_line(tmp_path):
    path = exports.write_gradescope(sample(), tmp_path / "results.json", execution_time=2.3456)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == GOLDEN_GRADESCOPE
    lines = text.splitlines()
    assert lines[:4] == ['{', '  "score": 1.0,', '  "execution_time": 2.346,',
                         '  "output": ' + json.dumps(GOLDEN_GRADESCOPE["output"]) + ',']
    assert lines[4] == '  "tests": ['
    assert [json.loads(line.strip().rstrip(",")) for line in lines[5:-2]] == \
        GOLDEN_GRADESCOPE["tests"]
    assert lines[-2:] == ["  ]", "}"]
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        exports.readable_json({"score": math.inf, "tests": []})
