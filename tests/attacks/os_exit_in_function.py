"""Forging: os._exit(0) in dot: the worker vanishes with exit code 0. Expected: 0 points, the
exit named in plain words."""
import os

import numpy as np


def dot(u, v):
    os._exit(0)
