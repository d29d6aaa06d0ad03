"""Limits: raises the recursion limit, then recurses through C (sorted calls its key), so every
level costs C stack until it overflows. Expected: a crash with SIGSEGV, in plain words."""
import sys

import numpy as np


def _down(n):
    return sorted([n + 1], key=_down)[0]


def dot(u, v):
    sys.setrecursionlimit(10**8)
    return float(_down(0))
