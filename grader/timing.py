"""Timing of the student's function against the reference, measured the same way.

Both run in the same kind of worker (forked from the same zygote, one BLAS thread each), on
copies of the same inputs, after a warm-up call, in alternating rounds so that a burst of load
on the machine hits both sides. Rounds stop when the round medians agree within 10% or the time
budget is spent. The figure reported is the median of all timed calls.
"""

from __future__ import annotations

import math
import statistics
import time

from grader.catalog import Call
from grader.sandbox import wire
from grader.sandbox.parent import Worker

MIN_ROUNDS = 3
MAX_ROUNDS = 7
ROUND_BUDGET = 0.03  # seconds of calls per side and round
TOTAL_BUDGET = 1.0  # seconds of wall time for the whole measurement


class TimingFailed(Exception):
    """The student's function raised while being timed."""


def _round(worker: Worker, call: tuple[object, list[bytes]] | None, budget: float,
           copy: bool) -> list[float]:
    """One round of timed calls; ``call`` is sent with the first round only."""
    request = {"op": "time", "budget": budget, "max_reps": 1000, "copy": copy}
    blobs: list[bytes] = []
    if call is not None:
        request["call"], blobs = call
    header, _ = worker.request(request, blobs,
                               timeout=worker.limits.call_seconds + budget * 2)
    if "raised" in header:
        raise TimingFailed(f"{header['raised']['type']}: {header['raised']['message']}")
    return [float(t) for t in header["times"]]


def _spread(medians: list[float]) -> float:
    mid = statistics.median(medians)
    return (max(medians) - min(medians)) / mid if mid > 0 else 0.0


def interleaved(student: Worker, reference: Worker, call: Call, *, copy_inputs: bool = False,
                min_rounds: int = MIN_ROUNDS, max_rounds: int = MAX_ROUNDS,
                round_budget: float = ROUND_BUDGET) -> tuple[float, float]:
    """Median seconds per call of (student, reference).

    Inputs are copied before each call only when ``copy_inputs`` (the student's function was
    seen changing its inputs); copies of large inputs would otherwise dominate the figure.
    """
    encoded = wire.encode(call.to_wire())
    for worker in (reference, student):  # warm-up: caches, lazy imports, page faults
        _round(worker, encoded, 0.0, copy_inputs)
    start = time.monotonic()
    times: dict[str, list[float]] = {"s": [], "r": []}
    medians: dict[str, list[float]] = {"s": [], "r": []}
    for rnd in range(max_rounds):
        order = (("s", student), ("r", reference)) if rnd % 2 == 0 else (
            ("r", reference), ("s", student))
        for key, worker in order:
            got = _round(worker, None, round_budget, copy_inputs)
            times[key] += got
            medians[key].append(statistics.median(got))
        if rnd + 1 >= min_rounds and (
                max(_spread(medians["s"]), _spread(medians["r"])) < 0.10
                or time.monotonic() - start > TOTAL_BUDGET):
            break
    return statistics.median(times["s"]), statistics.median(times["r"])


def exponent(sizes: list[int], seconds: list[float]) -> float:
    """The k of t ~ n^k: the least-squares slope of log t against log n."""
    xs = [math.log(n) for n in sizes]
    ys = [math.log(max(t, 1e-9)) for t in seconds]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


def scaling(student: Worker, reference: Worker, calls: list[Call], sizes: list[int], *,
            copy_inputs: bool = False) -> tuple[float, float]:
    """Exponents (student, reference) of the time per call over ``calls`` at ``sizes``, each
    size timed like :func:`interleaved` with a smaller budget."""
    pairs = [interleaved(student, reference, call, copy_inputs=copy_inputs, min_rounds=2,
                         max_rounds=3, round_budget=0.015) for call in calls]
    return (exponent(sizes, [s for s, _ in pairs]), exponent(sizes, [r for _, r in pairs]))
