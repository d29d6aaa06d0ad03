"""See and reach: reads another student's files: the original folder of a submission in the
same class, and the copy a concurrently open sandbox session made of it; lists /tmp for other
sandboxes (grader-*). Prints what it finds; dot answers correctly. Expected: full marks, nothing found."""
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
        own = os.path.basename(os.path.dirname(os.getcwd()))
        # Sandbox folders are /tmp/grader-*; what else is there (a virtual environment under
        # /tmp, shown read-only) is not another student's.
        others = [name for name in os.listdir("/tmp") if name != own
                  and name.startswith("grader")]
        print(f"other sandboxes in /tmp: {others if others else 'none'}")
    return float(np.dot(u, v))
