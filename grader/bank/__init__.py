"""The exercise bank: one module per topic, each with ``EXERCISES``, a tuple of
:class:`grader.catalog.Exercise`. Case generators take a ``numpy.random.Generator`` and never
touch the global RNG; judges come from :mod:`grader.judges` or are small functions here.
"""
