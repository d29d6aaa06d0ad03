"""``grader validate``: is an exercise fit to release? The checks an instructor would otherwise do
by hand, run over every check of the exercise (hidden ones too):

1. The case generators are deterministic: every case is built twice from the same seed and the
   two digests (:func:`grader.frozen.case_digest`) must agree.
2. Through the worker, as a student's code runs: the reference gets full marks and the stub gets
   0 with status ``not_implemented``.
3. Every declared :class:`~grader.judges.Mistake` is caught and diagnosed. A check's mistakes are
   the ones its judge can reach (closures, defaults and the globals its code names: how
   ``matches(mistakes=...)`` and the bank's own judges hold them). Each is replayed in this
   process on the check's case and handed to the judge as the student's result (see
   :func:`_layouts` for where the value goes in a case of several calls). A mistake passes a
   check where its variant happens to be right (``pinv_ignores_rtol`` without an ``rtol``), so
   the rule is per mistake: it must fail, with a diagnosis, on at least one check where it
   applies. It is UNFIT when no check catches it, or catches it without saying why; a warning
   when the diagnosis shown is always another mistake's (two variants that agree on every case),
   or a judge crashed on it. A mistake declared in a bank module that no judge reaches is a
   warning: it can never be named.
4. Tolerances are not so loose that a trivial wrong answer passes: zeros like the expected value,
   the first array input returned unchanged, the expected value transposed (when it holds a 2-D
   array) and a constant 0.0 are judged against every check. A check that passes one is UNFIT,
   unless that answer IS the expected value (the pseudo-inverse of the all-zero matrix is zeros,
   test-mode dropout returns its input): then it is a warning, since the check cannot tell that
   answer from a right one. The rule: equal to the expected value call by call up to rounding
   (``RIGHT_RTOL``, and ``RIGHT_ATOL_SCALE`` times the largest |expected entry|). A transpose
   equal to the expected value (a symmetric answer) is no wrong answer and is skipped; a
   transpose that passes because the expected matrix is normal (orthogonal or symmetric up to
   scale: any orthonormal basis of a sphere's axes is right) is a warning too, since only the
   author knows whether the check accepts it on purpose.
5. Hidden checks are not reachable from the student bundle: the exercise's topic is released to
   a temporary folder with :func:`grader.release.release` (which verifies the bundle in a fresh
   process), and the bundle is scanned: no hidden check declared or named in its bank, no hidden
   case's digest in its frozen data, no reference source line (of 31 characters or more, not in
   the stub: the rule of ``tests/test_release.py``).

An exercise is FIT when nothing is UNFIT; warnings are printed under its verdict line.
"""

from __future__ import annotations

import ast
import sys
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import click

from grader import catalog as catalog_mod
from grader import frozen
from grader.catalog import Check, Exercise, select
from grader.probes import probe_mistakes, probe_trivial, quiet, reachable_mistakes, short

# Reference lines shorter than this are too generic to call a leak (``return out``).
LEAK_MIN_CHARS = 31


@dataclass
class Finding:
    """The verdict on one exercise: UNFIT reasons (none when fit) and warnings."""

    exercise: str
    title: str = ""
    unfit: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checks: int = 0
    mistakes: int = 0  # declared mistakes caught with a diagnosis
    trivial: int = 0  # (check, trivial answer) pairs refused

    @property
    def fit(self) -> bool:
        return not self.unfit

    def summary(self) -> str:
        return (f"{_count(self.checks, 'check')}, {_count(self.mistakes, 'mistake')} diagnosed, "
                f"{_count(self.trivial, 'trivial answer')} refused")

    def lines(self) -> list[str]:
        """The verdict line (FIT/UNFIT with reasons), then one indented line per warning."""
        if self.fit:
            head = f"FIT    {self.exercise}  ({self.summary()})"
        else:
            head = f"UNFIT  {self.exercise}: {'; '.join(self.unfit)}"
        return [head] + [f"       warning: {w}" for w in self.warnings]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# ----------------------------------------------------------------------------- the whole run

def validate(*, ids: Iterable[str] = (), exercises: list[Exercise] | None = None, seed: int = 0,
             bundle: bool = True, progress: Callable[[Finding], None] | None = None
             ) -> list[Finding]:
    """Validate ``exercises`` (default: those ``ids`` select, every one when empty), topic by
    topic; ``progress`` gets each topic's findings as soon as they are made. ``bundle=False``
    skips the release (for exercises that are not in ``grader/bank``)."""
    chosen = list(exercises) if exercises is not None else select(tuple(ids))
    topics: dict[str, list[Exercise]] = {}
    for exercise in chosen:
        topics.setdefault(exercise.topic, []).append(exercise)
    findings: dict[str, Finding] = {}
    for group in topics.values():
        done = {e.id: Finding(e.id, e.title, checks=len(e.checks)) for e in group}
        _validate_group(group, seed, done, bundle)
        findings.update(done)
        if progress is not None:
            for exercise in group:
                progress(done[exercise.id])
    return [findings[e.id] for e in chosen]


def _validate_group(group: list[Exercise], seed: int, findings: dict[str, Finding],
                    bundle: bool) -> None:
    built = [e for e in group if _check_determinism(e, seed, findings[e.id])]
    _through_worker(built, seed, findings)
    for exercise in built:
        _check_in_process(exercise, seed, findings[exercise.id])
    if bundle:
        _check_bundle(group, seed, findings)
    _orphan_mistakes(group, findings)


# ----------------------------------------------------------------------------- determinism

def _check_determinism(exercise: Exercise, seed: int, finding: Finding) -> bool:
    """Every case built twice gives the same digest; False when a generator cannot build."""
    ok = True
    for check in exercise.checks:
        digests = []
        for _ in range(2):
            try:
                with quiet():
                    case = check.build(exercise.check_rng(check, seed))
                digests.append(frozen.case_digest(case))
            except Exception as exc:  # noqa: BLE001 - the author's generator is what is judged
                finding.unfit.append(f"check '{check.name}': its case generator raised "
                                     f"{type(exc).__name__}: {short(exc, 200)}")
                ok = False
                break
        if len(digests) == 2 and digests[0] != digests[1]:
            finding.unfit.append(f"check '{check.name}': two builds from seed {seed} gave "
                                 "different inputs (draw from the rng it is given, never from "
                                 "np.random or the time)")
    return ok


# ----------------------------------------------------------------------------- the worker

def _through_worker(group: list[Exercise], seed: int, findings: dict[str, Finding]) -> None:
    """The reference gets full marks and the stub 0 (not implemented), through the worker."""
    if not group:
        return
    for label, folder in (("reference", catalog_mod.SOLUTIONS_DIR),
                          ("stub", catalog_mod.EXERCISES_DIR)):
        for exercise, result in _grade_each(group, folder, seed, findings):
            if result is None:
                continue
            finding = findings[exercise.id]
            if label == "reference" and (result.status != "passed"
                                         or result.score != result.max_score):
                finding.unfit.append(f"the reference gets {result.score:g} / "
                                     f"{result.max_score:g} through the worker ({result.status}):"
                                     f" {short(result.message, 300)}")
            if label == "stub" and (result.status != "not_implemented" or result.score != 0):
                finding.unfit.append(f"the stub gets {result.score:g} / {result.max_score:g} "
                                     f"({result.status}), not 0 as not implemented: "
                                     f"{short(result.message, 300)}")


def _grade_each(group: list[Exercise], folder: Path, seed: int, findings: dict[str, Finding]):
    """(exercise, ExerciseResult | None) for the group, graded in one run; when the grader
    itself fails, each exercise alone, so that the failure is pinned on the one that causes it."""
    from grader import grading

    try:
        result = grading.grade(submission=folder, exercises=group, seed=seed, time_it=False)
    except Exception as exc:  # noqa: BLE001 - a grader fault: find which exercise causes it
        if len(group) > 1:
            return [pair for e in group for pair in _grade_each([e], folder, seed, findings)]
        findings[group[0].id].unfit.append(f"grading {folder.name}/ failed in the grader: "
                                           f"{type(exc).__name__}: {short(exc, 300)}")
        return [(group[0], None)]
    return list(zip(group, result.exercises))


# ------------------------------------------------------------------ mistakes, trivial answers

def _check_in_process(exercise: Exercise, seed: int, finding: Finding) -> None:
    """Declared mistakes and trivial answers, judged here on the cases grading used."""
    from grader.grading import _prepared

    try:
        cases, expected = _prepared(exercise, seed, True)
    except Exception as exc:  # noqa: BLE001 - already reported by the worker run
        finding.unfit.append(f"the reference's expected results could not be computed: "
                             f"{type(exc).__name__}: {short(exc, 200)}")
        return
    mistakes = probe_mistakes(cases, expected)
    finding.unfit += mistakes.unfit
    finding.warnings += mistakes.warnings
    finding.mistakes = mistakes.passed
    for (check, case), want in zip(cases, expected):
        trivial = probe_trivial(check, case, want)
        finding.unfit += trivial.unfit
        finding.warnings += trivial.warnings
        finding.trivial += trivial.passed


# --------------------------------------------------------------------- mistakes no judge uses

def _orphan_mistakes(group: list[Exercise], findings: dict[str, Finding]) -> None:
    """Mistakes a bank module declares (the release's walk) that no check's judge reaches."""
    from grader.release import _module_mistakes

    for module in {m for e in group if (m := _bank_module(e)) is not None}:
        exercises = getattr(module, "EXERCISES", ())
        used = {id(m) for e in exercises for c in e.checks
                for m in reachable_mistakes(c.judge)}
        orphans = sorted(name for name, same in _module_mistakes(module).items()
                         if not any(id(m) in used for m in same))
        for exercise in group:
            if _bank_module(exercise) is module and orphans:
                findings[exercise.id].warnings.append(
                    f"{module.__name__} declares mistakes no check's judge uses: "
                    f"{', '.join(orphans)}")


def _bank_module(exercise: Exercise) -> types.ModuleType | None:
    for name, module in list(sys.modules.items()):
        if name.startswith("grader.bank.") and any(
                e is exercise for e in getattr(module, "EXERCISES", ())):
            return module
    return None


# ----------------------------------------------------------------------------- the bundle

def _check_bundle(group: list[Exercise], seed: int, findings: dict[str, Finding]) -> None:
    """Release the topic (each exercise alone when the topic's bundle fails) and scan it."""
    from grader.release import ReleaseError, release

    with tempfile.TemporaryDirectory(prefix="grader-validate-") as tmp:
        out = Path(tmp) / "bundle"
        try:
            with quiet():  # the release replays mistakes outside any judge
                release(out=out, exercises=group, seed=seed)
        except Exception as exc:  # noqa: BLE001 - a release that fails is the finding
            if len(group) > 1:
                for exercise in group:
                    _check_bundle([exercise], seed, findings)
                return
            what = ("fails its own verification" if isinstance(exc, ReleaseError) else
                    f"cannot be released ({type(exc).__name__})")
            findings[group[0].id].unfit.append(
                f"the student bundle {what}: {_one_line(exc, out)}")
            return
        for exercise, reason in scan_bundle(out, group, seed):
            findings[exercise.id].unfit.append(reason)


def _one_line(exc: Exception, out: Path) -> str:
    """An error in one line, without the temporary folder: the first line's lead and the last
    line of a traceback it quotes, or its message."""
    text = str(getattr(exc, "message", exc)).replace(f" in {out}", "").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1:
        return short(f"{lines[0].split(':')[0]}: {lines[-1]}", 300)
    return short(text, 300)


def _bundle_text(out: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(out.rglob("*"))
                     if p.is_file() and p.suffix in (".py", ".md", ".toml", ".j2", ".json"))


def _declared_checks(source: str) -> set[str]:
    """The names of the Check(...) calls in a bank module's source."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(
                node.func, "attr", None)) == "Check":
            first = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg == "name"), None)
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    return names


def scan_bundle(out: Path, exercises: list[Exercise], seed: int = 0
                ) -> list[tuple[Exercise, str]]:
    """What of ``exercises``' hidden checks and references a released bundle in ``out`` holds,
    as (exercise, UNFIT reason) pairs; none when the bundle is clean."""
    found: list[tuple[Exercise, str]] = []
    text = _bundle_text(out)
    banks = {p.name: p.read_text() for p in (out / "grader" / "bank").glob("*.py")}
    declared = {name for source in banks.values() for name in _declared_checks(source)}
    tables = {p.name: frozen.unpack(p.read_bytes())
              for p in (out / "grader" / "_frozen").glob("*.bin")}
    digests = {d for table in tables.values() for d in table}
    public = {c.name for e in catalog_mod.catalog().values() for c in e.checks if not c.hidden}
    for exercise in exercises:
        for check in (c for c in exercise.checks if c.hidden):
            where = _hidden_leak(check, exercise, seed, banks, declared, digests, public)
            if where:
                found.append((exercise, f"hidden check '{check.name}' is reachable from the "
                                        f"student bundle: {where}"))
    for exercise, line in _reference_leaks(text, exercises):
        found.append((exercise, f"a reference line is in the student bundle: {line!r}"))
    return found


def _hidden_leak(check: Check, exercise: Exercise, seed: int, banks: dict[str, str],
                 declared: set[str], digests: set[str], public: set[str]) -> str:
    """Where the bundle gives a hidden check away ('' when it does not). A name that is also
    a public check's (of any exercise) can only be judged by the inputs' digest."""
    if check.name in declared and check.name not in public:
        return "its bank still declares it"
    if check.name not in public:
        quoted = (f"'{check.name}'", f'"{check.name}"')
        holder = next((n for n, s in banks.items() if any(q in s for q in quoted)), None)
        if holder:
            return f"its name is quoted in grader/bank/{holder}"
    try:
        with quiet():
            digest = frozen.case_digest(check.build(exercise.check_rng(check, seed)))
    except Exception:  # noqa: BLE001 - a generator that raises is reported on its own
        return ""
    return "its inputs are in the frozen data" if digest in digests else ""


def _reference_leaks(text: str, exercises: list[Exercise]) -> list[tuple[Exercise, str]]:
    """Reference source lines found in the bundle, with the exercise whose function holds
    them (every exercise of the topic for a module-level line)."""
    leaks = []
    for topic in sorted({e.topic for e in exercises}):
        solution = catalog_mod.SOLUTIONS_DIR / f"{topic}.py"
        stub = catalog_mod.EXERCISES_DIR / f"{topic}.py"
        if not solution.is_file():
            continue
        source = solution.read_text()
        stub_text = stub.read_text() if stub.is_file() else ""
        owners = _line_owners(source)
        mine = [e for e in exercises if e.topic == topic]
        for number, raw in enumerate(source.splitlines(), start=1):
            line = raw.strip()
            if len(line) < LEAK_MIN_CHARS or line in stub_text or line.startswith(('"""', "#")):
                continue
            if line in text:
                owner = owners.get(number)
                for exercise in mine:
                    if owner is None or owner in exercise.functions:
                        leaks.append((exercise, line))
    return leaks


def _line_owners(source: str) -> dict[int, str]:
    """Line number -> the top-level function or class that holds it."""
    owners = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for number in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                owners[number] = node.name
    return owners


# ----------------------------------------------------------------------------- the command

@click.command("validate", context_settings={"help_option_names": ["-h", "--help"],
                                             "max_content_width": 100})
@click.argument("exercise_ids", nargs=-1, metavar="[EXERCISE|TOPIC]...")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the case generators (the release's seed).")
@click.option("--no-bundle", is_flag=True,
              help="Skip releasing and scanning the student bundle (faster while authoring; "
                   "CI does not skip it).")
def validate_cmd(exercise_ids: tuple[str, ...], seed: int, no_bundle: bool) -> None:
    """Check exercises before release: all of them, or the EXERCISE ids or TOPICs given.

    \b
    For each exercise: the case generators are deterministic; the reference gets full marks
    and the stub 0 through the worker; every declared mistake is caught and diagnosed;
    trivial wrong answers (zeros, the input unchanged, the answer transposed, 0.0) fail every
    check; hidden checks and reference code are not in the student bundle.
    Prints FIT or UNFIT (with the reasons) per exercise, warnings indented below.
    Exit codes: 0 all fit, 1 some exercise unfit, 2 an unknown exercise or topic.
    """
    chosen = select(exercise_ids)  # an unknown id fails here, before any work (exit 2)

    def show(finding: Finding) -> None:  # colors only on a terminal (click strips them)
        head, *warnings = finding.lines()
        click.echo(click.style(head, fg="green" if finding.fit else "red"))
        for line in warnings:
            click.echo(click.style(line, fg="yellow"))

    findings = validate(exercises=chosen, seed=seed, bundle=not no_bundle, progress=show)
    unfit = [f.exercise for f in findings if not f.fit]
    click.echo(f"{_count(len(findings), 'exercise')}: {len(findings) - len(unfit)} fit, "
               f"{len(unfit)} unfit"
               + (f" ({', '.join(unfit)})" if unfit else ""))
    if unfit:
        raise click.exceptions.Exit(1)


__all__ = ["Finding", "scan_bundle", "validate", "validate_cmd"]
