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


def test_the_project_course_file_covers_the_bank_once():
    loaded = course.load()
    assert list(loaded.assignments)[:2] == ["hw1", "hw2"]
    assert loaded.assignment("hw1").exercises == ("linalg.dot", "linalg.pinv", "linalg.pca")
    listed = [e for a in loaded.assignments.values() for e in a.exercises]
    assert all(e in catalog() for e in listed)
    assert len(listed) == len(set(listed))  # no exercise in two assignments


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


def test_limits_come_from_the_course_file(tmp_path):
    path = write(tmp_path, """
        [limits]
        call_seconds = 2.5
        memory_mib = 512
        output_kib = 64
        """)
    limits = course.limits(path)
    assert limits.call_seconds == 2.5
    assert limits.memory_bytes == 512 * 2**20 and limits.output_bytes == 64 * 2**10
    assert limits.cpu_seconds == 60  # left out: the default
    assert course.limits(path, call_seconds=1).call_seconds == 1


def test_an_unknown_or_bad_limit_is_refused_with_its_line(tmp_path):
    path = write(tmp_path, """
        [limits]
        call_seconds = 2
        memory_gb = 4
        """)
    with pytest.raises(course.CourseError, match=r"line 4: unknown limit 'memory_gb'; known: "
                                                 r"call_seconds, cpu_seconds, memory_mib"):
        course.load(path)
    path = write(tmp_path, "[limits]\ncall_seconds = -1\n")
    with pytest.raises(course.CourseError, match=r"line 2: limits.call_seconds must be a "
                                                 r"positive number"):
        course.load(path)


def test_a_small_memory_limit_ends_the_exercise_in_plain_words(grade_one, tmp_path):
    path = write(tmp_path, "[limits]\nmemory_mib = 1024\n")
    hog = "import numpy as np\ndef dot(u, v):\n    np.ones(2 * 10**9)\n    return 0.0\n"
    result = grade_one("linalg.dot", {"linalg.py": hog}, limits=course.limits(path))
    assert result.status == "error" and result.score == 0
    assert result.message == ("linalg.dot exceeded the 1 GiB memory limit during check "
                              "'small'")
