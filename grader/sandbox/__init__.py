"""The sandbox: where student code runs, and the only place it runs.

- :mod:`grader.sandbox.wire`: the wire format (JSON header + raw array bytes, never pickle);
- :mod:`grader.sandbox.zygote`: a warm, clean interpreter that forks the workers;
- :mod:`grader.sandbox.runner`: the worker side (imports the student module, runs calls, times);
- :mod:`grader.sandbox.parent`: the grader side (spawns workers, enforces time, names crashes).
"""
