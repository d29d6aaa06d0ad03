"""Nothing survives: a process that forks a child and exits, over and over, each generation in
a new session: its pid and process group change faster than a killer can follow. Named
MARKER; dot answers correctly. Expected: full marks and nothing left afterwards."""
import ctypes
import os
import time

import numpy as np

MARKER = "@@MARKER@@"


def _hop():
    ctypes.CDLL(None).prctl(15, MARKER.encode(), 0, 0, 0)  # PR_SET_NAME, inherited by fork
    while True:
        try:
            if os.fork() != 0:
                os._exit(0)
        except OSError:
            time.sleep(0.01)
            continue
        os.setsid()
        time.sleep(0.001)


def dot(u, v):
    if not getattr(dot, "started", False):
        dot.started = True
        pid = os.fork()
        if pid == 0:
            try:
                _hop()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        seen = False
        for _ in range(200):
            for entry in os.listdir("/proc"):
                try:
                    with open(f"/proc/{entry}/comm") as fh:
                        seen = seen or fh.read().strip() == MARKER
                except OSError:
                    pass
            if seen:
                break
            time.sleep(0.01)
        print(f"hopper seen: {seen}")
    return float(np.dot(u, v))
