"""The grading device: choosing it, putting torch inputs on it in the worker, and failing a
result left on another device with the cause named.

Without a GPU, the wrong-device path is exercised with torch's ``meta`` device (tensors with a
shape and no data): the worker puts the inputs there exactly as it would put them on
``cuda:0``. The tests marked ``gpu`` run the same submissions on a real GPU where one exists.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from grader import catalog as catalog_mod
from grader import devices, grading
from grader.catalog import Call, Case, Check, Exercise
from grader.cli import main
from grader.errors import GraderError
from grader.judges import matches
from grader.sandbox.wire import TensorInput, TensorValue
from grader.submission import locate

pytest.importorskip("torch")


def _scale_case(rng: np.random.Generator) -> Case:
    x = rng.standard_normal((3, 4))
    return Case((Call("scale", (TensorInput(x, dtype="float64"),)),), "a 3 x 4 float64 tensor")


SCALE = Exercise(id="tdev.scale", title="Scale a tensor", functions=("scale",), framework="torch",
                 checks=(Check("small", _scale_case, matches(), points=1.0),))
REFERENCE = "def scale(x):\n    return 2 * x\n"
ON_CPU = ("import torch\n\ndef scale(x):\n"
          "    return torch.zeros(tuple(x.shape), dtype=x.dtype) + 2.0\n")
AS_FLOAT32 = "def scale(x):\n    return (2 * x).float()\n"


@pytest.fixture
def grade_scale(write_submission, use_solutions):
    """``grade_scale(source, device) -> ExerciseResult`` of the tdev.scale exercise."""
    use_solutions({"tdev.py": REFERENCE})

    def run(source: str, device: str):
        folder = write_submission({"tdev.py": source})
        return grading.grade_exercise(SCALE, locate(folder), device=device, time_it=False)

    return run


def test_cpu_and_auto_without_a_gpu_resolve_to_cpu(monkeypatch):
    monkeypatch.setattr(devices, "gpu_present", lambda: False)
    assert devices.resolve("cpu") == "cpu"
    assert devices.resolve("auto") == "cpu"


def test_cuda_and_auto_with_a_gpu_resolve_to_the_first_gpu(monkeypatch):
    monkeypatch.setattr(devices, "gpu_present", lambda: True)
    assert devices.resolve("cuda") == "cuda:0"
    assert devices.resolve("auto") == "cuda:0"
    assert devices.resolve("cuda:1") == "cuda:1"


def test_cuda_without_a_gpu_is_refused_with_what_to_do(monkeypatch):
    monkeypatch.setattr(devices, "gpu_present", lambda: False)
    with pytest.raises(GraderError, match=r"--device cuda: this machine has no NVIDIA GPU "
                                          r"\(no /dev/nvidia\*\); grade with --device cpu"):
        devices.resolve("cuda")
    with pytest.raises(GraderError, match=r"unknown device 'tpu'"):
        devices.resolve("tpu")


def test_place_moves_tensor_inputs_and_relabel_moves_expected_tensors():
    x = TensorInput(np.ones(2))
    placed = devices.place({"args": (x, [x, 3.0]), "kwargs": {"y": x}}, "cuda:0")
    assert placed["args"][0].device == placed["args"][1][0].device == "cuda:0"
    assert placed["kwargs"]["y"].device == "cuda:0" and placed["args"][1][1] == 3.0
    assert devices.place(x, "cpu") is x
    value = TensorValue(np.ones(2), "cpu", "torch.float64")
    assert devices.relabel((value, 1.0), "cuda:0")[0].device == "cuda:0"


def test_on_the_cpu_a_device_agnostic_answer_passes_and_the_device_is_reported(grade_scale):
    result = grade_scale(REFERENCE, "cpu")
    assert (result.status, result.score, result.message) == ("passed", 1.0,
                                                             "all 1 checks passed")


def test_a_result_in_another_dtype_fails_with_the_dtype_named(grade_scale):
    result = grade_scale(AS_FLOAT32, "cpu")
    assert (result.status, result.score) == ("failed", 0.0)
    assert result.message == ("check 'small': scale for a 3 x 4 float64 tensor: dtype "
                              "torch.float32, expected torch.float64")


def test_a_result_left_on_the_cpu_fails_with_the_device_named(grade_scale):
    # The worker put the inputs on the meta device, as it would on cuda:0.
    result = grade_scale(ON_CPU, "meta")
    assert (result.status, result.score) == ("failed", 0.0)
    assert result.message == ("check 'small': scale for a 3 x 4 float64 tensor: the result is "
                              "on cpu but the input was on meta: create new tensors with "
                              "device=x.device")


def test_grade_records_the_device_in_the_json_report(write_submission, tmp_path):
    folder = write_submission({"linalg.py": (catalog_mod.SOLUTIONS_DIR / "linalg.py").read_text()})
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["grade", "linalg.dot", "-s", str(folder), "--no-timing",
                                       "--device", "auto", "--json", str(out)])
    assert result.exit_code == 0, result.output
    expected = "cuda:0" if devices.gpu_present() else "cpu"
    assert f"device {expected}" in result.output.splitlines()[0]
    assert json.loads(out.read_text())["device"] == expected


def test_grade_with_cuda_on_a_machine_without_one_exits_2(monkeypatch):
    monkeypatch.setattr(devices, "gpu_present", lambda: False)
    result = CliRunner().invoke(main, ["grade", "linalg.dot", "--device", "cuda"])
    assert result.exit_code == 2
    assert "this machine has no NVIDIA GPU" in result.output


@pytest.mark.gpu
@pytest.mark.skipif(not devices.gpu_present(), reason="needs an NVIDIA GPU (/dev/nvidia*)")
def test_on_a_gpu_inputs_live_there_and_a_cpu_result_is_named(grade_scale):
    passed = grade_scale(REFERENCE, "cuda:0")
    assert (passed.status, passed.score) == ("passed", 1.0), passed.message
    failed = grade_scale(ON_CPU, "cuda:0")
    assert (failed.status, failed.score) == ("failed", 0.0)
    assert "the result is on cpu but the input was on cuda:0" in failed.message


def test_without_torch_a_torch_exercise_fails_closed_with_what_to_install(grade_scale,
                                                                          monkeypatch):
    real = grading.importlib.util.find_spec
    monkeypatch.setattr(grading.importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    result = grade_scale(REFERENCE, "cpu")
    assert (result.status, result.score) == ("error", 0.0)
    assert result.message == ("this exercise needs torch, which is not installed here: pip "
                              "install \"torch==2.13.0\" (the CPU build), then grade again")


def test_preloading_a_module_that_is_not_installed_leaves_the_zygote_working():
    from grader.sandbox.parent import zygote

    zyg = zygote()
    zyg.preload(["no_such_module_for_the_grader"])
    assert zyg._proc.poll() is None  # still serving
    with zyg.session() as session:
        worker = session.spawn({}, grading.Limits())
        worker.close()
        worker.cleanup()
