"""See and reach: looks for the reference solutions: the repository path (known to the test,
as a student could guess it), paths derived from the grader package's __file__, a walk of the
whole file system for `solutions` folders and reference-looking files. Prints what it finds;
dot answers correctly. Expected: full marks and nothing found."""
import os
import sys

import numpy as np

REPO = "@@REPO@@"


def _read(path):
    try:
        with open(path) as fh:
            text = fh.read()
        print(f"LEAK read {path}: {len(text)} characters")
    except OSError as exc:
        print(f"blocked {path}: {type(exc).__name__}")


_SKIP = ("/proc", "/sys", "/dev", "/usr")


def _walk():
    """Every folder named solutions or bank, or holding a linalg.py (Python's own library and
    the installed packages aside: numpy has a linalg of its own)."""
    found = []
    for folder, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in _SKIP
                   and d not in ("site-packages", "python3.11", "python3.12", "python3.13")]
        if os.path.basename(folder) in ("solutions", "bank") or "linalg.py" in files:
            found.append(folder)
    return found


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        grader = sys.modules.get("grader")
        guesses = [os.path.join(REPO, "solutions", "linalg.py"), "/work/main/solutions/linalg.py"]
        if grader is not None and getattr(grader, "__file__", None):
            root = os.path.dirname(os.path.dirname(os.path.abspath(grader.__file__)))
            guesses.append(os.path.join(root, "solutions", "linalg.py"))
        guesses.append(os.path.join(os.getcwd(), "..", "..", "solutions", "linalg.py"))
        for path in guesses:
            _read(path)
        own = os.path.realpath(os.path.join(os.getcwd(), "src"))
        others = [f for f in _walk() if not os.path.realpath(f).startswith(own)]
        print(f"walk found {others if others else 'nothing'}")
    return float(np.dot(u, v))
