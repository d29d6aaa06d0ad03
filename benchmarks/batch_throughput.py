"""Batch throughput: N generated submissions of the six core exercises, graded by `grader batch`.

Submissions are a mix: correct (the references), not started (the stubs), and partly wrong
(a dot product that skips the last element). Each size N runs in a fresh process, so the peak
memory printed is that run's own: ru_maxrss of the batch's process and of its largest grading
process (with more than one worker, :mod:`grader.pool`).

    python benchmarks/batch_throughput.py --sizes 50 200 --workers 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRONG_DOT = "def dot(u, v):\n    return sum(u[i] * v[i] for i in range(len(u) - 1))\n"

RUN = r"""
import json, resource, sys, time
from grader import batch
from grader.catalog import select
start = time.perf_counter()
summary = batch.run(submissions_dir=sys.argv[1], out_dir=sys.argv[2], workers=int(sys.argv[3]),
                    exercises=select(("linalg.dot", "linalg.pinv", "linalg.pca",
                                      "nn.two_layer_mlp_loss", "nn.dropout", "optim.adam")))
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "graded": summary.count("graded"),
                  "errors": summary.count("error"), "failures": summary.grader_failures,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "child_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def make_submissions(folder: Path, n: int) -> None:
    topics = ("linalg.py", "nn.py", "optim.py")  # the six core exercises' modules
    solutions = {name: (ROOT / "solutions" / name).read_text() for name in topics}
    stubs = {name: (ROOT / "exercises" / name).read_text() for name in topics}
    for i in range(n):
        student = folder / f"student{i:05d}"
        student.mkdir()
        kind = i % 4
        files = dict(stubs if kind == 3 else solutions)
        if kind == 2:
            files["linalg.py"] = files["linalg.py"] + "\n\n" + WRONG_DOT
        for name, text in files.items():
            (student / name).write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"{'N':>6} {'seconds':>8} {'subs/s':>7} {'ms/sub':>7} {'peak RSS':>9} "
          f"{'(largest child)':>16}  graded/errors")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            subs, out = Path(tmp) / "subs", Path(tmp) / "out"
            subs.mkdir()
            make_submissions(subs, n)
            res = json.loads(subprocess.run(
                [sys.executable, "-c", RUN, str(subs), str(out), str(args.workers)],
                check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        rate = n / res["seconds"]
        print(f"{n:6d} {res['seconds']:8.2f} {rate:7.1f} {1e3 / rate:7.1f} "
              f"{res['peak_rss_mib']:7.1f} MiB {res['child_rss_mib']:12.1f} MiB  "
              f"{res['graded']}/{res['errors']}"
              f"{'  GRADER FAILURES: ' + str(res['failures']) if res['failures'] else ''}")


if __name__ == "__main__":
    main()
