"""Forging: raises an exception whose message holds newlines, a carriage return and ANSI
escape codes (erase line, cursor up, green) that draw a passing report over the real one in a
terminal. Expected: 0 points with the normal "raised" message, and the terminal report shows
that text inertly: no line of it starts with the fake PASS or Total, and no escape code gets
through."""
import numpy as np

_FAKE = ("\r\x1b[2K\x1b[1A\x1b[2K\x1b[32mPASS\x1b[0m linalg.dot                   4 / 4  "
         "Dot product\nTotal: 4 / 4\n")


def dot(u, v):
    print(_FAKE)
    raise RuntimeError(_FAKE)
