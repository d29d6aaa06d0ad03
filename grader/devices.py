"""The grading device: where torch exercises' inputs live (``--device cpu|cuda|auto``).

Cases are built on the CPU and their expected results are computed on the CPU, in the grader's
process, which never initialises CUDA (it forks the sandbox's zygote; a CUDA context does not
survive a fork). Only the worker that runs the student's code puts the inputs on the device: each
:class:`~grader.sandbox.wire.TensorInput` is sent with the grading device, and the expected
tensors are labelled with that device, so a result left on the CPU (or moved to the GPU when the
inputs were not) fails with the cause named.

Tolerances: checks state theirs per dtype (:mod:`grader.compare`: float64 1e-10, float32
1e-4 relative by default), the same on both devices. That holds on CUDA because float32 matrix
products there run in full float32 (torch's default, ``torch.backends.cuda.matmul.allow_tf32``
is False); cuDNN convolutions may use TF32 (a 10-bit mantissa), so a float32 torch convolution
check would need ``GPU_TF32_TOL`` on CUDA.
"""

from __future__ import annotations

import dataclasses
import glob
from typing import Any

from grader.errors import GraderError
from grader.sandbox.wire import TensorInput, TensorValue

CHOICES = ("cpu", "cuda", "auto")
#: (rtol, atol) for float32 results of operations cuDNN may run in TF32 on a GPU.
GPU_TF32_TOL = (1e-2, 1e-2)


def gpu_present() -> bool:
    """Whether this machine has an NVIDIA GPU, without initialising CUDA here."""
    return bool(glob.glob("/dev/nvidia[0-9]*"))


def resolve(device: str) -> str:
    """``cpu``, ``cuda`` or ``auto`` as torch names the device of a tensor: ``cpu``, ``cuda:0``."""
    if device not in CHOICES and not device.startswith("cuda:"):
        raise GraderError(f"unknown device {device!r}: use one of {', '.join(CHOICES)}")
    if device == "auto":
        return "cuda:0" if gpu_present() else "cpu"
    if device == "cpu":
        return "cpu"
    if not gpu_present():
        raise GraderError(f"--device {device}: this machine has no NVIDIA GPU (no /dev/nvidia*); "
                          "grade with --device cpu (or auto)")
    return "cuda:0" if device == "cuda" else device


def place(value: Any, device: str) -> Any:
    """``value`` (a call's arguments) with every tensor input on ``device``."""
    if device == "cpu":
        return value
    return _map(value, lambda v: dataclasses.replace(v, device=device)
                if isinstance(v, TensorInput) else v)


def relabel(value: Any, device: str) -> Any:
    """An expected result computed on the CPU, its tensors labelled as on ``device``."""
    if device == "cpu":
        return value
    return _map(value, lambda v: dataclasses.replace(v, device=device)
                if isinstance(v, TensorValue) and v.device == "cpu" else v)


def _map(value: Any, leaf: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_map(v, leaf) for v in value)
    if isinstance(value, list):
        return [_map(v, leaf) for v in value]
    if isinstance(value, dict):
        return {k: _map(v, leaf) for k, v in value.items()}
    return leaf(value)
