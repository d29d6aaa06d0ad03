"""Student code that fails in every way a worker can: each becomes a verdict with a message in
plain words, the grader survives, and the next exercise of the same submission (a second topic
file, ``extra.py``) is graded normally in the same run.

The submissions are source text graded through the real path (``grading.grade``): a sandbox
session, a worker per exercise, the wire format.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import reference_source
from grader import grading, student_calls
from grader.catalog import Call, Case, Check, Exercise, catalog
from grader.judges import matches
from grader.results import ExerciseResult
from grader.sandbox.parent import Limits, Worker

DOT = catalog()["linalg.dot"]
REFERENCE = reference_source("linalg")
SKIPPED = ["small", "length_1000", "length_mismatch", "empty", "integers"]


# ----------------------------------------------------------------------------- a second topic

def _twice_case(rng: np.random.Generator) -> Case:
    return Case((Call("twice", (rng.standard_normal(4),)),), "a vector of length 4")


# A temporary exercise of its own topic, so that these tests depend on no other bank exercise.
EXTRA = Exercise(id="extra.twice", title="Twice", functions=("twice",),
                 checks=(Check("small", _twice_case, matches(), points=1.0),))
EXTRA_SOURCE = "import numpy as np\n\n\ndef twice(x):\n    return 2.0 * np.asarray(x)\n"


@pytest.fixture
def grade_dot(write_submission, use_solutions):
    """``grade_dot(linalg_source, limits=..., exercise=DOT) -> (ExerciseResult, folder)``.

    The submission holds linalg.py and extra.py; both exercises are graded in one run, and
    extra.twice must pass whatever linalg.py did.
    """
    use_solutions({"linalg.py": REFERENCE, "extra.py": EXTRA_SOURCE})

    def run(source: str, *, limits: Limits | None = None, exercise: Exercise = DOT
            ) -> tuple[ExerciseResult, Path]:
        folder = write_submission({"linalg.py": source, "extra.py": EXTRA_SOURCE})
        result = grading.grade(submission=folder, exercises=[exercise, EXTRA], time_it=False,
                               limits=limits)
        dot, extra = result.exercises
        assert (extra.status, extra.score, extra.message) == ("passed", 1.0,
                                                              "all 1 checks passed")
        return dot, folder.resolve()

    return run


def assert_worker_failure(result: ExerciseResult, cause: str) -> None:
    """The exercise ended with the worker: 0 points, every check skipped with the cause."""
    assert (result.status, result.score) == ("error", 0.0)
    assert result.message == f"linalg.dot {cause} during check 'small'"
    assert [(c.name, c.status, c.score, c.message) for c in result.checks] == [
        (name, "skipped", 0.0, cause) for name in SKIPPED]


# ----------------------------------------------------------------------------- crashes and exits

def test_student_exception_names_exception_file_and_line(grade_dot):
    result, _ = grade_dot("""\
        import numpy as np


        def dot(u, v):
            weights = {}
            return weights["missing"]
        """)
    assert (result.status, result.score) == ("failed", 0.0)
    assert result.message == ("check 'small': dot raised KeyError: 'missing' (linalg.py, line 6, "
                              "in dot: `return weights[\"missing\"]`)")
    assert result.checks[2].message == (
        "dot for vectors of lengths 6 and 4 should raise ValueError: vectors of different "
        "lengths have no dot product; it raised KeyError: 'missing'")


def test_segfault_is_a_crash_with_sigsegv(grade_dot):
    result, _ = grade_dot("""\
        import ctypes


        def dot(u, v):
            return ctypes.string_at(0)
        """)
    assert_worker_failure(result, "crashed with SIGSEGV")


def test_infinite_loop_times_out(grade_dot):
    start = time.monotonic()
    result, _ = grade_dot("""\
        def dot(u, v):
            while True:
                pass
        """, limits=Limits(call_seconds=1))
    assert_worker_failure(result, "timed out after 1 s")
    assert time.monotonic() - start < 8


def test_os_exit_in_the_function(grade_dot):
    result, _ = grade_dot("""\
        import os


        def dot(u, v):
            os._exit(0)
        """)
    assert_worker_failure(result, "exited with code 0 (os._exit, or the interpreter stopped)")


@pytest.mark.parametrize("body, ending", [
    ("import sys\n\n\ndef dot(u, v):\n    sys.exit(3)\n", "sys.exit(3)"),
    ("def dot(u, v):\n    raise KeyboardInterrupt\n", "KeyboardInterrupt"),
    ("class Escape(BaseException):\n    pass\n\n\ndef dot(u, v):\n    raise Escape('out')\n",
     "Escape"),
], ids=["sys_exit", "keyboard_interrupt", "base_exception_subclass"])
def test_ending_the_program_in_the_function(grade_dot, body, ending):
    result, _ = grade_dot(body)
    assert (result.status, result.score) == ("error", 0.0)
    assert result.message == f"dot ended the program during check 'small': {ending}"


# The checks' cases go to the worker in one request and come back case by case: an ending in
# a later check is that check's, the checks before it keep their verdicts, and with one request
# per case (inputs over student_calls.PIPELINE_BYTES) the result is the same.
LATER_ENDING = """\
import os
import sys

import numpy as np


def dot(u, v):
    u, v = np.asarray(u), np.asarray(v)
    if u.shape != v.shape:
        raise ValueError("different lengths")
    if u.size == 0:
        {ending}
    return float(u @ v)
"""


@pytest.mark.parametrize("ending, message, cause", [
    ("sys.exit(4)", "dot ended the program during check 'empty': sys.exit(4)", "sys.exit(4)"),
    ("os._exit(0)", "linalg.dot exited with code 0 (os._exit, or the interpreter stopped) "
                    "during check 'empty'",
     "exited with code 0 (os._exit, or the interpreter stopped)"),
    ("while True: pass", "linalg.dot timed out after 1 s during check 'empty'",
     "timed out after 1 s"),
], ids=["sys_exit", "os_exit", "hang"])
@pytest.mark.parametrize("pipeline_bytes", [student_calls.PIPELINE_BYTES, 0],
                         ids=["one_request", "request_per_case"])
def test_an_ending_in_a_later_check_is_that_checks(grade_dot, monkeypatch, ending, message,
                                                   cause, pipeline_bytes):
    monkeypatch.setattr(student_calls, "PIPELINE_BYTES", pipeline_bytes)
    result, _ = grade_dot(LATER_ENDING.format(ending=ending), limits=Limits(call_seconds=1))
    assert (result.status, result.score, result.message) == ("error", 0.0, message)
    assert [(c.name, c.status, c.score) for c in result.checks] == [
        ("small", "passed", 0.0), ("length_1000", "passed", 0.0),
        ("length_mismatch", "passed", 0.0), ("empty", "skipped", 0.0),
        ("integers", "skipped", 0.0)]
    assert result.checks[-1].message == cause


def test_sys_exit_at_import(grade_dot):
    result, folder = grade_dot("import sys\n\nsys.exit(3)\n\n\ndef dot(u, v):\n    return 0.0\n")
    assert (result.status, result.score) == ("error", 0.0)
    assert result.message == f"importing {folder / 'linalg.py'} ended the program: sys.exit(3)"
    assert result.checks == []


def test_syntax_error_names_file_and_line(grade_dot):
    result, folder = grade_dot("""\
        import numpy as np


        def dot(u, v)
            return float(np.dot(u, v))
        """)
    assert (result.status, result.score) == ("error", 0.0)
    assert result.message == (f"{folder / 'linalg.py'}, line 4: SyntaxError: expected ':'; fix "
                              "it and grade again")


def test_import_error(grade_dot):
    result, folder = grade_dot("import numpy_is_misspelled\n\n\ndef dot(u, v):\n    return 0.0\n")
    assert (result.status, result.score) == ("error", 0.0)
    assert result.message == (
        f"importing {folder / 'linalg.py'} raised ModuleNotFoundError: No module named "
        "'numpy_is_misspelled' (linalg.py, line 1, in <module>: `import numpy_is_misspelled`)")


def test_missing_function(grade_dot):
    result, folder = grade_dot("def dott(u, v):\n    return 0.0\n")
    assert (result.status, result.score) == ("missing", 0.0)
    assert result.message == f"{folder / 'linalg.py'} does not define dot"


def test_recursion_error_is_the_students_exception(grade_dot):
    result, _ = grade_dot("def dot(u, v):\n    return dot(u, v) + 1.0\n")
    assert (result.status, result.score) == ("failed", 0.0)
    assert result.message == ("check 'small': dot raised RecursionError: maximum recursion depth "
                              "exceeded (linalg.py, line 2, in dot: `return dot(u, v) + 1.0`)")


def test_c_stack_overflow_is_a_crash(grade_dot):
    # Each level goes through C (sum, map), so a raised recursion limit overflows the C stack.
    result, _ = grade_dot("""\
        import sys


        def down(n):
            return sum(map(down, [n + 1]))


        def dot(u, v):
            sys.setrecursionlimit(10**8)
            return down(0)
        """)
    assert_worker_failure(result, "crashed with SIGSEGV")


def test_output_over_the_limit_fails_the_exercise(grade_dot):
    result, _ = grade_dot("""\
        import numpy as np


        def dot(u, v):
            print("x" * 3000)
            if len(u) != len(v):
                raise ValueError("lengths differ")
            return float(np.dot(u, v))
        """, limits=Limits(output_bytes=4096))
    assert (result.status, result.score) == ("error", 0.0)
    assert result.message == "printed more than 4 KiB; output truncated"
    assert result.output_truncated and result.output.startswith("x" * 3000)
    assert all(c.score == 0.0 for c in result.checks)


def test_output_under_the_limit_is_kept_and_scores_normally(grade_dot):
    result, _ = grade_dot(REFERENCE.replace("    return float(np.dot(u, v))",
                                            "    print('dot of', len(u))\n"
                                            "    return float(np.dot(u, v))"))
    assert (result.status, result.score, result.message) == ("passed", 4.0, "all 5 checks passed")
    assert result.output.splitlines()[:2] == ["dot of 3", "dot of 1000"]
    assert not result.output_truncated


# ----------------------------------------------------------------------------- what comes back

NOT_SENT = ("expected a real scalar, got an object of type list that could not be sent back (the "
            "value is nested too deeply or holds too many items)")


@pytest.mark.parametrize("body", [
    "def dot(u, v):\n    value = 1.0\n    for _ in range(100):\n        value = [value]\n"
    "    return value\n",
    "def dot(u, v):\n    return [0.5] * 1_100_000\n",
], ids=["nested_100_deep", "too_many_items"])
def test_a_value_that_cannot_be_sent_is_a_wrong_answer_not_a_crash(grade_dot, body):
    result, _ = grade_dot(body)
    assert (result.status, result.score) == ("failed", 0.0)
    assert result.message == f"check 'small': dot for two vectors of length 3: {NOT_SENT}"


def test_a_zero_d_array_is_a_scalar_answer(grade_dot):
    # np.tensordot(u, v, 1) returns a 0-d array: correct, however written.
    result, _ = grade_dot(REFERENCE.replace("return float(np.dot(u, v))",
                                            "return np.tensordot(u, v, axes=1)"))
    assert (result.status, result.score, result.message) == ("passed", 4.0, "all 5 checks passed")


def test_a_worker_takes_big_arrays_from_its_heap(grade_dot):
    # zygote.keep_freed_memory: a 16 MiB block comes from the heap (and stays there when freed),
    # where glibc's default would map it for itself and unmap it on free.
    result, _ = grade_dot(REFERENCE.replace("    return float(np.dot(u, v))", """\
    big = np.ones(2 << 20)
    with open("/proc/self/maps") as maps:
        heap = next(line for line in maps if line.rstrip().endswith("[heap]"))
    low, high = (int(x, 16) for x in heap.split()[0].split("-"))
    in_heap = low <= big.ctypes.data < high
    return float(np.dot(u, v)) if in_heap else 0.5"""))
    assert (result.status, result.score, result.message) == ("passed", 4.0, "all 5 checks passed")


def test_a_rigged_return_value_arrives_as_plain_data(grade_dot):
    result, _ = grade_dot("""\
        import numpy as np


        class Always(np.ndarray):
            def __eq__(self, other):
                return np.ones(np.shape(self), dtype=bool)

            __ne__ = lambda self, other: np.zeros(np.shape(self), dtype=bool)
            __le__ = __ge__ = __eq__


        def dot(u, v):
            if len(u) != len(v):
                raise ValueError("lengths differ")
            return np.asarray(123456.0).view(Always)
        """)
    assert (result.status, result.score) == ("partial", 1.0)  # only the ValueError check
    assert result.message.startswith("check 'small': dot for two vectors of length 3: got 123456, "
                                     "expected ")


# ----------------------------------------------------------------------------- honesty and notes

def test_mutating_the_input_is_a_note_not_a_failure(grade_dot):
    result, _ = grade_dot(REFERENCE.replace("    return float(np.dot(u, v))",
                                            "    total = float(np.dot(u, v))\n"
                                            "    u *= 0\n"
                                            "    return total"))
    assert (result.status, result.score, result.message) == ("passed", 4.0, "all 5 checks passed")
    note = ("your function changed its input arrays in place; the grader used fresh copies, but "
            "a caller would see its data changed")
    assert [c.notes for c in result.checks] == [[note], [note], [], [], [note]]
    # (empty: zero elements cannot change; length_mismatch raises before the change)


@pytest.mark.parametrize("body", [
    "    return float(np.dot(u, v))",
    # Catching the refusal and falling back does not hide the call.
    "    try:\n        return float(np.dot(u, v))\n    except Exception:\n"
    "        return float(sum(a * b for a, b in zip(u, v)))",
], ids=["direct", "caught_and_fallback"])
def test_forbidden_call_fails_the_check(grade_dot, body):
    no_np_dot = dataclasses.replace(DOT, forbidden=("numpy.dot",))
    result, _ = grade_dot(REFERENCE.replace("    return float(np.dot(u, v))", body),
                          exercise=no_np_dot)
    # Only length_mismatch passes: it raises ValueError before reaching np.dot.
    assert (result.status, result.score) == ("partial", 1.0)
    message = ("uses numpy.dot, which this exercise does not allow (an honesty check): compute "
               "it from the math in the docstring")
    assert result.message == f"check 'small': {message}"
    assert [(c.status, c.message) for c in result.checks] == [
        ("failed", message), ("failed", message), ("passed", ""), ("failed", message),
        ("failed", message)]


def test_the_same_code_passes_when_nothing_is_forbidden(grade_dot):
    result, _ = grade_dot(REFERENCE)
    assert (result.status, result.score, result.message) == ("passed", 4.0, "all 5 checks passed")


# ----------------------------------------------------------------------------- nothing outlives it

MARKER = f"stray-{os.getpid()}"  # a process name (at most 15 characters) unique to this run


def _processes_named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as fh:
                if fh.read().strip() == name:
                    found.append(int(entry))
        except OSError:
            pass  # gone meanwhile
    return found


LEAVES_A_DAEMON = f"""\
import ctypes
import os
import signal
import time

import numpy as np

_daemon = None


def _fork():
    # RLIMIT_NPROC counts every process of the sandbox user on the machine: another run's
    # fork bomb can make a fork fail for a moment, which is not what this test is about.
    for _ in range(100):
        try:
            return os.fork()
        except BlockingIOError:
            time.sleep(0.05)
    return os.fork()


def _start_daemon():
    read, write = os.pipe()
    if _fork() == 0:
        if _fork() == 0:  # the grandchild: orphaned, its own session, deaf to signals
            os.setsid()
            for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                signal.signal(sig, signal.SIG_IGN)
            ctypes.CDLL(None).prctl(15, b"{MARKER}", 0, 0, 0)  # PR_SET_NAME
            os.write(write, str(os.getpid()).encode())
            time.sleep(600)
        os._exit(0)
    os.close(write)
    os.wait()
    pid = int(os.read(read, 32))
    os.close(read)
    return pid


def dot(u, v):
    global _daemon
    if _daemon is None:
        _daemon = _start_daemon()
        print("daemon started")
    else:
        os.kill(_daemon, 0)  # raises if it is gone: it must live as long as the worker
        print("daemon alive")
    if len(u) != len(v):
        raise ValueError("lengths differ")
    return float(np.dot(u, v))
"""


def test_a_process_left_running_by_the_worker_is_gone_afterwards(grade_dot):
    assert _processes_named(MARKER) == []
    result, _ = grade_dot(LEAVES_A_DAEMON)
    assert (result.status, result.score, result.message) == ("passed", 4.0, "all 5 checks passed")
    # The daemon ran through all five checks (so the test shows something) ...
    assert result.output.splitlines() == ["daemon started"] + ["daemon alive"] * 4
    # ... and is gone now (given a moment for the kernel to finish the kill).
    deadline = time.monotonic() + 5
    while _processes_named(MARKER) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_named(MARKER) == []


# ----------------------------------------------------------------------------- no expected values

SEARCHES_FOR_THE_ANSWER = """\
import gc
import sys

import numpy as np

# The search's self-test: a value planted here must be found, or the test proves nothing.
_PLANTED = {"golden": 0.6180339887498949}


def _equal(x, target):
    return isinstance(x, (float, np.floating)) and abs(float(x) - target) <= 1e-9 * abs(target)


def _holds(obj, target):
    if isinstance(obj, dict):
        items = list(obj.keys()) + list(obj.values())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        items = list(obj)
    else:
        items = [getattr(obj, "__dict__", None)] if hasattr(obj, "__dict__") else []
        items = [v for d in items if isinstance(d, dict) for v in d.values()]
    for x in items:
        if _equal(x, target):
            return True
        if isinstance(x, np.ndarray) and x.dtype.kind == "f" and 0 < x.size <= 10**6:
            if np.any(np.abs(x - target) <= 1e-9 * abs(target)):
                return True
    return False


def _search(target):
    skip = {id(sys._getframe(1).f_locals)}
    for obj in gc.get_objects():
        if id(obj) not in skip and _holds(obj, target):
            return True
    for frame in sys._current_frames().values():
        while frame is not None:
            if frame.f_code.co_filename != __file__:
                if _holds(frame.f_locals, target):
                    return True
            frame = frame.f_back
    return False


def dot(u, v):
    if not _search(0.6180339887498949):
        raise RuntimeError("the search is broken: it missed the planted value")
    if len(u) != len(v):
        return 0.0
    answer = float(np.dot(u, v))
    if answer != int(answer) and _search(answer):
        print("found the answer outside dot")
        return answer
    print("found nothing")
    return answer + 1.0
"""


def test_expected_values_never_reach_the_worker(grade_dot):
    result, _ = grade_dot(SEARCHES_FOR_THE_ANSWER)
    assert (result.status, result.score) == ("failed", 0.0)
    assert result.message.startswith("check 'small': dot for two vectors of length 3: got ")
    assert "(abs diff 1, rel diff" in result.message
    assert result.output.splitlines() == ["found nothing"] * 4  # the mismatch check printed none


def test_the_search_finds_an_expected_value_that_does_reach_the_worker(grade_dot, monkeypatch):
    # The control of the test above: a grader that sent dot's expected values along with the
    # calls (as a same-process grader would hold them) is caught by the same search.
    original = grading.run_student_cases

    def leaky_run_student_cases(worker, cases, device="cpu"):
        if cases[0].calls[0].func == "dot":
            leak = [[r.value for r in grading.run_reference(grading._reference("linalg"), case)]
                    for case in cases]
            worker.send = lambda header, *args, **kwargs: Worker.send(
                worker, {**header, "leak": leak}, *args, **kwargs)
        return original(worker, cases, device)

    monkeypatch.setattr(grading, "run_student_cases", leaky_run_student_cases)
    result, _ = grade_dot(SEARCHES_FOR_THE_ANSWER)
    assert [(c.name, c.status) for c in result.checks] == [
        ("small", "passed"), ("length_1000", "passed"), ("length_mismatch", "failed"),
        ("empty", "failed"), ("integers", "failed")]
    assert result.output.splitlines()[:2] == ["found the answer outside dot"] * 2


# ----------------------------------------------------------------------------- check functions

def _apply_case(rng: np.random.Generator) -> Case:
    from grader.sandbox.wire import Fn
    x = float(rng.integers(1, 9))
    return Case((Call("apply", (Fn("lambda t: twice(t) + 1"), x)),
                 Call(Fn("def f(t):\n    return apply(lambda s: s * s, t)",
                         label="the check's apply(s -> s^2)"), (x,))),
                "a function and a number")


APPLY = Exercise(id="extra.apply", title="Apply", functions=("apply",),
                 checks=(Check("both", _apply_case, matches(call=0), points=1.0),
                         Check("squared", _apply_case, matches(call=1), points=1.0)))


def test_functions_from_the_bank_run_with_the_students_names_in_scope(write_submission,
                                                                      use_solutions):
    use_solutions({"extra.py": EXTRA_SOURCE + "\n\ndef apply(f, x):\n    return f(x)\n"})
    # The student's twice is wrong: the bank's function sees the student's twice, the
    # reference's sees the reference's, so the first check fails and the second passes.
    student = ("def twice(x):\n    return 3 * x\n\n"
               "def apply(f, x):\n    return f(x)\n")
    folder = write_submission({"extra.py": student})
    try:
        result = grading.grade(submission=folder, exercises=[APPLY], time_it=False).exercises[0]
    finally:
        grading._reference.cache_clear()
        grading._prepared.cache_clear()
    both, squared = result.checks
    assert (result.status, result.score) == ("partial", 1.0)
    assert (both.status, both.message) == (
        "failed", "apply for a function and a number: got 22, expected 15 (abs diff 7, rel diff "
                  "0.466667; rtol=1e-07, atol=1e-10)")
    assert (squared.status, squared.score) == ("passed", 1.0)


def test_a_replay_stops_where_the_worker_does():
    # run_reference replays wrong code in the grader too (known mistakes, benchmarks): a call
    # whose input is an earlier call's missing result is not made, as in the worker, and
    # later calls come back as not called instead of raising.
    import types

    from grader.sandbox.wire import Out

    def forward(x):
        raise ValueError("no")

    module = types.SimpleNamespace(forward=forward, backward=lambda cache: cache)
    case = Case((Call("forward", (1.0,)), Call("backward", (Out(0, (1,)),)),
                 Call("backward", (2.0,))), "two calls")
    first, second, third = grading.run_reference(module, case)
    assert first.raised["type"] == "ValueError" and first.raised["message"] == "no"
    assert second.missing and third.missing


def test_folders_of_a_grader_that_is_gone_are_removed_and_no_others(tmp_path):
    from grader.sandbox import parent

    gone = subprocess.Popen(["true"])
    gone.wait()  # its pid names no running process now
    stale = tmp_path / f"grader-{gone.pid}-abc123"
    (stale / "work" / "src").mkdir(parents=True)
    (stale / "work" / "src" / "linalg.py").write_text("x = 1\n")
    mine = tmp_path / f"grader-{os.getpid()}-def456"
    mine.mkdir()
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / f"grader-{gone.pid}-link").symlink_to(target)
    unrelated = [tmp_path / "grader-notebooks-x1", tmp_path / "other"]
    for folder in unrelated:
        folder.mkdir()
    assert parent.remove_stale_folders(str(tmp_path)) == [str(stale)]
    assert not stale.exists()
    assert mine.is_dir() and target.is_dir() and all(f.is_dir() for f in unrelated)
    assert (tmp_path / f"grader-{gone.pid}-link").is_symlink()
