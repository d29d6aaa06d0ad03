"""The sandbox holds for a grader run by a user without root (an instructor's laptop).

Such a grader takes another path than root's: init and the workers are born in a user namespace
of their own, where the grader's user is the only one (the workers cannot run as another user,
as they do under root), and the kernel lets that namespace mount a /proc only where a full one
is still in view. When the suite runs as root (CI), this test runs the adversarial corpus and
the sandbox's own tests again in a grader that is not root: started in a user namespace that
maps root to an ordinary uid, so that everything it does after is what it does for a user.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from grader.catalog import ROOT
from grader.sandbox import confine

MODULES = ["tests/test_attacks.py", "tests/test_sandbox.py", "tests/test_shared_worker.py"]
UID = 1000

# Enters a user namespace in which this (root) process is user UID, then becomes pytest.
AS_USER = f"""
import os, sys
from grader.sandbox import confine
confine._unshare(confine.CLONE_NEWUSER)
confine._write("/proc/self/setgroups", "deny")
confine._write("/proc/self/uid_map", "{UID} 0 1")
confine._write("/proc/self/gid_map", "{UID} 0 1")
assert os.geteuid() == {UID}
os.execv(sys.executable, [sys.executable, "-m", "pytest", *sys.argv[1:]])
"""


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="the suite runs as a user already: every sandbox "
                    "test takes that path")
@pytest.mark.skipif(not confine.probe().namespaces,
                    reason=f"needs user namespaces: {confine.probe().detail}")
def test_the_sandbox_holds_for_a_grader_that_is_not_root(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", AS_USER, "-q", "-p", "no:cacheprovider",
         f"--basetemp={tmp_path / 'pytest'}", *MODULES],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    tail = proc.stdout[-4000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, tail
    summary = proc.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed[1]) >= 100, tail
    assert not re.search(r"failed|error|skipped", summary), tail
