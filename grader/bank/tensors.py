"""Checks of exercises/tensors.py (torch), first part: matmul, dense_relu, low_rank_approx; and
the tensor judges that grader/bank/tensors_sampling.py (sample_categorical) shares.

These modules never import torch: inputs are :class:`TensorInput` (numpy data the worker turns
into tensors on the grading device) and results come back as :class:`TensorValue`, so grading
a numpy exercise does not pay for torch. Code that must run next to the student's tensors (a
backward pass, a seeded torch.Generator, the guard against the @ operator) is bank-written
text, :class:`Fn`, compiled in the worker.
"""

from __future__ import annotations

import math

import numpy as np

from grader import diagnose
from grader.bank.inputs import combine, orthonormal
from grader.catalog import Call, Case, Check, Exercise, Timing, Verdict
from grader.compare import Mismatch, compare, describe, fmt
from grader.judges import Mistake, Trial
from grader.sandbox.wire import Fn, TensorInput, TensorValue

F64, F32 = "torch.float64", "torch.float32"

# ----------------------------------------------------------------------------- tensor results

DEVICE_HINT = ("a tensor you create (torch.zeros, torch.ones, torch.arange, torch.tensor) is "
               "made on the CPU unless you pass device=A.device (or use A.new_zeros(...), "
               "torch.zeros_like(A)); results of operations on the inputs stay on their device")
DTYPE_HINTS = {
    (F32, F64): "torch.zeros, torch.ones and torch.tensor of Python floats are float32 by "
                "default: pass dtype=A.dtype so that a float64 input gives a float64 result",
    (F64, F32): "your result is float64 for a float32 input: keep the input's dtype (a "
                "round trip through numpy or torch.tensor(..., dtype=torch.float64) changes it)",
}
DETACHED_HINT = ("your result is cut off from autograd: .item(), .tolist(), .numpy(), .detach() "
                 "or torch.tensor(...) of computed values make a new tensor with no history; "
                 "compute the result with tensor operations on the inputs themselves")
SQUEEZE_HINT = ("an axis of size 1 is missing from your result (a .squeeze(), x.flatten() or "
                "indexing with an int dropped it): keep the shape stated in the docstring")
FLOAT32_INSIDE_HINT = ("your float64 result agrees with the expected one to about 1e-7 only, "
                       "float32 precision: part of your computation ran in float32 (a tensor "
                       "made with torch.zeros(...) or torch.tensor(...) without dtype=A.dtype?)")
NUMPY_HINT = ("you returned a numpy array: the inputs are torch tensors, and so is the result "
              "(torch operations on them; no .numpy() round trip)")
# Matching a known mistake: the student's rounding (float32 included) differs from ours.
_MISTAKE_TOL = (1e-4, 1e-4)


def _arrays(case: Case, call: int = -1) -> list:
    """The arguments of a call as float64 arrays (tensors) or as they are (ints)."""
    return [np.asarray(a.array, dtype=np.float64) if isinstance(a, TensorInput) else a
            for a in case.calls[call].args]


def _named_mistake(got: np.ndarray, want: np.ndarray, case: Case, mistakes: tuple) -> str | None:
    """The first mistake whose variant the student's values match, where the variant itself
    differs from the right answer (on some inputs a mistake gives the right answer)."""
    rtol, atol = _MISTAKE_TOL
    for mistake in mistakes:
        try:
            wrong = np.asarray(mistake.variant(case), dtype=np.float64)
        except Exception:  # noqa: BLE001 - a variant that does not apply to these shapes
            continue
        if compare(want, wrong, rtol=rtol, atol=atol, check_dtype=False) is None:
            continue
        if compare(got, wrong, rtol=rtol, atol=atol, check_dtype=False) is None:
            return mistake.explain
    return None


def tensor_diagnosis(mismatch: Mismatch, got: object, want: object, case: Case,
                     mistakes: tuple = (), rtol: float | None = None,
                     atol: float | None = None) -> str | None:
    """What a mismatch of tensor results says: device, dtype, autograd, then the values."""
    if isinstance(got, np.ndarray):
        return NUMPY_HINT
    if mismatch.kind == "device":
        return DEVICE_HINT
    if mismatch.kind == "autograd":
        return DETACHED_HINT
    if not (isinstance(got, TensorValue) and isinstance(want, TensorValue)):
        return None
    if mismatch.kind == "dtype":
        return DTYPE_HINTS.get((got.dtype, want.dtype))
    if mismatch.kind == "shape" and got.array.shape == tuple(d for d in want.array.shape
                                                            if d != 1):
        return SQUEEZE_HINT
    a, e = got.array, want.array
    if a.dtype.kind not in "biuf":
        return None
    a = a.astype(np.float64)
    found = _named_mistake(a, e, case, mistakes) or diagnose.generic(a, e, rtol=rtol, atol=atol)
    if found is None and want.dtype == F64 and a.shape == e.shape and compare(
            a, e, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(e).max(initial=0.0)))) is None:
        return FLOAT32_INSIDE_HINT
    return found


def _note(trial: Trial) -> str:
    return f" for {trial.case.note}" if trial.case.note else ""


def tensor_matches(tolerances: dict[str, tuple[float, float]], mistakes: tuple = ()):
    """Judge: the student's tensor equals the reference's (device, dtype, autograd, values)
    within the tolerance of its dtype."""

    def judge(trial: Trial) -> Verdict:
        got, want = trial.got(), trial.want()
        rtol, atol = _tolerance(want, tolerances)
        mismatch = compare(got, want, rtol=rtol, atol=atol)
        if mismatch is None:
            return Verdict(True)
        got_part, want_part = _part(got, mismatch.path), _part(want, mismatch.path)
        return Verdict(False, f"{trial.func()}{_note(trial)}: {mismatch}",
                       tensor_diagnosis(mismatch, got_part, want_part, trial.case, mistakes,
                                        rtol, atol))

    return judge


def _tolerance(want: object, tolerances: dict) -> tuple[float, float]:
    first = want[0] if isinstance(want, tuple) else want
    return tolerances[first.dtype]


def _part(value: object, path: str) -> object:
    """The item of a tuple result that a mismatch path like ``[1]`` (or ``[1][2, 0]``) names."""
    if isinstance(value, tuple) and path.startswith("[") and "]" in path:
        index = path[1:path.index("]")]
        if index.isdigit() and int(index) < len(value):
            return value[int(index)]
    return value


def raises_one_of(*names: str, why: str):
    """Judge: the student's call raises one of the exception types ``names``."""

    def judge(trial: Trial) -> Verdict:
        result = trial.actual[-1]
        raised = result.raised or {}
        if any(n in raised.get("mro", ()) for n in names):
            return Verdict(True)
        got = (f"raised {raised['type']}: {raised['message']}" if result.raised
               else f"returned {describe(result.value)}")
        return Verdict(False, f"{trial.func()}{_note(trial)} should raise "
                              f"{' or '.join(names)}: {why}; it {got}")

    return judge


# ----------------------------------------------------------------------------- tensors.matmul

# The @ operator and the tensor methods live on torch.Tensor, out of reach of the worker's
# forbidden-call hook (it replaces module functions such as torch.matmul). Every matmul call
# runs under this guard: those methods are shadowed on torch.Tensor for the duration of the call
# and removed afterwards. The reference also runs under it (in the grader's process, possibly
# in several threads at once): only the thread that installed a shadow is refused, and a
# shadow is installed only where none is, and removed only by its owner.
_GUARDED_METHODS = ("__matmul__", "matmul", "mm", "bmm", "mv", "inner", "addmm")
_GUARD = f'''
import threading
import torch


class ForbiddenCallError(Exception):
    pass


def _guarded(func, *args):
    owner = threading.get_ident()
    shadows = []
    for name in {_GUARDED_METHODS!r}:
        if name in vars(torch.Tensor):
            continue
        def shadow(*a, _name=name, _method=getattr(torch.Tensor, name), **k):
            if threading.get_ident() == owner:
                what = " (the @ operator)" if _name == "__matmul__" else ""
                raise ForbiddenCallError(f"torch.Tensor.{{_name}}{{what}} is not allowed in "
                                         "this exercise")
            return _method(*a, **k)
        setattr(torch.Tensor, name, shadow)
        shadows.append((name, shadow))
    try:
        return func(*args)
    finally:
        for name, shadow in shadows:
            if vars(torch.Tensor).get(name) is shadow:
                delattr(torch.Tensor, name)
'''
_MATMUL = Fn(_GUARD + "\ndef f(A, B):\n    return _guarded(matmul, A, B)\n", label="matmul")
_GRADS_LABEL = "the gradients (dL/dA, dL/dB) of L = sum(matmul(A, B) * G)"
_MATMUL_GRADS = Fn(_GUARD + '''
def _grads(A, B, G):
    (matmul(A, B) * G).sum().backward()
    return A.grad, B.grad


def f(A, B, G):
    return _guarded(_grads, A, B, G)
''', label=_GRADS_LABEL)
_FORBIDDEN_END = " is not allowed in this exercise"

# Any summation order of n products of N(0, 1) entries agrees to about n * eps * sum|a_ik b_kj|
# (below 1e-13 for n <= 25 in float64, 3e-5 for n = 8 in float32); measured, BLAS, einsum and a
# float64-then-cast product use at most 0.4% of these tolerances on the cases below
# (tests/test_bank_tensors.py). Every known mistake is off by O(1).
MATMUL_TOL = {F64: (1e-10, 1e-12), F32: (1e-4, 1e-4)}


def _matmul_case(m: int, n: int, p: int, dtype: str = "float64", *, grad: bool = False,
                 note: str = ""):
    def build(rng: np.random.Generator) -> Case:
        a, b = rng.standard_normal((m, n)), rng.standard_normal((n, p))
        args = (TensorInput(a, dtype, requires_grad=grad), TensorInput(b, dtype,
                                                                       requires_grad=grad))
        what = f"A of shape ({m}, {n}) and B of shape ({n}, {p}), {dtype}"
        return Case((Call(_MATMUL, args),), note or what + (", requiring grad" if grad else ""))
    return build


def _matmul_mismatch(m: int, n: int, n2: int, p: int, note: str):
    def build(rng: np.random.Generator) -> Case:
        args = (TensorInput(rng.standard_normal((m, n))), TensorInput(rng.standard_normal((n2, p))))
        return Case((Call(_MATMUL, args),), note)
    return build


def _matmul_gradient_case(rng: np.random.Generator) -> Case:
    a, b, g = (rng.standard_normal(s) for s in ((4, 6), (6, 3), (4, 3)))
    return Case((Call(_MATMUL_GRADS, (TensorInput(a, requires_grad=True),
                                      TensorInput(b, requires_grad=True), TensorInput(g))),),
                "A (4, 6) and B (6, 3) requiring grad, G (4, 3); expected dL/dA = G B^T, "
                "dL/dB = A^T G")


def _hadamard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.shape != b.shape:  # not broadcasting: a (1, n) row times an (n, 1) column is B A
        raise ValueError("an elementwise product needs equal shapes")
    return a * b


def _product(case: Case, how) -> np.ndarray:
    a, b = _arrays(case)[:2]
    return how(a, b)


MATMUL_MISTAKES = (
    Mistake("matmul_elementwise",
            "you multiplied elementwise (A * B, the Hadamard product): the matrix product sums "
            "over the inner index, C[i, j] = sum_k A[i, k] B[k, j]",
            lambda case: _product(case, _hadamard)),
    Mistake("matmul_b_transposed",
            "your C[i, j] pairs row i of A with ROW j of B (that is A B^T, what "
            "(A[:, None, :] * B[None, :, :]).sum(-1) computes): the product pairs row i of A "
            "with COLUMN j of B, so put k in the middle: A[:, :, None] * B[None, :, :], summed "
            "over axis 1",
            lambda case: _product(case, lambda a, b: a @ b.T)),
    Mistake("matmul_result_transposed",
            "your result is (A B)^T: the sum over k is right but the indices i and j are "
            "swapped (C[i, j] has i from the rows of A and j from the columns of B)",
            lambda case: _product(case, lambda a, b: (a @ b).T)),
    Mistake("matmul_reversed",
            "you computed B A: the matrix product does not commute; C = A B pairs the rows of "
            "A with the columns of B",
            lambda case: _product(case, lambda a, b: b @ a)),
    Mistake("matmul_last_term_dropped",
            "your sum over k skips the last term (range(n - 1) instead of range(n)): "
            "C[i, j] = sum over ALL k = 0..n-1 of A[i, k] B[k, j]",
            lambda case: _product(case, lambda a, b: a[:, :-1] @ b[:-1])),
)


def _honest(judge):
    """A judge that first fails a call refused by the guard, worded like the forbidden-call
    hook's refusal."""

    def run(trial: Trial) -> Verdict:
        for result in trial.actual:
            raised = result.raised or {}
            message = raised.get("message", "")
            if raised.get("type") == "ForbiddenCallError" and message.endswith(_FORBIDDEN_END):
                return Verdict(False, f"uses {message[:-len(_FORBIDDEN_END)]}, which this "
                                      "exercise does not allow (an honesty check): build "
                                      "C[i, j] = sum_k A[i, k] B[k, j] from elementwise "
                                      "products and .sum")
        return judge(trial)

    return run


_matmul_judge = _honest(tensor_matches(MATMUL_TOL, MATMUL_MISTAKES))


@_honest
def _gradient_judge(trial: Trial) -> Verdict:
    """Gradients of L = sum(C * G): dL/dA = G B^T and dL/dB = A^T G, through the student's C."""
    raised = trial.actual[-1].raised or {}
    if "does not require grad" in raised.get("message", ""):
        return Verdict(False, f"{trial.func()}{_note(trial)}: backward() raised "
                              f"{raised['type']}: {raised['message']}", DETACHED_HINT)
    got = trial.got()
    if isinstance(got, tuple) and any(g is None for g in got):
        which = " and ".join(n for n, g in zip(("A.grad", "B.grad"), got) if g is None)
        return Verdict(False, f"{trial.func()}{_note(trial)}: {which} is None after "
                              "backward(): the result does not depend on that input through "
                              "autograd", DETACHED_HINT)
    return tensor_matches(MATMUL_TOL)(trial)


def _matmul_timing(rng: np.random.Generator) -> Call:
    return Call("matmul", (TensorInput(rng.standard_normal((32, 32))),
                           TensorInput(rng.standard_normal((32, 32)))), send=False)


_MATMUL_MISMATCH_WHY = "the inner dimensions differ"
MATMUL = Exercise(
    id="tensors.matmul",
    title="Matrix product from elementwise operations (torch)",
    functions=("matmul",),
    framework="torch",
    summary="C[i, j] = sum_k A[i, k] B[k, j] by broadcasting and summing, without @ or "
            "torch.matmul; on the inputs' device, dtype and autograd graph",
    forbidden=("torch.matmul", "torch.mm", "torch.bmm", "torch.mv", "torch.einsum",
               "torch.tensordot", "torch.inner", "torch.addmm", "torch.chain_matmul",
               "torch.linalg.matmul", "torch.linalg.multi_dot", "torch.nn.functional.linear"),
    checks=(
        Check("rectangular", _matmul_case(3, 4, 5), _matmul_judge, points=1,
              about="(3, 4) times (4, 5), float64"),
        Check("square", _matmul_case(5, 5, 5), _matmul_judge, points=1,
              about="(5, 5) times (5, 5): the order of the indices matters"),
        Check("float32", _matmul_case(6, 8, 3, "float32"), _matmul_judge, points=1,
              about="float32 inputs give a float32 result"),
        Check("requires_grad", _matmul_case(4, 6, 3, grad=True), _matmul_judge,
              points=1, hidden=True, about="inputs requiring grad: the result stays attached"),
        Check("gradient", _matmul_gradient_case, _gradient_judge, points=1, hidden=True,
              about="backward through your product gives G B^T and A^T G"),
        Check("inner_mismatch",
              _matmul_mismatch(3, 4, 5, 2, "A of shape (3, 4) and B of shape (5, 2)"),
              _honest(raises_one_of("ValueError", "RuntimeError", why=_MATMUL_MISMATCH_WHY)),
              points=0.5, hidden=True, about="inner dimensions 4 and 5 raise"),
        Check("inner_dim_one",
              _matmul_mismatch(3, 1, 4, 2, "A of shape (3, 1) and B of shape (4, 2)"),
              _honest(raises_one_of("ValueError", "RuntimeError",
                                    why=f"{_MATMUL_MISMATCH_WHY} (1 and 4; broadcasting would "
                                        "stretch the 1 silently: compare A.shape[1] with "
                                        "B.shape[0] yourself)")),
              points=0.5, hidden=True, about="inner dimensions 1 and 4 raise (no broadcasting)"),
        Check("row_times_column",
              _matmul_case(1, 6, 1, note="a (1, 6) row times a (6, 1) column, float64"),
              _matmul_judge, points=0.5, hidden=True, about="the result has shape (1, 1)"),
    ),
    timing=Timing(_matmul_timing, slow_ratio=50.0,
                  advice="compute all products at once, (A[:, :, None] * B[None, :, :]).sum(1), "
                         "instead of Python loops over the entries"),
)


# ----------------------------------------------------------------------------- tensors.dense_relu

# float32: a product of D <= 48 terms of size 1/sqrt(D) rounds to about 1e-6 whatever the
# order; measured, broadcasting, addmm and a float64-then-cast product use at most 6% of the
# catalog's 1e-5 (tests/test_bank_tensors.py).
DENSE_TOL = {F64: (1e-10, 1e-12), F32: (1e-5, 1e-5)}


def _dense_case(x_shape: tuple, m: int, dtype: str = "float32", *, bias_row: bool = False,
                grad: bool = False, note: str = ""):
    def build(rng: np.random.Generator) -> Case:
        d = math.prod(x_shape[1:])
        x = rng.standard_normal(x_shape)
        w = rng.standard_normal((d, m)) / math.sqrt(d)
        b = 0.5 * rng.standard_normal((1, m) if bias_row else m)
        args = tuple(TensorInput(v, dtype, requires_grad=grad) for v in (x, w, b))
        what = (f"x of shape {x_shape}, W of shape ({d}, {m}), b of shape {b.shape}, {dtype}"
                + (", requiring grad" if grad else ""))
        return Case((Call("dense_relu", args),), note or what)
    return build


def _dense_variant(*, relu: bool = True, bias: str = "before", transpose: bool = False):
    def variant(case: Case) -> np.ndarray:
        x, w, b = _arrays(case)
        z = x.reshape(x.shape[0], -1) @ (w.T if transpose else w)
        z = z + b.reshape(-1) if bias == "before" else z
        z = np.maximum(z, 0.0) if relu else z
        return z + b.reshape(-1) if bias == "after" else z
    return variant


DENSE_MISTAKES = (
    Mistake("dense_no_relu", "your result has negative entries where relu gives 0: apply the "
                             "ReLU, max(z, 0), after adding the bias",
            _dense_variant(relu=False)),
    Mistake("dense_relu_before_bias", "you applied the ReLU before adding the bias: "
                                      "y = relu(X W + b), the bias goes inside",
            _dense_variant(bias="after")),
    Mistake("dense_no_bias", "your result ignores b: y = relu(X W + b)",
            _dense_variant(bias="none")),
    Mistake("dense_weight_transposed",
            "you multiplied by W^T (torch.nn.Linear's convention, whose weight is stored as "
            "(M, D)): here W has shape (D, M) and y = relu(X W + b)",
            _dense_variant(transpose=True)),
)
_dense_judge = tensor_matches(DENSE_TOL, DENSE_MISTAKES)


def _dense_timing(rng: np.random.Generator) -> Call:
    return Call("dense_relu", (TensorInput(rng.standard_normal((512, 3, 8, 8)), "float32"),
                               TensorInput(rng.standard_normal((192, 64)) / 16, "float32"),
                               TensorInput(rng.standard_normal(64), "float32")), send=False)


DENSE_RELU = Exercise(
    id="tensors.dense_relu",
    title="Dense layer with ReLU (torch)",
    functions=("dense_relu",),
    framework="torch",
    summary="y = relu(x.flatten(1) W + b) for a batch, W of shape (D, M)",
    checks=(
        Check("batch", _dense_case((8, 6), 4), _dense_judge, points=1,
              about="8 samples of 6 features, 4 units, float32"),
        Check("images", _dense_case((5, 3, 4, 4), 7), _dense_judge, points=1,
              about="a 4-D batch is flattened per sample"),
        Check("float64", _dense_case((6, 5), 3, "float64"), _dense_judge, points=1,
              about="float64 inputs give a float64 result"),
        Check("one_sample", _dense_case((1, 2, 3), 5), _dense_judge, points=0.5, hidden=True,
              about="N = 1 gives shape (1, M)"),
        Check("bias_row", _dense_case((7, 5), 3, bias_row=True), _dense_judge, points=0.5,
              hidden=True, about="b of shape (1, M)"),
        Check("one_unit", _dense_case((9, 4), 1), _dense_judge, points=0.5, hidden=True,
              about="M = 1 gives shape (N, 1), not (N,)"),
        Check("square_weights", _dense_case((6, 2, 3), 6), _dense_judge, points=0.5,
              hidden=True, about="W of shape (6, 6): X W, not X W^T"),
        Check("requires_grad", _dense_case((4, 3, 2), 5, grad=True), _dense_judge,
              points=0.5, hidden=True, about="inputs requiring grad: the result stays attached"),
    ),
    timing=Timing(_dense_timing, slow_ratio=3.0,
                  advice="one matrix product for the whole batch, x.flatten(1) @ W + b, then "
                         "torch.relu: no loop over samples, no broadcast (N, D, M) product"),
)


# ----------------------------------------------------------------------------- tensors.low_rank

# A_k is unique when s_k > s_{k+1}; the cases keep neighbouring singular values at least 20%
# apart, so two SVD routines (any driver, either sign of each pair) give A_k within about
# eps * s_1 / gap: 1e-15 in float64, 1e-6 in float32, relative to the entries of A. The allowed
# error is rtol * (|expected| + max|A|); measured, a float32 eigh of A^T A (it squares the
# condition number) uses at most 1% of it (tests/test_bank_tensors.py).
LOW_RANK_RTOL = {F64: 1e-8, F32: 1e-4}


# Case inputs are built with + - * / and np.sum only, never BLAS or LAPACK, so that a case is
# the same bits on every machine (grader.bank.inputs).

def _low_rank_case(m: int, n: int, k: int, values: tuple, dtype: str = "float64",
                   note: str = ""):
    """A = U diag(s) V^T from orthonormal U (m, r), V (n, r); each s_i jittered by +-10%
    (neighbours given at least 1.5 apart stay 20% apart)."""
    def build(rng: np.random.Generator) -> Case:
        s = np.asarray(values, dtype=np.float64) * rng.uniform(0.9, 1.1, len(values))
        a = combine(orthonormal(rng, m, len(values)), s, orthonormal(rng, n, len(values)))
        what = note or f"a {m}x{n} matrix"
        return Case((Call("low_rank_approx", (TensorInput(a, dtype), k)),),
                    f"{what}, {dtype}, k={k}")
    return build


def _truncated(pick, *, full: bool = False):
    """A low-rank variant: sum of s'_i u_i v_i^T over the indices and values ``pick`` chooses,
    from the thin SVD, or with ``full`` from all n right singular vectors (the eigenvectors of
    A^T A, the last n - m of a wide A with singular value 0)."""
    def variant(case: Case) -> np.ndarray:
        a, k = _arrays(case)
        u, s, vt = np.linalg.svd(a, full_matrices=full)
        if full:  # A v_i v_i^T: u_i s_i for the first min(m, n), 0 for the null space
            u, s = a @ vt.T, np.ones(vt.shape[0])
        idx, values = pick(s, int(k))
        return (u[:, idx] * values) @ vt[idx]
    return variant


def _one_more(s: np.ndarray, k: int) -> tuple:
    if k + 1 >= len(s):  # then it is all of them: low_rank_all names it
        raise ValueError("k + 1 terms are all the terms")
    return np.arange(k + 1), s[:k + 1]


_SMALLEST = ("you kept the k SMALLEST singular values: torch.linalg.svd returns them in "
             "descending order, so the first k are the largest (eigenvalues from "
             "torch.linalg.eigh come in ascending order)")
LOW_RANK_MISTAKES = (
    Mistake("low_rank_smallest", _SMALLEST,
            _truncated(lambda s, k: (np.arange(len(s) - k, len(s)), s[len(s) - k:]))),
    Mistake("low_rank_smallest_eigenvectors", _SMALLEST,
            _truncated(lambda s, k: (np.arange(len(s) - k, len(s)), s[len(s) - k:]),
                       full=True)),
    Mistake("low_rank_squared",
            "you used the squared singular values s_i^2 (the eigenvalues of A^T A): A_k = "
            "U_k diag(s_1..s_k) V_k^T uses the singular values themselves",
            _truncated(lambda s, k: (np.arange(k), s[:k] ** 2))),
    Mistake("low_rank_one_more",
            "you kept k + 1 singular values (an off-by-one: S[:k] keeps k of them)",
            _truncated(_one_more)),
    Mistake("low_rank_all",
            "you returned the full reconstruction U S V^T = A: keep only the first k singular "
            "values and vectors",
            _truncated(lambda s, k: (np.arange(len(s)), s))),
)


def _eckart_young(a: np.ndarray, k: int, got: np.ndarray) -> str:
    """How far the student's A_k is from A, against the best rank-k distance, and its rank."""
    s = np.linalg.svd(a, compute_uv=False)
    best = math.sqrt(float(np.sum(s[k:] ** 2)))
    s_got = np.linalg.svd(got, compute_uv=False)
    rank = int(np.sum(s_got > 1e-6 * max(float(s[0]), float(s_got[0]), 1e-300)))
    return (f"; ||A - yours||_F = {fmt(np.linalg.norm(a - got))} while the best rank-{k} "
            f"matrix is at sqrt(s_{k + 1}^2 + ...) = {fmt(best)} (Eckart-Young), and yours has "
            f"rank {rank}")


def _low_rank_judge(trial: Trial) -> Verdict:
    got, want = trial.got(), trial.want()
    a, k = _arrays(trial.case)
    rtol = LOW_RANK_RTOL.get(getattr(want, "dtype", ""), 1e-8)
    atol = rtol * float(np.abs(a).max())
    mismatch = compare(got, want, rtol=rtol, atol=atol)
    if mismatch is None:
        return Verdict(True)
    message = f"{trial.func()}{_note(trial)}: {mismatch}"
    if mismatch.kind == "values":
        message += _eckart_young(a, int(k), got.array.astype(np.float64))
    return Verdict(False, message, tensor_diagnosis(mismatch, got, want, trial.case,
                                                    LOW_RANK_MISTAKES, rtol, atol))


def _low_rank_timing(rng: np.random.Generator) -> Call:
    return Call("low_rank_approx", (TensorInput(rng.standard_normal((1000, 60))), 10),
                send=False)


LOW_RANK = Exercise(
    id="tensors.low_rank_approx",
    title="Best rank-k approximation by SVD (torch)",
    functions=("low_rank_approx",),
    framework="torch",
    summary="A_k = U_k S_k V_k^T from torch.linalg.svd, the closest rank-k matrix "
            "(Eckart-Young)",
    checks=(
        Check("tall", _low_rank_case(8, 5, 2, (6.0, 3.5, 2.0, 1.0, 0.5)), _low_rank_judge,
              points=1, about="a tall 8x5 matrix, k = 2"),
        Check("wide", _low_rank_case(4, 7, 3, (5.0, 3.0, 1.5, 0.6)), _low_rank_judge,
              points=1, about="a wide 4x7 matrix, k = 3"),
        Check("float32", _low_rank_case(6, 6, 2, (4.0, 2.5, 1.2, 0.7, 0.4, 0.2), "float32"),
              _low_rank_judge, points=1, about="float32 input, float32 result"),
        Check("square", _low_rank_case(6, 6, 3, (7.0, 4.0, 2.5, 1.2, 0.6, 0.3),
                                       note="a square non-symmetric 6x6 matrix"),
              _low_rank_judge, points=0.5, hidden=True, about="a square non-symmetric matrix"),
        Check("k_zero", _low_rank_case(5, 4, 0, (3.0, 1.5, 0.8, 0.4)), _low_rank_judge,
              points=0.5, hidden=True, about="k = 0 gives zeros of A's shape, dtype, device"),
        Check("k_equals_rank", _low_rank_case(7, 6, 3, (4.0, 2.0, 1.0),
                                              note="a 7x6 matrix of rank 3"),
              _low_rank_judge, points=0.5, hidden=True, about="k = rank(A) gives A"),
        Check("k_full", _low_rank_case(4, 6, 4, (3.0, 1.8, 1.0, 0.5)), _low_rank_judge,
              points=0.5, hidden=True, about="k = min(m, n) gives A"),
        Check("k_one", _low_rank_case(9, 4, 1, (5.0, 2.0, 1.0, 0.5)), _low_rank_judge,
              points=0.5, hidden=True, about="k = 1: the best rank-one matrix"),
    ),
    timing=Timing(_low_rank_timing, slow_ratio=8.0,
                  advice="one torch.linalg.svd(A, full_matrices=False) and one product of its "
                         "first k factors: full_matrices=True builds an m x m U you do not "
                         "need, and a loop over the k terms adds k products"),
)

EXERCISES = (MATMUL, DENSE_RELU, LOW_RANK)
