"""Worker side: the only code that runs in the same process as student code.

It imports one student module, runs the calls the grader asks for on fresh copies of the
inputs, and sends back plain data (:mod:`grader.sandbox.wire`). It never holds an expected
value, a hidden check's judge or reference code: the grader keeps those in its own process.
Whatever the student's code does here can only change what this process reports about the
student's own functions.

Requests (the ``op`` of a message) and replies:

- ``import {file, name, functions, forbidden?}`` -> ``{ok, missing}`` or ``{error}``: the
  start of an exercise. The module is executed afresh (its globals are new), what was printed
  so far is dropped, and ``forbidden`` (when given) names the calls this exercise forbids.
- ``run_cases {cases}`` -> one ``{results}`` per case: per call ``{value}`` or ``{raised}``,
  ``mutated``, ``seconds``
- ``time {call?, budget, max_reps, copy}`` -> ``{times}`` (without ``call``: the last one)
  (seconds per call) or ``{raised}``
- ``state`` -> ``{threads, children}``: what is still running in the worker besides the
  runner, so that the grader can tell whether it is clean enough for the next exercise
- ``bye`` -> the process exits

One worker may grade several exercises of a submission in turn (:mod:`grader.grading` says
when): every exercise starts with ``import``.
"""

from __future__ import annotations

import copy
import importlib.abc
import importlib.util
import json
import os
import resource
import signal
import socket
import sys
import time
import traceback
import types
from typing import Any

import numpy as np

from grader.sandbox import confine, wire

_MAX_MESSAGE = 2000


class ForbiddenCallError(Exception):
    """Raised in the worker when student code calls a function the exercise forbids."""


class Runner:
    """State of one worker: the student module, forbidden calls seen, the channel."""

    def __init__(self, sock: socket.socket, config: dict) -> None:
        self.sock = sock
        self.config = config
        self.module: Any = None
        self.forbidden_used: list[str] = []
        # The forbidden calls of the exercise being graded: stubs for every name in the
        # config's ``forbidden`` are installed, and raise only for these.
        self.active_forbidden: set[str] = set(config.get("forbidden", []))
        self.codes: dict[str, Any] = {}  # compiled student modules, by file
        self.timed_call: dict | None = None
        # The submission's own files, as paths modules are loaded from (given or resolved).
        self.source_prefixes = tuple({d + os.sep for p in config.get("sys_path", [])
                                      for d in (p, os.path.realpath(p))})
        # The modules loaded before any student code ran: never the submission's own.
        self.baseline = dict(sys.modules)
        self.gpu_memory_bytes = int(config.get("limits", {}).get("gpu_memory_bytes", 2**32))
        self.gpu_limited = False

    # ------------------------------------------------------------------ dispatch
    def serve(self) -> None:
        while True:
            try:
                header, blobs = wire.recv_message(self.sock)
            except (EOFError, OSError):
                return
            op = header.get("op")
            if op == "bye":
                return
            handler = {"import": self.do_import, "run_cases": self.do_run_cases,
                       "time": self.do_time, "state": self.do_state}[op]
            handler(header, blobs)

    def reply(self, header: dict, blobs: list[bytes] = ()) -> None:
        # What the student printed is on disk before the grader reads it.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - a stream the student broke
                pass
        wire.send_message(self.sock, header, blobs)

    # ------------------------------------------------------------------ import
    def do_import(self, header: dict, blobs: list[bytes]) -> None:
        path, name = header["file"], header["name"]
        if "forbidden" in header:
            self.active_forbidden = set(header["forbidden"])
        self.timed_call = None
        _drop_output()
        try:
            self.forget_student_modules()
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            if path not in self.codes:  # compiled once; executed afresh for every exercise
                self.codes[path] = spec.loader.get_code(name)
            exec(self.codes[path], module.__dict__)
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything
            self.module = None  # the cases sent behind this import are not run
            self.reply({"error": self.describe(exc)})
            return
        self.module = module
        missing = [f for f in header["functions"] if not callable(getattr(module, f, None))]
        self.reply({"ok": True, "missing": missing})

    def forget_student_modules(self) -> None:
        """Drop the submission's modules an earlier exercise imported (a helper module the
        exercise's file imports): each exercise imports them afresh, with new globals."""
        for key, module in list(sys.modules.items()):
            if self.baseline.get(key) is module:
                continue  # (getattr on numpy's modules runs their __getattr__: 0.3 ms in all)
            file = getattr(module, "__file__", None)
            if isinstance(file, str) and file.startswith(self.source_prefixes):
                del sys.modules[key]

    def do_state(self, header: dict, blobs: list[bytes]) -> None:
        self.reply({"threads": _count_threads() - 1, "children": len(_children())})

    # ------------------------------------------------------------------ calls
    def function(self, name: Any) -> Any:
        """A function of the module under test by name, or the check's own (built from a Fn)."""
        return getattr(self.module, name) if isinstance(name, str) else name

    def make_function(self, spec: wire.Fn) -> Any:
        return wire.build_function(spec, self.module)

    def make_tensor(self, spec: wire.TensorInput) -> Any:
        import torch  # only torch exercises send tensors

        if spec.device.startswith("cuda") and not self.gpu_limited:
            self.limit_gpu(torch, spec.device)
        tensor = torch.as_tensor(spec.array, dtype=getattr(torch, spec.dtype), device=spec.device)
        return tensor.requires_grad_(spec.requires_grad)

    def limit_gpu(self, torch: Any, device: str) -> None:
        """This worker's share of the GPU: torch's caching allocator refuses (an out-of-memory
        error the student sees) past ``gpu_memory_bytes``. CUDA starts here, in the worker,
        never in a process that forks later."""
        if not torch.cuda.is_available():
            raise RuntimeError(f"the grader asked for {device}, but CUDA is not available in "
                               "the worker")
        total = torch.cuda.get_device_properties(device).total_memory
        share = min(1.0, self.gpu_memory_bytes / total)
        torch.cuda.set_per_process_memory_fraction(share, device)
        self.gpu_limited = True

    def resolve(self, value: Any, outputs: list[Any]) -> Any:
        if isinstance(value, wire.Out):
            result = outputs[value.call]
            for key in value.path:
                result = result[key]
            return result
        if isinstance(value, tuple):
            return tuple(self.resolve(v, outputs) for v in value)
        if isinstance(value, list):
            return [self.resolve(v, outputs) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v, outputs) for k, v in value.items()}
        return value

    def do_run_cases(self, header: dict, blobs: list[bytes]) -> None:
        """One reply per case, in order; none after a case that ended the program. After an
        import that failed, an empty reply per case: no code of an earlier exercise runs."""
        for calls in header["cases"]:
            if self.module is None:
                self.reply({"results": []})
            elif self.run_calls(calls, blobs):
                return

    def run_calls(self, encoded: Any, blobs: list[bytes]) -> bool:
        """Run one case's calls and reply with their results; True when a call raised a
        BaseException that is not an Exception (SystemExit...): the exercise ends there."""
        calls = wire.decode(encoded, blobs, make_tensor=self.make_tensor,
                            make_function=self.make_function)
        ended = False
        outputs: list[Any] = []
        results: list[dict] = []
        enc = wire.Encoder()  # one blob table; each value is encoded as soon as it is made
        for call in calls:
            try:
                args = self.resolve(call["args"], outputs)
                kwargs = self.resolve(call["kwargs"], outputs)
            except Exception:  # noqa: BLE001 - an earlier result (None, raised) has no such item
                break  # this call and the later ones come back as not called
            before = _snapshot(args, kwargs)
            used_before = len(self.forbidden_used)
            start = time.perf_counter()
            try:
                value = self.function(call["func"])(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001
                results.append({"raised": self.describe(exc, since=used_before),
                                "seconds": time.perf_counter() - start})
                if not isinstance(exc, Exception):
                    ended = True
                    break  # SystemExit, KeyboardInterrupt...: the exercise ends here
                outputs.append(None)
                continue
            seconds = time.perf_counter() - start
            outputs.append(value)
            entry: dict = {"seconds": seconds, "mutated": _changed(before)}
            if len(self.forbidden_used) > used_before:
                entry["forbidden"] = sorted(set(self.forbidden_used[used_before:]))
            if call.get("send", True):
                picked = value
                try:
                    for key in call.get("pick", ()):
                        picked = picked[key]
                except Exception:  # noqa: BLE001 - no such item: send the whole result
                    picked = value
                # Now, not after the last call: a later call may update these arrays in place.
                entry["value"] = _encode_now(enc, picked)
            results.append(entry)
        self.reply({"results": [_encoded_entry(enc, e) for e in results]}, enc.blobs)
        return ended

    def do_time(self, header: dict, blobs: list[bytes]) -> None:
        if "call" in header:  # later rounds reuse it: large inputs cross the wire once
            self.timed_call = wire.decode(header["call"], blobs, make_tensor=self.make_tensor,
                                          make_function=self.make_function)
        call = self.timed_call
        func = self.function(call["func"])
        budget, max_reps = float(header["budget"]), int(header["max_reps"])
        fresh = bool(header.get("copy", True))  # False when the function leaves inputs alone
        sync = _synchronizer()
        times: list[float] = []
        # The budget is wall time, copies of the inputs included, so large inputs cost few reps.
        deadline = time.perf_counter() + budget
        try:
            while len(times) < max_reps and (time.perf_counter() < deadline or not times):
                args, kwargs = call["args"], call["kwargs"]
                if fresh:
                    args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
                start = time.perf_counter()
                func(*args, **kwargs)
                sync()
                times.append(time.perf_counter() - start)
        except BaseException as exc:  # noqa: BLE001
            self.reply({"raised": self.describe(exc)})
            return
        self.reply({"times": times})

    # ------------------------------------------------------------------ errors
    def describe(self, exc: BaseException, *, since: int = 0) -> dict:
        """An exception as plain data, with the traceback cut to the student's own frames;
        ``forbidden`` lists the forbidden calls made since ``since`` (this call's, not an
        earlier check's)."""
        cls = type(exc)
        info = {
            "type": cls.__name__,
            "mro": [c.__name__ for c in cls.__mro__ if c.__module__ == "builtins"],
            "message": _safe_str(exc)[:_MAX_MESSAGE],
            "base": not isinstance(exc, Exception),
            "where": self.student_frames(exc),
        }
        if isinstance(exc, SyntaxError):
            info["file"] = os.path.basename(exc.filename or "")
            info["line"] = exc.lineno
            info["message"] = _safe_str(exc.msg)[:_MAX_MESSAGE]
        if isinstance(exc, SystemExit):
            info["message"] = f"sys.exit({_safe_str(exc.code)[:100]})"
        if isinstance(exc, ForbiddenCallError) or len(self.forbidden_used) > since:
            info["forbidden"] = sorted(set(self.forbidden_used[since:]))
        return info

    def student_frames(self, exc: BaseException) -> list[list]:
        frames = []
        try:
            for frame in traceback.extract_tb(exc.__traceback__):
                real = os.path.realpath(frame.filename)
                if real.startswith(self.source_prefixes):
                    frames.append([os.path.basename(frame.filename), frame.lineno, frame.name,
                                   (frame.line or "")[:200]])
        except Exception:  # noqa: BLE001 - a traceback we cannot read is left out
            return []
        return frames[-5:]


def _sendable(value: Any) -> Any:
    """``value``, or an :class:`~grader.sandbox.wire.Opaque` saying why it cannot be sent."""
    try:
        wire.encode(value)
    except wire.WireError as exc:
        return wire.Opaque(f"{type(value).__name__} that could not be sent back ({exc})")
    except BaseException as exc:  # noqa: BLE001 - student code (a __torch_function__) raised
        return wire.Opaque(f"{type(value).__name__} that could not be sent back (encoding it "
                           f"raised {type(exc).__name__})")
    return value


def _encode_now(enc: wire.Encoder, value: Any) -> Any:
    """``value`` encoded into ``enc``, or an Opaque saying why it could not be sent."""
    blobs, items = len(enc.blobs), enc.items
    try:
        return enc.encode(value)
    except BaseException:  # noqa: BLE001 - a value the wire refuses, or whose encoding raised
        # Undo the partial encoding, the item count included: past MAX_ITEMS the stand-in
        # would be refused too, and the worker would end.
        del enc.blobs[blobs:]
        enc.items = items
        return enc.encode(_sendable(value))


def _encoded_entry(enc: wire.Encoder, entry: dict) -> Any:
    """A result entry as the wire encodes a dict, its value already encoded."""
    obj = enc.encode({k: v for k, v in entry.items() if k != "value"})
    if "value" in entry:
        obj["$d"].append(["value", entry["value"]])
    return obj


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except BaseException:  # noqa: BLE001 - a __str__ that raises
        return f"<{type(value).__name__} whose str() raised>"


def _arrays(value: Any) -> list[np.ndarray]:
    if type(value) is np.ndarray:
        return [value]
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in _arrays(v)]
    if isinstance(value, dict):
        return [a for v in value.values() for a in _arrays(v)]
    return []


def _snapshot(*values: Any) -> list[tuple[np.ndarray, bytes]]:
    """The input arrays, by identity, with copies of their bytes (a copy and a comparison
    cost a fraction of hashing them)."""
    return [(arr, arr.tobytes()) for arr in _arrays(values)]


def _changed(before: list[tuple[np.ndarray, bytes]]) -> bool:
    """Whether the call wrote into one of its input arrays (not: rebound a dict entry)."""
    return any(arr.tobytes() != contents for arr, contents in before)


def _drop_output() -> None:
    """Empty the output file (the grader has read what the last exercise printed)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a stream the student broke
            pass
    try:
        os.ftruncate(1, 0)
        os.lseek(1, 0, os.SEEK_SET)
    except OSError:  # fd 1 is no longer the output file: the student's own doing
        pass


def _count_threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1 << 30  # unknown: counted as not clean


def _children() -> list[str]:
    """Pids of this process's children (of all its threads)."""
    found: list[str] = []
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/children") as fh:
                found += fh.read().split()
    except OSError:
        return ["?"]
    return found


def _synchronizer() -> Any:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        return torch.cuda.synchronize
    return lambda: None


# ---------------------------------------------------------------------- forbidden calls

class _ForbidHook(importlib.abc.MetaPathFinder):
    """Patches forbidden functions into modules imported after the worker starts."""

    def __init__(self, runner: Runner, targets: dict[str, list[str]]) -> None:
        self.runner, self.targets = runner, targets

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in self.targets:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                exec_module = spec.loader.exec_module
                hook = self

                class _Loader(type(spec.loader)):  # type: ignore[misc]
                    def exec_module(self, module: Any) -> None:
                        exec_module(module)
                        hook.patch(module, hook.targets[fullname])

                try:
                    spec.loader.__class__ = _Loader
                except TypeError:
                    return spec
                return spec
        return None

    def patch(self, module: Any, names: list[str]) -> None:
        for attr in names:
            if hasattr(module, attr):
                setattr(module, attr, _forbidden(self.runner, f"{module.__name__}.{attr}",
                                                 getattr(module, attr)))


def _forbidden(runner: Runner, qualname: str, original: Any) -> Any:
    """A stand-in for ``original`` that raises while the exercise being graded forbids it."""
    def blocked(*args: Any, **kwargs: Any) -> Any:
        if qualname not in runner.active_forbidden:
            return original(*args, **kwargs)
        runner.forbidden_used.append(qualname)
        raise ForbiddenCallError(f"{qualname} is not allowed in this exercise")

    blocked.__name__ = qualname.rsplit(".", 1)[-1]
    return blocked


def install_forbidden(runner: Runner, names: list[str]) -> None:
    """Replace each dotted ``module.function`` with a stub that records the call and raises."""
    targets: dict[str, list[str]] = {}
    for dotted in names:
        module, attr = dotted.rsplit(".", 1)
        targets.setdefault(module, []).append(attr)
    hook = _ForbidHook(runner, targets)
    for module, attrs in targets.items():
        if module in sys.modules:
            hook.patch(sys.modules[module], attrs)
    sys.meta_path.insert(0, hook)


# ---------------------------------------------------------------------- process setup

def apply_limits(limits: dict, *, gpu: bool = False) -> None:
    """Resource limits of this worker (inherited by anything it starts).

    On a GPU worker the memory limit is on the data segment, not the address space: CUDA
    reserves tens of GiB of address space it never touches, and would not start under
    RLIMIT_AS. GPU memory is limited by torch's allocator (:meth:`Runner.make_tensor`).
    """
    if limits.get("memory_bytes"):
        kind = resource.RLIMIT_DATA if gpu else resource.RLIMIT_AS
        resource.setrlimit(kind, (limits["memory_bytes"],) * 2)
    if limits.get("cpu_seconds"):
        cpu = int(limits["cpu_seconds"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    if limits.get("processes") and os.getuid() >= confine.SESSION_UIDS[0]:
        # Counted per user: meaningful for the session's own user only.
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"],) * 2)
    if limits.get("file_bytes"):
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"],) * 2)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def wait_for_work(handover: socket.socket) -> None:
    """A spare runner: warm up, then wait for a worker's config and data channel; never
    returns. Warming up here (:func:`_warm_up`) copies the pages a first request would touch
    while nobody waits."""
    try:
        _warm_up()
        data, fds, _, _ = socket.recv_fds(handover, 1 << 16, 2)
        handover.close()
        if not data or len(fds) != 2:
            os._exit(0)
        config = json.loads(data)
    except BaseException:  # noqa: BLE001
        os._exit(0)
    main(fds[0], config, fds[1])


def _warm_up() -> None:
    """One request's path, end to end, on a function of our own: decoding a case, calling,
    checking the inputs, encoding and sending the results, compiling and executing a module."""
    ours, theirs = socket.socketpair()
    runner = Runner(ours, {})
    runner.module = types.ModuleType("_warm_up")
    exec(compile("import numpy as np\n\ndef f(x, y=0):\n    return np.asarray(x) * 2 + y\n",
                 "<warm-up>", "exec"), runner.module.__dict__)
    obj, blobs = wire.encode([{"func": "f", "args": (np.arange(6.0).reshape(2, 3),),
                               "kwargs": {"y": 1.5}, "pick": (), "send": True}])
    runner.run_calls(obj, blobs)
    wire.recv_message(theirs)
    ours.close()
    theirs.close()


def main(data_fd: int, config: dict, out_fd: int) -> None:
    """Entry point of the worker process; never returns. ``out_fd`` is the file the grader
    opened for what the student prints (outside anything the worker can see)."""
    code = 0
    try:
        sock = socket.socket(fileno=data_fd)
        os.chdir(config["scratch"])
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(out_fd)
        strip = {os.path.realpath(p) for p in config.get("strip_paths", [])}
        sys.path[:] = list(config.get("sys_path", [])) + [
            p for p in sys.path if p and os.path.realpath(p) not in strip]
        signal.signal(signal.SIGINT, signal.default_int_handler)  # init ignores it; not us
        confine.drop_privileges(config.get("uid"))
        apply_limits(config.get("limits", {}), gpu=config.get("device", "cpu") != "cpu")
        runner = Runner(sock, config)
        install_forbidden(runner, config.get("forbidden", []))
        runner.serve()
    except BaseException:  # noqa: BLE001 - the worker's own failure ends the process
        code = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(code)
