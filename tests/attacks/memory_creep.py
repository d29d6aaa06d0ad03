"""Limits: memory grows 512 MiB at a time (never touched, so the machine is safe) until it
fails. Expected: the memory limit stops it, in plain words."""
import numpy as np

_hoard = []


def dot(u, v):
    while True:
        _hoard.append(np.empty(2**29, dtype=np.uint8))
