"""Forging: writes a reply in the wire format's own encoding straight to the worker's socket,
claiming the call raised, but with an exception record missing its fields (no message, no
class hierarchy). Expected: the grader treats a reply it cannot read as the worker's failure
("sent back data the grader cannot read"), 0 points, and goes on to the next exercise."""
import json
import os
import socket
import stat
import struct
import time

import numpy as np


def dot(u, v):
    record = {"$d": [["raised", {"$d": [["type", "ValueError"]]}], ["seconds", 0.0]]}
    head = json.dumps({"h": {"results": [record]}, "b": []}).encode()
    for fd in sorted(int(f) for f in os.listdir("/proc/self/fd")):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                sock = socket.socket(fileno=os.dup(fd))
                sock.sendall(struct.pack(">I", len(head)) + head)
                sock.close()
        except OSError:
            pass
    time.sleep(60)  # the forged reply is all the grader gets
