"""A warm, clean interpreter that forks workers, so a worker starts in milliseconds.

The grader starts this module once (``python -m grader.sandbox.zygote FD``); it imports numpy
(and torch, when asked) and answers requests on a SOCK_SEQPACKET socket:

- ``preload {modules}``: import them, so later workers start with them loaded;
- ``session {config}`` with one file descriptor (the session's socket): start a *session*, the
  sandbox of one submission: its *init*, one process cloned straight into new namespaces where
  the machine allows them (:func:`grader.sandbox.confine.clone_session`), PID 1 of its PID
  namespace. Init builds the private root (:func:`grader.sandbox.confine.enter`) and serves
  ``spawn`` requests inside the sandbox.
- ``spawn {config}`` (to a session's init) with three file descriptors, the worker's data and
  control channels and the file its output goes to: fork a *runner* (the process that imports
  student code, :mod:`grader.sandbox.runner`) in a process group of its own. Init watches it:
  when it exits, init reports its status on the control channel and kills what is left of its
  group; when the grader asks (or closes the channel), init kills the group at once.
- ``sweep`` (to a session's init): kill every process of the session that is neither a runner
  nor the spare, and say how many there were (the grader asks between two exercises graded
  by one runner).

When the grader closes a session's socket, init returns and the kernel kills every process left
in the namespace. The zygote never runs student code and never initialises CUDA, so forking from
it is safe.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import select
import signal
import socket
import sys

from grader.sandbox import confine

_MAX_REQUEST = 1 << 16
_ENV_KEEP = {"LANG", "TZ", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "PYTHONDONTWRITEBYTECODE", "PYTHONSAFEPATH", "CUDA_VISIBLE_DEVICES",
             "GRADER_NO_NAMESPACES"}
# What the zygote starts with besides: what Python, numpy and torch (CUDA included) may need
# to start. Nothing else of the grader's environment (a CI token, say) ever reaches it: the
# environment a process started with stays readable in /proc/self/environ, in every worker.
_ENV_START = {"PATH", "HOME", "TMPDIR", "VIRTUAL_ENV", "LD_LIBRARY_PATH"}
_ENV_START_PREFIXES = ("PYTHON", "LC_", "CUDA_", "NVIDIA_", "PYTORCH_", "TORCH_", "OMP_", "KMP_",
                       "MKL_", "OPENBLAS_")


def start_environment(environ: dict[str, str]) -> dict[str, str]:
    """The part of ``environ`` the zygote is started with."""
    return {k: v for k, v in environ.items()
            if k in _ENV_KEEP or k in _ENV_START or k.startswith(_ENV_START_PREFIXES)}


# mallopt(3) parameters
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> None:
    """Let glibc's malloc keep the memory a process frees for its next allocations.

    By default a block over 128 KiB is mapped for itself and unmapped when freed, and the heap
    is trimmed as soon as 128 KiB at its top are free: a worker that receives, copies and
    encodes arrays of half a megabyte then faults in fresh pages for every one of them (about
    one page fault in eight of a worker's). With these settings the blocks come from the heap
    and stay there, so the next array reuses pages already paid for. A worker's peak memory,
    which its limit bounds, is unchanged.
    """
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest
        libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    except (OSError, AttributeError):  # not glibc: its own defaults
        pass


def _status(status: int) -> dict:
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"exitcode": os.WEXITSTATUS(status)}


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def _children() -> list[int]:
    """This (single-threaded) process's children, from /proc."""
    pid = os.getpid()
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


class Init:
    """A session's PID 1: forks runners on request and supervises them, in one select loop.

    It is also a child subreaper: whatever a runner leaves behind (a double-forked ``setsid``
    daemon included) becomes init's child when its parent dies, and init kills it when the
    runner ends. With a PID namespace the kernel does the same when init exits; without one,
    this is what still kills the whole tree.
    """

    def __init__(self, sock: socket.socket) -> None:
        confine.become_subreaper()
        self.sock = sock
        self.by_pidfd: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, ctrl)
        self.by_ctrl: dict[socket.socket, int] = {}  # ctrl -> pidfd
        self.spare: tuple[int, socket.socket] | None = None
        self.other_user = False  # runners run as a user of their own (init runs as root)

    def _fork_spare(self) -> None:
        """Fork a runner that waits for its work: the first as the session starts, while the
        grader prepares the first exercise; the next when a runner ends before the session
        does (the grader is likely to ask for a fresh one), never as the session closes."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            os.setsid()  # its own process group, killed as a whole when it ends
            ours.close()
            self.sock.close()
            for ctrl in self.by_ctrl:
                ctrl.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            from grader.sandbox import runner

            runner.wait_for_work(theirs)
        theirs.close()
        self.spare = (pid, ours)

    def spawn(self, data_fd: int, ctrl_fd: int, out_fd: int, config: dict) -> None:
        if self.spare is None:
            self._fork_spare()
        pid, handover = self.spare
        self.spare = None
        try:
            socket.send_fds(handover, [json.dumps(config).encode()], [data_fd, out_fd])
        except OSError:  # the spare died: the runner's death is reported as usual
            pass
        handover.close()
        os.close(data_fd)
        os.close(out_fd)
        ctrl = socket.socket(fileno=ctrl_fd)
        pidfd = os.pidfd_open(pid)
        self.by_pidfd[pidfd] = (pid, ctrl)
        self.by_ctrl[ctrl] = pidfd
        self.sock.send(json.dumps({"runner": pid}).encode())
        if config.get("uid") is not None and config["uid"] != os.getuid():
            self.other_user = True

    def end(self, pidfd: int, report: bool, refill: bool = True) -> None:
        """The runner exited (``report`` its status) or must end now; either way its group
        goes, and init reaps it. With ``refill``, the next runner is forked ahead."""
        pid, ctrl = self.by_pidfd.pop(pidfd)
        del self.by_ctrl[ctrl]
        if not report:
            _killpg(pid)
        _, status = os.waitpid(pid, 0)
        if report:
            try:
                ctrl.sendall((json.dumps(_status(status)) + "\n").encode())
            except OSError:
                pass
        _killpg(pid)
        ctrl.close()
        os.close(pidfd)
        self.sweep()
        # A spare alive next to student code must be out of its reach: forked ahead only
        # where runners run as another user, or where none is running (in a user namespace
        # as a non-root user, runners keep init's user).
        if refill and self.spare is None and (self.other_user or not self.by_pidfd) and (
                not self._closing()):
            self._fork_spare()

    def _closing(self) -> bool:
        """Whether the grader has closed the session (its end is waiting to be read)."""
        try:
            return not self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        except OSError:
            return True

    def sweep(self) -> int:
        """Kill and reap every child that is not a live runner, until none is left; how many
        there were."""
        runners = {pid for pid, _ in self.by_pidfd.values()}
        if self.spare is not None:
            runners.add(self.spare[0])
        killed = 0
        for _ in range(100):  # each round kills a generation; a fork loop needs a few
            strays = [p for p in _children() if p not in runners]
            if not strays:
                return killed
            killed += len(strays)
            for pid in strays:
                _killpg(pid)
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            for pid in strays:
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
        return killed

    def serve(self) -> None:
        self._fork_spare()
        while True:
            ready, _, _ = select.select([self.sock, *self.by_ctrl, *self.by_pidfd], [], [])
            # Ends of runners first: a runner the grader has let go is gone before the next
            # spawn request is served.
            for item in sorted(ready, key=lambda r: r is self.sock):
                if item is self.sock:
                    if not self._request():
                        self.close()
                        return
                elif isinstance(item, int):
                    if item in self.by_pidfd:
                        self.end(item, report=True)
                elif item in self.by_ctrl:
                    self.end(self.by_ctrl[item], report=False)  # "kill" or the grader left

    def close(self) -> None:
        """The grader is done with the session: end everything, then say so."""
        for pidfd in list(self.by_pidfd):
            self.end(pidfd, report=False, refill=False)
        if self.spare is not None:
            _killpg(self.spare[0])
            self.spare[1].close()
            self.spare = None
        self.sweep()
        try:
            self.sock.send(b'{"closed": true}')
        except OSError:
            pass

    def _request(self) -> bool:
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, _MAX_REQUEST, 3)
        except OSError:
            return False
        if not data:
            return False
        request = json.loads(data)
        if request.get("op") == "sweep":
            for fd in fds:
                os.close(fd)
            self.sock.send(json.dumps({"swept": self.sweep()}).encode())
            return True
        self.spawn(fds[0], fds[1], fds[2], request["config"])
        return True


def session(sock: socket.socket, config: dict) -> None:
    """Body of a session's init, just cloned by the zygote (one per submission); never
    returns."""
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # Student code may signal its init: Python's KeyboardInterrupt handler must not be
        # there to end it (a PID namespace's init only ignores signals it has no handler for).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            confined = confine.enter(config["scratch"], config["root"],
                                     scratch_bytes=config["scratch_bytes"])
        except OSError as exc:  # fail closed: no worker rather than an unconfined one
            sock.send(json.dumps({"error": f"the sandbox could not confine the worker: "
                                           f"{exc}"}).encode())
            return
        sock.send(json.dumps({"ready": True, "confined": confined}).encode())
        Init(sock).serve()
    finally:
        os._exit(0)


def serve(sock: socket.socket) -> None:
    """The zygote's loop: preload and session requests until the grader closes the socket."""
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, _MAX_REQUEST, 1)
        except OSError:
            return
        if not data:
            return
        request = json.loads(data)
        if request["op"] == "preload":
            missing = []
            for name in request["modules"]:
                try:
                    __import__(name)
                except ImportError:  # not installed: the exercises that need it say so
                    missing.append(name)
            gc.freeze()
            sock.send(json.dumps({"ok": True, "missing": missing}).encode())
            continue
        (session_fd,) = fds
        try:
            pid = confine.clone_session()
        except OSError as exc:
            os.close(session_fd)
            sock.send(json.dumps({"error": f"the sandbox could not start a session: {exc}"}
                                 ).encode())
            continue
        if pid == 0:
            sock.close()
            session(socket.socket(fileno=session_fd), request["config"])
        os.close(session_fd)
        sock.send(json.dumps({"session": pid}).encode())


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    protections = confine.probe()  # forks a probe child: before SIGCHLD is ignored
    if protections.namespaces:
        confine.plan_root()  # once here, not in every session
    # Sessions are reaped by the kernel; their status is not needed.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    # Ctrl-C in the grader's terminal reaches its whole process group: the zygote ends when
    # its grader has closed its sessions and its socket, not halfway, with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import numpy  # noqa: F401 - the point of the zygote: workers start with numpy loaded
    # numpy loads numpy.random on first use: 13 ms in every worker that draws a number
    # (dropout, most checks' generators) instead of once here.
    import numpy.random  # noqa: F401

    from grader.sandbox import runner  # noqa: F401

    keep_freed_memory()

    # Student code sees only what it needs of the environment (no secrets, no paths of the
    # grader's tree): the grader's variables end here.
    keep = {k: v for k, v in os.environ.items() if k in _ENV_KEEP or k.startswith("LC_")}
    os.environ.clear()
    os.environ.update(keep, PATH="/usr/local/bin:/usr/bin:/bin", HOME="/tmp")
    # Objects that exist now are never collected in the children: the collector then does not
    # touch (and copy) every page a fork shares with this process.
    gc.freeze()
    sock.send(json.dumps({"ready": True, "protections": protections.summary(),
                          "lines": protections.lines()}).encode())
    serve(sock)


if __name__ == "__main__":
    main()
