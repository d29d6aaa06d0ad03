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


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Grade exercises in the mathematics of deep learning.

    Student code runs in isolated worker processes; answers are compared with math-aware,
    per-dtype tolerances; feedback names what differs and, where known, the mistake.
    """


@main.command("grade", context_settings=CONTEXT)
@click.argument("exercise_ids", nargs=-1, metavar="[EXERCISE|TOPIC]...")
@click.option("--submission", "-s", type=click.Path(), default=None,
              help="Folder laid out like exercises/, or one .py file. [default: ./exercises]")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the results as JSON (schema: docs/results-schema.md).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Also write an HTML report.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the case generators; the same seed gives the same verdicts.")
@click.option("--public-only", is_flag=True, help="Run only the public checks.")
@click.option("--no-timing", is_flag=True, help="Skip timing against the reference.")
@click.option("--timeout", type=float, default=10.0, show_default=True,
              help="Seconds allowed for each check's calls.")
@click.option("--verbose", "-v", is_flag=True, help="List every check, passed ones too.")
@click.option("--fail-under", type=float, default=None,
              help="Exit with code 1 when the total score is below this.")
def grade_cmd(exercise_ids: tuple[str, ...], submission: str | None, json_path: str | None,
              html_path: str | None, seed: int, public_only: bool, no_timing: bool,
              timeout: float, verbose: bool, fail_under: float | None) -> None:
    """Grade your exercises: all of them, or the EXERCISE ids (linalg.dot) or TOPICs (linalg).

    \b
    Examples:
      grade                      every exercise in ./exercises
      grade linalg.dot           one exercise
      grade nn --json out.json   a topic, with a JSON report
      grade -s my_work.py        a single file holding any subset of the functions
    """
    from grader import grading, report
    from grader.sandbox.parent import Limits

    result = grading.grade(submission=submission, ids=exercise_ids, seed=seed,
                           limits=Limits(call_seconds=timeout), hidden=not public_only,
                           time_it=not no_timing)
    click.echo(report.render_terminal(result, color=sys.stdout.isatty(), verbose=verbose),
               nl=False)
    if json_path:
        report.write(json_path, report.render_json(result))
    if html_path:
        report.write(html_path, report.render_html(result))
    if fail_under is not None and result.score < fail_under:
        sys.exit(1)


@main.command("list", context_settings=CONTEXT)
def list_cmd() -> None:
    """List the exercises: id, points, framework, functions to write."""
    from grader.catalog import catalog

    for ex in catalog().values():
        public = sum(1 for c in ex.checks if not c.hidden)
        click.echo(f"{ex.id:28} {ex.max_score:5g} pts  {ex.framework:6} "
                   f"{public} public / {len(ex.checks) - public} hidden checks  "
                   f"{', '.join(ex.functions)}")


def grade_main() -> None:
    """Entry point of ``grade``: the same as ``grader grade``."""
    grade_cmd(prog_name="grade")
