"""Every exercise of the bank: the stub scores 0 as not implemented, the reference full marks,
both through the same worker path a student's code takes."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest

import grader.bank
from grader import frozen, grading
from grader.catalog import EXERCISES_DIR, ROOT, SOLUTIONS_DIR, catalog

IDS = list(catalog())


def test_the_catalog_follows_the_course():
    """Topics in the bank's ORDER, each in one run, and a topic's exercises in the order of
    their stubs in exercises/, also where a topic's checks span modules (eigen.py, then
    eigen_maps.py)."""
    topics = list(dict.fromkeys(e.topic for e in catalog().values()))
    assert [t for t in grader.bank.ORDER if t in topics] == topics
    assert [e.topic for e in catalog().values()] == sorted(
        (e.topic for e in catalog().values()), key=topics.index)
    for topic in topics:
        tree = ast.parse((EXERCISES_DIR / f"{topic}.py").read_text(encoding="utf-8"))
        stubs = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        first = [stubs.index(e.functions[0]) for e in catalog().values() if e.topic == topic]
        assert first == sorted(first), topic
    assert [i for i in IDS if i.startswith("eigen.")] == [
        "eigen.power_iteration", "eigen.spectral_decomposition", "eigen.rotation_matrix",
        "eigen.matrix_power", "eigen.hyperellipse_axes"]


@pytest.fixture(scope="module")
def stub_results():
    return {e.id: e for e in grading.grade(submission=EXERCISES_DIR, time_it=False).exercises}


@pytest.fixture(scope="module")
def reference_results():
    return {e.id: e for e in grading.grade(submission=SOLUTIONS_DIR, time_it=False).exercises}


@pytest.mark.parametrize("exercise_id", IDS)
def test_stub_scores_zero_as_not_implemented(stub_results, exercise_id):
    result = stub_results[exercise_id]
    assert result.status == "not_implemented"
    assert result.score == 0
    assert "not implemented yet" in result.message
    assert "exercises" in result.message and "NotImplementedError" in result.message


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_scores_full_marks(reference_results, exercise_id):
    result = reference_results[exercise_id]
    assert result.status == "passed", result.message
    assert result.score == result.max_score > 0
    assert all(c.status == "passed" for c in result.checks)
    assert result.diagnosis is None and all(c.diagnosis is None for c in result.checks)


@pytest.mark.parametrize("exercise_id", IDS)
def test_every_exercise_has_public_and_hidden_checks(exercise_id):
    exercise = catalog()[exercise_id]
    assert any(not c.hidden for c in exercise.checks)
    assert any(c.hidden for c in exercise.checks)
    assert len({c.name for c in exercise.checks}) == len(exercise.checks)


def test_grading_twice_gives_identical_scores(write_submission):
    folder = write_submission({"linalg.py": (SOLUTIONS_DIR / "linalg.py").read_text(),
                               "nn.py": "def dropout_forward(x, p):\n    return x\n"})
    first = grading.grade(submission=folder, time_it=False).to_dict()
    second = grading.grade(submission=folder, time_it=False).to_dict()
    strip = lambda d: [(e["id"], e["score"], e["status"], e["message"],
                        [(c["name"], c["score"], c["message"]) for c in e["checks"]])
                       for e in d["exercises"]]
    assert strip(first) == strip(second)
    assert first["score"] == second["score"]


def test_cases_are_the_same_bits_with_another_blas_kernel():
    """The bundle looks up frozen expected results by the digest of a case's inputs, so no case
    generator of the bank may depend on BLAS/LAPACK kernels (OPENBLAS_CORETYPE picks another
    one). One subprocess computes every check's digest for three seeds."""
    script = ("import json; from grader import frozen; from grader.catalog import catalog\n"
              "print(json.dumps({f'{e.id}.{c.name}.{s}': frozen.case_digest(c.build("
              "e.check_rng(c, s))) for e in catalog().values() for c in e.checks "
              "for s in range(3)}))")
    env = {**os.environ, "OPENBLAS_CORETYPE": "Prescott"}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    there = json.loads(proc.stdout.strip().splitlines()[-1])
    here = {f"{e.id}.{c.name}.{s}": frozen.case_digest(c.build(e.check_rng(c, s)))
            for e in catalog().values() for c in e.checks for s in range(3)}
    assert len(here) == 3 * sum(len(e.checks) for e in catalog().values())
    assert {k for k in here if there.get(k) != here[k]} == set()
