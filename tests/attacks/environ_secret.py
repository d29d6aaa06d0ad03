"""See and reach: looks for a secret of the grader's environment (a token a CI or Gradescope
grader would hold) in os.environ and in /proc/*/environ. Prints what it finds; dot answers
correctly. Expected: full marks; the secret is nowhere to be seen."""
import os

import numpy as np

SECRET_VAR = "@@SECRET_VAR@@"


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        if SECRET_VAR in os.environ:
            print(f"LEAK os.environ[{SECRET_VAR}] = {os.environ[SECRET_VAR]}")
        for pid in (p for p in os.listdir("/proc") if p.isdigit()):
            try:
                with open(f"/proc/{pid}/environ", "rb") as fh:
                    if SECRET_VAR.encode() in fh.read():
                        print(f"LEAK /proc/{pid}/environ")
            except OSError:
                pass
        print(f"environment variables seen: {len(os.environ)}")
    return float(np.dot(u, v))
