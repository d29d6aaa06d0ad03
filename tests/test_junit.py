"""JUnit XML (``grade --junit PATH``): one testsuite per exercise, one testcase per check, the
grader's message and diagnosis in failures, errors for crashed exercises, skips for stubs; it
parses whatever the student's code printed or raised."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from grader import junit
from grader.results import CheckResult, ExerciseResult, GradeResult

OFF_BY_ONE = ("your loop skips the last element: range(len(u) - 1) instead of "
              "range(len(u))")


def _result() -> GradeResult:
    """Every kind of verdict, and student text that XML must escape or cannot carry."""
    dot = ExerciseResult("linalg.dot", "Dot product", 2.0, "partial", score=1.0, checks=[
        CheckResult("small", 1.0, "passed", score=1.0, about="two short vectors"),
        CheckResult("length_1000", 1.0, "failed", message="got -59.1, expected -55.7",
                    diagnosis=OFF_BY_ONE, about="vectors of length 1000",
                    notes=["your function changed its input arrays in place"]),
    ], output='<b>&"\'\x1b[31m]]>\x00\n')
    pinv = ExerciseResult("linalg.pinv", "Pseudo-inverse", 1.0, "not_implemented", checks=[
        CheckResult("square", 0.5, "not_implemented",
                    message="not implemented yet (raises NotImplementedError)"),
        CheckResult("speed", 0.5, "skipped", message="not timed (graded with --no-timing)"),
    ])
    pca = ExerciseResult("linalg.pca", "PCA", 1.5, "error",
                         message="linalg.pca crashed with SIGSEGV during check 'tall'", checks=[
        CheckResult("small", 1.0, "passed", about="a small sample"),
        CheckResult("tall", 0.5, "skipped", message="crashed with SIGSEGV"),
    ])
    judge = ExerciseResult("nn.dropout", "Dropout", 1.0, "failed", checks=[
        CheckResult("mask", 1.0, "error", message="the grader could not judge this check "
                                                  "(KeyError: 'p')"),
    ])
    missing = ExerciseResult("optim.adam", "Adam", 3.0, "missing",
                             message="the submission has no optim.py (expected in work); "
                                     "write adam there")
    syntax = ExerciseResult("nn.two_layer_mlp_loss", "MLP loss", 4.0, "error",
                            message="nn.py, line 3: SyntaxError: invalid <syntax> \ud800")
    return GradeResult("work", 0, "0.1.0", [dot, pinv, pca, judge, missing, syntax])


def _cases(root: ET.Element) -> dict[tuple[str, str], tuple[str | None, dict, str]]:
    """(classname, name) -> (child tag or None, child attributes, child text)."""
    found = {}
    for case in root.iter("testcase"):
        child = next(iter(case), None)
        found[case.get("classname"), case.get("name")] = (
            None if child is None else child.tag, {} if child is None else dict(child.attrib),
            "" if child is None else (child.text or ""))
    return found


@pytest.fixture
def parsed(tmp_path) -> ET.Element:
    path = junit.write_junit(_result(), tmp_path / "reports" / "junit.xml",
                             durations={"linalg.dot": 0.5, "linalg.pca": 0.25})
    assert path == tmp_path / "reports" / "junit.xml"
    assert [p.name for p in path.parent.iterdir()] == ["junit.xml"]  # no temporary file left
    assert path.read_text(encoding="utf-8").startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.parse(path).getroot()


def test_one_testsuite_per_exercise_with_counts_and_properties(parsed):
    assert parsed.tag == "testsuites"
    assert dict(parsed.attrib) == {"name": "grader", "tests": "9", "failures": "2",
                                   "errors": "4", "skipped": "2", "time": "0.750"}
    suites = {s.get("name"): dict(s.attrib) for s in parsed.findall("testsuite")}
    assert list(suites) == ["linalg.dot", "linalg.pinv", "linalg.pca", "nn.dropout",
                            "optim.adam", "nn.two_layer_mlp_loss"]
    assert suites["linalg.dot"] == {"name": "linalg.dot", "tests": "2", "failures": "1",
                                    "errors": "0", "skipped": "0", "time": "0.500"}
    assert suites["linalg.pinv"] == {"name": "linalg.pinv", "tests": "2", "failures": "0",
                                     "errors": "0", "skipped": "2", "time": "0.000"}
    assert suites["linalg.pca"] == {"name": "linalg.pca", "tests": "2", "failures": "0",
                                    "errors": "2", "skipped": "0", "time": "0.250"}
    dot = parsed.find("testsuite[@name='linalg.dot']")
    assert {p.get("name"): p.get("value") for p in dot.find("properties")} == {
        "title": "Dot product", "status": "partial", "score": "1", "max_score": "2"}


def test_testcase_per_check_with_the_graders_message_and_diagnosis(parsed):
    cases = _cases(parsed)
    assert list(cases) == [
        ("linalg.dot", "small"), ("linalg.dot", "length_1000"), ("linalg.pinv", "square"),
        ("linalg.pinv", "speed"), ("linalg.pca", "small"), ("linalg.pca", "tall"),
        ("nn.dropout", "mask"), ("optim.adam", "optim.adam"),
        ("nn.two_layer_mlp_loss", "nn.two_layer_mlp_loss")]
    assert cases["linalg.dot", "small"] == (None, {}, "")
    assert cases["linalg.dot", "length_1000"] == (
        "failure", {"message": f"got -59.1, expected -55.7 -> {OFF_BY_ONE}", "type": "failed"},
        "check 'length_1000' of linalg.dot (vectors of length 1000): 0 / 1 points\n"
        f"got -59.1, expected -55.7\n-> {OFF_BY_ONE}\n"
        "note: your function changed its input arrays in place")
    assert cases["nn.dropout", "mask"] == (
        "error", {"message": "the grader could not judge this check (KeyError: 'p')",
                  "type": "error"},
        "check 'mask' of nn.dropout (Dropout): 0 / 1 points\n"
        "the grader could not judge this check (KeyError: 'p')")


def test_not_implemented_and_not_run_checks_are_skipped_with_the_reason(parsed):
    cases = _cases(parsed)
    assert cases["linalg.pinv", "square"] == (
        "skipped", {"message": "not implemented yet (raises NotImplementedError)"}, "")
    assert cases["linalg.pinv", "speed"] == (
        "skipped", {"message": "not timed (graded with --no-timing)"}, "")


def test_a_crashed_exercise_is_an_error_in_every_check_even_one_that_passed(parsed):
    cases = _cases(parsed)
    crash = "linalg.pca crashed with SIGSEGV during check 'tall'"
    assert cases["linalg.pca", "small"] == (
        "error", {"message": crash, "type": "error"},
        f"check 'small' of linalg.pca (a small sample): 0 / 1 points\n"
        f"this exercise scores 0: {crash}")
    assert cases["linalg.pca", "tall"] == (
        "error", {"message": crash, "type": "error"},
        "check 'tall' of linalg.pca (PCA): 0 / 0.5 points\ncrashed with SIGSEGV\n"
        f"this exercise scores 0: {crash}")


def test_an_exercise_without_check_results_is_one_testcase(parsed):
    cases = _cases(parsed)
    missing = "the submission has no optim.py (expected in work); write adam there"
    assert cases["optim.adam", "optim.adam"] == (
        "failure", {"message": missing, "type": "failed"}, missing)
    syntax = "nn.py, line 3: SyntaxError: invalid <syntax> \\ud800"
    assert cases["nn.two_layer_mlp_loss", "nn.two_layer_mlp_loss"] == (
        "error", {"message": syntax, "type": "error"}, syntax)


def test_student_text_is_escaped_and_what_xml_cannot_carry_is_made_visible(parsed, tmp_path):
    dot = parsed.find("testsuite[@name='linalg.dot']")
    assert dot.find("system-out").text == '<b>&"\'\\x1b[31m]]>\\x00\n'
    raw = (tmp_path / "reports" / "junit.xml").read_text(encoding="utf-8")
    assert "\x1b" not in raw and "\x00" not in raw
    assert "&lt;b&gt;&amp;\"'\\x1b[31m]]&gt;\\x00" in raw


def test_testcases_share_their_exercise_time_and_add_up_to_it(parsed):
    dot = parsed.find("testsuite[@name='linalg.dot']")
    assert [c.get("time") for c in dot.iter("testcase")] == ["0.250", "0.250"]
    pinv = parsed.find("testsuite[@name='linalg.pinv']")  # not measured
    assert [c.get("time") for c in pinv.iter("testcase")] == ["0.000", "0.000"]


def test_stopwatch_records_each_exercise_as_grading_reports_it(monkeypatch):
    ticks = iter([10.0, 10.5, 12.0])
    monkeypatch.setattr(junit.time, "perf_counter", lambda: next(ticks))
    clock = junit.Stopwatch()
    clock(ExerciseResult("linalg.dot", "Dot product", 2.0, "passed"))
    clock(ExerciseResult("linalg.pinv", "Pseudo-inverse", 1.0, "passed"))
    assert clock.durations == {"linalg.dot": 0.5, "linalg.pinv": 1.5}


def test_a_graded_submission_becomes_junit_through_the_worker(grade_files, tmp_path):
    clock = junit.Stopwatch()
    result = grade_files({"linalg.py": """
        def dot(u, v):
            return sum(u[i] * v[i] for i in range(len(u) - 1))
        """}, ids=("linalg.dot",), hidden=False, progress=clock)
    assert (result.score, result.max_score) == (0.0, 2.0)
    root = ET.parse(junit.write_junit(result, tmp_path / "junit.xml",
                                      durations=clock.durations)).getroot()
    suite = root.find("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == (
        "linalg.dot", "2", "2")
    assert float(suite.get("time")) == pytest.approx(clock.durations["linalg.dot"], abs=1e-3)
    small = suite.find("testcase[@name='small']/failure")
    assert small.get("message") == (
        "dot for two vectors of length 3: got -5.29182, expected -4.4996 (abs diff 0.792216, "
        f"rel diff 0.176064; rtol=1e-12, atol=1e-12) -> {OFF_BY_ONE}")


def test_grade_junit_writes_the_results_for_ci(write_submission, tmp_path):
    from click.testing import CliRunner

    from grader.cli import grade_cmd

    folder = write_submission({"linalg.py": """
        def dot(u, v):
            return sum(u[i] * v[i] for i in range(len(u) - 1))
        """})
    out = tmp_path / "ci" / "junit.xml"
    run = CliRunner().invoke(grade_cmd, ["linalg.dot", "-s", str(folder), "--public-only",
                                         "--no-timing", "--junit", str(out)])
    assert run.exit_code == 0, run.output
    suite = ET.parse(out).getroot().find("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == (
        "linalg.dot", "2", "2")
    assert float(suite.get("time")) > 0
    assert suite.find("testcase[@name='small']/failure").get("message").endswith(
        f"-> {OFF_BY_ONE}")
