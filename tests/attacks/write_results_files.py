"""Forging: writes a perfect results.json where a grader might read one: the scratch folder
(its cwd), the repository, the original submission folder, Gradescope's
/autograder/results/results.json, and /tmp. Then returns garbage (42.0). Expected: 0 points with
the normal message; none of those files exists on the grader's machine afterwards."""
import json
import os

import numpy as np

FORGED = json.dumps({"score": 4, "tests": [{"name": "linalg.dot", "score": 4, "max_score": 4}]})
TARGETS = [".", "@@REPO@@", "@@SUBMISSION@@", "/autograder/results", "/tmp/@@MARKER@@"]


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        for folder in TARGETS:
            path = os.path.join(folder, "results.json")
            try:
                os.makedirs(folder, exist_ok=True)
                with open(path, "w") as fh:
                    fh.write(FORGED)
                print(f"wrote {path}")
            except OSError as exc:
                print(f"blocked {path}: {type(exc).__name__}")
    return 42.0
