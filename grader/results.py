"""Structured results: one record per exercise and check. Every report is drawn from these.

``GradeResult.to_dict()`` is the documented JSON schema (``docs/results-schema.md``):

- top level: ``schema`` (1), ``grader_version``, ``seed``, ``submission``, ``score``,
  ``max_score``, ``protections``, ``notes``, ``exercises``
- ``exercises[]``: ``id``, ``title``, ``score``, ``max_score``, ``status``, ``message``,
  ``diagnosis``, ``file``, ``checks``, ``timing``, ``output``, ``output_truncated``
- ``checks[]``: ``name``, ``about``, ``hidden``, ``points``, ``score``, ``status``, ``message``,
  ``diagnosis``, ``notes``
- ``timing``: ``student_seconds``, ``reference_seconds``, ``ratio``, ``slow``, ``advice``

Statuses of an exercise: ``passed``, ``partial``, ``failed``, ``not_implemented``, ``missing``,
``error`` (crash, time-out, exit, import error). Of a check: ``passed``, ``failed``,
``not_implemented``, ``error``, ``skipped``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

EXERCISE_STATUSES = ("passed", "partial", "failed", "not_implemented", "missing", "error")
CHECK_STATUSES = ("passed", "failed", "not_implemented", "error", "skipped")


@dataclass
class CheckResult:
    name: str
    points: float
    status: str
    score: float = 0.0
    message: str = ""
    diagnosis: str | None = None
    hidden: bool = False
    about: str = ""
    notes: list[str] = field(default_factory=list)
    mutated: bool = False  # the student's function changed its inputs in place


@dataclass
class TimingResult:
    student_seconds: float
    reference_seconds: float
    ratio: float
    slow: bool
    advice: str = ""
    # Scaling with a size (when the exercise declares one): t ~ size^exponent.
    size_name: str = ""
    student_exponent: float | None = None
    reference_exponent: float | None = None
    scales_differently: bool = False


@dataclass
class ExerciseResult:
    id: str
    title: str
    max_score: float
    status: str
    score: float = 0.0
    message: str = ""
    diagnosis: str | None = None
    file: str = ""
    checks: list[CheckResult] = field(default_factory=list)
    timing: TimingResult | None = None
    output: str = ""
    output_truncated: bool = False


@dataclass
class GradeResult:
    submission: str
    seed: int
    grader_version: str
    exercises: list[ExerciseResult]
    protections: str = ""
    notes: list[str] = field(default_factory=list)
    device: str = "cpu"  # where torch exercises' inputs lived

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 6)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 6)

    def to_dict(self) -> dict:
        return {
            "schema": 1,
            "grader_version": self.grader_version,
            "seed": self.seed,
            "device": self.device,
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "protections": self.protections,
            "notes": list(self.notes),
            "exercises": [exercise_dict(e) for e in self.exercises],
        }


def _plain(obj: object, names: tuple[str, ...]) -> dict:
    return {name: getattr(obj, name) for name in names}


def exercise_dict(result: ExerciseResult) -> dict:
    """``dataclasses.asdict(result)``, written out: the fields are plain values, lists of
    strings and these records, and asdict's generic deep copy was a tenth of the grader's
    time per submission in a batch."""
    out = _plain(result, _EXERCISE_FIELDS)
    out["checks"] = [{**_plain(c, _CHECK_FIELDS), "notes": list(c.notes)} for c in result.checks]
    if result.timing is not None:
        out["timing"] = _plain(result.timing, _TIMING_FIELDS)
    return out


_EXERCISE_FIELDS = tuple(f.name for f in fields(ExerciseResult))
_CHECK_FIELDS = tuple(f.name for f in fields(CheckResult))
_TIMING_FIELDS = tuple(f.name for f in fields(TimingResult))
