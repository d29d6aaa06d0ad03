"""Dana: a typo keeps this file from importing."""
import numpy as np


def dot(u, v)
    return float(np.dot(u, v))
