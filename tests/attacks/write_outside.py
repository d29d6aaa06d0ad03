"""See and reach: tries to write a file named MARKER into the repository, its solutions, the
original submission folder, the grader machine's /tmp and home, and next to its scratch folder.
Prints what happened; dot answers correctly. Expected: full marks; none of those files exists
on the grader's machine afterwards (writes inside the sandbox's private /tmp are harmless)."""
import os

import numpy as np

MARKER = "@@MARKER@@"
TARGETS = ["@@REPO@@", "@@REPO@@/solutions", "@@REPO@@/grader/bank", "@@SUBMISSION@@", "/tmp",
           "/root", "/", "/etc", "/usr/lib", "/dev/shm"]


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        scratch = os.getcwd()
        for folder in TARGETS + [os.path.dirname(scratch)]:
            path = os.path.join(folder, MARKER)
            try:
                os.makedirs(folder, exist_ok=True)
                with open(path, "w") as fh:
                    fh.write("pwned")
                print(f"wrote {path}")
            except OSError as exc:
                print(f"blocked {path}: {type(exc).__name__}")
    return float(np.dot(u, v))
