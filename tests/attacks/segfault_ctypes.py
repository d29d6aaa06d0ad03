"""Limits: reads address 8 through ctypes. Expected: "crashed with SIGSEGV"."""
import ctypes

import numpy as np


def dot(u, v):
    ctypes.c_int.from_address(8).value
    return float(np.dot(u, v))
