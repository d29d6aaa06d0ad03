"""Auto-grader for exercises in the mathematics of deep learning.

Where things happen:

- a submission enters through :mod:`grader.submission`;
- student code runs only in the sandbox workers of :mod:`grader.sandbox`;
- verdicts are made by :mod:`grader.judges` and :mod:`grader.compare`, scored by
  :mod:`grader.grading`;
- reports are drawn from structured results by :mod:`grader.report` and ``templates/``.
"""

__version__ = "0.1.0"
