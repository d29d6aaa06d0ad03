"""Grading processes of a batch (grader.pool): every submission graded once, in processes of
their own, each outcome back intact; a process that dies costs only what it held."""

from __future__ import annotations

import collections
import os
import signal
import socket
import time

from conftest import child_processes
from grader import pool
from grader.gradebook import result_to_json
from grader.results import CheckResult, ExerciseResult, GradeResult

LOST = ("internal grader error: the grading process was killed by SIGKILL while it held this "
        "submission; grade it again")


def _work(item: str):
    if item == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if item == "slow":
        time.sleep(30)
    return None, f"graded {item} in {os.getpid()}", False, 0.5


def test_every_submission_is_graded_once_in_processes_other_than_this_one():
    items = [f"s{i}" for i in range(9)]
    got = list(pool.finished(items, _work, 2))
    assert sorted(item for item, _ in got) == items
    pids = set()
    for item, (result, message, failed, seconds) in got:
        graded, pid = message.rsplit(" in ", 1)
        assert (result, graded, failed, seconds) == (None, f"graded {item}", False, 0.5)
        pids.add(int(pid))
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_a_result_comes_back_as_the_gradebook_would_store_it():
    result = GradeResult("alice", 7, "0.1.0", [ExerciseResult(
        "linalg.dot", "Dot product", 4.0, "partial", 1.5, "check 'small': got 3, expected 2",
        checks=[CheckResult("small", 1.0, "failed", 0.0, "got 3, expected 2"),
                CheckResult("big", 1.5, "passed", 1.5, "")])],
        "sandbox: separate processes", ["a note"])
    [(item, (back, error, failed, seconds))] = pool.finished(
        ["alice"], lambda _: (result, None, False, 0.25), 2)
    assert (item, error, failed, seconds) == ("alice", None, False, 0.25)
    assert back == result
    assert result_to_json(back) == result_to_json(result)


def test_a_grading_process_that_dies_costs_what_it_held_and_nothing_more():
    items = ["a", "die", "b", "c", "d", "e", "f"]
    got = dict(pool.finished(items, _work, 2))
    assert sorted(got) == sorted(items)
    lost = {item for item, outcome in got.items() if outcome[2]}
    assert "die" in lost and len(lost) <= pool.QUEUED
    for item in lost:
        assert got[item] == (None, LOST, True, 0.0)
    for item in set(items) - lost:
        assert got[item][1].startswith(f"graded {item} in ")


def test_stopping_early_ends_the_grading_processes():
    before = child_processes()
    finished = pool.finished(["a", "slow", "slow", "slow"], _work, 2)
    item, outcome = next(finished)
    assert (item, outcome[1].startswith("graded a in ")) == ("a", True)
    assert len(child_processes() - before) == 2
    finished.close()  # as an interrupted batch does
    assert child_processes() <= before


def test_submissions_left_when_every_grading_process_died_are_grader_failures():
    got = dict(pool.finished(["die", "a", "b", "c", "d"], _work, 1))
    assert got["die"] == (None, LOST, True, 0.0)
    assert got["a"] == (None, LOST, True, 0.0)  # held next, as the process died
    for item in "bcd":
        assert got[item] == (None, "internal grader error: every grading process ended before "
                                   "this submission was graded; grade it again", True, 0.0)


def test_a_submission_handed_to_a_process_that_just_died_stays_to_hand_out():
    # The process died after its last answer and before the batch read its end: the send
    # fails, and the submission goes to another process (it used to be dropped, unreported).
    ours, theirs = socket.socketpair()
    theirs.close()
    child, todo = pool._Child(0, ours), collections.deque([5, 6])
    pool._hand_out(child, todo)
    assert (child.held, list(todo)) == ([], [5, 6])
    ours.close()
