"""Checks of exercises/probability.py: sample_binomial and covariance (the negative
log-likelihoods mvn_logpdf, bce_with_logits and mse_loss are in probability_likelihoods.py).

sample_binomial is random: its checks test statistics of the student's counts (grader.stats) and
never compare values, except where the answer is certain (p = 0, p = 1, n = 0). covariance is
compared with the reference within tolerances whose margins are measured in
tests/test_bank_probability.py.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Callable

import numpy as np

from grader import diagnose, stats
from grader.bank.inputs import combine
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare, fmt
from grader.judges import Mistake, Trial, all_of, describe_raise, diagnose_mistakes, raises


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


def _inputs_of(case: Case, func: str) -> Call:
    """The last call of a case of ``func``; the release runs every variant of the module on
    every public case of the topic, and a variant applies to its own function's only."""
    call = case.calls[-1]
    if call.func != func:
        raise ValueError(f"not a case of {func}")
    return call


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

EXERCISES = (SAMPLE_BINOMIAL, COVARIANCE)
