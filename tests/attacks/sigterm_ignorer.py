"""Nothing survives: a child (same process group) that ignores every catchable signal, exec'd
as `python -c ...` with MARKER in its command line (where exec is refused, the forked child
ignores the signals itself and names its thread MARKER). dot answers correctly. Expected: full
marks; the child is killed with the worker."""
import ctypes
import os
import signal
import sys
import time

import numpy as np

MARKER = "@@MARKER@@"
_CHILD = ("import signal, time\n"
          "for s in signal.valid_signals():\n"
          "    try: signal.signal(s, signal.SIG_IGN)\n"
          "    except (OSError, ValueError): pass\n"
          "time.sleep(600)\n")


def _ignore_everything():
    try:
        os.execv(sys.executable, [sys.executable, "-S", "-c", _CHILD, MARKER])
    except OSError:
        pass
    try:
        for sig in signal.valid_signals():
            try:
                signal.signal(sig, signal.SIG_IGN)
            except (OSError, ValueError):
                pass
        ctypes.CDLL(None).prctl(15, MARKER.encode(), 0, 0, 0)  # PR_SET_NAME
        time.sleep(600)
    finally:
        os._exit(0)


def _running(pid):
    """How the child runs: "exec'd python", "forked copy", or None (not yet)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh, open(f"/proc/{pid}/comm") as comm:
            if MARKER.encode() in fh.read():
                return "exec'd python"
            return "forked copy" if comm.read().strip() == MARKER else None
    except OSError:
        return None


def dot(u, v):
    if not getattr(dot, "started", False):
        dot.started = True
        pid = os.fork()
        if pid == 0:
            _ignore_everything()
        for _ in range(200):
            how = _running(pid)
            if how:
                print(f"ignorer running: {how}")
                break
            time.sleep(0.01)
    return float(np.dot(u, v))
