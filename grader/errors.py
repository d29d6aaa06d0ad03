"""The grader's one root exception.

Every error the grader raises for bad input derives from :class:`GraderError`. It is a
:class:`click.ClickException`, so the CLI turns it into a message and an exit code in exactly
one place (click's ``Command.main``); the Python API raises it unchanged.
"""

from __future__ import annotations

import click


class GraderError(click.ClickException):
    """Something the user asked for cannot be done; the message says what to do instead."""

    exit_code = 2


class UnknownExerciseError(GraderError):
    """An exercise id that the catalog does not hold."""


class SubmissionError(GraderError):
    """A submission path that cannot be read or holds nothing gradable."""


class SandboxError(GraderError):
    """The sandbox itself failed (not the student's code): a grader fault."""

    exit_code = 3
