"""The gradebook: every field round-trips, a submission is all rows or none, resume decisions,
and a process killed with SIGKILL mid-transaction leaves exactly the committed submissions."""

from __future__ import annotations

import dataclasses
from contextlib import closing, contextmanager
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from grader import __version__
from grader.catalog import ROOT, catalog
from grader.gradebook import (SCHEMA_VERSION, CheckRow, ExerciseRow, Gradebook, GradebookError,
                              SubmissionRow, config_fingerprint)
from grader.grading import grade
from grader.results import (CheckResult, ExerciseResult, GradeResult, TimingResult,
                            exercise_dict)


def sample_result(seed: int = 0, *, bonus: float = 0.0) -> GradeResult:
    """Every kind of field: a timed pass, a partial with a diagnosis and notes, an infinite
    timing ratio, an error without checks, a skipped check, text with quotes and newlines."""
    dot = ExerciseResult(
        "linalg.dot", "Dot product", 4.0, "passed", 4.0, "all 3 checks passed", None,
        "alice/linalg.py",
        [CheckResult("small", 1, "passed", 1.0, about="two short vectors"),
         CheckResult("length_1000", 2.5, "passed", 2.5, about="n = 1000"),
         CheckResult("empty", 0.5, "passed", 0.5, hidden=True, about="n = 0 gives 0.0")],
        TimingResult(2.5e-6, 1.25e-6, 2.0, False, "vectorize"), output="hello\n")
    pinv = ExerciseResult(
        "linalg.pinv", "Pseudo-inverse", 3.0, "partial", 1.0 + bonus,
        "check 'tall': expected A⁺ of shape (3, 5), got (5, 3)",
        "transposed: you returned (A⁺)ᵀ", "alice/linalg.py",
        [CheckResult("square", 1.0, "passed", 1.0 + bonus, about="a square matrix"),
         CheckResult("tall", 2.0, "failed", 0.0, "expected A⁺ of shape (3, 5), got (5, 3)",
                     "transposed: you returned (A⁺)ᵀ", hidden=True, about='a "tall" one',
                     notes=["your function changed its input arrays in place"], mutated=True)],
        TimingResult(1.0, 0.0, float("inf"), True, "use np.linalg.svd"),
        output="line 1\nline 2", output_truncated=True)
    pca = ExerciseResult("linalg.pca", "PCA", 2.0, "error", 0.0,
                         "linalg.pca timed out during check 'small'", None, "alice/linalg.py",
                         [CheckResult("small", 1.0, "skipped", 0.0, "timed out"),
                          CheckResult("big", 1.0, "skipped", 0.0, "timed out", hidden=True)])
    missing = ExerciseResult("optim.sgd", "SGD step", 5.0, "missing", 0.0,
                             "no optim.py in the submission", None)
    return GradeResult("submissions/alice", seed, __version__, [dot, pinv, pca, missing],
                       "sandbox: separate processes", ["a note, with a comma"])


def record(book: Gradebook, student: str, result: GradeResult | None = None, *,
           error: str | None = None, content_hash: str | None = "h1", seed: int = 0,
           config: str = "") -> None:
    book.record(student, content_hash, f"submissions/{student}", result, error=error, seed=seed,
                device="cpu", duration=1.5, config=config, graded_at="2026-01-02T03:04:05+00:00")


def count_rows(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("submissions", "results", "checks")}


@pytest.fixture
def book_path(tmp_path: Path) -> Path:
    return tmp_path / "out" / "gradebook.sqlite"


# ----------------------------------------------------------------------------- round trips

def test_every_field_round_trips_through_a_reopened_gradebook(book_path):
    result = sample_result()
    with Gradebook(book_path) as book:
        record(book, "alice", result)
        record(book, "bob", error="the zip file is empty: put your .py files in it",
               content_hash=None)
    book = Gradebook(book_path)
    assert book.students() == ["alice", "bob"]
    assert book.load("alice") == result  # dataclass equality: every field, inf ratio included
    assert book.load("alice").to_dict() == result.to_dict()
    assert book.load("bob") is None and book.load("nobody") is None
    assert book.error("bob") == "the zip file is empty: put your .py files in it"
    assert book.error("alice") is None
    assert book.rows() == [
        SubmissionRow("alice", "h1", "submissions/alice", __version__, 0, "", "cpu",
                      "2026-01-02T03:04:05+00:00", 5.0, 14.0, "graded", None, 1.5),
        SubmissionRow("bob", None, "submissions/bob", __version__, 0, "", "cpu",
                      "2026-01-02T03:04:05+00:00", 0.0, 0.0, "error",
                      "the zip file is empty: put your .py files in it", 1.5)]
    rows = book.exercise_rows()
    assert [r.exercise for r in rows] == ["linalg.dot", "linalg.pinv", "linalg.pca", "optim.sgd"]
    assert rows[0] == ExerciseRow("alice", "linalg.dot", "Dot product", 4.0, 4.0, "passed",
                                  "all 3 checks passed", None, "alice/linalg.py",
                                  2.5e-6, 1.25e-6, 2.0, False)
    assert rows[1].ratio == float("inf") and rows[1].slow is True
    assert rows[1].diagnosis == "transposed: you returned (A⁺)ᵀ"
    assert rows[3] == ExerciseRow("alice", "optim.sgd", "SGD step", 0.0, 5.0, "missing",
                                  "no optim.py in the submission", None, "",
                                  None, None, None, None)
    checks = book.check_rows("alice")
    assert [(c.exercise, c.name) for c in checks] == [
        ("linalg.dot", "small"), ("linalg.dot", "length_1000"), ("linalg.dot", "empty"),
        ("linalg.pinv", "square"), ("linalg.pinv", "tall"),
        ("linalg.pca", "small"), ("linalg.pca", "big")]
    assert checks[4] == CheckRow("alice", "linalg.pinv", "tall", True, 2.0, 0.0, "failed",
                                 "expected A⁺ of shape (3, 5), got (5, 3)",
                                 "transposed: you returned (A⁺)ᵀ")
    assert book.check_rows("bob") == [] and book.exercise_rows("bob") == []


def test_a_real_grading_round_trips(book_path):
    result = grade(submission=ROOT / "solutions", ids=("linalg.dot",), time_it=False)
    (dot,) = result.exercises
    assert (dot.status, dot.score, dot.max_score) == ("passed", 4.0, 4.0)
    with Gradebook(book_path) as book:
        record(book, "ref", result)
    loaded = Gradebook(book_path).load("ref")
    assert loaded == result
    assert [c.hidden for c in loaded.exercises[0].checks] == [c.hidden for c in dot.checks]


def test_a_regrade_replaces_the_students_rows(book_path):
    book = Gradebook(book_path)
    record(book, "alice", error="could not unpack")
    record(book, "alice", sample_result())
    record(book, "alice", sample_result(bonus=0.5), content_hash="h2")
    assert count_rows(book_path) == {"submissions": 1, "results": 4, "checks": 7}
    assert book.load("alice") == sample_result(bonus=0.5)
    assert book.submission("alice").content_hash == "h2"
    assert book.submission("alice").score == 5.5
    assert book.error("alice") is None


# ----------------------------------------------------------------------------- atomicity

def _duplicate_check(result: GradeResult) -> GradeResult:
    """The second exercise's checks share a name: the checks insert fails after the
    submission and the first exercise's rows went in."""
    bad = dataclasses.replace(result.exercises[1], checks=[result.exercises[1].checks[0]] * 2)
    return dataclasses.replace(result, exercises=[result.exercises[0], bad])


class _Stop(BaseException):
    """Stands for KeyboardInterrupt: not an Exception, still rolled back."""


@pytest.mark.parametrize("failure", ["integrity_error", "interrupt"])
def test_a_transaction_that_fails_midway_leaves_no_partial_rows(book_path, monkeypatch, failure):
    book = Gradebook(book_path)
    record(book, "alice", sample_result())
    before = count_rows(book_path)
    if failure == "integrity_error":
        new, regrade, expected = _duplicate_check(sample_result()), \
            _duplicate_check(sample_result(bonus=1.0)), sqlite3.IntegrityError
    else:
        original = Gradebook._insert_results

        def insert_then_stop(self, sub_id, result):
            original(self, sub_id, result)  # every row of this submission written ...
            raise _Stop("interrupted before COMMIT")  # ... and then no commit
        monkeypatch.setattr(Gradebook, "_insert_results", insert_then_stop)
        new, regrade, expected = sample_result(), sample_result(bonus=1.0), _Stop
    with pytest.raises(expected):
        record(book, "dave", new)
    with pytest.raises(expected):  # a failed regrade keeps the previous grading whole
        record(book, "alice", regrade, content_hash="h2")
    monkeypatch.undo()
    reopened = Gradebook(book_path)
    assert count_rows(book_path) == before
    assert reopened.students() == ["alice"]
    assert reopened.load("alice") == sample_result()
    assert reopened.submission("alice").content_hash == "h1"
    record(reopened, "dave", sample_result())  # and the gradebook still takes new rows
    assert reopened.students() == ["alice", "dave"]


@pytest.mark.parametrize("args, message", [
    (dict(result=None, error=None), "needs either a result or an error"),
    (dict(result=sample_result(), error="boom"), "needs either a result or an error"),
    (dict(result=sample_result(seed=3), error=None), "graded with seed 3, not 0"),
], ids=["neither", "both", "seed_mismatch"])
def test_record_refuses_inconsistent_arguments(book_path, args, message):
    book = Gradebook(book_path)
    with pytest.raises(ValueError, match=message):
        book.record("alice", "h1", "src", args["result"], error=args["error"], seed=0,
                    device="cpu", duration=0.0)
    assert count_rows(book_path) == {"submissions": 0, "results": 0, "checks": 0}


# ----------------------------------------------------------------------------- resume

@pytest.mark.parametrize("student, content_hash, version, seed, config, expected", [
    ("alice", "h1", __version__, 0, "c1", False),
    ("alice", "h2", __version__, 0, "c1", True),
    ("alice", "h1", "9.9.9", 0, "c1", True),
    ("alice", "h1", __version__, 1, "c1", True),
    ("alice", "h1", __version__, 0, "c2", True),
    ("alice", None, __version__, 0, "c1", True),
    ("nobody", "h1", __version__, 0, "c1", True),
    ("bob", "h1", __version__, 0, "c1", True),
], ids=["unchanged", "changed_hash", "changed_version", "changed_seed", "changed_config",
        "unreadable", "new_student", "error_row_is_retried"])
def test_needs_grading(book_path, student, content_hash, version, seed, config, expected):
    book = Gradebook(book_path)
    record(book, "alice", sample_result(), config="c1")
    record(book, "bob", error="sandbox failed to start", config="c1")
    assert book.needs_grading(student, content_hash, version, seed, config=config) is expected


def test_config_fingerprint_sees_points_and_visibility():
    dot = catalog()["linalg.dot"]
    base = config_fingerprint([dot])
    assert base == config_fingerprint([dot]) and len(base) == 16
    first = dot.checks[0]
    for changed in (dataclasses.replace(first, points=first.points + 1),
                    dataclasses.replace(first, hidden=not first.hidden)):
        other = dataclasses.replace(dot, checks=(changed, *dot.checks[1:]))
        assert config_fingerprint([other]) != base
    assert config_fingerprint([dot], "Limits(call_seconds=5)") != base


# ----------------------------------------------------------------------------- the file

def test_a_new_gradebook_is_wal_synchronous_full_and_versioned(book_path):
    book = Gradebook(book_path)
    assert book.journal_mode == "wal"
    assert book._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # 2 = FULL
    with closing(sqlite3.connect(book_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("prepare, message", [
    ("newer", "was written by a newer grader (gradebook schema 7; this grader"),
    ("foreign", "is an SQLite file but not a gradebook; choose another --out folder"),
    ("text", "is not a usable gradebook (file is not a database); move it away"),
], ids=["newer_schema", "other_sqlite_file", "not_sqlite"])
def test_an_unusable_file_is_refused_with_what_to_do(book_path, prepare, message):
    book_path.parent.mkdir(parents=True)
    if prepare == "text":
        book_path.write_text("student,score\n" * 100)
    else:
        with closing(sqlite3.connect(book_path, isolation_level=None)) as conn:
            if prepare == "newer":
                Gradebook(book_path).close()
                conn.execute("PRAGMA user_version = 7")
            else:
                conn.execute("CREATE TABLE grades (student TEXT)")
    with pytest.raises(GradebookError) as info:
        Gradebook(book_path)
    assert message in info.value.format_message()
    assert str(book_path) in info.value.format_message()


def test_summary(book_path):
    book = Gradebook(book_path)
    record(book, "alice", sample_result())
    record(book, "bob", sample_result(bonus=1.0))
    record(book, "carol", error="no .py files")
    summary = book.summary()
    assert (summary.students, summary.graded, summary.errors) == (3, 2, 1)
    assert summary.mean_score == 5.5
    assert summary.exercise_means == {"linalg.dot": 4.0, "linalg.pinv": 1.5,
                                      "linalg.pca": 0.0, "optim.sgd": 0.0}


def test_threads_share_one_gradebook(book_path):
    book = Gradebook(book_path)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(8):
                record(book, f"s{t}_{i}", sample_result(bonus=t))
                assert book.load(f"s{t}_{i}") == sample_result(bonus=t)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(book.students()) == 48
    assert count_rows(book_path) == {"submissions": 48, "results": 48 * 4, "checks": 48 * 7}


# ----------------------------------------------------------------------------- kill -9

CHILD = textwrap.dedent("""
    import sys
    from grader.gradebook import Gradebook
    from grader.results import CheckResult, ExerciseResult, GradeResult

    path, count, pause_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

    def result(i):
        checks = [CheckResult(f"c{j}", 1.0, "passed", 1.0) for j in range(3)]
        return GradeResult(f"s{i:03d}", 0, "0.1.0", [
            ExerciseResult(f"topic.e{k}", f"E{k}", 3.0, "passed", 3.0, "ok", None, "f.py",
                           list(checks)) for k in range(2)])

    book = Gradebook(path)
    current = [None]

    def trace(statement):
        # Midway through a transaction: some check rows written, nothing committed.
        if current[0] == pause_at and statement.startswith("INSERT INTO checks"):
            print("midway", flush=True)
            sys.stdin.read()  # wait to be killed

    book._conn.set_trace_callback(trace)
    for i in range(count):
        current[0] = i
        book.record(f"s{i:03d}", f"hash{i}", "src", result(i), seed=0, device="cpu",
                    duration=0.1)
        print(f"committed {i}", flush=True)
""")


@contextmanager
def _child(book_path: Path, count: int, pause_at: int):
    book_path.parent.mkdir(parents=True, exist_ok=True)
    with subprocess.Popen([sys.executable, "-c", CHILD, str(book_path), str(count),
                           str(pause_at)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True, cwd=ROOT) as child:
        try:
            yield child
        finally:
            child.kill()  # never left running if the test failed before killing it


def _assert_complete_prefix(book_path: Path, at_least: int) -> int:
    book = Gradebook(book_path)
    assert book._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    students = book.students()
    assert students == [f"s{i:03d}" for i in range(len(students))]  # no gaps
    assert len(students) >= at_least
    assert count_rows(book_path) == {"submissions": len(students),
                                     "results": 2 * len(students),
                                     "checks": 6 * len(students)}
    for student in students:
        loaded = book.load(student)
        assert loaded.submission == student and loaded.score == 6.0
    return len(students)


def test_sigkill_midway_through_a_transaction_keeps_exactly_the_committed(book_path):
    lines = []
    with _child(book_path, count=10, pause_at=3) as child:
        for line in child.stdout:
            lines.append(line.strip())
            if line.startswith("midway"):
                child.send_signal(signal.SIGKILL)
                break
        assert child.wait(timeout=30) == -signal.SIGKILL
    assert lines == ["committed 0", "committed 1", "committed 2", "midway"]
    assert (book_path.parent / (book_path.name + "-wal")).exists()  # nothing checkpointed
    assert _assert_complete_prefix(book_path, at_least=3) == 3


def test_sigkill_at_an_arbitrary_moment_keeps_every_committed_submission(book_path):
    acknowledged = 0
    with _child(book_path, count=100_000, pause_at=-1) as child:
        for line in child.stdout:
            acknowledged = int(line.split()[1]) + 1
            if acknowledged == 25:
                os.kill(child.pid, signal.SIGKILL)  # most likely inside its next record()
                break
        assert child.wait(timeout=30) == -signal.SIGKILL
    _assert_complete_prefix(book_path, at_least=acknowledged)


def test_an_exercise_record_is_what_dataclasses_asdict_gives_and_a_copy():
    result = ExerciseResult(
        "linalg.dot", "Dot product", 4.0, "partial", 1.5, "check 'small': ...", "negated",
        "linalg.py", [CheckResult("small", 1.0, "failed", 0.0, "got -3, expected 3", "negated",
                                  hidden=True, about="a", notes=["changed its input"],
                                  mutated=True),
                      CheckResult("empty", 0.5, "passed", 0.5)],
        TimingResult(0.002, 0.001, 2.0, False, "vectorize", "n", 2.1, 1.0, True), "hi\n", True)
    record = exercise_dict(result)
    assert record == dataclasses.asdict(result)
    assert exercise_dict(dataclasses.replace(result, timing=None))["timing"] is None
    record["checks"][0]["notes"].append("x")
    assert result.checks[0].notes == ["changed its input"]
