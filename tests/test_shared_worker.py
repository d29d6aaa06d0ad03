"""One worker grades a submission's exercises in turn while nothing an exercise started is left
running in it; an exercise that fails after another ran in its worker is graded again in a
worker of its own, so no verdict short of a pass depends on what another exercise's code did to
the process.

Each function of these submissions prints its worker's pid, so the outputs show which
exercises shared a worker.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from grader import grading
from grader.catalog import Call, Case, Check, Exercise
from grader.judges import matches

REFERENCE = """\
import numpy as np


def first(x):
    return 2.0 * np.asarray(x)


def second(x):
    return np.asarray(x) + 1.0


def third(x):
    return np.cumsum(x)
"""


def _exercise(name: str, forbidden: tuple[str, ...] = (), topic: str = "mix") -> Exercise:
    def build(rng: np.random.Generator) -> Case:
        return Case((Call(name, (rng.standard_normal(4),)),), "a vector of length 4")

    return Exercise(id=f"{topic}.{name}", title=name, functions=(name,), forbidden=forbidden,
                    checks=(Check("small", build, matches(), points=1.0),))


FIRST, SECOND, THIRD = _exercise("first"), _exercise("second"), _exercise("third")
PRINT_PID = "import os as _os\n\n\ndef _pid(name):\n    print(name, _os.getpid())\n"


@pytest.fixture
def grade_mix(write_submission, use_solutions):
    """``grade_mix(source, exercises) -> {id: ExerciseResult}``, the reference being REFERENCE."""
    use_solutions({"mix.py": REFERENCE})

    def run(source: str, exercises: list[Exercise] = (FIRST, SECOND, THIRD), *,
            others: dict[str, str] | None = None) -> dict:
        folder = write_submission({"mix.py": PRINT_PID + source, **(others or {})})
        result = grading.grade(submission=folder, exercises=list(exercises), time_it=False)
        return {r.id: r for r in result.exercises}

    return run


def pids(results: dict) -> dict[str, int]:
    """The worker pid each exercise printed (the last one printed)."""
    found = {}
    for ex_id, result in results.items():
        lines = re.findall(r"^\w+ (\d+)$", result.output, re.M)
        found[ex_id] = int(lines[-1]) if lines else None
    return found


def assert_passed(result) -> None:
    assert (result.status, result.score, result.message) == ("passed", 1.0,
                                                             "all 1 checks passed")


CORRECT = """
import numpy as np


def first(x):
    _pid("first")
    return 2.0 * np.asarray(x)


def second(x):
    _pid("second")
    return np.asarray(x) + 1.0


def third(x):
    _pid("third")
    return np.cumsum(x)
"""


def test_a_clean_submission_is_graded_in_one_worker_each_exercise_with_its_own_output(
        grade_mix):
    results = grade_mix(CORRECT)
    for result in results.values():
        assert_passed(result)
    shared = pids(results)
    assert len(set(shared.values())) == 1
    # What each exercise printed is its own, though the worker is the same.
    for ex_id, result in results.items():
        name = ex_id.split(".")[1]
        assert result.output == f"{name} {shared[ex_id]}\n"


def test_a_patch_made_by_one_exercise_costs_another_nothing(grade_mix):
    # first passes, and breaks np.cumsum for whatever runs after it in its process.
    source = CORRECT.replace('    _pid("first")\n',
                             '    _pid("first")\n    np.cumsum = lambda x: x\n')
    results = grade_mix(source)
    for result in results.values():
        assert_passed(result)
    worker = pids(results)
    # third (np.cumsum) failed where first had run, so it was graded again in a fresh worker.
    assert worker["mix.second"] == worker["mix.first"]
    assert worker["mix.third"] != worker["mix.first"]


def test_a_wrong_exercise_gets_the_verdict_it_gets_alone(grade_mix):
    # second returns the right answer only after first has run in the same module: graded
    # alone it is wrong, and so it is here (each exercise runs the module afresh).
    source = CORRECT.replace('    _pid("first")\n', '    _pid("first")\n    _SEEN.append(1)\n'
                             ).replace("return np.asarray(x) + 1.0",
                                       "return np.asarray(x) + len(_SEEN)") + "\n_SEEN = []\n"
    together = grade_mix(source)
    alone = grade_mix(source, [SECOND])["mix.second"]
    second = together["mix.second"]
    assert (second.status, second.score) == ("failed", 0.0)
    assert second.message.startswith("check 'small': ")
    assert (second.status, second.score, second.message) == (alone.status, alone.score,
                                                              alone.message)
    assert_passed(together["mix.first"])
    assert_passed(together["mix.third"])


@pytest.mark.parametrize("left", [
    "import threading, time\n    threading.Thread(target=time.sleep, args=(30,), daemon=True)"
    ".start()",
    "import os, time\n    if os.fork() == 0:\n        time.sleep(30)\n        os._exit(0)",
    # reaped by its parent: the daemon is the session init's child, not the worker's
    "import os, time\n    pid = os.fork()\n    if pid == 0:\n        os.setsid()\n"
    "        if os.fork() == 0:\n            time.sleep(30)\n        os._exit(0)\n"
    "    os.waitpid(pid, 0)",
], ids=["thread", "child", "detached-daemon"])
def test_something_left_running_ends_the_workers_turn(grade_mix, left):
    source = CORRECT.replace('    _pid("first")\n', f'    _pid("first")\n    {left}\n')
    results = grade_mix(source)
    for result in results.values():
        assert_passed(result)
    worker = pids(results)
    assert worker["mix.second"] != worker["mix.first"]  # a fresh worker after first
    assert worker["mix.third"] == worker["mix.second"]


def test_each_exercise_forbids_its_own_calls_in_a_shared_worker(grade_mix):
    no_cumsum = _exercise("second", forbidden=("numpy.cumsum",))
    # Bound at import: the name is the grader's stand-in, which calls numpy's own function
    # wherever the exercise being graded allows it.
    source = CORRECT.replace("import numpy as np\n", "import numpy as np\nfrom numpy import "
                             "cumsum\n").replace("return 2.0 * np.asarray(x)",
                                                 "return 2.0 * (cumsum(x) - cumsum(x) + x)"
                                                 ).replace("return np.asarray(x) + 1.0",
                                                           "return cumsum(x) * 0 + x + 1.0")
    results = grade_mix(source, [FIRST, no_cumsum, THIRD])
    assert_passed(results["mix.first"])
    assert_passed(results["mix.third"])
    second = results["mix.second"]
    assert (second.status, second.score) == ("failed", 0.0)
    assert second.message == ("check 'small': uses numpy.cumsum, which this exercise does not "
                              "allow (an honesty check): compute it from the math in the "
                              "docstring")
    worker = pids(results)
    assert worker["mix.second"] != worker["mix.first"]  # graded again alone: same verdict


def test_an_exercise_that_allows_a_call_shares_the_worker_of_one_that_forbids_it(grade_mix):
    no_cumsum = _exercise("first", forbidden=("numpy.cumsum",))
    results = grade_mix(CORRECT, [no_cumsum, SECOND, THIRD])  # third uses np.cumsum
    for result in results.values():
        assert_passed(result)
    assert len(set(pids(results).values())) == 1


def test_an_exercise_not_implemented_yet_leaves_the_worker_to_the_next(grade_mix):
    source = CORRECT.replace("    return np.asarray(x) + 1.0", "    raise NotImplementedError")
    results = grade_mix(source)
    assert_passed(results["mix.first"])
    assert_passed(results["mix.third"])
    second = results["mix.second"]
    assert (second.status, second.score) == ("not_implemented", 0.0)
    assert second.message.startswith("not implemented yet: write second in ")
    assert len(set(pids(results).values())) == 1


def test_a_failure_is_graded_again_in_a_fresh_worker_which_grades_the_rest(grade_mix):
    source = CORRECT.replace("return np.asarray(x) + 1.0", "return np.asarray(x) + 2.0")
    results = grade_mix(source)
    second = results["mix.second"]
    assert (second.status, second.score) == ("failed", 0.0)
    assert second.message.startswith("check 'small': ")
    assert_passed(results["mix.first"])
    assert_passed(results["mix.third"])
    worker = pids(results)
    # second failed where first had run: graded again in a fresh worker, which third shared.
    assert worker["mix.second"] != worker["mix.first"]
    assert worker["mix.third"] == worker["mix.second"]


def test_a_failure_in_a_fresh_worker_stands_and_the_worker_grades_the_rest(grade_mix):
    source = CORRECT.replace("return 2.0 * np.asarray(x)", "return 3.0 * np.asarray(x)")
    results = grade_mix(source)
    first = results["mix.first"]
    assert (first.status, first.score) == ("failed", 0.0)
    assert first.output.count("first ") == 1  # graded once
    assert_passed(results["mix.second"])
    assert_passed(results["mix.third"])
    assert len(set(pids(results).values())) == 1


def test_a_module_of_the_submission_that_the_file_imports_is_imported_afresh_too(grade_mix):
    # helper.py keeps state: second is right only after first has run in the same process.
    source = CORRECT.replace("import numpy as np\n", "import numpy as np\nimport helper\n", 1
                             ).replace('    _pid("first")\n', '    _pid("first")\n'
                                       '    helper.SEEN.append(1)\n'
                                       ).replace("return np.asarray(x) + 1.0",
                                                 "return np.asarray(x) + len(helper.SEEN)")
    others = {"helper.py": "SEEN = []\n"}
    together = grade_mix(source, others=others)
    alone = grade_mix(source, [SECOND], others=others)["mix.second"]
    second = together["mix.second"]
    assert (second.status, second.score) == ("failed", 0.0)
    assert (second.status, second.score, second.message) == (alone.status, alone.score,
                                                              alone.message)
    assert_passed(together["mix.first"])
    assert_passed(together["mix.third"])


# The cases of an exercise go to the worker right behind its import, before the import's reply
# is read: when the import fails or a function is missing, their replies are read and dropped,
# and the worker grades the next exercise as usual.

def test_a_missing_function_leaves_the_worker_ready_for_the_next_exercise(grade_mix):
    # The module prints its worker's pid as it is imported (every exercise imports it).
    source = CORRECT.replace("def second(x):", "def not_second(x):") + '\n_pid("module")\n'
    results = grade_mix(source)
    second = results["mix.second"]
    assert (second.status, second.score) == ("missing", 0.0)
    assert re.fullmatch(r"\S*mix\.py does not define second", second.message)
    assert_passed(results["mix.first"])
    assert_passed(results["mix.third"])
    worker = pids(results)
    # second's verdict is the one of a worker of its own, which then graded third.
    assert worker["mix.second"] != worker["mix.first"]
    assert worker["mix.third"] == worker["mix.second"]


def test_a_module_that_fails_to_import_leaves_the_worker_ready_for_the_next_exercise(
        write_submission, use_solutions):
    use_solutions({"mix.py": REFERENCE, "other.py": REFERENCE})
    broken = _exercise("first", topic="other")
    folder = write_submission({"mix.py": PRINT_PID + CORRECT,
                               "other.py": PRINT_PID + '_pid("other")\n'
                                           "raise RuntimeError('broken at import')\n"})
    result = grading.grade(submission=folder, exercises=[broken, FIRST, SECOND],
                           time_it=False)
    other, first, second = result.exercises
    assert (other.status, other.score) == ("error", 0.0)
    assert re.fullmatch(r"importing \S*other\.py raised RuntimeError: broken at import.*",
                        other.message)
    assert_passed(first)
    assert_passed(second)
    # One worker graded all three: the import failed in a fresh one, whose verdict stands.
    assert len(set(pids({"other": other, "first": first, "second": second}).values())) == 1
