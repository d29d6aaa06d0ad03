"""Checks of exercises/probability.py: sample_binomial, covariance, mvn_logpdf, bce_with_logits,
mse_loss.

sample_binomial is random: its checks test statistics of the student's counts (grader.stats) and
never compare values, except where the answer is certain (p = 0, p = 1, n = 0). The others are
compared with the reference within tolerances whose margins are measured in
tests/test_bank_probability.py.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Callable

import numpy as np

from grader import diagnose, stats
from grader.bank.inputs import combine, rotation
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare, fmt
from grader.grading import describe_raise
from grader.judges import Mistake, Trial, all_of, diagnose_mistakes, matches, raises

_LOG_2PI = math.log(2.0 * math.pi)


def _note(trial: Trial) -> str:
    return f" for {trial.case.note}" if trial.case.note else ""


def _raised(trial: Trial, hints: Callable[[dict], str | None]) -> Verdict | None:
    """A failing verdict for the first student call that raised (or never ran), with the hint
    ``hints(raised)``; None when every call returned."""
    for call, result in zip(trial.case.calls, trial.actual):
        if result.missing:
            return Verdict(False, f"{call.name} was not called: an earlier call failed")
        if result.raised is not None:
            return Verdict(False, describe_raise(call.name, result.raised), hints(result.raised))
    return None


# ----------------------------------------------------------------------------- case inputs

# Built with + - * / and sqrt only (IEEE-exact), never BLAS, LAPACK or libm, so that a case is
# the same bits on every machine (the student bundle finds frozen results by their digest).

def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


# ============================================================================ sample_binomial

BINOMIAL_MISTAKES: dict[str, str] = {
    "library_binomial": "the exercise is to build the count from Bernoulli trials: draw "
        "rng.random(size + (n,)) < p and sum over the last axis, instead of calling a library "
        "binomial sampler",
    "counted_failures": "you counted the FAILURES: a trial succeeds when u < p (probability "
        "p), so count u < p, not u > p (here the mean is n (1 - p) instead of n p)",
    "one_draw_times_n": "every count is 0 or n: you drew ONE Bernoulli trial per count and "
        "multiplied it by n. That has the right mean n p but variance n^2 p (1-p) instead of "
        "n p (1-p): draw n independent trials per count and sum them",
    "shared_trials": "every count is the same number: you drew one set of n trials and reused "
        "it for every count. Draw an array of shape size + (n,), a fresh set of trials for each "
        "count",
    "n_minus_one": "your counts sum n - 1 trials, not n: check the range of your loop or the "
        "shape of your draw (size + (n,))",
    "n_plus_one": "your counts sum n + 1 trials, not n: check the range of your loop or the "
        "shape of your draw (size + (n,))",
    "float_counts": "counts are integers: return an integer array (the sum of a boolean array "
        "is int64; or .astype(np.int64))",
    "wrong_axis": "you summed over the wrong axis: with trials of shape size + (n,) the trials "
        "of one count lie along the LAST axis (sum(axis=-1))",
    "rng_is_a_seed": "the grader passes rng as an int seed: start with rng = "
        "np.random.default_rng(rng), which accepts a seed or a Generator",
    "edge_rejected": "p = 0, p = 1 and n = 0 are valid inputs (a certain outcome): only n < 0 "
        "or p outside [0, 1] should raise",
    "not_seeded": "your counts do not depend on rng alone: draw everything from "
        "rng = np.random.default_rng(rng) (not from np.random.random, nor from a generator "
        "made without the seed)",
    "fixed_seed": "your counts do not depend on the seed: make the generator from rng "
        "(np.random.default_rng(rng)), not from a fixed seed",
}


def _shape(size: Any) -> tuple:
    return (operator.index(size),) if np.ndim(size) == 0 else tuple(size)


def _binomial_args(call: Call) -> tuple[int, float, tuple, int]:
    n, p, size, seed = call.args
    return int(n), float(p), _shape(size), int(seed)


def library_draws(n: int, p: float, shape: tuple, seed: int) -> dict[str, np.ndarray]:
    """What the library samplers give from the check's seed, as a student would call them.

    Generator and RandomState methods cannot be patched (they are C extension types), so the
    checks compare the counts with these draws instead. scipy.stats.binom.rvs(n, p, size,
    random_state=rng) draws rng.binomial(n, p, size), so the first two cover it. Not covered:
    rng.binomial(1, p, ...) summed, which for p > 0.5 gives exactly the bits of
    rng.random(...) < p (so does rng.binomial(1, p, size) itself), and draws made after others.
    """
    draws = {"rng.binomial(n, p, size) (numpy.random.Generator.binomial)":
             lambda: np.random.default_rng(seed).binomial(n, p, shape),
             "np.random.RandomState(seed).binomial(n, p, size)":
             lambda: np.random.RandomState(seed).binomial(n, p, shape),
             "rng.multinomial(n, [p, 1 - p], size)[..., 0]":
             lambda: np.random.default_rng(seed).multinomial(n, [p, 1 - p], shape)[..., 0]}
    return {name: draw() for name, draw in draws.items()}


def _library_used(got: np.ndarray, call: Call) -> str | None:
    n, p, shape, seed = _binomial_args(call)
    # One trial is one uniform either way: the library's Bernoulli can be the same bits as u < p.
    if n < 2 or got.size < 100:
        return None
    for name, draws in library_draws(n, p, shape, seed).items():
        if np.array_equal(got, draws):
            return name
    return None


def _binomial_hints(raised: dict) -> str | None:
    message = raised.get("message", "")
    if raised["type"] == "AttributeError" and "'int' object has no attribute" in message:
        return BINOMIAL_MISTAKES["rng_is_a_seed"]
    return None


def _counts(trial: Trial, call: int) -> tuple[np.ndarray | None, Verdict | None]:
    """The student's counts as int64 after the exact checks (type, shape, integer dtype,
    support 0..n, no library sampler), or the failing verdict."""
    c = trial.case.calls[call]
    n, p, shape, _ = _binomial_args(c)
    got = trial.got(call)
    prefix = f"sample_binomial{_note(trial)}"
    found = compare(got, trial.want(call), rtol=0.0, atol=math.inf, check_dtype=False)
    if found is not None:
        wrong_axis = isinstance(got, np.ndarray) and got.shape == ((n,) + shape)[:-1] != shape
        return None, Verdict(False, f"{prefix}: {found}",
                             BINOMIAL_MISTAKES["wrong_axis"] if wrong_axis else None)
    if got.dtype.kind not in "iu":
        return None, Verdict(False, f"{prefix}: dtype {got.dtype}, expected an integer dtype",
                             BINOMIAL_MISTAKES["float_counts"])
    outside = (got < 0) | (got > n)
    if outside.any():
        first = tuple(int(i) for i in np.argwhere(outside)[0])
        return None, Verdict(False, f"{prefix}: {int(outside.sum())} of {got.size} counts are "
                                    f"outside 0..{n}; first at {list(first)}: {got[first]}")
    library = _library_used(got, c)
    if library is not None:
        return None, Verdict(False, f"{prefix}: your counts are exactly the draws of {library} "
                                    "from this seed, which this exercise does not allow (an "
                                    "honesty check)",
                             BINOMIAL_MISTAKES["library_binomial"])
    return got.astype(np.int64), None


def binomial_tests(counts: np.ndarray, n: int, p: float) -> dict[str, stats.StatResult]:
    """Two tests of counts that should be independent Binomial(n, p) draws, 0 < p < 1.

    ``mean``: the total is a sum of m n independent trials, so it is exactly Binomial(m n, p)
    (an exact test). ``variance``: V = mean((X - n p)^2) has mean n p (1-p) and variance
    (mu4 - sigma^4) / m with mu4 = 3 sigma^4 + sigma^2 (1 - 6 p (1-p)) (a z-test: V is a mean of
    m independent terms; the benchmark measures its calibration).
    """
    m = counts.size
    var = n * p * (1.0 - p)
    spread = math.sqrt((2.0 * var * var + var * (1.0 - 6.0 * p * (1.0 - p))) / m)
    return {"mean": stats.binomial_fraction("mean(counts) / n", int(counts.sum()), m * n, p),
            "variance": stats.z_test("mean((counts - n p)^2), the variance about n p",
                                     float(np.mean((counts - n * p) ** 2)), var, spread)}


def _binomial_diagnosis(counts: np.ndarray, n: int, p: float,
                        tests: dict[str, stats.StatResult]) -> str | None:
    m, total = counts.size, int(counts.sum())
    if np.all(counts == counts.flat[0]):
        return BINOMIAL_MISTAKES["shared_trials"]
    if n >= 2 and np.all((counts == 0) | (counts == n)):
        return BINOMIAL_MISTAKES["one_draw_times_n"]
    if tests["mean"].passed:
        return None
    if p != 0.5 and stats.binomial_fraction("", total, m * n, 1.0 - p).passed:
        return BINOMIAL_MISTAKES["counted_failures"]
    for name, trials in (("n_minus_one", n - 1), ("n_plus_one", n + 1)):
        if trials >= 1 and total <= m * trials and \
                stats.binomial_fraction("", total, m * trials, p).passed:
            return BINOMIAL_MISTAKES[name]
    return None


def _binomial_case(n: int, p: float, size: Any):
    def build(rng: np.random.Generator) -> Case:
        return Case((Call("sample_binomial", (n, p, size, _seed(rng))),),
                    f"n={n}, p={p}, size={size}")
    return build


def _binomial_stat_judge(trial: Trial) -> Verdict:
    failed = _raised(trial, _binomial_hints)
    if failed:
        return failed
    counts, verdict = _counts(trial, 0)
    if verdict:
        return verdict
    n, p, _, _ = _binomial_args(trial.case.calls[0])
    tests = binomial_tests(counts, n, p)
    bad = [t for t in tests.values() if not t.passed]
    if not bad:
        return Verdict(True)
    lines = [t.describe(stats.RATE_NOTE if t is bad[-1] else "") for t in bad]
    return Verdict(False, f"sample_binomial{_note(trial)}: " + "; ".join(lines),
                   _binomial_diagnosis(counts, n, p, tests))


def _binomial_exact_judge(trial: Trial) -> Verdict:
    """p = 0, p = 1 or n = 0: every count is certain (0, or n when p = 1)."""
    failed = _raised(trial, lambda r: BINOMIAL_MISTAKES["edge_rejected"]
                     if r["type"] == "ValueError" else _binomial_hints(r))
    if failed:
        return failed
    n, p, _, _ = _binomial_args(trial.case.calls[0])
    got = trial.got(0)
    found = compare(got, trial.want(0), rtol=0.0, atol=0.0, check_dtype=False)
    is_int = isinstance(got, np.ndarray) and got.dtype.kind in "iu"
    if found is None and is_int:
        return Verdict(True)
    rule = "n = 0 trials: every count is 0" if n == 0 else (
        "p = 0: no trial succeeds, every count is 0" if p == 0 else
        f"p = 1: every trial succeeds, every count is n = {n}")
    hint = None
    if isinstance(got, np.ndarray) and got.dtype.kind == "f":
        hint = BINOMIAL_MISTAKES["float_counts"]
    elif is_int and n > 0 and got.shape == trial.want(0).shape and \
            np.all(got == (n if p == 0 else 0)):
        hint = BINOMIAL_MISTAKES["counted_failures"]
    message = found or f"dtype {got.dtype}, expected an integer dtype"
    return Verdict(False, f"sample_binomial{_note(trial)}: {message} ({rule})", hint)


def _seeded_case(rng: np.random.Generator) -> Case:
    seed = _seed(rng)
    calls = tuple(Call("sample_binomial", (10, 0.4, 200, s)) for s in (seed, seed, seed + 1))
    return Case(calls, f"n=10, p=0.4, size=200, seeds {seed}, {seed} and {seed + 1}")


def _seeded_judge(trial: Trial) -> Verdict:
    failed = _raised(trial, _binomial_hints)
    if failed:
        return failed
    outputs = []
    for call in range(3):
        counts, verdict = _counts(trial, call)
        if verdict:
            return verdict
        outputs.append(counts)
    seeds = [c.args[3] for c in trial.case.calls]
    prefix = f"sample_binomial{_note(trial)}"
    if not np.array_equal(outputs[0], outputs[1]):
        return Verdict(False, f"{prefix}: two calls with seed {seeds[0]} gave different counts",
                       BINOMIAL_MISTAKES["not_seeded"])
    if np.array_equal(outputs[0], outputs[2]):
        return Verdict(False, f"{prefix}: seeds {seeds[0]} and {seeds[2]} gave the same counts",
                       BINOMIAL_MISTAKES["fixed_seed"])
    return Verdict(True)


def _invalid_case(rng: np.random.Generator) -> Case:
    seed = _seed(rng)
    return Case((Call("sample_binomial", (5, 1.5, 10, seed)),
                 Call("sample_binomial", (-2, 0.5, 10, seed))), "p=1.5, then n=-2")


SAMPLE_BINOMIAL = Exercise(
    id="probability.sample_binomial",
    title="Binomial sampling from Bernoulli trials",
    functions=("sample_binomial",),
    summary="X = B_1 + ... + B_n with B_j ~ Bernoulli(p) drawn as u < p, vectorized",
    # Generator.binomial and RandomState.binomial are methods of C types, which cannot be
    # patched: the judges detect them (and scipy.stats.binom.rvs) by replaying the seed.
    forbidden=("numpy.random.binomial", "numpy.random.multinomial",
               "numpy.random.mtrand.binomial", "numpy.random.mtrand.multinomial",
               "torch.binomial", "torch.distributions.Binomial"),
    checks=(
        Check("moments", _binomial_case(20, 0.3, 20000), _binomial_stat_judge, points=1,
              about="n=20, p=0.3: counts in 0..n, mean n p and variance n p (1-p)"),
        Check("shape_tuple", _binomial_case(12, 0.65, (100, 200)), _binomial_stat_judge,
              points=1, about="size as a tuple: the shape of the result"),
        Check("seeded", _seeded_case, _seeded_judge, points=0.5,
              about="the same seed gives the same counts, another seed others"),
        Check("rare_successes", _binomial_case(50, 0.02, 30000), _binomial_stat_judge,
              points=1, hidden=True, about="p = 0.02: mean and variance of a skewed count"),
        Check("one_trial", _binomial_case(1, 0.7, 30000), _binomial_stat_judge, points=0.5,
              hidden=True, about="n = 1 is a Bernoulli draw"),
        Check("p_zero", _binomial_case(15, 0.0, 200), _binomial_exact_judge, points=0.5,
              hidden=True, about="p = 0 gives zeros"),
        Check("p_one", _binomial_case(15, 1.0, (10, 20)), _binomial_exact_judge, points=0.5,
              hidden=True, about="p = 1 gives n everywhere"),
        Check("n_zero", _binomial_case(0, 0.4, 300), _binomial_exact_judge, points=0.5,
              hidden=True, about="n = 0 trials give zeros"),
        Check("invalid", _invalid_case,
              all_of(raises("ValueError", call=0, why="p = 1.5 is not a probability"),
                     raises("ValueError", call=1, why="n = -2 is not a number of trials")),
              points=0.5, hidden=True, about="p outside [0, 1] or n < 0 raise ValueError"),
    ),
    timing=Timing(lambda rng: Call("sample_binomial", (50, 0.3, 20000, _seed(rng)), send=False),
                  slow_ratio=10.0,
                  advice="draw all trials at once, (rng.random(size + (n,)) < p).sum(axis=-1), "
                         "instead of looping over the counts"),
)


# ============================================================================ covariance

# Two-pass covariances (any order of summation, X^T X by BLAS or a loop, / (n - ddof) or
# * (1 / (n - ddof))) differ from np.cov by a few ulps of the largest variance: entries are
# compared with rtol 1e-10 and an atol of 1e-12 times the largest variance (for covariances
# near 0). With means of 1e8 and spreads of 1 the problem itself is ill-conditioned: the data
# are known to eps * 1e8 = 2e-8, and Welford's online update (a correct, stable algorithm) is
# off by up to 4e-9 relative (measured); there the tolerance is 1e-6, still ten million times
# below the one-pass formula's error (O(10) relative).
COV_RTOL, COV_ATOL = 1e-10, 1e-12
COV_OFFSET_TOL = 1e-6


def _inputs_of(case: Case, func: str) -> Call:
    """The last call of a case of ``func``; the release runs every variant of the module on
    every public case of the topic, and a variant applies to its own function's only."""
    call = case.calls[-1]
    if call.func != func:
        raise ValueError(f"not a case of {func}")
    return call


def _cov_inputs(case: Case) -> tuple[np.ndarray, int]:
    call = _inputs_of(case, "covariance")
    ddof = call.kwargs.get("ddof", call.args[1] if len(call.args) > 1 else 1)
    return np.asarray(call.args[0], dtype=np.float64), int(ddof)


def _cov_wrong(*, center: str | None = "columns", divisor: str = "ddof",
               rows_as_variables: bool = False):
    """A covariance computed with one deviation: no centering or centering of the rows, a
    divisor of n or n - 1 whatever ddof says, or the rows taken as the variables (np.cov(X))."""

    def variant(case: Case) -> np.ndarray:
        x, ddof = _cov_inputs(case)
        n = x.shape[0]
        if rows_as_variables:
            return np.cov(x, ddof=ddof)
        wanted = {"ddof": n - ddof, "n": n, "n-1": n - 1}[divisor]
        if wanted == n - ddof and divisor != "ddof":
            raise ValueError("the same as the right divisor here")
        if center == "columns":
            x = x - x.mean(axis=0)
        elif center == "rows":
            x = x - x.mean(axis=1, keepdims=True)
        return x.T @ x / wanted

    return variant


COV_MISTAKES = (
    Mistake("cov_rows_as_variables",
            "you treated each ROW as a variable (np.cov(X) does that by default): here rows are "
            "samples and columns features, so the result is d x d: Xc^T Xc / (n - ddof)",
            _cov_wrong(rows_as_variables=True)),
    Mistake("cov_not_centered",
            "you did not subtract the mean of each feature: the covariance is Xc^T Xc / "
            "(n - ddof) with Xc = X - X.mean(axis=0); X^T X alone is a second moment",
            _cov_wrong(center=None)),
    Mistake("cov_centered_rows",
            "you subtracted the mean of each ROW (sample): center each feature, X - "
            "X.mean(axis=0)",
            _cov_wrong(center="rows")),
    Mistake("cov_divides_by_n",
            "your result is (n - ddof) / n times the expected one: you divided by n; the "
            "divisor is n - ddof (n - 1 for the default ddof = 1, as np.cov)",
            _cov_wrong(divisor="n")),
    Mistake("cov_ignores_ddof",
            "you divided by n - 1 whatever ddof was: the divisor is n - ddof (n for ddof = 0)",
            _cov_wrong(divisor="n-1")),
    Mistake("cov_correlation",
            "you returned the correlation matrix (each covariance divided by the two standard "
            "deviations): the covariance keeps the features' scales, and a constant feature has "
            "zero variance, not NaN",
            lambda case: np.corrcoef(_cov_inputs(case)[0], rowvar=False)),  # NaN for n = 1
)
COV_NAN = ("every entry is NaN: you divided 0 by 0. With one sample every deviation from the "
           "mean is 0, so the covariance with ddof = 0 is the zero matrix (divide by n - ddof = "
           "1), and with ddof = 1 there is none: raise ValueError")
COV_ONE_PASS = ("your result is off by rounding noise of the size of mean^2 * 1e-16: the "
                "one-pass formula E[x x^T] - E[x] E[x]^T (or X^T X / n - outer(mean, mean)) "
                "subtracts two numbers of about 1e16 for features whose mean is 1e8. Center "
                "first, Xc = X - X.mean(axis=0), then Xc^T Xc / (n - ddof)")


def _one_pass_diagnosis(got: np.ndarray, case: Case, want: np.ndarray) -> str | None:
    """On data whose means dwarf their spreads, a symmetric result off by about as much as the
    one-pass formula is (within a factor 20 either way: its rounding noise depends on the order
    of summation) is that formula's cancellation; no other known mistake is that close."""
    x, ddof = _cov_inputs(case)
    mean, spread = np.abs(x.mean(axis=0)), x.std(axis=0)
    if not ((spread > 0) & (mean > 1e6 * spread)).any() or got.shape != want.shape or \
            not np.isfinite(got).all():
        return None
    m = x.mean(axis=0)
    one_pass = (x.T @ x - len(x) * np.outer(m, m)) / (len(x) - ddof)
    typical, error = float(np.abs(one_pass - want).max()), float(np.abs(got - want).max())
    symmetric = np.abs(got - got.T).max() <= 1e-6 * error
    return COV_ONE_PASS if symmetric and typical / 20 <= error <= 20 * typical else None


def _cov_failure(trial: Trial, call: int, message: str, atol: float = 0.0) -> Verdict:
    got, want = trial.got(call), trial.want(call)
    diagnosis = None
    if isinstance(got, np.ndarray) and got.dtype.kind == "f" and got.size and \
            np.isnan(got).all():
        diagnosis = COV_NAN
    diagnosis = diagnosis or diagnose_mistakes(got, trial.case, COV_MISTAKES)
    if diagnosis is None and isinstance(got, np.ndarray) and got.dtype.kind == "f":
        diagnosis = (_one_pass_diagnosis(got, trial.case, want)
                     or diagnose.generic(got, want, rtol=COV_RTOL, atol=atol))
    return Verdict(False, f"covariance{_note(trial)}: {message}", diagnosis)


def _not_psd(got: np.ndarray, scale: float) -> str:
    if got.ndim != 2 or got.shape[0] != got.shape[1] or not np.isfinite(got).all():
        return ""
    smallest = float(np.linalg.eigvalsh((got + got.T) / 2).min())
    if smallest >= -1e-8 * scale:
        return ""
    return (f"; it is not positive semi-definite (smallest eigenvalue {fmt(smallest)}), which a "
            "covariance matrix always is")


def _cov_values(call: int = -1, rtol: float = COV_RTOL, atol_scale: float = COV_ATOL
                ) -> Callable[[Trial], Verdict]:
    """Shape, dtype and NaN, symmetry, then values: rtol, and an atol of ``atol_scale`` times
    the largest expected variance."""
    def judge(trial: Trial) -> Verdict:
        got, want = trial.got(call), trial.want(call)
        found = compare(got, want, rtol=0.0, atol=math.inf)  # type, shape, dtype, NaN/Inf
        if found is not None:
            return _cov_failure(trial, call, str(found))
        scale = float(np.abs(np.diag(want)).max()) if want.size else 0.0
        atol = atol_scale * scale
        asym = np.abs(got - got.T)
        if asym.max() > atol + rtol * np.abs(got).max():
            i, j = np.unravel_index(int(np.argmax(asym)), asym.shape)
            return _cov_failure(trial, call, f"the result is not symmetric: C[{i}, {j}] = "
                                             f"{fmt(got[i, j])} but C[{j}, {i}] = "
                                             f"{fmt(got[j, i])}", atol)
        found = compare(got, want, rtol=rtol, atol=atol)
        if found is None:
            return Verdict(True)
        return _cov_failure(trial, call, f"{found}{_not_psd(got, scale)}", atol)
    return judge


def _cov_data(rng: np.random.Generator, n: int, d: int, means: np.ndarray) -> np.ndarray:
    """n samples of d correlated features (a random mixture of d + 1 sources) around means."""
    mixing = rng.normal(0.0, 1.0, (d, d + 1))
    return combine(rng.standard_normal((n, d + 1)), np.full(d + 1, 0.6), mixing) + means


def _cov_case(n: int, d: int, *, ddof: int | None = None, offset: float = 0.0,
              constant: int | None = None, note: str = ""):
    def build(rng: np.random.Generator) -> Case:
        spread = 1e3 if offset else 2.0
        x = _cov_data(rng, n, d, offset + rng.uniform(-spread, spread, d))
        if constant is not None:  # a multiple of 1/4: its mean is exact, its deviations 0
            x[:, constant] = int(rng.integers(-20, 21)) * 0.25
        kwargs = {} if ddof is None else {"ddof": ddof}
        about = f"{n} samples of {d} features{note}" + (f", ddof={ddof}" if kwargs else "")
        return Case((Call("covariance", (x,), kwargs),), about)
    return build


def _single_sample(rng: np.random.Generator) -> Case:
    x = rng.normal(0.0, 2.0, (1, 3))
    return Case((Call("covariance", (x,), {"ddof": 1}), Call("covariance", (x,), {"ddof": 0})),
                "one sample of 3 features, ddof=1 then ddof=0")


COVARIANCE = Exercise(
    id="probability.covariance",
    title="Sample covariance matrix",
    functions=("covariance",),
    summary="C = Xc^T Xc / (n - ddof) with Xc = X - X.mean(axis=0), centered first",
    forbidden=("numpy.cov", "torch.cov"),
    checks=(
        Check("small", _cov_case(20, 3), _cov_values(), points=1,
              about="20 samples of 3 features"),
        Check("more_samples", _cov_case(200, 6), _cov_values(), points=1,
              about="200 samples of 6 features"),
        Check("mean_offset", _cov_case(500, 4, offset=1e8, note=" with means about 1e8"),
              _cov_values(rtol=COV_OFFSET_TOL, atol_scale=COV_OFFSET_TOL), points=1, hidden=True,
              about="means of 1e8: center first (the one-pass formula cancels)"),
        Check("ddof_zero", _cov_case(30, 3, ddof=0), _cov_values(), points=0.5, hidden=True,
              about="ddof = 0 divides by n"),
        Check("constant_feature", _cov_case(50, 4, constant=2,
                                            note=", feature 2 constant"),
              _cov_values(), points=0.5, hidden=True,
              about="a constant feature has zero variance and covariances"),
        Check("fewer_samples_than_features", _cov_case(4, 7), _cov_values(), points=0.5,
              hidden=True, about="4 samples of 7 features: d x d of rank 3"),
        Check("single_sample", _single_sample,
              all_of(raises("ValueError", call=0,
                            why="one sample has no sample covariance with ddof=1 (n - ddof = 0)"),
                     _cov_values(call=1)),
              points=0.5, hidden=True,
              about="n = 1: ValueError with ddof = 1, zeros with ddof = 0"),
    ),
    timing=Timing(lambda rng: Call("covariance", (rng.standard_normal((2000, 50)),), send=False),
                  slow_ratio=10.0,
                  advice="center once and use one matrix product, Xc.T @ Xc / (n - ddof), "
                         "instead of looping over pairs of features"),
)


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

EXERCISES = (SAMPLE_BINOMIAL, COVARIANCE, MVN_LOGPDF, BCE_WITH_LOGITS, MSE_LOSS)
