"""See and reach: SIGKILL, SIGSTOP and SIGTERM to its parent (the sandbox's supervisor), SIGKILL
to process 1 and to the grader's pid (as seen from the grader's machine). dot then answers
correctly. Expected: full marks; the supervisor, the grader and its zygote are untouched."""
import os
import signal

import numpy as np

GRADER_PID = int("@@GRADER_PID@@")


def _send(what, pid, sig):
    try:
        os.kill(pid, sig)
        print(f"sent {what}")
    except OSError as exc:
        print(f"blocked {what}: {type(exc).__name__}")


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        _send("SIGKILL to parent", os.getppid(), signal.SIGKILL)
        _send("SIGSTOP to parent", os.getppid(), signal.SIGSTOP)
        _send("SIGTERM to parent", os.getppid(), signal.SIGTERM)
        _send("SIGKILL to 1", 1, signal.SIGKILL)
        if GRADER_PID not in (os.getpid(), os.getppid()):
            _send("SIGKILL to the grader's pid", GRADER_PID, signal.SIGKILL)
    return float(np.dot(u, v))
