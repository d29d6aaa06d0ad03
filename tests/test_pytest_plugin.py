"""The pytest plugin: one item per public check, verdicts from the grader's worker.

Each test runs pytest (pytester) on a temporary project holding an ``exercises/linalg.py``,
with the plugin loaded by ``-p grader.pytest_plugin`` (entry-point plugins are not autoloaded,
so the tests hold whether or not the package is installed with its ``pytest11`` entry point).
The plugin module is imported here first, as the entry point does; ``--assert=plain`` keeps
pytest from warning that it can no longer rewrite its asserts (it has none).
"""

from __future__ import annotations

import builtins
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import reference_source
import grader.pytest_plugin  # noqa: F401 - imported before the runs, as by the entry point
from grader import grading, release
from grader.catalog import ROOT, select

pytest_plugins = ["pytester"]

PLUGIN = ("-p", "grader.pytest_plugin", "--assert=plain")
DOT_AND_PINV = ("--grader-exercise", "linalg.dot", "--grader-exercise", "linalg.pinv")
OFF_BY_ONE = "your loop skips the last element: range(len(u) - 1) instead of range(len(u))"
WRONG = """
    import numpy as np

    def dot(u, v):
        return sum(u[i] * v[i] for i in range(len(u) - 1))

    def pinv(A, rtol=None):
        raise NotImplementedError("linalg.pinv: implement pinv(A, rtol=None)")
    """


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch) -> pytest.Pytester:
    """A folder with ``exercises/`` and pytest running there without autoloaded plugins."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.mkdir("exercises")
    return pytester


def _write(project: pytest.Pytester, source: str, name: str = "exercises/linalg.py") -> Path:
    path = project.path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def test_each_public_check_is_an_item_with_the_graders_verdict(project):
    _write(project, WRONG)
    result = project.runpytest(*PLUGIN, "--grader", *DOT_AND_PINV, "-v", "-rs")
    result.assert_outcomes(failed=2, skipped=3)
    result.stdout.fnmatch_lines([
        "grader: public checks of 2 exercises in */exercises (seed 0, no timing); student "
        "code runs in the grader's workers",
        "exercises/linalg.py::linalg.dot::small FAILED*",
        "exercises/linalg.py::linalg.dot::length_1000 FAILED*",
        "exercises/linalg.py::linalg.pinv::square SKIPPED*",
        "exercises/linalg.py::linalg.pinv::tall SKIPPED*",
        "exercises/linalg.py::linalg.pinv::wide SKIPPED*",
    ])
    # The failure text is the grader's message, then the diagnosis of the known mistake.
    result.stdout.fnmatch_lines([
        "*_ check linalg.dot::small _*",
        "dot for two vectors of length 3: got -5.29182, expected -4.4996 (abs diff 0.792216, "
        "rel diff 0.176064; rtol=1e-12, atol=1e-12)",
        f"-> {OFF_BY_ONE}",
        "(check 'small' of linalg.dot: two short vectors; 0 / 1 points)",
        "*_ check linalg.dot::length_1000 _*",
        "dot for two vectors of length 1000: got -59.0955, expected -55.6796 (abs diff "
        "3.41585, rel diff 0.0613482; rtol=1e-12, atol=1e-10)",
        f"-> {OFF_BY_ONE}",
    ])
    # Not implemented: skipped with the reason, at the stub's line in the student's file.
    result.stdout.fnmatch_lines([
        "*= grader =*",
        "linalg.dot                       0 / 2     failed",
        "linalg.pinv                      0 / 1.5   not implemented",
        "points                           0 / 3.5  (public checks only)",
        "SKIPPED [3] exercises/linalg.py:7: not implemented yet (raises NotImplementedError)",
    ])


def test_a_correct_submission_passes_every_public_check(project):
    _write(project, reference_source("linalg"))
    result = project.runpytest(*PLUGIN, "--grader", *DOT_AND_PINV)
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["linalg.dot                       2 / 2     passed",
                                 "linalg.pinv                    1.5 / 1.5   passed",
                                 "points                         3.5 / 3.5  (public checks only)"])


def test_each_exercise_is_graded_once_and_student_code_never_runs_in_pytest(project,
                                                                           monkeypatch):
    """Even named on the command line (where pytest would import a .py file itself), the
    student's file is only read by the worker: its import-time code never runs here."""
    calls = []
    real = grading.grade

    def counted(**kwargs):
        calls.append([e.id for e in kwargs["exercises"]])
        return real(**kwargs)

    monkeypatch.setattr(grading, "grade", counted)
    monkeypatch.delattr(builtins, "GRADER_TEST_IMPORTED", raising=False)
    _write(project, "import builtins\nbuiltins.GRADER_TEST_IMPORTED = True\n"
           + reference_source("linalg"))
    result = project.runpytest(*PLUGIN, "--grader", "-v",
                               "exercises/linalg.py::linalg.dot::small",
                               "exercises/linalg.py::linalg.dot::length_1000",
                               "exercises/linalg.py::linalg.pinv::tall")
    result.assert_outcomes(passed=3)
    assert calls == [["linalg.dot"], ["linalg.pinv"]]
    assert not hasattr(builtins, "GRADER_TEST_IMPORTED")
    result.stdout.fnmatch_lines(["exercises/linalg.py::linalg.dot::small PASSED*",
                                 "exercises/linalg.py::linalg.dot::length_1000 PASSED*",
                                 "exercises/linalg.py::linalg.pinv::tall PASSED*"])


def test_a_crash_fails_every_check_of_its_exercise_with_the_cause(project):
    _write(project, """
        import os

        def dot(u, v):
            raise RuntimeError("\\x1b[32mPASSED\\x1b[0m")

        def pinv(A, rtol=None):
            os._exit(3)
        """, name="work/hw1.py")
    result = project.runpytest(*PLUGIN, "--grader", "--grader-submission", "work/hw1.py",
                               *DOT_AND_PINV)
    result.assert_outcomes(failed=5)
    crash = ("linalg.pinv exited with code 3 (os._exit, or the interpreter stopped) during "
             "check 'square'")
    result.stdout.fnmatch_lines([
        "*_ check linalg.dot::small _*",
        # Student text cannot draw on the terminal: the escape code arrives as text.
        "dot raised RuntimeError: \\x1b[32mPASSED\\x1b[0m (submission.py, line 5, in dot: *",
        "*_ check linalg.pinv::wide _*",
        crash,
        "(linalg.pinv scores 0 / 1.5 points)",
        "linalg.pinv                      0 / 1.5   error",
        f"linalg.pinv: {crash}",
    ])
    assert "\x1b[32m" not in result.stdout.str()


def test_nothing_is_collected_unless_asked(project):
    _write(project, WRONG)
    _write(project, "def test_own():\n    pass\n", name="tests/test_own.py")
    result = project.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1)
    assert "grader:" not in result.stdout.str()
    # --no-grader wins over the ini file.
    project.makeini("[pytest]\ngrader = true\n")
    result = project.runpytest(*PLUGIN, "--no-grader", "--collect-only", "-q")
    assert result.stdout.lines[0] == "tests/test_own.py::test_own"
    result.stdout.fnmatch_lines(["1 test collected in *"])


def test_the_projects_own_suite_is_untouched_and_checks_come_only_when_asked(project):
    """In this project's own tree (its pyproject.toml, its stubs), the plugin collects nothing
    unless --grader is given."""
    config = ("--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"))
    result = project.runpytest(*PLUGIN, *config, "--collect-only", "-q", str(ROOT / "exercises"))
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result = project.runpytest(*PLUGIN, *config, "--collect-only", "-q", "--grader",
                               "--grader-submission", str(ROOT / "exercises"),
                               "--grader-exercise", "linalg.dot", str(ROOT / "exercises"))
    assert result.ret == pytest.ExitCode.OK
    assert result.stdout.lines[:2] == ["exercises/linalg.py::linalg.dot::small",
                                       "exercises/linalg.py::linalg.dot::length_1000"]


def test_the_ini_file_turns_it_on_and_testpaths_do_not_hide_the_submission(project):
    _write(project, WRONG)
    _write(project, "def test_own():\n    pass\n", name="tests/test_own.py")
    project.makeini("[pytest]\ntestpaths = tests\ngrader = true\n")
    result = project.runpytest(*PLUGIN, "--grader-exercise", "linalg.pinv", "--collect-only",
                               "-q")
    assert result.stdout.lines[:4] == ["tests/test_own.py::test_own",
                                       "exercises/linalg.py::linalg.pinv::square",
                                       "exercises/linalg.py::linalg.pinv::tall",
                                       "exercises/linalg.py::linalg.pinv::wide"]
    result.stdout.fnmatch_lines(["4 tests collected in *"])


def test_a_conftest_can_turn_it_on(project):
    _write(project, WRONG)
    project.makeconftest("def pytest_configure(config):\n    config.option.grader = True\n")
    result = project.runpytest(*PLUGIN, "--grader-exercise", "linalg.dot", "--collect-only",
                               "-q")
    assert result.stdout.lines[:2] == ["exercises/linalg.py::linalg.dot::small",
                                       "exercises/linalg.py::linalg.dot::length_1000"]


def test_bad_options_are_usage_errors_that_say_what_to_do(project):
    result = project.runpytest(*PLUGIN, "--grader")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: grader: */exercises holds no .py files; point "
                                 "--grader-submission at a folder laid out like exercises/ or "
                                 "at a single .py file"])
    _write(project, WRONG)
    result = project.runpytest(*PLUGIN, "--grader", "--grader-exercise", "linalg.nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: grader: no exercise or topic 'linalg.nope'; known: *"])
    result = project.runpytest(*PLUGIN, "--grader", "--grader-submission", "absent")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: grader: no such file or folder: */absent"])


@pytest.mark.slow
def test_in_the_student_bundle_pytest_collects_the_public_checks_unasked(tmp_path):
    bundle = tmp_path / "bundle"
    release.release(out=bundle, exercises=select(("linalg.dot",)))
    (bundle / "exercises" / "linalg.py").write_text(textwrap.dedent(WRONG), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(bundle), "PYTHONDONTWRITEBYTECODE": "1",
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    run = subprocess.run([sys.executable, "-m", "pytest", *PLUGIN, "-p", "no:cacheprovider"],
                         cwd=bundle, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout + run.stderr
    assert "exercises/linalg.py FF" in run.stdout
    assert f"-> {OFF_BY_ONE}" in run.stdout
    assert "points                           0 / 2  (public checks only)" in run.stdout
    assert "2 failed" in run.stdout.splitlines()[-1]
