"""Does the speed verdict hold on a noisy machine? Grades linalg.dot for a correct-and-fast
submission (np.dot) and a correct-but-slow one (a Python loop) REPEATS times each, while a
busy-loop process keeps another core loaded, and prints how often each verdict came out and the
spread of the measured ratios.

    python benchmarks/timing_stability.py [--repeats 20] [--no-load]
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

FAST = "import numpy as np\n\ndef dot(u, v):\n    if len(u) != len(v):\n" \
       "        raise ValueError('lengths differ')\n    return float(np.dot(u, v))\n"
SLOW = "def dot(u, v):\n    if len(u) != len(v):\n        raise ValueError('lengths differ')\n" \
       "    total = 0.0\n    for a, b in zip(u, v):\n        total += a * b\n    return total\n"


def _burn(stop: multiprocessing.Event) -> None:
    x = 0
    while not stop.is_set():
        for _ in range(10_000):
            x += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--no-load", action="store_true", help="do not load another core")
    args = parser.parse_args()
    from grader import grading

    stop = multiprocessing.Event()
    burner = None
    if not args.no_load:
        burner = multiprocessing.Process(target=_burn, args=(stop,), daemon=True)
        burner.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, source in (("fast (np.dot)", FAST), ("slow (Python loop)", SLOW)):
                folder = Path(tmp) / name.split()[0]
                folder.mkdir()
                (folder / "linalg.py").write_text(source)
                verdicts: collections.Counter = collections.Counter()
                ratios = []
                start = time.perf_counter()
                for _ in range(args.repeats):
                    result = grading.grade(submission=folder, ids=("linalg.dot",))
                    timing = result.exercises[0].timing
                    verdicts["slow" if timing and timing.slow else "fast" if timing else
                              "not timed"] += 1
                    if timing:
                        ratios.append(timing.ratio)
                seconds = (time.perf_counter() - start) / args.repeats
                print(f"{name:20} verdicts {dict(verdicts)}  ratio median "
                      f"{statistics.median(ratios):7.1f}x  min {min(ratios):7.1f}x  "
                      f"max {max(ratios):7.1f}x  ({seconds:.2f} s per grading)")
    finally:
        stop.set()
        if burner is not None:
            burner.join()
    print(f"other core {'busy (a busy-loop process)' if burner else 'idle'}; the slow flag "
          f"is raised above {grading.select(('linalg.dot',))[0].timing.slow_ratio:g}x")


if __name__ == "__main__":
    main()
