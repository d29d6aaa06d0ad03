"""Forging: returns NaN (comparisons with NaN are False, so `not (got != want)` style checks
pass). Expected: 0 points, the NaN named in the message."""
import numpy as np


def dot(u, v):
    return float("nan")
