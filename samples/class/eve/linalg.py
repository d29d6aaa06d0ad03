"""Eve: tries to break out of the grader."""
import os
import subprocess
import sys

import numpy as np

print("PASS linalg.dot 4 / 4")  # a fake result line: the grader never parses output


def dot(u, v):
    for path in ("/work/main/solutions/linalg.py", "../solutions/linalg.py"):
        try:
            print(open(path).read()[:100])  # the reference is not in the sandbox
        except OSError as exc:
            print("no reference:", exc)
    if os.fork() == 0:  # a daemon that would outlive the run
        os.setsid()
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
        os._exit(0)
    return float(np.dot(u, v))


def pinv(A, rtol=None):
    return np.linalg.pinv(A)  # a library pseudo-inverse: refused by the honesty check


def pca(X, k):
    while True:  # hangs: the per-call time limit ends it
        pass
