"""The student's calls in a worker: a check's cases sent as one request, read back case by case
and checked as they are decoded (:func:`run_student_cases`). What the calls returned is judged
in :mod:`grader.judges`.
"""

from __future__ import annotations

import threading
from typing import Any

from grader import devices
from grader.catalog import Case
from grader.judges import CallResult
from grader.sandbox import wire
from grader.sandbox.parent import Worker, WorkerFailure

# Cases whose inputs add up to more than this go one request each: the worker holds the inputs
# of every case of a request at once.
PIPELINE_BYTES = 16 * 2**20


def run_student_cases(worker: Worker, cases: list[Case], device: str = "cpu") -> CaseReplies:
    """The student's results for each of ``cases``, in order, their tensors on ``device``.

    The cases go in one request and the worker replies case by case, so a case that crashes or
    hangs it is still known as that case, and a check costs no round trip of its own. The
    request is sent now, so that it waits in the worker behind the exercise's ``import`` (the
    caller reads the import's reply first, then the cases'). The worker stops after a case
    that ends the program (SystemExit...), as grading does. A reply that is not what an honest
    worker sends (the student's code can write to its socket) ends the worker as a protocol
    failure."""
    return CaseReplies(worker, cases, device)


class CaseReplies:
    """The replies of :func:`run_student_cases`, one list of call results per case."""

    def __init__(self, worker: Worker, cases: list[Case], device: str) -> None:
        self.worker, self.device = worker, device
        obj, blobs = _encoded_cases(cases, device)
        # Past PIPELINE_BYTES, a request per case: the next is sent when the last is answered.
        self.groups = [[case] for case in cases]
        if cases and sum(len(b) for b in blobs) <= PIPELINE_BYTES:
            self.groups = [list(cases)]
        self.sent: list[Case] = []  # sent, not answered yet
        if self.groups:
            self._send(self.groups.pop(0), (obj, blobs) if not self.groups else None)

    def _send(self, group: list[Case], encoded: tuple | None) -> None:
        obj, blobs = encoded or wire.encode([_case_wire(group[0], self.device)])
        self.worker.send({"op": "run_cases", "cases": obj}, blobs)
        self.sent = group

    def __iter__(self) -> CaseReplies:
        return self

    def __next__(self) -> list[CallResult]:
        if not self.sent:
            if not self.groups:
                raise StopIteration
            self._send(self.groups.pop(0), None)
        case = self.sent.pop(0)
        header, out_blobs = self.worker.receive()
        return _case_results(self.worker, case, header, out_blobs)

    def drain(self) -> None:
        """Read and drop the replies to what was sent (the exercise ends before its cases):
        the worker is then ready for the next exercise."""
        while self.sent:
            self.sent.pop(0)
            self.worker.receive()


_ENCODED: dict[tuple, tuple] = {}  # (ids of the cases, device) -> (cases, obj, blobs)
_ENCODED_LOCK = threading.Lock()


def _encoded_cases(cases: list[Case], device: str) -> tuple[Any, list[bytes]]:
    """The cases as the wire encodes them. The same for every submission graded with the same
    seed (the cases come from :func:`grader.grading._prepared`), so encoded once; the entry
    keeps the cases alive, so their ids are not reused while it is there."""
    key = (tuple(map(id, cases)), device)
    with _ENCODED_LOCK:
        hit = _ENCODED.get(key)
    if hit is None:
        hit = (list(cases), *wire.encode([_case_wire(c, device) for c in cases]))
        with _ENCODED_LOCK:
            if len(_ENCODED) >= 256:
                del _ENCODED[next(iter(_ENCODED))]
            _ENCODED[key] = hit
    return hit[1], hit[2]


def _case_wire(case: Case, device: str) -> list:
    return [devices.place(c.to_wire(), device) for c in case.calls]


def _case_results(worker: Worker, case: Case, header: dict, out_blobs: list[bytes]
                  ) -> list[CallResult]:
    try:
        raw = wire.decode(header["results"], out_blobs)
        if not isinstance(raw, list) or len(raw) > len(case.calls):
            raise ValueError("a reply with the wrong number of results")
        results = [_call_result(r) for r in raw]
    except (wire.WireError, KeyError, TypeError, ValueError, AttributeError) as exc:
        worker.kill()
        raise WorkerFailure(f"sent back data the grader cannot read: {exc}", "protocol"
                            ) from None
    while len(results) < len(case.calls):
        results.append(CallResult(missing=True))
    return results


def _call_result(entry: object) -> CallResult:
    if not isinstance(entry, dict):
        raise ValueError("a result that is not a record")
    raised = entry.get("raised")
    if raised is not None:
        if not (isinstance(raised, dict) and isinstance(raised.get("type"), str)
                and isinstance(raised.get("message"), str)
                and isinstance(raised.get("mro"), list)):
            raise ValueError("an exception record without type, message and mro")
        raised.setdefault("where", [])
    return CallResult(value=entry.get("value"), raised=raised,
                      mutated=bool(entry.get("mutated")),
                      forbidden=tuple(str(f) for f in entry.get("forbidden", ())),
                      seconds=float(entry.get("seconds", 0.0)))
