"""Limits: asks for 10 GiB at once. Expected: the memory limit stops it, in plain words."""
import numpy as np


def dot(u, v):
    hog = np.ones(10 * 2**30, dtype=np.uint8)
    return float(np.dot(u, v)) + float(hog[0]) - 1.0
