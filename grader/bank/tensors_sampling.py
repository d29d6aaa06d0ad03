"""Checks of exercises/tensors.py (torch), second part: sample_categorical, judged on one-hot
rows by Pearson's chi-square test of the class counts (chi_square_test, chi_square_sf).

Like grader/bank/tensors.py, whose tensor judges it uses, this module never imports torch: the
seeded torch.Generator is made in the worker by bank-written text (:class:`Fn`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from grader.bank.tensors import _arrays, _note, raises_one_of, tensor_diagnosis
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare, fmt
from grader.judges import Trial
from grader.sandbox.wire import Fn, TensorInput, TensorValue


# ----------------------------------------------------------------------------- sample_categorical

# A torch.Generator cannot cross the wire: the check's code seeds one on the inputs' device.
_SAMPLE = Fn('''
def f(probs, n, seed):
    import torch
    generator = torch.Generator(device=probs.device)
    generator.manual_seed(seed)
    return sample_categorical(probs, n, generator)
''', label="sample_categorical")
CHI_SQUARE_ALPHA = 1e-6
# Probabilities are multiples of 2^-12: exact in float32, with cumulative sums that end at
# exactly 1, so that no correct sampler's rounding can draw past the last class.
_GRID = 4096


def chi_square_sf(x: float, df: int) -> float:
    """P(X >= x) for X chi-square with ``df`` degrees of freedom: the regularized upper
    incomplete gamma function Q(df / 2, x / 2), by its series below a + 1 and its continued
    fraction above (Numerical Recipes, 6.2); relative error about 1e-14."""
    if x <= 0 or df <= 0:
        return 1.0
    a, z = df / 2.0, x / 2.0
    log_front = -z + a * math.log(z) - math.lgamma(a)
    if z < a + 1:  # P(a, z) = e^-z z^a / Gamma(a + 1) * sum_j z^j / ((a + 1) ... (a + j))
        term = total = 1.0 / a
        for j in range(1, 10_000):
            term *= z / (a + j)
            total += term
            if term < total * 1e-16:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300  # modified Lentz for the continued fraction of Q
    b = z + 1.0 - a
    c, d = 1.0 / tiny, 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = b + an / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        if abs(d * c - 1.0) < 1e-16:
            break
    return math.exp(log_front) * h


def chi_square_test(counts: np.ndarray, q: np.ndarray) -> tuple[float, int, float]:
    """(statistic, degrees of freedom, p-value) of Pearson's test that ``counts`` are
    multinomial with probabilities ``q``; a count in a class of probability 0 gives p = 0."""
    n = float(np.sum(counts))
    if np.any(counts[q == 0] > 0):
        return math.inf, int(np.sum(q > 0)) - 1, 0.0
    expected = n * q[q > 0]
    stat = float(np.sum((counts[q > 0] - expected) ** 2 / expected))
    df = int(np.sum(q > 0)) - 1
    return stat, df, chi_square_sf(stat, df)


def _probabilities(rng: np.random.Generator, k: int, lo: int, hi: int, zeros=()) -> np.ndarray:
    """k probabilities on the 2^-12 grid: weights drawn in [lo, hi], the last positive class
    taking the rest (at least lo: the cases below leave room), the classes ``zeros`` at 0."""
    w = rng.integers(lo, hi + 1, k).astype(np.float64)
    w[list(zeros)] = 0.0
    last = max(i for i in range(k) if i not in zeros)
    w[last] = 0.0
    w[last] = _GRID - np.sum(w)
    return w / _GRID


def _skewed(rng: np.random.Generator) -> np.ndarray:
    """One class near 0.8, the smallest near 0.01 (about 1,000 expected draws of 10^5)."""
    w = np.array([0.0, rng.integers(480, 521), rng.integers(170, 191), rng.integers(60, 71),
                  rng.integers(41, 46)], dtype=np.float64)
    w[0] = _GRID - np.sum(w)
    return w / _GRID


def _sample_case(probs, n: int, dtype: str = "float64", note: str = "", repeat: bool = False):
    def build(rng: np.random.Generator) -> Case:
        p = probs(rng) if callable(probs) else np.asarray(probs, dtype=np.float64)
        seed = int(rng.integers(2**31))
        what = note or f"K = {p.size} classes, n = {n} draws, {dtype}"
        if not repeat:
            return Case((Call(_SAMPLE, (TensorInput(p, dtype), n, seed)),), what)
        calls = tuple(Call(_SAMPLE, (TensorInput(p, dtype), n, s)) for s in (seed, seed, seed + 1))
        return Case(calls, f"{what}, generator seeds {seed}, {seed} and {seed + 1}")
    return build


SAMPLE_MISTAKES: dict[str, str] = {
    "indices": "you returned the drawn classes as indices, shape (n,): return one-hot rows of "
               "shape (n, K), e.g. torch.nn.functional.one_hot(classes, K).to(probs.dtype)",
    "int_one_hot": "torch.nn.functional.one_hot returns int64: convert the rows with "
                   ".to(probs.dtype)",
    "uniform": "your classes are drawn uniformly, whatever probs says: class i must come up "
               "with probability probs[i] (compare uniforms with the cumulative sums of probs)",
    "reversed": "your class frequencies follow probs in REVERSE order: you counted the "
                "cumulative sums ABOVE u (or read them from the end); the class of u is the "
                "number of cumulative sums <= u",
    "shifted_up": "class i + 1 comes up with probability probs[i]: your class index is one "
                  "too large (cumulative sums starting at 0, or one extra count); the class of "
                  "u is the number of cumulative sums c_i = probs[0] + ... + probs[i] <= u",
    "shifted_down": "class i - 1 comes up with probability probs[i]: your class index is one "
                    "too small; the class of u is the number of cumulative sums c_i = probs[0] "
                    "+ ... + probs[i] that are <= u",
    "argmax": "every draw is the most likely class (the argmax of probs): sampling draws "
              "class i with probability probs[i], so less likely classes come up too (if you "
              "drew a single uniform for all rows, draw n of them)",
    "shared_draw": "every row is the same class: you drew one uniform for all n samples; draw "
                   "n of them (torch.rand(n, generator=generator, ...))",
    "global_rng": "two calls with generators seeded alike gave different samples: you draw "
                  "from torch's global random state; pass generator=generator to torch.rand "
                  "(or torch.multinomial)",
    "fixed_seed": "generators with different seeds gave the same samples: your draws do not "
                  "come from generator (did you seed a generator of your own?)",
}


def _one_hot_problem(x: np.ndarray) -> str | None:
    """Where an (n, K) array is not made of one-hot rows."""
    bad = (x != 0) & (x != 1)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        return f"entry [{r}, {c}] is {fmt(x[r, c])}: one-hot rows hold only 0s and a single 1"
    ones = x.sum(axis=1)
    wrong = np.flatnonzero(ones != 1)
    if wrong.size:
        r = int(wrong[0])
        return (f"{wrong.size} of {x.shape[0]} rows do not hold exactly one 1 (row {r} holds "
                f"{int(ones[r])}): each row is one draw, a single 1 at its class")
    return None


def _sample_diagnosis(x: np.ndarray, probs: np.ndarray, counts: np.ndarray) -> str | None:
    """The known mistake that explains one-hot rows whose class counts do not fit probs."""
    if x.shape[0] > 1 and np.all(x == x[0]):
        top = np.flatnonzero(probs == probs.max())
        return SAMPLE_MISTAKES["argmax" if top.size == 1 and x[0, top[0]] == 1 else
                               "shared_draw"]
    k = probs.size
    candidates = {"uniform": np.full(k, 1.0 / k), "reversed": probs[::-1],
                  "shifted_up": np.roll(probs, 1), "shifted_down": np.roll(probs, -1)}
    fits = {name: chi_square_test(counts, q)[2] for name, q in candidates.items()
            if not np.allclose(q, probs, rtol=0.0, atol=1e-3)}
    best = max(fits, key=fits.get, default=None)  # the likeliest, where several fit
    return SAMPLE_MISTAKES[best] if best and fits[best] >= CHI_SQUARE_ALPHA else None


def _structure(trial: Trial, call: int) -> Verdict | None:
    """A failing verdict when a call's result is not an (n, K) tensor like the reference's."""
    got, want = trial.got(call), trial.want(call)
    prefix = f"{trial.func(call)}{_note(trial)}: "
    if isinstance(got, TensorValue) and isinstance(want, TensorValue) and got.array.ndim == 1:
        return Verdict(False, prefix + f"shape {got.array.shape}, expected {want.array.shape}",
                       SAMPLE_MISTAKES["indices"])
    if (isinstance(got, TensorValue) and isinstance(want, TensorValue)
            and got.array.shape == want.array.shape):
        # Type, device, dtype and shape only (the values are random): one row stands for all,
        # and every entry is checked to be 0 or 1 (so not NaN) by the one-hot test.
        got, want = (dataclasses.replace(v, array=v.array[:1]) for v in (got, want))
    mismatch = compare(got, want, rtol=0.0, atol=math.inf)
    if mismatch is None:
        return None
    diagnosis = tensor_diagnosis(mismatch, got, want, trial.case)
    if isinstance(got, TensorValue) and mismatch.kind == "dtype" and got.dtype == "torch.int64":
        diagnosis = SAMPLE_MISTAKES["int_one_hot"]
    return Verdict(False, prefix + str(mismatch), diagnosis)


def _sample_judge(trial: Trial) -> Verdict:
    """One-hot rows; classes of probability 0 never drawn; chi-square fit at alpha = 1e-6."""
    broken = _structure(trial, -1)
    if broken:
        return broken
    probs = _arrays(trial.case)[0]
    x = trial.got().array
    prefix = f"{trial.func()}{_note(trial)}: "
    problem = _one_hot_problem(x)
    if problem:
        return Verdict(False, prefix + problem)
    counts = x.sum(axis=0, dtype=np.float64)
    zero = np.flatnonzero((probs == 0) & (counts > 0))
    if zero.size:
        i = int(zero[0])
        return Verdict(False, prefix + f"class {i} has probability 0 but was drawn "
                                       f"{int(counts[i])} times", _sample_diagnosis(x, probs,
                                                                                    counts))
    stat, df, p_value = chi_square_test(counts, probs)
    if p_value >= CHI_SQUARE_ALPHA:
        return Verdict(True)
    n = float(x.shape[0])
    sd = np.sqrt(n * probs * (1 - probs))
    z = np.where(sd > 0, (counts - n * probs) / np.where(sd > 0, sd, 1.0), 0.0)
    worst = np.argsort(-np.abs(z))[:3]
    detail = ", ".join(f"class {int(i)} drawn {int(counts[i])} times, expected "
                       f"{fmt(n * probs[i])} (z = {z[i]:+.1f})" for i in worst)
    return Verdict(False, prefix + f"the class counts do not fit probs: chi-square = "
                                   f"{fmt(stat)} with {df} degrees of freedom, p-value "
                                   f"{_p_text(p_value)} (a correct sampler gets a p-value below "
                                   f"{CHI_SQUARE_ALPHA:g} once in a million gradings); "
                                   f"{detail}", _sample_diagnosis(x, probs, counts))


def _p_text(p_value: float) -> str:
    return f"{p_value:.1e}" if p_value > 0 else "below 1e-300"


def _seeded_judge(trial: Trial) -> Verdict:
    """The same generator seed gives the same samples, another seed other samples."""
    broken = _structure(trial, 0)
    if broken:
        return broken
    first, again, other = trial.got(0), trial.got(1), trial.got(2)
    seeds = [c.args[2] for c in trial.case.calls]
    if compare(again, first, rtol=0.0, atol=0.0) is not None:
        return Verdict(False, f"{trial.func(0)}{_note(trial)}: two generators seeded with "
                              f"{seeds[0]} gave different samples", SAMPLE_MISTAKES["global_rng"])
    if isinstance(other, TensorValue) and np.array_equal(other.array, first.array):
        return Verdict(False, f"{trial.func(0)}{_note(trial)}: generators seeded with "
                              f"{seeds[0]} and {seeds[2]} gave the same samples",
                       SAMPLE_MISTAKES["fixed_seed"])
    return Verdict(True)


_PROBS_WHY = "probs must be nonnegative and sum to 1 (within 1e-5)"
SAMPLE_CATEGORICAL = Exercise(
    id="tensors.sample_categorical",
    title="Sampling a categorical distribution as one-hot rows (torch)",
    functions=("sample_categorical",),
    framework="torch",
    summary="n inverse-CDF draws from probs with a torch.Generator, as (n, K) one-hot rows",
    checks=(
        Check("one_hot_rows", _sample_case(lambda rng: _probabilities(rng, 3, 900, 1600), 1000),
              _sample_judge, points=1,
              about="(n, K) one-hot rows in probs's dtype and device; frequencies fit probs"),
        Check("frequencies", _sample_case(lambda rng: _probabilities(rng, 5, 500, 850), 100_000),
              _sample_judge, points=1, about="10^5 draws: chi-square goodness of fit"),
        Check("seeded", _sample_case(lambda rng: _probabilities(rng, 4, 700, 1100), 1000,
                                     repeat=True),
              _seeded_judge, points=0.5, about="every draw comes from the generator"),
        Check("float32", _sample_case(lambda rng: _probabilities(rng, 8, 300, 560), 100_000,
                                      "float32"),
              _sample_judge, points=1, hidden=True, about="float32 probs, 8 classes"),
        Check("zero_probability",
              _sample_case(lambda rng: _probabilities(rng, 6, 900, 1500, zeros=(0, 3, 5)),
                           100_000, "float32",
                           note="K = 6 classes of which 0, 3 and 5 have probability 0, "
                                "n = 100000 draws, float32"),
              _sample_judge, points=1, hidden=True,
              about="classes of probability 0 (first, middle, last) are never drawn"),
        Check("skewed", _sample_case(_skewed, 100_000,
                                     note="probabilities from about 0.8 down to 0.01, "
                                          "n = 100000 draws, float64"),
              _sample_judge, points=0.5, hidden=True, about="a rare class comes up as often "
                                                             "as it should"),
        Check("single_class",
              _sample_case([1.0], 50, note="probs = [1] (K = 1), n = 50 draws, float64"),
              _sample_judge, points=0.5, hidden=True, about="K = 1: every row is [1]"),
        Check("not_normalized",
              _sample_case([1.0, 2.0, 3.0], 10, note="probs = [1, 2, 3] (weights summing to 6)"),
              raises_one_of("ValueError", why=_PROBS_WHY), points=0.5, hidden=True,
              about="probs not summing to 1 raise ValueError"),
        Check("negative",
              _sample_case([0.5, -0.25, 0.75], 10, note="probs = [0.5, -0.25, 0.75]"),
              raises_one_of("ValueError", why=_PROBS_WHY), points=0.5, hidden=True,
              about="a negative probability raises ValueError"),
    ),
    timing=Timing(lambda rng: Call(_SAMPLE, (TensorInput(_probabilities(rng, 10, 300, 420)),
                                             20_000, 0), send=False),
                  slow_ratio=10.0,
                  advice="draw the n uniforms at once (torch.rand(n, generator=...)), find all "
                         "their classes with one torch.searchsorted, and set the ones with one "
                         "indexing assignment (or one_hot): no loop over samples"),
)

EXERCISES = (SAMPLE_CATEGORICAL,)
