"""Limits: writes a 100 MiB file into its scratch folder. Expected: the write fails at the
file-size limit (1 MiB); the attack reports the size it reached and lets the error through, and
the grader names the limit in plain words."""
import os

import numpy as np


def dot(u, v):
    chunk = b"\0" * 2**16
    with open("huge.bin", "wb", buffering=0) as fh:
        try:
            for _ in range(100 * 2**20 // len(chunk)):
                fh.write(chunk)
        except OSError:
            print(f"huge.bin stopped at {os.path.getsize('huge.bin')} bytes")
            raise
    return float(np.dot(u, v))
