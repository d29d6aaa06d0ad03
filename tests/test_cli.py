"""The command line through click's CliRunner: what `grade` prints and writes, its exit codes
(0 graded, 1 under --fail-under, 2 bad input), `grader list` and the help texts."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from conftest import reference_source
from grader.catalog import catalog
from grader.cli import main

REFERENCE = reference_source("linalg")
WRONG = REFERENCE.replace("return float(np.dot(u, v))", "return float(np.dot(u, v)) + 1.0")


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def reference_dir(write_submission):
    return write_submission({"linalg.py": REFERENCE})


def test_grade_prints_one_line_per_exercise_and_the_total(cli, reference_dir):
    result = cli("grade", "linalg.dot", "-s", str(reference_dir), "--no-timing")
    assert result.exit_code == 0
    assert result.output == (f"Grading {reference_dir}  (seed 0, device cpu, grader 0.1.0)\n"
                             "PASS linalg.dot                   4 / 4  Dot product\n"
                             "\n"
                             "Total: 4 / 4\n")


def test_grade_verbose_lists_every_check(cli, reference_dir):
    result = cli("grade", "linalg.dot", "-s", str(reference_dir), "--no-timing", "-v")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[2:7] == ["       PASS small: 1 pt", "       PASS length_1000: 1 pt",
                          "       PASS length_mismatch (hidden): 1 pt",
                          "       PASS empty (hidden): 0.5 pt",
                          "       PASS integers (hidden): 0.5 pt"]


def test_grade_of_a_wrong_submission_exits_0_and_says_what_differs(cli, write_submission):
    folder = write_submission({"linalg.py": WRONG})
    result = cli("grade", "linalg.dot", "-s", str(folder), "--no-timing")
    assert result.exit_code == 0  # graded, whatever the score
    lines = result.output.splitlines()
    assert lines[1] == "PART linalg.dot                   1 / 4  Dot product"
    assert re.fullmatch(r"     check 'small': dot for two vectors of length 3: got \S+, expected "
                        r"\S+ \(abs diff 1, rel diff \S+; rtol=1e-12, atol=1e-12\)", lines[2])
    assert lines[-1] == "Total: 1 / 4"


def test_public_only_runs_the_public_checks(cli, reference_dir):
    result = cli("grade", "linalg.dot", "-s", str(reference_dir), "--no-timing", "--public-only")
    assert result.exit_code == 0
    assert "PASS linalg.dot                   2 / 2  Dot product" in result.output


def test_json_report(cli, write_submission, tmp_path):
    folder = write_submission({"linalg.py": WRONG})
    out = tmp_path / "reports" / "out.json"
    result = cli("grade", "linalg.dot", "-s", str(folder), "--no-timing", "--json", str(out))
    assert result.exit_code == 0
    data = json.loads(out.read_text())
    assert (data["score"], data["max_score"], data["seed"]) == (1.0, 4.0, 0)
    [exercise] = data["exercises"]
    assert {k: exercise[k] for k in ("id", "score", "max_score", "status")} == {
        "id": "linalg.dot", "score": 1.0, "max_score": 4.0, "status": "partial"}
    assert exercise["message"].startswith("check 'small': dot for two vectors of length 3: got ")
    assert [(c["name"], c["status"], c["score"]) for c in exercise["checks"]] == [
        ("small", "failed", 0.0), ("length_1000", "failed", 0.0),
        ("length_mismatch", "passed", 1.0), ("empty", "failed", 0.0),
        ("integers", "failed", 0.0)]


STUDENT_MARKUP = REFERENCE.replace(
    "def dot(u, v):\n",
    "def dot(u, v):\n"
    "    print('<script>alert(\"printed\")</script>')\n"
    "    if len(u) == 3:\n"
    "        raise ValueError('<img src=x onerror=alert(1)>')\n")


def test_html_report_escapes_what_the_student_printed_and_raised(cli, write_submission,
                                                                  tmp_path):
    folder = write_submission({"linalg.py": STUDENT_MARKUP})
    out = tmp_path / "report.html"
    result = cli("grade", "linalg.dot", "-s", str(folder), "--no-timing", "--html", str(out))
    assert result.exit_code == 0
    html = out.read_text()
    assert "&lt;script&gt;alert(&#34;printed&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html and "<img" not in html


def test_html_report_holds_the_results(cli, write_submission, tmp_path):
    folder = write_submission({"linalg.py": WRONG})
    out = tmp_path / "report.html"
    result = cli("grade", "linalg.dot", "-s", str(folder), "--no-timing", "--html", str(out))
    assert result.exit_code == 0
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert '<p class="total">Total: 1 / 4</p>' in html
    assert '<section id="linalg.dot">' in html


def test_unknown_exercise_exits_2_listing_the_known_ids(cli, reference_dir):
    result = CliRunner().invoke(main, ["grade", "linalg.dott", "-s", str(reference_dir)])
    assert result.exit_code == 2
    known = ", ".join(catalog())
    assert result.output == f"Error: no exercise or topic 'linalg.dott'; known: {known}\n"
    assert "linalg.dot" in known


def test_missing_submission_exits_2(cli, tmp_path):
    missing = tmp_path / "nowhere"
    result = CliRunner().invoke(main, ["grade", "linalg.dot", "-s", str(missing)])
    assert result.exit_code == 2
    assert result.output == f"Error: no such file or folder: {missing}\n"


@pytest.mark.parametrize("threshold, code", [("1.5", 1), ("1", 0), ("0", 0)],
                         ids=["below", "equal", "above"])
def test_fail_under(cli, write_submission, threshold, code):
    folder = write_submission({"linalg.py": WRONG})  # scores 1 of 4
    result = CliRunner().invoke(main, ["grade", "linalg.dot", "-s", str(folder), "--no-timing",
                                       "--fail-under", threshold])
    assert result.exit_code == code
    assert result.output.splitlines()[-1] == "Total: 1 / 4"


def test_list_shows_linalg_dot(cli):
    result = cli("list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == len(catalog()) + 1
    assert lines[0].split() == ["topic", "exercise", "points", "framework", "checks",
                                "(public/hidden)", "functions"]
    # The course's order: linear algebra first.
    assert lines[1].split() == ["linalg", "linalg.dot", "4", "numpy", "2", "/", "3", "dot"]


@pytest.mark.parametrize("args, texts", [
    (["--help"], ["Usage: main [OPTIONS] COMMAND [ARGS]...",
                  "Grade exercises in the mathematics of deep learning.", "grade", "list",
                  "batch", "doctor"]),
    (["-h"], ["Usage: main [OPTIONS] COMMAND [ARGS]..."]),
    (["grade", "--help"], ["Usage: main grade [OPTIONS] [EXERCISE|TOPIC]...",
                           "grade linalg.dot           one exercise", "--submission PATH",
                           "--json FILE", "--html FILE", "--fail-under FLOAT",
                           "--timeout FLOAT", "[default: 0]"]),
    (["list", "--help"], ["Usage: main list [OPTIONS]",
                          "List the exercises: topic, id, points, framework, checks, functions to write."]),
], ids=["main", "short_option", "grade", "list"])
def test_help_texts(cli, args, texts):
    result = cli(*args)
    assert result.exit_code == 0
    for text in texts:
        assert text in result.output, text
