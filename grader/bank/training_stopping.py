"""Checks of exercises/optim.py beyond Adam, third part: early stopping (id
``optim.early_stopping``: the same topic as :mod:`grader.bank.optim`; minibatches and the update
rules come before, in :mod:`grader.bank.training` and :mod:`grader.bank.training_rules`).

- ``EarlyStopping`` is a class; checks call the given ``early_stopping_run(losses, patience,
  min_delta)`` (the epoch at which it stops, or -1) on loss curves whose values are multiples
  of 1/64, so every way of writing ``loss < best - min_delta`` rounds alike and ties are exact.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from grader.bank.training import _raised
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import describe
from grader.judges import Mistake, Trial, all_of, raises


# ============================================================================ early stopping
# Losses are multiples of 1/64 below 8 and min_delta a multiple of 1/64: best - min_delta,
# loss + min_delta and best - loss are then exact in float64, so every way of writing the
# comparison gives the same verdict, and a drop of exactly min_delta is an exact tie.

def _es_call(losses: list, patience: int, min_delta: float = 0.0) -> Call:
    return Call("early_stopping_run", (list(losses), patience, min_delta))


def _sixty_fourths(*values: int) -> list[float]:
    return [v / 64 for v in values]


# (losses in 64ths, patience, min_delta in 64ths): chosen so that every known mistake stops at
# another epoch than the rule on at least one of them (tests/test_bank_training.py pins it).
_FIXED = (
    ((64, 48, 32, 40, 36, 32, 16), 3, 0),    # a tie with the best is no improvement: stop at 5
    ((64, 56, 48, 40, 32, 24, 16, 8), 2, 0),  # always improving: never stops
    ((48, 56, 40, 44, 40, 32, 36, 36, 36), 2, 0),  # recovers once, then 2 bad epochs: 4
    ((64, 60, 62, 61, 63, 59, 58, 57), 3, 0),  # up and down, beats the previous, not the best
)
_DELTA = (
    ((64, 66, 56, 60, 64, 68), 3, 8),    # a drop of exactly min_delta is no improvement: stop 3
    ((64, 56, 60, 52, 58, 62), 3, 8),    # 12/64 below the best is: never stops
    ((64, 60, 50, 40, 44, 42), 2, 8),    # best 40 stays although 42 < 44: stop at 5
)
_PATIENCE_ZERO = (
    ((64, 32, 48, 16), 0, 0),
    ((64, 32, 16, 8), 0, 0),
    ((64, 64), 0, 0),
    ((40,), 0, 0),
)
_NAN = float("nan")


def _fixed(table: tuple, note: str) -> Callable[[np.random.Generator], Case]:
    def build(rng: np.random.Generator) -> Case:
        return Case(tuple(_es_call(_sixty_fourths(*losses), patience, delta / 64)
                          for losses, patience, delta in table), note)
    return build


def _es_nan(rng: np.random.Generator) -> Case:
    q = 1 / 64
    return Case((_es_call([64 * q, _NAN, 32 * q, _NAN, _NAN, _NAN, 40 * q, 48 * q], 3),
                 _es_call([_NAN, 48 * q, 40 * q, _NAN, 44 * q, 36 * q], 2),
                 _es_call([64 * q, 32 * q, _NAN, 16 * q, _NAN, _NAN, 8 * q], 2, 4 * q),
                 _es_call([_NAN, 64 * q, 48 * q, 56 * q, 56 * q, 56 * q], 2)),
                "loss curves with NaN epochs")


def _es_random(rng: np.random.Generator) -> Case:
    """Noisy decreasing curves: steps of -6..+4 sixty-fourths from 384/64, kept above 0."""
    calls = []
    for _ in range(4):
        steps = rng.integers(-6, 5, 30)
        losses = np.maximum(384 + np.cumsum(steps), 1) / 64
        calls.append(_es_call(losses.tolist(), int(rng.integers(1, 5)),
                              int(rng.integers(0, 4)) / 64))
    return Case(tuple(calls), "4 random loss curves of 30 epochs")


def _es_invalid(rng: np.random.Generator) -> Case:
    return Case((_es_call([1.0, 0.5], -1), _es_call([1.0, 0.5], 2, -0.125)),
                "patience -1, and min_delta -0.125")


def _trace(losses: list, patience: int, min_delta: float, flaw: str = "") -> int:
    """The stopping epoch under the rule, or under one known flaw of it."""
    best, count, last = math.inf, 0, math.inf
    for epoch, loss in enumerate(losses):
        target = last if flaw == "previous_epoch" else best
        margin = 0.0 if flaw == "ignores_min_delta" else min_delta
        if flaw == "nan_improves":
            better = not loss >= target - margin
        elif flaw == "non_strict":
            better = loss <= target - margin
        else:
            better = loss < target - margin
        last = loss
        if flaw == "creeping_best" and not better:
            best = min(best, loss)
        if better:
            best, count = loss, (count if flaw == "no_reset" else 0)
            if not (flaw == "stops_on_improvement" and count >= patience):
                continue
            return epoch
        count += 1
        if count > patience if flaw == "reduce_lr_count" else count >= patience:
            return epoch
    return -1


def _stop(flaw: str) -> Callable[[Case], list]:
    def variant(case: Case) -> list:
        if any(call.func != "early_stopping_run" for call in case.calls):
            raise LookupError("not a case of early stopping")
        return [_trace(*call.args, flaw=flaw) for call in case.calls]
    return variant


STOP_MISTAKES = (
    Mistake("reduce_lr_count",
            "you stop when the count of non-improving epochs EXCEEDS patience (count > "
            "patience, torch's ReduceLROnPlateau convention), one epoch late: here training "
            "stops at the patience-th non-improving epoch in a row (count >= patience)",
            _stop("reduce_lr_count")),
    Mistake("stops_on_improvement",
            "you test count >= patience after an improving epoch too, so with patience = 0 "
            "training stops at once, on an epoch that improved: an improving epoch resets the "
            "count and never stops training", _stop("stops_on_improvement")),
    Mistake("no_reset",
            "your count of non-improving epochs is not reset to 0 when the loss improves: it "
            "counts all bad epochs so far, not the ones in a row since the best",
            _stop("no_reset")),
    Mistake("previous_epoch",
            "you compare each loss with the previous epoch's loss instead of the best loss so "
            "far: a curve that goes up and partly down again 'improves' without ever beating "
            "its best", _stop("previous_epoch")),
    Mistake("creeping_best",
            "you lower best to a loss that did not improve by more than min_delta: then a "
            "curve falling by steps smaller than min_delta never improves, although it falls "
            "by more than min_delta in a few epochs; best changes only on an improvement",
            _stop("creeping_best")),
    Mistake("non_strict",
            "a drop of exactly min_delta counts as an improvement in your code (loss <= best "
            "- min_delta): an improvement is loss < best - min_delta, strictly",
            _stop("non_strict")),
    Mistake("ignores_min_delta",
            "your code ignores min_delta: any drop below the best counts as an improvement, "
            "however small; only a loss < best - min_delta does", _stop("ignores_min_delta")),
    Mistake("nan_improves",
            "a NaN loss counts as an improvement in your code (every comparison with NaN is "
            "False, so 'not loss >= best - min_delta' is True for NaN), and then best is NaN "
            "and nothing compares as worse: write the test as loss < best - min_delta",
            _stop("nan_improves")),
)


def _num(x: float) -> str:
    return f"{x:.10g}"  # sixty-fourths in full: 5.890625, not 5.89062


def _curve(losses: list) -> str:
    shown = ", ".join(_num(x) for x in losses[:12])
    return f"[{shown}{', ...' if len(losses) > 12 else ''}] ({len(losses)} epochs)"


def _story(losses: list, patience: int, min_delta: float, stop: int) -> str:
    """Why the rule stops at ``stop`` (or never), in words; epochs count from 0."""
    if stop < 0:
        by = " by more than min_delta" if min_delta else ""
        if patience <= 1:
            return f"every epoch improves on the best loss{by}, so it never stops (-1)"
        return (f"no {patience} epochs in a row fail to improve on the best loss{by}, so it "
                "never stops (-1)")
    best, since = math.inf, -1
    for epoch, loss in enumerate(losses[:stop]):
        if loss < best - min_delta:
            best, since = loss, epoch
    epochs = f"epoch {stop} does" if since + 1 == stop else (
        f"epochs {since + 1} to {stop} ({stop - since} in a row) do")
    if since < 0:
        return (f"{epochs} not improve (NaN never does, and best is still +inf): the count "
                f"of non-improving epochs reaches {stop + 1} >= patience = {patience} at "
                f"epoch {stop}")
    need = f" - min_delta = {_num(best - min_delta)}" if min_delta else ""
    return (f"{epochs} not go below the best loss {_num(best)} (epoch {since}){need}: the "
            f"count of non-improving epochs reaches {stop - since} >= patience = {patience} "
            f"at epoch {stop}")


def _stops_like(mistake: Mistake, case: Case, got: list) -> bool:
    try:
        return mistake.variant(case) == got
    except Exception:  # noqa: BLE001 - a variant that does not apply to these inputs
        return False


def _judge_stops(trial: Trial) -> Verdict:
    """Judge: the stopping epoch of every curve, exactly."""
    calls, got = trial.case.calls, []
    for i in range(len(calls)):
        failed = _raised(trial, i)
        if failed:
            return failed
        got.append(trial.got(i))
    for i, call in enumerate(calls):
        value, want = got[i], trial.want(i)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value == want:
            continue
        losses, patience, min_delta = call.args
        # Named only when exactly one known mistake stops at all of these epochs: on a few
        # curves two flaws can agree, and a wrong name would mislead more than none.
        named = [m.explain for m in STOP_MISTAKES if _stops_like(m, trial.case, got)]
        diagnosis = named[0] if len(named) == 1 else None
        if diagnosis is None and all(g == -1 for g in got):
            diagnosis = ("your runs never stop: step() must RETURN True at the patience-th "
                         "non-improving epoch in a row (return count >= patience)")
        return Verdict(False, f"early_stopping_run({_curve(losses)}, patience={patience}, "
                              f"min_delta={_num(min_delta)}) returned {describe(value)}, "
                              f"expected {want}: {_story(losses, patience, min_delta, want)}",
                       diagnosis)
    return Verdict(True)


def _es_timing(rng: np.random.Generator) -> Call:
    losses = (1.0 + rng.uniform(0.0, 1e-3, 2000)) / np.arange(1, 2001)  # always improving
    return Call("early_stopping_run", (losses.tolist(), 5, 0.0), send=False)


EARLY_STOPPING = Exercise(
    id="optim.early_stopping",
    title="Early stopping",
    functions=("EarlyStopping",),
    summary="stop at the patience-th epoch in a row whose loss is not below best - min_delta; "
            "NaN never improves",
    checks=(
        Check("fixed_curves", _fixed(_FIXED, "4 loss curves, min_delta 0"), _judge_stops,
              points=2, about="stopping epochs of 4 curves, patience 2 and 3"),
        Check("min_delta", _fixed(_DELTA, "3 loss curves with min_delta 1/8"), _judge_stops,
              points=1, about="drops of min_delta or less do not count; best does not creep"),
        Check("patience_zero", _fixed(_PATIENCE_ZERO, "4 loss curves with patience 0"),
              _judge_stops, points=1, hidden=True,
              about="patience 0 stops at the first non-improving epoch, never on an improving "
                    "one"),
        Check("nan_losses", _es_nan, _judge_stops, points=1, hidden=True,
              about="a NaN loss is a non-improving epoch and never the best"),
        Check("random_curves", _es_random, _judge_stops, points=1, hidden=True,
              about="4 random noisy curves with random patience and min_delta"),
        Check("invalid_arguments", _es_invalid, all_of(
            raises("ValueError", call=0, why="patience must be >= 0"),
            raises("ValueError", call=1, why="min_delta must be >= 0")), points=1,
              hidden=True, about="negative patience or min_delta raise ValueError"),
    ),
    # O(1) per step with numpy scalars (np.less, float()) runs 12x to 13x the reference at
    # 2000 epochs, a rescan of the history at every step 200x to 650x (benchmarks/
    # timing_flags.py, several machines and loads): only the second is flagged.
    timing=Timing(_es_timing, slow_ratio=60.0,
                  advice="keep the best loss and the count of bad epochs: rescanning the "
                         "history of losses at every step makes a run quadratic in its length"),
)

EXERCISES = (EARLY_STOPPING,)
