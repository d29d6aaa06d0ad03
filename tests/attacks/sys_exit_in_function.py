"""Forging: sys.exit(0) in dot, hoping a clean exit counts as success. Expected: 0 points with
"ended the program"."""
import sys

import numpy as np


def dot(u, v):
    sys.exit(0)
