"""False failures and power of the statistical checks of tensors.sample_categorical, measured.

False failures: for every grading seed, each check of ``tensors.sample_categorical`` builds its
case exactly as ``grade --seed N`` does, a correct implementation draws the samples (here, in
this process, on the CPU: they are trusted code) and the check's judge gives its verdict. Every
failure is a false failure. Besides the reference (inverse CDF with torch.searchsorted) on all
the seeds, two other correct implementations are measured on a tenth of them (torch.multinomial;
a broadcast comparison of the uniforms with the cumulative sums): the checks must not favour
one way of writing it. For the
chi-square test of each check it also prints how often the p-value falls below 1e-2, 1e-3 and
1e-4 against the nominal counts: the statistic is calibrated when they match, which is what
makes the nominal rate at alpha = 1e-6 believable beyond the seeds run.

Power: known wrong implementations go through every check; the script prints how often each
is caught (fails at least one check) and how often the diagnosis names its mistake.

    python benchmarks/tensors_false_failures.py --seeds 10000 [--power-seeds 100]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.bank import tensors_sampling as sampling  # noqa: E402
from grader.catalog import Verdict, catalog, reference_module  # noqa: E402
from grader.grading import run_reference  # noqa: E402
from grader.judges import StudentRaised, Trial  # noqa: E402

EXERCISE = "tensors.sample_categorical"
REFERENCE = reference_module("tensors")
STATISTICAL = ("one_hot_rows", "frequencies", "float32", "zero_probability", "skewed")
LEVELS = (1e-2, 1e-3, 1e-4)


# ----------------------------------------------------------------------------- implementations

def _checked(draw):
    """A sample_categorical from ``draw(probs, n, generator) -> class indices``, validating
    probs as the exercise asks and returning one-hot rows in probs's dtype."""

    def sample_categorical(probs, n, generator):
        if bool((probs < 0).any()) or abs(float(probs.sum()) - 1.0) > 1e-5:
            raise ValueError("probs must be nonnegative and sum to 1")
        classes = draw(probs, n, generator)
        return torch.nn.functional.one_hot(classes, probs.shape[0]).to(probs.dtype)

    return SimpleNamespace(sample_categorical=sample_categorical)


def _uniforms(probs, n, generator):
    return torch.rand(n, generator=generator, dtype=probs.dtype, device=probs.device)


def _multinomial(probs, n, generator):
    return torch.multinomial(probs, n, replacement=True, generator=generator)


def _broadcast(probs, n, generator):
    cdf = torch.cumsum(probs, 0)
    return (_uniforms(probs, n, generator)[:, None] >= cdf[None, :]).sum(1)


def _inverse_cdf(shift=0, right=True):
    def draw(probs, n, generator):
        cdf = torch.cumsum(probs, 0)
        found = torch.searchsorted(cdf, _uniforms(probs, n, generator), right=right)
        return (found + shift) % probs.shape[0]
    return draw


CORRECT = {
    "reference (searchsorted of the cumulative sums)": REFERENCE,
    "torch.multinomial + one_hot": _checked(_multinomial),
    "broadcast: count of cumulative sums <= u": _checked(_broadcast),
}

# name -> (implementation, the SAMPLE_MISTAKES key its diagnosis should name)
WRONG = {
    "uniform over the classes": (_checked(lambda p, n, g: torch.randint(
        0, p.shape[0], (n,), generator=g)), "uniform"),
    "cumulative sums above u (reversed)": (_checked(lambda p, n, g: (
        _uniforms(p, n, g)[:, None] < torch.cumsum(p, 0)).sum(1) - 1), "reversed"),
    "index one too small (wraps around)": (_checked(_inverse_cdf(shift=-1)), "shifted_down"),
    "index one too large (wraps around)": (_checked(_inverse_cdf(shift=1)), "shifted_up"),
    "always the argmax": (_checked(lambda p, n, g: torch.full(
        (n,), int(p.argmax()), dtype=torch.int64)), "argmax"),
    "one uniform for all rows": (_checked(lambda p, n, g: torch.searchsorted(
        torch.cumsum(p, 0), _uniforms(p, 1, g).expand(n).contiguous(), right=True)),
        "shared_draw"),
    "global random state": (_checked(lambda p, n, g: torch.searchsorted(
        torch.cumsum(p, 0), torch.rand(n, dtype=p.dtype), right=True)), "global_rng"),
    # Near the detection limit: one class's probability 3% too high (no known mistake to name).
    "probability of class 0 off by 3%": (_checked(lambda p, n, g: torch.multinomial(
        p * torch.cat([p.new_ones(1) * 1.03, p.new_ones(p.shape[0] - 1)]), n,
        replacement=True, generator=g)), None),
}


# ----------------------------------------------------------------------------- measuring

def _verdicts(module, seed: int, checks=None):
    """(check, trial, verdict) for the checks of the exercise (all by default) at one seed."""
    exercise = catalog()[EXERCISE]
    for check in exercise.checks:
        if checks is not None and check.name not in checks:
            continue
        case = check.build(exercise.check_rng(check, seed))
        expected = run_reference(REFERENCE, case)
        actual = expected if module is REFERENCE else run_reference(module, case)
        trial = Trial(case, actual, expected)
        try:
            verdict = check.judge(trial)
        except StudentRaised as exc:
            verdict = Verdict(False, f"{exc.func} raised {exc.result.raised['type']}")
        yield check, trial, verdict


def p_value(trial: Trial) -> float:
    """The chi-square p-value of a statistical check's (correct) result."""
    probs = np.asarray(trial.case.calls[-1].args[0].array, dtype=np.float64)
    counts = trial.got().array.sum(axis=0, dtype=np.float64)
    return sampling.chi_square_test(counts, probs)[2]


def false_failures(seeds: int, module=None, checks=None) -> dict:
    """Failures of a correct implementation per check, and the p-values of the chi-square
    tests of the statistical checks."""
    module = module or REFERENCE
    failed: dict[str, int] = {}
    p_values: dict[str, list[float]] = {}
    for seed in range(seeds):
        for check, trial, verdict in _verdicts(module, seed, checks):
            failed[check.name] = failed.get(check.name, 0) + (not verdict.passed)
            if check.name in STATISTICAL:
                p_values.setdefault(check.name, []).append(p_value(trial))
    return {"seeds": seeds, "failed": failed,
            "p": {name: np.array(values) for name, values in p_values.items()}}


def power(seeds: int) -> dict:
    """For each wrong implementation: seeds on which it was caught, and correctly named."""
    found = {}
    for name, (module, key) in WRONG.items():
        caught = named = 0
        checks: dict[str, int] = {}
        for seed in range(seeds):
            failing = [(c.name, v) for c, _, v in _verdicts(module, seed) if not v.passed]
            for c, _ in failing:
                checks[c] = checks.get(c, 0) + 1
            caught += bool(failing)
            named += key is not None and any(
                sampling.SAMPLE_MISTAKES[key] in (v.diagnosis or "") for _, v in failing)
        found[name] = {"caught": caught, "named": named, "checks": checks, "seeds": seeds}
    return found


# ----------------------------------------------------------------------------- printing

def _print_false_failures(label: str, result: dict) -> None:
    seeds = result["seeds"]
    print(f"\n{label}: {seeds} seeds")
    print(f"  {'check':<20}{'false failures':>16}{'nominal bound':>16}")
    for check in catalog()[EXERCISE].checks:
        bound = f"{sampling.CHI_SQUARE_ALPHA:.0e}" if check.name in STATISTICAL else "0 (exact)"
        print(f"  {check.name:<20}{result['failed'].get(check.name, 0):>10} / {seeds:<6}"
              f"{bound:>13}")


def _print_calibration(result: dict) -> None:
    n = result["seeds"]
    levels = ", ".join(f"{n * a:g}" for a in LEVELS)
    print(f"\n  chi-square p-values: count below {', '.join(map(str, LEVELS))} and "
          f"the smallest\n  nominal counts: {levels}")
    for name, p in result["p"].items():
        counts = "".join(f"{int((p < a).sum()):>7}" for a in LEVELS)
        print(f"  {name:<20}{counts}   min {p.min():.1e}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10000, help="grading seeds per check")
    parser.add_argument("--power-seeds", type=int, default=100,
                        help="grading seeds per wrong implementation")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"{EXERCISE} statistical checks: one chi-square test per check at alpha = "
          f"{sampling.CHI_SQUARE_ALPHA:g}; one-hot rows and never-drawn classes are exact")
    start = time.perf_counter()
    for label, module in CORRECT.items():
        result = false_failures(args.seeds if module is REFERENCE else max(1, args.seeds // 10),
                                module)
        _print_false_failures(label, result)
        _print_calibration(result)
    print(f"\npower ({args.power_seeds} seeds each): caught = fails at least one check; "
          "named = a failing check's diagnosis names the mistake")
    for name, row in power(args.power_seeds).items():
        checks = ", ".join(f"{c} {k}" for c, k in row["checks"].items())
        named = row["named"] if WRONG[name][1] is not None else "-"
        print(f"  {name:<36} caught {row['caught']:>5} / {row['seeds']}  named {named:>5}"
              f"  ({checks})")
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
