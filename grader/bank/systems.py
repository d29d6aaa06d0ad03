"""Checks of exercises/systems.py, first part: Gaussian elimination (solve), and the case and
matching helpers that :mod:`grader.bank.systems_least_squares` (least squares, minimum-norm
solutions) shares.

Ill-conditioned systems are judged by what is well determined: the residual (Hilbert(10)), or x
to the accuracy that cond(A) * eps allows. A known mistake is a :class:`Mistake` whose variant
replays the flawed method on the case's inputs; where rounding makes the flawed answers differ
from run to run, the student's answer is matched by the property the flaw leaves (each module's
``_FITS``, passed to :func:`_diagnose`): here a residual, or an error, as large as the replay's.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from grader import diagnose
from grader.bank.inputs import with_singular_values
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare, describe, fmt
from grader.judges import Mistake, Trial, describe_raise


# ----------------------------------------------------------------------------- case inputs

# Inputs come from grader.bank.inputs (the same bits on every machine).

def _well_conditioned(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """Singular values in [0.5, 3]: a condition number of at most 6."""
    return with_singular_values(rng, m, n, rng.uniform(0.5, 3.0, min(m, n)))


def _times(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """a @ x without BLAS (b = A x_true for a consistent system)."""
    if x.ndim == 1:
        return np.sum(a * x, axis=1)
    return np.stack([np.sum(a * x[:, j], axis=1) for j in range(x.shape[1])], axis=1)


def _hilbert(n: int) -> np.ndarray:
    i = np.arange(n, dtype=np.float64)
    return 1.0 / (i[:, None] + i[None, :] + 1.0)


# ----------------------------------------------------------------------------- matching

def _quietly(variant: Callable[[Case], Any]) -> Callable[[Case], Any]:
    """A mistake's replay computes on purpose what overflows or divides by zero; the release
    replays it outside any judge, where a warning may be an error."""

    def run(case: Case) -> Any:
        with np.errstate(all="ignore"):
            return variant(case)

    return run


def _quiet(judge: Callable[[Trial], Verdict]) -> Callable[[Trial], Verdict]:
    """Judges compute on whatever came back: an overflow there is a wrong answer, not a
    warning (nor, under ``-W error``, a grader error)."""

    def run(trial: Trial) -> Verdict:
        with np.errstate(all="ignore"):
            return judge(trial)

    return run


def _inputs(case: Case) -> tuple[np.ndarray, np.ndarray]:
    call = case.calls[-1]
    return (np.asarray(call.args[0], dtype=np.float64),
            np.asarray(call.args[1], dtype=np.float64))


def _norm(x: Any) -> float:
    return float(np.linalg.norm(x))


def _as_float(value: Any, shape: tuple) -> np.ndarray | None:
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf" and value.shape == shape:
        return value.astype(np.float64)
    return None


def _relative_error(got: np.ndarray, want: np.ndarray) -> float:
    scale = _norm(want)
    return _norm(got - want) / scale if scale > 0 else _norm(got)


def _residual(case: Case, x: np.ndarray) -> float:
    """||A x - b|| / ||b||."""
    a, b = _inputs(case)
    return _norm(a @ x - b) / max(_norm(b), np.finfo(np.float64).tiny)


def _same_value(got: Any, wrong: Any, case: Case | None = None, want: Any = None) -> bool:
    """The replay's value within rtol 1e-6 of its largest entry (NaN/Inf where it has them)."""
    g = _as_float(got, np.shape(wrong))
    w = np.asarray(wrong, dtype=np.float64) if g is not None else None
    if g is None or not np.array_equal(np.isfinite(g), np.isfinite(w)):
        return False
    fin = np.isfinite(w)
    scale = float(np.abs(w[fin]).max()) if fin.any() else 0.0
    return bool(np.all(np.abs(g[fin] - w[fin]) <= 1e-6 * scale))


def _diagnose(got: Any, case: Case, want: Any, mistakes: tuple[Mistake, ...],
              fits: dict[str, Callable[..., bool]]) -> str | None:
    """The first of ``mistakes`` whose replay ``got`` matches: by the property ``fits`` names
    for the mistake (its module's ``_FITS``), else by value."""
    for mistake in mistakes:
        try:
            with np.errstate(all="ignore"):
                wrong = mistake.variant(case)
        except Exception:  # noqa: BLE001 - a variant that does not apply to these inputs
            continue
        if fits.get(mistake.name, _same_value)(got, wrong, case, want):
            return mistake.explain
    return None


def _is_linalg_error(raised: dict) -> bool:
    # Workers report only builtin base classes: numpy's LinAlgError is a ValueError by that name.
    return raised.get("type") == "LinAlgError" and "ValueError" in raised.get("mro", ())


def _raised(trial: Trial, on_raise: dict[str, Mistake]) -> Verdict | None:
    """A failing verdict when the student's call raised, naming the mistake of ``on_raise``
    whose key is the exception's type, one of its builtin base classes, or in its message."""
    result = trial.actual[-1]
    if result.raised is None or result.missing:
        return None
    raised = result.raised
    names = {raised.get("type"), *raised.get("mro", ())}
    diagnosis = next((m.explain for key, m in on_raise.items()
                      if key in names or key in raised.get("message", "")), None)
    note = f" for {trial.case.note}" if trial.case.note else ""
    return Verdict(False, describe_raise(f"{trial.func()}{note}", raised), diagnosis)



def _failure(trial: Trial, prefix: str, mistakes: tuple[Mistake, ...],
             fits: dict[str, Callable[..., bool]]) -> Callable[[str], Verdict]:
    """How a solution judge fails: ``prefix: message``, with the known mistake the answer fits
    (see :func:`_diagnose`) or else a generic diagnosis."""

    def fail(message: str) -> Verdict:
        got, want = trial.got(), trial.want()
        diagnosis = _diagnose(got, trial.case, want, mistakes, fits)
        if diagnosis is None:
            diagnosis = diagnose.generic(got, want, rtol=1e-6,
                                         atol=1e-9 * float(np.abs(want).max()))
        return Verdict(False, f"{prefix}: {message}", diagnosis)

    return fail


def _unusable(trial: Trial, on_raise: dict[str, Mistake] | None,
              fail: Callable[[str], Verdict]) -> Verdict | None:
    """The failing verdict of a call that raised, or of an answer of the wrong type, shape or
    dtype, or with NaN or Inf where the reference has none; None for an answer to judge."""
    raised = _raised(trial, on_raise or {})
    if raised is not None:
        return raised
    found = compare(trial.got(), trial.want(), rtol=0.0, atol=math.inf)
    return fail(str(found)) if found is not None else None


# ============================================================================ systems.solve

# A backward-stable solve leaves ||A x - b|| / ||b|| at a few eps (at most 1e-15 on Hilbert(10)
# over 200 seeds), inv(A) @ b between 2e-7 and 1e-4 there; x is compared where it is well
# determined (condition numbers up to about 1e3: errors below 1e-12).
RESIDUAL_TOL = 1e-10
X_RTOL = 1e-8


def _eliminate(a: np.ndarray, b: np.ndarray, *, pivot: bool = True, permute_b: bool = True,
               integer: bool = False, threshold: float | None = None) -> np.ndarray:
    """Gaussian elimination as a flawed solution does it: without a zero-pivot test, or
    raising LinAlgError for pivots below an absolute ``threshold``."""
    kind = np.int64 if integer else np.float64
    u, y = a.astype(kind), b.astype(kind).reshape(len(a), -1)
    n = len(u)
    for k in range(n):
        if pivot:
            p = k + int(np.argmax(np.abs(u[k:, k])))
            u[[k, p]] = u[[p, k]]
            if permute_b:
                y[[k, p]] = y[[p, k]]
        if threshold is not None and abs(u[k, k]) < threshold:
            raise np.linalg.LinAlgError("pivot below the absolute threshold")
        for i in range(k + 1, n):
            factor = u[i, k] / u[k, k]
            u[i, k:] = u[i, k:] - factor * u[k, k:]  # truncated when u holds integers
            y[i] = y[i] - factor * y[k]
    x = np.zeros(y.shape)
    for k in reversed(range(n)):
        x[k] = (y[k] - u[k, k + 1:] @ x[k + 1:]) / u[k, k]
    return x.reshape(b.shape)


def _integer_elimination(case: Case) -> np.ndarray:
    """Elimination in the integer arrays of an integer case (each update truncated)."""
    a, b = case.calls[-1].args
    if np.asarray(a).dtype.kind not in "iu":
        raise ValueError("not an integer case")
    return _eliminate(*_inputs(case), integer=True)


def _inverse_times(case: Case) -> np.ndarray:
    a, b = _inputs(case)
    return np.linalg.inv(a) @ b


def _residual_like(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    """A residual above the tolerance, within a factor of 1000 of the replay's."""
    g = _as_float(got, np.shape(want))
    if g is None or not np.isfinite(g).all():
        return False
    ours, theirs = _residual(case, g), _residual(case, np.asarray(wrong))
    return ours > RESIDUAL_TOL and theirs > RESIDUAL_TOL and 1e-3 <= ours / theirs <= 1e3


def _error_like(got: Any, wrong: Any, case: Case, want: Any) -> bool:
    """Inf/NaN where the replay has them, or an error within a factor of 1000 of the replay's
    (rounding amplified by a tiny pivot is different in every implementation)."""
    g = _as_float(got, np.shape(want))
    if g is None:
        return False
    w = np.asarray(wrong, dtype=np.float64)
    if not np.isfinite(w).all() or not np.isfinite(g).all():
        return not np.isfinite(w).all() and not np.isfinite(g).all()
    ours, theirs = _relative_error(g, want), _relative_error(w, want)
    return ours > X_RTOL and theirs > X_RTOL and 1e-3 <= ours / theirs <= 1e3


SOLVE_INVERSE = Mistake(
    "solve_explicit_inverse",
    "your residual ||A x - b|| is far above rounding level: the signature of x = inv(A) @ b. "
    "The computed inverse of a matrix with condition number 1.6e13 is off by about "
    "cond(A) * eps, and so is A x - b; elimination with partial pivoting (LU) is backward "
    "stable, its residual stays at a few eps whatever cond(A). Solve, do not invert",
    _quietly(_inverse_times))
SOLVE_NO_PIVOTING = Mistake(
    "solve_no_pivoting",
    "you eliminate without row exchanges: A[0, 0] is 0 (or 1e-12) here although A is "
    "invertible, so l = A[i, 0] / A[0, 0] divides by zero (or is 1e12 and wipes out the other "
    "entries). Partial pivoting: at step k, swap row k with the row p >= k of largest "
    "|A[p, k]| (and the same rows of b) before eliminating",
    _quietly(lambda case: _eliminate(*_inputs(case), pivot=False)))
SOLVE_B_NOT_PERMUTED = Mistake(
    "solve_b_not_permuted",
    "you swapped rows of A to pivot but not the same rows of b: you solved (P A) x = b instead "
    "of (P A) x = P b. Every row exchange of A must be applied to b too",
    _quietly(lambda case: _eliminate(*_inputs(case), permute_b=False)))
SOLVE_ABSOLUTE_PIVOT = Mistake(
    "solve_absolute_pivot_tolerance",
    "you declared Hilbert(10) singular: it is ill-conditioned (cond 1.6e13) but invertible, its "
    "smallest pivot is about 2.6e-12. A fixed threshold like |pivot| < 1e-10 is not a test of "
    "singularity; raise only for a zero pivot (or one below n * eps * max|A_ij|)",
    _quietly(lambda case: _eliminate(*_inputs(case), threshold=1e-10)))
SOLVE_INTEGER = Mistake(
    "solve_integer_arithmetic",
    "your elimination works in the integer arrays it was given: the updates row_i - l * row_k "
    "are floats, and numpy refuses to store them in an int array (or truncates them). Convert "
    "first: A = np.array(A, dtype=float), b = np.array(b, dtype=float) (copies, so the caller's "
    "arrays are not changed either)",
    _quietly(_integer_elimination))
SOLVE_SINGULAR = Mistake(
    "solve_singular_not_detected",
    "A is singular (two equal rows, or a zero column) but your elimination went on with a zero "
    "pivot: dividing by it gives Inf/NaN or a ZeroDivisionError. When the largest candidate "
    "pivot in a column is 0, raise np.linalg.LinAlgError",
    _quietly(lambda case: _eliminate(*_inputs(case))))
_FITS: dict[str, Callable[..., bool]] = {
    "solve_explicit_inverse": _residual_like, "solve_no_pivoting": _error_like,
}


def _solve_judge(*mistakes: Mistake, residual_only: bool = False,
                 on_raise: dict[str, Mistake] | None = None) -> Callable[[Trial], Verdict]:
    """The relative residual, then (unless ``residual_only``) x against the reference."""

    @_quiet
    def judge(trial: Trial) -> Verdict:
        fail = _failure(trial, f"solve for {trial.case.note}", mistakes, _FITS)
        unusable = _unusable(trial, on_raise, fail)
        if unusable is not None:
            return unusable
        got, want = trial.got(), trial.want()
        residual = _residual(trial.case, got)
        if not residual <= RESIDUAL_TOL:
            return fail(f"relative residual ||A x - b|| / ||b|| = {fmt(residual)} (allowed "
                        f"{RESIDUAL_TOL:g})")
        if not residual_only:
            found = compare(got, want, rtol=X_RTOL, atol=X_RTOL * float(np.abs(want).max()))
            if found is not None:
                return fail(str(found))
        return Verdict(True)

    return judge


def _singular_judge(trial: Trial) -> Verdict:
    """np.linalg.LinAlgError, naming the missing zero-pivot test when it is not raised."""
    result = trial.actual[-1]
    if result.raised is not None and _is_linalg_error(result.raised):
        return Verdict(True)
    message = f"solve for {trial.case.note} should raise np.linalg.LinAlgError (A is singular)"
    if result.missing:
        return Verdict(False, f"{message}; it was not called")
    if result.raised is not None:
        got = f"raised {result.raised['type']}: {result.raised['message']}"
    else:
        got = f"returned {describe(result.value)}"
    return Verdict(False, f"{message}; it {got}", SOLVE_SINGULAR.explain)


def _solve_case(n: int, note: str, *, k: int | None = None,
                edit: Callable[[np.ndarray, np.random.Generator], None] | None = None):
    def build(rng: np.random.Generator) -> Case:
        a = _well_conditioned(rng, n, n)
        if edit is not None:
            edit(a, rng)
        b = rng.standard_normal(n if k is None else (n, k))
        return Case((Call("solve", (a, b)),), note)
    return build


def _set_leading(value: float) -> Callable[[np.ndarray, np.random.Generator], None]:
    def edit(a: np.ndarray, rng: np.random.Generator) -> None:
        a[0, 0] = value * rng.uniform(0.5, 2.0)
    return edit


def _hilbert_case(rng: np.random.Generator) -> Case:
    h = _hilbert(10)
    return Case((Call("solve", (h, _times(h, rng.standard_normal(10)))),),
                "the Hilbert matrix of order 10 (condition number 1.6e13), b = H x_true")


def _singular_case(kind: str):
    def build(rng: np.random.Generator) -> Case:
        a = rng.standard_normal((5, 5))
        if kind == "rows":
            a[3] = a[1]
        else:
            a[:, 2] = 0.0
        note = "a 5x5 matrix whose rows 1 and 3 are equal" if kind == "rows" else \
            "a 5x5 matrix whose column 2 is zero"
        return Case((Call("solve", (a, rng.standard_normal(5))),), note)
    return build


def _integer_case(rng: np.random.Generator) -> Case:
    a = rng.integers(-4, 5, (4, 4)) + 12 * np.eye(4, dtype=np.int64)
    return Case((Call("solve", (a, rng.integers(-9, 10, 4))),),
                "an integer 4x4 matrix and an integer b")


SOLVE = Exercise(
    id="systems.solve",
    title="Gaussian elimination with partial pivoting",
    functions=("solve",),
    summary="x with A x = b by LU with row exchanges; LinAlgError for a singular A",
    forbidden=("numpy.linalg.solve", "numpy.linalg.lstsq", "numpy.linalg.pinv",
               "numpy.linalg.tensorsolve", "scipy.linalg.solve", "scipy.linalg.lu",
               "scipy.linalg.lu_factor", "scipy.linalg.lu_solve", "scipy.linalg.lstsq",
               "torch.linalg.solve"),
    checks=(
        Check("small", _solve_case(4, "a 4x4 system"),
              _solve_judge(SOLVE_B_NOT_PERMUTED), points=1, about="a small invertible system"),
        Check("several_rhs", _solve_case(5, "a 5x5 system with b of shape (5, 3)", k=3),
              _solve_judge(SOLVE_B_NOT_PERMUTED), points=1,
              about="b with several columns: one solution per column"),
        Check("larger", _solve_case(40, "a 40x40 system"),
              _solve_judge(SOLVE_B_NOT_PERMUTED), points=0.5, hidden=True,
              about="a 40x40 system"),
        Check("zero_leading_entry",
              _solve_case(4, "an invertible 4x4 matrix with A[0, 0] = 0",
                          edit=lambda a, rng: a.__setitem__((0, 0), 0.0)),
              _solve_judge(SOLVE_NO_PIVOTING, SOLVE_B_NOT_PERMUTED,
                           on_raise={"LinAlgError": SOLVE_NO_PIVOTING,
                                     "ZeroDivisionError": SOLVE_NO_PIVOTING,
                                     "FloatingPointError": SOLVE_NO_PIVOTING}),
              points=0.5, hidden=True, about="a zero leading entry: row exchanges needed"),
        Check("tiny_pivot",
              _solve_case(5, "an invertible 5x5 matrix with A[0, 0] about 1e-12",
                          edit=_set_leading(1e-12)),
              _solve_judge(SOLVE_NO_PIVOTING, SOLVE_B_NOT_PERMUTED), points=0.5, hidden=True,
              about="a tiny leading entry: partial pivoting keeps multipliers <= 1"),
        Check("hilbert10", _hilbert_case,
              _solve_judge(SOLVE_INVERSE, residual_only=True,
                           on_raise={"LinAlgError": SOLVE_ABSOLUTE_PIVOT}),
              points=1, hidden=True,
              about="Hilbert(10): judged by the residual; no explicit inverse"),
        Check("singular_equal_rows", _singular_case("rows"), _singular_judge, points=0.5,
              hidden=True, about="two equal rows: LinAlgError"),
        Check("singular_zero_column", _singular_case("column"), _singular_judge, points=0.5,
              hidden=True, about="a zero column: LinAlgError"),
        Check("integers", _integer_case,
              _solve_judge(SOLVE_INTEGER, on_raise={"Cannot cast ufunc": SOLVE_INTEGER}),
              points=0.5, hidden=True, about="integer A and b: compute in float64"),
    ),
    # n = 200, measured: loops over single entries 25x the reference, a loop over rows with
    # vectorized row updates 6.6x, whole-column updates 0.8-1.3x, inv(A) @ b 0.1x.
    timing=Timing(lambda rng: Call("solve", (_well_conditioned(rng, 200, 200),
                                             rng.standard_normal(200)), send=False),
                  slow_ratio=10.0,
                  advice="eliminate a whole column at a time: l = U[k+1:, k] / U[k, k], then "
                         "U[k+1:, k+1:] -= np.outer(l, U[k, k+1:]), instead of loops over "
                         "rows and entries"),
)

EXERCISES = (SOLVE,)
