"""The exercise bank: one module per topic (a long topic goes on in modules named after it,
``eigen_maps.py``), each with ``EXERCISES``, a tuple of :class:`grader.catalog.Exercise`. Case
generators take a ``numpy.random.Generator`` and never touch the global RNG; judges come from
:mod:`grader.judges` or are small functions here.

Case generators must give bit-identical inputs on every machine: use the generator's draws and
plain elementwise arithmetic, never BLAS or LAPACK (``@``, ``qr``, ``svd``), whose last bits
depend on the CPU. The student bundle finds the frozen expected results of its public checks by a
digest of the inputs, and refuses to judge (fails closed) when they differ.
"""

#: Topics in the order of the course (``grader list`` and ``grade`` follow it). A module named
#: after a listed one and a suffix (``eigen_maps``) comes right after it, holding that module's
#: later exercises; any other module not listed comes after these, alphabetically.
ORDER = ("linalg", "vectors", "systems", "eigen", "svd", "calculus", "probability", "tensors",
         "layers", "nn", "autodiff", "optim", "training")
