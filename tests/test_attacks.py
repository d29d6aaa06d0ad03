"""The adversarial corpus: student code that tries to break, fool, spy on or outlive the grader.

Each file of ``tests/attacks/`` is a ``linalg.py`` whose ``dot`` attacks the grader (its
docstring says how, and what the grader should do). A test grades a submission folder holding
that ``dot`` followed by the reference's other ``linalg`` functions, plus a correct module of
another topic, and asserts, besides the attacked exercise's exact verdict:

- the grader survives and returns a result, with the zygote it started with;
- the submission's other exercises are graded exactly as in an honest submission;
- no process or thread the attack started (each is named with a unique marker, in its command
  line or its thread name) is alive afterwards, and the sandbox's folder is gone (both within
  ``GRACE_S``: the sandbox is torn down asynchronously; the strict version, nothing alive when
  ``grade`` returns, is its own test);
- nothing was written outside the sandbox (canary paths on the grader's machine), and the
  attack never printed ``LEAK`` (each spying attack prints what it managed to see).

Attacks that end up computing the right answer after their trick score what a correct answer
scores; attacks that return garbage score as wrong, with the normal mismatch message.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from conftest import session_folders
from grader import grading, report
from grader.catalog import ROOT, SOLUTIONS_DIR, catalog, select
from grader.results import ExerciseResult, GradeResult
from grader.sandbox import confine, parent
from grader.sandbox.parent import Limits

ATTACKS_DIR = Path(__file__).resolve().parent / "attacks"
TARGET = "linalg.dot"
#: Another exercise of the attacked module, graded from the same file.
SIBLING = next((i for i in catalog() if i.startswith("linalg.") and i != TARGET), None)
#: An exercise of another topic, whose correct module sits next to the attacked one.
OTHER = next((e.id for e in catalog().values() if e.topic != "linalg" and e.framework == "numpy"
              and (SOLUTIONS_DIR / f"{e.topic}.py").is_file()), None)
IDS = tuple(i for i in (TARGET, SIBLING, OTHER) if i is not None)
#: The grader runs as root (workers then run as a user of their own), or as a user (one user
#: in a user namespace): some attacks are refused in the first case, and harmless in the second.
AS_ROOT = os.geteuid() == 0
GRACE_S = 5.0  # how long the sandbox's processes and folder may take to disappear after grading
MAX = 4.0  # linalg.dot's points

needs_namespaces = pytest.mark.skipif(
    not confine.probe().namespaces,
    reason=f"needs PID, network and mount namespaces: {confine.probe().detail}")


def _readable_by_others(path: str) -> bool:
    """Can a user other than the owner (nobody) reach ``path`` through every folder above it?"""
    parts = Path(path).resolve().parts
    return all(os.stat(os.path.join(*parts[:i])).st_mode & 0o005 == 0o005
               for i in range(1, len(parts) + 1))


#: Without namespaces, a root grader runs workers as nobody in the machine's own file system;
#: where Python lives under a folder nobody cannot enter (pyenv in /root), every module the
#: zygote did not import beforehand fails to import, and exec of Python is refused.
FALLBACK_IMPORT_BUG = pytest.mark.xfail(
    not confine.probe().namespaces and os.geteuid() == 0
    and not _readable_by_others(sys.base_prefix), strict=True,
    reason="without namespaces, as root, workers run as nobody, who cannot enter "
           f"{sys.base_prefix} here: `import concurrent.futures`, np.random, np.testing and "
           "exec of Python fail for correct code; grader doctor should flag it (or the "
           "fallback should not drop to a user that cannot read Python)")


# ----------------------------------------------------------------------------- building

def _reference_rest() -> str:
    """The reference linalg.py without its dot: the submission's other linalg exercises."""
    tree = ast.parse((SOLUTIONS_DIR / "linalg.py").read_text(encoding="utf-8"))
    kept = [node for node in tree.body
            if not (isinstance(node, ast.FunctionDef) and node.name == "dot")
            and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
            and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    return "\n\n\n".join(ast.unparse(node) for node in kept)


def attack_source(name: str, subs: dict[str, str]) -> str:
    text = (ATTACKS_DIR / f"{name}.py").read_text(encoding="utf-8")
    for key, value in subs.items():
        text = text.replace(f"@@{key}@@", value)
    assert "@@" not in text, f"{name}.py has a placeholder the test did not fill"
    return text


def write_submission(folder: Path, linalg: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "linalg.py").write_text(linalg, encoding="utf-8")
    if OTHER is not None:
        topic = OTHER.split(".")[0]
        shutil.copyfile(SOLUTIONS_DIR / f"{topic}.py", folder / f"{topic}.py")
    return folder


def honest_linalg() -> str:
    return (SOLUTIONS_DIR / "linalg.py").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- watching

def marked_processes(marker: str) -> list[int]:
    """Pids on this machine (any namespace) with ``marker`` in the command line or a thread
    name (comm)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                hit = marker.encode() in fh.read()
            for task in os.listdir(f"/proc/{entry}/task"):
                with open(f"/proc/{entry}/task/{task}/comm") as fh:
                    hit = hit or fh.read().strip() == marker
        except OSError:  # the process ended while we looked
            continue
        if hit:
            found.append(int(entry))
    return found


def wait_until(condition, timeout: float = GRACE_S) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _canaries(marker: str, folder: Path) -> list[Path]:
    """Where a write that escaped the sandbox would land (see write_outside.py and friends)."""
    places = [ROOT, ROOT / "solutions", ROOT / "grader" / "bank", folder, Path("/tmp"),
              Path("/root"), Path("/"), Path("/etc"), Path("/usr/lib"), Path("/dev/shm")]
    return [p / marker for p in places] + [Path("/autograder"), folder / "results.json",
                                            ROOT / "results.json"]


def _state(path: Path) -> tuple | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


# ----------------------------------------------------------------------------- expectations

@dataclass(frozen=True)
class Expect:
    """The attacked exercise's verdict; ``message`` must match in full (a regex)."""

    status: str
    score: float
    message: str
    #: regexes the attack's printed output must contain (proof the attack ran as designed)
    output: tuple[str, ...] = ()
    #: "normal": the other exercises are graded as in an honest submission; "import": the
    #: attack acts while linalg.py is imported, so the sibling fails the same way
    siblings: str = "normal"
    #: a regex the diagnosis must match in full (None: no diagnosis expected)
    diagnosis: str | None = None


PASSED = Expect("passed", MAX, r"all 5 checks passed")


@dataclass
class Run:
    result: GradeResult
    marker: str
    folder: Path
    seconds: float
    bases: list[str] = field(default_factory=list)

    def exercise(self, exercise_id: str) -> ExerciseResult:
        return next(e for e in self.result.exercises if e.id == exercise_id)

    @property
    def dot(self) -> ExerciseResult:
        return self.exercise(TARGET)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> dict[str, tuple]:
    """(status, score, message) of every graded exercise for an honest submission."""
    folder = write_submission(tmp_path_factory.mktemp("honest") / "sub", honest_linalg())
    result = grading.grade(submission=folder, ids=IDS, time_it=False)
    found = {e.id: (e.status, e.score, e.message) for e in result.exercises}
    assert found[TARGET] == ("passed", MAX, "all 5 checks passed")
    return found


@pytest.fixture
def attack(tmp_path, baseline):
    """``attack(name, expect, *, limits, subs, time_it) -> Run``: grade the attack and assert
    its verdict and every invariant of the module docstring."""

    def run(name: str, expect: Expect, *, limits: Limits | None = None,
            subs: dict[str, str] | None = None, time_it: bool = False) -> Run:
        marker = f"atk{uuid.uuid4().hex[:10]}"  # fits a thread name (15 characters)
        folder = tmp_path / "class" / f"student-{name}"
        fill = {"MARKER": marker, "REPO": str(ROOT), "SUBMISSION": str(folder),
                "GRADER_PID": str(os.getpid()), "HOLD": "0", **(subs or {})}
        source = attack_source(name, fill) + "\n\n\n# The reference's other functions\n" + \
            _reference_rest() + "\n"
        write_submission(folder, source)
        canaries = {p: _state(p) for p in _canaries(marker, folder)}
        zyg = parent.zygote()
        start = time.monotonic()
        with session_folders() as bases:
            result = grading.grade(submission=folder, ids=IDS, limits=limits or Limits(),
                                   time_it=time_it)
        done = Run(result, marker, folder, time.monotonic() - start, bases)

        _assert_verdict(done.dot, expect)
        _assert_others(done, expect, baseline)
        # The grader's own machinery survived: the same zygote, still running.
        assert parent._zygote is zyg and zyg._proc.poll() is None
        _assert_nothing_left(done, canaries)
        assert (folder / "linalg.py").read_text(encoding="utf-8") == source
        return done

    return run


def _assert_verdict(dot: ExerciseResult, expect: Expect) -> None:
    shown = f"{dot.status} {dot.score}: {dot.message!r}\noutput: {dot.output[:2000]!r}"
    assert (dot.status, dot.score) == (expect.status, expect.score), shown
    assert re.fullmatch(expect.message, dot.message, re.DOTALL), shown
    if expect.diagnosis is None:
        assert dot.diagnosis is None, shown
    else:
        assert re.fullmatch(expect.diagnosis, dot.diagnosis or "", re.DOTALL), shown
    for pattern in expect.output:
        assert re.search(pattern, dot.output), f"no {pattern!r} in the output; {shown}"
    assert "LEAK" not in dot.output, shown


def _assert_nothing_left(done: Run, canaries: dict[Path, tuple | None]) -> None:
    """No process of the attack, no sandbox folder (within GRACE_S), no write outside."""
    assert wait_until(lambda: not marked_processes(done.marker)), \
        f"still alive after grading: {marked_processes(done.marker)}"
    assert wait_until(lambda: not any(os.path.exists(b) for b in done.bases)), \
        f"sandbox folders left behind: {[b for b in done.bases if os.path.exists(b)]}"
    changed = [str(p) for p, before in canaries.items() if _state(p) != before]
    assert not changed, f"written outside the sandbox: {changed}"


def _assert_others(done: Run, expect: Expect, baseline: dict[str, tuple]) -> None:
    for exercise_id in IDS[1:]:
        got = done.exercise(exercise_id)
        if expect.siblings == "import" and exercise_id.startswith("linalg."):
            # Importing linalg.py fails the same way for every exercise it holds.
            assert (got.status, got.score) == (done.dot.status, 0.0)
            assert got.message == done.dot.message.replace(TARGET, exercise_id)
        else:
            assert (got.status, got.score, got.message) == baseline[exercise_id], \
                f"{exercise_id} was not graded as in an honest submission"


# ----------------------------------------------------------------------------- the corpus

ONE_SECOND = Limits(call_seconds=1.0)



def wrong_value(got: str) -> Expect:
    """The normal verdict of a dot that returns the number ``got`` on every check."""
    return Expect("failed", 0.0, r"check 'small': dot for two vectors of length 3: got " + got +
                  r", expected \S+ \(abs diff \S+, rel diff \S+; rtol=1e-12, atol=1e-12\)")


def wrong_type(type_name: str) -> Expect:
    return Expect("failed", 0.0, r"check 'small': dot for two vectors of length 3: expected a "
                                 r"real scalar, got an object of type " + re.escape(type_name))


def non_finite(kind: str) -> Expect:
    return Expect("failed", 0.0, rf"check 'small': dot for two vectors of length 3: 1 element "
                                 rf"with {kind} where the expected value is finite; .*got "
                                 rf"{kind.lower()}, expected \S+",
                  diagnosis=r"your result is NaN or Inf where the expected value is finite.*")


def crashed(how: str) -> Expect:
    return Expect("error", 0.0, rf"linalg\.dot {how} during check 'small'")


# name -> (the attacked exercise's verdict, limits, marks). Attacks that need more than a
# verdict (a listener, a secret, a second student, report rendering) have tests of their own.
TABLE: dict[str, tuple[Expect, Limits | None, tuple]] = {
    # --- limits
    "infinite_loop": (crashed(r"timed out after 1 s"), ONE_SECOND, ()),
    "numpy_cpu_burn": (crashed(r"used more than 1 s of CPU time"),
                       Limits(cpu_seconds=1, call_seconds=10.0), ()),
    "memory_blowup": (crashed(r"exceeded the 4 GiB memory limit"), None, ()),
    "memory_creep": (crashed(r"exceeded the 4 GiB memory limit"), None, ()),
    "fork_bomb": (Expect("passed", MAX, r"all 5 checks passed",
                         output=(r"bomb processes alive: \d{2,}",)), None, ()),
    "huge_file": (Expect("error", 0.0, r"linalg\.dot wrote a file larger than the 1 MiB limit "
                                       r"during check 'small'",
                         output=(r"huge\.bin stopped at 1048576 bytes",)), None, ()),
    "deep_recursion": (Expect("failed", 0.0, r"check 'small': dot raised RecursionError: "
                                             r"maximum recursion depth exceeded .*"), None, ()),
    "stack_overflow": (crashed(r"crashed with SIGSEGV"), None, ()),
    "segfault_ctypes": (crashed(r"crashed with SIGSEGV"), None, ()),
    "abort": (crashed(r"crashed with SIGABRT"), None, ()),
    # --- nothing survives
    "detached_daemon": (Expect("passed", MAX, r"all 5 checks passed",
                               output=(r"daemons alive: 1",)), None, ()),
    "sigterm_ignorer": (Expect("passed", MAX, r"all 5 checks passed",
                               output=(r"ignorer running: exec'd python",)), None,
                        (FALLBACK_IMPORT_BUG,)),
    "thread_left_running": (Expect("passed", MAX, r"all 5 checks passed",
                                   output=(r"thread started",)), None, ()),
    "fork_loop": (Expect("passed", MAX, r"all 5 checks passed",
                         output=(r"hopper seen: True",)), None, ()),
    # --- see and reach
    "network_outside": (Expect("passed", MAX, r"all 5 checks passed", output=(
        r"blocked tcp 1\.1\.1\.1:80", r"blocked tcp 8\.8\.8\.8:53", r"blocked udp 8\.8\.8\.8:53",
        r"blocked dns pypi\.org")), None, (needs_namespaces,)),
    "read_solutions": (Expect("passed", MAX, r"all 5 checks passed", output=(
        r"blocked \S+/solutions/linalg\.py: FileNotFoundError", r"walk found nothing")),
        None, (needs_namespaces,)),
    "read_hidden_checks": (Expect("passed", MAX, r"all 5 checks passed", output=(
        r"blocked import grader\.bank\.linalg: ModuleNotFoundError",
        r"blocked reading the bank: FileNotFoundError", r"modules in memory: none",
        r"grader objects in memory: none")), None, (needs_namespaces,)),
    "write_outside": (Expect("passed", MAX, r"all 5 checks passed", output=(
        # The sandbox's root is read-only. Under /tmp (a clone there) the write lands in the
        # sandbox's own /tmp and vanishes, or is refused where a folder on the way belongs to
        # the sandbox (a mount point for a virtual environment under /tmp).
        r"(blocked \S+/solutions/atk\w+: (OSError|PermissionError)"
        r"|wrote /tmp/\S+/solutions/atk\w+)",
        r"blocked /atk\w+: OSError", r"blocked /etc/atk\w+: OSError")),
        None, (needs_namespaces,)),
    "proc_snooping": (Expect("passed", MAX, r"all 5 checks passed", output=(
        # init, this runner (and init's spare runner): nothing of the grader's machine
        r"visible pids: \[1(, [2-9])*\]; me [2-9], parent 1", r"grader visible: False",
        r"parent mem: blocked PermissionError")), None, (needs_namespaces,)),
    # As root, the session's init runs as another user than the student's code: signals to
    # it are refused. Otherwise (one user in the user namespace) they are sent, and the kernel
    # drops them (SIGKILL, SIGSTOP: init of a PID namespace) or init ignores them.
    "kill_parent": (Expect("passed", MAX, r"all 5 checks passed", output=(
        r"blocked SIGKILL to parent" if AS_ROOT else r"sent SIGKILL to parent",
        r"blocked SIGKILL to the grader's pid")),
        None, (needs_namespaces,)),
    # Every process it sees refuses SIGSTOP (init, and the next runner forked ahead, run as
    # another user) or drops it (init, as one user). kill(-1) then returns success where it
    # sees any process, having signalled none (Linux counts the ones that refuse): full marks
    # show that nothing died.
    # Nothing else of its own user runs in the session while student code does (no spare
    # runner is forked next to it): kill(-1) finds no process it may signal.
    "kill_everything": (Expect("passed", MAX, r"all 5 checks passed",
                               output=((r"\A(could not stop \d+: PermissionError\n)+" if AS_ROOT
                                        else r"\Astopped 1\n")
                                       + r"blocked SIGKILL to -1: ProcessLookupError\n\Z",)), None,
                        (needs_namespaces,)),
    "interrupt_supervisor": (Expect("partial", 3.0, r"check 'small': dot raised PermissionError:"
                                    r" \[Errno 1\] Operation not permitted .*") if AS_ROOT
                             else PASSED, None, (needs_namespaces,)),
    "ptrace_ctypes": (Expect("passed", MAX, r"all 5 checks passed", output=(
        r"ptrace ATTACH 1: Operation not permitted", r"ptrace SEIZE 1: Operation not permitted",
        r"process_vm_readv: Operation not permitted")), None, (needs_namespaces,)),
    # --- forging verdicts
    "patch_numpy": (wrong_value("42"), None, (FALLBACK_IMPORT_BUG,)),
    # Rewired builtins break the worker's own bookkeeping: it dies, the grader scores 0.
    "patch_builtins": (crashed(r"exited with code 70 \(os\._exit, or the interpreter "
                               r"stopped\)"), None, ()),
    "rigged_eq": (wrong_type("linalg.Anything"), None, ()),
    "rigged_float": (wrong_type("linalg.Close"), None, ()),
    "ndarray_subclass": (wrong_value("42"), None, ()),
    "stack_walk": (wrong_value("42"), None, ()),
    "reference_from_disk": (wrong_value("42"), None, (needs_namespaces,)),
    "write_results_files": (wrong_value("42"), None, (needs_namespaces,)),
    "returns_nan": (non_finite("NaN"), None, ()),
    "returns_inf": (non_finite("Inf"), None, ()),
    "base_exception": (Expect("error", 0.0, r"dot ended the program during check 'small': "
                                            r"Escape"), None, ()),
    "keyboard_interrupt": (Expect("error", 0.0, r"dot ended the program during check 'small': "
                                                r"KeyboardInterrupt"), None, ()),
    "sys_exit_in_function": (Expect("error", 0.0, r"dot ended the program during check "
                                                  r"'small': sys\.exit\(0\)"), None, ()),
    "os_exit_in_function": (crashed(r"exited with code 0 \(os\._exit, or the interpreter "
                                    r"stopped\)"), None, ()),
    "sys_exit_at_import": (Expect("error", 0.0, r"importing \S+/linalg\.py ended the program: "
                                                r"sys\.exit\(0\)", siblings="import"), None, ()),
    "os_exit_at_import": (Expect("error", 0.0, r"linalg\.dot exited with code 0 \(os\._exit, or "
                                               r"the interpreter stopped\) while importing "
                                               r"\S*linalg\.py", siblings="import"),
                          None, ()),
    "keyboard_interrupt_at_import": (Expect("error", 0.0, r"importing \S+/linalg\.py ended the "
                                                          r"program: KeyboardInterrupt",
                                            siblings="import"), None, ()),
    # Well-formed forgeries are only the student's own claims about its own values.
    # (a forged 42.0 where dot returned; the check where dot raises ValueError still passes)
    "patch_wire_encode": (Expect("partial", 1.0, wrong_value("42").message), None, ()),
    "forge_socket_reply": (wrong_value("42"), None, ()),
    "forge_malformed_reply": (crashed(r"sent back data the grader cannot read: .*"), None,
                              ()),
    "forge_incomplete_reply": (crashed(r"sent back data the grader cannot read: .*"), None,
                               ()),
    "unsendable_return": (Expect(
        "failed", 0.0, r"check 'small': dot for two vectors of length 3: expected a real "
                       r"scalar, got an object of type list that could not be sent back \(the "
                       r"value is nested too deeply or holds too many items\)"), None, ()),
}


@pytest.mark.parametrize("name", [pytest.param(n, marks=TABLE[n][2]) for n in TABLE])
def test_attack(attack, name):
    expect, limits, _ = TABLE[name]
    attack(name, expect, limits=limits)


# ----------------------------------------------------------------------------- attacks that
# need something from the test (a listener, a secret, a classmate) or are judged further

@needs_namespaces
def test_network_loopback_reaches_no_listener(attack):
    """TCP to 127.0.0.1 and an abstract unix socket, both listening on the grader's machine."""
    abstract = f"grader-attack-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, \
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
        tcp.bind(("127.0.0.1", 0))
        unix.bind("\0" + abstract)
        for listener in (tcp, unix):
            listener.listen(4)
            listener.setblocking(False)
        attack("network_loopback", Expect(
            "passed", MAX, r"all 5 checks passed",
            output=(r"blocked tcp loopback: OSError",
                    r"blocked abstract unix: ConnectionRefusedError")),
            subs={"PORT": str(tcp.getsockname()[1]), "ABSTRACT": abstract})
        for listener in (tcp, unix):
            with pytest.raises(BlockingIOError):  # nobody ever connected
                listener.accept()


@needs_namespaces
def test_environment_secret_is_not_visible(attack, monkeypatch):
    """A secret in the grader's environment (a CI token) must not reach student code."""
    secret_var = "GRADER_ATTACK_TEST_SECRET"
    monkeypatch.setenv(secret_var, f"hunter2-{uuid.uuid4().hex}")
    # The zygote copies the environment when it starts: start one that holds the secret.
    monkeypatch.setattr(parent, "_zygote", None)
    try:
        attack("environ_secret", Expect("passed", MAX, r"all 5 checks passed",
                                        output=(r"environment variables seen: \d+",)),
               subs={"SECRET_VAR": secret_var})
        # Not even the zygote starts with it: a worker could read the environment its process
        # started with in /proc/self/environ.
        with open(f"/proc/{parent._zygote._proc.pid}/environ", "rb") as fh:
            assert secret_var.encode() not in fh.read()
    finally:
        if parent._zygote is not None:
            parent._zygote.close()


@needs_namespaces
def test_other_students_files_are_out_of_reach(attack, tmp_path):
    """Another student's original folder, and the copy an open sandbox session made of it."""
    alice = tmp_path / "class" / "alice"
    alice.mkdir(parents=True)
    (alice / "linalg.py").write_text("ALICE_SECRET = 'alice-was-here'\n", encoding="utf-8")
    with parent.zygote().session(sources=[alice / "linalg.py"]) as alice_session:
        copy = alice_session.source_dir / "linalg.py"
        assert copy.is_file()
        attack("read_other_submission", Expect(
            "passed", MAX, r"all 5 checks passed",
            output=(r"blocked \S+/alice/linalg\.py: FileNotFoundError",
                    r"blocked \S+/src/linalg\.py: FileNotFoundError",
                    r"other sandboxes in /tmp: none",
                    rf"other sandboxes in {re.escape(parent.folders_root())}: none")),
            subs={"OTHER": str(alice / "linalg.py"), "OTHER_COPY": str(copy)})


@FALLBACK_IMPORT_BUG
def test_global_rng_games_change_nothing(attack):
    """The inputs come from the grader's own generators; its global state is its own."""
    before = np.random.get_state()
    attack("global_rng", PASSED)
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1])
    assert before[2:] == after[2:]


def test_mutated_inputs_are_noted_and_change_nothing(attack):
    """Zeroed inputs: the grader judged against its own pristine copies."""
    run = attack("mutate_inputs", Expect(
        "partial", 1.5, r"check 'small': dot for two vectors of length 3: got 0, expected \S+ "
                        r"\(abs diff .*\)"))
    # 0.0 is right for empty vectors; zeroed vectors of lengths 5 and 4 still raise ValueError.
    assert {c.name for c in run.dot.checks if c.status == "passed"} == {"empty",
                                                                          "length_mismatch"}
    note = ("your function changed its input arrays in place; the grader used fresh copies, "
            "but a caller would see its data changed")
    # Empty arrays cannot change, and a call that raised is not inspected.
    assert {c.name for c in run.dot.checks if note in c.notes} == {"small", "length_1000",
                                                                   "integers"}


def test_output_flood_is_truncated(attack):
    run = attack("output_flood", Expect(
        "error", 0.0, r"printed more than (1 MiB|1024 KiB); output truncated"))
    assert run.dot.output_truncated
    assert 0 < len(run.dot.output) <= 64 * 1024
    assert all(c.score == 0 for c in run.dot.checks)


def test_crash_is_reported_at_once_despite_a_socket_holder(attack):
    """A daemon holding the worker's socket must not turn a crash into a time-out."""
    run = attack("crash_with_socket_holder", crashed(r"crashed with SIGABRT"),
                 limits=Limits(call_seconds=5.0))
    assert run.seconds < 4.0


def test_fake_result_lines_stay_printed_output(attack):
    run = attack("fake_result_lines", wrong_value("42"))
    assert "PASS linalg.dot" in run.dot.output  # what the student printed is kept...
    text = report.render_terminal(run.result, verbose=True)
    # ...but only indented under "printed:", never as a report line of its own.
    assert not re.search(r"^(PASS linalg\.dot|Total: 4 / 4$|\{)", text, re.MULTILINE)
    assert re.search(r"^FAIL linalg\.dot +0 / 4", text, re.MULTILINE)
    assert re.search(r"^     printed: PASS linalg\.dot", text, re.MULTILINE)


def test_fake_lines_in_an_exception_message_stay_inert(attack):
    run = attack("fake_lines_in_message", Expect(
        "failed", 0.0, r"check 'small': dot raised RuntimeError: .*PASS.*"))
    text = report.render_terminal(run.result, verbose=True)
    assert "\x1b" not in text and "\r" not in text
    assert not re.search(r"^(\S*PASS\S* linalg\.dot|Total: 4 / 4$)", text, re.MULTILINE)


def test_forged_timing_reply_drops_the_timing(attack):
    run = attack("forge_timing_reply", PASSED, time_it=True)
    assert run.dot.timing is None


@pytest.mark.slow
def test_scratch_folder_has_a_quota(attack):
    run = attack("scratch_disk_fill", Expect("passed", MAX, r"all 5 checks passed",
                                             output=(r"stopped after \d+ MiB",)))
    assert int(re.search(r"stopped after (\d+) MiB", run.dot.output)[1]) <= 256


@needs_namespaces
def test_nothing_of_a_fork_bomb_is_alive_when_grading_returns(tmp_path):
    marker = f"atk{uuid.uuid4().hex[:10]}"
    folder = write_submission(tmp_path / "mallory", attack_source(
        "fork_bomb", {"MARKER": marker, "HOLD": "0"}) + "\n\n\n" + _reference_rest() + "\n")
    result = grading.grade(submission=folder, ids=(TARGET,), time_it=False).exercises[0]
    alive = len(marked_processes(marker))
    assert wait_until(lambda: not marked_processes(marker))  # they do go, later
    assert re.search(r"bomb processes alive: \d{2,}", result.output)
    assert alive == 0, f"{alive} processes of the bomb alive when grading returned"


# ----------------------------------------------------------------------------- classmates

_THREADED_DOT = '''
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def dot(u, v):
    """Correct, in two halves on two threads (unusual, but right)."""
    u, v = np.asarray(u), np.asarray(v)
    if u.ndim != 1 or u.shape != v.shape:
        raise ValueError(f"vectors of different lengths: {u.shape} and {v.shape}")
    half = len(u) // 2
    with ThreadPoolExecutor(2) as pool:
        parts = list(pool.map(lambda s: float(np.dot(u[s], v[s])),
                              (slice(0, half), slice(half, None))))
    return parts[0] + parts[1]
'''


@FALLBACK_IMPORT_BUG
def test_a_threaded_correct_dot_gets_full_marks(tmp_path):
    folder = tmp_path / "threaded"
    folder.mkdir()
    (folder / "linalg.py").write_text(_THREADED_DOT, encoding="utf-8")
    result = grading.grade(submission=folder, ids=(TARGET,), time_it=False).exercises[0]
    assert (result.status, result.score, result.message) == ("passed", MAX,
                                                              "all 5 checks passed")


@pytest.mark.slow
@needs_namespaces
def test_fork_bomb_does_not_starve_a_concurrent_student(tmp_path):
    marker = f"atk{uuid.uuid4().hex[:10]}"
    bomber = write_submission(tmp_path / "mallory", attack_source(
        "fork_bomb", {"MARKER": marker, "HOLD": "3"}) + "\n\n\n" + _reference_rest() + "\n")
    honest = tmp_path / "alice"
    honest.mkdir()
    (honest / "linalg.py").write_text(_THREADED_DOT, encoding="utf-8")
    results: dict[str, GradeResult] = {}
    thread = threading.Thread(target=lambda: results.setdefault("mallory", grading.grade(
        submission=bomber, ids=(TARGET,), time_it=False)))
    thread.start()
    try:
        assert wait_until(lambda: len(marked_processes(marker)) >= 200, timeout=10.0)
        alice = grading.grade(submission=honest, ids=(TARGET,), time_it=False).exercises[0]
    finally:
        thread.join()
        assert wait_until(lambda: not marked_processes(marker))
    assert results["mallory"].exercises[0].status == "passed"
    assert (alice.status, alice.score, alice.message) == ("passed", MAX, "all 5 checks passed")


@needs_namespaces
def test_batch_attacker_does_not_touch_an_honest_classmate(tmp_path):
    """`grader batch` with an attacker reading a classmate's files, both graded in parallel:
    the honest student gets exactly their solo result."""
    try:
        from grader import batch
        from grader.gradebook import Gradebook
    except ImportError as exc:
        pytest.skip(f"grader batch is not available: {exc}")
    class_dir, out = tmp_path / "class", tmp_path / "graded"
    alice = write_submission(class_dir / "alice", honest_linalg())
    spy = attack_source("read_other_submission", {
        "OTHER": str(alice / "linalg.py"),
        "OTHER_COPY": str(out / "_unpacked" / "alice" / "linalg.py")})
    write_submission(class_dir / "mallory", spy + "\n\n\n" + _reference_rest() + "\n")
    exercises = select(IDS)
    solo = grading.grade(submission=alice, exercises=exercises, time_it=False)
    summary = batch.run(submissions_dir=class_dir, out_dir=out, workers=2, exercises=exercises)
    assert summary.grader_failures == 0
    assert [(o.student, o.status) for o in summary.outcomes] == [("alice", "graded"),
                                                                 ("mallory", "graded")]
    # The intake copy the attacker aimed at was there while it ran.
    assert (out / "_unpacked" / "alice" / "linalg.py").is_file()
    book = Gradebook(out / batch.GRADEBOOK)
    try:
        graded = book.load("alice")
        mallory = book.load("mallory")
    finally:
        book.close()

    def verdicts(result: GradeResult) -> list[tuple]:
        return [(e.id, e.status, e.score, e.message,
                 [(c.name, c.status, c.score) for c in e.checks]) for e in result.exercises]

    assert verdicts(graded) == verdicts(solo)
    assert graded.score == solo.score == sum(e.max_score for e in solo.exercises)
    spied = next(e for e in mallory.exercises if e.id == TARGET)
    assert spied.status == "passed" and "LEAK" not in spied.output
    assert spied.output.count("FileNotFoundError") == 2


def _in_a_session_root(scratch: Path, root: Path, look) -> str:
    """``repr(look())`` in a process inside a root built as a session's init builds it (new
    namespaces, then :func:`confine.enter`), with this process's plan of the root."""
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(reading)
            flags = confine.namespace_flags()
            confine._outer_user = ((os.getuid(), os.getgid()) if flags & confine.CLONE_NEWUSER
                                   else None)
            confine._unshare(flags)
            init = os.fork()  # PID 1 of the new PID namespace, as a session's init is
            if init == 0:
                try:
                    confine.enter(str(scratch), str(root))
                    os.write(writing, repr(look()).encode())
                finally:
                    os._exit(0)
            os.waitpid(init, 0)
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as fh:
        seen = fh.read().decode()
    os.waitpid(pid, 0)
    return seen


@needs_namespaces
def test_an_installed_graders_bank_of_checks_is_hidden_in_every_root(monkeypatch, tmp_path):
    """Installed (not editable), the grader sits in site-packages, which every session's root
    binds for Python: its bank of checks is then covered by an empty tmpfs. The plan is made
    once in the zygote, from the machine's folders; here the folder above this tree stands for
    site-packages."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(confine.__file__)))
    monkeypatch.setattr(confine, "_plan", None)
    monkeypatch.setattr(confine, "_python_paths", lambda: [os.path.dirname(package)])
    plan = confine.plan_root()
    assert plan.bank == os.path.join(package, "bank")
    assert [b.source for b in plan.python] == [os.path.dirname(package)]
    assert all(b.remount & confine.MS_RDONLY for b in plan.python)
    assert [b.source for b in plan.system if b.source.startswith("/dev/")][:5] == [
        "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]
    assert all(b.remount == 0 for b in plan.system if b.source.startswith("/dev/"))
    (tmp_path / "scratch" / "src").mkdir(parents=True)
    (tmp_path / "root").mkdir()
    seen = _in_a_session_root(tmp_path / "scratch", tmp_path / "root", lambda: (
        os.listdir(plan.bank), os.path.isfile(os.path.join(package, "catalog.py"))))
    assert seen == "([], True)"  # the package is there, its bank empty

    monkeypatch.setattr(confine, "_plan", None)  # an editable install: the tree is not bound
    monkeypatch.setattr(confine, "_python_paths", lambda: [str(tmp_path)])
    assert confine.plan_root().bank is None


# ----------------------------------------------------------------------------- the corpus itself

SPECIAL = {"network_loopback", "environ_secret", "read_other_submission", "global_rng",
           "mutate_inputs", "output_flood", "crash_with_socket_holder", "fake_result_lines",
           "fake_lines_in_message", "forge_timing_reply", "scratch_disk_fill"}


def test_every_attack_is_graded():
    files = {p.stem for p in ATTACKS_DIR.glob("*.py")}
    assert files == set(TABLE) | SPECIAL
    assert not set(TABLE) & SPECIAL
    assert len(files) >= 25
