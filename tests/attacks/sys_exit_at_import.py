"""Forging: sys.exit(0) while the module is imported. Expected: every exercise of the module
gets 0 points with "importing ... ended the program: sys.exit(0)"."""
import sys

import numpy as np

sys.exit(0)


def dot(u, v):
    return float(np.dot(u, v))
