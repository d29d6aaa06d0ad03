"""Grader side of the sandbox: start workers, talk to them, end them, name what went wrong.

A :class:`Worker` is one runner process (forked by the zygote) with a data channel and a control
channel. Every request has a time limit. When the runner dies, :meth:`Worker.request` raises
:class:`WorkerFailure` whose ``cause`` names it in plain words ("timed out after 10 s",
"crashed with SIGSEGV", "exited with code 3").
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import queue
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import SandboxError
from grader.sandbox import confine, wire
from grader.sandbox import zygote as zygote_module

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
_OUTPUT_KEEP = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-worker limits. Defaults suit the bundled exercises on a laptop."""

    call_seconds: float = 10.0
    cpu_seconds: int = 60
    memory_bytes: int = 4 * 2**30
    output_bytes: int = 2**20
    processes: int = 256
    scratch_bytes: int = 256 * 2**20
    gpu_memory_bytes: int = 4 * 2**30  # torch's CUDA allocator, per worker

    def for_runner(self) -> dict:
        return {"cpu_seconds": self.cpu_seconds, "memory_bytes": self.memory_bytes,
                "file_bytes": self.output_bytes, "processes": self.processes,
                "gpu_memory_bytes": self.gpu_memory_bytes}


class WorkerFailure(Exception):
    """The worker died or ran out of time; ``cause`` says which, for the student."""

    def __init__(self, cause: str, kind: str) -> None:
        super().__init__(cause)
        self.cause = cause
        self.kind = kind  # "timeout", "crash", "exit", "protocol"


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


class Zygote:
    """The warm parent of all workers (one per grader process, shared by its threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._preloaded: set[str] = {"numpy"}
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = zygote_module.start_environment(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_PARENT,
                                                          env.get("PYTHONPATH")]))
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"  # one core per worker: fair timing, parallel batches
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        # `python -m` puts the working folder first on sys.path: an empty folder of its own,
        # never /tmp or the grader's folder, where a student's numpy.py could be found.
        env["PYTHONSAFEPATH"] = "1"
        for folder in {folders_root(), tempfile.gettempdir()}:
            remove_stale_folders(folder)
        self._cwd = tempfile.mkdtemp(prefix=f"{_folder_prefix()}zygote-", dir=folders_root())
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "grader.sandbox.zygote", str(theirs.fileno())],
            pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL, cwd=self._cwd)
        theirs.close()
        self._sock = ours
        self._sock.settimeout(60)
        ready = self._recv()
        if not ready.get("ready"):
            raise SandboxError("the sandbox's zygote did not start")
        self.protections: str = ready.get("protections", "")
        self.protection_lines: list = ready.get("lines", [])
        # Sessions started ahead (session(ahead=True)) and sessions whose end is confirmed in
        # the background (Session.close(wait=False)); settle() waits for both.
        self._spares: list[Session] = []
        self._starting = 0
        self._spare_lock = threading.Lock()
        self._closing: queue.Queue = queue.Queue()
        self._reaper: threading.Thread | None = None

    def _recv(self) -> dict:
        try:
            data = self._sock.recv(1 << 16)
        except OSError as exc:
            raise SandboxError(f"the sandbox's zygote stopped answering: {exc}") from None
        if not data:
            raise SandboxError("the sandbox's zygote exited; run `grader doctor`")
        return json.loads(data)

    def preload(self, modules: list[str]) -> None:
        """Import ``modules`` in the zygote once, so every later worker starts with them."""
        todo = [m for m in modules if m not in self._preloaded]
        if not todo:
            return
        with self._lock:
            self._sock.send(json.dumps({"op": "preload", "modules": todo}).encode())
            self._recv()
        self._preloaded.update(todo)
        self.drop_spares()  # started before: without these modules

    def session(self, *, sources: dict[str, Path] | list[Path] = (),
                limits: Limits | None = None, ahead: bool = False) -> Session:
        """A new session: the sandbox of one submission (see :class:`Session`).

        With ``ahead`` (many submissions to come: a batch), the next session is started in the
        background now, and this one is a session started so before, when there is one: its
        confinement was paid while the grader was busy with something else."""
        scratch_bytes = (limits or Limits()).scratch_bytes
        with self._spare_lock:
            ready = next((s for s in self._spares if s.scratch_bytes == scratch_bytes), None)
            if ready is not None:
                self._spares.remove(ready)
            if ahead and len(self._spares) + self._starting < 2:
                self._starting += 1
                threading.Thread(target=self._start_spare, args=(scratch_bytes,),
                                 daemon=True).start()
        if ready is None:
            return Session(self, sources, scratch_bytes)
        ready.add_sources(sources)
        return ready

    def _start_spare(self, scratch_bytes: int) -> None:
        try:
            spare = Session(self, (), scratch_bytes)
        except (SandboxError, OSError):  # the next session() starts one itself, visibly
            spare = None
        with self._spare_lock:
            self._starting -= 1
            if spare is not None:
                self._spares.append(spare)

    def drop_spares(self) -> None:
        """Close the sessions started ahead (a batch is over, or they lack a preload)."""
        with self._spare_lock:
            spares, self._spares = self._spares, []
        for spare in spares:
            spare.close()

    def reap_later(self, sock: socket.socket, base: str) -> None:
        """Wait in the background for init's word that a session's processes are gone, then
        remove its folder."""
        with self._spare_lock:
            if self._reaper is None:
                self._reaper = threading.Thread(target=self._reap, daemon=True)
                self._reaper.start()
        self._closing.put((sock, base))

    def _reap(self) -> None:
        while True:
            sock, base = self._closing.get()
            _confirm_closed(sock, base)
            self._closing.task_done()

    def settle(self) -> None:
        """Wait until every session closed so far is gone, and close those started ahead:
        afterwards nothing of any submission is running."""
        while True:
            with self._spare_lock:
                if not self._starting:
                    break
            time.sleep(0.005)
        self.drop_spares()
        self._closing.join()

    def spawn(self, config: dict, limits: Limits, *, sources: dict[str, Path] | list[Path] = ()
              ) -> Worker:
        """A worker in a session of its own, closed with the worker's :meth:`Worker.cleanup`."""
        sess = self.session(sources=sources, limits=limits)
        try:
            worker = sess.spawn(config, limits)
        except BaseException:
            sess.close()
            raise
        worker.owned_session = sess
        return worker

    def close(self) -> None:
        self.settle()
        self._sock.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        shutil.rmtree(self._cwd, ignore_errors=True)


def _request(sock: socket.socket, lock: threading.Lock, message: dict, fds: list[int]) -> dict:
    """One request to a zygote or a session's init, passing ``fds``; its JSON reply."""
    with lock:
        socket.send_fds(sock, [json.dumps(message).encode()], fds)
        try:
            data = sock.recv(1 << 16)
        except OSError as exc:
            raise SandboxError(f"the sandbox stopped answering: {exc}") from None
    if not data:
        raise SandboxError("the sandbox exited; run `grader doctor`")
    reply = json.loads(data)
    if "error" in reply:
        raise SandboxError(reply["error"])
    return reply


class Session:
    """The sandbox of one submission: one scratch folder, one set of namespaces.

    Every worker of the submission (see :class:`grader.grading.Sandboxes`) is forked inside it
    by the session's init, so confinement is paid once per submission. The student's files are
    copied into ``source_dir``; the workers see those copies, never the original folder.
    Closing the session ends every process in it and removes its folder.
    """

    def __init__(self, zyg: Zygote, sources: dict[str, Path] | list[Path],
                 scratch_bytes: int = 256 * 2**20) -> None:
        self.zygote = zyg
        self.scratch_bytes = scratch_bytes
        self.base = tempfile.mkdtemp(prefix=_folder_prefix(), dir=folders_root())
        self.scratch = os.path.join(self.base, "work")
        self.source_dir = Path(self.scratch) / "src"
        os.makedirs(self.source_dir)
        self.add_sources(sources)
        # As root, the session's workers run as a user of their own: per-user limits, and
        # signals, then reach only this session's processes. The scratch must be theirs.
        self.uid = random.SystemRandom().randrange(*confine.SESSION_UIDS) \
            if os.geteuid() == 0 else None
        if self.uid is not None:
            os.chmod(self.base, 0o711)  # traversable (not listable) without namespaces
            for folder in (self.scratch, self.source_dir):
                os.chown(folder, self.uid, self.uid)
        os.makedirs(os.path.join(self.base, "root"))
        os.makedirs(os.path.join(self.base, "out"))
        self._lock = threading.Lock()
        self._count = 0
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            _request(zyg._sock, zyg._lock, {"op": "session", "config": {
                "scratch": self.scratch, "root": os.path.join(self.base, "root"),
                "scratch_bytes": scratch_bytes}},
                [theirs.fileno()])
        except BaseException:
            ours.close()
            shutil.rmtree(self.base, ignore_errors=True)
            raise
        finally:
            theirs.close()
        self._sock = ours
        self._sock.settimeout(60)
        try:
            ready = json.loads(self._sock.recv(1 << 16) or b'{"error": "the session exited"}')
        except OSError as exc:
            ready = {"error": f"the session did not start: {exc}"}
        if "error" in ready:
            self.close()
            raise SandboxError(ready["error"])

    def add_sources(self, sources: dict[str, Path] | list[Path]) -> None:
        """Copy the student's files in (workers see ``source_dir`` as it is when they read)."""
        named = sources if isinstance(sources, dict) else {Path(p).name: p for p in sources}
        for name, path in named.items():
            shutil.copyfile(path, self.source_dir / name)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def spawn(self, config: dict, limits: Limits) -> Worker:
        """A fresh worker (runner process) in this session."""
        self._count += 1
        # The output file lives outside the scratch folder: the worker only gets it open.
        output = os.path.join(self.base, "out", f"output-{self._count}")
        out_fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        config = {**config, "scratch": self.scratch, "uid": self.uid,
                  "limits": limits.for_runner(),
                  "sys_path": [str(self.source_dir)] + list(config.get("sys_path", []))}
        data_ours, data_theirs = socket.socketpair()
        ctrl_ours, ctrl_theirs = socket.socketpair()
        try:
            _request(self._sock, self._lock, {"op": "spawn", "config": config},
                     [data_theirs.fileno(), ctrl_theirs.fileno(), out_fd])
        finally:
            data_theirs.close()
            ctrl_theirs.close()
            os.close(out_fd)
        return Worker(data_ours, ctrl_ours, self.base, output, limits, self.source_dir)

    def sweep(self) -> int:
        """Kill the session's processes that are not workers (what a student's code started
        and left behind); how many there were."""
        reply = _request(self._sock, self._lock, {"op": "sweep"}, [])
        swept = reply.get("swept")
        return swept if type(swept) is int else 1

    def close(self, *, wait: bool = True) -> None:
        """End every process of the session: init kills them all as soon as it reads this.
        Then wait until it says they are gone and remove the session's folder, or, without
        ``wait``, leave that to the zygote's background reaper (:meth:`Zygote.settle`)."""
        try:
            self._sock.shutdown(socket.SHUT_WR)  # init sees EOF, ends and sweeps everything
        except OSError:
            pass
        if wait:
            _confirm_closed(self._sock, self.base)
        else:
            self.zygote.reap_later(self._sock, self.base)


def _confirm_closed(sock: socket.socket, base: str) -> None:
    try:
        sock.settimeout(10)
        sock.recv(1 << 10)  # {"closed": true}, or EOF if init is gone already
    except OSError:
        pass
    sock.close()
    shutil.rmtree(base, ignore_errors=True)


_zygote: Zygote | None = None
_zygote_lock = threading.Lock()
_FOLDER = re.compile(r"grader-(\d+)-[\w-]+")


def _folder_prefix() -> str:
    """Sandbox folders are named after the grader process that made them."""
    return f"grader-{os.getpid()}-"


_SHM = "/dev/shm"
_SHM_ROOM = 256 * 2**20


@functools.cache
def folders_root() -> str:
    """Where sandbox folders go: ``/dev/shm`` when it is a memory file system with room and
    ``TMPDIR`` does not say otherwise (making and removing a session's folders there costs a
    fifth of what it costs on a disk: 0.2 ms against 1 ms here), else the temporary folder.
    Their contents are small: the student's files, and what each worker printed (at most the
    output limit)."""
    if os.environ.get("TMPDIR") or not os.access(_SHM, os.W_OK | os.X_OK):
        return tempfile.gettempdir()
    try:
        with open("/proc/mounts") as fh:
            memory = any(line.split()[1:3] == [_SHM, "tmpfs"] for line in fh)
        room = os.statvfs(_SHM)
    except (OSError, IndexError):
        return tempfile.gettempdir()
    if not memory or room.f_bavail * room.f_frsize < _SHM_ROOM:
        return tempfile.gettempdir()
    return _SHM


def remove_stale_folders(tmp: str | None = None) -> list[str]:
    """Remove the sandbox folders that grader processes no longer running left in ``tmp``
    (a grader killed with SIGKILL cannot remove its own); the folders removed."""
    removed = []
    folder = tmp or tempfile.gettempdir()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _FOLDER.fullmatch(entry.name)
        if match is None or not entry.is_dir(follow_symlinks=False):
            continue
        if _running(int(match[1])):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, another user's
        return True
    return True


def settle() -> None:
    """Wait until nothing of any submission graded so far runs (:meth:`Zygote.settle`); starts
    no zygote."""
    with _zygote_lock:
        zyg = _zygote
    if zyg is not None:
        zyg.settle()


def forget_zygote() -> None:
    """In a process just forked from one that may have a zygote: that zygote, its sessions and
    its lock are the other process's; this one starts its own on first use."""
    global _zygote, _zygote_lock
    _zygote, _zygote_lock = None, threading.Lock()


def close_zygote() -> None:
    """Settle and close this process's zygote, if it started one (for a process that ends
    with ``os._exit``, past the exit handler that would)."""
    global _zygote
    with _zygote_lock:
        zyg, _zygote = _zygote, None
    if zyg is not None:
        zyg.close()


def zygote() -> Zygote:
    """The process's zygote, started on first use."""
    global _zygote
    with _zygote_lock:
        if _zygote is None or _zygote._proc.poll() is not None:
            _zygote = Zygote()
            atexit.register(_zygote.close)
        return _zygote


@dataclass
class Worker:
    """One runner process and its channels. Use as a context manager."""

    data: socket.socket
    ctrl: socket.socket
    scratch: str  # the folder removed at cleanup (the worker's scratch and its root mount point)
    output_path: str
    limits: Limits
    source_dir: Path = Path()
    runner_pid: int | None = None
    owned_session: Session | None = None
    _ctrl_buf: bytes = b""
    _dead: WorkerFailure | None = field(default=None)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _ctrl_line(self, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._ctrl_buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.ctrl.settimeout(left)
            try:
                chunk = self.ctrl.recv(4096)
            except (socket.timeout, OSError):
                return None
            if not chunk:
                return None
            self._ctrl_buf += chunk
        line, self._ctrl_buf = self._ctrl_buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, header: dict, blobs: list[bytes] = (), *, timeout: float | None = None
                ) -> tuple[dict, list[bytes]]:
        """Send one request and wait for its reply, at most ``timeout`` seconds."""
        self.send(header, blobs, timeout=timeout)
        return self.receive(timeout=timeout)

    def send(self, header: dict, blobs: list[bytes] = (), *, timeout: float | None = None
             ) -> None:
        """Send one request; its reply, or replies (``run_cases``), come from :meth:`receive`."""
        self._io(lambda: wire.send_message(self.data, header, blobs), timeout)

    def receive(self, *, timeout: float | None = None) -> tuple[dict, list[bytes]]:
        """The worker's next reply, waited for at most ``timeout`` seconds (default: the limit
        per call)."""
        return self._io(lambda: wire.recv_message(self.data), timeout)

    def _io(self, step: Any, timeout: float | None) -> Any:
        if self._dead is not None:
            raise self._dead
        limit = self.limits.call_seconds if timeout is None else timeout
        try:
            self.data.settimeout(limit)
            return step()
        except socket.timeout:
            self._dead = WorkerFailure(f"timed out after {limit:g} s", "timeout")
        except (EOFError, ConnectionError, BrokenPipeError):
            self._dead = self._death()
        except wire.WireError as exc:
            self._dead = WorkerFailure(f"sent back data the grader cannot read: {exc}",
                                       "protocol")
        self.kill()
        raise self._dead

    def _death(self) -> WorkerFailure:
        """Why the runner went away, from the supervisor's report."""
        while True:
            msg = self._ctrl_line(timeout=5.0)
            if msg is None:
                return WorkerFailure("the worker process vanished", "crash")
            if "runner" in msg:
                self.runner_pid = msg["runner"]
                continue
            if "error" in msg:
                raise SandboxError(msg["error"])
            if "signal" in msg:
                name = _signal_name(msg["signal"])
                if msg["signal"] == signal.SIGXCPU:
                    return WorkerFailure(f"used more than {self.limits.cpu_seconds} s of CPU time",
                                         "timeout")
                return WorkerFailure(f"crashed with {name}", "crash")
            return WorkerFailure(f"exited with code {msg.get('exitcode')} (os._exit, or the "
                                 "interpreter stopped)", "exit")

    def output(self) -> tuple[str, bool]:
        """What the student's code printed (first 64 KiB) and whether it hit the output limit."""
        try:
            # The student may have replaced the file with a link or a FIFO: never follow one.
            fd = os.open(self.output_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return "", False
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                return "", False
            size = info.st_size
            text = fh.read(_OUTPUT_KEEP).decode("utf-8", "replace")
        return text, size >= self.limits.output_bytes

    def is_clean(self, meanwhile: Any = None) -> bool:
        """Whether nothing of the student's is still running in the worker (no thread besides
        the runner's, no child process): only then may it grade another exercise.
        ``meanwhile()`` (when given) runs while the worker answers, and must return True too."""
        try:
            self.send({"op": "state"}, timeout=2.0)
            other = meanwhile() if meanwhile is not None else True
            header, _ = self.receive(timeout=2.0)
        except WorkerFailure:
            return False
        return other and all(type(header.get(k)) is int and header[k] == 0
                             for k in ("threads", "children"))

    def kill(self) -> None:
        try:
            self.ctrl.sendall(b"kill\n")
        except OSError:
            pass

    def close(self) -> None:
        if self._dead is None:
            try:
                self.data.settimeout(1.0)
                wire.send_message(self.data, {"op": "bye"})
            except OSError:
                pass
        self.data.close()
        self.ctrl.close()  # the supervisor sees EOF and kills the runner's process group

    def cleanup(self) -> None:
        """Remove what this worker left: its session when it owns one, else its output."""
        if self.owned_session is not None:
            self.owned_session.close()
        else:
            try:
                os.unlink(self.output_path)
            except OSError:
                pass
