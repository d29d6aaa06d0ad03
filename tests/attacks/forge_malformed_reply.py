"""Forging: writes well-framed replies of the wrong shape straight to the worker's socket: an
exception record without its fields, then results that are not records. Expected: the grader
treats a reply it cannot read as the worker's failure ("sent back data the grader cannot read"),
0 points, and goes on to the next exercise."""
import json
import os
import socket
import stat
import struct
import time

import numpy as np


def _send(fd, header):
    head = json.dumps({"h": header, "b": []}).encode()
    sock = socket.socket(fileno=os.dup(fd))
    sock.sendall(struct.pack(">I", len(head)) + head)
    sock.close()


def dot(u, v):
    for fd in sorted(int(f) for f in os.listdir("/proc/self/fd")):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                _send(fd, {"results": [{"raised": {"type": "NotImplementedError"}}]})
        except OSError:
            pass
    time.sleep(60)  # the forged reply is all the grader gets
