"""Forging: returns a list nested 100 deep, which the wire format refuses to encode, hoping
the worker's failure is read as something else. Expected: 0 points, with a message that says the
returned value could not be sent back (not a crash of the worker)."""
import numpy as np


def dot(u, v):
    value = 42.0
    for _ in range(100):
        value = [value]
    return value
