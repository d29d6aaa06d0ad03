"""Checks of exercises/optim.py beyond Adam, first part: shuffled minibatches (id
``optim.iterate_minibatches``; ids ``optim.*``: the same topic as :mod:`grader.bank.optim`).
SGD with momentum and RMSprop follow in :mod:`grader.bank.training_rules`, early stopping in
:mod:`grader.bank.training_stopping`; ``_raised`` here serves the minibatch and early stopping
judges.

- ``iterate_minibatches`` is a generator, which cannot travel back from the worker: checks call
  the given wrapper ``minibatches(X, y, batch_size, seed, epochs)`` that lists its batches, one
  epoch per call with one Generator for the run. Which permutation a correct function draws is
  its own business, so the judges check what is unique: every sample exactly once per epoch,
  the batch sizes, X and y rows kept together, the same batches for the same seed, a new
  order each epoch. Mistakes are recognised from those symptoms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import describe
from grader.judges import Trial, all_of, describe_raise, raises


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

EXERCISES = (ITERATE_MINIBATCHES,)
