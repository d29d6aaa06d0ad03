"""pytest plugin: each check of the grader as a test item, for editors' test explorers.

Off unless asked, so that installing the package changes no other project's test run (nor this
project's own suite). It is on when

- pytest runs with ``--grader`` (``--no-grader`` turns it off whatever else says);
- the ini file says ``grader = true`` (``[tool.pytest.ini_options]``, ``pytest.ini``, ...), or a
  conftest's ``pytest_configure`` sets ``config.option.grader = True``;
- pytest runs in a student bundle (``grader release``): its root folder, the one that holds the
  bundle's ``grader`` package with its frozen check data.

Then every file of the submission (``--grader-submission PATH``; default the ``exercises``
folder of pytest's root directory) collects one item per public check of its exercises
(``--grader-exercise ID`` or topic, repeatable, to choose), with readable ids::

    exercises/linalg.py::linalg.dot::small

Running the first item of an exercise grades that exercise ONCE through
:func:`grader.grading.grade`, so the student's code runs in the grader's sandboxed worker and
never in pytest's process; every item then reports its check's verdict: passed, failed with the
grader's message and diagnosis as the failure text, or skipped (not implemented yet) with the
reason. pytest's own Python collector never imports a submission file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # imported when the plugin is on, never at pytest's start-up
    from grader.catalog import Check, Exercise
    from grader.results import ExerciseResult
    from grader.submission import Submission

#: The tree that holds this ``grader`` package: a student bundle's root, or the project's.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
PLUGIN_NAME = "grader-checks"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader", "dlmath-grader: the exercises' checks as test items")
    group.addoption("--grader", action="store_true", dest="grader", default=None,
                    help="Collect one item per public check of the submission's exercises; "
                         "the grader runs the student's code in its sandboxed workers.")
    group.addoption("--no-grader", action="store_false", dest="grader", default=None,
                    help="Collect no checks, even in a student bundle or with grader = true.")
    group.addoption("--grader-submission", metavar="PATH", default=None,
                    help="Folder laid out like exercises/, or one .py file. "
                         "[default: exercises/ in pytest's root directory]")
    group.addoption("--grader-exercise", metavar="ID", action="append", default=[],
                    help="Only this exercise (linalg.dot) or topic (linalg); repeatable.")
    group.addoption("--grader-seed", metavar="N", type=int, default=0,
                    help="Seed of the checks' inputs. [default: 0]")
    group.addoption("--grader-timing", action="store_true", default=False,
                    help="Time each exercise against the reference (speed checks need it).")
    group.addoption("--grader-hidden", action="store_true", default=False,
                    help="Also the hidden checks (in the instructor's tree; a student bundle "
                         "has none).")
    parser.addini("grader", type="bool", default=False,
                  help="Collect the grader's checks as test items (as --grader does).")
    parser.addini("grader_submission", default="",
                  help="The submission to grade, relative to the ini file's folder.")


def _in_bundle(config: pytest.Config) -> bool:
    if config.rootpath.resolve() != PACKAGE_ROOT:
        return False
    from grader import frozen

    return frozen.is_bundle()


def enabled(config: pytest.Config) -> bool:
    """Whether this run collects the grader's checks (see the module's docstring)."""
    flag = config.getoption("grader")
    if flag is not None:
        return bool(flag)
    return bool(config.getini("grader")) or _in_bundle(config)


@pytest.hookimpl(trylast=True)  # after conftests' pytest_configure, which may turn it on
def pytest_configure(config: pytest.Config) -> None:
    if enabled(config) and not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(GraderChecks(_plan(config)), PLUGIN_NAME)


# ----------------------------------------------------------------------------- what to grade

@dataclass
class Plan:
    """What this run grades: the submission, its exercises, and how."""

    submission: Submission
    exercises: list[Exercise]  # in the catalog's order
    seed: int = 0
    hidden: bool = False
    time_it: bool = False
    # By exercise id: its results, or the exception every item of it raises.
    results: dict[str, ExerciseResult | Exception] = field(default_factory=dict)

    def files(self) -> dict[Path, list[Exercise]]:
        """The submission's files and the exercises each holds (only files that exist)."""
        found: dict[Path, list[Exercise]] = {}
        for exercise in self.exercises:
            file = self.submission.file_for(exercise)
            if file is not None:
                found.setdefault(Path(file).resolve(), []).append(exercise)
        return found

    def checks(self, exercise: Exercise) -> list[Check]:
        return [c for c in exercise.checks if self.hidden or not c.hidden]

    def result(self, exercise: Exercise) -> ExerciseResult:
        """The exercise's results, graded in the worker the first time they are asked for."""
        if exercise.id not in self.results:
            from grader import course, grading
            from grader.errors import GraderError

            try:
                graded = grading.grade(submission=self.submission.path, exercises=[exercise],
                                       seed=self.seed, limits=course.limits(),
                                       hidden=self.hidden, time_it=self.time_it)
                self.results[exercise.id] = graded.exercises[0]
            except GraderError as exc:
                self.results[exercise.id] = CheckFailed(
                    f"the grader could not grade {exercise.id}: {exc.message}")
            except Exception as exc:  # noqa: BLE001 - a grader bug: each item shows it, once run
                self.results[exercise.id] = exc
        outcome = self.results[exercise.id]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _plan(config: pytest.Config) -> Plan:
    from grader.catalog import select
    from grader.errors import GraderError
    from grader.submission import locate

    given = config.getoption("grader_submission")
    if given:
        path = config.invocation_params.dir / given
    elif config.getini("grader_submission"):
        base = config.inipath.parent if config.inipath else config.rootpath
        path = base / config.getini("grader_submission")
    else:
        path = config.rootpath / "exercises"
        if not path.exists():
            raise pytest.UsageError(f"grader: no exercises/ folder in {config.rootpath}; pass "
                                    "--grader-submission PATH (a folder laid out like "
                                    "exercises/, or one .py file)")
    try:
        return Plan(locate(path), select(tuple(config.getoption("grader_exercise"))),
                    seed=config.getoption("grader_seed"),
                    hidden=config.getoption("grader_hidden"),
                    time_it=config.getoption("grader_timing"))
    except GraderError as exc:
        message = exc.message.replace("point --submission", "point --grader-submission")
        raise pytest.UsageError(f"grader: {message}") from None


# ----------------------------------------------------------------------------- collection

class GraderChecks:
    """The hooks of a run that collects checks (registered only then)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.files = plan.files()

    def _exercises_in(self, file_path: Path) -> list[Exercise] | None:
        if file_path.suffix != ".py":
            return None
        return self.files.get(file_path) or self.files.get(file_path.resolve())

    @pytest.hookimpl(wrapper=True)
    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector):
        """A submission file is collected by :class:`SubmissionFile` only: pytest's Python
        collector, which imports a .py file named on the command line (or matching
        ``python_files``), never gets it, since its code runs only in the worker."""
        collected = yield
        exercises = self._exercises_in(file_path)
        if not exercises:
            return collected
        return [c for c in collected if not isinstance(c, pytest.Module)] + [
            SubmissionFile.from_parent(parent, path=file_path, plan=self.plan,
                                       exercises=exercises)]

    @pytest.hookimpl(tryfirst=True)  # before -k and -m deselect
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        """Without paths on the command line (``testpaths`` or the current folder chose them),
        the submission is collected even when those paths do not hold it."""
        if config.args_source == pytest.Config.ArgsSource.ARGS:
            return
        seen = {item.path.resolve() for item in items if isinstance(item, CheckItem)}
        for path, exercises in self.files.items():
            if path not in seen:
                node = SubmissionFile.from_parent(session, path=path, plan=self.plan,
                                                  exercises=exercises)
                items.extend(session.genitems(node))

    def pytest_report_header(self, config: pytest.Config) -> str:
        plan = self.plan
        which = "public and hidden" if plan.hidden else "public"
        timing = "with timing" if plan.time_it else "no timing"
        return (f"grader: {which} checks of {len(plan.exercises)} exercises in "
                f"{plan.submission.path} (seed {plan.seed}, {timing}); student code runs in "
                "the grader's workers")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        """A skipped check is reported at its function in the student's file, not here."""
        report = yield
        if isinstance(item, CheckItem) and report.skipped and isinstance(report.longrepr, tuple):
            path, line = item.reportinfo()[:2]
            report.longrepr = (str(path), (line or 0) + 1, report.longrepr[2])
        return report

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Points of the exercises graded in this run, and the exercises without a file."""
        graded = [r for r in self.plan.results.values() if not isinstance(r, Exception)]
        collected = {e.id for exercises in self.files.values() for e in exercises}
        absent = [e for e in self.plan.exercises if e.id not in collected]
        if not graded and not absent:
            return
        from grader.report import inert

        terminalreporter.section("grader")
        for ex in graded:
            terminalreporter.line(f"{ex.id:28} {ex.score:5g} / {ex.max_score:<5g} "
                                  f"{ex.status.replace('_', ' ')}")
        if graded:
            score = sum(ex.score for ex in graded)
            total = sum(ex.max_score for ex in graded)
            terminalreporter.line(f"{'points':28} {score:5g} / {total:g}"
                                  + ("" if self.plan.hidden else "  (public checks only)"))
        for ex in graded:
            if ex.status in ("missing", "error"):
                terminalreporter.line(f"{ex.id}: {inert(ex.message, 4)}")
        if absent:
            files = dict.fromkeys(f"{e.topic}.py" for e in absent)
            terminalreporter.line(f"not collected, {len(absent)} exercises without their file "
                                  f"in {self.plan.submission.path}: {', '.join(files)}")


class SubmissionFile(pytest.File):
    """A file of the submission: its exercises, whose checks are the items."""

    def __init__(self, *, plan: Plan, exercises: list[Exercise], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.exercises = exercises

    def collect(self):
        for exercise in self.exercises:
            yield ExerciseNode.from_parent(self, name=exercise.id, exercise=exercise)


class ExerciseNode(pytest.Collector):
    """One exercise of a submission file."""

    def __init__(self, *, exercise: Exercise, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exercise = exercise

    def collect(self):
        for check in self.parent.plan.checks(self.exercise):
            yield CheckItem.from_parent(self, name=check.name, check=check)


class CheckFailed(Exception):
    """A check's verdict was not a pass; its text is what the student reads."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _definition_line(file: Path, names: tuple[str, ...]) -> int | None:
    """The 0-based line where the first of ``names`` is defined, read as text (never run)."""
    try:
        source = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for name in names:
        found = re.search(rf"^(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b", source, re.M)
        if found:
            return source.count("\n", 0, found.start())
    return None


class CheckItem(pytest.Item):
    """One check of one exercise, run as part of its exercise's single grading."""

    def __init__(self, *, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.exercise = self.parent.exercise
        self.plan: Plan = self.parent.parent.plan
        self.user_properties.append(("points", check.points))

    def runtest(self) -> None:
        from grader.report import inert

        exercise = self.plan.result(self.exercise)
        check = next((c for c in exercise.checks if c.name == self.check.name), None)
        if exercise.status == "error" or check is None:
            # A crash, a time-out, a missing function or a file that does not import: the
            # exercise scores 0 whatever this check did.
            lines = [inert(exercise.message, 3)]
            if check is not None and check.message and check.message not in exercise.message:
                lines.append(f"check '{check.name}': {inert(check.message, 3)}")
            lines.append(f"({self.exercise.id} scores 0 / {exercise.max_score:g} points)")
            raise CheckFailed("\n".join(lines))
        for note in check.notes:
            self.add_report_section("call", "grader note", inert(note, 0))
        if check.status == "passed":
            return
        if check.status in ("not_implemented", "skipped"):
            pytest.skip(inert(check.message or "not run", 0))
        # The grader's message first: editors and pytest's short summary show the first line.
        lines = [inert(check.message, 3)]
        if check.diagnosis:
            lines.append(f"-> {inert(check.diagnosis, 3)}")
        lines += [f"note: {inert(note, 3)}" for note in check.notes]
        lines.append(f"(check '{check.name}' of {self.exercise.id}: "
                     f"{check.about or self.exercise.title}; {check.score:g} / "
                     f"{check.points:g} points)")
        raise CheckFailed("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None):
        if isinstance(excinfo.value, CheckFailed):
            return excinfo.value.text
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = _definition_line(self.path, self.exercise.functions)
        # Not a suffix of the node id: pytest would print the id's dots as '::' (linalg::dot).
        return self.path, line, f"check {self.exercise.id}::{self.check.name}"
