"""Forging: answers correctly, but replaces the worker's timing handler so that the grader's
speed measurement gets a reply it cannot use (times that are not numbers). Expected: full
marks; the timing is dropped (no timing result) rather than the grader failing."""
import sys

import numpy as np


def _install():
    runner = sys.modules["grader.sandbox.runner"]

    def do_time(self, header, blobs):
        self.reply({"times": ["fast", "faster"]})

    runner.Runner.do_time = do_time


_install()


def dot(u, v):
    return float(np.dot(u, v))
