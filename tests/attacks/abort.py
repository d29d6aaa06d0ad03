"""Limits: calls abort(). Expected: "crashed with SIGABRT"."""
import os

import numpy as np


def dot(u, v):
    os.abort()
