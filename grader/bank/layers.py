"""Checks of exercises/layers.py: affine, relu, softmax_loss, conv2d.

A forward's cache never crosses the wire: a check of a backward pass calls the forward first
(sending back only ``out``, ``pick=(0,)``) and hands the student's own cache to the backward
through an ``Out`` reference, resolved in the worker (as grader/bank/nn.py does for dropout).

Known mistakes are flawed layers replayed on the same calls in the grader's process (as
grader/bank/optim.py replays flawed Adam runs). A mistake explains the first part that differs
(out, dx, dw, db, loss) when the student's value equals the flawed one's there, and the flawed
one differs from the expected one: the whole returned value is tried first, then that part
alone (a student may make two mistakes in two gradients).
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

# Tolerances against the reference. Correct formulations (BLAS or einsum products, im2col or
# sliding windows or loops, log-sum-exp or log of the shifted softmax) differ by rounding only:
# a few ulps of sums of at most 36 terms of size 1 to 5, so absolute differences stay below
# 1e-13. The catalog asks for rtol 1e-10 (loss 1e-10, dx 1e-9 for softmax); the atols cover
# entries near 0 where terms cancel. With scores about 1000, exp(x - lse) with lse = m + log
# sum exp(x - m) carries lse's rounding, 1000 * eps, into every probability: dx entries of
# 1e-7 then differ by 1e-14 (1e-7 relative), hence dx's atol. tests/test_bank_layers.py
# measures the share of each tolerance that other formulations use. ReLU is exact arithmetic
# (a copy or a zero), whatever the formulation. Every known mistake is off by far more.
RTOL, ATOL = 1e-10, 1e-12
LOSS_RTOL, LOSS_ATOL = 1e-10, 1e-12
DX_RTOL, DX_ATOL = 1e-9, 1e-11
RELU_RTOL = 1e-12
# A student's flawed result is "the same mistake" as a flawed replay at a looser tolerance.
MISTAKE_RTOL, MISTAKE_ATOL = 1e-6, 1e-9

# The parts each function sends back, with their tolerances; one part is the value itself.
PARTS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "affine_forward": (("out", RTOL, ATOL),),
    "affine_backward": (("dx", RTOL, ATOL), ("dw", RTOL, ATOL), ("db", RTOL, ATOL)),
    "relu_forward": (("out", RELU_RTOL, 0.0),),
    "relu_backward": (("dx", RELU_RTOL, 0.0),),
    "softmax_loss": (("loss", LOSS_RTOL, LOSS_ATOL), ("dx", DX_RTOL, DX_ATOL)),
    "conv2d": (("out", RTOL, ATOL),),
}
RETURNS = {
    "affine_forward": "affine_forward returns the tuple (out, cache)",
    "affine_backward": "affine_backward returns the tuple (dx, dw, db)",
    "relu_forward": "relu_forward returns the tuple (out, cache)",
    "softmax_loss": "softmax_loss returns the pair (loss, dx)",
}


# ----------------------------------------------------------------------------- judging

def _note(case: Case) -> str:
    return f" for {case.note}" if case.note else ""


def _part(value: Any, func: str, name: str) -> tuple[bool, Any]:
    """(found, the named part of a function's sent value)."""
    names = [p[0] for p in PARTS[func]]
    if len(names) == 1:
        return True, value
    if isinstance(value, (tuple, list)) and len(value) == len(names):
        return True, value[names.index(name)]
    return False, None


def _first_mismatch(got: Any, want: Any, func: str) -> tuple[str, Mismatch] | None:
    parts = PARTS[func]
    if len(parts) == 1:
        name, rtol, atol = parts[0]
        found = compare(got, want, rtol=rtol, atol=atol, path=name)
        return (name, found) if found else None
    names = ", ".join(p[0] for p in parts)
    if not isinstance(got, (tuple, list)) or len(got) != len(parts):
        return "", Mismatch("", "type", f"expected a tuple ({names}), got {describe(got)}")
    for (name, rtol, atol), g, w in zip(parts, got, want):
        found = compare(g, w, rtol=rtol, atol=atol, path=name)
        if found:
            return name, found
    return None


def _nonfinite_as_nan(value: Any) -> Any:
    """NaN for every NaN or Inf: a flawed replay and a student's flawed code may overflow to
    different non-finite values (inf - inf or log(0)), and both are the same mistake."""
    if isinstance(value, (tuple, list)):
        return type(value)(_nonfinite_as_nan(v) for v in value)
    if isinstance(value, (float, np.floating, np.ndarray)) and np.asarray(value).dtype.kind == "f":
        array = np.asarray(value, dtype=np.float64)
        return np.where(np.isfinite(array), array, np.nan)
    return value


def _same(a: Any, b: Any) -> bool:
    return compare(_nonfinite_as_nan(a), _nonfinite_as_nan(b), rtol=MISTAKE_RTOL,
                   atol=MISTAKE_ATOL, check_dtype=False) is None


def _free_where_broken(got: Any, wrong: Any) -> Any:
    """``got`` with NaN wherever the flawed array is NaN or Inf.

    Where a flaw overflows, students' code breaks in several ways (NaN from inf / inf, a
    finite 0 or -1/N from exp(-inf), Inf from log(0)), and an entry may even come out right
    by accident: what identifies the flaw is that the entries it gets right, the student gets
    right too. A scalar (the loss) must be non-finite where the flaw's is.
    """
    parts = (tuple, list)
    if isinstance(got, parts) and isinstance(wrong, parts):
        if len(got) == len(wrong):
            return type(got)(_free_where_broken(g, w) for g, w in zip(got, wrong))
        return got
    try:
        g, w = np.asarray(got, dtype=np.float64), np.asarray(wrong, dtype=np.float64)
    except (TypeError, ValueError):
        return got
    if g.ndim == 0 or g.shape != w.shape or np.isfinite(w).all():
        return got
    return np.where(np.isfinite(w), g, np.nan)


def _diagnose(trial: Trial, index: int, name: str, mistakes: tuple[Mistake, ...]
              ) -> str | None:
    """The known mistake that explains the failing part ``name`` of call ``index``."""
    func = trial.func(index)
    got, want = trial.got(index), trial.want(index)
    _, got_part = _part(got, func, name)
    _, want_part = _part(want, func, name)
    flawed = []
    for mistake in mistakes:
        try:
            wrong = mistake.variant(trial.case)[index]
        except Exception:  # noqa: BLE001 - a flaw that does not apply (or is not frozen) here
            continue
        found, wrong_part = _part(wrong, func, name)
        if found and not _same(wrong_part, want_part):
            flawed.append((mistake, wrong, wrong_part))
    with np.errstate(all="ignore"):
        for mistake, wrong, _ in flawed:  # the whole value first: it tells flaws apart best
            if _same(_free_where_broken(got, wrong), wrong):
                return mistake.explain
    for mistake, _, wrong_part in flawed:  # one part alone: only where the flaw is finite
        if np.isfinite(_nonfinite_as_nan(wrong_part)).all() and _same(got_part, wrong_part):
            return mistake.explain
    rtol, atol = next((r, a) for n, r, a in PARTS[func] if n == name)
    return diagnose.generic(got_part, want_part, rtol=rtol, atol=atol)


RaiseHint = Callable[[Case, int], "str | None"]


def _judge(mistakes: tuple[Mistake, ...], hint: RaiseHint | None = None,
           shape_hint: RaiseHint | None = None) -> Callable[[Trial], Verdict]:
    """Judge: every call of the case, in order, part by part, against the reference's.

    ``hint(case, index)`` explains a call that raised; ``shape_hint`` a result of the wrong
    shape that no known mistake explains.
    """

    def judge(trial: Trial) -> Verdict:
        for index, call in enumerate(trial.case.calls):
            where = f"{call.func}{_note(trial.case)}"
            result = trial.actual[index]
            if result.missing:
                return Verdict(False, f"{where}: not called: the cache could not be taken from "
                                      "the forward's result", RETURNS.get(trial.func(0)))
            if result.raised is not None:
                return Verdict(False, f"{where}: {describe_raise(call.func, result.raised)}",
                               hint(trial.case, index) if hint else None)
            if not call.send:
                continue
            found = _first_mismatch(trial.got(index), trial.want(index), call.func)
            if found is None:
                continue
            name, mismatch = found
            message = f"{where}: {mismatch}"
            if call.func in RETURNS and (not name or (
                    call.pick and mismatch.kind in ("shape", "type", "length"))):
                message += f" ({RETURNS[call.func]})"
            diagnosis = _diagnose(trial, index, name, mistakes) if name else None
            if diagnosis is None and mismatch.kind == "shape" and shape_hint is not None:
                diagnosis = shape_hint(trial.case, index)
            return Verdict(False, message, diagnosis)
        return Verdict(True)

    return judge


# ----------------------------------------------------------------------------- flawed layers

# Each flaw is one deliberate deviation from the math, written independently of the reference.

def _affine_forward(x, w, b, *, flaw: str = ""):
    rows = np.reshape(x, (len(x), -1))
    out = np.einsum("nd,dm->nm", rows, w)
    return (out if flaw == "affine_no_bias" else out + b), (x, w, b)


def _affine_backward(dout, cache, *, flaw: str = ""):
    x, w, _ = cache
    rows = np.reshape(x, (len(x), -1))
    dx = np.einsum("nm,dm->nd", dout, w) if flaw != "affine_dx_w_not_transposed" else dout @ w
    dx = dx if flaw == "affine_dx_not_reshaped" else dx.reshape(np.shape(x))
    dw = np.einsum("nm,nd->md" if flaw == "affine_dw_transposed" else "nm,nd->dm", dout, rows)
    db = {"affine_db_wrong_axis": lambda: dout.sum(axis=1),
          "affine_db_total": lambda: dout.sum(),
          "affine_db_keepdims": lambda: dout.sum(axis=0, keepdims=True),
          "affine_db_mean": lambda: dout.mean(axis=0)}.get(flaw, lambda: np.sum(dout, 0))()
    return dx, dw, db


def _relu_forward(x, *, flaw: str = ""):
    return np.where(x > 0, x, 0.0), x


def _relu_backward(dout, cache, *, flaw: str = ""):
    if flaw == "relu_mask_of_dout":
        return np.where(dout > 0, dout, 0.0)
    if flaw == "relu_local_derivative":
        return (cache > 0).astype(np.float64)
    if flaw == "relu_no_mask":
        return dout * 1.0
    return np.where(cache >= 0 if flaw == "relu_mask_at_zero" else cache > 0, dout, 0.0)


def _softmax_loss(x, y, *, flaw: str = ""):
    n, rows = len(x), np.arange(len(x))
    axis = 0 if flaw == "softmax_batch_axis" else 1
    if flaw == "softmax_no_shift":
        z = x
    elif flaw == "softmax_global_shift":
        z = x - np.max(x)
    else:
        z = x - np.max(x, axis=axis, keepdims=True)
    total = np.sum(np.exp(z), axis=axis, keepdims=True)
    p = np.exp(z) / total
    if flaw.startswith(("softmax_no_shift", "softmax_global_shift", "softmax_log_of_prob",
                        "softmax_log_epsilon_")):
        eps = float(flaw.rsplit("_", 1)[1]) if flaw.startswith("softmax_log_epsilon_") else 0.0
        loss = -np.mean(np.log(p[rows, y] + eps))
    else:
        loss = -np.mean((z - np.log(total))[rows, y])
    onehot = np.zeros_like(p)
    onehot[rows, y] = 0.0 if flaw == "softmax_missing_minus_one" else 1.0
    dx = p - onehot
    if flaw in ("softmax_sum_loss", "softmax_sum_both"):
        loss = loss * n
    if flaw not in ("softmax_dx_not_divided", "softmax_sum_both"):
        dx = dx / n
    return float(loss), dx


def _conv_size(size: int, kernel: int, stride: int, pad: int) -> int:
    return (size + 2 * pad - kernel) // stride + 1


def _conv2d(x, w, b, stride=1, pad=0, *, flaw: str = ""):
    """A loop over the kernel offsets, vectorized over images, filters and positions."""
    w = w[:, :, ::-1, ::-1] if flaw == "conv_flipped_kernel" else w
    pad = 0 if flaw == "conv_pad_ignored" else pad
    step = 1 if flaw in ("conv_stride_ignored", "conv_window_not_strided") else stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kh, kw = w.shape[2:]
    h, v = _conv_size(x.shape[2], kh, step, pad), _conv_size(x.shape[3], kw, step, pad)
    out = np.zeros((x.shape[0], w.shape[0], h, v))
    for p in range(kh):
        for q in range(kw):
            patch = xp[:, :, p:p + step * (h - 1) + 1:step, q:q + step * (v - 1) + 1:step]
            out += np.einsum("nchw,fc->nfhw", patch, w[:, :, p, q])
    if flaw == "conv_window_not_strided":
        out = out[:, :, :_conv_size(x.shape[2], kh, stride, pad),
                  :_conv_size(x.shape[3], kw, stride, pad)]
    return out if flaw == "conv_no_bias" else out + b.reshape(1, -1, 1, 1)


_FLAWED = {"affine_forward": _affine_forward, "affine_backward": _affine_backward,
           "relu_forward": _relu_forward, "relu_backward": _relu_backward,
           "softmax_loss": _softmax_loss, "conv2d": _conv2d}


def _replay(case: Case, flaw: str) -> list:
    """The sent values of a case's calls (None where nothing is sent), made by flawed layers."""
    module = SimpleNamespace(**{name: functools.partial(fn, flaw=flaw)
                                for name, fn in _FLAWED.items()})
    with np.errstate(all="ignore"):
        results = run_reference(module, case)
    if any(r.raised is not None for r in results):
        raise ArithmeticError(f"the flaw {flaw!r} does not apply to these inputs")
    return [r.value for r in results]


def _mistake(name: str, explain: str) -> Mistake:
    return Mistake(name, explain, functools.partial(_replay, flaw=name))


_AUTOGRAD = ("torch.autograd.grad", "torch.autograd.backward")


# ----------------------------------------------------------------------------- layers.affine

AFFINE_MISTAKES = (
    _mistake("affine_dx_not_reshaped",
             "your dx has shape (N, D), the shape of the flattened x: the gradient of x has x's "
             "own shape, so reshape dX = dout w^T back, dx = dX.reshape(x.shape)"),
    _mistake("affine_dw_transposed",
             "your dw is the transpose of the gradient: out = X w, so dw = X^T dout has w's "
             "shape (D, M); dout^T X is (M, D)"),
    _mistake("affine_dx_w_not_transposed",
             "your dx multiplies dout by w instead of its transpose: dX = dout w^T, (N, M) times "
             "(M, D); dout w has the right shape only when M = D"),
    _mistake("affine_db_wrong_axis",
             "your db sums over axis 1 (the M outputs of each sample): b is added to every row, "
             "so db sums dout over the samples, axis 0 only, giving shape (M,)"),
    _mistake("affine_db_total",
             "your db sums dout over every axis into one number: b has one entry per output, "
             "and each gets the sum over the samples only, db = dout.sum(axis=0)"),
    _mistake("affine_db_keepdims",
             "your db has shape (1, M): sum over axis 0 without keepdims=True (a gradient has "
             "its parameter's shape, (M,))"),
    _mistake("affine_db_mean",
             "your db is the MEAN of dout over the samples: it is the sum, db = dout.sum(axis=0) "
             "(the 1/N of a mean loss is already inside dout)"),
    _mistake("affine_no_bias",
             "your out does not include b: out = X w + b, with b added to every row"),
)


def _affine_case(shape: tuple, m: int, *, backward: bool = True):
    def build(rng: np.random.Generator) -> Case:
        x = rng.standard_normal(shape)
        w = rng.standard_normal((int(np.prod(shape[1:])), m))
        calls = [Call("affine_forward", (x, w, rng.standard_normal(m)), pick=(0,))]
        if backward:  # on the student's own cache, which never leaves the worker
            calls.append(Call("affine_backward", (rng.standard_normal((shape[0], m)),
                                                  Out(0, (1,)))))
        return Case(tuple(calls), f"x of shape {shape}, w of shape {w.shape}")
    return build


def _affine_raise_hint(case: Case, index: int) -> str | None:
    shape = np.shape(case.calls[0].args[0])
    if index != 0 or len(shape) <= 2:
        return None
    return (f"x has shape {shape}: flatten each sample first, X = x.reshape(x.shape[0], -1) of "
            "shape (N, D) (in affine_backward too: dw = X^T dout), and give dx the shape of x, "
            "dx = (dout w^T).reshape(x.shape)")


_AFFINE_JUDGE = _judge(AFFINE_MISTAKES, _affine_raise_hint)


def _affine_timing(rng: np.random.Generator) -> Call:
    # Many samples, small layers: a loop over samples costs N Python iterations. Measured
    # through the grader: one outer product per sample for dw 42-53x the reference; einsum
    # (no BLAS) 4x; dw from an (N, D, M) broadcast product 9-10x.
    x, w = rng.standard_normal((2000, 30)), rng.standard_normal((30, 20))
    return Call("affine_backward", (rng.standard_normal((2000, 20)),
                                    (x, w, rng.standard_normal(20))), send=False)


AFFINE = Exercise(
    id="layers.affine",
    title="Affine layer: forward and backward",
    functions=("affine_forward", "affine_backward"),
    summary="out = X w + b with X = x.reshape(N, D); dx = (dout w^T) shaped like x, "
            "dw = X^T dout, db = dout summed over axis 0",
    forbidden=_AUTOGRAD,
    checks=(
        Check("forward", _affine_case((5, 4), 3, backward=False), _AFFINE_JUDGE, points=1,
              about="out = X w + b for x of shape (5, 4)"),
        Check("backward", _affine_case((6, 5), 3), _AFFINE_JUDGE, points=1,
              about="dx, dw and db for x of shape (6, 5)"),
        Check("multi_dim_input", _affine_case((4, 3, 5), 6), _AFFINE_JUDGE, points=1,
              hidden=True, about="x of shape (N, d1, d2): flatten it, and dx has x's shape"),
        Check("one_sample", _affine_case((1, 2, 3, 2), 4), _AFFINE_JUDGE, points=0.5,
              hidden=True, about="N = 1 with a 4-D x"),
        Check("square_batch", _affine_case((5, 5), 5), _AFFINE_JUDGE, points=0.5, hidden=True,
              about="N = D = M: db sums over axis 0 only and dw is not transposed (the wrong "
                    "versions have the right shapes here)"),
    ),
    timing=Timing(_affine_timing, slow_ratio=15.0,
                  advice="use matrix products for the whole batch (dw = X.T @ dout, dx = dout "
                         "@ w.T) instead of a Python loop over samples adding np.outer(x_i, "
                         "dout_i), and no (N, D, M) broadcast product"),
)


# ----------------------------------------------------------------------------- layers.relu

RELU_MISTAKES = (
    _mistake("relu_mask_at_zero",
             "where x is exactly 0 your dx passes dout through: the mask is x > 0, strictly "
             "(relu'(0) is taken as 0, as torch.relu does); x >= 0 lets the gradient through "
             "at the kink"),
    _mistake("relu_no_mask",
             "your dx is dout unchanged: the gradient passes only where the unit was active, "
             "dx = dout * (x > 0)"),
    _mistake("relu_mask_of_dout",
             "you applied the ReLU to the upstream gradient, max(dout, 0): the mask comes from "
             "the forward INPUT x (keep it in the cache), dx = dout * (x > 0), and negative "
             "dout values pass where x > 0"),
    _mistake("relu_local_derivative",
             "your dx is the local derivative [x > 0] alone: the chain rule multiplies it by the "
             "upstream gradient, dx = dout * (x > 0)"),
)


def _relu_x(rng: np.random.Generator, shape: tuple, zeros: bool) -> np.ndarray:
    x = rng.standard_normal(shape)
    if zeros:  # a sixth 0.0 and a sixth -0.0: both are the kink, where dx must be 0
        r = rng.random(shape)
        x = np.where(r < 1 / 6, 0.0, np.where(r < 1 / 3, -0.0, x))
    return x


def _relu_case(*shapes: tuple, backward: bool = True, zeros: bool = False, note: str = ""):
    def build(rng: np.random.Generator) -> Case:
        calls: list[Call] = []
        for shape in shapes:
            start = len(calls)
            calls.append(Call("relu_forward", (_relu_x(rng, shape, zeros),), pick=(0,)))
            if backward:
                calls.append(Call("relu_backward", (rng.standard_normal(shape),
                                                    Out(start, (1,)))))
        return Case(tuple(calls), "x of shape " + " and ".join(map(str, shapes)) + note)
    return build


_RELU_JUDGE = _judge(RELU_MISTAKES)

RELU = Exercise(
    id="layers.relu",
    title="ReLU: forward and backward",
    functions=("relu_forward", "relu_backward"),
    summary="out = max(x, 0); dx = dout * (x > 0), zero at exactly x = 0",
    forbidden=_AUTOGRAD,
    checks=(
        Check("forward", _relu_case((6, 7), backward=False), _RELU_JUDGE, points=1,
              about="out = max(x, 0) elementwise"),
        Check("backward", _relu_case((8, 5)), _RELU_JUDGE, points=1,
              about="dx = dout where x > 0, else 0"),
        Check("at_zero", _relu_case((10, 6), zeros=True,
                                    note=", a third of its entries exactly 0.0 or -0.0"),
              _RELU_JUDGE, points=1, hidden=True,
              about="x exactly 0 (the kink): dx = 0 there"),
        Check("any_shape", _relu_case((2, 3, 4, 5), (7,)), _RELU_JUDGE, points=0.5,
              hidden=True, about="4-D and 1-D inputs"),
    ),
    timing=Timing(lambda rng: Call("relu_forward", (rng.standard_normal((500, 400)),),
                                   send=False),
                  slow_ratio=40.0,  # an element loop: 300-550x; np.where(x > 0, x, 0): 8-9x
                  advice="use np.maximum(x, 0) on the whole array instead of a Python loop "
                         "over elements"),
)


# ----------------------------------------------------------------------------- layers.softmax_loss

_USE_LOG_SUM_EXP = ("Compute log p directly: log p_ic = z_ic - log sum_c' exp(z_ic'), with z "
                    "each row minus its own maximum (log-sum-exp)")
EPSILONS = (1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-15, 1e-20)  # seen in student code

SOFTMAX_MISTAKES = (
    _mistake("softmax_log_of_probability",
             "you took the log of a probability that underflowed to 0 (exp(-1000) is 0 in "
             "float64), so -log p = inf while the loss is finite (1000 for x = [0, 1000, 0], "
             f"y = 0). {_USE_LOG_SUM_EXP}"),
    _mistake("softmax_no_shift",
             "exp of your scores overflowed: exp(710) is already inf in float64, and inf / inf "
             "is NaN. Subtract each row's maximum from its scores before exponentiating "
             "(softmax is unchanged by a constant shift of a row)"),
    _mistake("softmax_global_shift",
             "you subtracted ONE maximum over the whole batch: in rows whose scores are far "
             "below it (here by 1000 or more) every exponential underflows to 0, and 0 / 0 is "
             "NaN. Subtract each row's own maximum, x - x.max(axis=1, keepdims=True)"),
    *(_mistake(f"softmax_log_epsilon_{eps:g}",
               "you added a small epsilon inside the log: -log(p + eps) stays finite but is "
               "wrong (when p underflows to 0 it gives -log(eps) instead of the true loss, 1000 "
               f"for x = [0, 1000, 0], y = 0). {_USE_LOG_SUM_EXP}") for eps in EPSILONS),
    _mistake("softmax_sum_both",
             "your loss and dx are those of the SUMMED cross-entropy, N times too large: the "
             "loss is the mean over the N samples, and its gradient is dx = (P - Y) / N"),
    _mistake("softmax_sum_loss",
             "your loss is N times the expected one: you summed the cross-entropy over the "
             "samples; the loss is its mean (divide by N)"),
    _mistake("softmax_dx_not_divided",
             "your dx is N times too large: the loss is the MEAN over the N samples, so "
             "dx = (P - Y) / N"),
    _mistake("softmax_missing_minus_one",
             "your dx is P / N: the gradient of -log p_y is P - Y, so subtract 1 at each "
             "sample's true class y_i"),
    _mistake("softmax_batch_axis",
             "your softmax normalizes over the batch (axis 0): each sample's probabilities over "
             "its C classes must sum to 1, so the maximum and the sums run over axis 1"),
)


def _softmax_case(n: int, c: int, scale: float = 1.0, note: str = ""):
    def build(rng: np.random.Generator) -> Case:
        x, y = scale * rng.standard_normal((n, c)), rng.integers(0, c, n)
        return Case((Call("softmax_loss", (x, y)),), f"N={n} samples, C={c} classes{note}")
    return build


def _large_margin(rng: np.random.Generator) -> Case:
    return Case((Call("softmax_loss", (np.array([[0.0, 1000.0, 0.0]]), np.array([0]))),),
                "x = [[0, 1000, 0]], y = [0] (the loss is exactly 1000)")


def _rows_far_apart(rng: np.random.Generator) -> Case:
    # Scores of unit spread around -3000, -2000, ..., 2000: one maximum for the whole batch
    # leaves every row but the top one with exponentials that all underflow.
    x = rng.standard_normal((6, 4)) + 1000.0 * (np.arange(6.0) - 3.0)[:, None]
    return Case((Call("softmax_loss", (x, rng.integers(0, 4, 6))),),
                "N=6 samples, C=4 classes, row i around 1000 * (i - 3)")


_SOFTMAX_JUDGE = _judge(SOFTMAX_MISTAKES)

SOFTMAX_LOSS = Exercise(
    id="layers.softmax_loss",
    title="Softmax cross-entropy loss and its gradient",
    functions=("softmax_loss",),
    summary="mean cross-entropy of the row softmax, stable for any scores, and dx = (P - Y) / N",
    forbidden=("scipy.special.softmax", "scipy.special.log_softmax", "scipy.special.logsumexp",
               "torch.nn.functional.softmax", "torch.nn.functional.log_softmax",
               "torch.nn.functional.cross_entropy", "torch.softmax", "torch.log_softmax",
               "torch.logsumexp", *_AUTOGRAD),
    checks=(
        Check("small", _softmax_case(5, 4), _SOFTMAX_JUDGE, points=1,
              about="5 samples, 4 classes"),
        Check("batch", _softmax_case(64, 10), _SOFTMAX_JUDGE, points=1,
              about="64 samples, 10 classes"),
        Check("logits_x1000", _softmax_case(8, 5, 1000.0, ", scores of size about 1000"),
              _SOFTMAX_JUDGE, points=1, hidden=True,
              about="scores times 1000: exp overflows without a shift"),
        Check("large_margin", _large_margin, _SOFTMAX_JUDGE, points=1, hidden=True,
              about="x = [0, 1000, 0], y = 0: the loss is 1000, not inf"),
        Check("rows_far_apart", _rows_far_apart, _SOFTMAX_JUDGE, points=1, hidden=True,
              about="rows 1000 apart: each row needs its own shift"),
    ),
)


# ----------------------------------------------------------------------------- layers.conv2d

CONV_MISTAKES = (
    _mistake("conv_flipped_kernel",
             "your output is the TRUE convolution, with the kernel flipped (w[:, :, ::-1, "
             "::-1]): a deep-learning convolution layer computes the cross-correlation, "
             "out[n, f, i, j] = b[f] + sum over c, p, q of xp[n, c, i*stride + p, j*stride + q] "
             "* w[f, c, p, q], with no flip (as torch.nn.functional.conv2d)"),
    _mistake("conv_no_bias",
             "your output does not include the bias: add b[f] at every position of filter f's "
             "output map (b.reshape(1, -1, 1, 1))"),
    _mistake("conv_pad_ignored",
             "your output is that of pad = 0: zero-pad the two spatial axes of every image by "
             "`pad` on each side first, np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))"),
    _mistake("conv_stride_ignored",
             "your output is that of stride = 1: windows start every `stride` positions, so "
             "H' = 1 + (H + 2 pad - HH) // stride (and W' likewise)"),
    _mistake("conv_window_not_strided",
             "your output has the right size but window (i, j) starts at row i and column j: it "
             "starts at (i*stride, j*stride) of the padded image"),
)


def _conv_case(n: int, c: int, hw: tuple, f: int, k: tuple, **options):
    def build(rng: np.random.Generator) -> Case:
        x, w = rng.standard_normal((n, c, *hw)), rng.standard_normal((f, c, *k))
        b = rng.standard_normal(f)
        return Case((Call("conv2d", (x, w, b), dict(options)),),
                    f"x of shape {x.shape}, w of shape {w.shape}, stride="
                    f"{options.get('stride', 1)}, pad={options.get('pad', 0)}")
    return build


def _conv_geometry(case: Case) -> tuple:
    call = case.calls[-1]
    (x, w, _), options = call.args, call.kwargs
    return np.shape(x), np.shape(w), options.get("stride", 1), options.get("pad", 0)


def _conv_size_hint(case: Case, index: int) -> str:
    (n, _, h, width), (f, _, kh, kw), stride, pad = _conv_geometry(case)
    rows, cols = _conv_size(h, kh, stride, pad), _conv_size(width, kw, stride, pad)
    return (f"out has shape (N, F, H', W') = {(n, f, rows, cols)} here: H' = 1 + floor((H + "
            f"2 pad - HH) / stride) = 1 + floor(({h} + {2 * pad} - {kh}) / {stride}), and W' "
            f"= 1 + floor(({width} + {2 * pad} - {kw}) / {stride}); rounded down, as torch")


def _conv_raise_hint(case: Case, index: int) -> str | None:
    (_, _, h, width), (_, _, kh, kw), stride, pad = _conv_geometry(case)
    if (h + 2 * pad - kh) % stride == 0 and (width + 2 * pad - kw) % stride == 0:
        return None
    return ("the stride does not divide H + 2 pad - HH (or W + 2 pad - WW) here, and that is "
            "allowed: do not assert it; the rows and columns that no full window reaches are "
            "ignored. " + _conv_size_hint(case, index))


_CONV_JUDGE = _judge(CONV_MISTAKES, _conv_raise_hint, _conv_size_hint)

CONV2D = Exercise(
    id="layers.conv2d",
    title="2-D convolution (cross-correlation), forward",
    functions=("conv2d",),
    summary="out[n, f, i, j] = b[f] + sum over c, p, q of xp[n, c, i*s + p, j*s + q] "
            "w[f, c, p, q], NCHW, no kernel flip, output size rounded down",
    forbidden=("torch.nn.functional.conv2d", "torch.conv2d", "scipy.signal.correlate",
               "scipy.signal.correlate2d", "scipy.signal.convolve", "scipy.signal.convolve2d",
               "scipy.signal.fftconvolve", "scipy.ndimage.correlate", "scipy.ndimage.convolve"),
    checks=(
        Check("basic", _conv_case(2, 3, (5, 5), 4, (3, 3)), _CONV_JUDGE, points=1,
              about="3x3 kernels, stride 1, no padding"),
        Check("pad_1", _conv_case(2, 2, (6, 6), 3, (3, 3), stride=1, pad=1), _CONV_JUDGE,
              points=1, about="pad = 1 keeps the size"),
        Check("stride_2", _conv_case(2, 3, (7, 7), 2, (3, 3), stride=2, pad=1), _CONV_JUDGE,
              points=1, hidden=True, about="stride 2 with pad 1"),
        Check("kernel_1x1", _conv_case(3, 4, (5, 5), 2, (1, 1)), _CONV_JUDGE, points=0.5,
              hidden=True, about="1x1 kernels mix channels only"),
        Check("non_square", _conv_case(2, 2, (5, 8), 3, (3, 2), stride=1, pad=1), _CONV_JUDGE,
              points=1, hidden=True, about="non-square input and kernel"),
        Check("stride_floor", _conv_case(2, 2, (8, 9), 2, (3, 3), stride=2), _CONV_JUDGE,
              points=0.5, hidden=True,
              about="a stride that does not divide H - HH: the size rounds down"),
    ),
    timing=Timing(lambda rng: Call("conv2d", (rng.standard_normal((4, 3, 16, 16)),
                                              rng.standard_normal((4, 3, 3, 3)),
                                              rng.standard_normal(4)), {"pad": 1},
                                   send=False),
                  slow_ratio=20.0,  # four loops: 130-145x; im2col 2x; a loop over offsets 1x
                  advice="replace the four loops over images, filters and output positions "
                         "with one product: gather the windows (im2col, or "
                         "np.lib.stride_tricks.sliding_window_view) and contract them with w "
                         "(a matrix product or np.tensordot); a loop over the kernel offsets "
                         "or the output positions alone is fine"),
)

EXERCISES = (AFFINE, RELU, SOFTMAX_LOSS, CONV2D)
