"""Shared fixtures: grade a submission written from source text, through the real worker path."""

from __future__ import annotations

import importlib.util
import itertools
import os
import tempfile
import textwrap
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest

from grader import grading
from grader.catalog import catalog
from grader.results import ExerciseResult, GradeResult
from grader.sandbox import parent

_counter = itertools.count()


@pytest.fixture
def write_submission(tmp_path: Path):
    """``write_submission({"linalg.py": source, ...}) -> folder`` (sources are dedented)."""

    def write(files: dict[str, str]) -> Path:
        folder = tmp_path / f"submission{next(_counter)}"
        folder.mkdir()
        for name, source in files.items():
            (folder / name).write_text(textwrap.dedent(source), encoding="utf-8")
        return folder

    return write


@pytest.fixture
def grade_files(write_submission):
    """``grade_files({"linalg.py": source}, ids=("linalg.dot",)) -> GradeResult`` (no timing)."""

    def run(files: dict[str, str], ids: tuple[str, ...] = (), **options) -> GradeResult:
        options.setdefault("time_it", False)
        return grading.grade(submission=write_submission(files), ids=ids, **options)

    return run


@pytest.fixture
def grade_one(grade_files):
    """``grade_one("linalg.dot", {"linalg.py": source}) -> ExerciseResult``."""

    def run(exercise_id: str, files: dict[str, str], **options) -> ExerciseResult:
        result = grade_files(files, ids=(exercise_id,), **options)
        assert [e.id for e in result.exercises] == [exercise_id]
        return result.exercises[0]

    return run


@pytest.fixture
def use_solutions(monkeypatch, tmp_path: Path):
    """``use_solutions({"topic.py": source, ...}) -> folder``: the grader takes its reference
    modules from these files (for checks and timing) for the rest of the test; the caches of
    references and expected results are emptied before and after."""
    from grader import catalog as catalog_mod

    def use(files: dict[str, str]) -> Path:
        folder = tmp_path / "solutions"
        folder.mkdir(exist_ok=True)
        for name, source in files.items():
            (folder / name).write_text(source)
        monkeypatch.setattr(catalog_mod, "SOLUTIONS_DIR", folder)
        monkeypatch.setattr(grading, "SOLUTIONS_DIR", folder)
        _clear_reference_caches()
        return folder

    yield use
    _clear_reference_caches()


def _clear_reference_caches() -> None:
    grading._reference.cache_clear()
    grading._prepared.cache_clear()


def child_processes() -> set[int]:
    """This process's child processes."""
    found = set()
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as fh:
            found.update(int(p) for p in fh.read().split())
    return found


@contextmanager
def session_folders() -> Iterator[list[str]]:
    """The folders of the sandbox sessions started inside the block, in order, by this process
    or by the grading processes of a batch it forks (:mod:`grader.pool`): filled in when the
    block ends."""
    folders: list[str] = []
    real_init = parent.Session.__init__
    fd, log = tempfile.mkstemp(prefix="session-folders-")
    os.close(fd)

    def spy(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        with open(log, "a") as fh:  # one short append per line: whole lines, any process
            fh.write(self.base + "\n")

    parent.Session.__init__ = spy
    try:
        yield folders
    finally:
        parent.Session.__init__ = real_init
        with open(log) as fh:
            folders.extend(fh.read().split())
        os.unlink(log)


def cases(exercise_id: str, seeds=range(1), names=None) -> list:
    """(check, case) for every check of an exercise (or those ``names``) and seed, built as the
    grader builds them."""
    exercise = catalog()[exercise_id]
    return [(c, c.build(exercise.check_rng(c, seed))) for seed in seeds for c in exercise.checks
            if names is None or c.name in names]


def check(result: ExerciseResult, name: str):
    """The check ``name`` of an exercise's result."""
    found = [c for c in result.checks if c.name == name]
    assert found, f"no check {name!r} in {[c.name for c in result.checks]}"
    return found[0]


def failed_checks(result: ExerciseResult) -> set[str]:
    """The names of the checks that did not pass."""
    return {c.name for c in result.checks if c.status != "passed"}


def benchmark_module(name: str) -> ModuleType:
    """A script of benchmarks/ as a module (the false-failure benchmarks' helpers)."""
    path = Path(__file__).resolve().parent.parent / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_source(topic: str) -> str:
    """The reference module's source, to build correct and deliberately wrong submissions."""
    return (Path(__file__).resolve().parent.parent / "solutions" / f"{topic}.py").read_text()


def slowed(source: str, target: str, factor: float) -> str:
    """``source`` with ``target`` (a function, or ``Class.method``) made ``1 + factor`` times
    slower: each call sleeps ``factor`` times its own duration. A correct implementation that
    is slow by construction, whatever the machine: how realistic slow code measures against the
    flags is a figure of benchmarks/timing_flags.py, not an assert."""
    return source + textwrap.dedent(f"""

        import time as _time


        def _slowed(function):
            def run(*args, **kwargs):
                start = _time.perf_counter()
                out = function(*args, **kwargs)
                _time.sleep({factor!r} * (_time.perf_counter() - start))
                return out
            return run


        {target} = _slowed({target})
        """)
