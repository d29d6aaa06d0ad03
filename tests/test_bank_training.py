"""optim.iterate_minibatches, optim.sgd_momentum, optim.rmsprop and optim.early_stopping: the
references against torch (DataLoader, optim.SGD, optim.RMSprop) and an independent early
stopping rule, the minibatch checks' false failures and power, and realistic right and wrong
submissions graded through the worker (each wrong one loses points with a message saying what
differs, each declared mistake gets its diagnosis, correct ones in several styles full marks).
"""

from __future__ import annotations

import ast

import numpy as np
import pytest
import torch

from grader.bank import training as bank
from grader.bank import training_rules as rules_bank
from grader.bank import training_stopping as stopping_bank
from grader.catalog import EXERCISES_DIR, catalog, reference_module
from conftest import benchmark_module, check, reference_source

REF = reference_module("optim")
STUB = (EXERCISES_DIR / "optim.py").read_text()


def _given(name: str) -> str:
    """A function the stub gives (minibatches, early_stopping_run), as its source text."""
    node = next(n for n in ast.parse(STUB).body if getattr(n, "name", None) == name)
    return ast.get_source_segment(STUB, node) + "\n"


def _edit(source: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


BENCH = benchmark_module("training_false_failures")


def max_score(exercise_id: str) -> float:
    return catalog()[exercise_id].max_score


def points(exercise_id: str, names: set[str]) -> float:
    return sum(c.points for c in catalog()[exercise_id].checks if c.name in names)


def failed(result) -> set[str]:
    return {c.name for c in result.checks if c.status != "passed"}


def assert_full_marks(result):
    assert result.status == "passed", (result.message, result.diagnosis)
    assert result.score == result.max_score
    assert result.message == f"all {len(result.checks)} checks passed"
    assert all(c.diagnosis is None for c in result.checks)


def assert_fails(result, exercise_id, fails):
    """Exactly the checks ``fails`` fail, and the score is what the others are worth."""
    assert failed(result) == set(fails), [(c.name, c.message) for c in result.checks]
    assert result.score == max_score(exercise_id) - points(exercise_id, set(fails))
    everything = {c.name for c in catalog()[exercise_id].checks}
    assert result.status == ("failed" if set(fails) == everything else "partial")


# ============================================================================ minibatches

MB = "optim.iterate_minibatches"

GENERATOR = '''
import numpy as np


def iterate_minibatches(X, y, batch_size, rng):
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if len(X) != len(y):
        raise ValueError("X and y hold different numbers of samples")
    idx = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        batch = idx[start:start + batch_size]
        yield X[batch], y[batch]

''' + _given("minibatches")

SHUFFLE_LIST = '''
import numpy as np


def iterate_minibatches(X, y, batch_size, rng):
    """Returns a list, not a generator; shuffles an index array in place."""
    X, y = np.asarray(X), np.asarray(y)
    if batch_size <= 0 or X.shape[0] != y.shape[0]:
        raise ValueError(f"bad batch_size {batch_size} or lengths {len(X)}, {len(y)}")
    order = np.arange(X.shape[0])
    rng.shuffle(order)
    n_batches = -(-X.shape[0] // batch_size)
    return [(X[b], y[b]) for b in np.array_split(order, [batch_size * k
                                                         for k in range(1, n_batches)])]

''' + _given("minibatches")

CHOICE_TAKE = '''
import numpy as np


def iterate_minibatches(X, y, batch_size, rng):
    n = len(y)
    if len(X) != n or not batch_size >= 1:
        raise ValueError("need len(X) == len(y) and batch_size >= 1")
    order = rng.choice(n, size=n, replace=False)
    X_shuffled = np.take(X, order, axis=0)
    y_shuffled = np.take(y, order, axis=0)
    k = 0
    while k < n:
        yield X_shuffled[k:k + batch_size], y_shuffled[k:k + batch_size]
        k += batch_size

''' + _given("minibatches")

PER_SAMPLE = _edit(GENERATOR, ("        yield X[batch], y[batch]",
                               "        xs, ys = [], []\n"
                               "        for i in batch:\n"
                               "            xs.append(X[i])\n"
                               "            ys.append(y[i])\n"
                               "        yield np.array(xs), np.array(ys)"))

_SPLIT = "range(0, len(X), batch_size)"
_IDX = "idx = rng.permutation(len(X))"
_YIELD = "yield X[batch], y[batch]"


@pytest.mark.parametrize("source", [
    GENERATOR, SHUFFLE_LIST, CHOICE_TAKE, PER_SAMPLE, reference_source("optim"),
], ids=["generator", "list-rng-shuffle-array-split", "rng-choice-np-take", "per-sample-loop",
        "reference"])
def test_correct_minibatches_get_full_marks(grade_one, source):
    assert_full_marks(grade_one(MB, {"optim.py": source}))


# name: (source, the checks it fails, the check whose message and diagnosis are pinned, the
#        start of that message, the declared mistake diagnosed there (or None))
WRONG_MINIBATCHES = {
    "drops-last-partial-batch": (
        _edit(GENERATOR, (_SPLIT, "range(0, len(X) - batch_size + 1, batch_size)")),
        {"one_epoch", "full_batch", "image_inputs"}, "one_epoch",
        "minibatches for X of shape (23, 3), y of 23 labels, batch_size 5, one epoch, epoch 1: "
        "batch sizes [5, 5, 5, 5], expected [5, 5, 5, 5, 3] (N = 23, batch_size 5)",
        "drops_last"),
    "n-over-batch-size-batches": (
        _edit(GENERATOR, (_SPLIT, "range(0, len(X) // batch_size * batch_size, batch_size)")),
        {"one_epoch", "full_batch", "image_inputs"}, "full_batch",
        "minibatches for N = 12 with batch_size 12 and 40 (full batch), 2 epochs each, run 2, "
        "epoch 1: batch sizes [], expected [12] (N = 12, batch_size 40)",
        "no_batch"),
    "empty-last-batch": (
        _edit(GENERATOR, (_SPLIT, "[k * batch_size for k in range(len(X) // batch_size + 1)]")),
        {"epochs_and_seed", "divisible_and_single", "full_batch"}, "divisible_and_single",
        "minibatches for N = 24 with batch_size 6 (2 epochs), and N = 9 with batch_size 1, "
        "run 1, epoch 1: batch sizes [6, 6, 6, 6, 0], expected [6, 6, 6, 6]",
        "empty_batch"),
    "with-replacement": (
        _edit(GENERATOR, (_IDX, "idx = rng.integers(0, len(X), len(X))")),
        {"one_epoch", "epochs_and_seed", "divisible_and_single", "full_batch", "image_inputs"},
        "one_epoch", "minibatches for X of shape (23, 3), y of 23 labels, batch_size 5, one "
                     "epoch, epoch 1: samples ",
        "with_replacement"),
    "x-and-y-by-two-permutations": (
        _edit(GENERATOR, (_YIELD, "yield X[batch], y[other[start:start + batch_size]]"),
              (_IDX, _IDX + "\n    other = rng.permutation(len(X))")),
        {"one_epoch", "epochs_and_seed", "divisible_and_single", "full_batch", "image_inputs"},
        "one_epoch", "minibatches for X of shape (23, 3), y of 23 labels, batch_size 5, one "
                     "epoch, epoch 1: batch 0: y_batch does not hold the targets of X_batch's "
                     "samples", "two_permutations"),
    "y-not-shuffled": (
        _edit(GENERATOR, (_YIELD, "yield X[batch], y[start:start + batch_size]")),
        {"one_epoch", "epochs_and_seed", "divisible_and_single", "full_batch", "image_inputs"},
        "image_inputs", "minibatches for images X of shape (14, 2, 3, 3), float targets y of "
                        "shape (14, 2), batch_size 4, 2 epochs, epoch 1: batch 0: y_batch does "
                        "not hold the targets", "y_not_shuffled"),
    "no-shuffle": (
        _edit(GENERATOR, (_IDX, "idx = np.arange(len(X))")),
        {"epochs_and_seed"}, "epochs_and_seed",
        "minibatches for X of shape (20, 2), batch_size 4, 3 epochs, run twice with the same "
        "seed: epochs 1 and 2 have the same batches in the same order",
        "not_shuffled"),
    "new-generator-from-a-fixed-seed": (
        _edit(GENERATOR, (_IDX, "idx = np.random.default_rng(0).permutation(len(X))")),
        {"epochs_and_seed"}, "epochs_and_seed",
        "minibatches for X of shape (20, 2), batch_size 4, 3 epochs, run twice with the same "
        "seed: epochs 1 and 2 have the same batches in the same order",
        "same_permutation"),
    "global-random-state": (
        _edit(GENERATOR, (_IDX, "idx = np.random.permutation(len(X))")),
        {"epochs_and_seed"}, "epochs_and_seed",
        "minibatches for X of shape (20, 2), batch_size 4, 3 epochs, run twice with the same "
        "seed: epoch 1 differs between the two runs with the same seed",
        "global_rng"),
    "batches-as-float-copies": (
        _edit(GENERATOR, (_YIELD, "yield X[batch].astype(np.float32), y[batch]")),
        {"one_epoch", "epochs_and_seed", "divisible_and_single", "full_batch", "image_inputs"},
        "one_epoch", "minibatches for X of shape (23, 3), y of 23 labels, batch_size 5, one "
                     "epoch, epoch 1: batch 0: X_batch has dtype float32, expected float64 (the "
                     "input's)", None),
    "y-as-a-column": (
        _edit(GENERATOR, (_YIELD, "yield X[batch], y[batch].reshape(-1, 1)")),
        {"one_epoch", "epochs_and_seed", "divisible_and_single", "full_batch", "image_inputs"},
        "one_epoch",
        "minibatches for X of shape (23, 3), y of 23 labels, batch_size 5, one epoch, epoch 1: "
        "batch 0: y_batch has shape (5, 1), expected (b,) (samples along axis 0)", None),
    "standardizes-the-batch": (
        _edit(GENERATOR, (_YIELD, "yield (X[batch] - X.mean(axis=0)) / X.std(axis=0), y[batch]")),
        {"one_epoch", "epochs_and_seed", "divisible_and_single", "full_batch", "image_inputs"},
        "image_inputs", "minibatches for images X of shape (14, 2, 3, 3), float targets y of "
                        "shape (14, 2), batch_size 4, 2 epochs, epoch 1: batch 0: row 0 of "
                        "X_batch is not a row of X", "not_rows_of_X"),
}


def test_every_declared_minibatch_mistake_has_a_wrong_implementation():
    assert {m for *_, m in WRONG_MINIBATCHES.values() if m} == set(bank.BATCH_MISTAKES)


@pytest.mark.parametrize("name", list(WRONG_MINIBATCHES), ids=list(WRONG_MINIBATCHES))
def test_wrong_minibatches_lose_points_with_message_and_diagnosis(grade_one, name):
    source, fails, pinned, message, mistake = WRONG_MINIBATCHES[name]
    result = grade_one(MB, {"optim.py": source})
    assert_fails(result, MB, fails)
    got = check(result, pinned)
    assert got.message.startswith(message), got.message
    explain = bank.BATCH_MISTAKES.get(mistake, "").format(r=3)
    assert got.diagnosis == (explain or None), (got.message, got.diagnosis)
    # Wherever it fails, its diagnosis is its own mistake's or none, never another's.
    # (Code that drops the partial batch yields none at all when batch_size > N: both apply.)
    same = {mistake} | ({"drops_last", "no_batch"} if mistake in ("drops_last", "no_batch")
                        else set())
    others = {text.split(":")[0] for name, text in bank.BATCH_MISTAKES.items() if name not in same}
    for each in (c for c in result.checks if c.status == "failed" and c.diagnosis):
        assert not any(each.diagnosis.startswith(o) for o in others), (each.name, each.diagnosis)


@pytest.mark.parametrize("n, batch_size", [(23, 5), (24, 6), (12, 40), (9, 1)],
                         ids=["partial", "divisible", "full-batch", "size-one"])
def test_reference_minibatches_are_a_fresh_permutation_per_epoch_cut_like_dataloader(
        n, batch_size):
    rng = np.random.default_rng(n)
    X, y = rng.standard_normal((n, 3)), rng.permutation(n)
    epochs = REF.minibatches(X, y, batch_size, 11, epochs=3)
    draws = np.random.default_rng(11)  # one permutation per epoch, from the same generator
    loader = torch.utils.data.DataLoader(torch.arange(n), batch_size=batch_size, shuffle=True,
                                         drop_last=False)
    for batches in epochs:
        order = draws.permutation(n)
        np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), X[order])
        np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y[order])
        assert [len(b[0]) for b in batches] == [len(b) for b in loader]
        assert sorted(torch.cat(list(loader)).tolist()) == sorted(order.tolist())


def test_minibatches_that_never_raise_lose_the_invalid_arguments_point(grade_one):
    source = _edit(GENERATOR, ('    if batch_size < 1:\n        raise ValueError("batch_size must '
                               'be at least 1")\n', ""),
                   ('    if len(X) != len(y):\n        raise ValueError("X and y hold different '
                    'numbers of samples")\n', ""))
    result = grade_one(MB, {"optim.py": source})
    assert_fails(result, MB, {"invalid_arguments"})
    assert check(result, "invalid_arguments").message == (
        "minibatches for batch_size 0, batch_size -3, and X of 10 samples with y of 12 should "
        "raise ValueError: batch_size -3; raise it before yielding any batch, or when "
        "iteration starts; it returned a list of 1")
    assert result.message.startswith("check 'invalid_arguments': minibatches for batch_size 0")


def test_a_submission_without_the_given_wrapper_is_told_to_put_it_back(grade_one):
    source = GENERATOR[:GENERATOR.index("def minibatches")]
    result = grade_one(MB, {"optim.py": source})
    assert result.status == "failed" and result.score == 0
    first = check(result, "one_epoch")
    assert first.message == ("minibatches raised AttributeError: module 'optim' has no "
                             "attribute 'minibatches'")
    assert first.diagnosis == ("minibatches() is given in the stub for the grader to call: "
                               "copy it back from exercises/optim.py unchanged")


def test_minibatch_checks_never_fail_correct_code_and_catch_every_wrong_one():
    """A short run of benchmarks/training_false_failures.py (10,000 seeds there)."""
    counts = BENCH.false_failures(40)
    assert len(counts) == 3
    assert all(sum(per_check.values()) == 0 for per_check in counts.values()), counts
    assert BENCH.power(20) == {name: (20, 20) for name in BENCH.WRONG}
    assert BENCH.repeat_probability() == pytest.approx(4.11e-19, rel=1e-2)


# ============================================================================ sgd_momentum

SGD = "optim.sgd_momentum"


def _torch_trajectory(optimizer, w0, grads, **options):
    param = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    opt = optimizer([param], **options)
    trajectory = []
    for g in grads:
        param.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        trajectory.append(param.detach().numpy().copy())
    return trajectory, opt.state[param]


@pytest.mark.parametrize("lr, momentum, scale, shape", [
    (1e-2, 0.9, 1.0, (3, 4)), (0.05, 0.5, 1e-3, (2, 5)), (0.1, 0.99, 10.0, (2, 3, 2)),
], ids=["defaults", "custom-small-gradients", "heavy-momentum-large-gradients"])
def test_reference_sgd_momentum_matches_torch_sgd(lr, momentum, scale, shape):
    rng = np.random.default_rng(5)
    w0, grads = rng.standard_normal(shape), [scale * rng.standard_normal(shape)
                                             for _ in range(8)]
    want, state = _torch_trajectory(torch.optim.SGD, w0, grads, lr=lr, momentum=momentum,
                                     dampening=0)
    w, config = w0, {"learning_rate": lr, "momentum": momentum}
    for k, g in enumerate(grads):
        w, config = REF.sgd_momentum(w, g, config)
        np.testing.assert_allclose(w, want[k], rtol=1e-10, atol=1e-14, err_msg=f"update {k}")
    # The stored velocity is the step, -lr times torch's momentum buffer.
    np.testing.assert_allclose(config["velocity"], -lr * state["momentum_buffer"].numpy(),
                               rtol=1e-10, atol=1e-16)
    np.testing.assert_allclose(config["velocity"], want[-1] - want[-2], rtol=1e-9, atol=1e-12)


def test_reference_sgd_momentum_velocity_closed_form_and_inputs_left_alone():
    """v_t = -lr * sum_k momentum^(t-k) g_k, the closed form of the recursion."""
    rng = np.random.default_rng(8)
    w, grads = rng.standard_normal(4), [rng.standard_normal(4) for _ in range(6)]
    given = {"learning_rate": 0.03, "momentum": 0.8}
    config = dict(given)
    for g in grads:
        kept = (np.copy(w), np.copy(g))
        w_next, config = REF.sgd_momentum(w, g, config)
        np.testing.assert_array_equal(w, kept[0])
        np.testing.assert_array_equal(g, kept[1])
        w = w_next
    closed = -0.03 * sum(0.8 ** (len(grads) - 1 - k) * g for k, g in enumerate(grads))
    np.testing.assert_allclose(config["velocity"], closed, rtol=1e-12)
    assert given == {"learning_rate": 0.03, "momentum": 0.8}
    fresh, state = REF.sgd_momentum(w, grads[0])
    assert state["learning_rate"] == 1e-2 and state["momentum"] == 0.9
    np.testing.assert_array_equal(fresh, w - 1e-2 * grads[0])


SGD_CS231N = '''
import numpy as np


def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    config["velocity"] = v
    return next_w, config
'''

SGD_VIA_BUFFER = '''
import numpy as np


def sgd_momentum(w, dw, config=None):
    """torch's form inside: the buffer b = -v / lr, stepped with w - lr * b."""
    cfg = {"learning_rate": 1e-2, "momentum": 0.9}
    cfg.update(config or {})
    lr, mu = cfg["learning_rate"], cfg["momentum"]
    buf = -np.asarray(cfg.get("velocity", np.zeros(w.shape))) / lr
    buf = mu * buf + dw
    next_w = w - lr * buf
    cfg["velocity"] = -lr * buf
    return next_w, cfg
'''

SGD_ELEMENTWISE = '''
import numpy as np


def sgd_momentum(w, dw, config=None):
    config = dict(config or {})
    lr = config.get("learning_rate", 1e-2)
    mu = config.get("momentum", 0.9)
    v = np.array(config["velocity"], dtype=float) if "velocity" in config else np.zeros_like(w)
    out = np.empty_like(w)
    vf, of, wf, gf = v.reshape(-1), out.reshape(-1), w.reshape(-1), dw.reshape(-1)
    for i in range(wf.size):
        vf[i] = mu * vf[i] - lr * gf[i]
        of[i] = wf[i] + vf[i]
    config["velocity"] = v
    return out, config
'''

_V = 'v = config["momentum"] * v - config["learning_rate"] * dw'
_STEP = "next_w = w + v"

# name: (source, the checks it fails, the check whose message is pinned, start of its message)
SGD_MISTAKE_SOURCES = {
    "ascent": (
        _edit(SGD_CS231N, (_V, 'v = config["momentum"] * v + config["learning_rate"] * dw')),
        None, "fresh_run",
        "sgd_momentum, update 1 of 5 from config=None (w of shape (3, 4), 5 updates): next_w: "
        "12 of 12 elements differ"),
    "negated_velocity": (
        _edit(SGD_CS231N, (_V, 'v = config["momentum"] * v + config["learning_rate"] * dw'),
              (_STEP, "next_w = w - v")),
        None, "fresh_run",
        "sgd_momentum, update 5 of 5 from config=None (w of shape (3, 4), 5 updates): "
        "config['velocity']: 12 of 12 elements differ"),
    "torch_buffer": (
        _edit(SGD_CS231N, (_V, 'v = config["momentum"] * v + dw'),
              (_STEP, 'next_w = w - config["learning_rate"] * v')),
        None, "one_step",
        "sgd_momentum, one update from a config with learning_rate 0.05, momentum 0.9, a given "
        "velocity (w of shape (4, 3), learning_rate 0.05, a given velocity): next_w: "),
    "averaged_gradient": (
        _edit(SGD_CS231N, (_V, 'v = config["momentum"] * v + (1 - config["momentum"]) * dw'),
              (_STEP, 'next_w = w - config["learning_rate"] * v')),
        None, "fresh_run", "sgd_momentum, update 1 of 5 from config=None"),
    "stale_velocity": (
        _edit(SGD_CS231N, (_V + "\n    " + _STEP, _STEP + "\n    " + _V)),
        None, "fresh_run", "sgd_momentum, update 1 of 5 from config=None"),
    "velocity_restarted": (
        _edit(SGD_CS231N, ('v = config.get("velocity", np.zeros_like(w))',
                           "v = np.zeros_like(w)")),
        None, "fresh_run", "sgd_momentum, update 2 of 5 from config=None"),
    "velocity_not_stored": (
        _edit(SGD_CS231N, ('    config["velocity"] = v\n', "")),
        None, "fresh_run", "sgd_momentum, update 2 of 5 from config=None"),
    "sgd_ignores_hyperparameters": (
        _edit(SGD_CS231N, (_V, "v = 0.9 * v - 1e-2 * dw")),
        {"one_step", "learning_rate_change", "default_config", "custom_hyperparameters",
         "several_shapes"}, "one_step",
        "sgd_momentum, one update from a config with learning_rate 0.05"),
    "sgd_drops_hyperparameters": (
        _edit(SGD_CS231N, ("return next_w, config", 'return next_w, {"velocity": v}')),
        {"learning_rate_change", "custom_hyperparameters"}, "custom_hyperparameters",
        "sgd_momentum, update 2 of 4 from a config with learning_rate 0.05, momentum 0.5 (w of "
        "shape (2, 5), learning_rate 0.05, momentum 0.5, 4 updates): next_w: "),
}

SGD_EVERYWHERE = {c.name for c in catalog()[SGD].checks}


def test_every_declared_sgd_mistake_has_a_test():
    assert {m.name for m in rules_bank.SGD_MISTAKES} == set(SGD_MISTAKE_SOURCES)
    assert len(rules_bank.SGD_MISTAKES) >= 3


def _assert_mistake_named(result, exercise_id, mistakes, name, fails, pinned, message):
    explain = {m.name: m.explain for m in mistakes}
    assert_fails(result, exercise_id, fails)
    got = check(result, pinned)
    assert got.message.startswith(message), got.message
    assert got.diagnosis == explain[name], (got.message, got.diagnosis)
    # Wherever this mistake fails a check, the diagnosis names it: never another, and none
    # only on random curves where two mistakes stop at the same epochs.
    for each in (c for c in result.checks if c.status == "failed"):
        allowed = {explain[name]} | ({None} if each.name == "random_curves" else set())
        assert each.diagnosis in allowed, (each.name, each.message, each.diagnosis)


@pytest.mark.parametrize("name", list(SGD_MISTAKE_SOURCES), ids=list(SGD_MISTAKE_SOURCES))
def test_sgd_momentum_mistake_fails_its_checks_and_is_named(grade_one, name):
    source, fails, pinned, message = SGD_MISTAKE_SOURCES[name]
    result = grade_one(SGD, {"optim.py": source})
    _assert_mistake_named(result, SGD, rules_bank.SGD_MISTAKES, name, fails or SGD_EVERYWHERE,
                          pinned, message)


@pytest.mark.parametrize("source, fails, pinned, message, diagnosis", [
    pytest.param(
        _edit(SGD_CS231N, ("    if config is None:\n        config = {}\n", "")),
        {"fresh_run", "default_config"}, "fresh_run",
        "sgd_momentum, update 1 of 5 from config=None (w of shape (3, 4), 5 updates): "
        "sgd_momentum raised AttributeError: 'NoneType' object has no attribute 'setdefault' "
        "(optim.py, line 6, in sgd_momentum: `config.setdefault(\"learning_rate\", 1e-2)`)",
        "config=None starts a fresh run: begin with a dict of the defaults (or {}) before "
        "reading keys from it", id="config-none-not-handled"),
    pytest.param(
        _edit(SGD_CS231N, ("return next_w, config", "return next_w")), SGD_EVERYWHERE,
        "one_step",
        "sgd_momentum, one update from a config with learning_rate 0.05, momentum 0.9, a given "
        "velocity (w of shape (4, 3), learning_rate 0.05, a given velocity): expected a tuple "
        "(next_w, config), got an array of shape (4, 3) float64",
        "sgd_momentum returns a pair: return next_w, config, with config['velocity'] holding "
        "the new state", id="returns-only-next-w"),
    pytest.param(
        _edit(SGD_CS231N, ('config["velocity"] = v', 'config["v"] = v'),
              ('config.get("velocity", np.zeros_like(w))', 'config.get("v", np.zeros_like(w))')),
        SGD_EVERYWHERE, "fresh_run",
        "sgd_momentum, update 5 of 5 from config=None (w of shape (3, 4), 5 updates): config: "
        "the returned config has no key 'velocity' (its keys: learning_rate, momentum, v)",
        "keep the state in config['velocity']: the next update reads it from there",
        id="velocity-under-another-key"),
])
def test_common_sgd_failures_get_a_message_and_a_hint(grade_one, source, fails, pinned,
                                                      message, diagnosis):
    result = grade_one(SGD, {"optim.py": source})
    assert_fails(result, SGD, fails)
    assert len(result.checks) == len(SGD_EVERYWHERE)  # every check judged: the worker went on
    got = check(result, pinned)
    assert got.message == message
    assert got.diagnosis.startswith(diagnosis), got.diagnosis


@pytest.mark.parametrize("source", [
    reference_source("optim"), SGD_CS231N, SGD_VIA_BUFFER, SGD_ELEMENTWISE,
], ids=["reference", "cs231n-updates-config-in-place", "torch-buffer-inside",
        "elementwise-loop"])
def test_correct_sgd_momentum_gets_full_marks(grade_one, source):
    assert_full_marks(grade_one(SGD, {"optim.py": source}))


# ============================================================================ rmsprop

RMS = "optim.rmsprop"


@pytest.mark.parametrize("lr, alpha, eps, scale, shape", [
    (1e-2, 0.99, 1e-8, 1.0, (3, 4)), (1e-2, 0.99, 1e-8, 1e-7, (6,)),
    (0.05, 0.9, 1e-4, 1e-3, (2, 5)), (1e-3, 0.5, 1e-6, 10.0, (2, 3, 2)),
], ids=["defaults", "tiny-gradients", "custom", "fast-decay-large-gradients"])
def test_reference_rmsprop_matches_torch_rmsprop(lr, alpha, eps, scale, shape):
    rng = np.random.default_rng(6)
    w0, grads = rng.standard_normal(shape), [scale * rng.standard_normal(shape)
                                             for _ in range(8)]
    want, state = _torch_trajectory(torch.optim.RMSprop, w0, grads, lr=lr, alpha=alpha, eps=eps)
    w, config = w0, {"learning_rate": lr, "decay_rate": alpha, "epsilon": eps}
    for k, g in enumerate(grads):
        w, config = REF.rmsprop(w, g, config)
        np.testing.assert_allclose(w, want[k], rtol=1e-10, atol=0, err_msg=f"update {k}")
    np.testing.assert_allclose(config["cache"], state["square_avg"].numpy(), rtol=1e-10, atol=0)


def test_epsilon_inside_the_root_differs_from_torch_only_near_tiny_gradients():
    """Why tiny_gradients exists: with gradients of 0.5 to 2, sqrt(cache + eps) stays inside
    the next_w tolerance of the ordinary checks; with 1e-7 it is thousands of times off."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(6)
    for scale, low, worst in ((1.0, 0.5, 2e-5), (1e-7, 0.2, None)):
        grads = [scale * rng.choice((-1.0, 1.0), 6) * rng.uniform(low, 2.0, 6) for _ in range(3)]
        want = _torch_trajectory(torch.optim.RMSprop, w0, grads, lr=1e-2, alpha=0.99,
                                 eps=1e-8)[0][-1]
        w, config = w0, None
        for g in grads:
            w, config = rules_bank._flawed_rmsprop(w, g, config, flaw="eps_inside_sqrt")
        error = np.max(np.abs(w - want)) / 1e-2  # in learning rates
        if worst is None:
            assert np.max(np.abs((w - w0) / (want - w0))) < 1e-2  # steps 100x too small
        else:
            assert error < worst < rules_bank.W_ATOL_PER_LR


RMS_CS231N = '''
import numpy as np


def rmsprop(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    rho = config["decay_rate"]
    config["cache"] = rho * config["cache"] + (1 - rho) * dw**2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"])
    return next_w, config
'''

RMS_TORCH_STYLE = '''
import math
import numpy as np

DEFAULTS = dict(learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8)


def rmsprop(w, dw, config=None):
    cfg = {**DEFAULTS, **(config or {})}
    square_avg = np.array(cfg.get("cache", np.zeros(w.shape)), dtype=float)  # a copy
    square_avg += (1 - cfg["decay_rate"]) * (dw * dw - square_avg)   # lerp, as torch can
    avg = np.sqrt(square_avg)
    avg += cfg["epsilon"]
    next_w = w.copy()
    next_w -= cfg["learning_rate"] * (dw / avg)
    cfg["cache"] = square_avg
    return next_w, cfg
'''

RMS_ELEMENTWISE = '''
import math
import numpy as np


def rmsprop(w, dw, config=None):
    config = dict(config) if config else {}
    lr = config.get("learning_rate", 1e-2)
    rho = config.get("decay_rate", 0.99)
    eps = config.get("epsilon", 1e-8)
    cache = np.array(config["cache"], dtype=float) if "cache" in config else np.zeros_like(w)
    out = np.empty_like(w)
    cf, of, wf, gf = cache.reshape(-1), out.reshape(-1), w.reshape(-1), dw.reshape(-1)
    for i in range(wf.size):
        cf[i] = rho * cf[i] + (1 - rho) * gf[i] * gf[i]
        of[i] = wf[i] - lr * gf[i] / (math.sqrt(cf[i]) + eps)
    config["cache"] = cache
    return out, config
'''

_CACHE = 'config["cache"] = rho * config["cache"] + (1 - rho) * dw**2'
_RMS_STEP = ('next_w = w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + '
             'config["epsilon"])')
RMS_EPSILON = {"tiny_gradients", "custom_hyperparameters"}

# name: (source, the checks it fails (None: all), the check whose message is pinned, its start)
RMS_MISTAKE_SOURCES = {
    "eps_inside_sqrt": (
        _edit(RMS_CS231N, ('(np.sqrt(config["cache"]) + config["epsilon"])',
                           'np.sqrt(config["cache"] + config["epsilon"])')),
        RMS_EPSILON, "tiny_gradients",
        "rmsprop, update 1 of 3 from config=None (w of shape (6,), gradients 2e-8 to 2e-7, 3 "
        "updates): next_w: 6 of 6 elements differ"),
    "no_epsilon": (
        _edit(RMS_CS231N, ('(np.sqrt(config["cache"]) + config["epsilon"])',
                           'np.sqrt(config["cache"])')),
        RMS_EPSILON | {"zero_gradients"}, "zero_gradients",
        "rmsprop, update 1 of 3 from config=None (w of shape (10,), 5 of whose gradients are "
        "exactly 0, 3 updates): next_w: 5 elements with NaN where the expected value is "
        "finite"),
    "no_sqrt": (
        _edit(RMS_CS231N, ('np.sqrt(config["cache"])', 'config["cache"]')), None, "one_step",
        "rmsprop, one update from a config with learning_rate 0.01, a given cache (w of shape "
        "(4, 3), a given cache (5 earlier updates)): next_w: 12 of 12 elements differ"),
    "swapped_decay": (
        _edit(RMS_CS231N, (_CACHE, 'config["cache"] = (1 - rho) * config["cache"] + rho * '
                                   'dw**2')), None, "fresh_run",
        "rmsprop, update 1 of 5 from config=None (w of shape (3, 4), gradients 0.5 to 2, 5 "
        "updates): next_w: 12 of 12 elements differ"),
    "stale_cache": (
        _edit(RMS_CS231N, (_CACHE + "\n    " + _RMS_STEP, _RMS_STEP + "\n    " + _CACHE)),
        None, "fresh_run", "rmsprop, update 1 of 5 from config=None"),
    "cache_restarted": (
        _edit(RMS_CS231N, (_CACHE, 'config["cache"] = (1 - rho) * dw**2')), None, "one_step",
        "rmsprop, one update from a config with learning_rate 0.01, a given cache"),
    "rms_ignores_hyperparameters": (
        _edit(RMS_CS231N, ('rho = config["decay_rate"]', "rho = 0.99"),
              (_RMS_STEP, "next_w = w - 1e-2 * dw / (np.sqrt(config['cache']) + 1e-8)")),
        {"default_config", "custom_hyperparameters"}, "custom_hyperparameters",
        "rmsprop, update 1 of 4 from a config with learning_rate 0.05, decay_rate 0.9, epsilon "
        "0.0001"),
    "rms_drops_hyperparameters": (
        _edit(RMS_CS231N, ("return next_w, config",
                           'return next_w, {"cache": config["cache"]}')),
        {"custom_hyperparameters"}, "custom_hyperparameters",
        "rmsprop, update 2 of 4 from a config with learning_rate 0.05, decay_rate 0.9, epsilon "
        "0.0001"),
}
RMS_EVERYWHERE = {c.name for c in catalog()[RMS].checks}


def test_every_declared_rmsprop_mistake_has_a_test():
    assert {m.name for m in rules_bank.RMS_MISTAKES} == set(RMS_MISTAKE_SOURCES)


@pytest.mark.parametrize("name", list(RMS_MISTAKE_SOURCES), ids=list(RMS_MISTAKE_SOURCES))
def test_rmsprop_mistake_fails_its_checks_and_is_named(grade_one, name):
    source, fails, pinned, message = RMS_MISTAKE_SOURCES[name]
    result = grade_one(RMS, {"optim.py": source})
    _assert_mistake_named(result, RMS, rules_bank.RMS_MISTAKES, name, fails or RMS_EVERYWHERE,
                          pinned, message)


@pytest.mark.parametrize("source", [
    reference_source("optim"), RMS_CS231N, RMS_TORCH_STYLE, RMS_ELEMENTWISE,
], ids=["reference", "cs231n-updates-config-in-place", "torch-style-lerp-and-copies",
        "elementwise-loop"])
def test_correct_rmsprop_gets_full_marks(grade_one, source):
    assert_full_marks(grade_one(RMS, {"optim.py": source}))


def test_an_rmsprop_that_changes_w_in_place_is_judged_on_what_it_returned(grade_one):
    source = _edit(RMS_CS231N, (_RMS_STEP, 'w -= config["learning_rate"] * dw / (np.sqrt('
                                           'config["cache"]) + config["epsilon"])\n'
                                           '    next_w = w'))
    result = grade_one(RMS, {"optim.py": source})
    assert_full_marks(result)
    assert any(c.mutated for c in result.checks)
    assert any("changed its input arrays in place" in note for c in result.checks
               for note in c.notes)


# ============================================================================ early stopping

ES = "optim.early_stopping"


def _independent_stop(losses, patience, min_delta):
    """The rule written another way: from the epochs that improve, the first epoch at which
    the streak of non-improving epochs since the last improvement reaches patience."""
    improving, best = [], float("inf")
    for epoch, loss in enumerate(losses):
        if not np.isnan(loss) and best - loss > min_delta:
            improving.append(epoch)
            best = loss
    for epoch in range(len(losses)):
        if epoch in improving:
            continue
        last = max([e for e in improving if e < epoch], default=-1)
        if epoch - last >= max(patience, 1):
            return epoch
    return -1


def test_reference_early_stopping_matches_an_independent_rule_on_every_check_and_seed():
    exercise = catalog()[ES]
    seen = set()
    for seed in range(30):
        for chk in exercise.checks:
            if chk.name == "invalid_arguments":
                continue
            for call in chk.build(exercise.check_rng(chk, seed)).calls:
                want = _independent_stop(*call.args)
                assert REF.early_stopping_run(*call.args) == want, (chk.name, call.args)
                seen.add(want)
    assert -1 in seen and 0 not in seen and len(seen) > 8


@pytest.mark.parametrize("losses, patience, min_delta, stop", [
    ([1.0, 0.75, 0.5, 0.625, 0.5625, 0.5, 0.25], 3, 0.0, 5),
    ([1.0, 0.875, 0.75, 0.625], 0, 0.0, -1),
    ([1.0, 1.0], 0, 0.0, 1),
    ([1.0, 0.875, 0.75], 1, 0.125, 1),
    ([1.0, float("nan"), 0.5, float("nan")], 2, 0.0, -1),
    ([float("nan"), float("nan")], 2, 0.0, 1),
], ids=["tie-with-best", "patience-0-always-improving", "patience-0-flat",
        "drop-of-exactly-min-delta", "nan-then-better", "nan-from-the-start"])
def test_reference_early_stopping_on_hand_checked_curves(losses, patience, min_delta, stop):
    assert REF.early_stopping_run(losses, patience, min_delta) == stop
    assert _independent_stop(losses, patience, min_delta) == stop


def test_reference_early_stopping_refuses_negative_arguments():
    with pytest.raises(ValueError, match="patience"):
        REF.EarlyStopping(-1)
    with pytest.raises(ValueError, match="min_delta"):
        REF.EarlyStopping(3, -0.1)


ES_KERAS = '''
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        if patience < 0 or min_delta < 0:
            raise ValueError("patience and min_delta must be >= 0")
        self.patience = patience
        self.min_delta = min_delta
        self.best = float("inf")
        self.wait = 0

    def step(self, val_loss):
        if val_loss < self.best - self.min_delta:
            self.best = val_loss
            self.wait = 0
            return False
        self.wait += 1
        return self.wait >= self.patience

''' + _given("early_stopping_run")

ES_LIGHTNING = '''
import math

import numpy as np


class EarlyStopping:
    """Lightning's form: compare current + min_delta with best; NaN handled explicitly."""

    def __init__(self, patience, min_delta=0.0):
        if patience < 0:
            raise ValueError(f"patience {patience} < 0")
        if min_delta < 0:
            raise ValueError(f"min_delta {min_delta} < 0")
        self.patience, self.min_delta = int(patience), float(min_delta)
        self.best_score = np.inf
        self.wait_count = 0

    def step(self, val_loss):
        current = float(val_loss)
        if not math.isnan(current) and np.less(current + self.min_delta, self.best_score):
            self.best_score = current
            self.wait_count = 0
            return False
        self.wait_count += 1
        return bool(self.wait_count >= self.patience)

''' + _given("early_stopping_run")

ES_COUNTDOWN = '''
class EarlyStopping:
    """Counts down the epochs left instead of counting bad ones up."""

    def __init__(self, patience, min_delta=0.0):
        if not (patience >= 0 and min_delta >= 0):
            raise ValueError("negative patience or min_delta")
        self.patience, self.min_delta = patience, min_delta
        self.best = None
        self.left = max(patience, 1)

    def step(self, val_loss):
        if val_loss == val_loss and (self.best is None or self.best - val_loss > self.min_delta):
            self.best, self.left = val_loss, max(self.patience, 1)
            return False
        self.left -= 1
        return self.left <= 0

''' + _given("early_stopping_run")

_IMPROVES = "if val_loss < self.best - self.min_delta:"

# name: (source, the checks it fails, the check whose message is pinned, that message)
ES_MISTAKE_SOURCES = {
    "reduce_lr_count": (
        _edit(ES_KERAS, ("return self.wait >= self.patience", "return self.wait > self.patience")),
        {"fixed_curves", "min_delta", "nan_losses", "random_curves"}, "fixed_curves",
        "early_stopping_run([1, 0.75, 0.5, 0.625, 0.5625, 0.5, 0.25] (7 epochs), patience=3, "
        "min_delta=0) returned the int -1, expected 5: epochs 3 to 5 (3 in a row) do not go "
        "below the best loss 0.5 (epoch 2): the count of non-improving epochs reaches 3 >= "
        "patience = 3 at epoch 5"),
    "stops_on_improvement": (
        _edit(ES_KERAS, ("            self.wait = 0\n            return False",
                         "            self.wait = 0\n"
                         "            return self.wait >= self.patience")),
        {"patience_zero"}, "patience_zero",
        "early_stopping_run([1, 0.5, 0.75, 0.25] (4 epochs), patience=0, min_delta=0) returned "
        "the int 0, expected 2: epoch 2 does not go below the best loss 0.5 (epoch 1): the "
        "count of non-improving epochs reaches 1 >= patience = 0 at epoch 2"),
    "no_reset": (
        _edit(ES_KERAS, ("            self.wait = 0\n", "")),
        {"fixed_curves", "min_delta", "nan_losses", "random_curves"}, "fixed_curves",
        "early_stopping_run([0.75, 0.875, 0.625, 0.6875, 0.625, 0.5, 0.5625, 0.5625, 0.5625] "
        "(9 epochs), patience=2, min_delta=0) returned the int 3, expected 4: epochs 3 to 4 (2 in "
        "a row) do not go below the best loss 0.625 (epoch 2): the count of non-improving "
        "epochs reaches 2 >= patience = 2 at epoch 4"),
    "previous_epoch": (
        _edit(ES_KERAS, ("        self.wait += 1\n", "        self.best = val_loss\n"
                                                     "        self.wait += 1\n"),
              (_IMPROVES, _IMPROVES + "  # best: the last loss")),
        {"fixed_curves", "min_delta", "nan_losses", "random_curves"}, "fixed_curves",
        "early_stopping_run([1, 0.75, 0.5, 0.625, 0.5625, 0.5, 0.25] (7 epochs), patience=3, "
        "min_delta=0) returned the int -1, expected 5"),
    "creeping_best": (
        _edit(ES_KERAS, ("        self.wait += 1\n",
                         "        self.best = min(self.best, val_loss)\n"
                         "        self.wait += 1\n")),
        {"min_delta", "random_curves"}, "min_delta",
        "early_stopping_run([1, 0.875, 0.9375, 0.8125, 0.90625, 0.96875] (6 epochs), "
        "patience=3, min_delta=0.125) returned the int 3, expected -1: no 3 epochs in a row "
        "fail to improve on the best loss by more than min_delta, so it never stops (-1)"),
    "non_strict": (
        _edit(ES_KERAS, (_IMPROVES, "if val_loss <= self.best - self.min_delta:")),
        {"fixed_curves", "min_delta", "patience_zero"}, "min_delta",
        "early_stopping_run([1, 1.03125, 0.875, 0.9375, 1, 1.0625] (6 epochs), patience=3, "
        "min_delta=0.125) returned the int 5, expected 3: epochs 1 to 3 (3 in a row) do not go "
        "below the best loss 1 (epoch 0) - min_delta = 0.875: the count of non-improving "
        "epochs reaches 3 >= patience = 3 at epoch 3"),
    "ignores_min_delta": (
        _edit(ES_KERAS, (_IMPROVES, "if val_loss < self.best:")),
        {"min_delta", "random_curves"}, "min_delta",
        "early_stopping_run([1, 1.03125, 0.875, 0.9375, 1, 1.0625] (6 epochs), patience=3, "
        "min_delta=0.125) returned the int 5, expected 3"),
    "nan_improves": (
        _edit(ES_KERAS, (_IMPROVES, "if not val_loss >= self.best - self.min_delta:")),
        {"nan_losses"}, "nan_losses",
        "early_stopping_run([1, nan, 0.5, nan, nan, nan, 0.625, 0.75] (8 epochs), patience=3, "
        "min_delta=0) returned the int -1, expected 5: epochs 3 to 5 (3 in a row) do not go "
        "below the best loss 0.5 (epoch 2): the count of non-improving epochs reaches 3 >= "
        "patience = 3 at epoch 5"),
}


def test_every_declared_early_stopping_mistake_has_a_test():
    assert {m.name for m in stopping_bank.STOP_MISTAKES} == set(ES_MISTAKE_SOURCES)


def test_each_early_stopping_mistake_alone_explains_a_public_or_edge_check():
    """The curves are chosen so that on the fixed checks no two mistakes stop alike."""
    exercise = catalog()[ES]
    for chk in exercise.checks:
        if chk.name in ("random_curves", "invalid_arguments"):
            continue
        case = chk.build(exercise.check_rng(chk, 0))
        right = [REF.early_stopping_run(*call.args) for call in case.calls]
        wrong = [tuple(m.variant(case)) for m in stopping_bank.STOP_MISTAKES]
        failing = [w for w in wrong if list(w) != right]
        assert len(set(failing)) == len(failing), chk.name


@pytest.mark.parametrize("name", list(ES_MISTAKE_SOURCES), ids=list(ES_MISTAKE_SOURCES))
def test_early_stopping_mistake_fails_its_checks_and_is_named(grade_one, name):
    source, fails, pinned, message = ES_MISTAKE_SOURCES[name]
    result = grade_one(ES, {"optim.py": source})
    _assert_mistake_named(result, ES, stopping_bank.STOP_MISTAKES, name, fails, pinned, message)


def test_early_stopping_without_argument_checks_loses_that_point(grade_one):
    source = _edit(ES_KERAS, ('        if patience < 0 or min_delta < 0:\n            raise '
                              'ValueError("patience and min_delta must be >= 0")\n', ""))
    result = grade_one(ES, {"optim.py": source})
    assert_fails(result, ES, {"invalid_arguments"})
    assert check(result, "invalid_arguments").message == (
        "early_stopping_run for patience -1, and min_delta -0.125 should raise ValueError: "
        "patience must be >= 0; it returned the int -1")


def test_a_step_that_returns_nothing_never_stops_and_is_told_so(grade_one):
    source = _edit(ES_KERAS, ("        return self.wait >= self.patience",
                              "        self.stop = self.wait >= self.patience"))
    result = grade_one(ES, {"optim.py": source})
    assert_fails(result, ES, {"fixed_curves", "min_delta", "patience_zero", "nan_losses",
                              "random_curves"})
    assert check(result, "fixed_curves").message.startswith(
        "early_stopping_run([1, 0.75, 0.5, 0.625, 0.5625, 0.5, 0.25] (7 epochs), patience=3, "
        "min_delta=0) returned the int -1, expected 5: epochs 3 to 5 (3 in a row)")
    assert check(result, "fixed_curves").diagnosis == (
        "your runs never stop: step() must RETURN True at the patience-th non-improving epoch "
        "in a row (return count >= patience)")
    assert check(result, "nan_losses").diagnosis == check(result, "fixed_curves").diagnosis


@pytest.mark.parametrize("source", [
    reference_source("optim"), ES_KERAS, ES_LIGHTNING, ES_COUNTDOWN,
], ids=["reference", "keras-style", "lightning-style-explicit-nan", "countdown"])
def test_correct_early_stopping_gets_full_marks(grade_one, source):
    assert_full_marks(grade_one(ES, {"optim.py": source}))


# ============================================================================ timing

ES_HISTORY = '''
class EarlyStopping:
    """Right, but it replays the whole history at every step: a run is quadratic."""

    def __init__(self, patience, min_delta=0.0):
        if patience < 0 or min_delta < 0:
            raise ValueError("patience and min_delta must be >= 0")
        self.patience, self.min_delta = patience, min_delta
        self.history = []

    def step(self, val_loss):
        self.history.append(val_loss)
        best, wait = float("inf"), 0
        for loss in self.history:
            if loss < best - self.min_delta:
                best, wait = loss, 0
            else:
                wait += 1
        return wait > 0 and wait >= self.patience

''' + _given("early_stopping_run")


def test_early_stopping_that_replays_the_history_keeps_its_points(grade_one):
    """Quadratic in the run's length (measured 320x the reference on the timing run of 2,000
    epochs, a flag at 60x: benchmarks/timing_flags.py); right all the same."""
    assert_full_marks(grade_one(ES, {"optim.py": ES_HISTORY}))


# The per-sample minibatch loop and the history replay measure 2x to 3x above their flags only;
# tests/test_timing_flags.py checks those flags on code slow by construction.
@pytest.mark.slow
@pytest.mark.parametrize("exercise_id, source, words", [
    (SGD, SGD_ELEMENTWISE, "instead of looping over the parameters"),
    (RMS, RMS_ELEMENTWISE, "instead of looping over the parameters"),
], ids=["sgd-elementwise", "rmsprop-elementwise"])
def test_the_timing_flags_slow_correct_code(grade_one, exercise_id, source, words):
    result = grade_one(exercise_id, {"optim.py": source}, time_it=True)
    assert_full_marks(result)
    assert result.timing is not None and result.timing.slow, result.timing
    assert words in result.timing.advice


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id, source", [
    (MB, CHOICE_TAKE), (SGD, SGD_CS231N), (RMS, RMS_CS231N), (ES, ES_LIGHTNING),
], ids=["minibatch-choice-take", "sgd-cs231n", "rmsprop-cs231n", "es-lightning-numpy-scalars"])
def test_the_timing_leaves_vectorized_code_alone(grade_one, exercise_id, source):
    result = grade_one(exercise_id, {"optim.py": source}, time_it=True)
    assert_full_marks(result)
    assert result.timing is not None and not result.timing.slow, result.timing
