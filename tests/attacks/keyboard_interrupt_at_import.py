"""Forging: KeyboardInterrupt raised while the module is imported. Expected: every exercise of
the module gets 0 points with a message that names the KeyboardInterrupt."""
import numpy as np

raise KeyboardInterrupt


def dot(u, v):
    return float(np.dot(u, v))
