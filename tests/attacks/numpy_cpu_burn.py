"""Limits: CPU burnt inside numpy's C code, in a loop that never ends. Expected: the CPU-time
limit (SIGXCPU) ends the worker; a wall-time limit would too."""
import numpy as np


def dot(u, v):
    a = np.ones((200, 200))
    while True:
        a = np.tanh(a @ a)
