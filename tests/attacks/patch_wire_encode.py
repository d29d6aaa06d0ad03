"""Forging: monkeypatches the wire format's encoder in the worker (grader.sandbox.wire: the
Encoder class behind wire.encode) so that every float the worker sends back, the student's
result among them, reads 42.0, from dot's first call on (the module's other exercises are left
alone). Expected: the reply is still only the student's own claim about its own values: 0
points with the normal mismatch message."""
import sys

import numpy as np


def _install():
    wire = sys.modules["grader.sandbox.wire"]
    encoder = getattr(wire, "Encoder", None) or getattr(wire, "_Encoder")
    real = encoder.encode

    def forged(self, value, *args, **kwargs):
        if type(value) is float:
            value = 42.0
        return real(self, value, *args, **kwargs)

    encoder.encode = forged


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        _install()
    return float(np.dot(u, v))
