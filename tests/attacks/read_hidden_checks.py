"""See and reach: looks for the bank of hidden checks: `import grader.bank.linalg`,
`grader.catalog`, the bank's file under the repository, and anything already in the worker's
memory (sys.modules, gc). Prints what it finds; dot answers correctly. Expected: full marks and
nothing found."""
import gc
import importlib
import os
import sys

import numpy as np

REPO = "@@REPO@@"


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        for name in ("grader.bank.linalg", "grader.bank", "grader.catalog", "grader.grading"):
            try:
                importlib.import_module(name)
                print(f"LEAK imported {name}")
            except Exception as exc:  # noqa: BLE001
                print(f"blocked import {name}: {type(exc).__name__}")
        try:
            with open(os.path.join(REPO, "grader", "bank", "linalg.py")) as fh:
                print(f"LEAK read the bank: {len(fh.read())} characters")
        except OSError as exc:
            print(f"blocked reading the bank: {type(exc).__name__}")
        loaded = sorted(m for m in sys.modules if m.startswith(("grader.bank", "grader.catalog",
                                                                "grader.judges", "solutions")))
        print(f"modules in memory: {loaded if loaded else 'none'}")
        kinds = {type(o).__name__ for o in gc.get_objects()}
        seen = sorted(kinds & {"Check", "Exercise", "Trial", "CallResult", "Mistake", "Case"})
        print(f"grader objects in memory: {seen if seen else 'none'}")
    return float(np.dot(u, v))
