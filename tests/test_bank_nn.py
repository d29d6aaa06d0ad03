"""nn.two_layer_mlp_loss and nn.dropout: the MLP reference against torch autograd, the dropout
reference's statistics over many seeds (false failures, calibration, power), the statistics
helpers, and realistic right and wrong submissions graded through the worker (each wrong one
loses points with a message saying what differs, and each declared mistake gets its
diagnosis)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from conftest import benchmark_module, cases, check, failed_checks
from grader import stats
from grader.bank import nn as bank
from grader.catalog import catalog, reference_module
from grader.compare import compare

REF = reference_module("nn")
MLP_EXPLAIN = {m.name: m.explain for m in bank.MLP_MISTAKES}
DROP_EXPLAIN = bank.DROPOUT_MISTAKES


BENCH = benchmark_module("dropout_false_failures")


# ============================================================================ statistics helpers

def test_thresholds_and_their_false_failure_rate():
    assert stats.Z_LIMIT == 5.3
    assert stats.FALSE_FAILURE == pytest.approx(1.158e-7, rel=1e-3)
    assert stats.MAX_TESTS_PER_CHECK * stats.FALSE_FAILURE <= stats.CHECK_FALSE_FAILURE
    assert (stats.MAX_TESTS_PER_CHECK + 1) * stats.FALSE_FAILURE > stats.CHECK_FALSE_FAILURE


@pytest.mark.parametrize("n,q", [(1, 0.5), (7, 0.2), (30, 0.8), (200, 0.35), (120, 0.01)],
                         ids=lambda v: str(v))
def test_binomial_tails_are_exact(n, q):
    exact = Fraction(q)  # exact rationals: the far tails are far below float's range
    pmf = [math.comb(n, j) * exact**j * (1 - exact) ** (n - j) for j in range(n + 1)]
    for k in sorted({0, n // 3, n // 2, n}):
        lower, upper = stats.binomial_tails(k, n, q)
        assert lower == pytest.approx(float(sum(pmf[:k + 1])), rel=1e-9)
        assert upper == pytest.approx(float(sum(pmf[k:])), rel=1e-9)


def test_binomial_fraction_passes_the_expected_count_and_fails_far_ones():
    assert stats.binomial_fraction("share", 4000, 20000, 0.2).passed
    # 5.3 standard deviations of Binomial(20000, 0.2) are 300 successes.
    assert stats.binomial_fraction("share", 4280, 20000, 0.2).passed
    low = stats.binomial_fraction("share", 3650, 20000, 0.2)
    assert not low.passed and low.z == pytest.approx(-6.19, abs=0.01)
    assert "share is 0.1825, expected 0.2 (z = -6.2, outside +-5.3)" in str(low)
    assert stats.binomial_fraction("none", 0, 10, 0.0).passed
    assert not stats.binomial_fraction("none", 1, 10, 0.0).passed


def test_consistent_rates_names_the_swapped_probability():
    assert stats.consistent_rates(16000, 20000, {"p": 0.2, "1 - p": 0.8}) == ["1 - p"]
    assert stats.consistent_rates(10000, 20000, {"p": 0.5, "1 - p": 0.5}) == ["p", "1 - p"]


def test_weighted_mean_test_and_its_sample_size_guard():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 2.0, 20000)
    keep = rng.random(x.shape) >= 0.2
    assert stats.weighted_bernoulli_mean("m", x, x * keep / 0.8, 0.8).passed
    unscaled = stats.weighted_bernoulli_mean("m", x, x * keep, 0.8)
    assert not unscaled.passed and unscaled.observed == pytest.approx(0.8, abs=0.01)
    with pytest.raises(ValueError, match="too few for the normal approximation"):
        stats.weighted_bernoulli_mean("m", x[:100], x[:100], 0.8)


def test_pair_agreement_catches_a_shared_mask():
    rng = np.random.default_rng(2)
    independent = rng.random((200, 100)) >= 0.3
    shared = np.broadcast_to(rng.random(100) >= 0.3, (200, 100))
    assert stats.pair_agreement("rows", independent, 0, 0.7).passed
    result = stats.pair_agreement("rows", shared, 0, 0.7)
    assert not result.passed and result.observed == 1.0 and result.expected == pytest.approx(0.58)
    assert stats.pair_agreement("columns", independent, 1, 0.7).passed
    by_row = np.broadcast_to(rng.random((200, 1)) >= 0.3, (200, 100))
    assert stats.pair_agreement("columns", by_row, 1, 0.7).observed == 1.0


# ============================================================================ MLP reference

def _torch_loss_and_grads(x, y, w1, b1, w2, b2):
    import torch

    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in {"W1": w1, "b1": b1, "W2": w2, "b2": b2}.items()}
    hidden = torch.relu(torch.tensor(x) @ params["W1"] + params["b1"])
    scores = hidden @ params["W2"] + params["b2"]
    loss = torch.nn.functional.cross_entropy(scores, torch.tensor(y))
    loss.backward()
    return loss.item(), {k: p.grad.numpy() for k, p in params.items()}


@pytest.mark.parametrize("check_name", [c.name for c in catalog()["nn.two_layer_mlp_loss"].checks])
def test_mlp_reference_matches_torch_autograd(check_name):
    for check_, case in cases("nn.two_layer_mlp_loss", range(20)):
        if check_.name != check_name:
            continue
        loss, grads = REF.two_layer_mlp_loss(*case.calls[0].args)
        want_loss, want_grads = _torch_loss_and_grads(*case.calls[0].args)
        assert np.isfinite(loss) and loss == pytest.approx(want_loss, rel=1e-8)
        assert list(grads) == ["W1", "b1", "W2", "b2"]
        for key, want in want_grads.items():
            assert grads[key].shape == want.shape and grads[key].dtype == np.float64
            np.testing.assert_allclose(grads[key], want, rtol=1e-8, atol=1e-12)


def _onehot_mlp(X, y, W1, b1, W2, b2):
    n = X.shape[0]
    h = np.maximum(0, X @ W1 + b1)
    s = h @ W2 + b2
    e = np.exp(s - s.max(axis=1, keepdims=True))
    P = e / e.sum(axis=1, keepdims=True)
    Y = np.eye(W2.shape[1])[y]
    dS = (P - Y) / n
    dh = dS @ W2.T
    dh[h <= 0] = 0
    return -np.sum(Y * np.log(P)) / n, {"W1": X.T @ dh, "b1": dh.sum(0), "W2": h.T @ dS,
                                         "b2": dS.sum(0)}


def test_mlp_tolerance_leaves_room_for_other_formulations():
    """A one-hot, -log(softmax) formulation uses under 1% of the tolerance on every case."""
    worst = 0.0
    for _, case in cases("nn.two_layer_mlp_loss", range(300)):
        args = case.calls[0].args
        (loss, grads), (ref_loss, ref_grads) = _onehot_mlp(*args), REF.two_layer_mlp_loss(*args)
        pairs = [(loss, ref_loss)] + [(grads[k], ref_grads[k]) for k in ref_grads]
        for got, want in pairs:
            used = np.abs(got - want) / (bank.MLP_ATOL + bank.MLP_RTOL * np.abs(want))
            worst = max(worst, float(np.max(used)))
    assert worst < 0.01


def test_every_mlp_mistake_differs_from_the_reference_somewhere():
    built = cases("nn.two_layer_mlp_loss")
    for mistake in bank.MLP_MISTAKES:
        differs = []
        for _, case in built:
            want = REF.two_layer_mlp_loss(*case.calls[0].args)
            differs.append(compare(mistake.variant(case), want, rtol=bank.MLP_RTOL,
                                   atol=bank.MLP_ATOL, check_dtype=False) is not None)
        assert any(differs), mistake.name


# ============================================================================ MLP submissions

MLP_SOURCE = '''
import numpy as np

def two_layer_mlp_loss(X, y, W1, b1, W2, b2):
    N = X.shape[0]
    A = X @ W1 + b1
    h = np.maximum(A, 0)
    s = h @ W2 + b2
    s = s - s.max(axis=1, keepdims=True)
    P = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.log(P[np.arange(N), y]).mean()
    dS = P.copy()
    dS[np.arange(N), y] -= 1
    dS /= N
    dW2 = h.T @ dS
    db2 = dS.sum(axis=0)
    dA = (dS @ W2.T) * (A > 0)
    dW1 = X.T @ dA
    db1 = dA.sum(axis=0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
'''

ALL_MLP = {"small", "batch", "bias_moves_mask", "large_logits", "dead_units", "one_sample"}

# id: (replace, with, failing checks, score, message fragment, mistake name)
MLP_WRONG = {
    "relu_mask_without_bias": (
        "dA = (dS @ W2.T) * (A > 0)", "dA = (dS @ W2.T) * (X @ W1 > 0)", ALL_MLP, 0.0,
        "the gradients differ: [1]['W1']: 54 of 60 elements differ", "mlp_mask_without_bias"),
    "no_relu_mask_in_backprop": (
        "dA = (dS @ W2.T) * (A > 0)", "dA = dS @ W2.T", ALL_MLP, 0.0,
        "worst at [1]['W1'][0, 4]: got -0.373224, expected 0", "mlp_no_relu_mask"),
    "divided_by_n_twice": (
        "dW1 = X.T @ dA\n", "dW1 = X.T @ dA / N\n", ALL_MLP - {"one_sample"}, 0.5,
        "[1]['W1']: 108 of 108 elements differ (100.0%)", "mlp_divided_twice"),
    "summed_loss": (
        ".mean()\n    dS = P.copy()\n    dS[np.arange(N), y] -= 1\n    dS /= N",
        ".sum()\n    dS = P.copy()\n    dS[np.arange(N), y] -= 1", ALL_MLP - {"one_sample"}, 0.5,
        "the loss differs: [0]: got 55.0177, expected 1.7193", "mlp_sum_loss"),
    "softmax_without_max": (
        "s = s - s.max(axis=1, keepdims=True)", "pass", {"large_logits"}, 4.0,
        "[0]: 1 element with NaN where the expected value is finite", "mlp_naive_softmax"),
    "bias_grad_keepdims": (
        "db1 = dA.sum(axis=0)", "db1 = dA.sum(axis=0, keepdims=True)", ALL_MLP, 0.0,
        "[1]['b1']: shape (1, 9), expected (9,)", "mlp_bias_keepdims"),
    "bias_grad_wrong_axis": (
        "db2 = dS.sum(axis=0)", "db2 = dS.sum(axis=1)", ALL_MLP, 0.0,
        "[1]['b2']: shape (32,), expected (5,)", "mlp_bias_wrong_axis"),
    "no_minus_one_at_true_class": (
        "dS[np.arange(N), y] -= 1", "pass", ALL_MLP, 0.0,
        "two_layer_mlp_loss for N=32 samples, D=12, H=9, C=5: the gradients differ",
        "mlp_missing_minus_one"),
}


@pytest.mark.parametrize("name", list(MLP_WRONG), ids=list(MLP_WRONG))
def test_wrong_mlp_loses_points_with_message_and_diagnosis(grade_one, name):
    old, new, failing, score, fragment, mistake = MLP_WRONG[name]
    assert old in MLP_SOURCE
    result = grade_one("nn.two_layer_mlp_loss", {"nn.py": MLP_SOURCE.replace(old, new)})
    assert result.status in ("failed", "partial")
    assert result.score == score < result.max_score == 5.0
    assert failed_checks(result) == failing
    messages = " | ".join(c.message for c in result.checks if c.status == "failed")
    assert fragment in messages
    for c in result.checks:
        if c.status == "failed":
            assert c.message.startswith("two_layer_mlp_loss for N=")
            assert c.diagnosis == MLP_EXPLAIN[mistake], (c.name, c.diagnosis)


MLP_CORRECT = {
    "index_subtraction": MLP_SOURCE,
    "one_hot_log_softmax_einsum": '''
import numpy as np

def two_layer_mlp_loss(X, y, W1, b1, W2, b2):
    n, c = X.shape[0], W2.shape[1]
    pre = np.einsum("nd,dh->nh", X, W1) + b1[None, :]
    h = pre * (pre > 0)
    s = np.einsum("nh,hc->nc", h, W2) + b2
    m = s.max(axis=1, keepdims=True)
    log_p = s - m - np.log(np.exp(s - m).sum(axis=1, keepdims=True))
    Y = np.zeros((n, c))
    Y[np.arange(n), y] = 1.0
    loss = float(-(Y * log_p).sum() / n)
    dS = (np.exp(log_p) - Y) / n
    dh = np.where(h > 0, dS @ W2.T, 0.0)
    return loss, dict(W2=h.T @ dS, b2=dS.sum(axis=0), W1=X.T @ dh, b1=dh.sum(axis=0))
''',
    "per_layer_functions": '''
import numpy as np

def _affine(x, w, b):
    return x @ w + b, (x, w)

def _affine_back(d, cache):
    x, w = cache
    return d @ w.T, x.T @ d, np.sum(d, axis=0)

def two_layer_mlp_loss(X, y, W1, b1, W2, b2):
    a, c1 = _affine(X, W1, b1)
    h = np.maximum(a, 0.0)
    s, c2 = _affine(h, W2, b2)
    z = s - np.max(s, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(z), axis=1))
    loss = np.mean(lse - z[np.arange(len(y)), y])
    d = np.exp(z - lse[:, None])
    d[np.arange(len(y)), y] -= 1.0
    d /= len(y)
    dh, dW2, db2 = _affine_back(d, c2)
    _, dW1, db1 = _affine_back(dh * (a > 0), c1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
''',
}


@pytest.mark.parametrize("name", list(MLP_CORRECT), ids=list(MLP_CORRECT))
def test_correct_mlp_formulations_get_full_marks(grade_one, name):
    result = grade_one("nn.two_layer_mlp_loss", {"nn.py": MLP_CORRECT[name]})
    assert result.status == "passed", [c.message for c in result.checks]
    assert result.score == result.max_score == 5.0
    assert result.diagnosis is None and all(c.diagnosis is None for c in result.checks)


def test_mlp_with_torch_autograd_is_refused(grade_one):
    source = '''
import numpy as np
import torch

def two_layer_mlp_loss(X, y, W1, b1, W2, b2):
    t = {k: torch.tensor(v, requires_grad=True)
         for k, v in dict(W1=W1, b1=b1, W2=W2, b2=b2).items()}
    s = torch.relu(torch.tensor(X) @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    loss = torch.nn.functional.cross_entropy(s, torch.tensor(y))
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}
'''
    result = grade_one("nn.two_layer_mlp_loss", {"nn.py": source})
    assert result.score == 0
    assert "uses torch.autograd.backward, which this exercise does not allow" in (
        result.checks[0].message)


# ============================================================================ dropout reference

def test_dropout_reference_p_one_is_zeros_without_nan_or_warning():
    x = np.random.default_rng(0).standard_normal((5, 4))
    out, cache = REF.dropout_forward(x, {"p": 1.0, "mode": "train", "seed": 3})
    assert np.array_equal(out, np.zeros_like(x)) and np.isfinite(out).all()
    dx = REF.dropout_backward(np.ones_like(x), cache)
    assert np.array_equal(dx, np.zeros_like(x))


def test_the_statistical_checks_never_fail_the_reference_and_are_calibrated():
    """The fast version of benchmarks/dropout_false_failures.py (which runs 10,000 seeds)."""
    result = BENCH.false_failures(300, checks=BENCH.STATISTICAL)
    assert result["failed"] == {name: 0 for name in BENCH.STATISTICAL}
    assert set(result["z"]) == {(c, t) for c in BENCH.STATISTICAL
                                for t in ("drop_fraction", "mean", "row_pairs", "column_pairs")}
    for key, z in result["z"].items():
        # For a correct dropout each z is about standard normal, so E[z^2] = 1 (the mean of
        # 300 squares has standard deviation 0.08): a wrong variance formula shows here.
        assert 0.75 < float(np.mean(z**2)) < 1.25, key
        assert float(z.max()) < 4.5, key


@pytest.mark.parametrize("label", list(BENCH.CORRECT), ids=["reference", "RandomState", "binomial"])
def test_correct_dropouts_pass_every_check_over_seeds(label):
    result = BENCH.false_failures(30, BENCH.CORRECT[label])
    assert result["failed"] == {c.name: 0 for c in catalog()["nn.dropout"].checks}


def test_each_statistical_check_runs_at_most_the_allowed_number_of_tests():
    for check_, case in cases("nn.dropout"):
        if check_.name in BENCH.STATISTICAL:
            x, param = case.calls[0].args
            out, _ = REF.dropout_forward(x, param)
            evidence = bank.dropout_evidence(x, param["p"], out)
            assert 1 <= len(evidence.tests) <= stats.MAX_TESTS_PER_CHECK
            assert evidence.failures == [] and evidence.diagnosis is None


def test_every_wrong_dropout_is_caught_and_named():
    """The power of the checks, on 5 seeds (the benchmark measures 1,000)."""
    for name, row in BENCH.power(5).items():
        assert row["caught"] == 5, name
        if BENCH.WRONG[name][1] is not None:
            assert row["named"] == 5, name


def test_p_one_half_cannot_tell_keep_from_drop():
    """Why the checks use p = 0.2, 0.8 and 0.35: at p = 0.5 keep-with-probability-p and
    scale-by-1/p are exactly right."""
    rng = np.random.default_rng(5)
    x = bank._dropout_x(rng, (200, 100))
    swapped = x * (rng.random(x.shape) < 0.5) / 0.5
    assert bank.dropout_evidence(x, 0.5, swapped).failures == []
    at_02 = x * (rng.random(x.shape) < 0.2) / 0.2
    assert bank.dropout_evidence(x, 0.2, at_02).diagnosis == DROP_EXPLAIN["keep_probability"]


# ============================================================================ dropout submissions

DROPOUT_SOURCE = '''
import numpy as np

def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, None
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = rng.random(x.shape) >= p
    out = np.zeros_like(x) if p == 1 else x * mask / (1 - p)
    return out, (mask, p)

def dropout_backward(dout, cache):
    if cache is None:
        return dout
    mask, p = cache
    return np.zeros_like(dout) if p == 1 else dout * mask / (1 - p)
'''

CS231N_KEEP_PROBABILITY = '''
import numpy as np

def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    else:
        out = x
    return out, (dropout_param, mask)

def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask
    return dout
'''

FORWARD_STATS = {"forward_train", "forward_train_p08", "forward_3d"}

# id: (source or (replace, with), failing checks, score, message fragment, mistake key)
DROPOUT_WRONG = {
    "p_is_keep_probability": (
        CS231N_KEEP_PROBABILITY,
        FORWARD_STATS | {"backward_train", "backward_train_p08", "p_zero", "p_one", "no_seed"}, 1.5,
        "the share of zeros in out is 0.8033, expected 0.2 (z = +213.3, outside +-5.3)",
        "keep_probability"),
    "no_rescaling": (
        ("x * mask / (1 - p)", "x * mask"), FORWARD_STATS | {"no_seed"}, 4.0,
        "a kept unit must be x / (1 - p) = x * 1.25, but at [0, 0] x = 1.38125 and out = "
        "1.38125 (x * 1); every kept unit is x * 1", "no_rescale"),
    "scaled_by_one_over_p": (
        ("x * mask / (1 - p)", "x * mask / p"), FORWARD_STATS | {"p_zero", "no_seed"}, 3.5,
        "every kept unit is x * 5; mean(out) / mean(x) is 3.9663, expected 1",
        "scale_one_over_p"),
    "one_mask_for_the_batch": (
        ("rng.random(x.shape)", "rng.random(x.shape[1:])"), FORWARD_STATS, 4.5,
        "the share of units on which rows 2i and 2i+1 are both kept or both dropped is 1, "
        "expected 0.68 (z = +68.6, outside +-5.3", "shared_rows"),
    "backward_without_mask": (
        ("dout * mask / (1 - p)", "dout / (1 - p)"), {"backward_train", "backward_train_p08"}, 5.5,
        "dropout_backward for x of shape (60, 50), p=0.2, mode='train': 585 of 3000 elements "
        "differ", "backward_no_mask"),
    "backward_without_scale": (
        ("dout * mask / (1 - p)", "dout * mask"), {"backward_train", "backward_train_p08"}, 5.5,
        "(dx = dout * mask / (1 - p), with the mask of your forward's out)",
        "backward_no_scale"),
    "test_mode_scales": (
        ('return x, None', 'return x * (1 - p), None'), {"test_mode"}, 6.0,
        "dropout_forward for x of shape (30, 20), p=0.3, mode='test': 600 of 600 elements "
        "differ", "test_scales"),
    "p_one_divides_by_zero": (
        ("np.zeros_like(x) if p == 1 else x * mask / (1 - p)", "x * mask / (1 - p)"), {"p_one"},
        6.5, "600 elements with NaN where the expected value is finite", "p_one_nan"),
}


def _dropout_source(spec):
    if isinstance(spec, str):
        return spec
    old, new = spec
    assert old in DROPOUT_SOURCE
    return DROPOUT_SOURCE.replace(old, new)


@pytest.mark.parametrize("name", list(DROPOUT_WRONG), ids=list(DROPOUT_WRONG))
def test_wrong_dropout_loses_points_with_message_and_diagnosis(grade_one, name):
    spec, failing, score, fragment, key = DROPOUT_WRONG[name]
    result = grade_one("nn.dropout", {"nn.py": _dropout_source(spec)})
    assert result.status == "partial"
    assert result.score == score < result.max_score == 7.0
    assert failed_checks(result) == failing
    first = next(c for c in result.checks if c.status == "failed")
    assert fragment in first.message
    assert DROP_EXPLAIN[key] in first.diagnosis


def test_ignoring_the_seed_fails_the_seeded_check(grade_one):
    source = DROPOUT_SOURCE.replace('default_rng(dropout_param.get("seed"))', "default_rng()")
    result = grade_one("nn.dropout", {"nn.py": source})
    assert failed_checks(result) == {"seeded"} and result.score == 6.5
    seeded = check(result, "seeded")
    assert "two calls with seed=" in seeded.message and "gave different outputs" in seeded.message
    assert "seed your generator with dropout_param['seed']" in seeded.diagnosis


def test_a_fixed_seed_fails_the_seeded_check(grade_one):
    source = DROPOUT_SOURCE.replace('default_rng(dropout_param.get("seed"))', "default_rng(0)")
    result = grade_one("nn.dropout", {"nn.py": source})
    assert failed_checks(result) == {"seeded"}
    assert "gave the same output" in check(result, "seeded").message


def test_p_zero_with_keep_probability_is_diagnosed(grade_one):
    result = grade_one("nn.dropout", {"nn.py": CS231N_KEEP_PROBABILITY})
    p_zero = check(result, "p_zero")
    assert "600 elements with NaN" in p_zero.message
    assert p_zero.diagnosis == DROP_EXPLAIN["p_zero_keep"]
    assert check(result, "p_one").diagnosis == DROP_EXPLAIN["p_one_keep"]


DROPOUT_CORRECT = {
    "default_rng_at_least_p": DROPOUT_SOURCE,
    "random_state_below_keep": '''
import numpy as np

def dropout_forward(x, dropout_param):
    p = float(dropout_param["p"])
    if dropout_param["mode"] != "train":
        return x.copy(), {"train": False}
    rs = np.random.RandomState(dropout_param["seed"]) if "seed" in dropout_param else np.random
    keep = rs.rand(*x.shape) < 1.0 - p
    scale = np.where(keep, 1.0 / (1.0 - p), 0.0) if p < 1.0 else np.zeros(x.shape)
    return x * scale, {"train": True, "scale": scale}

def dropout_backward(dout, cache):
    return dout * cache["scale"] if cache["train"] else dout
''',
    "global_seed_binomial": '''
import numpy as np

def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, (mode, None, p)
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = np.random.binomial(1, 1 - p, size=x.shape)
    out = x * mask / (1 - p) if p < 1 else 0.0 * x
    return out, (mode, mask, p)

def dropout_backward(dout, cache):
    mode, mask, p = cache
    if mode == "test":
        return dout
    return dout * mask / (1 - p) if p < 1 else 0.0 * dout
''',
}


@pytest.mark.parametrize("name", list(DROPOUT_CORRECT), ids=list(DROPOUT_CORRECT))
def test_correct_dropouts_get_full_marks(grade_one, name):
    result = grade_one("nn.dropout", {"nn.py": DROPOUT_CORRECT[name]})
    assert result.status == "passed", [(c.name, c.message) for c in result.checks]
    assert result.score == result.max_score == 7.0
    assert result.diagnosis is None and all(c.diagnosis is None for c in result.checks)


def test_a_forward_that_raises_fails_only_its_own_checks(grade_one):
    """The backward call fed by the failed forward is not run; the other checks still are."""
    source = DROPOUT_SOURCE.replace('p, mode = dropout_param["p"], dropout_param["mode"]',
                                    'p, mode = dropout_param["p"], dropout_param["mode"]\n'
                                    '    if p == 1:\n        raise ValueError("p = 1")')
    result = grade_one("nn.dropout", {"nn.py": source})
    assert failed_checks(result) == {"p_one"}
    assert "dropout_forward raised ValueError: p = 1" in check(result, "p_one").message


def test_a_forward_that_returns_only_out_is_told_to_return_the_tuple(grade_one):
    source = DROPOUT_SOURCE.replace("return out, (mask, p)", "return out")
    result = grade_one("nn.dropout", {"nn.py": source})
    forward = check(result, "forward_train")
    assert forward.status == "failed"
    assert forward.message == ("dropout_forward for x of shape (200, 100), p=0.2, mode='train': "
                               "shape (100,), expected (200, 100) (dropout_forward returns the "
                               "tuple (out, cache))")
    assert result.score < result.max_score


ZEROS_DROPOUT = """
import numpy as np

def dropout_forward(x, dropout_param):
    return np.zeros_like(x), None

def dropout_backward(dout, cache):
    return np.zeros_like(dout)
"""


def test_zeros_everywhere_earns_only_the_p_one_check(grade_one):
    # Found by `grader validate`: the backward checks read the mask off the student's own
    # forward, so "drop everything, return zero gradients" was self-consistent.
    result = grade_one("nn.dropout", {"nn.py": ZEROS_DROPOUT})
    passed = {c.name for c in result.checks if c.status == "passed"}
    assert passed == {"p_one"}
    assert result.score == 0.5 and result.status == "partial"
    assert check(result, "backward_train").message.endswith(
        "dropped every unit; dropout_backward is judged with the mask of your forward's out, so "
        "fix dropout_forward first")
    assert "every unit was dropped; with p = " in check(result, "no_seed").message
