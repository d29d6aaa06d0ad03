"""Checks of exercises/calculus.py, continued: second-order conditions and descent to a
minimum, is_positive_definite and gradient_descent (numerical_gradient and quad_grad_hess are in
calculus.py).

As there, the ``grad_f`` that a check hands to the student's gradient_descent is
:class:`~grader.sandbox.wire.Fn` source text: the call is a Fn that takes A and b as arguments,
builds grad_f and calls the student's code, so the data cross the wire as arrays and the worker
still reports whether x0 was changed in place. Known mistakes are replayed in the grader's
process with calculus's ``_replay`` (the same calls against a flawed implementation).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np

from grader.bank.calculus import _replay
from grader.bank.inputs import combine, rotation
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import compare, describe
from grader.judges import Mistake, Trial, describe_raise, raises
from grader.sandbox.wire import Fn


# ----------------------------------------------------------------------------- case inputs

# Inputs are built with + - * / and np.sum only, never BLAS, LAPACK or libm, so that a case is
# the same bits on every machine (the student bundle finds frozen results by their digest).

def _with_eigenvalues(rng: np.random.Generator, values) -> np.ndarray:
    """An exactly symmetric matrix Q diag(values) Q^T for a random rotation Q."""
    q = rotation(rng, len(values))
    a = combine(q, values, q)
    return 0.5 * (a + a.T)


# ----------------------------------------------------------------------------- is_positive_definite

# Every matrix of a battery is far from the decision boundary of the specification (eigenvalues
# at least 1e4 times the tolerance away from tol * max|lambda|, or exactly 0 up to rounding of
# 1e-16), so any correct eigvalsh- or Cholesky-based test gives the same answers.

def _pd_call(a: np.ndarray, tol: float | None = None) -> Call:
    return Call("is_positive_definite", (a,), {} if tol is None else {"tol": tol})


def _clear_cases(rng: np.random.Generator) -> Case:
    return Case((_pd_call(_with_eigenvalues(rng, [4.0, 2.0, 1.0, 0.5])),
                 _pd_call(_with_eigenvalues(rng, [3.0, 1.0, -2.0])),
                 _pd_call(_with_eigenvalues(rng, [-1.0, -3.0])),
                 _pd_call(_with_eigenvalues(rng, [3.0, 2.0, -1.0, -0.5])),
                 _pd_call(np.eye(3))))


_CLEAR = ("a 4x4 SPD matrix (eigenvalues 4, 2, 1, 0.5)",
          "an indefinite 3x3 matrix (eigenvalues 3, 1, -2)",
          "a negative-definite 2x2 matrix (eigenvalues -1, -3; determinant 3 > 0)",
          "a 4x4 matrix with eigenvalues 3, 2, -1, -0.5 (determinant 3 > 0)",
          "the 3x3 identity")


def _semidefinite(rng: np.random.Generator) -> Case:
    return Case((_pd_call(np.diag([2.0, 0.0, 1.0])),
                 _pd_call(_with_eigenvalues(rng, [3.0, 1.0, 0.0, 0.0])),
                 _pd_call(np.zeros((3, 3))),
                 _pd_call(np.ones((3, 3)))))


_SEMIDEFINITE = ("diag(2, 0, 1)", "a 4x4 matrix of rank 2 (eigenvalues 3, 1, 0, 0)",
                 "the 3x3 zero matrix", "the 3x3 matrix of ones (eigenvalues 3, 0, 0)")


def _relative(rng: np.random.Generator) -> Case:
    return Case((_pd_call(_with_eigenvalues(rng, [4e-12, 2e-12, 1e-12, 5e-13])),
                 _pd_call(_with_eigenvalues(rng, [3e12, 2e12, 1e12])),
                 _pd_call(_with_eigenvalues(rng, [2.0, 1.0, 1e-14])),
                 _pd_call(_with_eigenvalues(rng, [2e12, 1e12, 1e-2])),
                 _pd_call(_with_eigenvalues(rng, [1.0, 0.5, -1e-14])),
                 _pd_call(_with_eigenvalues(rng, [1.0, 1e-6]))))


_RELATIVE = ("a 4x4 SPD matrix with entries about 1e-12 (eigenvalues 4e-12 to 5e-13)",
             "a 3x3 SPD matrix with entries about 1e12",
             "eigenvalues 2, 1, 1e-14 (singular to working precision: 1e-14 <= tol * 2)",
             "eigenvalues 2e12, 1e12, 0.01 (0.01 <= tol * 2e12)",
             "eigenvalues 1, 0.5, -1e-14", "eigenvalues 1, 1e-6 (1e-6 > tol * 1)")


def _nonsymmetric(rng: np.random.Generator) -> Case:
    # An antisymmetric part with entries below 0.6: the symmetric matrix that eigvalsh reads
    # from the lower triangle stays positive definite, so ignoring symmetry answers True.
    m = rng.uniform(-0.3, 0.3, (3, 3))
    skewed = _with_eigenvalues(rng, [4.0, 3.0, 2.0]) + (m - m.T)
    noise = rng.uniform(-1.0, 1.0, (3, 3))
    spd = _with_eigenvalues(rng, [3.0, 2.0, 1.0])
    rounded = spd + 1e-14 * float(np.abs(spd).max()) * noise
    return Case((_pd_call(skewed), _pd_call(np.array([[1.0, 4.0], [0.0, 1.0]])),
                 _pd_call(rounded)))


_NONSYMMETRIC = ("a non-symmetric 3x3 matrix whose symmetric part is SPD (x^T A x > 0, but "
                 "A != A^T)",
                 "the upper-triangular [[1, 4], [0, 1]] (its lower triangle is the identity)",
                 "an SPD matrix whose entries are off by rounding (1e-14 of max |A|), so "
                 "A - A^T is not exactly 0")


def _explicit_tol(rng: np.random.Generator) -> Case:
    return Case((_pd_call(_with_eigenvalues(rng, [1.0, 1e-4]), 1e-3),
                 _pd_call(_with_eigenvalues(rng, [2.0, 1.0, 0.01]), 1e-3)))


_EXPLICIT_TOL = ("eigenvalues 1, 1e-4 with tol=1e-3", "eigenvalues 2, 1, 0.01 with tol=1e-3")


def _one_by_one(rng: np.random.Generator) -> Case:
    return Case(tuple(_pd_call(np.array([[v]])) for v in (rng.uniform(0.5, 3.0), -1.0, 0.0)))


_ONE_BY_ONE = ("a positive 1x1 matrix", "[[-1]]", "[[0]]")


def _pd_flawed(a: np.ndarray, tol: float, flaw: str) -> bool:
    """A flawed positive-definiteness test (replayed in the grader's process)."""
    a = np.asarray(a, dtype=np.float64)
    if flaw == "positive_determinant":
        return bool(np.linalg.det(a) > 0)
    if flaw == "exact_symmetry":
        symmetric = bool(np.array_equal(a, a.T))
    else:
        symmetric = flaw == "no_symmetry_check" or bool(
            np.abs(a - a.T).max() <= tol * np.abs(a).max())
    if not symmetric:
        return False
    lam = np.linalg.eigvalsh(a)
    top = float(np.abs(lam).max())
    return bool({"semidefinite_accepted": lam[0] >= -tol * top, "absolute_tolerance": lam[0] > tol,
                 "no_tolerance": lam[0] > 0, "ignores_tol": lam[0] > 1e-10 * top,
                 }.get(flaw, lam[0] > tol * top))


def _pd_flaw(flaw: str) -> Callable[[Case], list]:
    return lambda case: [_pd_flawed(c.args[0], c.kwargs.get("tol", 1e-10), flaw)
                         for c in case.calls]


PD_MISTAKES = (
    Mistake("pd_positive_determinant",
            "a positive determinant does not make a matrix positive definite: det is the "
            "product of the eigenvalues, positive also when an even number of them are negative "
            "(a negative-definite 2x2 has det > 0). Test the smallest eigenvalue (or try a "
            "Cholesky factorization)",
            _pd_flaw("positive_determinant")),
    Mistake("pd_semidefinite_accepted",
            "you accepted positive SEMI-definite matrices (smallest eigenvalue 0): positive "
            "definite needs lambda_min > tol * max |lambda|, strictly, so a singular matrix (and "
            "the zero matrix) answers False",
            _pd_flaw("semidefinite_accepted")),
    Mistake("pd_absolute_tolerance",
            "you compared the smallest eigenvalue with tol itself (lambda_min > tol), an absolute "
            "threshold: for a matrix with entries about 1e-12 every eigenvalue is below 1e-10, "
            "and for one about 1e12 rounding noise is above it. Compare with tol * max |lambda|",
            _pd_flaw("absolute_tolerance")),
    Mistake("pd_no_tolerance",
            "you tested lambda_min > 0 (or that a Cholesky factorization succeeds) without the "
            "tolerance: a matrix whose smallest eigenvalue is 1e-14 of its largest is singular "
            "to working precision, and the rounding of its entries decides the sign. Require "
            "lambda_min > tol * max |lambda|",
            _pd_flaw("no_tolerance")),
    Mistake("pd_no_symmetry_check",
            "you did not check that A is symmetric: np.linalg.eigvalsh and np.linalg.cholesky "
            "read only the lower triangle and answer for a different, symmetric matrix. Return "
            "False when max |A - A^T| > tol * max |A|",
            _pd_flaw("no_symmetry_check")),
    Mistake("pd_exact_symmetry",
            "you required A == A^T exactly: a matrix computed in floating point is symmetric only "
            "up to rounding. Accept max |A - A^T| <= tol * max |A|",
            _pd_flaw("exact_symmetry")),
    Mistake("pd_ignores_tol",
            "you did not use the tol argument (the check passes tol=1e-3): a matrix with "
            "lambda_min / lambda_max = 1e-4 is not positive definite at that tolerance",
            _pd_flaw("ignores_tol")),
)
_PD_BY_NAME = {m.name: m for m in PD_MISTAKES}


def _battery(labels: tuple[str, ...], mistakes: tuple[str, ...]) -> Callable[[Trial], Verdict]:
    """Judge: the exact bool for every matrix of the case; the first wrong answer is named,
    with the first of ``mistakes`` that gives the same wrong answer there."""

    def judge(trial: Trial) -> Verdict:
        for i, label in enumerate(labels):
            name = f"is_positive_definite for {label}"
            result = trial.actual[i]
            if result.raised is not None:
                return Verdict(False, describe_raise(name, result.raised))
            got, want = trial.got(i), trial.want(i)
            if compare(got, want) is None:
                continue
            return Verdict(False, f"{name}: expected {want}, got {describe(got)}",
                           _pd_diagnosis(trial.case, i, got, want, mistakes))
        return Verdict(True)

    return judge


def _pd_diagnosis(case: Case, i: int, got: Any, want: bool, names: tuple[str, ...]
                  ) -> str | None:
    if not isinstance(got, (bool, np.bool_)) or bool(got) == want:
        return None
    for name in names:
        try:
            wrong = _PD_BY_NAME[name].variant(case)
        except Exception:  # noqa: BLE001 - a variant that does not apply (or is not frozen)
            continue
        if bool(wrong[i]) == bool(got):
            return _PD_BY_NAME[name].explain
    return None


_raises_value_error = raises("ValueError", why="positive definiteness is a property of square "
                                            "matrices")


def _pd_timing(rng: np.random.Generator) -> Call:
    m = rng.standard_normal((300, 300))
    return Call("is_positive_definite", (0.5 * (m + m.T) + 40.0 * np.eye(300),), send=False)


IS_POSITIVE_DEFINITE = Exercise(
    id="calculus.is_positive_definite",
    title="Positive definiteness, with relative tolerances",
    functions=("is_positive_definite",),
    summary="A == A^T up to tol * max|A| and lambda_min > tol * max|lambda|",
    checks=(
        Check("clear_cases", _clear_cases,
              _battery(_CLEAR, ("pd_positive_determinant", "pd_semidefinite_accepted")),
              points=1, about="SPD, indefinite and negative-definite matrices"),
        Check("semidefinite", _semidefinite,
              _battery(_SEMIDEFINITE, ("pd_semidefinite_accepted", "pd_no_tolerance")),
              points=1, about="singular positive semi-definite matrices answer False"),
        Check("relative_tolerance", _relative,
              _battery(_RELATIVE, ("pd_absolute_tolerance", "pd_no_tolerance",
                                   "pd_semidefinite_accepted")),
              points=0.5, hidden=True, about="tiny and huge scales, near-singular matrices"),
        Check("symmetry", _nonsymmetric,
              _battery(_NONSYMMETRIC, ("pd_no_symmetry_check", "pd_exact_symmetry")),
              points=0.5, hidden=True, about="non-symmetric matrices answer False"),
        Check("given_tol", _explicit_tol, _battery(_EXPLICIT_TOL, ("pd_ignores_tol",)),
              points=0.5, hidden=True, about="the tol argument is used"),
        Check("one_by_one", _one_by_one,
              _battery(_ONE_BY_ONE, ("pd_semidefinite_accepted",)), points=0.5, hidden=True,
              about="1x1 matrices"),
        Check("not_square", lambda rng: Case((_pd_call(rng.standard_normal((3, 4))),),
                                             "a 3x4 matrix"),
              _raises_value_error, points=0.5, hidden=True,
              about="a non-square matrix raises ValueError"),
    ),
    timing=Timing(_pd_timing, slow_ratio=10.0,
                  advice="one np.linalg.eigvalsh (or one Cholesky factorization) of the whole "
                         "matrix, not a determinant per leading minor"),
)


# ----------------------------------------------------------------------------- gradient_descent

# Iterates are compared step by step with rtol 1e-10 and an atol of 1e-12 times the largest
# |entry| so far: rounding grows like k * eps relative to the iterates, converging or not.
GD_RTOL, GD_ATOL_SCALE = 1e-10, 1e-12
_GD = """def f(A, b, x0, lr, n_steps):
    return gradient_descent(lambda x: A @ x + b, x0, lr, n_steps)"""
_GD_LABEL = "gradient_descent(grad_f, x0, lr, n_steps) with grad_f(x) = A x + b"
_GD_COUNT = """def f(A, b, x0, lr, n_steps):
    calls = []
    def grad_f(x):
        calls.append(1)
        return A @ x + b
    gradient_descent(grad_f, x0, lr, n_steps)
    return len(calls)"""


def _gd_case(values, lr_times: float, n_steps: int, *, offset: bool = False,
             count: bool = False, about: str = ""):
    """f(x) = 1/2 x^T A x + b^T x with A's eigenvalues ``values`` times a random scale, from a
    random x0, with lr = lr_times / lambda_max."""
    def build(rng: np.random.Generator) -> Case:
        lams = rng.uniform(0.5, 2.0) * np.asarray(values, dtype=np.float64)
        a, n = _with_eigenvalues(rng, lams), len(values)
        b = rng.standard_normal(n) if offset else np.zeros(n)
        lr = float(lr_times / lams.max())
        func = Fn(_GD_COUNT, label="how many times gradient_descent calls grad_f") if count \
            else Fn(_GD, label=_GD_LABEL)
        note = (f"A of shape ({n}, {n}){', b != 0' if offset else ', b = 0'}, "
                f"lr = {lr_times:g} / lambda_max, {n_steps} steps{about}")
        return Case((Call(func, (a, b, rng.standard_normal(n), lr, n_steps)),), note)
    return build


def _stacked(history: Any) -> Any:
    """A list of equal-shaped arrays as one array (the docstring accepts both)."""
    if isinstance(history, (list, tuple)) and history and all(
            isinstance(h, np.ndarray) and h.shape == history[0].shape for h in history):
        return np.stack(history)
    return history


def _run_mismatch(got: Any, want: tuple, rtol: float, atol_scale: float):
    """The first difference of (x, history) against the expected run, or None."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"expected a pair (x, history), got {describe(got)}"
    x, history = got[0], _stacked(got[1])
    want_x, want_h = want
    found = compare(history, want_h, rtol=0.0, atol=math.inf, path="history")
    if found is not None:
        return found
    scale = np.maximum.accumulate(np.abs(want_h).reshape(len(want_h), -1).max(axis=1))
    for k in range(len(want_h)):
        found = compare(history[k], want_h[k], rtol=rtol, atol=atol_scale * scale[k],
                        path=f"history[{k}]")
        if found is not None:
            return found
    return compare(x, want_x, rtol=rtol, atol=atol_scale * scale[-1], path="x")


def _flawed_descent(grad_f, x0, lr, n_steps, *, flaw: str):
    """gradient_descent with one known flaw (replayed in the grader's process)."""
    x = np.array(x0, dtype=np.float64)
    history = [x if flaw == "aliased" else x.copy()]
    for _ in range(n_steps):
        step = lr * grad_f(x)
        if flaw == "aliased":
            x -= step
        else:
            x = x + step if flaw == "ascent" else x - step
        history.append(x if flaw == "aliased" else x.copy())
    return x, np.array(history[1:] if flaw == "without_x0" else history)


def _descent_flaw(flaw: str) -> Callable[[Case], Any]:
    return lambda case: _replay(case, gradient_descent=functools.partial(_flawed_descent,
                                                                         flaw=flaw))


GD_MISTAKES = (
    Mistake("gd_history_aliased",
            "every row of your history is the last iterate: you stored the array x itself and "
            "then updated it in place (x -= ...), so all entries are the same object. Store "
            "x.copy(), or update with x = x - lr * g (a new array)",
            _descent_flaw("aliased")),
    Mistake("gd_history_without_x0",
            "your history starts at x_1: it holds n_steps + 1 iterates, history[0] = x0",
            _descent_flaw("without_x0")),
    Mistake("gd_ascent",
            "you stepped uphill, x + lr * grad_f(x): descent moves AGAINST the gradient, "
            "x - lr * grad_f(x)",
            _descent_flaw("ascent")),
)


def _gd_judge(trial: Trial) -> Verdict:
    got, want = trial.got(), trial.want()
    found = _run_mismatch(got, want, GD_RTOL, GD_ATOL_SCALE)
    if found is None:
        return Verdict(True)
    diagnosis = None
    for mistake in GD_MISTAKES:
        try:
            wrong = mistake.variant(trial.case)
        except Exception:  # noqa: BLE001 - a variant that does not apply (or is not frozen)
            continue
        if _run_mismatch(got, wrong, 1e-6, 1e-9) is None:
            diagnosis = mistake.explain
            break
    return Verdict(False, f"{trial.func()} for {trial.case.note}: {found}", diagnosis)


def _untouched_judge(trial: Trial) -> Verdict:
    if trial.actual[-1].mutated:
        return Verdict(False, f"{trial.func()} for {trial.case.note} changed x0 in place: start "
                              "from a copy (x = x0.copy(), or x = x - lr * g, which makes a new "
                              "array); x = x0 followed by x -= ... writes into the caller's x0")
    return _gd_judge(trial)


def _count_judge(trial: Trial) -> Verdict:
    got, want = trial.got(), trial.want()
    if got == want:
        return Verdict(True)
    return Verdict(False, f"gradient_descent called grad_f {got} times for {want} steps: call it "
                          "exactly once per step, at the current iterate")


def _gd_timing(rng: np.random.Generator) -> Call:
    a = _with_eigenvalues(rng, np.linspace(0.1, 1.0, 50))
    return Call(Fn(_GD, label=_GD_LABEL), (a, rng.standard_normal(50), rng.standard_normal(50),
                                           1.0, 3000), send=False)


GRADIENT_DESCENT = Exercise(
    id="calculus.gradient_descent",
    title="Gradient descent with a fixed learning rate",
    functions=("gradient_descent",),
    summary="x_{k+1} = x_k - lr grad_f(x_k), returning the last iterate and the history "
            "x_0, ..., x_n",
    checks=(
        Check("converging", _gd_case([4.0, 2.0, 1.0], 1.0, 20), _gd_judge, points=1,
              about="lr = 1 / lambda_max: the iterates (I - lr A)^k x0 converge"),
        Check("with_offset", _gd_case([3.0, 2.0, 1.0, 0.5], 1.5, 30, offset=True), _gd_judge,
              points=1, about="f = 1/2 x^T A x + b^T x, lr = 1.5 / lambda_max"),
        Check("edge_of_stability", _gd_case([4.0, 1.0, 0.5], 2.0, 15,
                                            about=" (the top direction flips sign every step)"),
              _gd_judge, points=0.5, hidden=True, about="lr = 2 / lambda_max: oscillation"),
        Check("diverging", _gd_case([2.0, 1.0, 0.5], 2.4, 20), _gd_judge, points=0.5,
              hidden=True, about="lr = 2.4 / lambda_max: the iterates grow"),
        Check("x0_untouched", _gd_case([3.0, 1.0], 0.8, 10), _untouched_judge, points=0.5,
              hidden=True, about="x0 is not changed in place"),
        Check("no_steps", _gd_case([2.0, 1.0, 1.0], 1.0, 0), _gd_judge, points=0.5,
              hidden=True, about="n_steps = 0: x0 and a history of one row"),
        Check("grad_calls", _gd_case([2.0, 1.0], 1.0, 12, count=True), _count_judge,
              points=0.5, hidden=True, about="one grad_f call per step"),
    ),
    # Measured (benchmarks/timing_flags.py): np.vstack of the history at every step 8x to 13x
    # the reference at 3,000 steps; a list of iterates or a preallocated array 1x.
    timing=Timing(_gd_timing, slow_ratio=3.0,
                  advice="call grad_f once per step and collect the iterates in a list (or a "
                         "preallocated array): np.vstack or np.append inside the loop copies "
                         "the whole history at every step"),
)

EXERCISES = (IS_POSITIVE_DEFINITE, GRADIENT_DESCENT)
