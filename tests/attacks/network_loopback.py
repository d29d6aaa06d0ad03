"""See and reach: connects to a TCP port the grader's machine listens on (127.0.0.1), and to an
abstract unix socket the test opened. Prints what happened; dot answers correctly. Expected:
full marks, every attempt blocked, nothing reaches the listeners."""
import socket

import numpy as np

PORT = int("@@PORT@@")
ABSTRACT = "\0@@ABSTRACT@@"


def _try(what, family, kind, address):
    try:
        with socket.socket(family, kind) as s:
            s.settimeout(1.0)
            s.connect(address)
            s.sendall(b"hello from the sandbox")
        print(f"LEAK {what} connected")
    except OSError as exc:
        print(f"blocked {what}: {type(exc).__name__}")


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        _try("tcp loopback", socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", PORT))
        _try("abstract unix", socket.AF_UNIX, socket.SOCK_STREAM, ABSTRACT)
    return float(np.dot(u, v))
