"""Checks of exercises/linalg.py: dot, pinv, pca."""

from __future__ import annotations

import numpy as np

from grader.catalog import Call, Case, Check, Exercise, Timing
from grader.judges import Mistake, matches, raises


# ----------------------------------------------------------------------------- linalg.dot

def _dot_case(n: int, *, ints: bool = False, note: str = ""):
    def build(rng: np.random.Generator) -> Case:
        if ints:
            u, v = rng.integers(-9, 10, n), rng.integers(-9, 10, n)
        else:
            u, v = rng.standard_normal(n), rng.standard_normal(n)
        return Case((Call("dot", (u, v)),), note or f"two vectors of length {n}")
    return build


def _dot_mismatch(rng: np.random.Generator) -> Case:
    return Case((Call("dot", (rng.standard_normal(5), rng.standard_normal(4))),),
                "vectors of lengths 5 and 4")


def _dot_drop_last(case: Case) -> float:
    u, v = case.calls[-1].args
    return float(np.dot(u[:-1], v[:-1]))


DOT_MISTAKES = (
    Mistake("off_by_one", "your loop skips the last element: range(len(u) - 1) instead of "
                          "range(len(u))", _dot_drop_last),
    Mistake("elementwise_sum_of_squares", "you summed u_i * u_i (the squared norm of u) instead "
                                          "of u_i * v_i",
            lambda case: float(np.dot(case.calls[-1].args[0], case.calls[-1].args[0]))),
)

DOT = Exercise(
    id="linalg.dot",
    title="Dot product",
    functions=("dot",),
    summary="u . v = sum_i u_i v_i, with a ValueError for vectors of different lengths",
    checks=(
        Check("small", _dot_case(3), matches(rtol=1e-12, atol=1e-12, mistakes=DOT_MISTAKES),
              points=1, about="two short vectors"),
        Check("length_1000", _dot_case(1000), matches(rtol=1e-12, atol=1e-10,
                                                      mistakes=DOT_MISTAKES),
              points=1, about="vectors of length 1000"),
        Check("length_mismatch", _dot_mismatch,
              raises("ValueError", why="vectors of different lengths have no dot product"),
              points=1, hidden=True, about="unequal lengths raise ValueError"),
        Check("empty", _dot_case(0, note="two empty vectors"), matches(rtol=0.0, atol=0.0),
              points=0.5, hidden=True, about="n = 0 gives 0.0"),
        Check("integers", _dot_case(50, ints=True, note="integer vectors of length 50"),
              matches(rtol=0.0, atol=0.0, mistakes=DOT_MISTAKES),
              points=0.5, hidden=True, about="integer inputs"),
    ),
    timing=Timing(lambda rng: Call("dot", (rng.standard_normal(2 * 10**5),
                                           rng.standard_normal(2 * 10**5)), send=False),
                  slow_ratio=20.0,
                  advice="use np.dot, u @ v or np.sum(u * v) instead of a Python loop"),
)

EXERCISES = (DOT,)
