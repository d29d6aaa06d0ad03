"""Checks of exercises/optim.py: adam.

A check is a run of Adam updates: single updates from a given state, and runs that start from
``config=None`` and hand each returned config to the next call (``Out`` references, resolved in
the worker). Runs send back only ``next_w`` for every update but the last, which sends the
whole ``(next_w, config)``: a CS231n-style ``adam`` updates the config dict it was given, so
an earlier config is the same object as the last one by the time results travel back.

Known mistakes are whole runs replayed in the grader's process with a flawed Adam, so a
mistake is named where it shows, however many updates it took to show.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from grader import diagnose
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import Mismatch, compare, describe
from grader.grading import run_reference
from grader.judges import Mistake, Trial, describe_raise
from grader.sandbox.wire import Out

# next_w is compared with rtol 1e-9 and an atol of 1e-5 times the learning rate (1e-8 for the
# default 1e-3: a hundred-thousandth of a typical step); m and v with rtol 1e-9 and an atol of
# 1e-12 times their largest |expected| (v is 1e-17 when gradients are 1e-7). Correct
# implementations differ by rounding only (sqrt(v / c) vs sqrt(v) / sqrt(c), m + (1 - beta1) *
# (dw - m), ...: a few ulps); the atols cover elements where terms cancel (an m or a next_w
# near 0). Every known mistake changes an update by 1e-2 of a step or more, except where
# epsilon goes: with the gradients of 0.2 to 2 of the ordinary checks, sqrt(v_hat + eps) or
# the paper's form (an effective epsilon of eps / sqrt(1 - beta2^t) <= 3.2e-7) changes a step
# by 2e-6 of itself at most, so only the checks whose gradients are near epsilon judge it.
RTOL = 1e-9
W_ATOL_PER_LR = 1e-5
ATOL_SCALE = 1e-12
# A student's run is "the same mistake" as a flawed replay at a looser tolerance: both sides
# are rounded differently, and a diagnosis needs no more than agreement to six digits.
MISTAKE_RTOL = 1e-6
MISTAKE_W_ATOL_PER_LR = 1e-4
MISTAKE_ATOL_SCALE = 1e-9


# ----------------------------------------------------------------------------- cases

def _grad(rng: np.random.Generator, shape: tuple, scale: float = 1.0) -> np.ndarray:
    """Gradients of magnitude 0.2 to 2 (times ``scale``), with random signs.

    Bounded away from 0 so that epsilon (1e-8) is negligible next to sqrt(v_hat): where it
    goes then changes nothing that matters, and only the tiny-gradient check judges it.
    """
    return scale * rng.choice((-1.0, 1.0), shape) * rng.uniform(0.2, 2.0, shape)


def _moments(rng: np.random.Generator, shape: tuple, t: int) -> dict:
    """The state (m, v, t) after t updates with default betas and random gradients."""
    m, v = np.zeros(shape), np.zeros(shape)
    for _ in range(t):
        g = _grad(rng, shape)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
    return {"m": m, "v": v, "t": t}


def _run_calls(w0: np.ndarray, grads: list[np.ndarray], config: Any, *, start: int = 0
               ) -> list[Call]:
    """Chained updates from (w0, config): each call takes the previous call's next_w and config.

    ``start`` is the index of the first call in the case. Every update but the last sends only
    next_w; the last sends (next_w, config).
    """
    calls = []
    for k, dw in enumerate(grads):
        if k == 0:
            args = (w0, dw) if config is _OMIT else (w0, dw, config)
        else:
            prev = start + k - 1
            args = (Out(prev, (0,)), dw, Out(prev, (1,)))
        last = k == len(grads) - 1
        calls.append(Call("adam", args, pick=() if last else (0,)))
    return calls


_OMIT = object()  # the config argument left out: adam(w, dw)


def _hyper(lr: float = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> dict:
    return {"learning_rate": lr, "beta1": b1, "beta2": b2, "epsilon": eps}


def _one_step(rng: np.random.Generator) -> Case:
    w, dw = rng.standard_normal((4, 3)), _grad(rng, (4, 3))
    config = {**_hyper(), **_moments(rng, (4, 3), 5)}
    return Case((Call("adam", (w, dw, config)),),
                "w of shape (4, 3), a given config with t = 5 and its m, v")


def _fresh_run(shape: tuple, steps: int, scale: float, note: str):
    def build(rng: np.random.Generator) -> Case:
        w = rng.standard_normal(shape)
        grads = [_grad(rng, shape, scale) for _ in range(steps)]
        return Case(tuple(_run_calls(w, grads, None)), note)
    return build


def _bookkeeping(rng: np.random.Generator) -> Case:
    fresh = _run_calls(rng.standard_normal((2, 3)), [_grad(rng, (2, 3)) for _ in range(3)],
                       None)
    given = {**_hyper(), **_moments(rng, (5,), 7)}
    later = _run_calls(rng.standard_normal(5), [_grad(rng, (5,)) for _ in range(2)],
                       given, start=len(fresh))
    return Case(tuple(fresh + later), "3 updates of a (2, 3) w from config=None, then 2 "
                                      "updates of a (5,) w from a config with t = 7")


def _defaults(rng: np.random.Generator) -> Case:
    shape = (3, 2)
    w, dw = rng.standard_normal(shape), _grad(rng, shape)
    configs = [_OMIT, None, {}, {"learning_rate": 1e-2},
               {"beta1": 0.5, **_moments(rng, shape, 3)}]
    calls = tuple(Call("adam", (w, dw) if c is _OMIT else (w, dw, c)) for c in configs)
    return Case(calls, "w of shape (3, 2); config left out, None, {}, and partial dicts")


def _custom(rng: np.random.Generator) -> Case:
    w = rng.standard_normal((2, 5))
    grads = [_grad(rng, (2, 5), 1e-3) for _ in range(4)]
    # Not beta1 0.5 with beta2 0.75: then 1 - beta1 = sqrt(1 - beta2), and a first update
    # without bias correction is the same as one with it.
    config = _hyper(lr=0.05, b1=0.6, b2=0.8, eps=1e-4)
    return Case(tuple(_run_calls(w, grads, config)),
                "w of shape (2, 5), learning_rate 0.05, beta1 0.6, beta2 0.8, epsilon 1e-4, "
                "gradients 2e-4 to 2e-3")


def _shapes(rng: np.random.Generator) -> Case:
    calls = []
    for shape in ((7,), (2, 3, 4), (1, 1)):
        w, dw = rng.standard_normal(shape), _grad(rng, shape)
        calls.append(Call("adam", (w, dw, {**_hyper(), **_moments(rng, shape, 2)})))
    return Case(tuple(calls), "w of shapes (7,), (2, 3, 4) and (1, 1), each from t = 2")


def _timing_call(rng: np.random.Generator) -> Call:
    shape = (400, 250)
    config = {**_hyper(), **_moments(rng, shape, 10)}
    return Call("adam", (rng.standard_normal(shape), _grad(rng, shape), config),
                send=False)


# ----------------------------------------------------------------------------- judging

def _config_arg(call: Call) -> Any:
    if len(call.args) >= 3:
        return call.args[2]
    return call.kwargs.get("config", _OMIT)


def _origin(case: Case, index: int) -> tuple[int, int]:
    """(the call that starts index's run, index's update number in that run, from 1)."""
    config = _config_arg(case.calls[index])
    if isinstance(config, Out):
        root, k = _origin(case, config.call)
        return root, k + 1
    return index, 1


def _label(case: Case, index: int) -> str:
    """Which update a call is, in words: 'update 3 of 5 from config=None'."""
    root, k = _origin(case, index)
    n = max(_origin(case, i)[1] for i in range(len(case.calls)) if _origin(case, i)[0] == root)
    config = _config_arg(case.calls[root])
    if config is _OMIT:
        start = "adam(w, dw) with config left out"
    elif config is None:
        start = "config=None"
    elif "t" in config:
        start = f"a config with t = {config['t']}"
    else:
        start = f"a config with only {', '.join(sorted(config))}" if config else "config={}"
    if n == 1:
        return f"adam, one update from {start}"
    return f"adam, update {k} of {n} from {start}"


def _leaf(got: Any, want: Any, path: str, tol: tuple[float, float, float]) -> Mismatch | None:
    rtol, w_atol, atol_scale = tol
    if path == "next_w":
        return compare(got, want, rtol=rtol, atol=w_atol, path=path)
    if isinstance(want, np.ndarray) and want.dtype.kind == "f":
        finite = np.abs(want[np.isfinite(want)])
        atol = atol_scale * float(finite.max()) if finite.size else 0.0
        return compare(got, want, rtol=rtol, atol=atol, path=path)
    return compare(got, want, rtol=0.0, atol=0.0, path=path, check_dtype=False)  # t: exact


def _mismatch(got: Any, want: Any, tol: tuple[float, float, float]) -> Mismatch | None:
    """The first difference of one call's sent value: next_w, or (next_w, config m/v/t)."""
    if not isinstance(want, tuple):
        return _leaf(got, want, "next_w", tol)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return Mismatch("", "type", f"expected a tuple (next_w, config), got {describe(got)}")
    found = _leaf(got[0], want[0], "next_w", tol)
    if found:
        return found
    config = got[1]
    if not isinstance(config, dict):
        return Mismatch("config", "type", f"expected a dict, got {describe(config)}")
    for key in ("m", "v", "t"):
        if key not in config:
            return Mismatch("config", "keys", f"the returned config has no key {key!r} (its "
                                              f"keys: {', '.join(sorted(map(str, config)))})")
        found = _leaf(config[key], want[1][key], f"config[{key!r}]", tol)
        if found:
            return found
    return None


def _at(value: Any, path: str) -> Any:
    if path == "next_w":
        return value[0] if isinstance(value, (tuple, list)) else value
    if path.startswith("config["):
        return value[1][path[8:-2]]
    return value


def _diagnose(trial: Trial, got: list, mistakes: tuple[Mistake, ...], lr: float) -> str | None:
    """The first known mistake whose replayed run matches the student's run so far."""
    tol = (MISTAKE_RTOL, MISTAKE_W_ATOL_PER_LR * lr, MISTAKE_ATOL_SCALE)
    for mistake in mistakes:
        try:
            wrong = mistake.variant(trial.case)
        except Exception:  # noqa: BLE001 - a flawed run that does not apply to these inputs
            continue
        if all(_mismatch(g, w, tol) is None
               for g, w in zip(got, wrong)):
            return mistake.explain
    return None


def _raise_hint(call: Call, raised: dict) -> str | None:
    config, kind, text = _config_arg(call), raised["type"], raised["message"]
    if kind == "ZeroDivisionError":
        return ("1 - beta1**t is 0 when t = 0: t counts the updates already applied, so "
                "increment it BEFORE the bias correction (the first update uses t = 1)")
    if config in (None, _OMIT) and kind in ("TypeError", "AttributeError") and "None" in text:
        return ("config=None starts a fresh run: begin with a dict of the defaults (or {}) "
                "before reading keys from it")
    if kind == "KeyError" and isinstance(config, dict):
        return ("a key missing from config takes its default: read it with config.get(key, "
                "default) or config.setdefault(key, default)")
    return None


_NOT_A_PAIR = ("adam returns a pair: return next_w, config (the grader takes item 0 of what "
               "you return as next_w and item 1 as the config of the next update)")


def _judge_run(mistakes: tuple[Mistake, ...], lr: float = 1e-3) -> Callable[[Trial], Verdict]:
    """Judge: every update of the case, in order, against the reference's (``lr``: the largest
    learning rate of the case, the scale of next_w's atol)."""
    tol = (RTOL, W_ATOL_PER_LR * lr, ATOL_SCALE)

    def judge(trial: Trial) -> Verdict:
        calls, note = trial.case.calls, f" ({trial.case.note})" if trial.case.note else ""
        got: list = []  # the sent values, up to the first call that raised or did not run
        failure: Verdict | None = None
        for i, call in enumerate(calls):
            result = trial.actual[i]
            if result.missing:
                failure = Verdict(False, f"{_label(trial.case, i)}{note}: not called: the "
                                         "previous update's result could not be passed on",
                                  _NOT_A_PAIR)
                break
            if result.raised is not None:
                failure = Verdict(False, f"{_label(trial.case, i)}{note}: "
                                         f"{describe_raise(call.name, result.raised)}",
                                  _raise_hint(call, result.raised))
                break
            if call.send:
                got.append((i, trial.got(i)))
        for i, value in got:
            found = _mismatch(value, trial.want(i), tol)
            if found is None:
                continue
            # The whole run so far names the mistake: two flaws can agree on the first update.
            diagnosis = _diagnose(trial, [v for _, v in got], mistakes, lr)
            if diagnosis is None and calls[i].pick and found.kind in ("shape", "type"):
                diagnosis = _NOT_A_PAIR
            if diagnosis is None and found.kind in ("values", "nonfinite"):
                diagnosis = diagnose.generic(_at(value, found.path),
                                             _at(trial.want(i), found.path))
            return Verdict(False, f"{_label(trial.case, i)}{note}: {found}", diagnosis)
        return failure or Verdict(True)

    return judge


# ----------------------------------------------------------------------------- mistakes

def _flawed_adam(w, dw, config=None, *, flaw: str):
    """Adam with one known flaw, replayed in the grader's process (never sent to a worker)."""
    given = {} if config is None else dict(config)
    spec = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    if flaw != "ignores_hyperparameters":
        spec.update({k: given[k] for k in spec if k in given})
    lr, b1, b2, eps = spec["learning_rate"], spec["beta1"], spec["beta2"], spec["epsilon"]
    if flaw == "swapped_betas":
        b1, b2 = b2, b1
    m = given.get("m", np.zeros_like(w))
    v = given.get("v", np.zeros_like(w))
    t = given.get("t", 1 if flaw in ("t_starts_at_1", "t_counts_next_update") else 0)
    used = t if flaw in ("old_t_in_correction", "t_counts_next_update") else t + 1
    m = b1 * m + (1 - b1) * dw
    v = b2 * v + (1 - b2) * dw**2
    c1 = 1.0 if flaw in ("no_bias_correction", "no_first_moment_correction") else 1 - b1**used
    c2 = 1.0 if flaw in ("no_bias_correction", "no_second_moment_correction") else 1 - b2**used
    if flaw == "efficient_form":
        step = lr * np.sqrt(1 - b2**used) / (1 - b1**used) * m / (np.sqrt(v) + eps)
    elif flaw == "eps_inside_sqrt":
        step = lr * (m / c1) / np.sqrt(v / c2 + eps)
    else:
        step = lr * (m / c1) / (np.sqrt(v / c2) + eps)
    if flaw == "stores_corrected_moments":
        m, v = m / c1, v / c2
    state = {"m": m, "v": v, "t": t + 1}
    if flaw != "drops_hyperparameters":
        state = {**given, **spec, **state}
    return w - step, state


def _flawed_run(case: Case, flaw: str) -> list:
    """The sent values of a case's calls, made by a flawed Adam (as the worker would send them)."""
    module = SimpleNamespace(adam=functools.partial(_flawed_adam, flaw=flaw))
    with np.errstate(all="ignore"):
        results = run_reference(module, case)
    if any(r.raised is not None for r in results):
        raise ArithmeticError(f"the flawed run {flaw!r} raised")
    return [r.value for r, call in zip(results, case.calls) if call.send]


def _g(x: float) -> str:
    return f"{x:.3g}"


def _update_mistakes(t: int, b1: float, b2: float, tiny: bool) -> tuple[Mistake, ...]:
    """Mistakes in the update itself: bias correction and where epsilon goes."""
    c1, c2 = 1 - b1**t, 1 - b2**t
    return (
        Mistake("no_bias_correction",
                "your Adam skips bias correction: m and v start at 0, so after t updates they "
                "are too small by the factors 1 - beta1^t and 1 - beta2^t; without dividing "
                "by them your step is (1 - beta1^t) / sqrt(1 - beta2^t) times the right one, "
                f"{_g(c1 / np.sqrt(c2))}x at t = {t} (the factor tends to 1 only after "
                "thousands of updates)",
                lambda case: _flawed_run(case, "no_bias_correction")),
        Mistake("no_first_moment_correction",
                "you bias-correct v but not m: your step is (1 - beta1^t) times the right one, "
                f"{_g(1 / c1)}x too small at t = {t}; use m_hat = m / (1 - beta1^t)",
                lambda case: _flawed_run(case, "no_first_moment_correction")),
        Mistake("no_second_moment_correction",
                "you bias-correct m but not v: sqrt(v) is too small by sqrt(1 - beta2^t), so "
                f"your step is {_g(1 / np.sqrt(c2))}x too large at t = {t}; use "
                "v_hat = v / (1 - beta2^t)",
                lambda case: _flawed_run(case, "no_second_moment_correction")),
        Mistake("eps_inside_sqrt",
                "you added epsilon inside the square root, sqrt(v_hat + epsilon); this exercise "
                "(like torch.optim.Adam) uses sqrt(v_hat) + epsilon. "
                + ("With gradients near 1e-7, sqrt(v_hat) is about 1e-7 but sqrt(v_hat + 1e-8) "
                   "is about 1e-4, so your steps are about 1000x too small"
                   if tiny else "The two differ most where |dw| is small compared with "
                                "sqrt(epsilon) = 1e-4"),
                lambda case: _flawed_run(case, "eps_inside_sqrt")),
        Mistake("efficient_form",
                "you used the paper's 'efficient' form lr * sqrt(1 - beta2^t) / (1 - beta1^t) "
                "* m / (sqrt(v) + epsilon): it adds epsilon to the UNcorrected sqrt(v) = "
                "sqrt(1 - beta2^t) * sqrt(v_hat), the same as adding epsilon / sqrt(1 - beta2^t) "
                f"to sqrt(v_hat): {_g(1e-8 / np.sqrt(c2))} instead of 1e-8 at t = {t}. This "
                "exercise uses sqrt(v_hat) + epsilon (torch.optim.Adam); the forms differ "
                "when gradients are not much larger than epsilon",
                lambda case: _flawed_run(case, "efficient_form")),
    )


def _state_mistakes(t: int, b1: float, b2: float, run: int) -> tuple[Mistake, ...]:
    """Mistakes in the state: the count t, the stored moments, the hyper-parameters."""
    c1 = 1 - b1**t
    return (
        Mistake("old_t_in_correction",
                f"your bias correction uses t = {t - 1}, the count before this update: t is "
                f"incremented BEFORE use, so this update (number {t}) uses t = {t}"
                + (" (and at t = 0, 1 - beta1^0 = 0 divides by zero)" if t == 1 else ""),
                lambda case: _flawed_run(case, "old_t_in_correction")),
        Mistake("t_counts_next_update",
                "your t is one ahead: t counts the updates ALREADY applied, so a fresh run "
                f"starts at t = 0 and after {run} update{'s' if run != 1 else ''} config['t'] "
                f"must be {run}; yours stores {run + 1} (start at 0, increment before use)",
                lambda case: _flawed_run(case, "t_counts_next_update")),
        Mistake("t_starts_at_1",
                "your t starts at 1 and is incremented before use, so the first update is "
                "corrected with t = 2: with config=None (or no 't' key) t starts at 0, the "
                "number of updates applied so far",
                lambda case: _flawed_run(case, "t_starts_at_1")),
        Mistake("stores_corrected_moments",
                "you store the bias-corrected m_hat and v_hat in config: store the running "
                "averages m and v, and correct them afresh at every update (a stored m_hat "
                f"is corrected again next time: at t = {t}, m_hat = m / {_g(c1)})",
                lambda case: _flawed_run(case, "stores_corrected_moments")),
        Mistake("swapped_betas",
                f"beta1 and beta2 are swapped: beta1 (here {b1:g}) is the decay of the first "
                f"moment m, beta2 (here {b2:g}) the decay of the second moment v, in the "
                "moving averages and in the bias corrections",
                lambda case: _flawed_run(case, "swapped_betas")),
        Mistake("ignores_hyperparameters",
                "you used the default hyper-parameters instead of the config's: read "
                "learning_rate, beta1, beta2 and epsilon from config (only a missing key "
                "takes its default)",
                lambda case: _flawed_run(case, "ignores_hyperparameters")),
        Mistake("drops_hyperparameters",
                "the config you return lost the hyper-parameters it was given, so the next "
                "update fell back to the defaults: return every key of config (updated m, v "
                "and t included), e.g. by updating the given dict",
                lambda case: _flawed_run(case, "drops_hyperparameters")),
    )


def _adam_mistakes(t: int, b1: float = 0.9, b2: float = 0.999, *, run: int = 1,
                   tiny: bool = False) -> tuple[Mistake, ...]:
    """Known mistakes, explained for a check whose first update uses step count t, a run of
    ``run`` updates, betas b1, b2 and (``tiny``) gradients near 1e-7."""
    return _update_mistakes(t, b1, b2, tiny) + _state_mistakes(t, b1, b2, run)


ONE_STEP_MISTAKES = _adam_mistakes(6)
FRESH_MISTAKES = _adam_mistakes(1, run=5)
TINY_MISTAKES = _adam_mistakes(1, run=3, tiny=True)
BOOKKEEPING_MISTAKES = _adam_mistakes(1, run=3)
CUSTOM_MISTAKES = _adam_mistakes(1, 0.6, 0.8, run=4)
SHAPES_MISTAKES = _adam_mistakes(3)


ADAM = Exercise(
    id="optim.adam",
    title="Adam optimizer",
    functions=("adam",),
    summary="one Adam update with bias correction; epsilon outside the square root; the "
            "config carries m, v and the count t of updates applied",
    checks=(
        Check("one_step", _one_step, _judge_run(ONE_STEP_MISTAKES), points=2,
              about="one update from a given state (t = 5, m, v)"),
        Check("fresh_run", _fresh_run((3, 4), 5, 1.0, "w of shape (3, 4), gradients 0.2 to 2"),
              _judge_run(FRESH_MISTAKES), points=2,
              about="5 updates from config=None, each returned config passed on"),
        Check("tiny_gradients",
              _fresh_run((6,), 3, 1e-7, "w of shape (6,), gradients 2e-8 to 2e-7"),
              _judge_run(TINY_MISTAKES), points=1,
              about="3 updates with gradients near 1e-7, where epsilon's placement shows"),
        Check("state_bookkeeping", _bookkeeping, _judge_run(BOOKKEEPING_MISTAKES), points=1,
              hidden=True, about="the returned m, v are uncorrected and t counts the updates"),
        Check("default_config", _defaults, _judge_run(FRESH_MISTAKES, lr=1e-2), points=1,
              hidden=True,
              about="config left out, None, {} or partial: missing keys take their defaults"),
        Check("custom_hyperparameters", _custom, _judge_run(CUSTOM_MISTAKES, lr=0.05), points=1,
              hidden=True, about="4 updates with non-default learning_rate, betas, epsilon"),
        Check("several_shapes", _shapes, _judge_run(SHAPES_MISTAKES), points=1, hidden=True,
              about="w of 1, 2 and 3 dimensions"),
    ),
    timing=Timing(_timing_call, slow_ratio=10.0,
                  advice="update whole arrays (m = beta1 * m + (1 - beta1) * dw, np.sqrt on "
                         "arrays) instead of looping over the parameters"),
)

EXERCISES = (ADAM,)
