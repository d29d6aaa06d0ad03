"""Forging: walks every caller frame (sys._getframe) and every object the garbage collector
knows for something that looks like the expected value (names like expected, want, reference,
or a CallResult), returns it if found, else garbage (42.0). Expected: the expected values live
only in the grader's process, so the garbage scores as wrong with the normal message."""
import gc
import sys

import numpy as np

_NAMES = ("expected", "want", "reference", "answer", "result", "results")


def _from_frames():
    frame = sys._getframe(1)
    while frame is not None:
        for name in _NAMES:
            value = frame.f_locals.get(name)
            if isinstance(value, float):
                return value
        frame = frame.f_back
    return None


def _from_gc():
    for obj in gc.get_objects():
        if type(obj).__name__ in ("CallResult", "Trial", "Check"):
            value = getattr(obj, "value", None)
            if isinstance(value, float):
                return value
    return None


def dot(u, v):
    found = _from_frames()
    if found is None:
        found = _from_gc()
    print(f"found {'nothing' if found is None else found}")
    return 42.0 if found is None else found
