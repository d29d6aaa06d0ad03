"""See and reach: reads another student's files: the original folder of a submission in the
same class, and the copy a concurrently open sandbox session made of it; lists /tmp and the
folder of its own sandbox for other sandboxes (grader-*). Prints what it finds; dot answers
correctly. Expected: full marks, nothing found."""
import os

import numpy as np

OTHER_ORIGINAL = "@@OTHER@@"
OTHER_COPY = "@@OTHER_COPY@@"


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        for path in (OTHER_ORIGINAL, OTHER_COPY):
            try:
                with open(path) as fh:
                    print(f"LEAK {path}: {fh.read()[:80]!r}")
            except OSError as exc:
                print(f"blocked {path}: {type(exc).__name__}")
        own = os.path.dirname(os.getcwd())
        # Sandbox folders are grader-* next to its own (in /dev/shm or /tmp); what else is there
        # (a virtual environment under /tmp, shown read-only) is not another student's.
        for folder in sorted({"/tmp", os.path.dirname(own)}):
            others = [name for name in os.listdir(folder)
                      if name != os.path.basename(own) and name.startswith("grader")]
            print(f"other sandboxes in {folder}: {others if others else 'none'}")
    return float(np.dot(u, v))
