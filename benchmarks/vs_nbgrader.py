"""Seconds per submission: this grader against nbgrader's ``autograde``, same work, one run.

The six core exercises (dot, pinv, pca, two_layer_mlp_loss, dropout, adam), N submissions
(the reference solutions), graded
- by ``grader batch`` (every check, hidden ones included, no timing), one worker (threads of
  one process) and the default (one grading process per core, :mod:`grader.pool`);
- by ``nbgrader autograde`` on a notebook holding the same six functions in solution cells and
  autograded test cells with equivalent tests (the same kinds of inputs, compared with numpy).

nbgrader lives in its own environment (it pulls in Jupyter): pass its Python.

    python -m venv /tmp/nbvenv && /tmp/nbvenv/bin/pip install nbgrader numpy
    python benchmarks/vs_nbgrader.py --nbgrader-python /tmp/nbvenv/bin/python --submissions 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ("linalg", "nn", "optim")
IDS = ("linalg.dot", "linalg.pinv", "linalg.pca", "nn.two_layer_mlp_loss", "nn.dropout",
       "optim.adam")

# Tests equivalent to the grader's checks, as an nbgrader notebook would have them: numpy
# references inline, assertions with tolerances. One test cell per exercise.
TESTS = {
    "dot": '''
rng = np.random.default_rng(0)
for n in (3, 1000, 0):
    u, v = rng.standard_normal(n), rng.standard_normal(n)
    assert abs(dot(u, v) - np.dot(u, v)) <= 1e-10 * max(1, abs(np.dot(u, v)))
ui, vi = rng.integers(-9, 10, 50), rng.integers(-9, 10, 50)
assert dot(ui, vi) == np.dot(ui, vi)
try:
    dot(np.ones(6), np.ones(4))
    raise AssertionError("unequal lengths must raise ValueError")
except ValueError:
    pass
''',
    "pinv": '''
rng = np.random.default_rng(1)
for shape in ((4, 4), (9, 4), (3, 7), (1, 5)):
    A = rng.standard_normal(shape)
    np.testing.assert_allclose(pinv(A), np.linalg.pinv(A), rtol=1e-8, atol=1e-10)
B = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 5))
np.testing.assert_allclose(pinv(B), np.linalg.pinv(B), rtol=1e-7, atol=1e-9)
np.testing.assert_allclose(pinv(1e-12 * B), np.linalg.pinv(1e-12 * B), rtol=1e-7)
np.testing.assert_array_equal(pinv(np.zeros((3, 2))), np.zeros((2, 3)))
''',
    "pca": '''
rng = np.random.default_rng(2)
for n, d, k in ((200, 5, 2), (100, 4, 4)):
    X = rng.standard_normal((n, d)) * np.arange(1, d + 1) + 10.0
    comps, var = pca(X, k)
    w, V = np.linalg.eigh(np.cov(X, rowvar=False))
    np.testing.assert_allclose(var, w[::-1][:k], rtol=1e-8)
    np.testing.assert_allclose(comps.T @ comps, np.eye(k), atol=1e-10)
    np.testing.assert_allclose(np.abs(np.sum(comps * V[:, ::-1][:, :k], axis=0)), 1, atol=1e-6)
''',
    "two_layer_mlp_loss": '''
def _ref(X, y, W1, b1, W2, b2):
    z = X @ W1 + b1; h = np.maximum(z, 0); s = h @ W2 + b2
    s = s - s.max(axis=1, keepdims=True); p = np.exp(s); p /= p.sum(axis=1, keepdims=True)
    N = len(y); loss = -np.log(p[np.arange(N), y]).mean()
    ds = p.copy(); ds[np.arange(N), y] -= 1; ds /= N
    dh = ds @ W2.T; dz = dh * (z > 0)
    return loss, {"W1": X.T @ dz, "b1": dz.sum(0), "W2": h.T @ ds, "b2": ds.sum(0)}
rng = np.random.default_rng(3)
for N, D, H, C in ((5, 4, 6, 3), (20, 7, 9, 5)):
    args = (rng.standard_normal((N, D)), rng.integers(0, C, N), rng.standard_normal((D, H)),
            rng.standard_normal(H), rng.standard_normal((H, C)), rng.standard_normal(C))
    loss, grads = two_layer_mlp_loss(*args)
    ref_loss, ref_grads = _ref(*args)
    assert abs(loss - ref_loss) <= 1e-8 * abs(ref_loss)
    for key in ref_grads:
        np.testing.assert_allclose(grads[key], ref_grads[key], rtol=1e-8, atol=1e-10)
''',
    "dropout": '''
x = np.random.default_rng(4).standard_normal((500, 400)) + 3.0
for p in (0.3, 0.8):
    out, cache = dropout_forward(x, {"p": p, "mode": "train", "seed": 1})
    zeroed = np.mean(out == 0)
    assert abs(zeroed - p) < 5.3 * np.sqrt(p * (1 - p) / x.size)
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-12)
    np.testing.assert_allclose(dropout_backward(np.ones_like(x), cache), kept / (1 - p))
out, _ = dropout_forward(x, {"p": 0.5, "mode": "test"})
np.testing.assert_array_equal(out, x)
out, _ = dropout_forward(x, {"p": 1.0, "mode": "train", "seed": 2})
assert np.all(out == 0)
''',
    "adam": '''
def _ref(w, dw, c):
    c = dict(c); c["t"] += 1
    c["m"] = 0.9 * c["m"] + 0.1 * dw; c["v"] = 0.999 * c["v"] + 0.001 * dw * dw
    mh = c["m"] / (1 - 0.9 ** c["t"]); vh = c["v"] / (1 - 0.999 ** c["t"])
    return w - c["learning_rate"] * mh / (np.sqrt(vh) + 1e-8), c
rng = np.random.default_rng(5)
for scale in (1.0, 1e-7):
    w = rng.standard_normal((4, 5)); config = None
    ref_w, ref_c = w, {"learning_rate": 1e-3, "m": np.zeros_like(w), "v": np.zeros_like(w),
                       "t": 0}
    for _ in range(5):
        dw = scale * rng.standard_normal(w.shape)
        w, config = adam(w, dw, config)
        ref_w, ref_c = _ref(ref_w, dw, ref_c)
        np.testing.assert_allclose(w, ref_w, rtol=1e-9, atol=1e-8)
    assert config["t"] == 5
''',
}


def _cell(kind: str, source: str, **meta) -> dict:
    cell = {"cell_type": kind, "metadata": {}, "source": source.strip("\n")}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    if meta:
        cell["metadata"]["nbgrader"] = {"schema_version": 3, "task": False, **meta}
    return cell


def _solution_code() -> str:
    """The reference module sources, one after the other (they import numpy themselves)."""
    return "\n\n".join((ROOT / "solutions" / f"{t}.py").read_text() for t in TOPICS)


def notebook(solved: bool) -> dict:
    code = _solution_code() if solved else "# YOUR CODE HERE\nraise NotImplementedError()"
    cells = [_cell("markdown", "# The six core exercises"),
             _cell("code", "import numpy as np"),
             _cell("code", code if not solved else
                   "### BEGIN SOLUTION\n" + code + "\n### END SOLUTION",
                   grade=False, grade_id="solution", locked=False, solution=True)]
    for name, test in TESTS.items():
        cells.append(_cell("code", test, grade=True, grade_id=f"test_{name}", locked=True,
                           points=1, solution=False))
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3",
                                                        "display_name": "Python 3",
                                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def time_nbgrader(python: str, n: int, tmp: Path) -> tuple[float, str]:
    course = tmp / "course"
    (course / "source" / "ps1").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'bench'\n"
        f"c.CourseDirectory.root = {str(course)!r}\n")
    (course / "source" / "ps1" / "ps1.ipynb").write_text(json.dumps(notebook(True)))
    # nbgrader runs its environment's tools (alembic, the python3 kernel) from PATH.
    env = {**os.environ, "PATH": f"{Path(python).parent}{os.pathsep}{os.environ['PATH']}"}
    run = lambda *a: subprocess.run([python, "-m", "nbgrader", *a], cwd=course, check=True,
                                    capture_output=True, text=True, env=env)
    run("generate_assignment", "ps1", "--force")
    released = json.loads((course / "release" / "ps1" / "ps1.ipynb").read_text())
    for cell in released["cells"]:  # the student fills in the solution cell
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            cell["source"] = _solution_code()
    for i in range(n):
        folder = course / "submitted" / f"s{i:03d}" / "ps1"
        folder.mkdir(parents=True)
        (folder / "ps1.ipynb").write_text(json.dumps(released))
    start = time.perf_counter()
    run("autograde", "ps1", "--force", "--create")
    seconds = time.perf_counter() - start
    scores = subprocess.run([python, "-c", (
        "from nbgrader.api import Gradebook\n"
        f"gb = Gradebook('sqlite:///{course}/gradebook.db')\n"
        "print(sorted({round(s.score, 3) for s in gb.assignment_submissions('ps1')}))")],
        cwd=course, check=True, capture_output=True, text=True, env=env).stdout.strip()
    return seconds / n, scores


def time_grader(n: int, tmp: Path, workers: int) -> tuple[float, str]:
    subs = tmp / f"subs{workers}"
    subs.mkdir()
    for i in range(n):
        folder = subs / f"s{i:03d}"
        folder.mkdir()
        for t in TOPICS:
            (folder / f"{t}.py").write_text((ROOT / "solutions" / f"{t}.py").read_text())
    code = ("import sys, time, json\nfrom grader import batch\nfrom grader.catalog import select\n"
            f"ex = select({list(IDS)!r})\nt = time.perf_counter()\n"
            f"s = batch.run(submissions_dir={str(subs)!r}, out_dir={str(tmp / f'out{workers}')!r}"
            f", workers={workers}, exercises=ex)\n"
            "print(json.dumps([time.perf_counter() - t, sorted({o.score for o in s.outcomes})]))")
    seconds, scores = json.loads(subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip().splitlines()[-1])
    return seconds / n, str(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nbgrader-python", default=sys.executable,
                        help="the Python of an environment with nbgrader installed")
    parser.add_argument("--submissions", type=int, default=10)
    args = parser.parse_args()
    n = args.submissions
    with tempfile.TemporaryDirectory() as tmp:
        nb_s, nb_scores = time_nbgrader(args.nbgrader_python, n, Path(tmp))
        one_s, one_scores = time_grader(n, Path(tmp), 1)
        all_s, all_scores = time_grader(n, Path(tmp), 0)
    print(f"{n} submissions of the six core exercises (reference solutions)")
    print(f"nbgrader autograde      : {nb_s:7.3f} s per submission  (scores {nb_scores})")
    print(f"grader batch, 1 worker  : {one_s:7.3f} s per submission  (scores {one_scores}); "
          f"{nb_s / one_s:5.1f}x faster")
    print(f"grader batch, per core  : {all_s:7.3f} s per submission  (scores {all_scores}); "
          f"{nb_s / all_s:5.1f}x faster")


if __name__ == "__main__":
    main()
