"""Per-submission overhead of the sandbox: worker start, import of the submission, teardown.

Compares, on the same machine in one run:
- a bare subprocess (``python -c pass``) and one that imports numpy (what a naive isolated
  grader pays per worker);
- sandbox workers forked from the warm zygote, confined (namespaces, private root, nobody) and
  not confined (GRADER_NO_NAMESPACES=1).

A submission is one sandbox session (confinement paid once) in which six exercises each import
the student's module and make one call, the way grading does:
- shared: one worker grades all six, with the check between two exercises that nothing was
  left running (what a submission whose exercises pass costs);
- a worker each: six workers (the most a submission can cost: each exercise failing after
  another one ran in its worker is graded again in a worker of its own);
- batch: shared, with the next session started ahead and a session's end confirmed in the
  background, as `grader batch` does (the figure is the whole run, final settle included,
  divided by the submissions).

    python benchmarks/sandbox_overhead.py [--submissions 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDENT = "import numpy as np\n\ndef dot(u, v):\n    return float(np.dot(u, v))\n"

MEASURE = r"""
import json, statistics, sys, time
from pathlib import Path
import numpy as np
from grader.sandbox import parent, wire
zyg = parent.zygote()
student = Path(sys.argv[1])
call = wire.encode([[{"func": "dot", "args": (np.ones(3), np.ones(3)), "kwargs": {}, "pick": (),
                      "send": True}]])
shared = sys.argv[3] in ("shared", "batch")
ahead = sys.argv[3] == "batch"
times = []
start = time.perf_counter()
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    session = zyg.session(sources=[student], ahead=ahead)
    w = None
    for exercise in range(6):
        if w is None:
            w = session.spawn({}, parent.Limits())
        # As grading does: the cases go right behind the import, then both replies are read.
        w.send({"op": "import", "file": str(w.source_dir / student.name),
                "name": "linalg", "functions": ["dot"], "forbidden": []})
        w.send({"op": "run_cases", "cases": call[0]}, call[1])
        w.receive()
        w.receive()
        w.output()
        if shared and w.is_clean(meanwhile=lambda: session.sweep() == 0):
            continue
        w.close()
        w.cleanup()
        w = None
    if w is not None:
        w.close()
    session.close(wait=not ahead)
    times.append(time.perf_counter() - t)
zyg.settle()
print(json.dumps({"median": statistics.median(times), "p90": sorted(times)[int(len(times) * .9)],
                  "mean_total": (time.perf_counter() - start) / len(times),
                  "protections": zyg.protections}))
"""


def bare(cmd: list[str], n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def sandbox(n: int, confined: bool, student: Path, mode: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if not confined:
        env["GRADER_NO_NAMESPACES"] = "1"
    out = subprocess.run([sys.executable, "-c", MEASURE, str(student), str(n), mode], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100,
                        help="submissions to time per mode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        student = Path(tmp) / "linalg.py"
        student.write_text(STUDENT)
        n_bare = max(5, args.submissions // 5)
        py = bare([sys.executable, "-c", "pass"], n_bare)
        py_np = bare([sys.executable, "-c", "import numpy"], n_bare)
        runs = {(mode, confined): sandbox(args.submissions, confined, student, mode)
                for mode in ("shared", "each") for confined in (True, False)}
        batch = sandbox(args.submissions, True, student, "batch")
    print(f"bare subprocess `python -c pass`          : {py * 1e3:7.2f} ms per process")
    print(f"bare subprocess `python -c 'import numpy'`: {py_np * 1e3:7.2f} ms per process, "
          f"{6 * py_np * 1e3:.0f} ms for six")
    for (mode, confined), res in runs.items():
        name = (f"sandbox, {'one shared worker' if mode == 'shared' else 'a worker each'}, "
                f"{'confined' if confined else 'no namespaces'}")
        print(f"{name:42}: {res['median'] * 1e3:7.2f} ms per 6-exercise submission "
              f"(p90 {res['p90'] * 1e3:.2f} ms)")
    print(f"{'sandbox, batch (sessions ahead), confined':42}: {batch['mean_total'] * 1e3:7.2f} ms "
          "per 6-exercise submission (whole run / submissions)")
    for mode in ("shared", "each"):
        cost = runs[mode, True]["median"] - runs[mode, False]["median"]
        print(f"confinement costs {cost * 1e3:.2f} ms per submission ({mode})")
    print(f"protections: {runs['shared', True]['protections']}")


if __name__ == "__main__":
    main()
