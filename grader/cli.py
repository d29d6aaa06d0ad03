"""Command line: click wiring only. Each command parses options and calls the Python API;
errors are :class:`grader.errors.GraderError` and click turns them into exit codes.

Exit codes: 0 graded (whatever the score), 1 with ``--fail-under`` when the score is below it,
2 bad input (unknown exercise, unreadable submission), 3 the grader itself failed.
"""

from __future__ import annotations

import sys

import click

from grader import __version__

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _LazyGroup(click.Group):
    """A group whose commands in ``lazy`` ("name": "module:attribute") are imported only when
    used: `grade` and `--help` start without loading numpy."""

    def __init__(self, *args, lazy: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name not in self.commands:
            import importlib

            module, attribute = self.lazy[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)


@click.group(context_settings=CONTEXT, cls=_LazyGroup,
             lazy={"validate": "grader.validate:validate_cmd", "new": "grader.scaffold:new_cmd"})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Grade exercises in the mathematics of deep learning.

    Student code runs in isolated worker processes; answers are compared with math-aware,
    per-dtype tolerances; feedback names what differs and, where known, the mistake.
    """


ASSIGNMENT = click.option("--assignment", "-a", default=None, metavar="NAME",
                          help="Only the exercises of this assignment of the course file, with "
                               "its points.")
DEVICE = click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default="cpu",
                      show_default=True,
                      help="Where torch exercises' inputs live (auto: cuda when this machine has "
                           "an NVIDIA GPU). NumPy exercises always run on the CPU.")
COURSE = click.option("--course", type=click.Path(dir_okay=False), default=None,
                      help="The course file. [default: course.toml of the project]")


@main.command("grade", context_settings=CONTEXT)
@click.argument("exercise_ids", nargs=-1, metavar="[EXERCISE|TOPIC]...")
@click.option("--submission", "-s", type=click.Path(), default=None,
              help="Folder laid out like exercises/, or one .py file. [default: ./exercises]")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the results as JSON (schema: docs/results-schema.md).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Also write an HTML report.")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), default=None,
              help="Also write JUnit XML for CI systems: a testsuite per exercise, a testcase "
                   "per check (docs/pytest.md).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the case generators; the same seed gives the same verdicts.")
@click.option("--public-only", is_flag=True, help="Run only the public checks.")
@click.option("--no-timing", is_flag=True, help="Skip timing against the reference.")
@click.option("--timeout", type=float, default=None,
              help="Seconds allowed for each check's calls. [default: the course file's "
                   "limits.call_seconds, 10]")
@click.option("--verbose", "-v", is_flag=True, help="List every check, passed ones too.")
@click.option("--fail-under", type=float, default=None,
              help="Exit with code 1 when the total score is below this.")
@DEVICE
@ASSIGNMENT
@COURSE
def grade_cmd(exercise_ids: tuple[str, ...], submission: str | None, json_path: str | None,
              html_path: str | None, junit_path: str | None, seed: int, public_only: bool,
              no_timing: bool, timeout: float, verbose: bool, fail_under: float | None,
              device: str, assignment: str | None, course: str | None) -> None:
    """Grade your exercises: all of them, or the EXERCISE ids (linalg.dot) or TOPICs (linalg).

    \b
    Examples:
      grade                      every exercise in ./exercises
      grade linalg.dot           one exercise
      grade nn --json out.json   a topic, with a JSON report
      grade -s my_work.py        a single file holding any subset of the functions
    """
    from grader import course as course_mod
    from grader import grading, junit, report

    chosen = course_mod.exercises_for(assignment, exercise_ids, course_path=course)
    clock = junit.Stopwatch()  # each exercise's wall time, for --junit
    result = grading.grade(submission=submission, ids=exercise_ids, exercises=chosen, seed=seed,
                           limits=course_mod.limits(course, call_seconds=timeout),
                           hidden=not public_only, time_it=not no_timing, device=device,
                           progress=clock)
    click.echo(report.render_terminal(result, color=sys.stdout.isatty(), verbose=verbose),
               nl=False)
    if json_path:
        report.write(json_path, report.render_json(result))
    if html_path:
        report.write(html_path, report.render_html(result))
    if junit_path:
        junit.write_junit(result, junit_path, durations=clock.durations)
    if fail_under is not None and result.score < fail_under:
        sys.exit(1)


@main.command("list", context_settings=CONTEXT)
def list_cmd() -> None:
    """List the exercises: topic, id, points, framework, checks, functions to write."""
    from grader.catalog import catalog

    click.echo(f"{'topic':12} {'exercise':32} {'points':>6}  {'framework':9}  "
               f"{'checks (public/hidden)':22}  functions")
    for ex in catalog().values():
        public = sum(1 for c in ex.checks if not c.hidden)
        click.echo(f"{ex.topic:12} {ex.id:32} {ex.max_score:6g}  {ex.framework:9}  "
                   f"{f'{public} / {len(ex.checks) - public}':22}  {', '.join(ex.functions)}")


@main.command("batch", context_settings=CONTEXT)
@click.argument("submissions_dir", type=click.Path(file_okay=False))
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False), default="graded",
              show_default=True, help="Output folder: gradebook, grades.csv, reports.")
@click.option("--workers", "-j", type=click.IntRange(min=1), default=None,
              help="Submissions graded in parallel, each stream in a grading process of its "
                   "own (with its own sandboxes). [default: the number of cores]")
@ASSIGNMENT
@COURSE
@click.option("--regrade", is_flag=True, help="Grade again submissions already in the gradebook.")
@click.option("--student", default=None, metavar="ID", help="Only this student's submission.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the inputs.")
@click.option("--timing/--no-timing", default=False, show_default=True,
              help="Time each exercise against the reference (about 0.3 s per exercise).")
@click.option("--timeout", type=float, default=None,
              help="Seconds allowed for each check's calls. [default: the course file's "
                   "limits.call_seconds, 10]")
@DEVICE
def batch_cmd(submissions_dir: str, out_dir: str, workers: int | None, assignment: str | None,
              course: str | None, regrade: bool, student: str | None, seed: int, timing: bool,
              timeout: float, device: str) -> None:
    """Grade a class: every submission in SUBMISSIONS_DIR, hidden checks included.

    \b
    A submission is a folder laid out like exercises/, a .py file or a .zip of either; the
    student id is its name. Results go to OUT/gradebook.sqlite (committed per student, so an
    interrupted batch resumes where it stopped), OUT/grades.csv, OUT/class_report.html and
    OUT/students/ID/{feedback.html,results.json}. A submission that cannot be graded becomes an
    error row; the exit code is non-zero only when the grader itself failed.
    """
    from grader import batch
    from grader import course as course_mod

    chosen = course_mod.exercises_for(assignment, course_path=course)
    bar = None

    def progress(outcome, done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Grading", show_eta=True,
                                    show_pos=True, file=sys.stderr,
                                    item_show_func=lambda s: s or "")
            bar.__enter__()
        bar.update(1, outcome.student)

    try:
        summary = batch.run(submissions_dir=submissions_dir, out_dir=out_dir, workers=workers,
                            exercises=chosen, seed=seed,
                            limits=course_mod.limits(course, call_seconds=timeout),
                            regrade=regrade, student=student, time_it=timing,
                            device=device, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    _print_summary(summary)
    if summary.grader_failures:
        sys.exit(3)


def _print_summary(summary) -> None:
    data = summary.class_data
    click.echo(f"{summary.count('graded')} graded, {summary.count('unchanged')} unchanged, "
               f"{summary.count('error')} could not be graded, {summary.grader_failures} grader "
               f"failures, in {summary.seconds:.1f} s")
    if data.get("exercises"):
        click.echo(f"{'exercise':28} {'mean':>8} {'max':>6} {'passed':>7}")
        for ex in data["exercises"]:
            click.echo(f"{ex.id:28} {ex.mean:8.2f} {ex.max_score:6g} {ex.pass_rate:7.0%}")
    for outcome in summary.outcomes:
        if outcome.status in ("error", "grader_failure"):
            click.echo(f"  {outcome.student}: {outcome.message}")
    click.echo(f"Gradebook, grades.csv and reports in {summary.out_dir}")


@main.command("report", context_settings=CONTEXT)
@click.argument("out_dir", type=click.Path(file_okay=False), default="graded")
@ASSIGNMENT
@COURSE
def report_cmd(out_dir: str, assignment: str | None, course: str | None) -> None:
    """Render every report again from OUT_DIR's gradebook, without regrading."""
    from grader import batch
    from grader import course as course_mod

    count = batch.rerender(out_dir, course_mod.exercises_for(assignment, course_path=course))
    click.echo(f"Rendered the reports of {count} students in {out_dir}")


@main.command("release", context_settings=CONTEXT)
@click.argument("out_dir", type=click.Path(file_okay=False))
@ASSIGNMENT
@COURSE
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the public checks' inputs in the bundle.")
@click.option("--force", is_flag=True, help="Replace an earlier bundle in OUT_DIR.")
@click.option("--format", "fmt", type=click.Choice(["py", "notebook"]), default="py",
              show_default=True, help="notebook: also write the stubs and public checks as "
                                      "notebooks in OUT_DIR/notebooks/.")
def release_cmd(out_dir: str, assignment: str | None, course: str | None, seed: int,
                force: bool, fmt: str) -> None:
    """Write the student bundle to OUT_DIR: stubs, public checks, the grader, a README.

    \b
    No reference code and nothing of a hidden check is in it: the bank is filtered from its
    syntax tree and the public checks' expected results are frozen as data. The bundle is
    verified before this command returns: the references get full marks through its own
    `grade`, the stubs get none.
    """
    from grader import course as course_mod
    from grader import release
    from grader.catalog import select

    chosen = course_mod.exercises_for(assignment, course_path=course) or select(())
    report = release.release(out=out_dir, exercises=chosen, seed=seed, assignment=assignment,
                             force=force, format=fmt)
    click.echo(f"Wrote the student bundle to {report.out}: {len(report.exercises)} exercises, "
               f"{report.public_checks} public checks ({report.hidden_checks_removed} hidden "
               "checks left out); verified.")


@main.group("export", context_settings=CONTEXT)
def export_group() -> None:
    """Write files that other grading platforms use."""


@export_group.command("gradescope", context_settings=CONTEXT)
@click.argument("out_dir", type=click.Path(file_okay=False))
@ASSIGNMENT
def export_gradescope_cmd(out_dir: str, assignment: str | None) -> None:
    """Write OUT_DIR/autograder.zip for a Gradescope programming assignment.

    \b
    Upload the zip as the assignment's autograder (Ubuntu base image). Gradescope runs
    setup.sh once, then run_autograder per submission, which grades the uploaded .py files
    with every check (hidden ones included) and writes results/results.json.
    See docs/exports.md.
    """
    from grader import course as course_mod
    from grader import gradescope

    if assignment:
        course_mod.load().assignment(assignment)  # refuse an unknown name now, not on Gradescope
    path = gradescope.write_autograder(out_dir, assignment=assignment)
    click.echo(f"Wrote {path}: upload it as the Gradescope autograder")


@main.command("gradescope-run", context_settings=CONTEXT)
@click.option("--submission", type=click.Path(), default="/autograder/submission",
              show_default=True, help="The student's uploaded files.")
@click.option("--results", type=click.Path(dir_okay=False),
              default="/autograder/results/results.json", show_default=True,
              help="Where Gradescope reads the results.")
@ASSIGNMENT
@COURSE
def gradescope_run_cmd(submission: str, results: str, assignment: str | None,
                       course: str | None) -> None:
    """Grade one submission inside Gradescope (called by run_autograder)."""
    from grader import course as course_mod
    from grader import gradescope

    data = gradescope.run(submission=submission, results=results,
                          exercises=course_mod.exercises_for(assignment, course_path=course))
    click.echo(f"score {data['score']:g}; results written to {results}")


@main.command("doctor", context_settings=CONTEXT)
def doctor_cmd() -> None:
    """Check this machine: which sandbox protections hold, and that a worker starts."""
    import time

    from grader.sandbox.parent import zygote

    start = time.monotonic()
    zyg = zygote()
    ready = time.monotonic() - start
    for name, on, detail in zyg.protection_lines:
        mark = click.style(" on", fg="green") if on else click.style("OFF", fg="red", bold=True)
        click.echo(f"[{mark}] {name}" + (f"  ({detail})" if detail and not on else ""))
    click.echo(f"Sandbox zygote ready in {ready * 1e3:.0f} ms; {zyg.protections}")


def _register() -> None:
    """Commands that live with the concept they serve."""
    from grader.classroom import export_github_classroom_cmd
    from grader.nbgrader_export import export_nbgrader_cmd

    export_group.add_command(export_github_classroom_cmd)
    export_group.add_command(export_nbgrader_cmd)


_register()


def grade_main() -> None:
    """Entry point of ``grade``: the same as ``grader grade``."""
    grade_cmd(prog_name="grade")


if __name__ == "__main__":
    main()
