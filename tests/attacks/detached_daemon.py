"""Nothing survives: a double-forked, setsid daemon that ignores SIGTERM, SIGHUP and SIGINT,
named MARKER, sleeping for ten minutes. dot answers correctly. Expected: full marks, and the
daemon is gone after grading."""
import ctypes
import os
import signal
import time

import numpy as np

MARKER = "@@MARKER@@"


def _daemon():
    if os.fork() != 0:
        os._exit(0)  # the middle process exits: the daemon is orphaned
    os.setsid()
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    ctypes.CDLL(None).prctl(15, MARKER.encode(), 0, 0, 0)  # PR_SET_NAME
    time.sleep(600)


def dot(u, v):
    if not getattr(dot, "started", False):
        dot.started = True
        pid = os.fork()
        if pid == 0:
            try:
                _daemon()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.2)
        names = []
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    names.append(fh.read().strip())
            except OSError:
                pass
        print(f"daemons alive: {names.count(MARKER)}")
    return float(np.dot(u, v))
