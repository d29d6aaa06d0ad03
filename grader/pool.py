"""Grading processes for a batch: the grader's own work spread over the machine's cores.

:func:`finished` grades a list of submissions in ``workers`` processes forked from the
batch's process and yields each one's outcome as it arrives. Each grading process has a
zygote (and so sandboxes) of its own and grades one submission at a time, the next one
already queued so that its sandbox starts ahead; the batch's process only hands out work and
records what comes back. In threads of one process, the grader's side of a submission (judging,
decoding the worker's replies, rendering reports) runs one thread at a time: on two cores, two
processes grade a class about a fifth faster than two threads.

What a grading process sends back is the grader's own data: a result as the JSON the
gradebook stores, one line per submission. Student code never runs in these processes (it
runs in their sandboxes), and nothing is unpickled.

A grading process that dies (killed, out of memory) costs the submissions it held: each is a
grader failure with the cause, and the others go on in the remaining processes.
"""

from __future__ import annotations

import collections
import json
import os
import selectors
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from grader.gradebook import result_from_dict
from grader.results import GradeResult
from grader.sandbox import parent

T = TypeVar("T")
# (result, error, grader failed, seconds): what grading one submission comes to.
Outcome = tuple[GradeResult | None, str | None, bool, float]

QUEUED = 2  # submissions a grading process holds: the one it grades and the next
STOP_SECONDS = 10.0  # for a grading process told to stop to close its sandboxes and exit


def available() -> bool:
    """Whether grading processes can be forked here (Linux: the sandbox's platform)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


@dataclass
class _Child:
    pid: int
    sock: socket.socket
    held: list[int] = field(default_factory=list)  # indices sent, not answered yet
    buffer: bytearray = field(default_factory=bytearray)
    reaped: bool = False


def finished(items: Sequence[T], work: Callable[[T], Outcome], workers: int
             ) -> Iterator[tuple[T, Outcome]]:
    """``(item, work(item))`` for every item, graded in ``workers`` forked processes, in the
    order they finish. Closing the iterator early stops the processes (:func:`_stop`)."""
    children: list[_Child] = []
    todo = collections.deque(range(len(items)))  # indices not handed out yet
    selector = selectors.DefaultSelector()
    try:
        for _ in range(max(1, min(workers, len(items)))):
            child = _fork(items, work, children)
            children.append(child)
            selector.register(child.sock, selectors.EVENT_READ, child)
            _hand_out(child, todo)
        while selector.get_map():
            for key, _ in selector.select():
                child = key.data
                for index, outcome in _receive(child):
                    yield items[index], outcome
                    _hand_out(child, todo)
                if child.sock.fileno() < 0:  # it ended: whatever it held is lost
                    selector.unregister(key.fileobj)
                    cause = _reap(child)
                    for index in child.held:
                        yield items[index], _lost(f"the grading process {cause} while it held "
                                                  "this submission")
        for index in todo:  # every grading process ended before these were handed out
            yield items[index], _lost("every grading process ended before this submission "
                                      "was graded")
    finally:
        _stop([child for child in children if not child.reaped])
        selector.close()


def _hand_out(child: _Child, todo: collections.deque[int]) -> None:
    """Top up what ``child`` holds; once nothing is left to hand out, tell it so."""
    while len(child.held) < QUEUED:
        if not todo:
            try:
                child.sock.shutdown(socket.SHUT_WR)  # it finishes what it holds, then exits
            except OSError:
                pass
            return
        try:
            child.sock.sendall(f"{todo[0]}\n".encode())
        except OSError:  # it died (noticed when its end is read): the index stays to hand out
            return
        child.held.append(todo.popleft())


def _receive(child: _Child) -> list[tuple[int, Outcome]]:
    """The outcomes that arrived from ``child``; closes its socket when it has ended."""
    try:
        data = child.sock.recv(1 << 20)
    except OSError:
        data = b""
    if not data:
        child.sock.close()
        return []
    child.buffer += data
    done = []
    while (end := child.buffer.find(b"\n")) >= 0:
        line, child.buffer = bytes(child.buffer[:end]), child.buffer[end + 1:]
        message = json.loads(line)
        index = message["i"]
        child.held.remove(index)
        result = message["result"]
        done.append((index, (result_from_dict(result) if result is not None else None,
                             message["error"], message["failed"], message["seconds"])))
    return done


def _reap(child: _Child) -> str:
    """Wait for a grading process that ended; how it ended, in words."""
    _, status = os.waitpid(child.pid, 0)
    child.reaped = True
    if status:  # it died: nothing removed the folders of its sandboxes
        parent.remove_stale_folders(parent.folders_root())
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with status {os.WEXITSTATUS(status)}"


def _stop(children: list[_Child]) -> None:
    """End grading processes still running (the batch stops early: Ctrl-C, an error): each is
    asked to stop, and closes its sandboxes and its zygote; one that has not within
    ``STOP_SECONDS`` is killed (its sandboxes then end with their namespaces). Then the
    folders of the ended processes are removed, whatever they were doing when told."""
    for child in children:
        child.sock.close()
        child.reaped = True
        try:
            os.kill(child.pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + STOP_SECONDS
    for child in children:
        while os.waitpid(child.pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(child.pid, signal.SIGKILL)
                os.waitpid(child.pid, 0)
                break
            time.sleep(0.01)
    if children:  # what one stopped halfway (a session being made, a zygote starting) left
        parent.remove_stale_folders(parent.folders_root())


def _lost(why: str) -> Outcome:
    return None, f"internal grader error: {why}; grade it again", True, 0.0


# ----------------------------------------------------------------------------- the child

def _fork(items: Sequence[T], work: Callable[[T], Outcome], siblings: list[_Child]) -> _Child:
    ours, theirs = socket.socketpair()
    for stream in (sys.stdout, sys.stderr):  # nothing buffered here is written twice
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or gone: nothing to write twice either
            pass
    pid = os.fork()
    if pid == 0:
        ours.close()
        for sibling in siblings:
            sibling.sock.close()
        _serve(theirs, items, work)  # never returns
    theirs.close()
    return _Child(pid, ours)


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(1)  # through the sandboxes' and the zygote's clean-up, then out


def _serve(sock: socket.socket, items: Sequence[Any], work: Callable[[Any], Outcome]) -> None:
    """A grading process: grade each index the batch sends, answer with its outcome; at the
    end of the list, wait until nothing of any sandbox runs, and exit. Never returns."""
    code = 1
    try:
        signal.signal(signal.SIGTERM, _terminate)
        parent.forget_zygote()  # the batch process's zygote is not this process's to use
        with sock.makefile("rb") as requests:
            for line in requests:
                index = int(line)
                result, error, failed, seconds = work(items[index])
                sock.sendall(json.dumps({
                    "i": index, "result": result.to_dict() if result is not None else None,
                    "error": error, "failed": failed, "seconds": seconds}).encode() + b"\n")
        code = 0
    except BaseException:  # noqa: BLE001 - the batch names what this process held
        pass
    finally:
        try:
            parent.close_zygote()
        finally:
            os._exit(code)  # not the batch process's exit handlers (its zygote, its gradebook)
