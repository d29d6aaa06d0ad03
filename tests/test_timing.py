"""Timing beyond the slow flag: the scaling exponent against the reference's, and speed
points (off unless an exercise declares a speed check), through the real worker path.

A temporary topic ``tscale`` (so these tests depend on no bank exercise): ``prefix_total(x)``
returns sum(x) computed any way the student likes; the reference is linear in n, the slow
student sums every prefix (quadratic).
"""

from __future__ import annotations

import numpy as np
import pytest

from grader import grading, report, timing
from grader.catalog import Call, Case, Check, Exercise, Scaling, Timing, speed_check
from grader.judges import matches

REFERENCE = "import numpy as np\n\ndef prefix_total(x):\n    return float(np.sum(x))\n"
QUADRATIC = ("def prefix_total(x):\n    total = 0.0\n    for i in range(len(x)):\n"
             "        for j in range(i + 1):\n            if j == i:\n"
             "                total += x[i]\n    return float(total)\n")


def _case(rng: np.random.Generator) -> Case:
    return Case((Call("prefix_total", (rng.standard_normal(20),)),), "20 numbers")


def _sized(rng: np.random.Generator, n: int) -> Call:
    return Call("prefix_total", (rng.standard_normal(n),), send=False)


def _exercise(*extra_checks: Check, scaling: bool = True) -> Exercise:
    return Exercise(
        id="tscale.prefix_total", title="Prefix total", functions=("prefix_total",),
        checks=(Check("small", _case, matches(), points=1.0), *extra_checks),
        timing=Timing(lambda rng: _sized(rng, 1000), slow_ratio=10.0, advice="use np.sum",
                      scaling=Scaling(_sized, (200, 400, 800, 1600)) if scaling else None))


@pytest.fixture
def grade_total(write_submission, use_solutions):
    use_solutions({"tscale.py": REFERENCE})

    def run(source: str, exercise: Exercise, *, time_it: bool = True):
        folder = write_submission({"tscale.py": source})
        return grading.grade(submission=folder, exercises=[exercise], time_it=time_it)

    return run


def test_exponent_is_the_log_log_slope():
    assert timing.exponent([10, 20, 40], [1.0, 4.0, 16.0]) == pytest.approx(2.0, abs=1e-12)
    assert timing.exponent([10, 20, 40], [3.0, 3.0, 3.0]) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.slow
def test_a_quadratic_solution_is_told_it_scales_worse_than_the_reference(grade_total):
    graded = grade_total(QUADRATIC, _exercise())
    result = graded.exercises[0]
    assert (result.status, result.score) == ("passed", 1.0)  # correct: points are kept
    t = result.timing
    assert t.scales_differently and t.student_exponent > 1.5 and t.reference_exponent < 1.3
    text = report.render_terminal(graded)
    assert (f"scaling: your time grows as n^{t.student_exponent:.1f}; the reference's as "
            f"n^{t.reference_exponent:.1f}") in text
    assert ("-> a different complexity than the reference's: your work grows faster with n "
            "than it needs to") in text


@pytest.mark.slow
def test_the_reference_scales_like_itself(grade_total):
    result = grade_total(REFERENCE, _exercise()).exercises[0]
    assert not result.timing.scales_differently
    assert abs(result.timing.student_exponent - result.timing.reference_exponent) <= 0.5


def test_speed_points_go_to_a_fast_solution(grade_total):
    result = grade_total(REFERENCE, _exercise(speed_check(2.0, within=3.0), scaling=False)
                         ).exercises[0]
    speed = result.checks[-1]
    assert (result.status, result.score, result.max_score) == ("passed", 3.0, 3.0)
    assert (speed.name, speed.status, speed.score) == ("speed", "passed", 2.0)
    assert speed.message.endswith("x the reference's time per call, within 3x")


def test_speed_points_are_withheld_from_a_slow_solution_with_the_ratio(grade_total):
    result = grade_total(QUADRATIC, _exercise(speed_check(2.0, within=3.0), scaling=False)
                         ).exercises[0]
    speed = result.checks[-1]
    assert (result.status, result.score) == ("partial", 1.0)
    assert (speed.status, speed.score) == ("failed", 0.0)
    assert speed.message.endswith("x the reference's time per call; the points need 3x or "
                                  "less (use np.sum)")
    assert result.message == f"check 'speed': {speed.message}"


def test_without_timing_speed_points_fail_closed_with_the_reason(grade_total):
    result = grade_total(REFERENCE, _exercise(speed_check(2.0), scaling=False),
                         time_it=False).exercises[0]
    speed = result.checks[-1]
    assert (result.status, result.score, result.max_score) == ("partial", 1.0, 3.0)
    assert (speed.status, speed.score) == ("skipped", 0.0)
    assert speed.message == ("not timed (graded with --no-timing): speed points need the "
                             "timing")


def test_a_stub_with_a_speed_check_is_still_not_implemented(grade_total):
    stub = "def prefix_total(x):\n    raise NotImplementedError('tscale.prefix_total')\n"
    result = grade_total(stub, _exercise(speed_check(2.0), scaling=False)).exercises[0]
    assert (result.status, result.score) == ("not_implemented", 0.0)
