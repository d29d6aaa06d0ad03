"""Forging: os._exit(0) while the module is imported. Expected: every exercise of the module
gets 0 points; the message says the worker exited while importing the file."""
import os

import numpy as np

os._exit(0)


def dot(u, v):
    return float(np.dot(u, v))
