"""Running as a Gradescope autograder: the zip, and one submission graded into results.json."""

from __future__ import annotations

import json
import zipfile

from click.testing import CliRunner

from grader import gradescope
from grader.catalog import SOLUTIONS_DIR
from grader.cli import main


def test_autograder_zip_has_executable_scripts_and_the_grader(tmp_path):
    path = gradescope.write_autograder(tmp_path, assignment="hw1")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        run = zf.read("run_autograder").decode()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert {"setup.sh", "run_autograder", "pyproject.toml", "course.toml",
            "grader/cli.py", "solutions/linalg.py", "exercises/linalg.py"} <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert "--submission /autograder/submission" in run
    assert "--results /autograder/results/results.json" in run
    assert "--assignment hw1" in run
    assert not any("__pycache__" in n or "_frozen" in n for n in names)
    # hw1 is numpy only: no torch in the image
    assert "torch" not in zf_text(path, "setup.sh")


def zf_text(path, name: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name).decode()


def test_an_assignment_with_torch_exercises_installs_the_cpu_build(tmp_path):
    setup = zf_text(gradescope.write_autograder(tmp_path, assignment="hw7"), "setup.sh")
    assert ("/autograder/venv/bin/pip install torch --index-url "
            "https://download.pytorch.org/whl/cpu\n") in setup
    assert setup.index("torch --index-url") < setup.index("pip install -e /autograder/source")


def test_gradescope_run_writes_valid_results_for_one_submission(tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "linalg.py").write_text((SOLUTIONS_DIR / "linalg.py").read_text())
    results = tmp_path / "results" / "results.json"
    out = CliRunner().invoke(main, ["gradescope-run", "--submission", str(submission),
                                    "--results", str(results), "-a", "hw1"])
    assert out.exit_code == 0, out.output
    data = json.loads(results.read_text())
    assert data["score"] == 12
    assert data["execution_time"] > 0
    tests = data["tests"]
    assert {t["visibility"] for t in tests} == {"visible", "after_published"}
    assert all(t["score"] == t["max_score"] for t in tests)
    assert sum(t["max_score"] for t in tests) == 12
    assert "score 12; results written to" in out.output


def test_gradescope_run_turns_an_unreadable_submission_into_a_zero(tmp_path):
    results = tmp_path / "results.json"
    empty = tmp_path / "empty"
    empty.mkdir()
    out = CliRunner().invoke(main, ["gradescope-run", "--submission", str(empty),
                                    "--results", str(results)])
    assert out.exit_code == 0
    data = json.loads(results.read_text())
    assert data["score"] == 0 and data["tests"] == []
    assert data["output"].startswith("Your submission could not be graded: ")
    assert "holds no .py files" in data["output"]
