"""How realistic slow and fast implementations measure against each exercise's slow flag.

The flag (``Timing.slow_ratio`` in grader/bank/) should sit well between the right-but-slow
code students write (a Python loop where the reference is vectorized) and the vectorized ways
of writing the same thing. This prints, for the implementations the tests keep as examples,
the student-to-reference time ratio of every run, through the real grading path (worker,
interleaved rounds, one BLAS thread), and the margin to the flag: the ratio over the flag for
slow code, the flag over the ratio for fast code. A margin below 1 is a wrong flag on this
machine; below about 3 it can go wrong on another one (the per-sample minibatch loop measured
58x on one machine and numpy, 22x on another).

    python benchmarks/timing_flags.py [--runs 3] [--only optim.]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from grader import grading  # noqa: E402
from grader.catalog import catalog  # noqa: E402

# (test module, exercise, where the source is in the module, slow or fast)
CASES = [
    ("test_bank_training", "optim.iterate_minibatches", "PER_SAMPLE", "slow"),
    ("test_bank_training", "optim.iterate_minibatches", "GENERATOR", "fast"),
    ("test_bank_training", "optim.iterate_minibatches", "CHOICE_TAKE", "fast"),
    ("test_bank_training", "optim.early_stopping", "ES_HISTORY", "slow"),
    ("test_bank_training", "optim.early_stopping", "ES_LIGHTNING", "fast"),
    ("test_bank_training", "optim.sgd_momentum", "SGD_ELEMENTWISE", "slow"),
    ("test_bank_training", "optim.sgd_momentum", "SGD_CS231N", "fast"),
    ("test_bank_training", "optim.rmsprop", "RMS_ELEMENTWISE", "slow"),
    ("test_bank_training", "optim.rmsprop", "RMS_CS231N", "fast"),
    ("test_bank_autodiff", "autodiff.reverse_mode", "LIST_VISITED", "slow"),
    ("test_bank_calculus", "calculus.gradient_descent", "GD_RIGHT[list_of_copies]", "fast"),
    ("test_bank_calculus", "calculus.gradient_descent", "GD_RIGHT[preallocated]", "fast"),
    ("test_bank_calculus", "calculus.quad_grad_hess", "SLOW[calculus.quad_grad_hess]", "slow"),
    ("test_bank_calculus", "calculus.gradient_descent", "SLOW[calculus.gradient_descent]",
     "slow"),
    ("test_bank_eigen", "eigen.power_iteration", "SLOW_CODE[eigen.power_iteration]", "slow"),
    ("test_bank_eigen", "eigen.power_iteration", "FAST_CODE[eigen.power_iteration]", "fast"),
    ("test_bank_eigen", "eigen.spectral_decomposition",
     "SLOW_CODE[eigen.spectral_decomposition]", "slow"),
    ("test_bank_eigen", "eigen.spectral_decomposition",
     "FAST_CODE[eigen.spectral_decomposition]", "fast"),
    ("test_bank_eigen", "eigen.matrix_power", "SLOW_CODE[eigen.matrix_power]", "slow"),
    ("test_bank_eigen", "eigen.matrix_power", "FAST_CODE[eigen.matrix_power]", "fast"),
    ("test_bank_layers", "layers.affine", "SLOW[layers.affine]", "slow"),
    ("test_bank_layers", "layers.relu", "SLOW[layers.relu]", "slow"),
    ("test_bank_layers", "layers.conv2d", "SLOW[layers.conv2d]", "slow"),
    ("test_bank_systems", "systems.solve", "SOLVE_LOOPS", "slow"),
    ("test_bank_vectors", "vectors.cosine_similarity", "COS_RIGHT[pair_loop]", "slow"),
    ("test_bank_vectors", "vectors.orthonormalize", "ORTHO_LOOPS", "slow"),
    ("test_bank_vectors", "vectors.orthonormalize", "ORTHO_RIGHT[left_looking_mgs]", "fast"),
    ("test_bank_vectors", "vectors.orthonormalize", "ORTHO_RIGHT[classical_twice]", "fast"),
    ("test_bank_probability", "probability.covariance", "PAIR_LOOP", "slow"),
    ("test_bank_probability", "probability.covariance", "COV_SOURCE", "fast"),
]


def source_of(module_name: str, where: str) -> str:
    module = importlib.import_module(module_name)
    name, _, key = where.partition("[")
    value = getattr(module, name)
    return textwrap.dedent(value[key.rstrip("]")] if key else value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="gradings per implementation")
    parser.add_argument("--only", default="", help="exercises whose id starts with this")
    args = parser.parse_args()
    exercises = catalog()
    print(f"{'exercise':30} {'implementation':42} {'kind':4} {'flag':>5}  ratios per run"
          f"{'':14} margin")
    worst = float("inf")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for i, (module, exercise_id, where, kind) in enumerate(CASES):
            if not exercise_id.startswith(args.only):
                continue
            exercise = exercises[exercise_id]
            folder = Path(tmp) / f"case{i}"
            folder.mkdir()
            (folder / f"{exercise.topic}.py").write_text(source_of(module, where))
            ratios = []
            for _ in range(args.runs):
                result = grading.grade(submission=folder, ids=(exercise_id,)).exercises[0]
                if result.timing is None:
                    sys.exit(f"{exercise_id} {where}: {result.status}, {result.message}: "
                             "not timed")
                ratios.append(result.timing.ratio)
            flag = exercise.timing.slow_ratio
            margin = (min(ratios) / flag) if kind == "slow" else (flag / max(ratios))
            worst = min(worst, margin)
            shown = " ".join(f"{r:6.1f}" for r in ratios)
            print(f"{exercise_id:30} {where[:42]:42} {kind:4} {flag:5g}  {shown:28} "
                  f"{margin:5.1f}{'  WRONG FLAG' if margin < 1 else ''}", flush=True)
    print(f"\nworst margin {worst:.2f} ({args.runs} runs each, "
          f"{time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
