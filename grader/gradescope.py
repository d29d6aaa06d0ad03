"""Running as a Gradescope autograder.

``grader export gradescope OUT`` writes ``OUT/autograder.zip``, the file an instructor uploads
when configuring a Gradescope programming assignment. Gradescope unpacks it into
``/autograder/source``, runs ``setup.sh`` once to build the image, and for each submission runs
``run_autograder``, which calls ``grader gradescope-run``: it grades
``/autograder/submission`` (the student's uploaded .py files, all checks, hidden ones included)
and writes ``/autograder/results/results.json`` (:func:`grader.exports.gradescope_results`).
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

from grader.catalog import ROOT, Exercise
from grader.errors import GraderError

SETUP_SH = """#!/usr/bin/env bash
# Runs once when Gradescope builds the autograder image.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip python3-venv
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
{torch}/autograder/venv/bin/pip install -e /autograder/source
"""

# The assignment has torch exercises: the CPU build (Gradescope's machines have no GPU), not
# the several-GB CUDA one.
TORCH_CPU = ("/autograder/venv/bin/pip install torch "
             "--index-url https://download.pytorch.org/whl/cpu\n")

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Runs once per submission: grade /autograder/submission, write the results for Gradescope.
cd /autograder/source
exec /autograder/venv/bin/grader gradescope-run \\
    --submission /autograder/submission \\
    --results /autograder/results/results.json{assignment}
"""

# What the autograder needs of the instructor tree (references included: it runs hidden checks).
_TREE = ("grader", "exercises", "solutions", "templates", "pyproject.toml", "course.toml",
         "README.md")


def write_autograder(out: str | Path, *, assignment: str | None = None) -> Path:
    """``OUT/autograder.zip`` with setup.sh, run_autograder and the grader's source."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "autograder.zip"
    flag = f" \\\n    --assignment {assignment}" if assignment else ""
    from grader import course
    from grader.catalog import select

    chosen = course.exercises_for(assignment) or select(())
    torch = any(e.framework == "torch" for e in chosen)
    setup = SETUP_SH.format(torch=TORCH_CPU if torch else "")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (("setup.sh", setup),
                           ("run_autograder", RUN_AUTOGRADER.format(assignment=flag))):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope runs them
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
        for entry in _TREE:
            path = ROOT / entry
            files = [path] if path.is_file() else sorted(path.rglob("*"))
            for file in files:
                if file.is_file() and "__pycache__" not in file.parts and \
                        "_frozen" not in file.parts:
                    zf.write(file, str(file.relative_to(ROOT)))
    return target


def run(*, submission: str | Path, results: str | Path, exercises: list[Exercise] | None,
        seed: int = 0) -> dict:
    """Grade one Gradescope submission and write its results.json; the results as a dict."""
    from grader import exports
    from grader.grading import grade

    start = time.monotonic()
    try:
        result = grade(submission=submission, exercises=exercises, seed=seed)
        data = exports.gradescope_results(result)
    except GraderError as exc:
        data = exports.gradescope_error(f"Your submission could not be graded: "
                                        f"{exc.format_message()}")
    data["execution_time"] = round(time.monotonic() - start, 3)
    path = Path(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(exports.readable_json(data), encoding="utf-8")
    return data
