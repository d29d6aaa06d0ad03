"""GitHub Classroom export: the workflow parses as YAML with the expected job, steps, commands
and points, and its steps, run in a real student bundle, award the points `grade` reports."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from grader import classroom, release, report
from grader.catalog import SOLUTIONS_DIR, catalog
from grader.classroom import (ClassroomError, ClassroomTest, classroom_record, encode_record,
                              export_github_classroom, export_github_classroom_cmd, record_cmd)

HW1 = [("linalg.dot", "linalg-dot", 2), ("linalg.pinv", "linalg-pinv", 1.5),
       ("linalg.pca", "linalg-pca", 2)]


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _grading_steps(workflow: dict) -> list[dict]:
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    return [s for s in steps if s.get("id")]


# ----------------------------------------------------------------------------- the YAML

def test_workflow_for_an_assignment_has_the_job_steps_commands_and_points(tmp_path):
    export = export_github_classroom(tmp_path, assignment="hw1")
    assert export.workflow == tmp_path / ".github" / "workflows" / "classroom.yml"
    assert [(t.exercise, t.step_id, t.max_score) for t in export.tests] == HW1
    assert (export.max_score, export.seed, export.assignment, export.bundle) == (5.5, 0, "hw1",
                                                                                 False)
    text = export.workflow.read_text()
    assert text.startswith(classroom.HEADER + "\n")
    data = _load(export.workflow)
    # "on" is quoted: unquoted, YAML 1.1 readers (PyYAML) take it for the boolean True.
    assert set(data) == {"name", "on", "permissions", "jobs"}
    assert data["name"] == "Autograding Tests"
    assert data["on"] == ["push", "workflow_dispatch", "repository_dispatch"]
    assert data["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    assert list(data["jobs"]) == ["run-autograding-tests"]
    job = data["jobs"]["run-autograding-tests"]
    assert "name" not in job  # the reporter finds the job's check run by its id
    assert job["runs-on"] == "ubuntu-latest"
    assert job["if"] == "github.actor != 'github-classroom[bot]'"
    steps = job["steps"]
    assert [s["name"] for s in steps] == ["Checkout code", "Set up Python", "Install the grader",
                                          "linalg.dot", "linalg.pinv", "linalg.pca",
                                          "Autograding Reporter"]
    assert steps[0]["uses"] == "actions/checkout@v4"
    assert steps[1] == {"name": "Set up Python", "uses": "actions/setup-python@v5",
                        "with": {"python-version": "3.11"}}
    assert steps[2]["run"] == "python -m pip install -e ."
    for step, (exercise, step_id, points) in zip(_grading_steps(data), HW1):
        assert step["id"] == step_id
        assert (step["shell"], step["timeout-minutes"]) == ("bash", 10)
        results = f'"$RUNNER_TEMP/{exercise}.json"'
        assert step["run"].splitlines() == [
            f"timeout 540 grade {exercise} --seed 0 --json {results} || true",
            f"python -m grader.classroom {results} --exercise {exercise} --max-score {points:g} "
            '>> "$GITHUB_OUTPUT"']
    reporter = steps[-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["with"] == {"runners": "linalg-dot,linalg-pinv,linalg-pca"}
    assert reporter["env"] == {
        "LINALG-DOT_RESULTS": "${{ steps.linalg-dot.outputs.result }}",
        "LINALG-PINV_RESULTS": "${{ steps.linalg-pinv.outputs.result }}",
        "LINALG-PCA_RESULTS": "${{ steps.linalg-pca.outputs.result }}"}


def test_every_exercise_of_the_bank_gets_a_step_with_its_public_points(tmp_path):
    export = export_github_classroom(tmp_path)
    bank = catalog()
    assert [t.exercise for t in export.tests] == list(bank)
    data = _load(export.workflow)
    steps = _grading_steps(data)
    assert [s["name"] for s in steps] == list(bank)
    for step, exercise in zip(steps, bank.values()):
        public = sum(c.points for c in exercise.checks if not c.hidden)
        assert f"--max-score {public:g} " in step["run"]
    runners = data["jobs"]["run-autograding-tests"]["steps"][-1]["with"]["runners"]
    assert runners.split(",") == [e.replace(".", "-") for e in bank]
    torch = any(e.framework == "torch" for e in bank.values())
    names = [s["name"] for s in data["jobs"]["run-autograding-tests"]["steps"]]
    assert ("Install torch (CPU)" in names) == torch


def test_torch_exercises_install_the_cpu_build_of_torch_first():
    text = classroom.render_workflow((ClassroomTest("tensors.matmul", "tensors-matmul", 3.0),),
                                     seed=0, assignment=None, torch=True)
    steps = yaml.safe_load(text)["jobs"]["run-autograding-tests"]["steps"]
    assert [s["name"] for s in steps][2:4] == ["Install torch (CPU)", "Install the grader"]
    assert steps[2]["run"] == ("python -m pip install torch --index-url "
                               "https://download.pytorch.org/whl/cpu")


def test_a_bundle_gives_its_exercises_points_and_seed(tmp_path):
    frozen_dir = tmp_path / "grader" / "_frozen"
    frozen_dir.mkdir(parents=True)
    (frozen_dir / "manifest.json").write_text(json.dumps({
        "grader_version": "0.1.0", "seed": 7, "assignment": "hw1",
        "exercises": [{"id": "linalg.dot", "points": {"small": 5, "length_1000": 2.5}}]}))
    export = export_github_classroom(tmp_path)
    assert (export.bundle, export.seed, export.assignment) == (True, 7, "hw1")
    assert [(t.exercise, t.max_score) for t in export.tests] == [("linalg.dot", 7.5)]
    (step,) = _grading_steps(_load(export.workflow))
    assert step["run"].splitlines()[0] == ('timeout 540 grade linalg.dot --seed 7 --json '
                                           '"$RUNNER_TEMP/linalg.dot.json" || true')
    assert "--max-score 7.5 " in step["run"]
    with pytest.raises(ClassroomError) as err:
        export_github_classroom(tmp_path, assignment="hw2")
    assert err.value.exit_code == 2
    assert err.value.message == (
        f"{tmp_path} is the student bundle of assignment 'hw1', not of 'hw2': export into the "
        "bundle of 'hw2' (grader release OUT -a hw2), or leave out --assignment")


def test_an_exercise_without_public_points_is_refused(tmp_path):
    course = tmp_path / "course.toml"
    course.write_text('[assignments.quiz]\nexercises = ["linalg.dot"]\n'
                      'hidden = { "linalg.dot.small" = true, "linalg.dot.length_1000" = true }\n')
    with pytest.raises(ClassroomError) as err:
        export_github_classroom(tmp_path / "out", assignment="quiz", course_path=course)
    assert err.value.message == (
        "linalg.dot has no public check with points, so a student repository cannot earn "
        'anything for it: make a check public in course.toml (hidden = { "linalg.dot.CHECK" = '
        "false }) or leave the exercise out")
    assert not (tmp_path / "out").exists()


def test_a_workflow_not_written_by_the_export_is_kept_unless_forced(tmp_path):
    target = tmp_path / ".github" / "workflows" / "classroom.yml"
    target.parent.mkdir(parents=True)
    target.write_text("name: mine\n")
    runner = CliRunner()
    out = runner.invoke(export_github_classroom_cmd, [str(tmp_path), "-a", "hw1"])
    assert out.exit_code == 2
    assert (f"Error: {target} exists and was not written by `grader export github-classroom`; "
            "move it away, or pass --force to replace it") in out.output
    assert target.read_text() == "name: mine\n"
    out = runner.invoke(export_github_classroom_cmd, [str(tmp_path), "-a", "hw1", "--force"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0] == f"Wrote {target}: 3 graded steps, 5.5 points, seed 0"
    assert out.output.splitlines()[1].startswith(f"Note: {tmp_path} is not a student bundle.")
    # Its own file it replaces without --force.
    out = runner.invoke(export_github_classroom_cmd, [str(tmp_path), "-a", "hw2"])
    assert out.exit_code == 0, out.output
    assert [s["name"] for s in _grading_steps(_load(target))] == [
        "nn.two_layer_mlp_loss", "nn.dropout", "optim.adam"]


# ----------------------------------------------------------------------------- the record

def _results_json(tmp_path: Path, grade_files, source: str) -> Path:
    result = grade_files({"linalg.py": source}, ids=("linalg.dot",), hidden=False)
    path = tmp_path / "results.json"
    path.write_text(report.render_json(result))
    return path


FIRST_THREE = """\
    def dot(u, v):
        if len(u) != len(v):
            raise ValueError("lengths differ")
        return float(sum(u[i] * v[i] for i in range(min(len(u), 3))))
    """


def test_record_gives_each_check_the_points_grade_gave_it(tmp_path, grade_files):
    path = _results_json(tmp_path, grade_files, FIRST_THREE)
    record = classroom_record(path, exercise="linalg.dot", max_score=2)
    assert (record["version"], record["status"], record["max_score"]) == (1, "fail", 2)
    small, long = record["tests"]
    assert (small["name"], small["status"], small["score"], small["message"]) == (
        "linalg.dot: small", "pass", 1.0, "")
    assert (long["name"], long["status"], long["score"]) == ("linalg.dot: length_1000", "fail",
                                                            0.0)
    assert long["message"].startswith("dot for two vectors of length 1000: got ")
    assert long["message"].endswith("(abs diff 56.1558, rel diff 1.00855; rtol=1e-12, "
                                    "atol=1e-10)")
    assert all(t["test_code"] == "grade linalg.dot" and t["line_no"] == 0 for t in record["tests"])
    assert small["filename"].endswith("linalg.py")


def test_record_names_the_known_mistake(tmp_path, grade_files):
    path = _results_json(tmp_path, grade_files, """\
        def dot(u, v):
            if len(u) != len(v):
                raise ValueError("lengths differ")
            return float(sum(u[i] * v[i] for i in range(len(u) - 1)))
        """)
    record = classroom_record(path, exercise="linalg.dot", max_score=2)
    assert [(t["status"], t["score"]) for t in record["tests"]] == [("fail", 0.0), ("fail", 0.0)]
    assert record["tests"][0]["message"].endswith(
        "\nLikely cause: your loop skips the last element: range(len(u) - 1) instead of "
        "range(len(u))")


def test_record_of_the_reference_passes_with_full_points(tmp_path, grade_files):
    path = _results_json(tmp_path, grade_files, (SOLUTIONS_DIR / "linalg.py").read_text())
    record = classroom_record(path, exercise="linalg.dot", max_score=2)
    assert record["status"] == "pass"
    assert sum(t["score"] for t in record["tests"]) == 2


def _error(record: dict) -> tuple:
    (test,) = record["tests"]
    return record["status"], record["max_score"], test["status"], test["score"], test["message"]


def test_record_fails_closed_without_results_or_with_other_points(tmp_path, grade_files):
    assert _error(classroom_record(tmp_path / "absent.json", exercise="linalg.dot",
                                   max_score=2)) == (
        "error", 2, "error", 0,
        "grade did not write its results for linalg.dot (its log above says why); this "
        "exercise scores 0")
    path = _results_json(tmp_path, grade_files, (SOLUTIONS_DIR / "linalg.py").read_text())
    assert _error(classroom_record(path, exercise="linalg.pca", max_score=2)) == (
        "error", 2, "error", 0, "grade's results hold no linalg.pca")
    assert _error(classroom_record(path, exercise="linalg.dot", max_score=4)) == (
        "error", 4, "error", 0,
        "grade offers 2.0 points for linalg.dot, this workflow 4: the workflow does not match "
        "this repository; write it again with `grader export github-classroom`")


def test_record_clamps_a_score_to_the_points_of_its_check(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"exercises": [{
        "id": "linalg.dot", "max_score": 2, "status": "passed", "file": "exercises/linalg.py",
        "checks": [{"name": "small", "points": 1, "score": 50, "status": "passed"},
                   {"name": "length_1000", "points": 1, "score": 1, "status": "failed"}]}]}))
    record = classroom_record(path, exercise="linalg.dot", max_score=2)
    assert [(t["status"], t["score"]) for t in record["tests"]] == [("pass", 1), ("fail", 0)]


def test_record_of_an_exercise_without_checks_carries_its_message(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"exercises": [{
        "id": "linalg.dot", "max_score": 2, "status": "missing", "file": "", "checks": [],
        "message": "the submission has no linalg.py (expected in exercises)"}]}))
    record = classroom_record(path, exercise="linalg.dot", max_score=2)
    assert record == {"version": 1, "status": "fail", "max_score": 2, "tests": [{
        "name": "linalg.dot", "status": "fail", "score": 0,
        "message": "the submission has no linalg.py (expected in exercises)",
        "test_code": "grade linalg.dot", "filename": "", "line_no": 0, "duration": 0}]}


def test_record_command_prints_the_base64_step_output(tmp_path, grade_files):
    path = _results_json(tmp_path, grade_files, FIRST_THREE)
    out = CliRunner().invoke(record_cmd, [str(path), "--exercise", "linalg.dot",
                                          "--max-score", "2"])
    assert out.exit_code == 0, out.output
    line = out.output.strip()
    assert line == encode_record(classroom_record(path, exercise="linalg.dot", max_score=2.0))
    key, _, value = line.partition("=")
    record = json.loads(base64.b64decode(value))
    assert key == "result"
    assert [(t["name"], t["score"]) for t in record["tests"]] == [("linalg.dot: small", 1.0),
                                                                  ("linalg.dot: length_1000", 0)]


# ----------------------------------------------------------------------------- end to end

@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A student bundle of linalg.dot with the workflow exported into it."""
    out = tmp_path_factory.mktemp("classroom") / "hw"
    release.release(out=out, exercises=[catalog()["linalg.dot"]])
    export = export_github_classroom(out)
    assert (export.bundle, [(t.exercise, t.max_score) for t in export.tests]) == (
        True, [("linalg.dot", 2.0)])
    return out


def _run_workflow(bundle: Path, tmp_path: Path) -> tuple[float, float, list[dict]]:
    """Run the workflow's grading steps as GitHub Actions would, in a copy of the bundle,
    then add up the points as the reporter does."""
    shims = tmp_path / "bin"
    shims.mkdir()
    for name, command in (("grade", f'exec {sys.executable} -m grader.cli grade "$@"'),
                          ("python", f'exec {sys.executable} "$@"')):
        (shims / name).write_text(f"#!/bin/sh\n{command}\n")
        (shims / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{shims}:{os.environ['PATH']}", "PYTHONPATH": str(bundle),
           "PYTHONDONTWRITEBYTECODE": "1", "RUNNER_TEMP": str(tmp_path)}
    data = _load(bundle / ".github" / "workflows" / "classroom.yml")
    job = data["jobs"]["run-autograding-tests"]
    records = {}
    for step in _grading_steps(data):
        output = tmp_path / f"output-{step['id']}"
        subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                       cwd=bundle, env={**env, "GITHUB_OUTPUT": str(output)}, check=True,
                       capture_output=True, timeout=300)
        key, _, value = output.read_text().strip().partition("=")
        assert key == "result"
        records[step["id"]] = json.loads(base64.b64decode(value))
    reporter = job["steps"][-1]
    assert reporter["with"]["runners"].split(",") == list(records)
    total = sum(t["score"] for r in records.values() for t in r["tests"])
    return total, sum(r["max_score"] for r in records.values()), list(records.values())


def test_in_the_bundle_the_stub_earns_nothing(bundle, tmp_path):
    total, most, (record,) = _run_workflow(bundle, tmp_path)
    assert (total, most, record["status"]) == (0, 2, "fail")
    assert [(t["name"], t["status"], t["message"]) for t in record["tests"]] == [
        ("linalg.dot: small", "fail", "not implemented yet (raises NotImplementedError)"),
        ("linalg.dot: length_1000", "fail", "not implemented yet (raises NotImplementedError)")]


def test_in_the_bundle_the_reference_earns_every_point(bundle, tmp_path_factory, tmp_path):
    solved = tmp_path_factory.mktemp("solved") / "hw"
    subprocess.run(["cp", "-r", str(bundle), str(solved)], check=True)
    (solved / "exercises" / "linalg.py").write_text((SOLUTIONS_DIR / "linalg.py").read_text())
    total, most, (record,) = _run_workflow(solved, tmp_path)
    assert (total, most, record["status"]) == (2, 2, "pass")
    assert [(t["name"], t["status"], t["score"]) for t in record["tests"]] == [
        ("linalg.dot: small", "pass", 1), ("linalg.dot: length_1000", "pass", 1)]
