"""Checks of exercises/probability.py, continued: the negative log-likelihoods mvn_logpdf,
bce_with_logits and mse_loss (sample_binomial and covariance are in probability.py, whose
helpers this module shares).

Each is compared with the reference within tolerances whose margins are measured in
tests/test_bank_probability.py.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from grader.bank.inputs import combine, rotation
from grader.bank.probability import _inputs_of, _raised
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare
from grader.judges import Mistake, Trial, matches, raises

_LOG_2PI = math.log(2.0 * math.pi)


# ============================================================================ mvn_logpdf

# Every backward-stable way (Cholesky, LU solve, slogdet, even inv or eigh) agrees with
# torch's log_prob to 1e-13 relative on these cases, the ill-conditioned one included: its
# cond(Sigma) = 1e12 comes from feature scales, and scaling does not hurt these methods. (A
# generic rotation with cond 1e12 would: there any method is off by about 1e-6 relative, since
# log det itself moves by eps / lambda_min, so no such case is judged.) The atol covers
# log-densities near 0, computed from terms of a few hundred.
MVN_RTOL, MVN_ATOL = 1e-10, 1e-9


def _mvn_inputs(case: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, mu, sigma = (np.asarray(a, dtype=np.float64) for a in _inputs_of(case, "mvn_logpdf").args)
    return x, mu, sigma


def _mvn_wrong(*, quad: float = 0.5, logdet: float = 0.5, log2pi: str = "d",
               inverse: bool = True, density: bool = False, pairwise: bool = False,
               det: bool = False, jitter: float = 0.0, std: bool = False):
    """A log-density with one deviation from -1/2 r^T Sigma^-1 r - 1/2 log det - d/2 log 2 pi."""

    def variant(case: Case) -> np.ndarray:
        x, mu, sigma = _mvn_inputs(case)
        d = mu.size
        if std and d != 1 or log2pi == "once" and d == 1:
            raise ValueError("the same as the right answer here")
        sigma = sigma + jitter * np.eye(d)
        sigma = sigma * sigma if std else sigma  # the 1 x 1 Sigma read as a deviation
        r = x - mu
        inner = np.linalg.solve(sigma, r.T).T if inverse else r @ sigma
        maha = r @ inner.T if pairwise else np.sum(r * inner, axis=1)
        if det:
            value = np.linalg.det(sigma)
            if value > 0 and np.isfinite(np.log(value)):
                raise ValueError("det did not underflow: the same as the right answer here")
            with np.errstate(divide="ignore", invalid="ignore"):
                log_det = np.log(value)
        else:
            log_det = np.linalg.slogdet(sigma)[1]
        out = -quad * maha - logdet * log_det - (d if log2pi == "d" else 1) * _LOG_2PI / 2
        return np.exp(out) if density else out

    return variant


MVN_MISTAKES = (
    Mistake("mvn_pairwise",
            "your result is an n x n matrix: (X - mu) Sigma^-1 (X - mu)^T pairs every point "
            "with every other; the Mahalanobis term of point i is the i-th DIAGONAL entry, "
            "np.sum(Z * Z, axis=0) with Z = L^-1 (X - mu)^T",
            _mvn_wrong(pairwise=True)),
    Mistake("mvn_log_2pi_once",
            "you subtracted log(2 pi) / 2 once: the normalizing constant is (2 pi)^(-d/2), so "
            "subtract (d / 2) log(2 pi)",
            _mvn_wrong(log2pi="once")),
    Mistake("mvn_no_half_quadratic",
            "your Mahalanobis term lacks the factor 1/2: log N = -1/2 (x - mu)^T Sigma^-1 "
            "(x - mu) - ...",
            _mvn_wrong(quad=1.0)),
    Mistake("mvn_no_half_logdet",
            "your log-determinant term lacks the factor 1/2: the density has det(Sigma)^(-1/2), "
            "so subtract (1/2) log det Sigma = sum_j log L_jj",
            _mvn_wrong(logdet=1.0)),
    Mistake("mvn_logdet_sign",
            "your log-determinant term has the wrong sign: det(Sigma)^(-1/2) contributes "
            "-(1/2) log det Sigma",
            _mvn_wrong(logdet=-0.5)),
    Mistake("mvn_sigma_not_inverted",
            "you used Sigma where Sigma^-1 belongs: the Mahalanobis term is (x - mu)^T "
            "Sigma^-1 (x - mu) (solve with the Cholesky factor instead of multiplying by Sigma)",
            _mvn_wrong(inverse=False)),
    Mistake("mvn_std_not_variance",
            "for d = 1, Sigma is the 1 x 1 matrix of the VARIANCE sigma^2, not the standard "
            "deviation: the Mahalanobis term is (x - mu)^2 / Sigma",
            _mvn_wrong(std=True)),
    Mistake("mvn_density",
            "you returned the density; the function returns its LOGARITHM (no exp at the end)",
            _mvn_wrong(density=True)),
    Mistake("mvn_det_underflow",
            "det(Sigma) underflowed to 0 (it is about 1e-360 here) and log(0) = -inf: compute "
            "log det Sigma as 2 sum_j log L_jj from the Cholesky factor (or np.linalg.slogdet)",
            _mvn_wrong(det=True)),
    Mistake("mvn_jitter",
            "you added 1e-6 to the diagonal of Sigma (a \"jitter\"): that changes the density "
            "(a lot where variances are as small as 1e-6). Factor Sigma as it is: "
            "np.linalg.cholesky handles any positive definite matrix",
            _mvn_wrong(jitter=1e-6), rtol=1e-9, atol=1e-12),
)


def _mvn_hints(raised: dict) -> str | None:
    lines = " ".join(str(frame[3]) for frame in raised.get("where") or [] if len(frame) > 3)
    if raised["type"] == "AttributeError" and "multivariate_normal" in lines:
        return ("scipy.stats.multivariate_normal is not allowed in this exercise (an honesty "
                "check): compute the log-density from the Cholesky factor of Sigma")
    return None


def _hinted(judge: Callable[[Trial], Verdict], hints: Callable[[dict], str | None]
            ) -> Callable[[Trial], Verdict]:
    """``judge``, after a failing verdict with a hint for a student call that raised."""
    return lambda trial: _raised(trial, hints) or judge(trial)


def _mvn_case(n: int, d: int, low: float = 0.5, high: float = 3.0, *, scales=None,
              negative: bool = False, note: str = ""):
    """n points drawn from N(mu, Sigma), Sigma = S R diag(w) R^T S with w in [low, high] and
    S = diag(scales) (each scale times 0.8..1.25); ``negative`` makes w[0] negative (the
    points then follow |w|)."""
    def build(rng: np.random.Generator) -> Case:
        rot = rotation(rng, d)
        w = rng.uniform(low, high, d)
        if negative:
            w[0] = -0.5 * w[0]
        s = np.ones(d) if scales is None else np.asarray(scales) * rng.uniform(0.8, 1.25, d)
        sigma = combine(rot, w, rot) * s[:, None] * s[None, :]
        mu = rng.normal(0.0, 2.0, d) * s
        x = mu + combine(rng.standard_normal((n, d)), np.sqrt(np.abs(w)), rot) * s
        return Case((Call("mvn_logpdf", (x, mu, sigma)),),
                    note or f"{n} points in d={d}")
    return build


_mvn_judge = _hinted(matches(rtol=MVN_RTOL, atol=MVN_ATOL, mistakes=MVN_MISTAKES), _mvn_hints)

MVN_LOGPDF = Exercise(
    id="probability.mvn_logpdf",
    title="Multivariate Gaussian log-density",
    functions=("mvn_logpdf",),
    summary="-1/2 ||L^-1 (x - mu)||^2 - sum log L_jj - d/2 log 2 pi with Sigma = L L^T",
    # The classes are blocked where students reach them (torch.distributions): blocking them
    # in their own modules breaks torch's import (kl.py registers them with issubclass).
    forbidden=("torch.distributions.MultivariateNormal", "scipy.stats.multivariate_normal"),
    checks=(
        Check("standard", _mvn_case(8, 3), _mvn_judge, points=1, about="8 points in d=3"),
        Check("batch", _mvn_case(300, 5), _mvn_judge, points=1,
              about="a batch of 300 points in d=5"),
        Check("one_dimension", _mvn_case(20, 1, 4.0, 9.0, note="20 points in d=1 (variance "
                                                              "4 to 9)"),
              _mvn_judge, points=0.5, hidden=True, about="d = 1: Sigma is a 1 x 1 variance"),
        Check("ill_conditioned",
              _mvn_case(50, 5, scales=(1e3, 30.0, 1.0, 3e-2, 1e-3),
                        note="50 points in d=5, feature scales 1e-3 to 1e3 (cond(Sigma) about "
                             "1e12)"),
              _mvn_judge, points=1, hidden=True, about="cond(Sigma) = 1e12 from feature scales"),
        Check("det_underflow", _mvn_case(10, 40, 0.5e-9, 2e-9,
                                         note="10 points in d=40 with variances about 1e-9 "
                                              "(det(Sigma) about 1e-360)"),
              _mvn_judge, points=0.5, hidden=True,
              about="det(Sigma) underflows: use log det from Cholesky"),
        Check("single_point", _mvn_case(1, 4, note="one point in d=4"), _mvn_judge, points=0.5,
              hidden=True, about="a batch of one point gives shape (1,)"),
        Check("not_positive_definite", _mvn_case(5, 3, negative=True,
                                                   note="a Sigma with a negative eigenvalue"),
              raises("ValueError", why="Sigma is not positive definite"), points=0.5,
              hidden=True, about="a Sigma that is not positive definite raises ValueError"),
    ),
    timing=Timing(lambda rng: Call("mvn_logpdf", (rng.standard_normal((20000, 8)), np.zeros(8),
                                                  np.eye(8) * 2.0), send=False),
                  slow_ratio=10.0,
                  advice="factor Sigma once and solve for all points at once (L z = (X - mu)^T "
                         "with n right-hand sides) instead of looping over the points"),
)


# ============================================================================ the two losses

# Correct losses differ by rounding only: a few ulps of the terms (which reach 1000 for
# z = +-1000). In the gradient, s(z) - y cancels where s(z) is near y (z = 20, y = 1 gives
# -2e-9 from 1 - 2e-9 - 1), so correct formulations differ there by about eps / N: the atols.
BCE_RTOL, BCE_ATOL = 1e-10, 1e-15
MSE_RTOL, MSE_ATOL = 1e-12, 1e-15


def _loss_inputs(case: Case, func: str) -> tuple[np.ndarray, np.ndarray]:
    a, b = (np.asarray(v, dtype=np.float64) for v in _inputs_of(case, func).args)
    return a, b


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _bce_wrong(kind: str, eps: float = 0.0):
    """(loss, dz) of BCE with one deviation from the stable mean loss and (s(z) - y) / N."""

    def variant(case: Case) -> tuple[float, np.ndarray]:
        z, y = _loss_inputs(case, "bce_with_logits")
        if z.shape != y.shape:
            raise ValueError("a shape-mismatch case")
        s, n = _sigmoid(z), z.size
        grad = (s - y) / n
        with np.errstate(all="ignore"):
            if kind in ("naive_log", "clipped"):
                p = 1.0 / (1.0 + np.exp(-z))
                p = np.clip(p, eps, 1.0 - eps) if kind == "clipped" else p
                losses = -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
            elif kind == "softplus_overflow":
                losses = (1.0 - y) * z + np.log(1.0 + np.exp(-z))
            elif kind == "hard_labels":
                if np.all((y == 0) | (y == 1)):
                    raise ValueError("hard labels: the same as the right answer")
                losses = np.logaddexp(0.0, np.where(y == 1, -z, z))
            else:
                losses = np.logaddexp(0.0, z) - z * y
        loss = float(np.mean(losses))
        if kind == "sum":
            return float(np.sum(losses)), s - y
        if kind == "per_row":
            if z.ndim < 2:
                raise ValueError("1-D: the same as the right answer")
            return float(np.sum(losses)) / z.shape[0], (s - y) / z.shape[0]
        return loss, {"not_divided": s - y, "grad_sign": -grad}.get(kind, grad)

    return variant


_CLIPPED = ("you clipped the probabilities to [eps, 1 - eps]: that caps the loss of z = 1000 "
            "with y = 0 at -log(eps) instead of 1000. Use the stable form max(z, 0) - z y + "
            "log1p(exp(-|z|)), which needs no clipping")
BCE_MISTAKES = (
    Mistake("bce_naive_log",
            "log(sigmoid(z)) hit log(0): for z = 1000, sigmoid(z) rounds to 1.0 and log(1 - 1) = "
            "-inf (and 0 * -inf = NaN). Use log s(z) = -log1p(exp(-z)) through the stable form "
            "max(z, 0) - z y + log1p(exp(-|z|))",
            _bce_wrong("naive_log")),
    Mistake("bce_softplus_overflow",
            "exp(-z) overflowed for z = -1000: log(1 + exp(-z)) is inf there. Write it as "
            "max(-z, 0) + log1p(exp(-|z|)), so that exp only sees -|z| <= 0",
            _bce_wrong("softplus_overflow")),
    Mistake("bce_clipped_1e-7", _CLIPPED, _bce_wrong("clipped", 1e-7), rtol=1e-6, atol=1e-6),
    Mistake("bce_clipped_1e-12", _CLIPPED, _bce_wrong("clipped", 1e-12), rtol=1e-6, atol=1e-6),
    Mistake("bce_clipped_1e-15", _CLIPPED, _bce_wrong("clipped", 1e-15), rtol=1e-6, atol=1e-6),
    Mistake("bce_sum",
            "your loss and gradient are N times too large: the loss is the MEAN over all N "
            "elements, so divide the sum by N (and the gradient: (s(z) - y) / N)",
            _bce_wrong("sum")),
    Mistake("bce_per_row",
            "you divided by the number of ROWS: the mean is over all N elements of z (every "
            "axis), so divide by z.size",
            _bce_wrong("per_row")),
    Mistake("bce_grad_not_divided",
            "your gradient is N times too large: the loss is the mean, so dz = (s(z) - y) / N",
            _bce_wrong("not_divided")),
    Mistake("bce_grad_sign",
            "your gradient has the wrong sign: dloss/dz = (s(z) - y) / N (the loss falls as z "
            "moves towards the label)",
            _bce_wrong("grad_sign")),
    Mistake("bce_hard_labels",
            "your loss treats every label that is not exactly 1 as 0: labels may be soft (any y "
            "in [0, 1]), so use y log s(z) + (1 - y) log(1 - s(z)), which weighs both terms",
            _bce_wrong("hard_labels")),
)


def _mse_wrong(kind: str):
    def variant(case: Case) -> tuple[float, np.ndarray]:
        pred, target = _loss_inputs(case, "mse_loss")
        if pred.shape != target.shape:
            raise ValueError("a shape-mismatch case")
        diff, n = pred - target, pred.size
        if kind == "per_row":
            if pred.ndim < 2 or pred.shape[0] == n:
                raise ValueError("one element per row: the same as the right answer")
            return float(np.sum(diff * diff)) / pred.shape[0], 2.0 * diff / pred.shape[0]
        loss = float(np.mean(diff * diff))
        return {"missing_two": (loss, diff / n), "half": (loss / 2, diff / n),
                "not_divided": (loss, 2.0 * diff), "sum": (loss * n, 2.0 * diff),
                "grad_sign": (loss, -2.0 * diff / n)}[kind]
    return variant


MSE_MISTAKES = (
    Mistake("mse_half",
            "your loss is half the mean squared error (the 1/2 convention of some notes): here "
            "loss = mean((pred - target)^2), as torch's mse_loss, so dpred = 2 (pred - target) "
            "/ N",
            _mse_wrong("half")),
    Mistake("mse_missing_two",
            "your gradient lacks the factor 2: d/dp (p - t)^2 = 2 (p - t), so dpred = "
            "2 (pred - target) / N",
            _mse_wrong("missing_two")),
    Mistake("mse_not_divided",
            "your gradient is N times too large: the loss is the MEAN over N elements, so "
            "dpred = 2 (pred - target) / N",
            _mse_wrong("not_divided")),
    Mistake("mse_sum",
            "your loss is the SUM of the squared errors: the loss is their mean (divide by N, "
            "and the gradient with it)",
            _mse_wrong("sum")),
    Mistake("mse_per_row",
            "you divided by the number of ROWS (len(pred)): the mean is over all N elements "
            "(pred.size), so for a (B, K) array divide by B * K",
            _mse_wrong("per_row")),
    Mistake("mse_grad_sign",
            "your gradient has the wrong sign: dloss/dpred = 2 (pred - target) / N, positive "
            "where the prediction is too large",
            _mse_wrong("grad_sign")),
)


def _broadcast_loss(case: Case, func: str) -> float:
    """The loss a shape-blind implementation returns: over every broadcast pair."""
    a, b = _loss_inputs(case, func)
    if func == "mse_loss":
        return float(np.mean((a - b) ** 2))
    z, y = np.broadcast_arrays(a, b)
    return float(np.mean(np.logaddexp(0.0, z) - z * y))


def _raises_unless_broadcast(func: str, why: str) -> Callable[[Trial], Verdict]:
    """``raises('ValueError')``, naming the broadcasting trap when the loss was computed over
    every pair of a (N, 1) and a (N,) array."""
    def judge(trial: Trial) -> Verdict:
        verdict = raises("ValueError", why=why)(trial)
        result = trial.actual[-1]
        if verdict.passed or result.raised is not None or result.missing:
            return verdict
        value = result.value
        loss = value[0] if isinstance(value, (tuple, list)) and value else value
        pairs = _broadcast_loss(trial.case, func)
        a, b = _loss_inputs(trial.case, func)
        shape = np.broadcast_shapes(a.shape, b.shape)
        hint = None
        if compare(loss, pairs, rtol=1e-9, atol=1e-12, check_dtype=False) is None:
            hint = (f"shapes {a.shape} and {b.shape} broadcast to {shape}: your loss averages "
                    f"{math.prod(shape)} cross pairs instead of {a.size} matched ones. Check "
                    "that the shapes are equal and raise ValueError (reshape(-1) in the caller "
                    "fixes such data)")
        return Verdict(False, verdict.message, hint)
    return judge


def _mismatch_case(func: str, n: int):
    def build(rng: np.random.Generator) -> Case:
        a, b = rng.normal(0.0, 2.0, (n, 1)), rng.normal(0.0, 2.0, n)
        if func == "bce_with_logits":
            b = (b > 0).astype(np.float64)
        return Case((Call(func, (a, b)),), f"shapes ({n}, 1) and ({n},)")
    return build


def _bce_case(shape: tuple, *, soft: bool = False, large: bool = False, note: str = ""):
    def build(rng: np.random.Generator) -> Case:
        z = rng.normal(0.0, 3.0, shape)
        y = rng.uniform(0.0, 1.0, shape) if soft else rng.integers(0, 2, shape).astype(float)
        if large:  # the first six logits: both signs of 1000 with both labels, and +-50
            z.flat[:6] = (1000.0, -1000.0, 1000.0, -1000.0, 50.0, -50.0)
            y.flat[:6] = (0.0, 1.0, 1.0, 0.0, 0.25, 0.75)
        about = f"z of shape {shape}" + (", soft labels" if soft else "") + note
        return Case((Call("bce_with_logits", (z, y)),), about)
    return build


def _mse_case(shape: tuple, note: str = ""):
    def build(rng: np.random.Generator) -> Case:
        pred = rng.normal(0.0, 2.0, shape)
        return Case((Call("mse_loss", (pred, pred + rng.normal(0.0, 1.0, shape))),),
                    f"pred of shape {shape}{note}")
    return build


_LOSS_FORBIDDEN = ("torch.autograd.grad", "torch.autograd.backward")

BCE_WITH_LOGITS = Exercise(
    id="probability.bce_with_logits",
    title="Binary cross-entropy on logits",
    functions=("bce_with_logits",),
    summary="mean of max(z, 0) - z y + log1p(exp(-|z|)) and its gradient (s(z) - y) / N",
    forbidden=("torch.nn.functional.binary_cross_entropy_with_logits",
               "torch.nn.functional.binary_cross_entropy") + _LOSS_FORBIDDEN,
    checks=(
        Check("small", _bce_case((10,)), matches(rtol=BCE_RTOL, atol=BCE_ATOL,
                                                 mistakes=BCE_MISTAKES),
              points=1, about="10 logits, labels 0 and 1"),
        Check("matrix", _bce_case((16, 5)), matches(rtol=BCE_RTOL, atol=BCE_ATOL,
                                                    mistakes=BCE_MISTAKES),
              points=1, about="a (16, 5) array: the mean over all 80 elements"),
        Check("soft_labels", _bce_case((40,), soft=True), matches(rtol=BCE_RTOL, atol=BCE_ATOL,
                                                                  mistakes=BCE_MISTAKES),
              points=1, hidden=True, about="labels anywhere in [0, 1]"),
        Check("large_logits", _bce_case((24,), large=True, note=", logits +-1000 and +-50"),
              matches(rtol=BCE_RTOL, atol=BCE_ATOL, mistakes=BCE_MISTAKES), points=1,
              hidden=True, about="z = +-1000: no log(0), no overflow"),
        Check("shape_mismatch", _mismatch_case("bce_with_logits", 8),
              _raises_unless_broadcast("bce_with_logits", "z and y must have the same shape"),
              points=0.5, hidden=True, about="(N, 1) and (N,) raise ValueError"),
    ),
    timing=Timing(lambda rng: Call("bce_with_logits", (rng.normal(0.0, 3.0, 200000),
                                                       rng.uniform(0.0, 1.0, 200000)),
                                   send=False),
                  slow_ratio=10.0, advice="use array operations (np.maximum, np.log1p, np.exp) "
                                          "on the whole array instead of a loop over elements"),
)

MSE_LOSS = Exercise(
    id="probability.mse_loss",
    title="Mean squared error",
    functions=("mse_loss",),
    summary="mean((pred - target)^2) and its gradient 2 (pred - target) / N",
    forbidden=("torch.nn.functional.mse_loss",) + _LOSS_FORBIDDEN,
    checks=(
        Check("vector", _mse_case((20,)), matches(rtol=MSE_RTOL, atol=MSE_ATOL,
                                                  mistakes=MSE_MISTAKES),
              points=1, about="20 predictions"),
        Check("matrix", _mse_case((8, 3)), matches(rtol=MSE_RTOL, atol=MSE_ATOL,
                                                   mistakes=MSE_MISTAKES),
              points=1, about="an (8, 3) array: the mean over all 24 elements"),
        Check("broadcast_trap", _mismatch_case("mse_loss", 10),
              _raises_unless_broadcast("mse_loss", "pred and target must have the same shape"),
              points=1, hidden=True, about="(N, 1) and (N,) raise ValueError, not an (N, N) "
                                           "loss"),
        Check("column_vectors", _mse_case((12, 1), note=" (a column, as target)"),
              matches(rtol=MSE_RTOL, atol=MSE_ATOL, mistakes=MSE_MISTAKES), points=0.5,
              hidden=True, about="(N, 1) against (N, 1) is fine"),
    ),
    timing=Timing(lambda rng: Call("mse_loss", (rng.standard_normal(200000),
                                                rng.standard_normal(200000)), send=False),
                  slow_ratio=10.0, advice="use array operations on the whole array instead of "
                                          "a loop over elements"),
)

EXERCISES = (MVN_LOGPDF, BCE_WITH_LOGITS, MSE_LOSS)
