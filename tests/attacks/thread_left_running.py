"""Nothing survives: a non-daemon thread, named MARKER, that keeps running (and printing)
after dot returns. Expected: full marks; the thread ends with the worker."""
import ctypes
import threading
import time

import numpy as np

MARKER = "@@MARKER@@"
_named = threading.Event()


def _forever():
    ctypes.CDLL(None).prctl(15, MARKER.encode(), 0, 0, 0)  # PR_SET_NAME names this thread
    print("thread started")
    _named.set()
    while True:
        time.sleep(0.05)
        print("still here")


def dot(u, v):
    if not getattr(dot, "started", False):
        dot.started = True
        threading.Thread(target=_forever, daemon=False).start()
        _named.wait(5)
    return float(np.dot(u, v))
