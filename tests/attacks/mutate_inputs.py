"""Forging: zeroes its input arrays in place (hoping the grader then compares against inputs it
shares with the student), and returns the dot product of the zeroed vectors, 0.0. Expected: the
grader's inputs and expected values are its own pristine copies: only the empty check (where
0.0 is right) passes, and each check carries the note that the inputs were changed."""
import numpy as np


def dot(u, v):
    u[...] = 0
    v[...] = 0
    return float(np.dot(u, v))
