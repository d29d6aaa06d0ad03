"""tensors.matmul, tensors.dense_relu, tensors.low_rank_approx and tensors.sample_categorical:
the references against independent implementations (torch, numpy, scipy), the numerical
margins of the case builders, the guard against the @ operator, the chi-square helper, the
sampler's statistics over many seeds, and realistic right and wrong submissions graded through
the worker (each wrong one loses points with a message saying what differs, and each declared
mistake gets its diagnosis). Device handling is tested on torch's meta device, which needs no
GPU: a result built on the CPU is reported as on the wrong device."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import threading

import numpy as np
import pytest
import scipy.stats
import torch

from conftest import benchmark_module, cases, check, reference_source
from grader import devices, grading
from grader.bank import tensors as bank
from grader.bank import tensors_sampling as sampling
from grader.catalog import ROOT, catalog, reference_module
from grader.grading import run_reference
from grader.judges import CallResult, Trial
from grader.sandbox import wire
from grader.submission import locate

REF = reference_module("tensors")
EXERCISES = {e.id: e for e in (*bank.EXERCISES, *sampling.EXERCISES)}
EXPLAIN = {m.name: m.explain for m in (*bank.MATMUL_MISTAKES, *bank.DENSE_MISTAKES,
                                        *bank.LOW_RANK_MISTAKES)}
SAMPLE = sampling.SAMPLE_MISTAKES
REFERENCE = reference_source("tensors")


BENCH = benchmark_module("tensors_false_failures")


def tensors_of(call):
    return [torch.as_tensor(a.array, dtype=getattr(torch, a.dtype))
            if isinstance(a, wire.TensorInput) else a for a in call.args]


def assert_failed(result, name, message, diagnosis):
    """A failing check: zero points, the message's start, the exact diagnosis."""
    got = check(result, name)
    assert got.status == "failed" and got.score == 0, (name, got.status, got.message)
    assert got.message.startswith(message), got.message
    assert got.diagnosis == diagnosis, got.diagnosis


def assert_full_marks(result, points):
    assert result.status == "passed", result.message
    assert result.score == result.max_score == points
    assert result.diagnosis is None and all(c.diagnosis is None for c in result.checks)


def test_the_bank_modules_do_not_import_torch():
    code = ("import sys, grader.bank.tensors, grader.bank.tensors_sampling; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == ["False"]


def test_mistake_names_are_unique_in_the_module():
    """The release freezes every Mistake of a bank module by name."""
    names = [m.name for m in (*bank.MATMUL_MISTAKES, *bank.DENSE_MISTAKES,
                              *bank.LOW_RANK_MISTAKES)]
    assert len(names) == len(set(names))


# ============================================================================ references

MATMUL_SHAPES = [(3, 4, 5), (5, 5, 5), (1, 6, 1), (6, 1, 4), (17, 23, 11), (1, 1, 1)]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_matmul_reference_matches_torch_and_its_gradients_match_autograd(dtype):
    rtol, atol = bank.MATMUL_TOL[str(dtype)]
    for seed, (m, n, p) in enumerate(MATMUL_SHAPES * 5):
        g = torch.Generator().manual_seed(seed)
        a, b = (torch.randn(*s, generator=g, dtype=dtype, requires_grad=True)
                for s in ((m, n), (n, p)))
        weights = torch.randn(m, p, generator=g, dtype=dtype)
        got = REF.matmul(a, b)
        assert got.dtype == dtype and got.shape == (m, p) and got.requires_grad
        torch.testing.assert_close(got, a @ b, rtol=rtol, atol=atol)
        (got * weights).sum().backward()
        torch.testing.assert_close(a.grad, weights @ b.T, rtol=rtol, atol=atol)
        torch.testing.assert_close(b.grad, a.T @ weights, rtol=rtol, atol=atol)


@pytest.mark.parametrize("shapes", [((3, 4), (5, 2)), ((3, 1), (4, 2)), ((2, 3), (1, 3))],
                         ids=["4_vs_5", "1_vs_4", "3_vs_1"])
def test_matmul_reference_refuses_mismatched_inner_dimensions(shapes):
    with pytest.raises(ValueError, match="inner dimensions differ"):
        REF.matmul(torch.ones(shapes[0]), torch.ones(shapes[1]))


DENSE_SHAPES = [((8, 6), 4, False), ((5, 3, 4, 4), 7, False), ((1, 2, 3), 5, False),
                ((7, 5), 3, True), ((9, 4), 1, False), ((2, 3, 2, 2, 2), 6, True)]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_dense_relu_reference_matches_torch_linear(dtype):
    for seed, (x_shape, m, row) in enumerate(DENSE_SHAPES * 5):
        g = torch.Generator().manual_seed(seed)
        d = math.prod(x_shape[1:])
        x = torch.randn(*x_shape, generator=g, dtype=dtype)
        w = torch.randn(d, m, generator=g, dtype=dtype)
        b = torch.randn(*((1, m) if row else (m,)), generator=g, dtype=dtype)
        got = REF.dense_relu(x, w, b)
        want = torch.relu(torch.nn.functional.linear(x.flatten(1), w.T, b.reshape(-1)))
        assert got.shape == (x_shape[0], m) and got.dtype == dtype
        torch.testing.assert_close(got, want, rtol=1e-12 if dtype == torch.float64 else 1e-6,
                                   atol=1e-12 if dtype == torch.float64 else 1e-6)


LOW_RANK_SHAPES = [(8, 5), (4, 7), (6, 6), (9, 4), (1, 5)]


def test_low_rank_reference_matches_numpy_svd_and_eckart_young():
    for seed in range(20):
        rng = np.random.default_rng(seed)
        for m, n in LOW_RANK_SHAPES:
            a = rng.standard_normal((m, n))
            u, s, vt = np.linalg.svd(a, full_matrices=False)
            for k in range(min(m, n) + 1):
                got = REF.low_rank_approx(torch.from_numpy(a), k)
                assert got.dtype == torch.float64 and got.shape == (m, n)
                want = (u[:, :k] * s[:k]) @ vt[:k]
                np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
                error = np.linalg.norm(a - got.numpy())
                assert error == pytest.approx(math.sqrt(np.sum(s[k:] ** 2)), rel=1e-9, abs=1e-12)
                assert np.linalg.matrix_rank(got.numpy(), tol=1e-9) == k
    assert REF.low_rank_approx(torch.ones(3, 2, dtype=torch.float32), 0).dtype == torch.float32
    with pytest.raises(ValueError, match="k must be in 0..2"):
        REF.low_rank_approx(torch.ones(3, 2), 3)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_sample_categorical_reference_fits_probs_and_never_draws_zero_classes(dtype):
    probs = torch.tensor([0.0, 0.1, 0.25, 0.0, 0.4, 0.25, 0.0], dtype=dtype)
    for seed in range(10):
        g = torch.Generator().manual_seed(seed)
        x = REF.sample_categorical(probs, 50_000, g)
        assert x.shape == (50_000, 7) and x.dtype == dtype
        assert torch.all(x.sum(1) == 1) and torch.all((x == 0) | (x == 1))
        counts = x.sum(0).double().numpy()
        assert counts[[0, 3, 6]].sum() == 0
        kept = probs.double().numpy() > 0
        p = scipy.stats.chisquare(counts[kept], 50_000 * probs.double().numpy()[kept]).pvalue
        assert p > 1e-6, (seed, counts)


def test_sample_categorical_reference_is_seeded_by_the_generator_and_validates_probs():
    probs = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    draw = lambda seed: REF.sample_categorical(probs, 500, torch.Generator().manual_seed(seed))
    assert torch.equal(draw(3), draw(3)) and not torch.equal(draw(3), draw(4))
    assert torch.equal(REF.sample_categorical(torch.ones(1), 4, torch.Generator()),
                       torch.ones(4, 1))
    assert REF.sample_categorical(probs, 0, torch.Generator()).shape == (0, 3)
    for bad, why in (([1.0, 2.0, 3.0], "sums to 6"), ([0.5, -0.25, 0.75], "negative")):
        with pytest.raises(ValueError, match=why):
            REF.sample_categorical(torch.tensor(bad), 5, torch.Generator())


# ============================================================================ chi-square helper

@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 7, 10, 30])
def test_chi_square_tail_matches_scipy(df):
    for x in (1e-6, 0.01, 0.5, 1.0, df - 0.5, df, df + 1.5, 2.0 * df, 20.0, 40.0, 80.0, 300.0):
        want = scipy.stats.chi2.sf(x, df)
        got = sampling.chi_square_sf(x, df)
        assert got == pytest.approx(want, rel=1e-10, abs=1e-300), (x, df)
    # At the critical value of each test (p = 1e-6) the tail is exact to 1e-10 relative.
    critical = scipy.stats.chi2.isf(sampling.CHI_SQUARE_ALPHA, df)
    assert sampling.chi_square_sf(critical, df) == pytest.approx(sampling.CHI_SQUARE_ALPHA,
                                                                 rel=1e-10)
    assert sampling.chi_square_sf(0.0, df) == 1.0


def test_chi_square_test_matches_scipy_and_rejects_counts_in_impossible_classes():
    rng = np.random.default_rng(0)
    for _ in range(50):
        q = rng.dirichlet(np.ones(6))
        counts = rng.multinomial(10_000, q).astype(float)
        stat, df, p = sampling.chi_square_test(counts, q)
        want = scipy.stats.chisquare(counts, 10_000 * q)
        assert df == 5 and stat == pytest.approx(want.statistic, rel=1e-12)
        assert p == pytest.approx(want.pvalue, rel=1e-9)
    assert sampling.chi_square_test(np.array([5.0, 1.0, 4.0]),
                                    np.array([0.5, 0.0, 0.5]))[2] == 0.0
    stat, df, p = sampling.chi_square_test(np.array([5.0, 0.0, 5.0]), np.array([0.5, 0.0, 0.5]))
    assert (stat, df, p) == (0.0, 1, 1.0)


# ============================================================================ case builders

def test_low_rank_cases_have_a_gap_at_k_so_the_answer_is_unique():
    """sigma_k / sigma_(k+1) >= 1.2 in every case (A_k is unique, and two SVDs agree to about
    eps / gap); the rank-3 case's zero singular values are rounding noise."""
    for check_, case in cases("tensors.low_rank_approx", seeds=range(200)):
        a, k = case.calls[0].args
        s = np.linalg.svd(a.array, compute_uv=False)
        if check_.name == "k_equals_rank":
            assert s[3] < 1e-14 * s[0]
        if 0 < k < len(s) and s[k] > 1e-14 * s[0]:
            assert s[k - 1] / s[k] >= 1.2, (check_.name, s)


def test_sample_cases_are_exact_in_float32_with_enough_expected_draws():
    """Probabilities on the 2^-12 grid: their float32 cumulative sums end at exactly 1 (no
    correct sampler draws past the last class), and every class of positive probability has
    at least 200 expected draws of 1,000 and 1,000 of 100,000 (the chi-square approximation
    then holds far into the tail; the benchmark measures it)."""
    for check_, case in cases("tensors.sample_categorical", seeds=range(300)):
        probs, n, _ = case.calls[0].args
        if check_.name in ("not_normalized", "negative"):
            continue
        p = probs.array
        assert np.all(p * 4096 == np.round(p * 4096)), check_.name
        assert torch.cumsum(torch.tensor(p, dtype=torch.float32), 0)[-1].item() == 1.0
        assert np.sum(p) == 1.0
        if check_.name in BENCH.STATISTICAL:
            assert n * p[p > 0].min() >= (200 if n == 1000 else 1000), (check_.name, p)


def _alternatives(name, args):
    """Other correct ways of computing an exercise's result (for the tolerance margins)."""
    if name == "tensors.matmul":
        a, b = (t.detach() for t in args)
        return {"mm": a @ b, "einsum": torch.einsum("ik,kj->ij", a, b),
                "float64_then_cast": (a.double() @ b.double()).to(a.dtype)}
    if name == "tensors.dense_relu":
        x, w, b = (t.detach() for t in args)
        rows = x.flatten(1)
        return {"broadcast": torch.relu((rows[:, :, None] * w[None]).sum(1) + b.reshape(-1)),
                "float64_then_cast": torch.relu(rows.double() @ w.double()
                                                + b.double().reshape(-1)).to(x.dtype),
                "addmm": torch.relu(torch.addmm(b.reshape(1, -1), rows, w))}
    a, k = args
    w, v = torch.linalg.eigh(a.T @ a)
    vk = v[:, a.shape[1] - k:]
    u, s, vh = torch.linalg.svd(a.double())
    return {"eigh_projection": a @ vk @ vk.T,
            "float64_full_svd": ((u[:, :k] * s[:k]) @ vh[:k]).to(a.dtype)}


@pytest.mark.parametrize("exercise_id", ["tensors.matmul", "tensors.dense_relu",
                                         "tensors.low_rank_approx"])
def test_correct_alternatives_use_a_small_part_of_the_tolerance(exercise_id):
    """Measured: other correct formulations stay within a tenth of the allowed error (the
    largest shares over 100 seeds: 4.5% for float32 dense_relu with addmm, 0.9% for a float32
    eigh of A^T A, 0.4% for a float32 BLAS product)."""
    worst = 0.0
    for check_, case in cases(exercise_id, seeds=range(100)):
        call = case.calls[-1]
        if isinstance(call.func, wire.Fn) and call.func.label != "matmul":
            continue
        if check_.name in ("inner_mismatch", "inner_dim_one"):
            continue
        args = tensors_of(call)
        want = run_reference(REF, case)[-1].value
        rtol, atol = {"tensors.matmul": bank.MATMUL_TOL, "tensors.dense_relu": bank.DENSE_TOL
                      }.get(exercise_id, {}).get(want.dtype, (None, None))
        if rtol is None:
            rtol = bank.LOW_RANK_RTOL[want.dtype]
            atol = rtol * float(np.abs(call.args[0].array).max())
        for got in _alternatives(exercise_id, args).values():
            err = np.abs(got.double().numpy() - want.array) / (atol + rtol * np.abs(want.array))
            worst = max(worst, float(err.max()))
    assert worst < 0.1


# ============================================================================ the @ guard

def _guarded(source):
    """The matmul check's function, compiled around a module whose matmul is ``source``."""
    namespace = {"torch": torch}
    exec(source, namespace)  # noqa: S102 - test code
    module = type(sys)("student")
    module.__dict__.update(namespace)
    return wire.build_function(bank._MATMUL, module)


@pytest.mark.parametrize("expr,name", [("A @ B", "__matmul__ (the @ operator)"),
                                       ("A.matmul(B)", "matmul"), ("A.mm(B)", "mm"),
                                       ("B.T.inner(A).T.T.T", "inner")],
                         ids=["at", "matmul", "mm", "inner"])
def test_the_guard_refuses_tensor_product_methods_and_removes_itself(expr, name):
    f = _guarded(f"def matmul(A, B):\n    return {expr}\n")
    a, b = torch.ones(2, 3), torch.ones(3, 2)
    with pytest.raises(Exception, match=re.escape(f"torch.Tensor.{name} is not allowed")) as info:
        f(a, b)
    assert type(info.value).__name__ == "ForbiddenCallError"
    assert not set(bank._GUARDED_METHODS) & set(vars(torch.Tensor))
    assert torch.equal(a @ b, torch.full((2, 2), 3.0))  # the operator works again


def test_the_guard_lets_other_threads_multiply():
    """The reference runs under the guard in the grader's process, where other threads (batch
    grading) may use @ at the same time: only the guarded thread is refused."""
    stop, errors = threading.Event(), []

    def other_thread():
        a = torch.ones(4, 4)
        while not stop.is_set():
            try:
                assert torch.equal(a @ a, torch.full((4, 4), 4.0))
            except Exception as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)
                return

    worker = threading.Thread(target=other_thread)
    worker.start()
    try:
        for check_, case in cases("tensors.matmul", seeds=range(30)):
            results = run_reference(REF, case)
            assert all(r.raised is None or "ValueError" in r.raised["mro"] for r in results)
    finally:
        stop.set()
        worker.join()
    assert errors == []
    assert not set(bank._GUARDED_METHODS) & set(vars(torch.Tensor))


# ============================================================================ tensors.matmul

def _matmul_source(body, check=True):
    head = ("import torch\n\ndef matmul(A, B):\n"
            + ("    if A.shape[1] != B.shape[0]:\n        raise ValueError('inner dimensions')\n"
               if check else ""))
    return head + "".join(f"    {line}\n" for line in body)


MATMUL_RIGHT = {
    "reference": REFERENCE,
    "k_first_broadcast": _matmul_source(["return (A.T[:, :, None] * B[:, None, :]).sum(0)"]),
    "row_loop": _matmul_source(["return torch.stack([(A[i][:, None] * B).sum(0) "
                                "for i in range(A.shape[0])])"]),
    "double_loop": _matmul_source([
        "rows = [torch.stack([(A[i] * B[:, j]).sum() for j in range(B.shape[1])])",
        "        for i in range(A.shape[0])]",
        "return torch.stack(rows)"]),
}


@pytest.mark.parametrize("name", list(MATMUL_RIGHT), ids=list(MATMUL_RIGHT))
def test_matmul_correct_implementations_get_full_marks(grade_one, name):
    assert_full_marks(grade_one("tensors.matmul", {"tensors.py": MATMUL_RIGHT[name]}), 6.5)


MATMUL_MISTAKE_SOURCES = {  # mistake: (source, score, failing check whose diagnosis names it)
    "matmul_elementwise": (_matmul_source([
        "if A.shape != B.shape:", "    return (A[:, :, None] * B[None, :, :]).sum(1)",
        "return A * B"]), 5.5, "square"),
    "matmul_b_transposed": (_matmul_source(["return (A[:, None, :] * B[None, :, :]).sum(-1)"],
                                           check=False), 0.5, "square"),
    "matmul_result_transposed": (_matmul_source([
        "return (A[:, :, None] * B[None, :, :]).sum(1).T"]), 1.5, "square"),
    "matmul_reversed": (_matmul_source([
        "if A.shape[0] != B.shape[1]:", "    return (A[:, :, None] * B[None, :, :]).sum(1)",
        "return (B[:, :, None] * A[None, :, :]).sum(1)"]), 5.0, "square"),
    "matmul_last_term_dropped": (_matmul_source([
        "n = A.shape[1]",
        "return (A[:, :n - 1, None] * B[None, :n - 1, :]).sum(1)"]), 1.0, "square"),
}


@pytest.mark.parametrize("mistake", list(MATMUL_MISTAKE_SOURCES), ids=list(MATMUL_MISTAKE_SOURCES))
def test_matmul_mistakes_are_diagnosed(grade_one, mistake):
    source, score, failing = MATMUL_MISTAKE_SOURCES[mistake]
    result = grade_one("tensors.matmul", {"tensors.py": source})
    assert result.status == "partial" and result.score == score
    assert_failed(result, failing, "matmul for A of shape (5, 5) and B of shape (5, 5), "
                                   "float64: ", EXPLAIN[mistake])
    assert " elements differ " in check(result, failing).message


@pytest.mark.parametrize("expr,what", [
    ("A @ B", "torch.Tensor.__matmul__ (the @ operator)"), ("A.mm(B)", "torch.Tensor.mm"),
    ("torch.matmul(A, B)", "torch.matmul"), ("torch.einsum('ik,kj->ij', A, B)", "torch.einsum"),
    ("torch.nn.functional.linear(A, B.T)", "torch.nn.functional.linear")],
    ids=["at", "mm_method", "torch_matmul", "einsum", "linear"])
def test_matmul_with_a_library_product_scores_zero(grade_one, expr, what):
    result = grade_one("tensors.matmul", {"tensors.py": _matmul_source([f"return {expr}"])})
    assert result.status == "partial" and result.score == 1.0
    for c in result.checks:
        if c.name in ("inner_mismatch", "inner_dim_one"):  # raised before the product
            assert c.status == "passed"
            continue
        assert c.status == "failed" and c.score == 0
        assert c.message.startswith(f"uses {what}, which this exercise does not allow (an "
                                    "honesty check)"), c.message


def test_matmul_float32_zeros_get_the_dtype_hint(grade_one):
    source = _matmul_source(["C = torch.zeros(A.shape[0], B.shape[1], device=A.device)",
                             "for i in range(A.shape[0]):",
                             "    C[i] = (A[i][:, None] * B).sum(0)",
                             "return C"])
    result = grade_one("tensors.matmul", {"tensors.py": source})
    assert result.status == "partial" and result.score == 2.0  # float32 and inner_* pass
    assert_failed(result, "rectangular", "matmul for A of shape (3, 4) and B of shape (4, 5), "
                                         "float64: dtype torch.float32, expected torch.float64",
                  bank.DTYPE_HINTS[("torch.float32", "torch.float64")])
    # The gradients flow back into float64 inputs, but through a float32 product.
    assert_failed(result, "gradient", f"{bank._GRADS_LABEL} for A (4, 6) and B (6, 3) requiring "
                                      "grad, G (4, 3); expected dL/dA = G B^T, dL/dB = A^T G: "
                                      "[0]: ", bank.FLOAT32_INSIDE_HINT)


def test_matmul_built_from_python_floats_is_detached(grade_one):
    source = _matmul_source([
        "return torch.tensor([[float((A[i] * B[:, j]).sum()) for j in range(B.shape[1])]",
        "                     for i in range(A.shape[0])], dtype=A.dtype, device=A.device)"])
    result = grade_one("tensors.matmul", {"tensors.py": source})
    assert result.status == "partial" and result.score == 4.5
    assert_failed(result, "requires_grad", "matmul for A of shape (4, 6) and B of shape "
                                           "(6, 3), float64, requiring grad: the result is "
                                           "detached from autograd", bank.DETACHED_HINT)
    assert_failed(result, "gradient", f"{bank._GRADS_LABEL} for A (4, 6) and B (6, 3) requiring "
                                      "grad, G (4, 3); expected dL/dA = G B^T, dL/dB = A^T G: "
                                      "backward() raised RuntimeError: element 0 of tensors "
                                      "does not require grad", bank.DETACHED_HINT)


def test_matmul_without_a_shape_check_misses_the_broadcast_trap(grade_one):
    source = _matmul_source(["return (A[:, :, None] * B[None, :, :]).sum(1)"], check=False)
    result = grade_one("tensors.matmul", {"tensors.py": source})
    assert result.status == "partial" and result.score == 6.0
    assert_failed(result, "inner_dim_one", "matmul for A of shape (3, 1) and B of shape (4, 2) "
                                           "should raise ValueError or RuntimeError: the inner "
                                           "dimensions differ (1 and 4; broadcasting would "
                                           "stretch the 1 silently: compare A.shape[1] with "
                                           "B.shape[0] yourself); it returned a tensor of shape "
                                           "(3, 2) torch.float64 on cpu", None)


def test_matmul_squeezed_result_gets_the_shape_hint(grade_one):
    source = _matmul_source(["return (A[:, :, None] * B[None, :, :]).sum(1).squeeze()"])
    result = grade_one("tensors.matmul", {"tensors.py": source})
    assert result.status == "partial" and result.score == 6.0
    assert_failed(result, "row_times_column", "matmul for a (1, 6) row times a (6, 1) column, "
                                              "float64: shape (), expected (1, 1)",
                  bank.SQUEEZE_HINT)


def test_matmul_result_left_on_the_cpu_is_on_the_wrong_device(write_submission):
    """On torch's meta device (no GPU needed) the inputs live off the CPU, as on CUDA."""
    source = _matmul_source(["C = torch.zeros(A.shape[0], B.shape[1], dtype=A.dtype)",
                             "C += (A[:, :, None] * B[None, :, :]).sum(1)", "return C"])
    folder = write_submission({"tensors.py": source})
    result = grading.grade_exercise(catalog()["tensors.matmul"], locate(folder), device="meta",
                                    time_it=False)
    assert result.status == "partial"
    assert_failed(result, "rectangular", "matmul for A of shape (3, 4) and B of shape (4, 5), "
                                         "float64: the result is on cpu but the input was on "
                                         "meta: create new tensors with device=x.device",
                  bank.DEVICE_HINT)


# ============================================================================ tensors.dense_relu

def _dense_source(line):
    return f"import torch\n\ndef dense_relu(x, W, b):\n    return {line}\n"


DENSE_RIGHT = {
    "reference": REFERENCE,
    "clamp": _dense_source("torch.clamp(x.flatten(1) @ W + b.reshape(-1), min=0)"),
    "addmm": _dense_source("torch.nn.functional.relu(torch.addmm(b.reshape(1, -1), "
                           "x.reshape(len(x), -1), W))"),
    "mask_multiply": _dense_source("(lambda y: y * (y > 0))(x.reshape(x.shape[0], -1) @ W + "
                                   "b.view(1, -1))"),
}


@pytest.mark.parametrize("name", list(DENSE_RIGHT), ids=list(DENSE_RIGHT))
def test_dense_relu_correct_implementations_get_full_marks(grade_one, name):
    assert_full_marks(grade_one("tensors.dense_relu", {"tensors.py": DENSE_RIGHT[name]}), 5.5)


DENSE_MISTAKE_SOURCES = {  # mistake: (source, score, failing check, message start)
    "dense_no_relu": (_dense_source("x.flatten(1) @ W + b.reshape(-1)"), 0.0, "batch",
                      "dense_relu for x of shape (8, 6), W of shape (6, 4), b of shape (4,), "
                      "float32: "),
    "dense_relu_before_bias": (_dense_source("torch.relu(x.flatten(1) @ W) + b.reshape(-1)"),
                               0.0, "images", "dense_relu for x of shape (5, 3, 4, 4), W of "
                                              "shape (48, 7), b of shape (7,), float32: "),
    "dense_no_bias": (_dense_source("torch.relu(x.flatten(1) @ W)"), 0.0, "float64",
                      "dense_relu for x of shape (6, 5), W of shape (5, 3), b of shape (3,), "
                      "float64: "),
    "dense_weight_transposed": (_dense_source("torch.relu(torch.nn.functional.linear("
                                              "x.flatten(1), W, b.reshape(-1)))"),
                                0.0, "square_weights",
                                "dense_relu for x of shape (6, 2, 3), W of shape (6, 6), b of "
                                "shape (6,), float32: "),
}


@pytest.mark.parametrize("mistake", list(DENSE_MISTAKE_SOURCES), ids=list(DENSE_MISTAKE_SOURCES))
def test_dense_relu_mistakes_are_diagnosed(grade_one, mistake):
    source, score, failing, message = DENSE_MISTAKE_SOURCES[mistake]
    result = grade_one("tensors.dense_relu", {"tensors.py": source})
    assert result.status == "failed" and result.score == score
    assert_failed(result, failing, message, EXPLAIN[mistake])
    if mistake == "dense_weight_transposed":  # X W^T cannot even be formed for D != M
        assert check(result, "batch").message.startswith(
            "dense_relu raised RuntimeError: mat1 and mat2 shapes cannot be multiplied")


def test_dense_relu_squeeze_loses_the_axes_of_size_one(grade_one):
    source = _dense_source("torch.relu(x.flatten(1) @ W + b.reshape(-1)).squeeze()")
    result = grade_one("tensors.dense_relu", {"tensors.py": source})
    assert result.status == "partial" and result.score == 4.5
    assert_failed(result, "one_sample", "dense_relu for x of shape (1, 2, 3), W of shape (6, 5), "
                                        "b of shape (5,), float32: shape (5,), expected (1, 5)",
                  bank.SQUEEZE_HINT)
    assert_failed(result, "one_unit", "dense_relu for x of shape (9, 4), W of shape (4, 1), b of "
                                      "shape (1,), float32: shape (9,), expected (9, 1)",
                  bank.SQUEEZE_HINT)


def test_dense_relu_through_numpy_cannot_keep_the_graph(grade_one):
    source = ("import numpy as np\nimport torch\n\ndef dense_relu(x, W, b):\n"
              "    y = x.reshape(len(x), -1).numpy() @ W.numpy() + b.numpy().reshape(-1)\n"
              "    return torch.from_numpy(np.maximum(y, 0))\n")
    result = grade_one("tensors.dense_relu", {"tensors.py": source})
    assert result.status == "partial" and result.score == 5.0
    assert_failed(result, "requires_grad", "dense_relu raised RuntimeError: Can't call "
                                           "numpy() on Tensor that requires grad", None)


def test_dense_relu_returning_numpy_or_float64_gets_the_hint(grade_one):
    numpy_source = ("import numpy as np\n\ndef dense_relu(x, W, b):\n"
                    "    y = x.detach().flatten(1).numpy() @ W.detach().numpy()\n"
                    "    return np.maximum(y + b.detach().numpy().reshape(-1), 0)\n")
    result = grade_one("tensors.dense_relu", {"tensors.py": numpy_source})
    assert result.status == "failed" and result.score == 0
    assert_failed(result, "batch", "dense_relu for x of shape (8, 6), W of shape (6, 4), b of "
                                   "shape (4,), float32: expected a torch tensor, got an array "
                                   "of shape (8, 4) float32", bank.NUMPY_HINT)
    double = _dense_source("torch.relu(x.flatten(1).double() @ W.double() + b.double().view(-1))")
    result = grade_one("tensors.dense_relu", {"tensors.py": double})
    assert result.status == "partial" and result.score == 1.0  # only the float64 check passes
    assert_failed(result, "batch", "dense_relu for x of shape (8, 6), W of shape (6, 4), b of "
                                   "shape (4,), float32: dtype torch.float64, expected "
                                   "torch.float32", bank.DTYPE_HINTS[("torch.float64",
                                                                       "torch.float32")])


def test_dense_relu_bias_broadcast_over_a_new_axis_is_a_shape_error(grade_one):
    source = _dense_source("torch.relu(x.flatten(1) @ W + b.unsqueeze(0))")
    result = grade_one("tensors.dense_relu", {"tensors.py": source})
    assert result.status == "partial" and result.score == 5.0
    # The generic diagnosis names it: the values are right, with an extra axis of length 1.
    assert_failed(result, "bias_row", "dense_relu for x of shape (7, 5), W of shape (5, 3), b of "
                                      "shape (1, 3), float32: shape (1, 7, 3), expected (7, 3)",
                  "your values are right but the shape is (1, 7, 3), not (7, 3): an extra or "
                  "missing axis of length 1 (keepdims=True, or a column vector where a flat one "
                  "was expected?)")


# ============================================================================ tensors.low_rank

def _low_rank_source(*body):
    return ("import torch\n\ndef low_rank_approx(A, k):\n"
            + "".join(f"    {line}\n" for line in body))


LOW_RANK_RIGHT = {
    "reference": REFERENCE,
    "eigh_projection": _low_rank_source("w, V = torch.linalg.eigh(A.T @ A)",
                                        "Vk = V[:, A.shape[1] - k:]", "return A @ Vk @ Vk.T"),
    "outer_products_with_flipped_signs": _low_rank_source(
        "U, S, Vh = torch.linalg.svd(A, full_matrices=False)",
        "out = torch.zeros_like(A)",
        "for i in range(k):",
        "    out = out + S[i] * torch.outer(-U[:, i], -Vh[i])",
        "return out"),
    "full_svd_with_diag": _low_rank_source(
        "U, S, Vh = torch.linalg.svd(A)",
        "return U[:, :k] @ torch.diag(S[:k]) @ Vh[:k]"),
}


@pytest.mark.parametrize("name", list(LOW_RANK_RIGHT), ids=list(LOW_RANK_RIGHT))
def test_low_rank_correct_implementations_get_full_marks(grade_one, name):
    result = grade_one("tensors.low_rank_approx", {"tensors.py": LOW_RANK_RIGHT[name]})
    assert_full_marks(result, 5.5)


LOW_RANK_MISTAKE_SOURCES = {  # mistake: (source, score, failing check)
    "low_rank_smallest": (_low_rank_source(
        "U, S, Vh = torch.linalg.svd(A, full_matrices=False)", "r = S.shape[0] - k",
        "return (U[:, r:] * S[r:]) @ Vh[r:]"), 1.0, "wide"),
    # eigh of A^T A lists the eigenvalue 0 of a wide A's null space first: A V_k V_k^T = 0.
    "low_rank_smallest_eigenvectors": (_low_rank_source(
        "w, V = torch.linalg.eigh(A.T @ A)", "Vk = V[:, :k]", "return A @ Vk @ Vk.T"),
        0.5, "wide"),
    "low_rank_squared": (_low_rank_source(
        "w, V = torch.linalg.eigh(A.T @ A)", "w, V = w.flip(0)[:k], V.flip(1)[:, :k]",
        "U = A @ V / w.sqrt()", "return U @ torch.diag(w) @ V.T"), 0.5, "wide"),
    "low_rank_one_more": (_low_rank_source(
        "U, S, Vh = torch.linalg.svd(A, full_matrices=False)",
        "return (U[:, :k + 1] * S[:k + 1]) @ Vh[:k + 1]"), 1.0, "float32"),
    "low_rank_all": (_low_rank_source(
        "U, S, Vh = torch.linalg.svd(A, full_matrices=False)",
        "return (U * S) @ Vh"), 1.0, "tall"),
}
LOW_RANK_NOTES = {"tall": "a 8x5 matrix, float64, k=2", "wide": "a 4x7 matrix, float64, k=3",
                  "float32": "a 6x6 matrix, float32, k=2"}


@pytest.mark.parametrize("mistake", list(LOW_RANK_MISTAKE_SOURCES),
                         ids=list(LOW_RANK_MISTAKE_SOURCES))
def test_low_rank_mistakes_are_diagnosed(grade_one, mistake):
    source, score, failing = LOW_RANK_MISTAKE_SOURCES[mistake]
    result = grade_one("tensors.low_rank_approx", {"tensors.py": source})
    assert result.status == "partial" and result.score == score
    assert_failed(result, failing, f"low_rank_approx for {LOW_RANK_NOTES[failing]}: ",
                  EXPLAIN[mistake])
    assert "(Eckart-Young), and yours has rank" in check(result, failing).message


def test_low_rank_with_columns_of_vh_reports_the_eckart_young_distance(grade_one):
    source = _low_rank_source("U, S, Vh = torch.linalg.svd(A, full_matrices=False)",
                              "return U[:, :k] @ torch.diag(S[:k]) @ Vh[:, :k].T")
    result = grade_one("tensors.low_rank_approx", {"tensors.py": source})
    assert result.status == "partial" and result.score == 0.5  # only k = 0 passes
    got = check(result, "tall")
    assert got.status == "failed" and got.diagnosis is None
    assert got.message.startswith("low_rank_approx for a 8x5 matrix, float64, k=2: 40 of 40 "
                                  "elements differ")
    assert "while the best rank-2 matrix is at sqrt(s_3^2 + ...) = " in got.message
    assert got.message.endswith("(Eckart-Young), and yours has rank 2")
    assert_failed(result, "wide", "low_rank_approx for a 4x7 matrix, float64, k=3: shape (4, 4), "
                                  "expected (4, 7)", None)


K_ZERO_SOURCE = _low_rank_source("if k == 0:", "    return torch.zeros(A.shape)",
                                 "U, S, Vh = torch.linalg.svd(A, full_matrices=False)",
                                 "return (U[:, :k] * S[:k]) @ Vh[:k]")


def test_low_rank_zeros_for_k_zero_need_the_inputs_dtype(grade_one):
    result = grade_one("tensors.low_rank_approx", {"tensors.py": K_ZERO_SOURCE})
    assert result.status == "partial" and result.score == 5.0
    assert_failed(result, "k_zero", "low_rank_approx for a 5x4 matrix, float64, k=0: dtype "
                                    "torch.float32, expected torch.float64",
                  bank.DTYPE_HINTS[("torch.float32", "torch.float64")])


def test_low_rank_zeros_for_k_zero_need_the_inputs_device(write_submission):
    source = K_ZERO_SOURCE.replace("torch.zeros(A.shape)", "torch.zeros(A.shape, dtype=A.dtype)")
    folder = write_submission({"tensors.py": source})
    result = grading.grade_exercise(catalog()["tensors.low_rank_approx"], locate(folder),
                                    device="meta", time_it=False)
    assert_failed(result, "k_zero", "low_rank_approx for a 5x4 matrix, float64, k=0: the result "
                                    "is on cpu but the input was on meta: create new tensors "
                                    "with device=x.device", bank.DEVICE_HINT)


# ============================================================================ sample_categorical

def _sample_source(*body, validate=True):
    head = "import torch\nimport torch.nn.functional as F\n\n" \
           "def sample_categorical(probs, n, generator):\n"
    if validate:
        head += ("    if bool((probs < 0).any()) or abs(float(probs.sum()) - 1) > 1e-5:\n"
                 "        raise ValueError('probs must be a distribution')\n"
                 "    K = probs.shape[0]\n"
                 "    cdf = torch.cumsum(probs, 0)\n"
                 "    u = torch.rand(n, generator=generator, dtype=probs.dtype, "
                 "device=probs.device)\n")
    return head + "".join(f"    {line}\n" for line in body)


ONE_HOT = "return F.one_hot(idx, K).to(probs.dtype)"
SAMPLE_RIGHT = {
    "reference": REFERENCE,
    "multinomial": _sample_source(
        "idx = torch.multinomial(probs, n, replacement=True, generator=generator)", ONE_HOT),
    "broadcast_count": _sample_source("idx = (u[:, None] >= cdf[None, :]).sum(1)", ONE_HOT),
    "scatter": _sample_source(
        "idx = torch.searchsorted(cdf, u, right=True)",
        "out = torch.zeros(n, K, dtype=probs.dtype, device=probs.device)",
        "return out.scatter_(1, idx[:, None], 1.0)"),
}


@pytest.mark.parametrize("name", list(SAMPLE_RIGHT), ids=list(SAMPLE_RIGHT))
def test_sample_categorical_correct_implementations_get_full_marks(grade_one, name):
    result = grade_one("tensors.sample_categorical", {"tensors.py": SAMPLE_RIGHT[name]})
    assert_full_marks(result, 6.5)


SAMPLE_WRONG = {  # mistake key: (source, score, failing check)
    "uniform": (_sample_source("idx = torch.randint(0, K, (n,), generator=generator)",
                               ONE_HOT), 3.0, "frequencies"),
    "reversed": (_sample_source("idx = (u[:, None] < cdf[None, :]).sum(1) - 1", ONE_HOT),
                 2.0, "frequencies"),
    "shifted_down": (_sample_source(
        "idx = torch.searchsorted(cdf, u) - 1",
        "out = torch.zeros(n, K, dtype=probs.dtype, device=probs.device)",
        "out[torch.arange(n), idx] = 1", "return out"), 2.0, "frequencies"),
    "shifted_up": (_sample_source("idx = (torch.searchsorted(cdf, u, right=True) + 1) % K",
                                  ONE_HOT), 2.0, "frequencies"),
    "argmax": (_sample_source("idx = torch.full((n,), int(probs.argmax()))", ONE_HOT),
               1.5, "frequencies"),
    "shared_draw": (_sample_source("idx = torch.searchsorted(cdf, u[:1], right=True).expand(n)",
                                   ONE_HOT), 1.5, "one_hot_rows"),
    "global_rng": (_sample_source(
        "idx = torch.searchsorted(cdf, torch.rand(n, dtype=probs.dtype), right=True)",
        ONE_HOT), 6.0, "seeded"),
    "fixed_seed": (_sample_source(
        "u = torch.rand(n, generator=torch.Generator().manual_seed(0), dtype=probs.dtype)",
        "idx = torch.searchsorted(cdf, u, right=True)", ONE_HOT), 6.0, "seeded"),
    "indices": (_sample_source("return torch.searchsorted(cdf, u, right=True)"), 1.0,
                "frequencies"),
    "int_one_hot": (_sample_source("return F.one_hot(torch.searchsorted(cdf, u, right=True), K)"),
                    1.0, "frequencies"),
}
SAMPLE_MESSAGES = {
    "one_hot_rows": "sample_categorical for K = 3 classes, n = 1000 draws, float64: ",
    "frequencies": "sample_categorical for K = 5 classes, n = 100000 draws, float64: ",
    "seeded": "sample_categorical for K = 4 classes, n = 1000 draws, float64, generator seeds ",
}


@pytest.mark.parametrize("mistake", list(SAMPLE_WRONG), ids=list(SAMPLE_WRONG))
def test_sample_categorical_mistakes_are_diagnosed(grade_one, mistake):
    source, score, failing = SAMPLE_WRONG[mistake]
    result = grade_one("tensors.sample_categorical", {"tensors.py": source})
    assert result.status == "partial" and result.score == score
    assert_failed(result, failing, SAMPLE_MESSAGES[failing], SAMPLE[mistake])


def test_sample_categorical_frequency_failures_show_the_chi_square_test(grade_one):
    result = grade_one("tensors.sample_categorical", {"tensors.py": SAMPLE_WRONG["uniform"][0]})
    message = check(result, "frequencies").message
    assert "the class counts do not fit probs: chi-square = " in message
    assert ("with 4 degrees of freedom, p-value below 1e-300 (a correct sampler gets a p-value "
            "below 1e-06 once in a million gradings); class ") in message
    assert_failed(result, "zero_probability", "sample_categorical for K = 6 classes of which 0, 3 "
                                              "and 5 have probability 0, n = 100000 draws, "
                                              "float32: class 0 has probability 0 but was drawn ",
                  SAMPLE["uniform"])


def test_sample_categorical_must_refuse_what_is_not_a_distribution(grade_one):
    source = _sample_source("cdf = torch.cumsum(probs, 0) / probs.sum()",
                            "u = torch.rand(n, generator=generator, dtype=probs.dtype)",
                            "idx = torch.searchsorted(cdf, u, right=True)",
                            "return F.one_hot(idx, probs.shape[0]).to(probs.dtype)",
                            validate=False)
    result = grade_one("tensors.sample_categorical", {"tensors.py": source})
    assert result.status == "partial" and result.score == 5.5
    assert_failed(result, "not_normalized", "sample_categorical for probs = [1, 2, 3] (weights "
                                            "summing to 6) should raise ValueError: probs must be "
                                            "nonnegative and sum to 1 (within 1e-5); it returned a "
                                            "tensor of shape (10, 3) torch.float64 on cpu", None)
    assert_failed(result, "negative", "sample_categorical for probs = [0.5, -0.25, 0.75] should "
                                      "raise ValueError", None)


def test_sample_categorical_result_on_another_device_fails_with_the_cause():
    """Judged as on CUDA: the expected samples are labelled with the grading device, the
    student's came back on the CPU."""
    exercise = EXERCISES["tensors.sample_categorical"]
    check_ = next(c for c in exercise.checks if c.name == "frequencies")
    case = check_.build(exercise.check_rng(check_, 0))
    results = run_reference(REF, case)
    expected = [CallResult(value=devices.relabel(r.value, "cuda:0")) for r in results]
    verdict = check_.judge(Trial(case, results, expected))
    assert not verdict.passed
    assert verdict.message == ("sample_categorical for K = 5 classes, n = 100000 draws, float64: "
                               "the result is on cpu but the input was on cuda:0: create new "
                               "tensors with device=x.device")
    assert verdict.diagnosis == bank.DEVICE_HINT


# ============================================================================ statistics

@pytest.fixture
def one_thread():
    """Samples of 10^5 draws: torch's thread pool only adds contention on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_statistical_checks_do_not_fail_the_reference_and_are_calibrated(one_thread):
    """100 seeds here (the benchmark runs 10,000): no false failure, and the chi-square
    p-values of the five statistical checks are uniform (Kolmogorov-Smirnov)."""
    result = BENCH.false_failures(100)
    assert result["failed"] == {c.name: 0 for c in EXERCISES["tensors.sample_categorical"].checks}
    p_values = np.concatenate(list(result["p"].values()))
    assert p_values.size == 500
    assert scipy.stats.kstest(p_values, "uniform").pvalue > 1e-3


@pytest.mark.parametrize("name", ["torch.multinomial + one_hot",
                                  "broadcast: count of cumulative sums <= u"])
def test_statistical_checks_do_not_fail_other_correct_samplers(one_thread, name):
    result = BENCH.false_failures(30, BENCH.CORRECT[name])
    assert set(result["failed"].values()) == {0}


def test_known_wrong_samplers_are_caught_and_named_on_every_seed(one_thread):
    found = BENCH.power(3)
    for name, (_, key) in BENCH.WRONG.items():
        if key is not None:
            assert found[name]["caught"] == found[name]["named"] == 3, (name, found[name])
