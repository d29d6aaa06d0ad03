"""Reports drawn from structured results with Jinja2: terminal text, HTML, JSON.

Templates live in ``templates/``; the environment autoescapes HTML and treats an undefined
variable as an error, so a template typo fails loudly and student output cannot inject markup.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import click
import jinja2

from grader.catalog import ROOT
from grader.results import GradeResult

TEMPLATES_DIR = ROOT / "templates"

_MARKS = {"passed": ("PASS", "green"), "partial": ("PART", "yellow"), "failed": ("FAIL", "red"),
          "not_implemented": ("TODO", "blue"), "missing": ("MISS", "magenta"),
          "error": ("ERR ", "red"), "skipped": ("SKIP", "white")}


def points(value: float) -> str:
    """Points without a needless '.0': 3, 1.5."""
    return f"{value:g}"


def seconds(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.1f} us"


_CONTROL = {c: f"\\x{c:02x}" for c in range(32) if c != 10}
_CONTROL[13] = "\\r"
_CONTROL[9] = "\\t"
_CONTROL[127] = "\\x7f"


def inert(text: object, indent: int = 7) -> str:
    """Student-made text (messages, output) as it may appear in a terminal report: control
    characters escaped (no ANSI codes, no carriage returns) and every continuation line
    indented, so it can never draw a report line of its own."""
    return str(text).translate(_CONTROL).replace("\n", "\n" + " " * indent)


@functools.lru_cache(maxsize=None)
def _environment(color: bool) -> jinja2.Environment:
    """One environment per color mode: it caches its compiled templates (compiling the HTML
    report costs tens of milliseconds, too much to pay per student of a batch)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html", "html.j2"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["points"] = points
    env.filters["seconds"] = seconds
    env.filters["inert"] = inert

    def mark(status: str) -> str:
        text, fg = _MARKS.get(status, ("????", "red"))
        return click.style(text, fg=fg, bold=True) if color else text

    env.filters["mark"] = mark
    return env


def render_terminal(result: GradeResult, *, color: bool = False, verbose: bool = False) -> str:
    env = _environment(color)
    return env.get_template("terminal.txt.j2").render(r=result.to_dict(), verbose=verbose)


def render_html(result: GradeResult) -> str:
    env = _environment(False)
    return env.get_template("report.html.j2").render(r=result.to_dict())


def _finite(value: object) -> object:
    """JSON has no NaN or infinity: such numbers (a timing ratio over a zero time) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def render_json(result: GradeResult) -> str:
    return json.dumps(_finite(result.to_dict()), indent=2, allow_nan=False, default=str) + "\n"


def write(path: str | Path, text: str) -> None:
    """Write a report, creating its folder."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
