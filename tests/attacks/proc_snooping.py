"""See and reach: reads the supervisor's memory (/proc/<ppid>/mem), every visible process's
environment, command line and memory map, and looks for the grader's own pid. Prints what it
finds; dot answers correctly. Expected: full marks; only the sandbox's own processes are visible
and none of their secrets can be read."""
import os

import numpy as np

GRADER_PID = int("@@GRADER_PID@@")


def _read(path, size=64):
    try:
        with open(path, "rb") as fh:
            data = fh.read(size)
        return f"read {len(data)} bytes"
    except OSError as exc:
        return f"blocked {type(exc).__name__}"


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        me, parent = os.getpid(), os.getppid()
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        print(f"visible pids: {pids}; me {me}, parent {parent}")
        seen = os.path.exists(f"/proc/{GRADER_PID}/mem") and GRADER_PID not in (me, parent)
        print(f"grader visible: {seen}")
        try:
            with open(f"/proc/{parent}/mem", "rb") as fh:
                fh.seek(0x400000)
                fh.read(16)
            print("LEAK parent mem")
        except OSError as exc:
            print(f"parent mem: blocked {type(exc).__name__}")
        for pid in pids:
            if pid == me:
                continue
            for what in ("environ", "maps", "mem"):
                result = _read(f"/proc/{pid}/{what}")
                leak = "LEAK " if result.startswith("read") else ""
                print(f"{leak}/proc/{pid}/{what}: {result}")
    return float(np.dot(u, v))
