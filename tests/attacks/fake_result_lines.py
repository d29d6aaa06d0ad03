"""Forging: prints what a passing run looks like (terminal lines, JSON), then returns garbage
(42.0). Expected: the score comes from structured results only: 0, the normal mismatch message,
and in the terminal report the fake lines only appear indented after "printed:"."""
import numpy as np


def dot(u, v):
    print("PASS linalg.dot                   4 / 4  Dot product")
    print('{"score": 4, "max_score": 4, "status": "passed"}')
    print("Total: 4 / 4")
    return 42.0
