"""Checks of exercises/nn.py: two_layer_mlp_loss and dropout."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grader import diagnose, stats
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare, fmt
from grader.judges import Mistake, Trial
from grader.sandbox.wire import Out

# ------------------------------------------------------------------------ nn.two_layer_mlp_loss

# Correct formulations (one-hot matrix or index subtraction, log-softmax or -log of the
# softmax, BLAS or einsum products) differ by rounding only: over 2,000 seeds of every case
# below, two of them used at most 0.24% of this tolerance (|diff| <= atol + rtol * |expected|);
# the worst case is scores around 1000, where a shift by the row maximum costs about
# 1000 * eps = 2e-13 absolutely and small gradient entries differ by 1e-9 relatively.
# tests/test_bank_nn.py measures it again. Every known mistake is off by a factor N, a whole
# ReLU mask or NaN: many orders of magnitude beyond.
MLP_RTOL = 1e-8
MLP_ATOL = 1e-11
# Matching a known mistake: the student's version of it may round differently from ours.
_MISTAKE_RTOL, _MISTAKE_ATOL = 1e-6, 1e-9
_GRAD_KEYS = ("W1", "b1", "W2", "b2")


def _mlp_params(rng: np.random.Generator, n: int, d: int, h: int, c: int, *,
                bias: float = 0.5) -> tuple:
    x = rng.standard_normal((n, d))
    y = rng.integers(0, c, n)
    w1 = rng.standard_normal((d, h)) / math.sqrt(d)
    b1 = bias * rng.standard_normal(h)
    w2 = rng.standard_normal((h, c)) / math.sqrt(h)
    b2 = 0.5 * rng.standard_normal(c)
    return x, y, w1, b1, w2, b2


def _mlp_case(n: int, d: int, h: int, c: int, note: str = "", **options):
    def build(rng: np.random.Generator) -> Case:
        args = _mlp_params(rng, n, d, h, c, **options)
        return Case((Call("two_layer_mlp_loss", args),),
                    note or f"N={n} samples, D={d}, H={h}, C={c}")
    return build


def _mlp_bias_flips_mask(rng: np.random.Generator) -> Case:
    # b1 as large as X W1, redrawn until adding it changes at least a fifth of the ReLU mask:
    # a mask computed from X W1 alone is then wrong in many places.
    while True:
        x, y, w1, b1, w2, b2 = _mlp_params(rng, 16, 6, 10, 4, bias=1.5)
        if np.mean((x @ w1 > 0) != (x @ w1 + b1 > 0)) >= 0.2:
            return Case((Call("two_layer_mlp_loss", (x, y, w1, b1, w2, b2)),),
                        "N=16, D=6, H=10, C=4 with b1 as large as X W1 (it moves the ReLU mask)")


def _mlp_large_logits(rng: np.random.Generator) -> Case:
    x, y, w1, b1, w2, b2 = _mlp_params(rng, 12, 5, 8, 6)
    b2 = b2 + 1000.0
    return Case((Call("two_layer_mlp_loss", (x, y, w1, b1, 3.0 * w2, b2)),),
                "N=12, D=5, H=8, C=6 with scores around 1000 (exp(1000) overflows)")


def _mlp_dead_units(rng: np.random.Generator) -> Case:
    x, y, w1, b1, w2, b2 = _mlp_params(rng, 10, 7, 9, 3)
    b1[[1, 4, 6]] = -50.0  # these units never fire: their gradients are exactly zero
    return Case((Call("two_layer_mlp_loss", (x, y, w1, b1, w2, b2)),),
                "N=10, D=7, H=9, C=3 where hidden units 1, 4 and 6 never fire (b1 = -50)")


def _mlp_variant(case: Case, *, mask: str = "bias", scale: str = "mean", softmax: str = "stable",
                 bias_axis: int | None = 0, keepdims: bool = False, minus_one: bool = True):
    """(loss, grads) computed with one deliberate deviation from the math (for Mistakes)."""
    x, y, w1, b1, w2, b2 = (np.asarray(a) for a in case.calls[-1].args)
    n = x.shape[0]
    pre = x @ w1 + b1
    hid = np.maximum(pre, 0.0)
    s = hid @ w2 + b2
    with np.errstate(all="ignore"):
        axis = 0 if softmax == "batch_axis" else 1
        e = np.exp(s) if softmax == "naive" else np.exp(s - s.max(axis=axis, keepdims=True))
        probs = e / e.sum(axis=axis, keepdims=True)
        rows = np.arange(n)
        loss = float(-np.log(probs[rows, y]).mean())
        d_s = probs.copy()
        if minus_one:
            d_s[rows, y] -= 1.0
        d_s /= {"mean": n, "twice": n * n, "none": 1, "sum": 1}[scale]
        if scale == "sum":
            loss *= n
        gate = {"bias": pre > 0, "no_bias": x @ w1 > 0, "none": np.ones_like(pre, dtype=bool)}
        d_pre = (d_s @ w2.T) * gate[mask]
        grads = {"W1": x.T @ d_pre, "b1": d_pre.sum(axis=bias_axis, keepdims=keepdims),
                 "W2": hid.T @ d_s, "b2": d_s.sum(axis=bias_axis, keepdims=keepdims)}
    return loss, grads


MLP_MISTAKES = (
    Mistake("mlp_mask_without_bias",
            "your ReLU mask in backprop is (X W1 > 0), without b1: the units that fire are those "
            "where the pre-activation X W1 + b1 is positive, so use the same A = X W1 + b1 in "
            "the forward pass and in the mask",
            lambda case: _mlp_variant(case, mask="no_bias")),
    Mistake("mlp_no_relu_mask",
            "your backprop skips the ReLU: the gradient reaching A = X W1 + b1 is "
            "(dS W2^T) * [A > 0], zero where the unit did not fire (a mask of h >= 0 is true "
            "everywhere, since h = relu(A) is never negative)",
            lambda case: _mlp_variant(case, mask="none")),
    Mistake("mlp_divided_twice",
            "your gradients are N times too small: you divided by N twice (once in dS = "
            "(P - Y) / N and again in the weight gradients); the 1/N of the mean loss appears "
            "exactly once",
            lambda case: _mlp_variant(case, scale="twice")),
    Mistake("mlp_not_divided",
            "your gradients are N times too large: the loss is the MEAN over the N samples, so "
            "dS = (P - Y) / N",
            lambda case: _mlp_variant(case, scale="none")),
    Mistake("mlp_sum_loss",
            "your loss is N times the expected one: you summed the cross-entropy over the "
            "samples; the loss is its mean (divide by N, and the gradients with it)",
            lambda case: _mlp_variant(case, scale="sum")),
    Mistake("mlp_naive_softmax",
            "exp(scores) overflowed: with scores around 1000, exp gives inf and inf / inf is "
            "NaN. Subtract each row's maximum from its scores before exponentiating (softmax is "
            "unchanged by a constant shift per row)",
            lambda case: _mlp_variant(case, softmax="naive")),
    Mistake("mlp_softmax_over_batch",
            "your softmax normalizes over the batch (axis 0): each sample's probabilities over "
            "the C classes must sum to 1, so sum over axis 1",
            lambda case: _mlp_variant(case, softmax="batch_axis")),
    Mistake("mlp_missing_minus_one",
            "your score gradient is P / N: the gradient of -log softmax(s)_y is P - Y, so "
            "subtract 1 at each sample's true class",
            lambda case: _mlp_variant(case, minus_one=False)),
    Mistake("mlp_bias_keepdims",
            "your bias gradients keep the summed axis, shape (1, H) instead of (H,): sum over "
            "axis 0 without keepdims=True (a gradient has its parameter's shape)",
            lambda case: _mlp_variant(case, keepdims=True)),
    Mistake("mlp_bias_wrong_axis",
            "your bias gradients are summed over the wrong axis: b is added to every sample's "
            "row, so its gradient sums the upstream gradient over the samples, axis 0, giving "
            "shape (H,) for b1 and (C,) for b2",
            lambda case: _mlp_variant(case, bias_axis=1)),
)


def _component(value: object, path: str) -> tuple[bool, object]:
    """(found, part) of an MLP result at the top of a mismatch path: [0] or [1]['W1']."""
    if path.startswith("[0]"):
        keys: tuple = (0,)
    else:
        keys = next(((1, k) for k in _GRAD_KEYS if path.startswith(f"[1][{k!r}]")), ())
    if not keys:
        return False, None
    try:
        for key in keys:
            value = value[key]
    except Exception:  # noqa: BLE001 - not a (loss, dict) result
        return False, None
    return True, value


def _mlp_diagnosis(got: object, want: object, case: Case, path: str) -> str | None:
    """The known mistake whose variant explains the first mismatching part, else a generic one.

    A mistake explains the part when the student's part matches the variant's and the variant's
    part differs from the expected one: a student may make one mistake in one gradient only.
    """
    found, part = _component(got, path)
    _, want_part = _component(want, path)
    if found:
        for mistake in MLP_MISTAKES:
            try:
                _, wrong = _component(mistake.variant(case), path)
            except Exception:  # noqa: BLE001 - a variant that does not apply (or is not frozen)
                continue
            if (compare(part, wrong, rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL,
                        check_dtype=False) is None
                    and compare(want_part, wrong, rtol=_MISTAKE_RTOL, atol=_MISTAKE_ATOL,
                                check_dtype=False) is not None):
                return mistake.explain
        return diagnose.generic(part, want_part, rtol=MLP_RTOL, atol=MLP_ATOL)
    return None


def _mlp_judge(trial: Trial) -> Verdict:
    got, want = trial.got(), trial.want()
    mismatch = compare(got, want, rtol=MLP_RTOL, atol=MLP_ATOL)
    if mismatch is None:
        return Verdict(True)
    what = {"[0]": "the loss differs", "[1]": "the gradients differ"}.get(mismatch.path[:3],
                                                                         "the result differs")
    message = f"two_layer_mlp_loss for {trial.case.note}: {what}: {mismatch}"
    if mismatch.kind in ("type", "length", "keys"):
        message += " (return (loss, {'W1': dW1, 'b1': db1, 'W2': dW2, 'b2': db2}))"
    return Verdict(False, message, _mlp_diagnosis(got, want, trial.case, mismatch.path))


def _mlp_timing(rng: np.random.Generator) -> Call:
    # Many samples, small layers: a loop over samples costs N Python iterations, the batch
    # version a few small matrix products.
    return Call("two_layer_mlp_loss", _mlp_params(rng, 4000, 10, 16, 5), send=False)


TWO_LAYER_MLP = Exercise(
    id="nn.two_layer_mlp_loss",
    title="Two-layer network: loss and backprop",
    functions=("two_layer_mlp_loss",),
    summary="mean softmax cross-entropy of relu(X W1 + b1) W2 + b2 and its gradients by hand",
    forbidden=("torch.autograd.grad", "torch.autograd.backward"),
    checks=(
        Check("small", _mlp_case(6, 4, 5, 3), _mlp_judge, points=1,
              about="6 samples, D=4, H=5, C=3"),
        Check("batch", _mlp_case(32, 12, 9, 5), _mlp_judge, points=1,
              about="32 samples, D=12, H=9, C=5"),
        Check("bias_moves_mask", _mlp_bias_flips_mask, _mlp_judge, points=1, hidden=True,
              about="b1 as large as X W1: the ReLU mask must include the bias"),
        Check("large_logits", _mlp_large_logits, _mlp_judge, points=1, hidden=True,
              about="scores around 1000: a numerically stable softmax"),
        Check("dead_units", _mlp_dead_units, _mlp_judge, points=0.5, hidden=True,
              about="hidden units that never fire get zero gradients"),
        Check("one_sample", _mlp_case(1, 3, 4, 2, note="N=1 sample, D=3, H=4, C=2"), _mlp_judge,
              points=0.5, hidden=True, about="a batch of one sample"),
    ),
    timing=Timing(_mlp_timing, slow_ratio=10.0,
                  advice="use matrix products for the whole batch (X @ W1, h.T @ dS, ...) "
                         "instead of a Python loop over samples"),
)


# ----------------------------------------------------------------------------- nn.dropout

# A kept value is x * (1 / (1 - p)) up to an ulp or two however it is computed
# (x * mask / (1 - p), x * (mask / (1 - p)), x / (1 - p) * mask); the wrong scales (1, 1/p,
# 1 - p) are off by 25% or more for the p used here.
DROPOUT_RTOL = 1e-12
# Matching a wrong scale or a wrong backward: the student's rounding may differ from ours.
_MATCH_RTOL = 1e-9

DROPOUT_MISTAKES: dict[str, str] = {
    "keep_probability": "your dropout keeps each unit with probability p, but p is the "
        "probability of dropping it: keep a unit where rng.random(x.shape) >= p (probability 1 - "
        "p) and divide the kept units by 1 - p",
    "keep_mask": "your mask keeps each unit with probability p, but p is the probability of "
        "dropping it: keep where rng.random(x.shape) >= p, not where it is < p",
    "no_rescale": "you forgot to divide the kept units by 1 - p: inverted dropout scales them "
        "during training so that E[out] = x, which is why test mode needs no scaling",
    "scale_one_over_p": "you divided the kept units by p instead of by 1 - p: p is the DROP "
        "probability, so each unit is kept with probability 1 - p and E[out] = x needs out = x * "
        "mask / (1 - p)",
    "scale_keep": "you multiplied the kept units by 1 - p instead of dividing by it: inverted "
        "dropout divides, out = x * mask / (1 - p), so that E[out] = x",
    "no_drop": "your train mode drops nothing: draw a mask (rng.random(x.shape) >= p keeps a "
        "unit) and zero the dropped units",
    "shared_rows": "one mask is shared by every row (sample) of the batch: draw one value per "
        "element, rng.random(x.shape), not one row of them (rng.random(x.shape[1:])) broadcast "
        "over the batch",
    "shared_columns": "whole rows are dropped or kept together: draw one value per element, "
        "rng.random(x.shape), not one per row",
    "value_dependent": "which units you drop depends on their values (mean(out) / mean(x) is off "
        "while the share of zeros is right): the mask must be drawn independently of x",
    "backward_no_mask": "your backward ignores the mask: out = x * mask / (1 - p), so dx = dout * "
        "mask / (1 - p) with the mask your forward drew (keep it in the cache)",
    "backward_no_scale": "your backward applies the mask but not the scale: out = x * mask / (1 - "
        "p), so dx = dout * mask / (1 - p)",
    "backward_identity": "your backward returns dout unchanged: in train mode dx = dout * mask / "
        "(1 - p)",
    "backward_one_over_p": "your backward divides by p instead of by 1 - p: dx = dout * mask / (1 "
        "- p)",
    "backward_new_mask": "your backward zeroes other units than your forward dropped: it must "
        "reuse the mask forward drew (store it in the cache), not draw a new one",
    "test_scales": "in test mode you multiplied by 1 - p: that is the old, non-inverted dropout. "
        "Inverted dropout already divided the kept units by 1 - p during training, so test mode "
        "returns x unchanged",
    "test_divides": "in test mode you divided by 1 - p: that scaling belongs to train mode only; "
        "test mode returns x unchanged",
    "test_drops": "test mode still drops units: at test time dropout is the identity, out = x "
        "(check dropout_param['mode'])",
    "p_one_nan": "with p = 1 every unit is dropped and 1 / (1 - p) = 1 / 0: 0 * inf and 0 / 0 are "
        "NaN. Return zeros when p == 1, without dividing",
    "p_zero_keep": "with p = 0 nothing may be dropped, and you dropped units: p is the "
        "probability of dropping, not of keeping",
    "p_one_keep": "with p = 1 every unit must be dropped, and you kept some: p is the probability "
        "of dropping, not of keeping",
}


def _dropout_x(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    # |x| in [0.5, 2], so out == 0 exactly where a unit was dropped; 80% positive, so mean(x)
    # is far from 0 (the mean test reads mean(out) / mean(x)).
    magnitude = rng.uniform(0.5, 2.0, shape)
    return np.where(rng.random(shape) < 0.8, magnitude, -magnitude)


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _forward_case(p: float, shape: tuple, *, seeded: bool = True):
    def build(rng: np.random.Generator) -> Case:
        x = _dropout_x(rng, shape)
        param = {"p": p, "mode": "train"}
        if seeded:
            param["seed"] = _seed(rng)
        return Case((Call("dropout_forward", (x, param), pick=(0,)),),
                    f"x of shape {shape}, p={p}, mode='train'"
                    + ("" if seeded else ", no seed"))
    return build


def _with_backward(p: float, shape: tuple, mode: str = "train"):
    """Forward, then backward on the student's own cache (it never leaves the worker)."""
    def build(rng: np.random.Generator) -> Case:
        x = _dropout_x(rng, shape)
        param = {"p": p, "mode": mode, "seed": _seed(rng)}
        dout = rng.standard_normal(shape)
        return Case((Call("dropout_forward", (x, param), pick=(0,)),
                     Call("dropout_backward", (dout, Out(0, (1,))))),
                    f"x of shape {shape}, p={p}, mode={mode!r}")
    return build


def _seeded_case(rng: np.random.Generator) -> Case:
    x = _dropout_x(rng, (40, 50))
    seed = _seed(rng)
    calls = tuple(Call("dropout_forward", (x, {"p": 0.3, "mode": "train", "seed": s}),
                       pick=(0,)) for s in (seed, seed, seed + 1))
    return Case(calls, f"x of shape (40, 50), p=0.3, seeds {seed}, {seed} and {seed + 1}")


def _structure(trial: Trial, call: int) -> str | None:
    """Shape, dtype and NaN/Inf of a call's result against the reference's, as a message."""
    got = trial.got(call)
    found = compare(got, trial.want(call), rtol=0.0, atol=math.inf)
    if found is None:
        return None
    hint = (" (dropout_forward returns the tuple (out, cache))"
            if trial.func(call) == "dropout_forward" and found.kind in ("shape", "type") else "")
    return f"{trial.func(call)} for {trial.case.note}: {found}{hint}"


def _wrong_scales(p: float) -> dict[str, float]:
    wrong = {"no_rescale": 1.0, "scale_keep": 1.0 - p}
    return {**wrong, "scale_one_over_p": 1.0 / p} if p > 0 else wrong


def _kept_values(x: np.ndarray, p: float, out: np.ndarray) -> tuple[str | None, str | None]:
    """(message, name of the common wrong scale) when kept values are not x / (1 - p)."""
    kept = out != 0
    if not kept.any():
        return None, None
    ratio = out[kept] / x[kept]
    want = 1.0 / (1.0 - p)
    error = np.abs(ratio - want)
    if float(error.max()) <= DROPOUT_RTOL * want:
        return None, None
    worst = np.unravel_index(int(np.argmax(np.where(kept, np.abs(out / x - want), -1.0))),
                             x.shape)
    where = "[" + ", ".join(str(int(i)) for i in worst) + "]"
    message = (f"a kept unit must be x / (1 - p) = x * {fmt(want)}, but at {where} x = "
               f"{fmt(x[worst])} and out = {fmt(out[worst])} (x * {fmt(out[worst] / x[worst])})")
    middle = float(np.median(ratio))
    if np.allclose(ratio, middle, rtol=_MATCH_RTOL, atol=0.0):
        message += f"; every kept unit is x * {fmt(middle)}"
        for name, scale in _wrong_scales(p).items():
            if abs(middle - scale) <= _MATCH_RTOL * scale:
                return message, name
    return message, None


@dataclass
class DropoutEvidence:
    """What the statistics of one train-mode forward output say.

    ``tests`` holds the statistical tests by name (their false-failure rates add up, see
    :mod:`grader.stats`); ``failures`` the feedback lines of everything that failed, kept
    values included; ``diagnosis`` the matching known mistakes.
    """

    tests: dict[str, stats.StatResult]
    failures: list[str]
    diagnosis: str | None


def dropout_evidence(x: np.ndarray, p: float, out: np.ndarray) -> DropoutEvidence:
    """Judge one train-mode output of inverted dropout with drop probability 0 < p < 1.

    The four statistical tests of :func:`grader.stats.inverted_mask_tests` (share of zeros,
    mean, independence of rows and of columns) and one exact test: every kept unit is
    x / (1 - p). x must be away from 0 so that out == 0 exactly where a unit was dropped.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.asarray(out, dtype=np.float64)
    dropped = out == 0
    tests = stats.inverted_mask_tests(x, out, 1.0 - p)
    kept_message, scale = _kept_values(x, p, out)
    failures = [kept_message] if kept_message else []
    failed = [t for t in tests.values() if not t.passed]
    failures += [t.describe(stats.RATE_NOTE if t is failed[-1] else "") for t in failed]
    return DropoutEvidence(tests, failures, _forward_diagnosis(tests, scale, p, dropped))


def _forward_diagnosis(tests: dict[str, stats.StatResult], scale: str | None, p: float,
                       dropped: np.ndarray) -> str | None:
    parts = []
    fraction = tests["drop_fraction"]
    swapped = not fraction.passed and stats.consistent_rates(
        int(dropped.sum()), int(dropped.size), {"1 - p": 1.0 - p}) == ["1 - p"]
    if not dropped.any():
        parts.append(DROPOUT_MISTAKES["no_drop"])
    elif swapped and scale == "scale_one_over_p":
        parts.append(DROPOUT_MISTAKES["keep_probability"])
    elif swapped:
        parts.append(DROPOUT_MISTAKES["keep_mask"])
    if scale is not None and not (swapped and scale == "scale_one_over_p"):
        parts.append(DROPOUT_MISTAKES[scale])
    for name, key in (("row_pairs", "shared_rows"), ("column_pairs", "shared_columns")):
        if name in tests and not tests[name].passed and tests[name].observed == 1.0:
            parts.append(DROPOUT_MISTAKES[key])
    if not parts and not tests["mean"].passed and all(
            t.passed for k, t in tests.items() if k != "mean"):
        parts.append(DROPOUT_MISTAKES["value_dependent"])
    return " Also, ".join(parts) or None


def _forward_judge(trial: Trial) -> Verdict:
    broken = _structure(trial, 0)
    if broken:
        return Verdict(False, broken, _nan_diagnosis(trial, 0))
    x, param = trial.case.calls[0].args
    evidence = dropout_evidence(x, float(param["p"]), trial.got(0))
    if not evidence.failures:
        return Verdict(True)
    return Verdict(False, f"dropout_forward for {trial.case.note}: "
                          + "; ".join(evidence.failures), evidence.diagnosis)


def _kept_only_judge(trial: Trial) -> Verdict:
    """Without a seed the mask is anyone's: only the kept values are judged (exactly)."""
    broken = _structure(trial, 0)
    if broken:
        return Verdict(False, broken, _nan_diagnosis(trial, 0))
    x, param = trial.case.calls[0].args
    out = np.asarray(trial.got(0))
    if 0 < float(param["p"]) < 1 and out.size > 100 and not np.any(out != 0):
        return Verdict(False, f"dropout_forward for {trial.case.note}: every unit was dropped; "
                              f"with p = {param['p']} about {1 - float(param['p']):.0%} are kept")
    message, scale = _kept_values(x, float(param["p"]), out)
    if message is None:
        return Verdict(True)
    return Verdict(False, f"dropout_forward for {trial.case.note}: {message}",
                   DROPOUT_MISTAKES.get(scale or ""))


def _nan_diagnosis(trial: Trial, call: int) -> str | None:
    got = trial.got(call)
    if isinstance(got, np.ndarray) and got.dtype.kind == "f" and np.isnan(got).any():
        p = float(trial.case.calls[0].args[1]["p"])
        if p == 1.0:
            return DROPOUT_MISTAKES["p_one_nan"]
        if p == 0.0:
            return DROPOUT_MISTAKES["p_zero_keep"]
    if isinstance(got, np.ndarray) and got.dtype.kind == "f" and np.isinf(got).any():
        if float(trial.case.calls[0].args[1]["p"]) == 0.0:
            return f"{DROPOUT_MISTAKES['scale_one_over_p']} (here p = 0: x / 0 is inf)"
    return diagnose.generic(got, trial.want(call))


def _backward_diagnosis(dx: np.ndarray, dout: np.ndarray, kept: np.ndarray, p: float
                        ) -> str | None:
    keep = 1.0 - p
    candidates = {"backward_no_scale": dout * kept, "backward_identity": dout}
    if keep > 0:
        candidates["backward_no_mask"] = dout / keep
    if p > 0:
        candidates["backward_one_over_p"] = dout * kept / p
    for name, wrong in candidates.items():
        if compare(dx, wrong, rtol=_MATCH_RTOL, atol=0.0, check_dtype=False) is None:
            return DROPOUT_MISTAKES[name]
    if keep > 0 and dx.shape == kept.shape and np.any((dx != 0) != (kept & (dout != 0))):
        nonzero = dx != 0
        if np.allclose(dx[nonzero], dout[nonzero] / keep, rtol=_MATCH_RTOL, atol=0.0):
            return DROPOUT_MISTAKES["backward_new_mask"]
    return diagnose.generic(dx, np.where(kept, dout / keep, 0.0) if keep > 0 else 0 * dout)


def _backward_judge(trial: Trial) -> Verdict:
    """dx = dout * mask / (1 - p), with the mask read off the student's own forward output."""
    broken = _structure(trial, 0)
    if broken:
        return Verdict(False, f"{broken}; dropout_backward is judged with the mask of your "
                              "forward's out, so fix dropout_forward first",
                       _nan_diagnosis(trial, 0))
    x, param = trial.case.calls[0].args
    p, mode = float(param["p"]), param["mode"]
    dout = np.asarray(trial.case.calls[1].args[0])
    kept = np.asarray(trial.got(0)) != 0
    if mode == "train" and 0 < p < 1 and (kept.all() or not kept.any()):
        # The mask is read off the forward's out: one that keeps or drops everything would
        # make zeros (or dout) self-consistent, so it cannot stand as the mask.
        what = "no unit" if kept.all() else "every unit"
        return Verdict(False, f"dropout_forward for {trial.case.note}: dropped {what}; "
                              "dropout_backward is judged with the mask of your forward's out, "
                              "so fix dropout_forward first",
                       DROPOUT_MISTAKES["no_drop"] if kept.all() else None)
    if mode == "test":
        want, rule = dout, "dx = dout in test mode"
    elif p < 1:
        want, rule = np.where(kept, dout / (1.0 - p), 0.0), "dx = dout * mask / (1 - p)"
    else:
        want, rule = np.zeros_like(dout), "dx = 0 when p = 1"
    broken = _structure(trial, 1)
    if broken:
        return Verdict(False, broken, _nan_diagnosis(trial, 1))
    dx = trial.got(1)
    found = compare(dx, want, rtol=DROPOUT_RTOL, atol=0.0)
    if found is None:
        return Verdict(True)
    message = (f"dropout_backward for {trial.case.note}: {found} ({rule}, with the mask of "
               "your forward's out)")
    dx = np.asarray(dx, dtype=np.float64)
    diagnosis = (_test_mode_diagnosis(dx, dout, p) if mode == "test"
                 else _backward_diagnosis(dx, dout, kept, p))
    return Verdict(False, message, diagnosis)


def _exact_forward_judge(trial: Trial) -> Verdict:
    """Forward outputs with one right answer: x in test mode or for p = 0, zeros for p = 1."""
    x, param = trial.case.calls[0].args
    p, mode = float(param["p"]), param["mode"]
    got = trial.got(0)
    want = np.zeros_like(x) if mode == "train" and p == 1 else x
    broken = _structure(trial, 0)
    found = compare(got, want, rtol=DROPOUT_RTOL, atol=0.0) if broken is None else None
    if broken is None and found is None:
        return Verdict(True)
    rule = ("out = x in test mode" if mode == "test" else
            "out = x when p = 0 (nothing dropped)" if p == 0 else "out = 0 when p = 1")
    message = broken or f"dropout_forward for {trial.case.note}: {found} ({rule})"
    return Verdict(False, message, _exact_diagnosis(trial, np.asarray(got), x, p, mode))


def _exact_diagnosis(trial: Trial, got: np.ndarray, x: np.ndarray, p: float, mode: str
                     ) -> str | None:
    if got.shape != x.shape or got.dtype.kind not in "biuf":
        return None
    got = got.astype(np.float64)
    if not np.isfinite(got).all():
        return _nan_diagnosis(trial, 0)
    if mode == "test":
        return _test_mode_diagnosis(got, x, p)
    if p == 0 and np.any(got == 0):
        return DROPOUT_MISTAKES["p_zero_keep"]
    if p == 1 and np.any(got != 0):
        return DROPOUT_MISTAKES["p_one_keep"]
    return None


def _test_mode_diagnosis(got: np.ndarray, want: np.ndarray, p: float) -> str | None:
    """Test mode returned ``got`` where ``want`` (x forward, dout backward) was expected."""
    for name, scale in (("test_scales", 1.0 - p), ("test_divides", 1.0 / (1.0 - p))):
        if got.shape == want.shape and np.allclose(got, want * scale, rtol=_MATCH_RTOL, atol=0):
            return DROPOUT_MISTAKES[name]
    return DROPOUT_MISTAKES["test_drops"] if np.any(got == 0) else None


def _exact_judge(trial: Trial) -> Verdict:
    forward = _exact_forward_judge(trial)
    return forward if not forward.passed else _backward_judge(trial)


def _seeded_judge(trial: Trial) -> Verdict:
    """The same seed gives the same output; another seed gives another one."""
    broken = _structure(trial, 0)
    if broken:
        return Verdict(False, broken, _nan_diagnosis(trial, 0))
    first, again, other = trial.got(0), trial.got(1), trial.got(2)
    seeds = [c.args[1]["seed"] for c in trial.case.calls]
    found = compare(again, first, rtol=0.0, atol=0.0)
    if found is not None:
        return Verdict(False, f"dropout_forward for {trial.case.note}: two calls with seed="
                              f"{seeds[0]} gave different outputs: {found}",
                       "seed your generator with dropout_param['seed'] inside dropout_forward "
                       "(rng = np.random.default_rng(dropout_param['seed'])) and draw the mask "
                       "from it")
    if isinstance(other, np.ndarray) and np.array_equal(other, first):
        return Verdict(False, f"dropout_forward for {trial.case.note}: seeds {seeds[0]} and "
                              f"{seeds[2]} gave the same output",
                       "your mask does not depend on dropout_param['seed'] (a fixed seed?): "
                       "seed the generator with it")
    return Verdict(True)


def _dropout_timing(rng: np.random.Generator) -> Call:
    return Call("dropout_forward", (_dropout_x(rng, (400, 500)),
                                    {"p": 0.3, "mode": "train", "seed": 0}), send=False)


DROPOUT = Exercise(
    id="nn.dropout",
    title="Inverted dropout: forward and backward",
    functions=("dropout_forward", "dropout_backward"),
    summary="out = x * mask / (1 - p) with p the DROP probability; backward reuses the mask",
    checks=(
        Check("forward_train", _forward_case(0.2, (200, 100)), _forward_judge, points=1,
              about="p = 0.2: share of zeros, kept values x / (1 - p), mean, independence"),
        Check("backward_train", _with_backward(0.2, (60, 50)), _backward_judge, points=1,
              about="p = 0.2: dx = dout * mask / (1 - p) with forward's mask"),
        Check("test_mode", _with_backward(0.3, (30, 20), "test"), _exact_judge, points=1,
              about="test mode is the identity, forward and backward"),
        Check("seeded", _seeded_case, _seeded_judge, points=0.5,
              about="the same seed gives the same mask, another seed another one"),
        Check("forward_train_p08", _forward_case(0.8, (200, 100)), _forward_judge, points=1,
              hidden=True, about="p = 0.8: p is the drop probability, not the keep one"),
        Check("backward_train_p08", _with_backward(0.8, (60, 50)), _backward_judge, points=0.5,
              hidden=True, about="p = 0.8: backward reuses forward's mask and scale"),
        Check("forward_3d", _forward_case(0.35, (8, 30, 40)), _forward_judge, points=0.5,
              hidden=True, about="a 3-D input: every element gets its own draw"),
        Check("p_zero", _with_backward(0.0, (30, 20)), _exact_judge, points=0.5, hidden=True,
              about="p = 0 drops nothing"),
        Check("p_one", _with_backward(1.0, (30, 20)), _exact_judge, points=0.5, hidden=True,
              about="p = 1 drops everything: zeros, no NaN"),
        Check("no_seed", _forward_case(0.35, (50, 40), seeded=False), _kept_only_judge,
              points=0.5, hidden=True, about="without a 'seed' key dropout still works"),
    ),
    timing=Timing(_dropout_timing, slow_ratio=10.0,
                  advice="draw the whole mask at once (rng.random(x.shape) >= p) instead of "
                         "looping over elements"),
)

EXERCISES = (TWO_LAYER_MLP, DROPOUT)
