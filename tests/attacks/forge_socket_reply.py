"""Forging: finds the worker's socket to the grader among its file descriptors and writes a
complete reply of its own (value 42.0) before the real one, so replies and requests fall out of
step. Expected: every value the grader reads is still one the student sent: 0 points, with the
message of a wrong value on the first check."""
import json
import os
import socket
import stat
import struct

import numpy as np


def _grader_socket():
    for fd in sorted(int(f) for f in os.listdir("/proc/self/fd")):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                return fd
        except OSError:
            pass
    return None


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        fd = _grader_socket()
        if fd is not None:
            # The wire format's own tags: a list of one dict {value: 42.0, seconds: 0.0}.
            record = {"$d": [["value", 42.0], ["seconds", 0.0]]}
            head = json.dumps({"h": {"results": [record]}, "b": []}).encode()
            sock = socket.socket(fileno=os.dup(fd))
            sock.sendall(struct.pack(">I", len(head)) + head)
            sock.close()
    return float(np.dot(u, v))
