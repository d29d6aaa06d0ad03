"""Checks of exercises/optim.py beyond Adam: minibatches, SGD with momentum, RMSprop and early
stopping (ids ``optim.*``: the same topic as :mod:`grader.bank.optim`).

- ``iterate_minibatches`` is a generator, which cannot travel back from the worker: checks call
  the given wrapper ``minibatches(X, y, batch_size, seed, epochs)`` that lists its batches, one
  epoch per call with one Generator for the run. Which permutation a correct function draws is
  its own business, so the judges check what is unique: every sample exactly once per epoch,
  the batch sizes, X and y rows kept together, the same batches for the same seed, a new
  order each epoch. Mistakes are recognised from those symptoms.
- ``sgd_momentum`` and ``rmsprop`` are judged like Adam: runs of updates chained with ``Out``,
  every update's next_w and the final state against the reference, known mistakes replayed as
  whole runs in the grader's process.
- ``EarlyStopping`` is a class; checks call the given ``early_stopping_run(losses, patience,
  min_delta)`` (the epoch at which it stops, or -1) on loss curves whose values are multiples
  of 1/64, so every way of writing ``loss < best - min_delta`` rounds alike and ties are exact.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from grader import diagnose
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import Mismatch, compare, describe
from grader.grading import describe_raise, run_reference
from grader.judges import Mistake, Trial, all_of, raises
from grader.sandbox.wire import Out

_OMIT = object()  # a config argument left out: sgd_momentum(w, dw)


def _raised(trial: Trial, index: int, hint: str | None = None) -> Verdict | None:
    """A failing verdict when call ``index`` raised or never ran, else None."""
    result, call = trial.actual[index], trial.case.calls[index]
    if result.missing:
        return Verdict(False, f"{call.func} was not called: the previous call's result could "
                              "not be passed on", hint)
    if result.raised is None:
        return None
    if result.raised["type"] == "AttributeError" and f"'{call.func}'" in result.raised["message"]:
        hint = (f"{call.func}() is given in the stub for the grader to call: copy it back "
                "from exercises/optim.py unchanged")
    return Verdict(False, describe_raise(call.func, result.raised), hint)


# ============================================================================ minibatches

def _samples(rng: np.random.Generator, n: int, x_tail: tuple = (3,), y_kind: str = "ids"):
    """X with n distinct rows (so a row names its sample) and y: unique integer ids (a pair
    split by a second shuffle always shows), or float targets of shape (n, 2)."""
    X = rng.standard_normal((n, *x_tail))
    if len({row.tobytes() for row in X}) != n:
        raise AssertionError("two equal rows of X: draw again")  # never, for continuous draws
    y = 100 + rng.permutation(n) if y_kind == "ids" else rng.standard_normal((n, 2))
    return X, y


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31))


def _mb_call(X, y, batch_size, seed, epochs=1) -> Call:
    return Call("minibatches", (X, y, batch_size, seed), {"epochs": epochs})


def _mb_one_epoch(rng: np.random.Generator) -> Case:
    X, y = _samples(rng, 23)
    return Case((_mb_call(X, y, 5, _seed(rng)),), "X of shape (23, 3), y of 23 labels, "
                                                  "batch_size 5, one epoch")


def _mb_epochs(rng: np.random.Generator) -> Case:
    X, y, seed = *_samples(rng, 20, (2,)), _seed(rng)
    return Case((_mb_call(X, y, 4, seed, 3), _mb_call(X, y, 4, seed, 3)),
                "X of shape (20, 2), batch_size 4, 3 epochs, run twice with the same seed")


def _mb_divisible(rng: np.random.Generator) -> Case:
    X, y = _samples(rng, 24)
    X1, y1 = _samples(rng, 9, (1,))
    return Case((_mb_call(X, y, 6, _seed(rng), 2), _mb_call(X1, y1, 1, _seed(rng))),
                "N = 24 with batch_size 6 (2 epochs), and N = 9 with batch_size 1")


def _mb_full_batch(rng: np.random.Generator) -> Case:
    X, y = _samples(rng, 12, (2,))
    return Case((_mb_call(X, y, 12, _seed(rng), 2), _mb_call(X, y, 40, _seed(rng), 2)),
                "N = 12 with batch_size 12 and 40 (full batch), 2 epochs each")


def _mb_images(rng: np.random.Generator) -> Case:
    X, y = _samples(rng, 14, (2, 3, 3), "targets")
    return Case((_mb_call(X, y, 4, _seed(rng), 2),),
                "images X of shape (14, 2, 3, 3), float targets y of shape (14, 2), "
                "batch_size 4, 2 epochs")


def _mb_invalid(rng: np.random.Generator) -> Case:
    X, y = _samples(rng, 10)
    return Case((_mb_call(X, y, 0, 1), _mb_call(X, y, -3, 1),
                 _mb_call(X, np.concatenate([y, [7, 8]]), 3, 1)),
                "batch_size 0, batch_size -3, and X of 10 samples with y of 12")


# The known mistakes of iterate_minibatches, recognised from their symptoms (no replay can
# say which permutation a student's code draws): name -> explanation.
BATCH_MISTAKES = {
    "not_rows_of_X": "batches must hold the rows of X themselves (X[indices]), unchanged",
    "no_batch": "no batch at all: with batch_size >= N there is one batch of all N samples "
                "(full-batch gradient descent)",
    "drops_last": "the last, partial batch of N mod batch_size = {r} samples is missing: "
                  "range(0, N - batch_size + 1, batch_size) or N // batch_size batches drop "
                  "it; keep it, smaller",
    "empty_batch": "an empty batch at the end: when batch_size divides N there are exactly "
                   "N / batch_size batches (ceil(N / batch_size) in general)",
    "with_replacement": "each sample must be in exactly one batch per epoch: sampling with "
                        "replacement (rng.integers, rng.choice(N, N)) repeats some and misses "
                        "others; shuffle a permutation of 0..N-1 instead",
    "y_not_shuffled": "you shuffled X but not y: index X and y with the same permutation, "
                      "X[idx] and y[idx]",
    "two_permutations": "X and y were shuffled by different permutations (two calls of "
                        "rng.permutation, or shuffling each array in place): draw one "
                        "permutation idx and use X[idx], y[idx]",
    "not_shuffled": "the samples are never shuffled: draw a permutation from rng at every call",
    "same_permutation": "every epoch repeats the same permutation: a generator created in "
                        "iterate_minibatches from a fixed seed (or a re-seeded one) does that; "
                        "draw from the rng passed in, which moves on between calls",
    "global_rng": "the same seed must give the same batches: draw the permutation from rng, "
                  "the Generator passed in, not from np.random.permutation or "
                  "np.random.shuffle (the global state) or a generator you create",
}


def _sizes_text(sizes: list[int]) -> str:
    if len(sizes) <= 8:
        return "[" + ", ".join(map(str, sizes)) + "]"
    return (f"{len(sizes)} batches: [{', '.join(map(str, sizes[:3]))}, ..., "
            f"{', '.join(map(str, sizes[-2:]))}]")


def _expected_sizes(n: int, batch_size: int) -> list[int]:
    return [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])


def _batch_shapes(k: int, pair: Any, X: np.ndarray, y: np.ndarray) -> str | None:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        return f"batch {k}: expected a pair (X_batch, y_batch), got {describe(pair)}"
    for name, got, full in (("X_batch", pair[0], X), ("y_batch", pair[1], y)):
        if not isinstance(got, np.ndarray):
            return f"batch {k}: {name} is {describe(got)}, expected an array"
        if got.ndim != full.ndim or got.shape[1:] != full.shape[1:]:
            want = "(b" + "".join(f", {d}" for d in full.shape[1:]) + (
                "," if full.ndim == 1 else "") + ")"
            return (f"batch {k}: {name} has shape {got.shape}, expected {want} (samples along "
                    "axis 0)")
        if got.dtype != full.dtype:
            return f"batch {k}: {name} has dtype {got.dtype}, expected {full.dtype} (the input's)"
    if len(pair[0]) != len(pair[1]):
        return f"batch {k}: X_batch holds {len(pair[0])} samples but y_batch {len(pair[1])}"
    return None


def _indices(indices: list[int]) -> str:
    shown = ", ".join(map(str, indices[:5]))
    return shown + (f" (and {len(indices) - 5} more)" if len(indices) > 5 else "")


def _epoch(batches: Any, X: np.ndarray, y: np.ndarray, batch_size: int
           ) -> tuple[str | None, str | None, list[int]]:
    """(problem, diagnosis, sample order) of one epoch's batches; problem None when right."""
    if not isinstance(batches, (list, tuple)):
        return f"expected a list of (X_batch, y_batch) pairs, got {describe(batches)}", None, []
    where = {row.tobytes(): i for i, row in enumerate(X)}
    order: list[int] = []
    for k, pair in enumerate(batches):
        problem = _batch_shapes(k, pair, X, y)
        if problem:
            return problem, None, order
        rows = [where.get(row.tobytes()) for row in pair[0]]
        if None in rows:
            return (f"batch {k}: row {rows.index(None)} of X_batch is not a row of X",
                    BATCH_MISTAKES["not_rows_of_X"], order)
        order += rows
    n, sizes = len(X), [len(pair[0]) for pair in batches]
    want = _expected_sizes(n, batch_size)
    if sizes != want:
        return (f"batch sizes {_sizes_text(sizes)}, expected {_sizes_text(want)} (N = {n}, "
                f"batch_size {batch_size})", _size_diagnosis(sizes, want, n, batch_size), order)
    counts = np.bincount(order, minlength=n)
    if (counts != 1).any():
        twice, never = np.flatnonzero(counts > 1).tolist(), np.flatnonzero(counts == 0).tolist()
        return (f"samples {_indices(twice)} appear more than once and samples "
                f"{_indices(never)} never (numbered by their row in X)",
                BATCH_MISTAKES["with_replacement"], order)
    got_y = [pair[1] for pair in batches]
    for k, (yb, start) in enumerate(zip(got_y, np.cumsum([0] + sizes[:-1]))):
        if not np.array_equal(yb, y[order[start:start + len(yb)]]):
            return (f"batch {k}: y_batch does not hold the targets of X_batch's samples",
                    _pairs_diagnosis(got_y, y), order)
    return None, None, order


def _size_diagnosis(sizes: list[int], want: list[int], n: int, batch_size: int) -> str | None:
    if not sizes:
        return BATCH_MISTAKES["no_batch"]
    if n % batch_size and sizes == want[:-1]:
        return BATCH_MISTAKES["drops_last"].format(r=n % batch_size)
    if sizes == want + [0]:
        return BATCH_MISTAKES["empty_batch"]
    return None


def _pairs_diagnosis(got_y: list[np.ndarray], y: np.ndarray) -> str:
    same = np.array_equal(np.concatenate(got_y), y)
    return BATCH_MISTAKES["y_not_shuffled" if same else "two_permutations"]


def _epochs_of(trial: Trial, index: int) -> tuple[Verdict | None, list[list[int]]]:
    """Every epoch of call ``index`` checked; (failing verdict or None, the epochs' orders)."""
    failed = _raised(trial, index)
    if failed:
        return failed, []
    call = trial.case.calls[index]
    X, y, batch_size = call.args[0], call.args[1], call.args[2]
    got, epochs = trial.got(index), call.kwargs["epochs"]
    head = f"minibatches for {trial.case.note}"
    if not isinstance(got, list) or len(got) != epochs:
        return Verdict(False, f"{head}: expected a list of {epochs} epochs, got "
                              f"{describe(got)}"), []
    orders = []
    for e, batches in enumerate(got):
        problem, diagnosis, order = _epoch(batches, X, y, batch_size)
        if problem:
            run = f", run {index + 1}" if len(trial.case.calls) > 1 else ""
            return Verdict(False, f"{head}{run}, epoch {e + 1}: {problem}", diagnosis), []
        orders.append(order)
    return None, orders


def _judge_epochs(trial: Trial) -> Verdict:
    """Judge: every epoch of every call is a valid split into minibatches."""
    for index in range(len(trial.case.calls)):
        failed, _ = _epochs_of(trial, index)
        if failed:
            return failed
    return Verdict(True)


def _judge_seeded_epochs(trial: Trial) -> Verdict:
    """Judge: valid epochs; the same seed gives the same batches; each epoch a new order.

    The one random verdict: a correct shuffle of 20 samples repeats the previous epoch's
    order with probability 1 / 20! = 4.1e-19, twice per check; that nothing else is random is
    measured by benchmarks/training_false_failures.py (0 failures in 10,000 seeds)."""
    first, orders = _epochs_of(trial, 0)
    if first:
        return first
    second, again = _epochs_of(trial, 1)
    if second:
        return second
    head = f"minibatches for {trial.case.note}"
    if orders != again:
        e = next(i for i, (a, b) in enumerate(zip(orders, again)) if a != b)
        return Verdict(False, f"{head}: epoch {e + 1} differs between the two runs with the "
                              "same seed", BATCH_MISTAKES["global_rng"])
    for e in range(1, len(orders)):
        if orders[e] == orders[e - 1]:
            natural = orders[e] == list(range(len(orders[e])))
            return Verdict(False, f"{head}: epochs {e} and {e + 1} have the same batches in "
                                  "the same order",
                           BATCH_MISTAKES["not_shuffled" if natural else "same_permutation"])
    return Verdict(True)


def _mb_timing(rng: np.random.Generator) -> Call:
    n = 50_000
    # Small rows and batches of 128: the cost is per sample and per batch, not in copying.
    return Call("minibatches", (rng.standard_normal((n, 2)), rng.integers(0, 10, n), 128,
                                _seed(rng)), send=False)


_INVALID = "raise it before yielding any batch, or when iteration starts"

ITERATE_MINIBATCHES = Exercise(
    id="optim.iterate_minibatches",
    title="Shuffled minibatches",
    functions=("iterate_minibatches",),
    summary="one permutation per epoch from the rng passed in, cut into batches; the last "
            "partial batch kept; X and y shuffled together",
    checks=(
        Check("one_epoch", _mb_one_epoch, _judge_epochs, points=2,
              about="every sample once, batch sizes 5, 5, 5, 5, 3, rows of X and y together"),
        Check("epochs_and_seed", _mb_epochs, _judge_seeded_epochs, points=2,
              about="a new order every epoch; the same batches for the same seed"),
        Check("divisible_and_single", _mb_divisible, _judge_epochs, points=1, hidden=True,
              about="batch_size dividing N (no empty batch) and batch_size 1"),
        Check("full_batch", _mb_full_batch, _judge_epochs, points=1, hidden=True,
              about="batch_size equal to and larger than N: one batch of all samples"),
        Check("image_inputs", _mb_images, _judge_epochs, points=1, hidden=True,
              about="4-D X and 2-D float y: batches along axis 0, dtypes kept"),
        Check("invalid_arguments", _mb_invalid, all_of(
            raises("ValueError", call=0, why=f"batch_size 0; {_INVALID}"),
            raises("ValueError", call=1, why=f"batch_size -3; {_INVALID}"),
            raises("ValueError", call=2, why="X holds 10 samples and y 12")), points=1,
              hidden=True, about="batch_size < 1 and mismatched X, y raise ValueError"),
    ),
    # Measured at this size (numpy 2.4, benchmarks/timing_flags.py): a loop copying one
    # sample at a time 19x to 29x the reference (rng.permutation, most of the reference's
    # time, then one np.take of the epoch and views), X[batch_idx] per batch 2.5x, np.take
    # per epoch 0.6x. (With an earlier numpy the loop measured 58x to 72x: the flag sits
    # between the loop and X[batch_idx], not near either.)
    timing=Timing(_mb_timing, slow_ratio=8.0,
                  advice="index with the permutation, X[idx] or np.take(X, idx, axis=0), and "
                         "slice: a Python loop that copies one sample at a time into each "
                         "batch is about 25x slower"),
)


# ============================================================================ runs of updates
# sgd_momentum and rmsprop, judged as grader/bank/optim.py judges Adam. next_w is compared with
# rtol 1e-9 and an atol of W_ATOL_PER_LR times the learning rate (a ten-thousandth of a typical
# step); the state with rtol 1e-9 and an atol of 1e-12 times its largest |expected|. Correct
# implementations differ by rounding only (w - lr * b vs w + v, rho * c + (1 - rho) * g * g vs
# c + (1 - rho) * (g * g - c)); the atols cover cancellation near 0. Every known mistake changes
# a step by 1e-2 of itself or more, except where RMSprop's epsilon goes: with the gradients of
# 0.5 to 2 of its ordinary checks, sqrt(cache + eps) or a missing eps change a step by 2e-6 of
# itself at most (2e-5 of the learning rate), so only the checks with gradients near eps (or a
# large eps) judge it.
RTOL = 1e-9
W_ATOL_PER_LR = 1e-4
ATOL_SCALE = 1e-12
MISTAKE_RTOL = 1e-6  # a replayed mistake matches to six digits: both sides round differently
MISTAKE_W_ATOL_PER_LR = 1e-3
MISTAKE_ATOL_SCALE = 1e-9


@dataclass(frozen=True)
class _Rule:
    """An update rule with the CS231n interface: ``func(w, dw, config) -> (next_w, config)``."""

    func: str
    state: str  # the config key of its state, judged after the last update of each run


SGD = _Rule("sgd_momentum", "velocity")
RMS = _Rule("rmsprop", "cache")


def _grad(rng: np.random.Generator, shape: tuple, low: float = 0.2, high: float = 2.0,
          scale: float = 1.0) -> np.ndarray:
    """Gradients of magnitude low to high (times scale), with random signs."""
    return scale * rng.choice((-1.0, 1.0), shape) * rng.uniform(low, high, shape)


def _run_calls(rule: _Rule, w0: Any, grads: list, config: Any, start: int = 0) -> list[Call]:
    """Chained updates: each takes the previous call's next_w and config. Every update but the
    last sends only next_w (a config updated in place is the same object by then)."""
    calls = []
    for k, dw in enumerate(grads):
        if k == 0:
            args = (w0, dw) if config is _OMIT else (w0, dw, config)
        else:
            prev = start + k - 1
            args = (Out(prev, (0,)), dw, Out(prev, (1,)))
        calls.append(Call(rule.func, args, pick=() if k == len(grads) - 1 else (0,)))
    return calls


def _config_arg(call: Call) -> Any:
    return call.args[2] if len(call.args) >= 3 else call.kwargs.get("config", _OMIT)


def _origin(case: Case, index: int) -> tuple[int, int]:
    """(the call that starts index's run, index's update number in that run, from 1)."""
    config = _config_arg(case.calls[index])
    if isinstance(config, Out):
        root, k = _origin(case, config.call)
        return root, k + 1
    return index, 1


def _start(config: Any) -> str:
    if config is _OMIT:
        return "config left out"
    if config is None or config == {}:
        return f"config={config!r}"
    parts = []
    for key, value in config.items():
        if isinstance(value, Out):
            parts.append(f"the {key} returned by call {value.call + 1}")
        elif isinstance(value, np.ndarray):
            parts.append(f"a given {key}")
        else:
            parts.append(f"{key} {value:g}")
    return "a config with " + ", ".join(parts)


def _label(rule: _Rule, case: Case, index: int) -> str:
    """Which update a call is, in words: 'rmsprop, update 3 of 5 from config=None'."""
    root, k = _origin(case, index)
    n = max(_origin(case, i)[1] for i in range(len(case.calls)) if _origin(case, i)[0] == root)
    start = _start(_config_arg(case.calls[root]))
    return f"{rule.func}, {'one update' if n == 1 else f'update {k} of {n}'} from {start}"


def _leaf(got: Any, want: Any, path: str, tol: tuple) -> Mismatch | None:
    rtol, w_atol, atol_scale = tol
    if path == "next_w":
        return compare(got, want, rtol=rtol, atol=w_atol, path=path)
    finite = np.abs(want[np.isfinite(want)]) if isinstance(want, np.ndarray) else np.zeros(0)
    atol = atol_scale * float(finite.max()) if finite.size else 0.0
    return compare(got, want, rtol=rtol, atol=atol, path=path)


def _mismatch(rule: _Rule, got: Any, want: Any, tol: tuple) -> Mismatch | None:
    """The first difference of one sent value: next_w, or (next_w, config[state])."""
    if not isinstance(want, tuple):
        return _leaf(got, want, "next_w", tol)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return Mismatch("", "type", f"expected a tuple (next_w, config), got {describe(got)}")
    found = _leaf(got[0], want[0], "next_w", tol)
    if found:
        return found
    if not isinstance(got[1], dict):
        return Mismatch("config", "type", f"expected a dict, got {describe(got[1])}")
    if rule.state not in want[1]:  # a replayed mistake that does not store its state
        return None if rule.state not in got[1] else Mismatch(
            "config", "keys", f"key {rule.state!r} where none was expected")
    if rule.state not in got[1]:
        keys = ", ".join(sorted(map(str, got[1]))) or "none"
        return Mismatch("config", "keys", f"the returned config has no key {rule.state!r} "
                                          f"(its keys: {keys})")
    return _leaf(got[1][rule.state], want[1][rule.state], f"config[{rule.state!r}]", tol)


def _at(value: Any, path: str) -> Any:
    if path == "next_w":
        return value[0] if isinstance(value, (tuple, list)) else value
    return value[1][path[8:-2]] if path.startswith("config[") else value


def _diagnose_run(rule: _Rule, trial: Trial, got: list, mistakes: tuple[Mistake, ...],
                  lr: float) -> str | None:
    """The first known mistake whose replayed run matches the student's run so far."""
    tol = (MISTAKE_RTOL, MISTAKE_W_ATOL_PER_LR * lr, MISTAKE_ATOL_SCALE)
    for mistake in mistakes:
        try:
            wrong = mistake.variant(trial.case)
        except Exception:  # noqa: BLE001 - a flawed run that does not apply to these inputs
            continue
        # A replay that stopped earlier (its config lacked the state) is another mistake.
        if len(wrong) >= len(got) and all(_mismatch(rule, g, w, tol) is None
                                          for g, w in zip(got, wrong)):
            return mistake.explain
    return None


def _raise_hint(rule: _Rule, call: Call, raised: dict) -> str | None:
    config, kind, text = _config_arg(call), raised["type"], raised["message"]
    if config in (None, _OMIT) and kind in ("TypeError", "AttributeError") and "None" in text:
        return ("config=None starts a fresh run: begin with a dict of the defaults (or {}) "
                "before reading keys from it")
    if kind == "KeyError" and isinstance(config, dict):
        return ("a key missing from config takes its default: read it with config.get(key, "
                "default) or config.setdefault(key, default)")
    return None


def _judge_run(rule: _Rule, mistakes: tuple[Mistake, ...], lr: float
               ) -> Callable[[Trial], Verdict]:
    """Judge: every update of the case, in order, against the reference's (``lr``: the largest
    learning rate of the case, the scale of next_w's atol)."""
    tol = (RTOL, W_ATOL_PER_LR * lr, ATOL_SCALE)
    carried = (f"{rule.func} returns a pair: return next_w, config, with config[{rule.state!r}]"
               " holding the new state (the grader passes item 0 of what you return on as "
               "w and item 1 as the next config)")

    def judge(trial: Trial) -> Verdict:
        calls, note = trial.case.calls, f" ({trial.case.note})" if trial.case.note else ""
        got: list = []  # the sent values, up to the first call that raised or did not run
        failure: Verdict | None = None
        for i, call in enumerate(calls):
            result = trial.actual[i]
            if result.missing or result.raised is not None:
                what = ("not called: the previous update's result could not be passed on"
                        if result.missing else describe_raise(call.func, result.raised))
                hint = carried if result.missing else _raise_hint(rule, call, result.raised)
                failure = Verdict(False, f"{_label(rule, trial.case, i)}{note}: {what}", hint)
                break
            got.append((i, trial.got(i)))
        for i, value in got:
            found = _mismatch(rule, value, trial.want(i), tol)
            if found is None:
                continue
            diagnosis = _diagnose_run(rule, trial, [v for _, v in got], mistakes, lr)
            if diagnosis is None and (found.kind == "type" and not found.path or calls[i].pick
                                      and found.kind in ("shape", "type")):
                diagnosis = carried
            if diagnosis is None and found.kind == "keys":
                diagnosis = (f"keep the state in config[{rule.state!r}]: the next update reads "
                             "it from there, and so does the grader")
            if diagnosis is None and found.kind in ("values", "nonfinite"):
                diagnosis = diagnose.generic(_at(value, found.path),
                                             _at(trial.want(i), found.path))
            return Verdict(False, f"{_label(rule, trial.case, i)}{note}: {found}", diagnosis)
        return failure or Verdict(True)

    return judge


def _replay(rule: _Rule, update: Callable, case: Case) -> list:
    """The sent values of a case's calls, made by a flawed update (as a worker sends them)."""
    if any(call.func != rule.func for call in case.calls):
        raise LookupError(f"not a case of {rule.func}")
    module = SimpleNamespace(**{rule.func: update})
    with np.errstate(all="ignore"):
        # A call whose input is an earlier result that lacks it (a config without its state)
        # is not made: the worker stops there, and so does the replay.
        results = [r for r in run_reference(module, case) if not r.missing]
    if not results:
        raise ArithmeticError(f"the flawed {rule.func} cannot run this case")
    if any(r.raised is not None for r in results):
        raise ArithmeticError(f"the flawed {rule.func} raised")
    return [r.value for r, call in zip(results, case.calls) if call.send]


def _timing_call(rule: _Rule, config: dict) -> Callable[[np.random.Generator], Call]:
    def build(rng: np.random.Generator) -> Call:
        shape = (400, 250)
        state = {rule.state: np.abs(rng.standard_normal(shape)) * 1e-2}
        return Call(rule.func, (rng.standard_normal(shape), _grad(rng, shape),
                                {**config, **state}), send=False)
    return build


# ============================================================================ sgd_momentum

def _flawed_sgd(w, dw, config=None, *, flaw: str):
    """SGD with momentum with one known flaw, replayed here (never sent to a worker)."""
    given = {} if config is None else dict(config)
    spec = {"learning_rate": 1e-2, "momentum": 0.9}
    if flaw != "sgd_ignores_hyperparameters":
        spec.update({k: given[k] for k in spec if k in given})
    lr, mu = spec["learning_rate"], spec["momentum"]
    old = given.get("velocity")
    old = np.zeros_like(w) if old is None or flaw == "velocity_restarted" else old
    if flaw == "torch_buffer":
        v = mu * old + dw
        next_w = w - lr * v
    elif flaw in ("negated_velocity", "ascent"):
        v = mu * old + lr * dw
        next_w = w - v if flaw == "negated_velocity" else w + v
    elif flaw == "averaged_gradient":
        v = mu * old + (1 - mu) * dw
        next_w = w - lr * v
    else:
        v = mu * old - lr * dw
        next_w = w + (old if flaw == "stale_velocity" else v)
    state = {} if flaw == "sgd_drops_hyperparameters" else {**given, **spec}
    if flaw != "velocity_not_stored":
        state["velocity"] = v
    return next_w, state


def _sgd(flaw: str) -> Callable[[Case], list]:
    return lambda case: _replay(SGD, functools.partial(_flawed_sgd, flaw=flaw), case)


SGD_MISTAKES = (
    Mistake("ascent",
            "your update climbs the loss: with v = momentum * v + learning_rate * dw and "
            "next_w = w + v every step goes along +dw, uphill; the velocity is "
            "v = momentum * v - learning_rate * dw", _sgd("ascent")),
    Mistake("negated_velocity",
            "you store the velocity with the opposite sign (v = momentum * v + learning_rate * "
            "dw, next_w = w - v): the trajectory is the same, but this exercise's "
            "config['velocity'] is the step itself, next_w - w = momentum * v - learning_rate "
            "* dw", _sgd("negated_velocity")),
    Mistake("torch_buffer",
            "you store torch.optim.SGD's buffer b = momentum * b + dw and step w - "
            "learning_rate * b: the same trajectory while the learning rate is constant, but "
            "this exercise's velocity is the step v = momentum * v - learning_rate * dw "
            "(v = -learning_rate * b), and a velocity given in config is such a step",
            _sgd("torch_buffer")),
    Mistake("averaged_gradient",
            "you average the gradient, v = momentum * v + (1 - momentum) * dw, and step "
            "w - learning_rate * v: that damps every step by (1 - momentum); here "
            "v = momentum * v - learning_rate * dw and next_w = w + v", _sgd("averaged_gradient")),
    Mistake("stale_velocity",
            "you move w by the velocity BEFORE updating it (next_w = w + v, then v = momentum "
            "* v - learning_rate * dw): every step lags one update behind, and the first one "
            "does not move at all; update v first, then next_w = w + v", _sgd("stale_velocity")),
    Mistake("velocity_restarted",
            "your velocity starts from zero at every call, so this is plain SGD (next_w = w - "
            "learning_rate * dw): read the previous velocity from config['velocity'] (zeros "
            "only when it is missing)", _sgd("velocity_restarted")),
    Mistake("velocity_not_stored",
            "the config you return does not hold the new velocity, so the next update starts "
            "from the old one (from zero in a fresh run: plain SGD): store "
            "config['velocity'] = v", _sgd("velocity_not_stored")),
    Mistake("sgd_ignores_hyperparameters",
            "you used the default learning_rate and momentum instead of the config's: read "
            "them from config (only a missing key takes its default)",
            _sgd("sgd_ignores_hyperparameters")),
    Mistake("sgd_drops_hyperparameters",
            "the config you return lost the hyper-parameters it was given, so the next update "
            "fell back to the defaults: return every key of config, e.g. by updating the "
            "given dict", _sgd("sgd_drops_hyperparameters")),
)


def _sgd_one_step(rng: np.random.Generator) -> Case:
    w, dw = rng.standard_normal((4, 3)), _grad(rng, (4, 3))
    config = {"learning_rate": 0.05, "momentum": 0.9, "velocity": 0.05 * _grad(rng, (4, 3))}
    return Case((Call("sgd_momentum", (w, dw, config)),),
                "w of shape (4, 3), learning_rate 0.05, a given velocity")


def _sgd_fresh(rng: np.random.Generator) -> Case:
    w, grads = rng.standard_normal((3, 4)), [_grad(rng, (3, 4)) for _ in range(5)]
    return Case(tuple(_run_calls(SGD, w, grads, None)), "w of shape (3, 4), 5 updates")


def _sgd_lr_change(rng: np.random.Generator) -> Case:
    first = _run_calls(SGD, rng.standard_normal(6), [_grad(rng, (6,)) for _ in range(3)],
                       {"learning_rate": 0.1})
    later = {"learning_rate": 0.01, "momentum": 0.9, "velocity": Out(2, (1, "velocity"))}
    second = _run_calls(SGD, Out(2, (0,)), [_grad(rng, (6,)) for _ in range(2)], later, 3)
    return Case(tuple(first + second), "3 updates with learning_rate 0.1, then 2 with 0.01 "
                                       "and the velocity carried over")


def _sgd_defaults(rng: np.random.Generator) -> Case:
    w, dw = rng.standard_normal((3, 2)), _grad(rng, (3, 2))
    configs = [_OMIT, None, {}, {"learning_rate": 0.1},
               {"momentum": 0.5, "velocity": 0.01 * _grad(rng, (3, 2))}]
    return Case(tuple(Call("sgd_momentum", (w, dw) if c is _OMIT else (w, dw, c))
                      for c in configs), "w of shape (3, 2); config left out, None, {}, partial")


def _sgd_custom(rng: np.random.Generator) -> Case:
    w, grads = rng.standard_normal((2, 5)), [_grad(rng, (2, 5)) for _ in range(4)]
    return Case(tuple(_run_calls(SGD, w, grads, {"learning_rate": 0.05, "momentum": 0.5})),
                "w of shape (2, 5), learning_rate 0.05, momentum 0.5, 4 updates")


def _sgd_shapes(rng: np.random.Generator) -> Case:
    calls = []
    for shape in ((7,), (2, 3, 4), (1, 1)):
        config = {"learning_rate": 0.02, "velocity": 0.02 * _grad(rng, shape)}
        calls.append(Call("sgd_momentum", (rng.standard_normal(shape), _grad(rng, shape),
                                           config)))
    return Case(tuple(calls), "w of shapes (7,), (2, 3, 4) and (1, 1) with given velocities")


SGD_MOMENTUM = Exercise(
    id="optim.sgd_momentum",
    title="SGD with momentum",
    functions=("sgd_momentum",),
    summary="v = momentum * v - learning_rate * dw, next_w = w + v; config['velocity'] is the "
            "step (CS231n), not torch's gradient buffer",
    checks=(
        Check("one_step", _sgd_one_step, _judge_run(SGD, SGD_MISTAKES, 0.05), points=2,
              about="one update from a given velocity"),
        Check("fresh_run", _sgd_fresh, _judge_run(SGD, SGD_MISTAKES, 1e-2), points=2,
              about="5 updates from config=None, each returned config passed on"),
        Check("learning_rate_change", _sgd_lr_change, _judge_run(SGD, SGD_MISTAKES, 0.1),
              points=1, hidden=True,
              about="the learning rate lowered mid-run, the stored velocity carried over"),
        Check("default_config", _sgd_defaults, _judge_run(SGD, SGD_MISTAKES, 0.1), points=1,
              hidden=True, about="config left out, None, {} or partial"),
        Check("custom_hyperparameters", _sgd_custom, _judge_run(SGD, SGD_MISTAKES, 0.05),
              points=1, hidden=True, about="4 updates with learning_rate 0.05, momentum 0.5"),
        Check("several_shapes", _sgd_shapes, _judge_run(SGD, SGD_MISTAKES, 0.02), points=1,
              hidden=True, about="w of 1, 2 and 3 dimensions"),
    ),
    # Measured (benchmarks/timing_flags.py): a loop over the parameters 350x to 380x the
    # reference; whole-array updates 1x to 6x (the reference's 0.1 ms per call is mostly
    # allocation, which varies from call to call): the flag sits between, at 30x.
    timing=Timing(_timing_call(SGD, {"learning_rate": 1e-2, "momentum": 0.9}), slow_ratio=30.0,
                  advice="update whole arrays (v = momentum * v - learning_rate * dw) instead "
                         "of looping over the parameters"),
)


# ============================================================================ rmsprop

def _flawed_rmsprop(w, dw, config=None, *, flaw: str):
    """RMSprop with one known flaw, replayed here (never sent to a worker)."""
    given = {} if config is None else dict(config)
    spec = {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}
    if flaw != "rms_ignores_hyperparameters":
        spec.update({k: given[k] for k in spec if k in given})
    lr, rho, eps = spec["learning_rate"], spec["decay_rate"], spec["epsilon"]
    old = given.get("cache")
    old = np.zeros_like(w) if old is None or flaw == "cache_restarted" else old
    if flaw == "swapped_decay":
        rho = 1 - rho
    cache = rho * old + (1 - rho) * dw**2
    seen = old if flaw == "stale_cache" else cache
    if flaw == "eps_inside_sqrt":
        denominator = np.sqrt(seen + eps)
    elif flaw == "no_sqrt":
        denominator = seen + eps
    else:
        denominator = np.sqrt(seen) + (0.0 if flaw == "no_epsilon" else eps)
    state = {} if flaw == "rms_drops_hyperparameters" else {**given, **spec}
    state["cache"] = cache
    return w - lr * dw / denominator, state


def _rms(flaw: str) -> Callable[[Case], list]:
    return lambda case: _replay(RMS, functools.partial(_flawed_rmsprop, flaw=flaw), case)


RMS_MISTAKES = (
    Mistake("eps_inside_sqrt",
            "you added epsilon inside the square root, sqrt(cache + epsilon); this exercise "
            "(like torch.optim.RMSprop) uses sqrt(cache) + epsilon. With gradients near 1e-7, "
            "sqrt(cache) is about 1e-8 but sqrt(cache + 1e-8) is 1e-4, so your steps are "
            "thousands of times too small", _rms("eps_inside_sqrt")),
    Mistake("no_epsilon",
            "you left epsilon out, dw / sqrt(cache): it is what keeps the step finite where "
            "the cache is (nearly) 0; a parameter whose gradient is 0 gets 0 / 0 = NaN. Use "
            "dw / (sqrt(cache) + epsilon)", _rms("no_epsilon")),
    Mistake("no_sqrt",
            "you divided by the cache itself, not by its square root: the cache is a mean of "
            "dw**2, so dw / (sqrt(cache) + epsilon) has the scale of 1 while dw / cache has the "
            "scale of 1 / dw", _rms("no_sqrt")),
    Mistake("swapped_decay",
            "decay_rate weighs the OLD cache: cache = decay_rate * cache + (1 - decay_rate) * "
            "dw**2; yours gives the new dw**2 the weight decay_rate", _rms("swapped_decay")),
    Mistake("stale_cache",
            "your step divides by the cache from BEFORE this update: update the cache with "
            "this dw first, then step (in a fresh run the old cache is 0 and the first step is "
            "learning_rate * dw / epsilon)", _rms("stale_cache")),
    Mistake("cache_restarted",
            "your cache starts from zero at every call (cache = (1 - decay_rate) * dw**2): "
            "read the previous cache from config['cache'] (zeros only when it is missing)",
            _rms("cache_restarted")),
    Mistake("rms_ignores_hyperparameters",
            "you used the default learning_rate, decay_rate and epsilon instead of the "
            "config's: read them from config (only a missing key takes its default)",
            _rms("rms_ignores_hyperparameters")),
    Mistake("rms_drops_hyperparameters",
            "the config you return lost the hyper-parameters it was given, so the next update "
            "fell back to the defaults: return every key of config, e.g. by updating the "
            "given dict", _rms("rms_drops_hyperparameters")),
)


def _cache(rng: np.random.Generator, shape: tuple, updates: int) -> np.ndarray:
    """The cache after some updates with default decay and gradients of 0.5 to 2."""
    cache = np.zeros(shape)
    for _ in range(updates):
        g = _grad(rng, shape, 0.5)
        cache = 0.99 * cache + 0.01 * g * g
    return cache


def _rms_one_step(rng: np.random.Generator) -> Case:
    w, dw = rng.standard_normal((4, 3)), _grad(rng, (4, 3), 0.5)
    return Case((Call("rmsprop", (w, dw, {"learning_rate": 1e-2, "cache": _cache(rng, (4, 3),
                                                                                  5)})),),
                "w of shape (4, 3), a given cache (5 earlier updates)")


def _rms_fresh(shape: tuple, updates: int, low: float, scale: float, note: str):
    def build(rng: np.random.Generator) -> Case:
        grads = [_grad(rng, shape, low, 2.0, scale) for _ in range(updates)]
        return Case(tuple(_run_calls(RMS, rng.standard_normal(shape), grads, None)), note)
    return build


def _rms_zero(rng: np.random.Generator) -> Case:
    keep = rng.permutation(np.arange(10) % 2 == 0)  # 5 parameters with gradient 0 throughout
    grads = [_grad(rng, (10,), 0.5) * keep for _ in range(3)]
    return Case(tuple(_run_calls(RMS, rng.standard_normal(10), grads, None)),
                "w of shape (10,), 5 of whose gradients are exactly 0, 3 updates")


def _rms_defaults(rng: np.random.Generator) -> Case:
    w, dw = rng.standard_normal((3, 2)), _grad(rng, (3, 2), 0.5)
    configs = [_OMIT, None, {}, {"learning_rate": 0.1},
               {"decay_rate": 0.5, "cache": _cache(rng, (3, 2), 3)}]
    return Case(tuple(Call("rmsprop", (w, dw) if c is _OMIT else (w, dw, c)) for c in configs),
                "w of shape (3, 2); config left out, None, {}, partial")


def _rms_custom(rng: np.random.Generator) -> Case:
    grads = [_grad(rng, (2, 5), 0.5, 2.0, 1e-3) for _ in range(4)]
    config = {"learning_rate": 0.05, "decay_rate": 0.9, "epsilon": 1e-4}
    return Case(tuple(_run_calls(RMS, rng.standard_normal((2, 5)), grads, config)),
                "w of shape (2, 5), learning_rate 0.05, decay_rate 0.9, epsilon 1e-4, "
                "gradients 5e-4 to 2e-3")


def _rms_shapes(rng: np.random.Generator) -> Case:
    calls = [Call("rmsprop", (rng.standard_normal(shape), _grad(rng, shape, 0.5),
                              {"cache": _cache(rng, shape, 2)}))
             for shape in ((7,), (2, 3, 4), (1, 1))]
    return Case(tuple(calls), "w of shapes (7,), (2, 3, 4) and (1, 1) with given caches")


RMSPROP = Exercise(
    id="optim.rmsprop",
    title="RMSprop",
    functions=("rmsprop",),
    summary="cache = decay_rate * cache + (1 - decay_rate) * dw**2, step learning_rate * dw / "
            "(sqrt(cache) + epsilon): epsilon outside the square root (torch)",
    checks=(
        Check("one_step", _rms_one_step, _judge_run(RMS, RMS_MISTAKES, 1e-2), points=2,
              about="one update from a given cache"),
        Check("fresh_run", _rms_fresh((3, 4), 5, 0.5, 1.0, "w of shape (3, 4), gradients 0.5 "
                                                           "to 2, 5 updates"),
              _judge_run(RMS, RMS_MISTAKES, 1e-2), points=2,
              about="5 updates from config=None, each returned config passed on"),
        Check("tiny_gradients", _rms_fresh((6,), 3, 0.2, 1e-7, "w of shape (6,), gradients "
                                                               "2e-8 to 2e-7, 3 updates"),
              _judge_run(RMS, RMS_MISTAKES, 1e-2), points=1,
              about="gradients near 1e-7, where epsilon's placement shows"),
        Check("zero_gradients", _rms_zero, _judge_run(RMS, RMS_MISTAKES, 1e-2), points=1,
              hidden=True, about="parameters whose gradient is 0 stay where they are"),
        Check("default_config", _rms_defaults, _judge_run(RMS, RMS_MISTAKES, 0.1), points=1,
              hidden=True, about="config left out, None, {} or partial"),
        Check("custom_hyperparameters", _rms_custom, _judge_run(RMS, RMS_MISTAKES, 0.05),
              points=1, hidden=True,
              about="4 updates with learning_rate 0.05, decay_rate 0.9, epsilon 1e-4"),
        Check("several_shapes", _rms_shapes, _judge_run(RMS, RMS_MISTAKES, 1e-2), points=1,
              hidden=True, about="w of 1, 2 and 3 dimensions"),
    ),
    # Measured: a loop over the parameters 190x to 200x the reference, whole arrays 1x to 4x.
    timing=Timing(_timing_call(RMS, {"learning_rate": 1e-2, "decay_rate": 0.99}),
                  slow_ratio=30.0,
                  advice="update whole arrays (np.sqrt on the cache array) instead of looping "
                         "over the parameters"),
)


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

EXERCISES = (ITERATE_MINIBATCHES, SGD_MOMENTUM, RMSPROP, EARLY_STOPPING)
