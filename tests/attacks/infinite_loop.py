"""Limits: dot never returns (a pure Python loop). Expected: the wall-time limit ends the
worker."""
import numpy as np


def dot(u, v):
    while True:
        pass
