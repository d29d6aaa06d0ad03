"""The class report: how a whole class did, drawn from the gradebook (never by regrading).

Score histogram, pass rate per exercise and per check, the most common failures and diagnosed
mistakes, timing ratios. Plots are inline SVG built in the template from numbers computed here,
so the HTML file opens offline.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from grader.report import _environment
from grader.results import GradeResult


@dataclass
class ExerciseStats:
    id: str
    max_score: float = 0.0
    scores: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    checks: dict[str, list[int]] = field(default_factory=dict)  # name -> [passed, total]
    ratios: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.scores else 0.0

    @property
    def pass_rate(self) -> float:
        total = sum(self.statuses.values())
        return self.statuses["passed"] / total if total else 0.0

    @property
    def median_ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None


def histogram(values: list[float], top: float, bins: int = 10) -> list[dict]:
    """Counts of ``values`` in ``bins`` equal bins over [0, top]."""
    top = top if top > 0 else 1.0
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, max(0, int(value / top * bins)))] += 1
    width = top / bins
    return [{"low": i * width, "high": (i + 1) * width, "count": c} for i, c in enumerate(counts)]


def collect(results: Iterable[tuple[str, GradeResult | None]], errors: dict[str, str],
            exercise_ids: list[str]) -> dict:
    """The numbers the class report shows, from (student, result) pairs read one at a time:
    a class of thousands is never in memory at once."""
    stats = {eid: ExerciseStats(eid) for eid in exercise_ids}
    failures: Counter = Counter()
    examples: dict[tuple, str] = {}
    totals, max_total, students = [], 0.0, 0
    for _student, result in results:
        students += 1
        if result is None:
            continue
        totals.append(result.score)
        max_total = max(max_total, result.max_score)
        for ex in result.exercises:
            st = stats.setdefault(ex.id, ExerciseStats(ex.id))
            st.max_score = max(st.max_score, ex.max_score)
            st.scores.append(ex.score)
            st.statuses[ex.status] += 1
            if ex.timing is not None:
                st.ratios.append(ex.timing.ratio)
            for check in ex.checks:
                passed_total = st.checks.setdefault(check.name, [0, 0])
                passed_total[1] += 1
                passed_total[0] += check.status == "passed"
                if check.status not in ("passed", "skipped"):
                    key = (ex.id, check.name, check.status, check.diagnosis or "")
                    failures[key] += 1
                    examples.setdefault(key, check.message)
            if ex.status in ("error", "missing") and not ex.checks:
                key = (ex.id, "", ex.status, "")
                failures[key] += 1
                examples.setdefault(key, ex.message)
    common = [{"exercise": k[0], "check": k[1], "status": k[2], "diagnosis": k[3],
               "count": n, "example": examples[k]} for k, n in failures.most_common(15)]
    return {"students": students, "graded": len(totals), "errors": dict(sorted(errors.items())),
            "totals": totals, "max_total": max_total,
            "mean_total": statistics.fmean(totals) if totals else 0.0,
            "histogram": histogram(totals, max_total),
            "exercises": [stats[e] for e in stats], "failures": common}


def gather(book, exercise_ids: list[str]) -> dict:
    """The report's numbers for everything in ``book`` (a :class:`grader.gradebook.Gradebook`)."""
    errors: dict[str, str] = {}

    def results() -> Iterator[tuple[str, GradeResult | None]]:
        for student in sorted(book.students()):
            result = book.load(student)
            if result is None:
                errors[student] = book.error(student) or "not graded"
            yield student, result

    return collect(results(), errors, exercise_ids)


def render(data: dict) -> str:
    """The class report HTML from :func:`gather`'s numbers."""
    return _environment(False).get_template("class_report.html.j2").render(c=data)
