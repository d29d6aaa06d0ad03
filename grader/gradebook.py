"""The gradebook: every student's current results in one SQLite file (``gradebook.sqlite``).

One row per student in ``submissions`` (the current grading; a regrade replaces it), one row
per exercise in ``results`` and one per check in ``checks``, and the whole
:class:`~grader.results.GradeResult` as JSON in ``submissions.result_json`` so that every
report can be drawn again exactly, without regrading (:meth:`Gradebook.load`).

Durability. A submission is recorded in one transaction: its rows are all there or none are,
and replacing a regraded student's rows happens in that same transaction. The file is in WAL
mode with ``synchronous=FULL``: every commit fsyncs the write-ahead log before ``record``
returns, so a committed submission survives ``kill -9`` *and* a power loss or OS crash. (With
``synchronous=NORMAL`` a WAL commit survives a killed process but the last commits can be lost
on power loss; one fsync per submission costs milliseconds against seconds of grading.)

Threads. One connection per :class:`Gradebook`, shared by the threads of the process and
serialized by a lock: one writer at a time, and a reader never sees a half-written
submission. Another process (``grader report`` while a batch runs) waits up to
``BUSY_TIMEOUT_S`` for the writer's lock instead of failing.

Schema versions are in ``PRAGMA user_version`` (:data:`SCHEMA_VERSION`); a file written by a
newer grader is refused, not misread.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import sqlite3
import statistics
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from grader import __version__
from grader.errors import GraderError
from grader.results import CheckResult, ExerciseResult, GradeResult, TimingResult

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE submissions (
    id             INTEGER PRIMARY KEY,
    student        TEXT NOT NULL UNIQUE,
    content_hash   TEXT,              -- NULL when the submission could not be read
    source         TEXT NOT NULL,     -- the file or folder in the submissions folder
    grader_version TEXT NOT NULL,
    seed           INTEGER NOT NULL,
    config         TEXT NOT NULL,     -- fingerprint of the exercises, points and limits
    device         TEXT NOT NULL,
    graded_at      TEXT NOT NULL,     -- ISO 8601, UTC
    score          REAL NOT NULL,
    max_score      REAL NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('graded', 'error')),
    error          TEXT,              -- why it could not be graded (NULL when graded)
    duration       REAL NOT NULL,     -- seconds of grading
    result_json    TEXT,              -- GradeResult.to_dict() (NULL when error)
    CHECK ((status = 'graded') = (error IS NULL)),
    CHECK ((status = 'graded') = (result_json IS NOT NULL))
);
CREATE TABLE results (
    submission_id     INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    position          INTEGER NOT NULL,
    exercise          TEXT NOT NULL,
    title             TEXT NOT NULL,
    score             REAL NOT NULL,
    max_score         REAL NOT NULL,
    status            TEXT NOT NULL,
    message           TEXT NOT NULL,
    diagnosis         TEXT,
    file              TEXT NOT NULL,
    student_seconds   REAL,           -- timing (all four NULL when not measured)
    reference_seconds REAL,
    ratio             REAL,
    slow              INTEGER,
    PRIMARY KEY (submission_id, exercise)
);
CREATE TABLE checks (
    submission_id INTEGER NOT NULL,
    exercise      TEXT NOT NULL,
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    hidden        INTEGER NOT NULL,
    points        REAL NOT NULL,
    score         REAL NOT NULL,
    status        TEXT NOT NULL,
    message       TEXT NOT NULL,
    diagnosis     TEXT,
    PRIMARY KEY (submission_id, exercise, name),
    FOREIGN KEY (submission_id, exercise) REFERENCES results(submission_id, exercise)
        ON DELETE CASCADE
);
"""

_SUBMISSION_COLUMNS = ("student", "content_hash", "source", "grader_version", "seed", "config",
                       "device", "graded_at", "score", "max_score", "status", "error",
                       "duration")


def _statements(script: str) -> list[str]:
    """The statements of ``script`` (``executescript`` would commit the open transaction)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


class GradebookError(GraderError):
    """The gradebook file cannot be used (not a gradebook, or from a newer grader)."""


@dataclass(frozen=True)
class SubmissionRow:
    """A student's current row of ``submissions``."""

    student: str
    content_hash: str | None
    source: str
    grader_version: str
    seed: int
    config: str
    device: str
    graded_at: str
    score: float
    max_score: float
    status: str  # "graded" or "error"
    error: str | None
    duration: float


@dataclass(frozen=True)
class ExerciseRow:
    """One row of ``results``: a student's result for one exercise."""

    student: str
    exercise: str
    title: str
    score: float
    max_score: float
    status: str
    message: str
    diagnosis: str | None
    file: str
    student_seconds: float | None
    reference_seconds: float | None
    ratio: float | None
    slow: bool | None


@dataclass(frozen=True)
class CheckRow:
    """One row of ``checks``."""

    student: str
    exercise: str
    name: str
    hidden: bool
    points: float
    score: float
    status: str
    message: str
    diagnosis: str | None


@dataclass(frozen=True)
class Summary:
    """The class at a glance. Means are over graded submissions; errors score 0 elsewhere."""

    students: int
    graded: int
    errors: int
    mean_score: float | None
    exercise_means: dict[str, float]


def config_fingerprint(exercises: Iterable[Any], *extra: object) -> str:
    """A short digest of what changes verdicts besides the code, version and seed.

    ``exercises`` are :class:`grader.catalog.Exercise` (ids, check names, points, visibility);
    ``extra`` anything else (e.g. the :class:`~grader.sandbox.parent.Limits`), by ``repr``.
    Pass it to :meth:`Gradebook.record` and :meth:`Gradebook.needs_grading` so that changing an
    assignment's points regrades instead of keeping stale scores.
    """
    spec = [[e.id, [[c.name, float(c.points), bool(c.hidden)] for c in e.checks]]
            for e in exercises]
    text = json.dumps([spec, [repr(x) for x in extra]], sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ----------------------------------------------------------------------------- JSON <-> results

def result_to_json(result: GradeResult) -> str:
    """The stored JSON: ``GradeResult.to_dict()``.

    Python's encoder writes ``Infinity``/``NaN`` for non-finite floats (a timing ratio is
    ``inf`` when the reference took no measurable time) and reads them back, so the round trip
    is exact; a reader in another language needs a parser that accepts them.
    """
    return json.dumps(result.to_dict(), sort_keys=True, separators=(",", ":"))


def _known(cls: type, data: dict) -> dict:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def result_from_dict(data: dict) -> GradeResult:
    """A :class:`GradeResult` rebuilt from ``to_dict()`` output (unknown keys are ignored)."""
    exercises = []
    for ex in data["exercises"]:
        fields = _known(ExerciseResult, ex)
        fields["checks"] = [CheckResult(**_known(CheckResult, c)) for c in ex.get("checks", ())]
        timing = ex.get("timing")
        fields["timing"] = TimingResult(**_known(TimingResult, timing)) if timing else None
        exercises.append(ExerciseResult(**fields))
    return GradeResult(submission=data["submission"], seed=data["seed"],
                       grader_version=data["grader_version"], exercises=exercises,
                       protections=data.get("protections", ""),
                       notes=list(data.get("notes", ())), device=data.get("device", "cpu"))


# ----------------------------------------------------------------------------- the gradebook

class Gradebook:
    """``gradebook.sqlite``: open (or create) it, record submissions, read them back."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
            self._conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S,
                                         isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise GradebookError(f"cannot open the gradebook {self.path}: {exc}") from None
        try:
            self._configure()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise GradebookError(f"{self.path} is not a usable gradebook ({exc}); move it "
                                 "away or choose another --out folder") from None
        except GradebookError:
            self._conn.close()
            raise

    def _configure(self) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        self.journal_mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        # FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")

    def _migrate(self) -> None:
        with self._lock:
            if self._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                return  # current: no write lock needed just to open it
            self._conn.execute("BEGIN IMMEDIATE")  # one process creates the schema
            try:
                version = self._conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise GradebookError(
                        f"{self.path} was written by a newer grader (gradebook schema "
                        f"{version}; this grader {__version__} knows up to {SCHEMA_VERSION}): "
                        "upgrade the grader")
                if version == 0:
                    tables = self._conn.execute(
                        "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
                    if tables:
                        raise GradebookError(f"{self.path} is an SQLite file but not a "
                                             "gradebook; choose another --out folder")
                    for statement in _statements(_SCHEMA):
                        self._conn.execute(statement)
                    self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self._conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        # SQLite rolls some failures back itself (a full disk); a second ROLLBACK would raise
        # and hide the error that matters.
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------- writing

    def record(self, student: str, content_hash: str | None, source: str,
               result: GradeResult | None, *, error: str | None = None, seed: int,
               device: str, duration: float, config: str = "",
               graded_at: str | None = None) -> None:
        """Record one student's grading, replacing any earlier one, in one transaction.

        Exactly one of ``result`` (graded) and ``error`` (why it could not be graded) is given.
        When this returns, the submission is on disk; if it raises, the gradebook is as before.
        """
        if (result is None) == (error is None):
            raise ValueError("record() needs either a result or an error, not both or neither")
        if result is not None and result.seed != seed:
            raise ValueError(f"result was graded with seed {result.seed}, not {seed}")
        when = graded_at or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        row = SubmissionRow(
            student=student, content_hash=content_hash, source=str(source),
            grader_version=result.grader_version if result else __version__, seed=seed,
            config=config, device=device, graded_at=when,
            score=result.score if result else 0.0,
            max_score=result.max_score if result else 0.0,
            status="graded" if result else "error", error=error, duration=float(duration))
        blob = result_to_json(result) if result is not None else None  # before BEGIN: may raise
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("DELETE FROM submissions WHERE student = ?", (student,))
                cursor = self._conn.execute(
                    f"INSERT INTO submissions ({', '.join(_SUBMISSION_COLUMNS)}, result_json) "
                    f"VALUES ({', '.join('?' * (len(_SUBMISSION_COLUMNS) + 1))})",
                    (*dataclasses.astuple(row), blob))
                if result is not None:
                    self._insert_results(cursor.lastrowid, result)
                self._conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def _insert_results(self, sub_id: int, result: GradeResult) -> None:
        for position, ex in enumerate(result.exercises):
            t = ex.timing
            self._conn.execute(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sub_id, position, ex.id, ex.title, ex.score, ex.max_score, ex.status,
                 ex.message, ex.diagnosis, ex.file,
                 t.student_seconds if t else None, t.reference_seconds if t else None,
                 t.ratio if t else None, int(t.slow) if t else None))
            self._conn.executemany(
                "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(sub_id, ex.id, i, c.name, int(c.hidden), c.points, c.score, c.status,
                  c.message, c.diagnosis) for i, c in enumerate(ex.checks)])

    # ------------------------------------------------------------------------- reading

    def needs_grading(self, student: str, content_hash: str | None, grader_version: str,
                      seed: int, *, config: str = "") -> bool:
        """False only when the student's current row was graded from the same content, by
        the same grader version, with the same seed and config.

        A row that records an error is always graded again: errors are cheap to reproduce and
        some are transient (a sandbox that failed to start, a grader bug since fixed).
        """
        if content_hash is None:
            return True
        with self._lock:
            row = self._conn.execute(
                "SELECT 1 FROM submissions WHERE student = ? AND status = 'graded' AND "
                "content_hash = ? AND grader_version = ? AND seed = ? AND config = ?",
                (student, content_hash, grader_version, seed, config)).fetchone()
        return row is None

    def students(self) -> list[str]:
        """Every student with a current row, sorted."""
        with self._lock:
            return [r[0] for r in self._conn.execute(
                "SELECT student FROM submissions ORDER BY student")]

    def load(self, student: str) -> GradeResult | None:
        """The student's results as recorded; None when not graded (error or unknown)."""
        with self._lock:
            row = self._conn.execute("SELECT result_json FROM submissions WHERE student = ?",
                                     (student,)).fetchone()
        if row is None or row[0] is None:
            return None
        return result_from_dict(json.loads(row[0]))

    def error(self, student: str) -> str | None:
        """Why the student's submission could not be graded; None when graded or unknown."""
        row = self.submission(student)
        return row.error if row else None

    def submission(self, student: str) -> SubmissionRow | None:
        rows = self._submission_rows("WHERE student = ?", (student,))
        return rows[0] if rows else None

    def rows(self) -> list[SubmissionRow]:
        """Every current submission row, by student."""
        return self._submission_rows("", ())

    def _submission_rows(self, where: str, params: tuple) -> list[SubmissionRow]:
        with self._lock:
            cursor = self._conn.execute(
                f"SELECT {', '.join(_SUBMISSION_COLUMNS)} FROM submissions {where} "
                "ORDER BY student", params)
            return [SubmissionRow(*r) for r in cursor]

    def max_scores(self) -> dict[str, float]:
        """The most points any current result offers, per exercise."""
        with self._lock:
            return dict(self._conn.execute(
                "SELECT r.exercise, MAX(r.max_score) FROM results r JOIN submissions s "
                "ON s.id = r.submission_id GROUP BY r.exercise"))

    def exercise_rows(self, student: str | None = None) -> list[ExerciseRow]:
        """Rows of ``results`` (all students, or one), by student then catalog order."""
        where, params = ("WHERE s.student = ?", (student,)) if student is not None else ("", ())
        with self._lock:
            cursor = self._conn.execute(
                "SELECT s.student, r.exercise, r.title, r.score, r.max_score, r.status, "
                "r.message, r.diagnosis, r.file, r.student_seconds, r.reference_seconds, "
                "r.ratio, r.slow FROM results r JOIN submissions s ON s.id = r.submission_id "
                f"{where} ORDER BY s.student, r.position", params)
            return [ExerciseRow(*r[:12], None if r[12] is None else bool(r[12]))
                    for r in cursor]

    def check_rows(self, student: str | None = None) -> list[CheckRow]:
        """Rows of ``checks`` (all students, or one), in grading order."""
        where, params = ("WHERE s.student = ?", (student,)) if student is not None else ("", ())
        with self._lock:
            cursor = self._conn.execute(
                "SELECT s.student, c.exercise, c.name, c.hidden, c.points, c.score, c.status, "
                "c.message, c.diagnosis FROM checks c "
                "JOIN submissions s ON s.id = c.submission_id "
                "JOIN results r ON r.submission_id = c.submission_id AND "
                "r.exercise = c.exercise "
                f"{where} ORDER BY s.student, r.position, c.position", params)
            return [CheckRow(r[0], r[1], r[2], bool(r[3]), *r[4:]) for r in cursor]

    def summary(self) -> Summary:
        """Students, graded, errors, mean total and mean score per exercise (graded only)."""
        rows = self.rows()
        graded = [r for r in rows if r.status == "graded"]
        per_exercise: dict[str, list[float]] = {}
        for ex in self.exercise_rows():
            per_exercise.setdefault(ex.exercise, []).append(ex.score)
        return Summary(
            students=len(rows), graded=len(graded), errors=len(rows) - len(graded),
            mean_score=statistics.fmean(r.score for r in graded) if graded else None,
            exercise_means={k: statistics.fmean(v) for k, v in per_exercise.items()})
