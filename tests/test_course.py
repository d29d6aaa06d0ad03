"""The course file: assignments select exercises with their points and check visibility."""

from __future__ import annotations

import textwrap

import pytest

from grader import course
from grader.catalog import catalog


def write(tmp_path, text: str):
    path = tmp_path / "course.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_project_course_file_loads_with_two_assignments():
    loaded = course.load()
    assert list(loaded.assignments) == ["hw1", "hw2"]
    assert loaded.assignment("hw1").exercises == ("linalg.dot", "linalg.pinv", "linalg.pca")
    assert all(e in catalog() for a in loaded.assignments.values() for e in a.exercises)


def test_points_are_scaled_and_visibility_overridden(tmp_path):
    path = write(tmp_path, """
        [assignments.hw1]
        exercises = ["linalg.dot"]
        points = { "linalg.dot" = 10 }
        hidden = { "linalg.dot.length_mismatch" = false, "linalg.dot.small" = true }
        """)
    (dot,) = course.exercises_for("hw1", course_path=path)
    assert dot.max_score == pytest.approx(10)
    original = catalog()["linalg.dot"]
    ratio = 10 / original.max_score
    assert [c.points for c in dot.checks] == pytest.approx([c.points * ratio
                                                            for c in original.checks])
    hidden = {c.name: c.hidden for c in dot.checks}
    assert hidden["length_mismatch"] is False and hidden["small"] is True


def test_unknown_exercise_is_refused_with_its_line(tmp_path):
    path = write(tmp_path, """
        [assignments.hw1]
        title = "Linear algebra"
        exercises = ["linalg.dot", "linalg.nope"]
        """)
    with pytest.raises(course.CourseError) as info:
        course.load(path)
    message = info.value.format_message()
    assert message.startswith(f"{path}, line 4: assignment 'hw1' names the unknown exercise "
                              "'linalg.nope'; known: linalg.dot")
    assert info.value.exit_code == 2


def test_invalid_toml_is_refused_with_the_line_and_reason(tmp_path):
    path = write(tmp_path, """
        [assignments.hw1]
        exercises = ["linalg.dot"
        title = 3
        """)
    with pytest.raises(course.CourseError) as info:
        course.load(path)
    message = info.value.format_message()
    assert message.startswith(f"{path}, line ")
    assert "not valid TOML" in message


def test_unknown_assignment_names_the_known_ones():
    with pytest.raises(course.CourseError, match=r"no assignment 'hw9'; known: hw1, hw2"):
        course.load().assignment("hw9")


def test_bad_hidden_key_is_refused(tmp_path):
    path = write(tmp_path, """
        [assignments.hw1]
        exercises = ["linalg.dot"]
        hidden = { "linalg.dot.no_such_check" = true }
        """)
    with pytest.raises(course.CourseError, match=r"line 4: hidden.'linalg.dot.no_such_check' "
                                                 r"must name a check"):
        course.load(path)


def test_grade_with_an_assignment_grades_only_its_exercises(grade_files, tmp_path):
    path = write(tmp_path, """
        [assignments.only_dot]
        exercises = ["linalg.dot"]
        points = { "linalg.dot" = 2 }
        """)
    from conftest import reference_source

    chosen = course.exercises_for("only_dot", course_path=path)
    result = grade_files({"linalg.py": reference_source("linalg")}, exercises=chosen)
    assert [e.id for e in result.exercises] == ["linalg.dot"]
    assert result.score == pytest.approx(2) and result.max_score == pytest.approx(2)
