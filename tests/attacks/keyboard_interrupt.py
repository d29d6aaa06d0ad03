"""Forging: raises KeyboardInterrupt in dot, as if the grader were interrupted. Expected: the
exercise ends with a plain message, 0 points; the grader goes on."""
import numpy as np


def dot(u, v):
    raise KeyboardInterrupt
