"""Limits: prints 4 MiB. Expected: the exercise fails with "printed more than 1 MiB; output
truncated", whatever the checks said."""
import numpy as np


def dot(u, v):
    line = "spam " * 200
    for _ in range(4 * 2**20 // len(line)):
        print(line)
    return float(np.dot(u, v))
