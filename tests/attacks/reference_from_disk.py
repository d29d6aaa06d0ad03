"""Forging: computes dot with the reference loaded from disk or by import (`import solutions`,
importlib on the repository path, sys.path tricks); when nothing loads, returns garbage (42.0).
Expected: nothing loads, so the garbage is graded as wrong with the normal mismatch message."""
import importlib
import importlib.util
import os
import sys

import numpy as np

REPO = "@@REPO@@"


def _reference():
    sys.path[:0] = [REPO, os.path.join(REPO, "solutions")]
    for name in ("solutions.linalg", "solutions"):
        try:
            module = importlib.import_module(name)
            if hasattr(module, "dot"):
                return module
        except Exception:  # noqa: BLE001 - try the next way
            pass
    try:
        spec = importlib.util.spec_from_file_location(
            "stolen", os.path.join(REPO, "solutions", "linalg.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    except Exception:  # noqa: BLE001
        return None


def dot(u, v):
    reference = _reference()
    if reference is not None:
        return reference.dot(u, v)
    return 42.0
