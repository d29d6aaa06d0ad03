"""Limits: fills its scratch folder (on the grader machine's disk) with 1 MiB files, each
under the file-size limit, up to 288 MiB. Prints how far it got; dot then answers correctly.
Expected: full marks, and the scratch folder has a quota: the writes stop by 256 MiB
(the size of the sandbox's /tmp)."""
import os

import numpy as np


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        chunk = b"\1" * (2**20 - 1)
        written = 0
        try:
            for i in range(288):
                with open(f"fill-{i}.bin", "wb") as fh:
                    fh.write(chunk)
                written += 1
            print(f"wrote {written} MiB")
        except OSError as exc:
            print(f"stopped after {written} MiB: {type(exc).__name__}")
        for i in range(written):
            os.unlink(f"fill-{i}.bin")
    return float(np.dot(u, v))
