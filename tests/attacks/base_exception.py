"""Forging: raises a BaseException subclass (not an Exception), which a careless `except
Exception` in a grader would let through. Expected: the exercise ends with a plain message, 0
points."""
import numpy as np


class Escape(BaseException):
    pass


def dot(u, v):
    raise Escape("out of here")
