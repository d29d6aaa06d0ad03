"""See and reach: TCP to public addresses, a UDP datagram, a DNS lookup. Prints what
happened; dot answers correctly. Expected: full marks, every attempt blocked."""
import socket

import numpy as np


def _try(what, action):
    try:
        action()
        print(f"LEAK {what}")
    except OSError as exc:
        print(f"blocked {what}: {type(exc).__name__}")


def _tcp(host, port):
    with socket.create_connection((host, port), timeout=1.0):
        pass


def _udp():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\0" * 12, ("8.8.8.8", 53))


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        _try("tcp 1.1.1.1:80", lambda: _tcp("1.1.1.1", 80))
        _try("tcp 8.8.8.8:53", lambda: _tcp("8.8.8.8", 53))
        _try("udp 8.8.8.8:53", _udp)
        _try("dns pypi.org", lambda: socket.getaddrinfo("pypi.org", 443))
    return float(np.dot(u, v))
