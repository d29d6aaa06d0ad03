"""Every exercise of the bank: the stub scores 0 as not implemented, the reference full marks,
both through the same worker path a student's code takes."""

from __future__ import annotations

import pytest

from grader import grading
from grader.catalog import EXERCISES_DIR, SOLUTIONS_DIR, catalog

IDS = list(catalog())


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
