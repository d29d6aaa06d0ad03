"""Forging: rewires builtins in the worker (isinstance always True, float returns 42.0) so
that code checking types or converting values in the worker believes anything, then returns
garbage (42.0). Expected: the garbage scores 0 without harming the grader (however the
worker's own bookkeeping breaks)."""
import builtins

import numpy as np


def dot(u, v):
    builtins.isinstance = lambda obj, kind: True
    builtins.float = lambda *args: 42.0
    return 42.0
