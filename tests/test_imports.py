"""Importing torch costs about a second: grading numpy exercises must not do it."""

from __future__ import annotations

import subprocess
import sys

from grader.catalog import SOLUTIONS_DIR

PROGRAM = f"""
import sys
from grader import grading
result = grading.grade(submission={str(SOLUTIONS_DIR)!r}, ids=("linalg.dot",), time_it=True)
print(result.exercises[0].status, result.score == result.max_score > 0, "torch" in sys.modules)
"""


def test_grading_a_numpy_exercise_does_not_import_torch():
    out = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert out == ["passed", "True", "False"]


def test_the_cli_module_imports_neither_numpy_nor_torch():
    code = "import sys, grader.cli; print('numpy' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == ["False", "False"]
