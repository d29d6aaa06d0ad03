"""Checks of exercises/optim.py beyond Adam, second part: the update rules SGD with momentum
and RMSprop (ids ``optim.sgd_momentum``, ``optim.rmsprop``: the same topic as
:mod:`grader.bank.optim`; minibatches come before, in :mod:`grader.bank.training`).

- ``sgd_momentum`` and ``rmsprop`` are judged like Adam: runs of updates chained with ``Out``,
  every update's next_w and the final state against the reference, known mistakes replayed as
  whole runs in the grader's process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from grader import diagnose
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import Mismatch, compare, describe
from grader.grading import run_reference
from grader.judges import Mistake, Trial, describe_raise
from grader.sandbox.wire import Out

_OMIT = object()  # a config argument left out: sgd_momentum(w, dw)


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

EXERCISES = (SGD_MOMENTUM, RMSPROP)
