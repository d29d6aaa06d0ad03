"""Batch grading of a class: error rows, resume after a kill, regrade, outputs."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import child_processes, session_folders
from grader import batch
from grader.catalog import SOLUTIONS_DIR, select
from grader.cli import main

DOT = (select(("linalg.dot",)))
CORRECT = (SOLUTIONS_DIR / "linalg.py").read_text()
OFF_BY_ONE = "def dot(u, v):\n    return sum(u[i] * v[i] for i in range(len(u) - 1))\n"


def make_class(root: Path, n_correct: int = 2) -> Path:
    subs = root / "subs"
    subs.mkdir()
    for i in range(n_correct):
        (subs / f"good{i}").mkdir()
        (subs / f"good{i}" / "linalg.py").write_text(CORRECT)
    (subs / "wrong.py").write_text(OFF_BY_ONE)
    with zipfile.ZipFile(subs / "zipped.zip", "w") as zf:
        zf.writestr("linalg.py", CORRECT)
    with zipfile.ZipFile(subs / "slip.zip", "w") as zf:
        zf.writestr("../evil.py", "x = 1\n")
    (subs / "empty").mkdir()
    (subs / "notes.pdf").write_bytes(b"%PDF-1.4")
    return subs


def test_a_class_is_graded_with_error_rows_and_outputs(tmp_path):
    subs = make_class(tmp_path)
    out = tmp_path / "out"
    summary = batch.run(submissions_dir=subs, out_dir=out, exercises=DOT, workers=2)
    status = {o.student: (o.status, o.score) for o in summary.outcomes}
    assert status == {"empty": ("error", 0.0), "good0": ("graded", 4.0),
                      "good1": ("graded", 4.0), "notes": ("error", 0.0),
                      "slip": ("error", 0.0), "wrong": ("graded", 0.5),
                      "zipped": ("graded", 4.0)}
    assert summary.grader_failures == 0
    errors = {o.student: o.message for o in summary.outcomes if o.status == "error"}
    assert "../evil.py" in errors["slip"] and "empty" in errors["empty"]
    csv = (out / "grades.csv").read_text().splitlines()
    assert csv[0] == '"student_id","linalg.dot","total","max_total","note"'
    assert '"wrong","0.5","0.5","4",""' in csv
    for student in ("good0", "wrong", "zipped"):
        assert (out / "students" / student / "feedback.html").is_file()
        assert (out / "students" / student / "results.json").is_file()
    report = (out / "class_report.html").read_text()
    assert "Class report" in report and "<svg" in report and "linalg.dot" in report
    assert "your loop skips the last element" in report


def test_rerun_grades_nothing_unchanged_and_regrade_forces(tmp_path):
    subs = make_class(tmp_path, n_correct=1)
    out = tmp_path / "out"
    batch.run(submissions_dir=subs, out_dir=out, exercises=DOT, workers=1)
    again = batch.run(submissions_dir=subs, out_dir=out, exercises=DOT, workers=1)
    assert again.count("graded") == 0 and again.count("unchanged") == 3
    (subs / "wrong.py").write_text(CORRECT)
    changed = batch.run(submissions_dir=subs, out_dir=out, exercises=DOT, workers=1)
    assert [o.student for o in changed.outcomes if o.status == "graded"] == ["wrong"]
    forced = batch.run(submissions_dir=subs, out_dir=out, exercises=DOT, workers=1,
                       regrade=True, student="good0")
    assert [(o.student, o.status) for o in forced.outcomes] == [("good0", "graded")]


KILL_PROGRAM = """
import sys
from grader import batch
from grader.catalog import select
batch.run(submissions_dir=sys.argv[1], out_dir=sys.argv[2], exercises=select(("linalg.dot",)),
          workers=1)
"""


def _graded_rows(db: Path) -> list[tuple[str, int]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT student, COUNT(*) FROM submissions GROUP BY student"
                           ).fetchall()
    except sqlite3.OperationalError:  # the schema is not written yet
        return []
    finally:
        con.close()


@pytest.mark.slow
def test_a_batch_killed_midway_resumes_and_grades_everyone_exactly_once(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(24):
        (subs / f"s{i:02d}.py").write_text(CORRECT if i % 2 else OFF_BY_ONE)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", KILL_PROGRAM, str(subs), str(out)])
    db = out / "gradebook.sqlite"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill once a few students are committed
            if db.exists() and len(_graded_rows(db)) >= 4:
                break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    before = _graded_rows(db)
    assert 4 <= len(before) < 24, before
    resumed = batch.run(submissions_dir=subs, out_dir=out, exercises=DOT, workers=2)
    assert resumed.count("unchanged") == len(before)
    assert resumed.count("graded") == 24 - len(before)
    rows = _graded_rows(db)
    assert len(rows) == 24 and all(count == 1 for _, count in rows)
    third = batch.run(submissions_dir=subs, out_dir=out, exercises=DOT)
    assert third.count("unchanged") == 24


def test_cli_batch_summary_and_exit_code(tmp_path):
    subs = make_class(tmp_path, n_correct=1)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(subs), "--out", str(out), "-j", "2",
                                       "-a", "hw1"])
    assert result.exit_code == 0, result.output
    assert "3 graded, 0 unchanged, 3 could not be graded, 0 grader failures" in result.output
    assert "linalg.dot" in result.output and "linalg.pca" in result.output
    assert "slip:" in result.output
    again = CliRunner().invoke(main, ["report", str(out), "-a", "hw1"])
    assert again.exit_code == 0 and "Rendered the reports of 6 students" in again.output


def test_cli_batch_refuses_a_missing_folder(tmp_path):
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "nope"), "--out",
                                       str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "nope" in result.output


LEAVES_A_DAEMON = CORRECT + """

import os as _os
import time as _time


def _daemon():
    pid = _os.fork()
    if pid == 0:
        _os.setsid()
        if _os.fork() == 0:
            _os.execv("/bin/sleep", ["sleep", "{marker}"])
        _os._exit(0)
    _os.waitpid(pid, 0)


_daemon()
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_when_a_batch_returns_nothing_of_its_sandboxes_is_left(tmp_path, workers):
    # Sessions start ahead and end in the background during a batch; by the time run()
    # returns, every one of them is gone: processes, folders, the session started for a next
    # submission that never came. With two workers, so are the grading processes and their
    # zygotes.
    from grader.sandbox import parent

    marker = f"{3000 + os.getpid() % 1000}.{25 + workers}"  # sleep's argument marks the daemons
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(4):
        (subs / f"s{i}.py").write_text(LEAVES_A_DAEMON.replace("{marker}", marker))
    children = child_processes()
    with session_folders() as bases:
        summary = batch.run(submissions_dir=subs, out_dir=tmp_path / "out", exercises=DOT,
                            workers=workers)
    assert {(o.status, o.score) for o in summary.outcomes} == {("graded", 4.0)}
    assert len(bases) > 4  # one per submission, and at least one started ahead
    assert [b for b in bases if os.path.exists(b)] == []
    if workers == 1:  # graded by this process's own zygote, still there for the next batch
        assert parent._zygote._spares == [] and parent._zygote._closing.unfinished_tasks == 0
        assert child_processes() - children <= {parent._zygote._proc.pid}
    else:  # by grading processes, gone with their zygotes; this process started none
        assert child_processes() <= children
    assert _processes_running(["sleep", marker]) == []


def _processes_running(argv: list[str]) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if fh.read().split(b"\0")[:-1] == [a.encode() for a in argv]:
                    found.append(int(pid))
        except OSError:
            pass
    return found


HANGS = "def dot(u, v):\n    while True:\n        pass\n"


def test_a_batch_stopped_midway_leaves_no_grading_process_or_sandbox(tmp_path):
    # The batch's process stops (here its progress callback raises, as Ctrl-C would) while its
    # grading processes are inside students' sandboxes: they are told to stop, close their
    # sandboxes and zygotes, and are gone when run() raises.
    from grader.sandbox import parent

    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "a_fast.py").write_text(CORRECT)
    for i in range(5):
        (subs / f"b_hangs{i}.py").write_text(HANGS)
    children, folders = child_processes(), set(os.listdir(parent.folders_root()))

    def sandboxes() -> list[str]:
        return [f for f in set(os.listdir(parent.folders_root())) - folders
                if "zygote" not in f]

    def stop(outcome, done, total):
        deadline = time.monotonic() + 30  # until a grading process is in a hanging student's
        while len(sandboxes()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        raise RuntimeError(f"stopped after {outcome.student}")

    with session_folders() as bases, pytest.raises(RuntimeError, match="stopped after a_fast"):
        batch.run(submissions_dir=subs, out_dir=tmp_path / "out", exercises=DOT, workers=2,
                  progress=stop)
    assert child_processes() <= children
    assert len(bases) >= 3  # a_fast's and a hanging student's at least: stopped inside them
    assert [b for b in bases if os.path.exists(b)] == []
    assert set(os.listdir(parent.folders_root())) <= folders  # the zygotes' folders too


@pytest.mark.parametrize("workers", [1, 2])
def test_reports_that_cannot_be_written_cost_that_student_visibly(tmp_path, workers):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("blocked", "fine"):
        (subs / f"{name}.py").write_text(CORRECT)
    out = tmp_path / "out"
    (out / "students").mkdir(parents=True)
    (out / "students" / "blocked").write_text("a file where the student's folder goes")
    summary = batch.run(submissions_dir=subs, out_dir=out, exercises=DOT, workers=workers)
    blocked, fine = summary.outcomes
    assert (blocked.student, blocked.status, blocked.score) == ("blocked", "grader_failure", 0.0)
    assert blocked.message.startswith("internal grader error: could not write the reports: ")
    assert "students/blocked" in blocked.message
    assert (fine.student, fine.status, fine.score) == ("fine", "graded", 4.0)
    assert summary.grader_failures == 1
