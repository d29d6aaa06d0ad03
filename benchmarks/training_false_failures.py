"""False failures and power of the checks of optim.iterate_minibatches, measured; and every
other check of grader/bank/training*.py run on the reference over the same seeds.

The minibatch checks judge random output: which permutation a correct function draws is its
own business. All but one of their verdicts are exact for every correct function (each sample
once per epoch, the batch sizes, X and y rows together, the same batches for the same seed).
The one random verdict is "each epoch a new order" in the check ``epochs_and_seed``: it fails
when an epoch lists the samples in exactly the order of the epoch before, which a correct
shuffle of N = 20 samples does with probability 1 / 20! = 4.1e-19 (two pairs of epochs per
check). Measuring cannot show a rate that small; it shows that nothing else is random.

For every grading seed each check builds its case exactly as ``grade --seed N`` does, correct
implementations compute the results in this process (trusted code, not student code) and the
check's judge gives the verdict: every failure is a false failure. Three correct ways of
drawing the batches are measured. Then known wrong implementations go through the same checks:
how often each is caught, and how often the diagnosis names its mistake.

    python benchmarks/training_false_failures.py --seeds 10000 [--power-seeds 1000]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.catalog import Case, catalog, reference_module  # noqa: E402
from grader.grading import run_reference  # noqa: E402
from grader.judges import CallResult, Trial  # noqa: E402

EXERCISE = "optim.iterate_minibatches"
REFERENCE = reference_module("optim")


def with_iterator(iterate) -> SimpleNamespace:
    """A module whose minibatches() is the stub's wrapper around ``iterate``."""

    def minibatches(X, y, batch_size, seed, epochs=1):
        rng = np.random.default_rng(seed)
        return [[(xb, yb) for xb, yb in iterate(X, y, batch_size, rng)] for _ in range(epochs)]

    return SimpleNamespace(minibatches=minibatches)


def _checked(X, y, batch_size):
    if batch_size < 1 or len(X) != len(y):
        raise ValueError("bad arguments")


def _shuffle_in_place(X, y, batch_size, rng):
    _checked(X, y, batch_size)
    idx = np.arange(len(X))
    rng.shuffle(idx)
    return [(X[idx[s:s + batch_size]], y[idx[s:s + batch_size]])
            for s in range(0, len(X), batch_size)]


def _choice(X, y, batch_size, rng):
    _checked(X, y, batch_size)
    order = rng.choice(len(X), size=len(X), replace=False)
    for s in range(0, len(X), batch_size):
        yield np.take(X, order[s:s + batch_size], axis=0), np.take(y, order[s:s + batch_size],
                                                                    axis=0)


CORRECT = {
    "reference (rng.permutation, one gather, views)": REFERENCE,
    "rng.shuffle(arange), a list of fancy-indexed batches": with_iterator(_shuffle_in_place),
    "rng.choice(N, N, replace=False), np.take": with_iterator(_choice),
}


def _wrong(order_of, y_order_of=None, sizes_of=None):
    """A wrong iterator from ``order_of(rng, n)`` (a sample order per epoch)."""

    def iterate(X, y, batch_size, rng):
        _checked(X, y, batch_size)
        n = len(X)
        order = order_of(rng, n)
        y_order = order if y_order_of is None else y_order_of(rng, n, order)
        stops = range(0, n, batch_size) if sizes_of is None else sizes_of(n, batch_size)
        for s in stops:
            yield X[order[s:s + batch_size]], y[y_order[s:s + batch_size]]

    return with_iterator(iterate)


# name: (implementation, words of the diagnosis it must get where it fails: one of them)
WRONG = {
    "with replacement (rng.integers)": (
        _wrong(lambda rng, n: rng.integers(0, n, n)), "sampling with replacement"),
    "X and y by two permutations": (
        _wrong(lambda rng, n: rng.permutation(n), lambda rng, n, o: rng.permutation(n)),
        "different permutations"),
    "y not shuffled": (
        _wrong(lambda rng, n: rng.permutation(n), lambda rng, n, o: np.arange(n)),
        "shuffled X but not y"),
    "last partial batch dropped": (
        _wrong(lambda rng, n: rng.permutation(n),
               sizes_of=lambda n, b: range(0, n - b + 1, b)),
        ("partial batch", "no batch at all")),
    "no shuffle": (_wrong(lambda rng, n: np.arange(n)), "never shuffled"),
    "a new generator from seed 0 every epoch": (
        _wrong(lambda rng, n: np.random.default_rng(0).permutation(n)), "same permutation"),
    "the global np.random state": (
        _wrong(lambda rng, n: np.random.permutation(n)), "same seed must give the same"),
}


def _student_results(module, case: Case) -> list[CallResult]:
    with np.errstate(all="ignore"):
        return run_reference(module, case)


def verdicts(module, seed: int, expected_cache: dict | None = None) -> dict:
    """{check name: Verdict} of one implementation at one grading seed."""
    exercise = catalog()[EXERCISE]
    out = {}
    for check in exercise.checks:
        case = check.build(exercise.check_rng(check, seed))
        key = (check.name, seed)
        if expected_cache is not None and key in expected_cache:
            expected = expected_cache[key]
        else:
            expected = run_reference(REFERENCE, case)
            if expected_cache is not None:
                expected_cache[key] = expected
        out[check.name] = check.judge(Trial(case, _student_results(module, case), expected))
    return out


def false_failures(seeds: int) -> dict[str, dict[str, int]]:
    counts = {}
    cache: dict = {}
    for name, module in CORRECT.items():
        per_check: dict[str, int] = {}
        for seed in range(seeds):
            for check, verdict in verdicts(module, seed, cache).items():
                per_check[check] = per_check.get(check, 0) + (not verdict.passed)
        counts[name] = per_check
    return counts


def reference_everywhere(seeds: int) -> dict[str, int]:
    """Failures of the reference on every check of the other three exercises (all exact)."""
    failures = {}
    for exercise_id in ("optim.sgd_momentum", "optim.rmsprop", "optim.early_stopping"):
        exercise = catalog()[exercise_id]
        bad = 0
        for seed in range(seeds):
            for check in exercise.checks:
                case = check.build(exercise.check_rng(check, seed))
                expected = run_reference(REFERENCE, case)
                bad += not check.judge(Trial(case, run_reference(REFERENCE, case),
                                             expected)).passed
        failures[exercise_id] = bad
    return failures


def power(seeds: int) -> dict[str, tuple[int, int]]:
    """{wrong implementation: (seeds where it lost points, seeds where every failing check
    named its mistake)}."""
    out = {}
    cache: dict = {}
    for name, (module, words) in WRONG.items():
        caught = named = 0
        words = (words,) if isinstance(words, str) else words
        for seed in range(seeds):
            failed = [v for v in verdicts(module, seed, cache).values() if not v.passed]
            caught += bool(failed)
            named += bool(failed) and all(any(w in (v.diagnosis or "") for w in words)
                                          for v in failed)
        out[name] = (caught, named)
    return out


def repeat_probability(n: int = 20) -> float:
    """P(two independent uniform shuffles of n samples give the same order): 1 / n!."""
    return 1.0 / math.factorial(n)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10_000)
    parser.add_argument("--power-seeds", type=int, default=1_000)
    args = parser.parse_args(argv)
    start = time.monotonic()
    print(f"{EXERCISE}: false failures of correct implementations over {args.seeds} seeds")
    for name, per_check in false_failures(args.seeds).items():
        total = sum(per_check.values())
        detail = ", ".join(f"{check} {count}" for check, count in per_check.items())
        print(f"  {name}: {total} ({detail})")
    print(f"  nominal rate of the one random verdict (an epoch repeated, 2 pairs per check): "
          f"{2 * repeat_probability():.1e} per check")
    print(f"reference on the other exercises' checks over {args.seeds} seeds (exact checks):")
    for exercise_id, bad in reference_everywhere(args.seeds).items():
        print(f"  {exercise_id}: {bad} failures")
    print(f"power over {args.power_seeds} seeds (caught / every failing check names it):")
    for name, (caught, named) in power(args.power_seeds).items():
        print(f"  {name}: {caught} / {named}")
    print(f"({time.monotonic() - start:.0f} s)")


if __name__ == "__main__":
    main()
