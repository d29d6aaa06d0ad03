"""``grader export nbgrader``: a valid nbgrader course whose test cells are the grader's checks.

The fast tests check the notebooks' structure and metadata, and that the in-kernel checks
(``grader.notebook_checks``) give the grader's verdicts, points and messages. The slow ones run
real nbgrader (``generate_assignment``, ``autograde``) through the Python named by
``GRADER_NBGRADER_PYTHON`` (default: this Python, when it has nbgrader) and compare its
per-exercise scores with ``grader batch`` on the equivalent .py submissions."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import batch, grading
from grader import notebook as nbm
from grader.catalog import select
from grader.gradebook import Gradebook
from grader.nbgrader_export import export_nbgrader, export_nbgrader_cmd
from grader.notebook_checks import check_result, run_check

from conftest import reference_source

STABLE = ("linalg.dot", "linalg.pinv", "linalg.pca", "nn.two_layer_mlp_loss", "nn.dropout",
          "optim.adam")

WRONG = {  # function name -> a wrong version (a known mistake)
    "off_by_one": {"dot": '''
def dot(u, v):
    if len(u) != len(v):
        raise ValueError("lengths differ")
    return float(sum(u[i] * v[i] for i in range(len(u) - 1)))
'''},
    "absolute_cutoff": {"pinv": '''
def pinv(A, rtol=None):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    s_inv = np.where(s > 1e-10, 1.0 / np.where(s > 1e-10, s, 1.0), 0.0)
    return (Vt.T * s_inv) @ U.T
'''},
    "library_pinv": {"pinv": '''
def pinv(A, rtol=None):
    return np.linalg.pinv(A)
'''},
    "no_bias_correction": {"adam": '''
def adam(w, dw, config=None):
    config = dict(config or {})
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    config["t"] += 1
    config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
    config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw * dw
    next_w = w - config["learning_rate"] * config["m"] / (np.sqrt(config["v"]) + config["epsilon"])
    return next_w, config
'''},
}


def source_cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def meta(cell: dict) -> dict:
    return cell["metadata"].get("nbgrader", {})


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("nbgrader") / "course"
    export = export_nbgrader(out=out, exercises=select(STABLE), assignment="ps1",
                             title="The six core exercises")
    return out, export


# ----------------------------------------------------------------------------- structure

def test_the_course_has_a_config_and_one_notebook_per_assignment(exported):
    out, export = exported
    assert export.notebooks == [out / "source" / "ps1" / "ps1.ipynb"]
    config = (out / "nbgrader_config.py").read_text()
    assert "c.CourseDirectory.course_id = 'dlmath'" in config
    checks = [c for e in select(STABLE) for c in e.checks]
    assert export.test_cells == len(checks)
    assert export.hidden_tests == sum(c.hidden for c in checks)


def test_cell_metadata_is_valid_nbgrader_schema_3_with_unique_ids(exported):
    cells = source_cells(exported[0] / "source" / "ps1" / "ps1.ipynb")
    graded = [meta(c) for c in cells if meta(c)]
    assert len(graded) == len(cells)
    assert all(m["schema_version"] == 3 and m["task"] is False for m in graded)
    ids = [m["grade_id"] for m in graded]
    assert len(ids) == len(set(ids)) and all(i.replace("-", "").replace("_", "").isalnum()
                                            for i in ids)
    for cell in cells:
        m, text = meta(cell), "".join(cell["source"])
        if m["grade"]:
            assert cell["cell_type"] == "code" and m["locked"] and not m["solution"]
            assert m["points"] > 0 and text.count("run_check(") == 1
        if m["solution"]:
            assert not m["grade"] and not m["locked"]
            assert "### BEGIN SOLUTION" in text and "### END SOLUTION" in text


def test_points_add_up_to_each_exercise_and_hidden_checks_are_in_hidden_regions(exported):
    cells = source_cells(exported[0] / "source" / "ps1" / "ps1.ipynb")
    for exercise in select(STABLE):
        stem = exercise.id.replace(".", "-") + "-test-"
        tests = {meta(c)["grade_id"][len(stem):]: c for c in cells
                 if meta(c)["grade_id"].startswith(stem)}
        assert set(tests) == {c.name for c in exercise.checks}
        assert sum(meta(c)["points"] for c in tests.values()) == exercise.max_score
        for check in exercise.checks:
            text = "".join(tests[check.name]["source"])
            assert ("### BEGIN HIDDEN TESTS" in text) == check.hidden
            assert f'run_check("{exercise.id}", "{check.name}", ' \
                   f'{", ".join(exercise.functions)})' in text


def test_markdown_carries_the_math_and_no_reference_code_is_outside_solutions(exported):
    cells = source_cells(exported[0] / "source" / "ps1" / "ps1.ipynb")
    about = {meta(c)["grade_id"]: "".join(c["source"]) for c in cells
             if c["cell_type"] == "markdown"}
    assert about["linalg-pinv-about"].startswith("## linalg.pinv: Moore-Penrose pseudo-inverse")
    assert "A^+ = V S^+ U^T" in about["linalg-pinv-about"]
    adam = next("".join(c["source"]) for c in cells if meta(c)["grade_id"] == "optim-adam-adam")
    released = adam.split("### BEGIN SOLUTION")[0] + adam.split("### END SOLUTION")[1]
    assert released.startswith("def adam(w, dw, config=None):\n    \"\"\"")
    assert "_ADAM_DEFAULTS" not in released and "_ADAM_DEFAULTS = " in adam


def test_cli_command_writes_the_course_and_refuses_a_non_empty_folder(tmp_path):
    runner = CliRunner()
    result = runner.invoke(export_nbgrader_cmd, [str(tmp_path / "c"), "--assignment", "hw1"])
    assert result.exit_code == 0, result.output
    assert result.output == (f"Wrote 1 notebooks to {tmp_path / 'c'}/source: 19 test cells "
                             "(12 hidden)\n")
    again = runner.invoke(export_nbgrader_cmd, [str(tmp_path / "c"), "--assignment", "hw1"])
    assert again.exit_code == 2
    assert "exists and is not empty; choose a new folder (or pass --force" in again.output
    per_topic = runner.invoke(export_nbgrader_cmd, [str(tmp_path / "t")])
    assert per_topic.exit_code == 0, per_topic.output
    assert (tmp_path / "t" / "source" / "linalg" / "linalg.ipynb").is_file()


# ----------------------------------------------------------------------------- in-kernel checks

def namespace(overrides: dict[str, str]) -> dict:
    """The reference modules' functions, some replaced (trusted test code, run here)."""
    names: dict = {}
    for topic in ("linalg", "nn", "optim"):
        exec(compile(reference_source(topic), f"{topic}.py", "exec"), names)  # noqa: S102
    for source in overrides.values():
        exec(source, names)  # noqa: S102
    return names


@pytest.mark.parametrize("wrong", WRONG, ids=WRONG.keys())
def test_in_kernel_verdicts_agree_with_grade_check_by_check(wrong, tmp_path):
    overrides = WRONG[wrong]
    py = tmp_path / "sub.py"
    py.write_text("import numpy as np\n" + "\n".join(overrides.values()))
    exercise = next(e for e in select(STABLE) if set(overrides) <= set(e.functions))
    graded = grading.grade(submission=py, ids=(exercise.id,), time_it=False).exercises[0]
    names = namespace(overrides)
    in_kernel = [check_result(exercise.id, c.name, names) for c in exercise.checks]
    assert [(c.name, c.status, c.score, c.message) for c in in_kernel] == \
           [(c.name, c.status, c.score, c.message) for c in graded.checks]
    assert graded.score < exercise.max_score


def test_run_check_raises_the_graders_message_and_diagnosis():
    names = namespace(WRONG["off_by_one"])
    with pytest.raises(AssertionError) as info:
        run_check("linalg.dot", "small", names["dot"])
    assert str(info.value) == (
        "linalg.dot check 'small': dot for two vectors of length 3: got -5.29182, expected "
        "-4.4996 (abs diff 0.792216, rel diff 0.176064; rtol=1e-12, atol=1e-12)\n"
        "-> your loop skips the last element: range(len(u) - 1) instead of range(len(u))")


def test_run_check_catches_a_forbidden_library_call():
    names = namespace(WRONG["library_pinv"])
    result = check_result("linalg.pinv", "square", names["pinv"])
    assert (result.status, result.score) == ("failed", 0.0)
    assert result.message == ("uses numpy.linalg.pinv, which this exercise does not allow (an "
                              "honesty check): compute it from the math in the docstring")


def test_run_check_passes_the_reference_and_names_an_unknown_check(capsys):
    names = namespace({})
    run_check("nn.dropout", "backward_train", names["dropout_forward"],
              names["dropout_backward"])
    assert capsys.readouterr().out == "nn.dropout check 'backward_train' passed (1 points)\n"
    with pytest.raises(Exception) as info:
        run_check("linalg.dot", "nope", names["dot"])
    assert info.value.format_message().startswith("linalg.dot has no check 'nope'; its checks: "
                                                  "small, length_1000")


# ----------------------------------------------------------------------------- real nbgrader

def nbgrader_python() -> str | None:
    chosen = os.environ.get("GRADER_NBGRADER_PYTHON")
    if chosen:
        return chosen
    return sys.executable if importlib.util.find_spec("nbgrader") is not None else None


NBGRADER = nbgrader_python()
needs_nbgrader = pytest.mark.skipif(
    NBGRADER is None, reason="nbgrader is not installed here: pip install -e '.[nbgrader]', or "
                             "set GRADER_NBGRADER_PYTHON to a Python that has it")


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(NBGRADER).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run([NBGRADER, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def submissions(source: Path) -> dict[str, dict[str, str] | None]:
    """student -> {function: source} filling the solution cells; None: the stubs as released.
    The reference is the source notebook's solution cells (helpers included), markers removed."""
    reference: dict[str, str] = {}
    for cell in source_cells(source):
        if meta(cell).get("solution"):
            text = "".join(line for line in cell["source"] if "### BEGIN SOLUTION" not in line
                           and "### END SOLUTION" not in line)
            reference[meta(cell)["grade_id"].rsplit("-", 1)[1]] = text
    subs: dict[str, dict[str, str] | None] = {"reference": reference, "stubs": None}
    for name, overrides in WRONG.items():
        subs[name] = {**reference, **{f: s.strip() for f, s in overrides.items()}}
    return subs


@pytest.mark.slow
@needs_nbgrader
def test_nbgrader_autograde_gives_the_per_exercise_scores_of_grader_batch(tmp_path):
    course = tmp_path / "course"
    exercises = select(STABLE)
    export = export_nbgrader(out=course, exercises=exercises, assignment="ps1")
    nbgrader(course, "generate_assignment", "ps1", "--force")
    released = json.loads((course / "release" / "ps1" / "ps1.ipynb").read_text())
    assert not any("BEGIN HIDDEN TESTS" in "".join(c["source"]) or "BEGIN SOLUTION" in
                   "".join(c["source"]) for c in released["cells"])
    py_dir = tmp_path / "py"
    py_dir.mkdir()
    for student, functions in submissions(export.notebooks[0]).items():
        nb = json.loads(json.dumps(released))
        for cell in nb["cells"]:
            m = meta(cell)
            if m.get("solution") and functions is not None:
                function = m["grade_id"].rsplit("-", 1)[1]
                cell["source"] = nbm.code_cell(functions[function])["source"]
        folder = course / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        (folder / "ps1.ipynb").write_text(json.dumps(nb))
        # The equivalent .py: the notebook's setup imports and solution cells, in order.
        code = [("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "code"
                and (meta(c).get("solution") or meta(c).get("grade_id") == "setup")]
        (py_dir / f"{student}.py").write_text("\n\n".join(code).replace(
            "from grader.notebook_checks import run_check", "") + "\n")
    proc = nbgrader(course, "autograde", "ps1", "--force", "--create")
    print(proc.stderr[-2000:])
    scores = json.loads(subprocess.run([NBGRADER, "-c", (
        "import json, sys\nfrom nbgrader.api import Gradebook\n"
        "gb = Gradebook('sqlite:///gradebook.db')\nout = {}\n"
        "for sub in gb.assignment_submissions('ps1'):\n"
        "    for nb in sub.notebooks:\n"
        "        for g in nb.grades:\n"
        "            out.setdefault(sub.student_id, {})[g.name] = g.score\n"
        "gb.close()\nprint(json.dumps(out))")], cwd=course, capture_output=True, text=True,
        check=True).stdout)
    by_nbgrader = {student: {e.id: round(sum(s for name, s in grades.items()
                                             if name.startswith(e.id.replace(".", "-") +
                                                                "-test-")), 6)
                             for e in exercises}
                   for student, grades in scores.items()}
    summary = batch.run(submissions_dir=py_dir, out_dir=tmp_path / "graded", workers=2,
                        exercises=exercises)
    assert {o.status for o in summary.outcomes} == {"graded"}
    book = Gradebook(tmp_path / "graded" / batch.GRADEBOOK)
    by_batch = {student: {e.id: round(e.score, 6) for e in book.load(student).exercises}
                for student in book.students()}
    print(json.dumps(by_nbgrader, indent=1))
    assert by_nbgrader == by_batch
    full = {e.id: e.max_score for e in exercises}
    assert by_batch["reference"] == full
    assert set(by_batch["stubs"].values()) == {0.0}
    for wrong in WRONG:
        assert by_batch[wrong] != full
