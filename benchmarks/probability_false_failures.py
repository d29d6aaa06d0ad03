"""False failures and power of the statistical checks of probability.sample_binomial, measured.

False failures: for every grading seed, each check of ``probability.sample_binomial`` builds
its case exactly as ``grade --seed N`` does, a correct implementation computes the counts (in
this process: they are trusted code, not student code) and the check's judge gives its verdict.
Every failure is a false failure. Besides the reference, two other correct implementations are
measured (another generator, another way of drawing the trials): the checks must not favour one
way of writing it. For each statistical test it also prints how often |z| exceeds 3 and 4
against the normal rates (2.7e-3, 6.3e-5) and the mean of z^2 (1 for a calibrated statistic):
that is what makes the nominal rate at 5.3 (1.16e-7 per test) believable beyond the seeds run.

Power: known wrong implementations go through every check; the script prints how often each
is caught (fails at least one check) and how often the diagnosis names its mistake.

    python benchmarks/probability_false_failures.py --seeds 10000 [--power-seeds 200] [--jobs 2]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from multiprocessing import Pool
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader import stats  # noqa: E402
from grader.bank import probability as bank  # noqa: E402
from grader.catalog import Verdict, catalog, reference_module  # noqa: E402
from grader.grading import run_reference  # noqa: E402
from grader.judges import StudentRaised, Trial  # noqa: E402

EXERCISE = "probability.sample_binomial"
REFERENCE = reference_module("probability")
STATISTICAL = ("moments", "shape_tuple", "rare_successes", "one_trial")


# ----------------------------------------------------------------------------- implementations

def _checked(n, p):
    if n < 0 or not 0 <= p <= 1:
        raise ValueError("invalid n or p")


def _shape(size):
    return (size,) if np.ndim(size) == 0 else tuple(size)


def _from_trials(draw, reduce=lambda t: t.sum(axis=-1)):
    """sample_binomial from ``draw(rng, shape, n, p) -> trials`` and a reduction to counts."""

    def sample_binomial(n, p, size, rng):
        _checked(n, p)
        trials = draw(np.random.default_rng(rng), _shape(size), n, p)
        return np.asarray(reduce(trials)).astype(np.int64)

    return SimpleNamespace(sample_binomial=sample_binomial)


def _random_state(n, p, size, rng):
    _checked(n, p)
    return (np.random.RandomState(rng).rand(*_shape(size), n) < p).sum(axis=-1)


def _trial_by_trial(n, p, size, rng):
    _checked(n, p)
    rng = np.random.default_rng(rng)
    counts = np.zeros(_shape(size), dtype=np.int64)
    for _ in range(n):
        counts += rng.random(counts.shape) < p
    return counts


CORRECT = {
    "reference (default_rng, u < p over size + (n,))": None,
    "RandomState(seed).rand(*size, n) < p": SimpleNamespace(sample_binomial=_random_state),
    "one vectorized draw per trial, accumulated": SimpleNamespace(sample_binomial=_trial_by_trial),
}


def _library(n, p, size, rng):
    _checked(n, p)
    return np.random.default_rng(rng).binomial(n, p, _shape(size))


def _unseeded(n, p, size, rng):
    _checked(n, p)
    return (np.random.default_rng().random(_shape(size) + (n,)) < p).sum(axis=-1)


def _fixed_seed(n, p, size, rng):
    _checked(n, p)
    return (np.random.default_rng(0).random(_shape(size) + (n,)) < p).sum(axis=-1)


def _open_interval(n, p, size, rng):
    if n <= 0 or not 0 < p < 1:
        raise ValueError("p must be in (0, 1) and n positive")
    return REFERENCE.sample_binomial(n, p, size, rng)


def _generator_only(n, p, size, rng):
    _checked(n, p)
    return (rng.random(_shape(size) + (n,)) < p).sum(axis=-1)  # an int has no .random


def _impl(function):
    return SimpleNamespace(sample_binomial=function)


# name -> (implementation, the BINOMIAL_MISTAKES key its diagnosis should name)
WRONG = {
    "counts failures (u > p)": (
        _from_trials(lambda r, s, n, p: r.random(s + (n,)) > p), "counted_failures"),
    "one Bernoulli draw times n": (
        _from_trials(lambda r, s, n, p: n * (r.random(s) < p), lambda t: t), "one_draw_times_n"),
    "one set of trials for every count": (
        _from_trials(lambda r, s, n, p: np.broadcast_to(r.random(n) < p, s + (n,))),
        "shared_trials"),
    "n - 1 trials": (_from_trials(lambda r, s, n, p: r.random(s + (max(n - 1, 0),)) < p),
                     "n_minus_one"),
    "n + 1 trials": (_from_trials(lambda r, s, n, p: r.random(s + (n + 1,)) < p), "n_plus_one"),
    "sums over the first axis": (
        _from_trials(lambda r, s, n, p: r.random((n,) + s) < p, lambda t: t.sum(axis=-1)),
        "wrong_axis"),
    "rng.binomial(n, p, size)": (_impl(_library), "library_binomial"),
    "float counts": (SimpleNamespace(sample_binomial=lambda n, p, size, rng: REFERENCE
                                     .sample_binomial(n, p, size, rng).astype(float)),
                     "float_counts"),
    "ignores the seed": (_impl(_unseeded), "not_seeded"),
    "uses rng as a Generator": (_impl(_generator_only), "rng_is_a_seed"),
    "a fixed seed": (_impl(_fixed_seed), "fixed_seed"),
    "rejects p = 0, p = 1 and n = 0": (_impl(_open_interval), "edge_rejected"),
    # Near the detection limit: a success rate off by 0.01 (no known mistake to name).
    "success rate p + 0.01": (_from_trials(lambda r, s, n, p: r.random(s + (n,)) < p + 0.01),
                              None),
}


# ----------------------------------------------------------------------------- measuring

def verdicts(module, seed: int, checks=None):
    """(check, trial, verdict) for the checks of the exercise (all by default) at one seed."""
    exercise = catalog()[EXERCISE]
    for check in exercise.checks:
        if checks is not None and check.name not in checks:
            continue
        case = check.build(exercise.check_rng(check, seed))
        expected = run_reference(REFERENCE, case)
        actual = expected if module is None else run_reference(module, case)
        trial = Trial(case, actual, expected)
        try:
            verdict = check.judge(trial)
        except StudentRaised as exc:
            verdict = Verdict(False, f"{exc.func} raised {exc.result.raised['type']}")
        yield check, trial, verdict


def _false_failures_part(args) -> tuple[dict, dict]:
    label, seeds, checks = args
    module = CORRECT[label]
    failed: dict[str, int] = {}
    tally: dict[tuple[str, str], list[float]] = {}
    for seed in seeds:
        for check, trial, verdict in verdicts(module, seed, checks):
            failed[check.name] = failed.get(check.name, 0) + (not verdict.passed)
            counts = trial.actual[0].value
            if check.name in STATISTICAL and isinstance(counts, np.ndarray) and \
                    counts.dtype.kind in "iu":
                n, p, _, _ = trial.case.calls[0].args
                for name, test in bank.binomial_tests(counts, n, p).items():
                    tally.setdefault((check.name, name), []).append(test.z)
    return failed, tally


def false_failures(seeds: int, label: str = next(iter(CORRECT)), checks=None,
                   jobs: int = 1) -> dict:
    """Failures of a correct implementation per check (all checks, or those named), and the z
    of every statistical test."""
    parts = [(label, range(k, seeds, jobs), checks) for k in range(jobs)]
    if jobs > 1:
        with Pool(jobs) as pool:
            results = pool.map(_false_failures_part, parts)
    else:
        results = [_false_failures_part(parts[0])]
    failed: dict[str, int] = {}
    tally: dict[tuple[str, str], list[float]] = {}
    for part_failed, part_tally in results:
        for name, count in part_failed.items():
            failed[name] = failed.get(name, 0) + count
        for key, values in part_tally.items():
            tally.setdefault(key, []).extend(values)
    return {"seeds": seeds, "failed": failed,
            "z": {key: np.array(values) for key, values in tally.items()}}


def power(seeds: int) -> dict:
    """For each wrong implementation: seeds on which it was caught, and correctly named."""
    found = {}
    for name, (module, key) in WRONG.items():
        caught = named = 0
        checks: dict[str, int] = {}
        for seed in range(seeds):
            with np.errstate(all="ignore"):
                failing = [(c.name, v) for c, _, v in verdicts(module, seed) if not v.passed]
            for c, _ in failing:
                checks[c] = checks.get(c, 0) + 1
            caught += bool(failing)
            named += key is not None and any(
                bank.BINOMIAL_MISTAKES[key] == v.diagnosis for _, v in failing)
        found[name] = {"caught": caught, "named": named, "checks": checks, "seeds": seeds}
    return found


# ----------------------------------------------------------------------------- printing

def _print_false_failures(label: str, result: dict) -> None:
    seeds = result["seeds"]
    print(f"\n{label}: {seeds} seeds")
    print(f"  {'check':<16}{'false failures':>16}{'nominal bound':>16}")
    for check in catalog()[EXERCISE].checks:
        tests = 2 if check.name in STATISTICAL else 0
        bound = f"{tests * stats.FALSE_FAILURE:.1e}" if tests else "0 (exact)"
        print(f"  {check.name:<16}{result['failed'].get(check.name, 0):>10} / {seeds:<5}"
              f"{bound:>14}")


def _print_calibration(result: dict) -> None:
    n = result["seeds"]
    print(f"\n  per test (reference): count of |z| > 3, > 4, > {stats.Z_LIMIT}, mean z, mean z^2, "
          f"largest |z|\n  normal: {n * math.erfc(3 / math.sqrt(2)):.1f}, "
          f"{n * math.erfc(4 / math.sqrt(2)):.2f}, {n * stats.FALSE_FAILURE:.4f}, 0, 1")
    for (check, test), z in result["z"].items():
        a = np.abs(z)
        print(f"  {check:<16}{test:<10}{int((a > 3).sum()):>6}{int((a > 4).sum()):>6}"
              f"{int((a > stats.Z_LIMIT).sum()):>6}{z.mean():>+8.3f}{np.mean(z * z):>7.3f}"
              f"   max {a.max():.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10000, help="grading seeds per check")
    parser.add_argument("--power-seeds", type=int, default=200,
                        help="grading seeds per wrong implementation")
    parser.add_argument("--jobs", type=int, default=1, help="processes")
    args = parser.parse_args(argv)
    print(f"{EXERCISE} statistical checks: two tests each (mean: exact binomial; variance: "
          f"z-test), two-sided at |z| = {stats.Z_LIMIT}, nominal false failure "
          f"{stats.FALSE_FAILURE:.3g} per test")
    start = time.perf_counter()
    for label in CORRECT:
        seeds = args.seeds if CORRECT[label] is None else max(1, args.seeds // 5)
        result = false_failures(seeds, label, jobs=args.jobs)
        _print_false_failures(label, result)
        if CORRECT[label] is None:
            _print_calibration(result)
    print(f"\npower ({args.power_seeds} seeds each): caught = fails at least one check; "
          "named = a failing check's diagnosis names the mistake")
    for name, row in power(args.power_seeds).items():
        checks = ", ".join(f"{c} {k}" for c, k in row["checks"].items())
        named = row["named"] if WRONG[name][1] is not None else "-"
        print(f"  {name:<34} caught {row['caught']:>4} / {row['seeds']}  named {named:>4}"
              f"  ({checks})")
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
