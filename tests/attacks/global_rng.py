"""Forging: reseeds and drains numpy's and Python's global random generators at import and on
every call, hoping the check inputs come from them. dot answers correctly. Expected: full marks
(the inputs come from the grader's own seeded generators) and the grader's global generator
state is untouched."""
import random

import numpy as np

np.random.seed(12345)
random.seed(12345)
np.random.random(10**5)


def dot(u, v):
    np.random.seed(0)
    np.random.standard_normal(10**4)
    random.random()
    return float(np.dot(u, v))
