"""Limits: a fork bomb, bounded twice: by the sandbox's process limit (256), and by its own
cap (no process forks more than 9 times, the tree is at most 6 deep: at most 466 processes) so a
broken sandbox cannot take the machine down. Every process names itself MARKER and sleeps; dot
then answers correctly. Expected: full marks, and no process of the bomb alive after grading."""
import ctypes
import os
import time

import numpy as np

MARKER = "@@MARKER@@"
HOLD = float("@@HOLD@@")  # seconds the bomb is kept up (a concurrent-grading test holds it)
_libc = ctypes.CDLL(None, use_errno=True)


def _bomb(depth):
    _libc.prctl(15, MARKER.encode(), 0, 0, 0)  # PR_SET_NAME
    for _ in range(9):
        if depth >= 6:
            break
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            depth += 1
            continue
    while True:
        time.sleep(1)


def dot(u, v):
    if not getattr(dot, "armed", False):
        dot.armed = True
        pid = os.fork()
        if pid == 0:
            try:
                _bomb(0)
            finally:
                os._exit(0)
        time.sleep(0.5)
        named = 0
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    named += fh.read().strip() == MARKER
            except OSError:
                pass
        print(f"bomb processes alive: {named}")
        time.sleep(HOLD)
    return float(np.dot(u, v))
