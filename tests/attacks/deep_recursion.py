"""Limits: unbounded recursion under Python's default recursion limit. Expected: a
RecursionError, reported like any exception the student's code raised."""
import numpy as np


def dot(u, v):
    return dot(u, v) + 1.0
