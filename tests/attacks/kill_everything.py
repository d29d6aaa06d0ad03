"""See and reach: `kill -1` (SIGKILL to every process it may signal) and SIGSTOP to every
other process it can see. dot then answers correctly. Expected: full marks; the grader, its
zygote and the submission's other exercises are untouched."""
import os
import signal

import numpy as np


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        me = os.getpid()
        for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
            if pid != me:
                try:
                    os.kill(pid, signal.SIGSTOP)
                    print(f"stopped {pid}")
                except OSError as exc:
                    print(f"could not stop {pid}: {type(exc).__name__}")
        try:
            os.kill(-1, signal.SIGKILL)
            print("sent SIGKILL to -1")
        except OSError as exc:
            print(f"blocked SIGKILL to -1: {type(exc).__name__}")
    return float(np.dot(u, v))
