"""optim.adam: the reference against torch.optim.Adam, known mistakes named where they show,
and correct implementations of every style given full marks."""

from __future__ import annotations

import numpy as np
import pytest

from grader.bank import optim as bank
from grader.catalog import catalog, reference_module
from grader.judges import Mistake
from conftest import reference_source

EXERCISE = "optim.adam"
MAX_SCORE = catalog()[EXERCISE].max_score

# ----------------------------------------------------------------------------- the reference


def _torch_run(w0, grads, lr, betas, eps):
    torch = pytest.importorskip("torch")
    param = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([param], lr=lr, betas=betas, eps=eps)
    trajectory = []
    for g in grads:
        param.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        trajectory.append(param.detach().numpy().copy())
    state = opt.state[param]
    return trajectory, state["exp_avg"].numpy(), state["exp_avg_sq"].numpy(), int(state["step"])


@pytest.mark.parametrize("lr, betas, eps, scale, shape", [
    (1e-3, (0.9, 0.999), 1e-8, 1.0, (3, 4)),
    (1e-3, (0.9, 0.999), 1e-8, 1e-7, (6,)),
    (0.05, (0.5, 0.75), 1e-4, 1e-3, (2, 5)),
    (0.1, (0.0, 0.99), 1e-6, 10.0, (2, 3, 2)),
], ids=["defaults", "tiny-gradients", "custom", "beta1-zero-large-gradients"])
def test_reference_matches_torch_adam(lr, betas, eps, scale, shape):
    rng = np.random.default_rng(7)
    w0 = rng.standard_normal(shape)
    grads = [scale * rng.standard_normal(shape) for _ in range(8)]
    want, m, v, t = _torch_run(w0, grads, lr, betas, eps)
    adam = reference_module("optim").adam
    w, config = w0, {"learning_rate": lr, "beta1": betas[0], "beta2": betas[1], "epsilon": eps}
    for k, g in enumerate(grads):
        w, config = adam(w, g, config)
        np.testing.assert_allclose(w, want[k], rtol=1e-9, atol=0, err_msg=f"update {k + 1}")
    np.testing.assert_allclose(config["m"], m, rtol=1e-9, atol=0)
    np.testing.assert_allclose(config["v"], v, rtol=1e-9, atol=0)
    assert config["t"] == t == 8


def test_reference_defaults_and_inputs_left_alone():
    adam = reference_module("optim").adam
    rng = np.random.default_rng(3)
    w, dw = rng.standard_normal(4), rng.standard_normal(4)
    given = {"m": np.ones(4), "v": np.ones(4), "t": 2}
    kept = {k: np.copy(x) for k, x in given.items()}
    fresh, config = adam(w, dw)
    assert config["t"] == 1 and config["learning_rate"] == 1e-3 and config["epsilon"] == 1e-8
    np.testing.assert_array_equal(fresh, adam(w, dw, {})[0])
    np.testing.assert_array_equal(fresh, adam(w, dw, None)[0])
    adam(w, dw, given)
    assert given.keys() == kept.keys() and all(np.array_equal(given[k], kept[k]) for k in kept)


def test_the_efficient_form_differs_from_torch_only_on_tiny_gradients():
    """Why the check 'tiny_gradients' exists: the paper's form passes ordinary gradients."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(6)
    for scale, different in ((1.0, False), (1e-7, True)):
        grads = [scale * rng.standard_normal(6) for _ in range(3)]
        want = _torch_run(w0, grads, 1e-3, (0.9, 0.999), 1e-8)[0][-1]
        w, config = w0, None
        for g in grads:
            w, config = bank._flawed_adam(w, g, config, flaw="efficient_form")
        step_error = np.max(np.abs((w - w0) - (want - w0)) / np.abs(want - w0))
        assert (step_error > 0.3) == different, (scale, step_error)


# ----------------------------------------------------------------------------- submissions

CS231N = '''
import numpy as np


def adam(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    config["t"] += 1
    t = config["t"]
    b1, b2 = config["beta1"], config["beta2"]
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * dw**2
    m_hat = config["m"] / (1 - b1**t)
    v_hat = config["v"] / (1 - b2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    return next_w, config
'''

TORCH_STYLE = '''
import math
import numpy as np

DEFAULTS = dict(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)


def adam(w, dw, config=None):
    cfg = {**DEFAULTS, **(config or {})}
    m = np.array(cfg.get("m", np.zeros(w.shape)), dtype=float)  # copies: updated in place
    v = np.array(cfg.get("v", np.zeros(w.shape)), dtype=float)
    step = np.int64(cfg.get("t", 0)) + 1
    m += (1 - cfg["beta1"]) * (dw - m)               # a lerp, as torch's exp_avg.lerp_
    v *= cfg["beta2"]
    v += (1 - cfg["beta2"]) * dw * dw
    correction1 = 1 - cfg["beta1"] ** float(step)
    correction2 = 1 - math.pow(cfg["beta2"], step)
    denom = np.sqrt(v) / math.sqrt(correction2) + cfg["epsilon"]
    next_w = w.copy()
    next_w -= (cfg["learning_rate"] / correction1) * m / denom
    cfg.update(m=m, v=v, t=step)
    return next_w, cfg
'''

ELEMENTWISE = '''
import numpy as np


def adam(w, dw, config=None):
    """Scalar code over the flattened arrays: slow but right."""
    config = dict(config) if config else {}
    lr = config.get("learning_rate", 1e-3)
    b1, b2 = config.get("beta1", 0.9), config.get("beta2", 0.999)
    eps = config.get("epsilon", 1e-8)
    t = config.get("t", 0) + 1
    m = np.array(config["m"], dtype=float) if "m" in config else np.zeros_like(w)
    v = np.array(config["v"], dtype=float) if "v" in config else np.zeros_like(w)
    out = np.empty_like(w)
    mf, vf, of = m.reshape(-1), v.reshape(-1), out.reshape(-1)  # views: writes go through
    wf, gf = w.reshape(-1), dw.reshape(-1)
    for i in range(wf.size):
        mf[i] = b1 * mf[i] + (1 - b1) * gf[i]
        vf[i] = b2 * vf[i] + (1 - b2) * gf[i] ** 2
        of[i] = wf[i] - lr * (mf[i] / (1 - b1 ** t)) / ((vf[i] / (1 - b2 ** t)) ** 0.5 + eps)
    config.update(m=m, v=v, t=t)
    return out, config
'''


def _edit(source: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


_M_HAT = 'm_hat = config["m"] / (1 - b1**t)'
_V_HAT = 'v_hat = config["v"] / (1 - b2**t)'
_INCREMENT = 'config["t"] += 1\n    t = config["t"]'
_NEXT_W = 'next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])'

CHECKS = {c.name for c in catalog()[EXERCISE].checks}
EPSILON_CHECKS = {"tiny_gradients", "custom_hyperparameters"}

# Each declared mistake: a realistic student's code, the checks it fails (exactly), the check
# whose diagnosis is pinned, and words of that diagnosis.
MISTAKES = {
    "no_bias_correction": (
        _edit(CS231N, (_M_HAT, 'm_hat = config["m"]'), (_V_HAT, 'v_hat = config["v"]')),
        CHECKS, "one_step", ("skips bias correction", "6.06x at t = 6")),
    "no_first_moment_correction": (
        _edit(CS231N, (_M_HAT, 'm_hat = config["m"]')),
        CHECKS, "one_step", ("bias-correct v but not m", "2.13x too small at t = 6")),
    "no_second_moment_correction": (
        _edit(CS231N, (_V_HAT, 'v_hat = config["v"]')),
        CHECKS, "fresh_run", ("bias-correct m but not v", "31.6x too large at t = 1")),
    "eps_inside_sqrt": (
        _edit(CS231N, ('(np.sqrt(v_hat) + config["epsilon"])',
                       'np.sqrt(v_hat + config["epsilon"])')),
        EPSILON_CHECKS, "tiny_gradients", ("epsilon inside the square root",
                                           "about 1000x too small")),
    "efficient_form": (
        _edit(CS231N, (_NEXT_W, 'lr_t = config["learning_rate"] * np.sqrt(1 - b2**t) / '
                                '(1 - b1**t)\n    next_w = w - lr_t * config["m"] / '
                                '(np.sqrt(config["v"]) + config["epsilon"])')),
        EPSILON_CHECKS, "tiny_gradients", ("paper's 'efficient' form",
                                           "3.16e-07 instead of 1e-8 at t = 1")),
    "old_t_in_correction": (
        _edit(CS231N, (_INCREMENT, 't = config["t"]'),
              ("return next_w, config", 'config["t"] = t + 1\n    return next_w, config')),
        CHECKS, "one_step", ("your bias correction uses t = 5",
                             "this update (number 6) uses t = 6")),
    "t_counts_next_update": (
        _edit(CS231N, ('config.setdefault("t", 0)', 'config.setdefault("t", 1)'),
              (_INCREMENT, 't = config["t"]'),
              ("return next_w, config", 'config["t"] = t + 1\n    return next_w, config')),
        CHECKS, "fresh_run", ("your t is one ahead",
                              "after 5 updates config['t'] must be 5; yours stores 6")),
    "t_starts_at_1": (
        _edit(CS231N, ('config.setdefault("t", 0)', 'config.setdefault("t", 1)')),
        CHECKS - {"one_step", "several_shapes"}, "fresh_run",
        ("your t starts at 1", "the first update is corrected with t = 2")),
    "stores_corrected_moments": (
        _edit(CS231N, ("return next_w, config",
                       'config["m"], config["v"] = m_hat, v_hat\n    return next_w, config')),
        CHECKS, "one_step", ("you store the bias-corrected m_hat and v_hat",
                             "m_hat = m / 0.469")),
    "swapped_betas": (
        _edit(CS231N, ('b1, b2 = config["beta1"], config["beta2"]',
                       'b1, b2 = config["beta2"], config["beta1"]')),
        CHECKS, "one_step", ("beta1 and beta2 are swapped",
                             "beta1 (here 0.9) is the decay of the first moment m")),
    "ignores_hyperparameters": (
        _edit(CS231N, ('b1, b2 = config["beta1"], config["beta2"]', "b1, b2 = 0.9, 0.999"),
              (_NEXT_W, "next_w = w - 1e-3 * m_hat / (np.sqrt(v_hat) + 1e-8)")),
        {"default_config", "custom_hyperparameters"}, "default_config",
        ("default hyper-parameters instead of the config's", "read learning_rate")),
    "drops_hyperparameters": (
        _edit(CS231N, ("return next_w, config",
                       'return next_w, {"m": config["m"], "v": config["v"], "t": t}')),
        {"custom_hyperparameters"}, "custom_hyperparameters",
        ("lost the hyper-parameters it was given", "update fell back to the defaults")),
}


def test_every_declared_mistake_has_a_test():
    declared = {m.name for value in vars(bank).values() if isinstance(value, tuple)
                for m in value if isinstance(m, Mistake)}
    assert declared == set(MISTAKES)


@pytest.mark.parametrize("name", list(MISTAKES), ids=list(MISTAKES))
def test_known_mistake_fails_its_checks_and_is_named_there(grade_one, name):
    source, fails, check_name, words = MISTAKES[name]
    result = grade_one(EXERCISE, {"optim.py": source})
    assert {c.name for c in result.checks if c.status == "failed"} == fails
    assert result.score == MAX_SCORE - sum(c.points for c in catalog()[EXERCISE].checks
                                           if c.name in fails)
    assert result.status == ("failed" if fails == CHECKS else "partial")
    check = next(c for c in result.checks if c.name == check_name)
    assert check.message.startswith("adam, ")
    for word in words:
        assert word in (check.diagnosis or ""), (check.message, check.diagnosis)
    # Wherever this mistake fails a check, the diagnosis names it (or nothing): never another.
    explain = {m.name: m.explain.split(":")[0] for m in bank.FRESH_MISTAKES}
    for failed in (c for c in result.checks if c.status == "failed"):
        assert failed.diagnosis is not None, failed.name
        others = [n for n, head in explain.items() if n != name and
                  failed.diagnosis.startswith(head)]
        assert not others, (failed.name, failed.diagnosis)


def test_the_one_step_message_says_what_where_and_by_how_much(grade_one):
    result = grade_one(EXERCISE, {"optim.py": MISTAKES["no_bias_correction"][0]})
    check = result.checks[0]
    assert check.name == "one_step"
    assert check.message.startswith(
        "adam, one update from a config with t = 5 (w of shape (4, 3), a given config with "
        "t = 5 and its m, v): next_w: 12 of 12 elements differ (100.0%); first at [0, 0], "
        "[0, 1], [0, 2]...; worst at next_w[")
    assert "rtol=1e-09" in check.message


def test_a_fresh_run_names_the_update_that_went_wrong(grade_one):
    result = grade_one(EXERCISE, {"optim.py": MISTAKES["t_counts_next_update"][0]})
    check = next(c for c in result.checks if c.name == "fresh_run")
    assert check.message == ("adam, update 5 of 5 from config=None (w of shape (3, 4), "
                             "gradients 0.2 to 2): config['t']: got 6, expected 5 (abs diff 1, "
                             "rel diff 0.2; rtol=0, atol=0)")


def test_stored_corrected_moments_show_in_the_returned_config(grade_one):
    result = grade_one(EXERCISE, {"optim.py": MISTAKES["stores_corrected_moments"][0]})
    assert result.checks[0].message.startswith(
        "adam, one update from a config with t = 5 (w of shape (4, 3), a given config with "
        "t = 5 and its m, v): config['m']: 12 of 12 elements differ")


@pytest.mark.parametrize("source, check_name, message, diagnosis", [
    pytest.param(
        _edit(CS231N, ("    if config is None:\n        config = {}\n", "")), "fresh_run",
        "adam, update 1 of 5 from config=None (w of shape (3, 4), gradients 0.2 to 2): adam "
        "raised AttributeError: 'NoneType' object has no attribute 'setdefault' (optim.py, "
        "line 6, in adam: `config.setdefault(\"learning_rate\", 1e-3)`)",
        "config=None starts a fresh run: begin with a dict of the defaults",
        id="config-none-not-handled"),
    pytest.param(
        _edit(CS231N, (_INCREMENT, 't = config["t"]'),
              (_M_HAT, 'm_hat = config["m"] * (1 / (1 - b1**t))'),
              ("return next_w, config", 'config["t"] = t + 1\n    return next_w, config')),
        "tiny_gradients",
        "adam, update 1 of 3 from config=None (w of shape (6,), gradients 2e-8 to 2e-7): adam "
        "raised ZeroDivisionError: float division by zero (optim.py, line 19, in adam: "
        "`m_hat = config[\"m\"] * (1 / (1 - b1**t))`)",
        "1 - beta1**t is 0 when t = 0: t counts the updates already applied, so increment it "
        "BEFORE the bias correction", id="division-by-zero-at-t-0"),
    pytest.param(
        "def adam(w, dw, config=None):\n    return w - 1e-3 * dw\n", "fresh_run",
        "adam, update 1 of 5 from config=None (w of shape (3, 4), gradients 0.2 to 2): next_w: "
        "shape (4,), expected (3, 4)", "adam returns a pair: return next_w, config",
        id="returns-only-next-w"),
    pytest.param(
        "def adam(w, dw, config=None):\n    pass\n", "one_step",
        "adam, one update from a config with t = 5 (w of shape (4, 3), a given config with "
        "t = 5 and its m, v): expected a tuple (next_w, config), got None", None,
        id="returns-none"),
])
def test_common_failures_get_a_message_and_a_hint(grade_one, source, check_name, message,
                                                  diagnosis):
    result = grade_one(EXERCISE, {"optim.py": source})
    assert result.status in ("partial", "failed") and result.score < MAX_SCORE
    assert len(result.checks) == len(CHECKS)  # every check judged: the worker carried on
    check = next(c for c in result.checks if c.name == check_name)
    assert check.status == "failed"
    assert check.message == message
    if diagnosis is None:
        assert check.diagnosis is None
    else:
        assert check.diagnosis.startswith(diagnosis)


# ----------------------------------------------------------------------------- correct code

@pytest.mark.parametrize("source", [
    reference_source("optim"), CS231N, TORCH_STYLE, ELEMENTWISE,
], ids=["reference", "cs231n-updates-config-in-place", "torch-style-lerp-and-copies",
        "elementwise-loop"])
def test_correct_implementations_get_full_marks(grade_one, source):
    result = grade_one(EXERCISE, {"optim.py": source})
    assert result.status == "passed", (result.message, result.diagnosis)
    assert result.score == MAX_SCORE
    assert all(c.diagnosis is None for c in result.checks)
    if source is not CS231N:  # which updates the config it was given, as CS231n's code does
        assert not any(c.mutated for c in result.checks)


def test_an_update_of_w_in_place_is_judged_on_the_values_it_returned(grade_one):
    """w -= step changes the caller's array (a note says so) but each update's next_w is
    judged as it was when that update returned, not as later updates left it."""
    source = _edit(CS231N, (_NEXT_W, 'w -= config["learning_rate"] * m_hat / '
                                     '(np.sqrt(v_hat) + config["epsilon"])\n    next_w = w'))
    result = grade_one(EXERCISE, {"optim.py": source})
    assert result.status == "passed", result.message
    assert result.score == MAX_SCORE
    assert any(c.mutated for c in result.checks)


@pytest.mark.slow
def test_the_timing_flags_an_elementwise_loop(grade_one):
    result = grade_one(EXERCISE, {"optim.py": ELEMENTWISE}, time_it=True)
    assert result.status == "passed"
    assert result.timing is not None and result.timing.slow, result.timing
    assert "instead of looping over the parameters" in result.timing.advice


@pytest.mark.slow
def test_torch_optim_adam_itself_gets_full_marks(grade_one):
    """torch.optim.Adam, driven through the worker on every case: the reference's convention
    is torch's, to rtol 1e-9, on the very inputs the checks use."""
    pytest.importorskip("torch")
    result = grade_one(EXERCISE, {"optim.py": TORCH_ADAM})
    assert result.status == "passed", (result.message, result.diagnosis)
    assert result.score == MAX_SCORE


TORCH_ADAM = '''
import torch


def adam(w, dw, config=None):
    config = dict(config or {})
    p = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=config.get("learning_rate", 1e-3),
                           betas=(config.get("beta1", 0.9), config.get("beta2", 0.999)),
                           eps=config.get("epsilon", 1e-8))
    if config.get("t", 0):
        opt.state[p] = {"step": torch.tensor(float(config["t"]), dtype=torch.float64),
                        "exp_avg": torch.tensor(config["m"]),
                        "exp_avg_sq": torch.tensor(config["v"])}
    p.grad = torch.tensor(dw, dtype=torch.float64)
    opt.step()
    state = opt.state[p]
    config.update(m=state["exp_avg"].numpy().copy(), v=state["exp_avg_sq"].numpy().copy(),
                  t=int(state["step"]))
    return p.detach().numpy().copy(), config
'''
