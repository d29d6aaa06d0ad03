"""Nothing survives: a detached daemon keeps a copy of every file descriptor (the worker's
socket to the grader included), then the worker aborts. If the daemon lived, the grader would
see no end of file and wait for the time limit. Expected: "crashed with SIGABRT" at once."""
import ctypes
import os
import signal
import time

import numpy as np

MARKER = "@@MARKER@@"


def dot(u, v):
    pid = os.fork()
    if pid == 0:
        if os.fork() != 0:
            os._exit(0)
        os.setsid()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        ctypes.CDLL(None).prctl(15, MARKER.encode(), 0, 0, 0)
        time.sleep(600)
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.1)
    os.abort()
