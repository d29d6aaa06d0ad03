"""A warm, clean interpreter that forks workers, so a worker starts in milliseconds.

The grader starts this module once (``python -m grader.sandbox.zygote FD``); it imports numpy
(and torch, when asked) and then waits on a SOCK_SEQPACKET socket for ``spawn`` requests. Each
request carries two file descriptors, the worker's data channel and its control channel. For
each, the zygote forks a *supervisor* that starts a new session, forks the *runner* (the process
that imports student code, :mod:`grader.sandbox.runner`), reports the runner's exit status on
the control channel, and when the runner ends or the grader asks (or goes away) kills the
runner's whole process group.

The zygote never runs student code and never initialises CUDA, so forking from it is safe.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys

from grader.sandbox import confine

_MAX_REQUEST = 1 << 16


def _status(status: int) -> dict:
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"exitcode": os.WEXITSTATUS(status)}


def supervise(data_fd: int, ctrl_fd: int, config: dict) -> None:
    """Body of the supervisor process; never returns."""
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        ctrl = socket.socket(fileno=ctrl_fd)
        try:
            config["confined"] = confine.enter(config["scratch"], config["root"])
        except OSError as exc:  # fail closed: no worker rather than an unconfined one
            ctrl.sendall((json.dumps({"error": f"the sandbox could not confine the worker: "
                                               f"{exc}"}) + "\n").encode())
            return
        pid = os.fork()
        if pid == 0:
            ctrl.close()
            from grader.sandbox import runner

            runner.main(data_fd, config)
        os.close(data_fd)
        ctrl.sendall((json.dumps({"runner": pid}) + "\n").encode())
        pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
        status = _wait(ctrl, pid, pidfd)
        if status is not None:
            try:
                ctrl.sendall((json.dumps(_status(status)) + "\n").encode())
            except OSError:
                pass
    finally:
        # Everything the runner started and left in its group goes with it, the supervisor too.
        os.killpg(os.getpgid(0), signal.SIGKILL)
        os._exit(0)


def _wait(ctrl: socket.socket, pid: int, pidfd: int | None) -> int | None:
    """Wait until the runner exits (its status) or the grader asks to end it (None)."""
    watch = [ctrl] + ([pidfd] if pidfd is not None else [])
    while True:
        ready, _, _ = select.select(watch, [], [], None if pidfd is not None else 0.01)
        if ctrl in ready:
            return None  # "kill" or the grader closed the channel: end it all
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status


def serve(sock: socket.socket) -> None:
    """Answer spawn and preload requests until the grader closes the socket."""
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, _MAX_REQUEST, 2)
        except OSError:
            return
        if not data:
            return
        request = json.loads(data)
        if request["op"] == "preload":
            for name in request["modules"]:
                __import__(name)
            sock.send(b'{"ok": true}')
            continue
        data_fd, ctrl_fd = fds
        pid = os.fork()
        if pid == 0:
            sock.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            supervise(data_fd, ctrl_fd, request["config"])
        os.close(data_fd)
        os.close(ctrl_fd)
        sock.send(json.dumps({"supervisor": pid}).encode())


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    protections = confine.probe()  # forks a probe child: before SIGCHLD is ignored
    # Supervisors are reaped by the kernel; their status is not needed (they report their own).
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    import numpy  # noqa: F401 - the point of the zygote: workers start with numpy loaded

    from grader.sandbox import runner  # noqa: F401

    sock.send(json.dumps({"ready": True, "protections": protections.summary(),
                          "lines": protections.lines()}).encode())
    serve(sock)


if __name__ == "__main__":
    main()
