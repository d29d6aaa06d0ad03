"""False failures and power of the statistical checks of nn.dropout, measured.

False failures: for every grading seed, each check of ``nn.dropout`` builds its case exactly as
``grade --seed N`` does, a correct implementation computes the outputs (in this process: they
are trusted code, not student code) and the check's judge gives its verdict. Every failure is a
false failure. Besides the reference, two other correct implementations are measured (another
generator, another way of drawing the mask): the checks must not favour one way of writing it.
For each statistical test of the forward judge it also prints how often |z| exceeds 3 and 4
against the normal rates (2.7e-3, 6.3e-5): the statistics are calibrated when these match, which
is what makes the nominal rate at 5.3 (1.16e-7 per test) believable beyond the seeds run.

Power: known wrong implementations go through every check; the script prints how often each
is caught (fails at least one check) and how often the diagnosis names its mistake.

    python benchmarks/dropout_false_failures.py --seeds 10000 [--power-seeds 1000]
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

from grader import stats  # noqa: E402
from grader.bank import nn  # noqa: E402
from grader.catalog import Case, Verdict, catalog, reference_module  # noqa: E402
from grader.grading import run_reference  # noqa: E402
from grader.judges import CallResult, StudentRaised, Trial  # noqa: E402

EXERCISE = "nn.dropout"
REFERENCE = reference_module("nn")
STATISTICAL = ("forward_train", "forward_train_p08", "forward_3d")


# ----------------------------------------------------------------------------- implementations

def _backward(dout, cache):
    mode, scale = cache
    return dout if mode == "test" else dout * scale


def _keep_scale(p: float) -> float:
    return 1.0 / (1.0 - p) if p < 1 else 0.0


def _forward_with(keep_of, scale_of=_keep_scale, test=lambda x, p: x):
    """A forward built from ``keep_of(rng, x, p) -> bool mask`` and ``scale_of(p)``."""

    def forward(x, param):
        p, mode = float(param["p"]), param["mode"]
        if mode == "test":
            return test(x, p), ("test", None)
        rng = np.random.default_rng(param.get("seed"))
        with np.errstate(all="ignore"):
            scale = keep_of(rng, x, p) * scale_of(p)
        return x * scale, ("train", scale)

    return forward


def _impl(forward, backward=_backward) -> SimpleNamespace:
    return SimpleNamespace(dropout_forward=forward, dropout_backward=backward)


def _safe_scale(keep, p):
    return np.where(keep, 1.0 / (1.0 - p), 0.0) if p < 1 else np.zeros(keep.shape)


def _random_state(x, param):
    p = param["p"]
    if param["mode"] == "test":
        return x, (None, 0.0)
    rs = np.random.RandomState(param.get("seed"))
    mask = rs.rand(*x.shape) < 1 - p
    return x * _safe_scale(mask, p), (mask, p)


def _binomial(x, param):
    p = param["p"]
    if param["mode"] == "test":
        return x, (None, 0.0)
    if "seed" in param:
        np.random.seed(param["seed"])
    mask = np.random.binomial(1, 1 - p, size=x.shape).astype(bool)
    return x * _safe_scale(mask, p), (mask, p)


def _mask_backward(dout, cache):
    mask, p = cache
    return dout if mask is None else dout * _safe_scale(mask, p)


CORRECT = {
    "reference (default_rng, random >= p)": None,
    "RandomState(seed).rand < 1 - p": _impl(_random_state, _mask_backward),
    "np.random.seed + binomial(1, 1 - p)": _impl(_binomial, _mask_backward),
}


def _right_keep(rng, x, p):
    return rng.random(x.shape) >= p


def _fresh_mask_backward(dout, cache):
    mode, scale = cache
    if mode == "test":
        return dout
    keep = np.random.default_rng(12345).random(dout.shape) >= 1 - 1 / np.max(scale)
    return dout * keep * np.max(scale)


def _quantile_keep(rng, x, p):
    return x >= np.quantile(x, p)


# name -> (implementation, the DROPOUT_MISTAKES key its diagnosis should name)
WRONG = {
    "keep probability p, scale 1/p": (
        _impl(_forward_with(lambda r, x, p: r.random(x.shape) < p, lambda p: 1.0 / p)),
        "keep_probability"),
    "keep probability p, scale 1/(1-p)": (
        _impl(_forward_with(lambda r, x, p: r.random(x.shape) < p)), "keep_mask"),
    "no rescaling": (_impl(_forward_with(_right_keep, lambda p: 1.0)), "no_rescale"),
    "scale 1/p": (_impl(_forward_with(_right_keep, lambda p: 1.0 / p)), "scale_one_over_p"),
    "one mask for all rows": (
        _impl(_forward_with(lambda r, x, p: r.random(x.shape[1:]) >= p)), "shared_rows"),
    "one draw per row": (
        _impl(_forward_with(lambda r, x, p: r.random(x.shape[:1] + (1,) * (x.ndim - 1)) >= p)),
        "shared_columns"),
    "drops the smallest values": (_impl(_forward_with(_quantile_keep)), "value_dependent"),
    "backward without mask": (
        _impl(_forward_with(_right_keep), lambda d, c: d if c[0] == "test" else d * np.max(c[1])),
        "backward_no_mask"),
    "backward without scale": (
        _impl(_forward_with(_right_keep), lambda d, c: d if c[0] == "test" else d * (c[1] > 0)),
        "backward_no_scale"),
    "backward draws a new mask": (_impl(_forward_with(_right_keep), _fresh_mask_backward),
                                  "backward_new_mask"),
    "test mode scales by 1-p": (
        _impl(_forward_with(_right_keep, test=lambda x, p: x * (1 - p))), "test_scales"),
    # Near the detection limit: a drop rate off by 0.02 (no known mistake to name).
    "drop rate p + 0.02": (_impl(_forward_with(lambda r, x, p: r.random(x.shape) >= p + 0.02)),
                           None),
    "p = 1 divides by zero": (
        _impl(_forward_with(_right_keep, lambda p: 1.0 / (1.0 - p) if p < 1 else math.inf)),
        "p_one_nan"),
}


# ----------------------------------------------------------------------------- measuring

def _run(module, case: Case) -> list[CallResult]:
    """As the grader runs the reference: a call that raises is a result."""
    with np.errstate(all="ignore"):
        return run_reference(module, case)


def _verdicts(module, seed: int, checks=None):
    """(check, trial, verdict) for the checks of the exercise (all by default) at one seed."""
    exercise = catalog()[EXERCISE]
    for check in exercise.checks:
        if checks is not None and check.name not in checks:
            continue
        case = check.build(exercise.check_rng(check, seed))
        expected = run_reference(REFERENCE, case)
        actual = expected if module is REFERENCE else _run(module, case)
        trial = Trial(case, actual, expected)
        try:
            verdict = check.judge(trial)
        except StudentRaised as exc:
            verdict = Verdict(False, f"{exc.func} raised {exc.result.raised['type']}")
        yield check, trial, verdict


def false_failures(seeds: int, module=None, checks=None) -> dict:
    """Failures of a correct implementation per check (all checks, or those named), and the
    |z| of every statistical test."""
    module = module or REFERENCE
    failed: dict[str, int] = {}
    tally: dict[tuple[str, str], list[float]] = {}
    for seed in range(seeds):
        for check, trial, verdict in _verdicts(module, seed, checks):
            failed[check.name] = failed.get(check.name, 0) + (not verdict.passed)
            if check.name in STATISTICAL:
                x, param = trial.case.calls[0].args
                evidence = nn.dropout_evidence(x, float(param["p"]), trial.got(0))
                for name, test in evidence.tests.items():
                    tally.setdefault((check.name, name), []).append(abs(test.z))
    return {"seeds": seeds, "failed": failed,
            "z": {key: np.array(values) for key, values in tally.items()}}


def power(seeds: int) -> dict:
    """For each wrong implementation: seeds on which it was caught, and correctly named."""
    found = {}
    for name, (module, key) in WRONG.items():
        caught = named = 0
        checks: dict[str, int] = {}
        for seed in range(seeds):
            verdicts = [(c.name, v) for c, _, v in _verdicts(module, seed)]
            failing = [(c, v) for c, v in verdicts if not v.passed]
            for c, _ in failing:
                checks[c] = checks.get(c, 0) + 1
            caught += bool(failing)
            named += key is not None and any(nn.DROPOUT_MISTAKES[key] in (v.diagnosis or "")
                                             for _, v in failing)
        found[name] = {"caught": caught, "named": named, "checks": checks, "seeds": seeds}
    return found


# ----------------------------------------------------------------------------- printing

def _print_false_failures(label: str, result: dict) -> None:
    seeds = result["seeds"]
    print(f"\n{label}: {seeds} seeds")
    print(f"  {'check':<22}{'false failures':>16}{'nominal bound':>16}")
    exercise = catalog()[EXERCISE]
    for check in exercise.checks:
        tests = sum(1 for key in result["z"] if key[0] == check.name)
        bound = f"{tests * stats.FALSE_FAILURE:.1e}" if tests else "0 (exact)"
        print(f"  {check.name:<22}{result['failed'].get(check.name, 0):>10} / {seeds:<5}"
              f"{bound:>14}")


def _print_calibration(result: dict) -> None:
    n = result["seeds"]
    print(f"\n  per test (reference): count of |z| > 3, > 4, > {stats.Z_LIMIT} and the largest |z|"
          f"\n  normal rates: {n * math.erfc(3 / math.sqrt(2)):.1f}, "
          f"{n * math.erfc(4 / math.sqrt(2)):.2f}, {n * stats.FALSE_FAILURE:.4f} expected")
    for (check, test), z in result["z"].items():
        print(f"  {check:<20}{test:<15}{int((z > 3).sum()):>6}{int((z > 4).sum()):>6}"
              f"{int((z > stats.Z_LIMIT).sum()):>6}   max {z.max():.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10000, help="grading seeds per check")
    parser.add_argument("--power-seeds", type=int, default=1000,
                        help="grading seeds per wrong implementation")
    args = parser.parse_args(argv)
    print(f"nn.dropout statistical checks: each test two-sided at |z| = {stats.Z_LIMIT}, nominal "
          f"false failure {stats.FALSE_FAILURE:.3g} per test, at most "
          f"{stats.MAX_TESTS_PER_CHECK} tests per check (<= {stats.CHECK_FALSE_FAILURE:g})")
    start = time.perf_counter()
    for label, module in CORRECT.items():
        result = false_failures(args.seeds if module is None else max(1, args.seeds // 5),
                                module)
        _print_false_failures(label, result)
        if module is None:
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
