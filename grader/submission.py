"""Where a submission enters: find the student's modules in a folder, a single .py file or a
Jupyter notebook.

Nothing here runs student code; files are only located (and, for a single file, every topic
is looked for in it: its functions are found when the worker imports it). A notebook is read as
JSON and its code cells become the text of one module (:mod:`grader.notebook`), graded as a
single .py file would be.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from grader.catalog import EXERCISES_DIR, Exercise, catalog
from grader.errors import SubmissionError


SINGLE_FILE_MODULE = "submission"


def utf8_error(shown: str, data: bytes) -> str | None:
    """Why ``data`` (a source file shown as ``shown``) is not UTF-8 text, or None."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return (f"{shown} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
                "save it as UTF-8 in the editor and submit again")
    return None


@dataclass(frozen=True)
class Submission:
    """A student's work: a folder laid out like ``exercises/``, one .py file, or a notebook.

    For a notebook, ``path`` is the .ipynb (feedback names it), ``module_file`` the module text
    made from its code cells, and ``notes`` say what was left out (magics).
    """

    path: Path
    single_file: bool
    module_file: Path | None = None
    notes: tuple[str, ...] = ()

    def file_for(self, exercise: Exercise) -> Path | None:
        """The file that should define the exercise's functions, or None when absent."""
        if self.single_file:
            return self.path
        candidate = self.path / f"{exercise.topic}.py"
        return candidate if candidate.is_file() else None

    def sources(self) -> dict[str, Path]:
        """The files the worker gets copies of, by their name there. A single file is copied
        as ``submission.py``: named ``numpy.py`` or ``random.py``, it must not replace that
        module in the worker."""
        if self.single_file:
            return {f"{SINGLE_FILE_MODULE}.py": self.module_file or self.path}
        return {p.name: p for p in sorted(self.path.glob("*.py")) if p.is_file()}

    def module_name(self, exercise: Exercise) -> str:
        """The name the worker imports the exercise's file under."""
        return SINGLE_FILE_MODULE if self.single_file else exercise.topic

    def describe_missing(self, exercise: Exercise) -> str:
        return (f"the submission has no {exercise.topic}.py (expected in {self.path}); "
                f"write {', '.join(exercise.functions)} there")


def locate(path: str | Path | None = None) -> Submission:
    """The submission at ``path``; by default ``./exercises`` or the project's own stubs."""
    if path is None:
        local = Path.cwd() / "exercises"
        path = local if local.is_dir() else EXERCISES_DIR
    path = Path(path).expanduser()
    if not path.exists():
        raise SubmissionError(f"no such file or folder: {path}")
    if path.is_dir():
        files = sorted(p for p in path.glob("*.py") if p.is_file())
        notebooks = sorted(p for p in path.glob("*.ipynb") if p.is_file())
        if not files and len(notebooks) == 1:
            return _notebook(notebooks[0])
        if not files:
            raise SubmissionError(f"{path} holds no .py files; point --submission at a folder "
                                  "laid out like exercises/ or at a single .py file")
        _check_text(files)
        topics = {e.topic for e in catalog().values()}
        if len(files) == 1 and files[0].stem not in topics:
            # One file with another name (an upload, hw1.py): it holds any subset of functions.
            return Submission(files[0].resolve(), single_file=True)
        return Submission(path.resolve(), single_file=False)
    if path.suffix.lower() == ".ipynb":
        return _notebook(path)
    if path.suffix != ".py":
        raise SubmissionError(f"{path} is not a .py file, a notebook or a folder; grade takes a "
                              "folder laid out like exercises/, a single .py file or an .ipynb")
    _check_text([path])
    return Submission(path.resolve(), single_file=True)


_converted_dir: Path | None = None
_converted_lock = threading.Lock()


def _module_folder() -> Path:
    """A private folder (mode 0700) for the module text of notebooks, removed at exit."""
    global _converted_dir
    with _converted_lock:
        if _converted_dir is None or not _converted_dir.is_dir():
            _converted_dir = Path(tempfile.mkdtemp(prefix="grader-notebooks-"))
            atexit.register(shutil.rmtree, _converted_dir, True)
        return _converted_dir


def _notebook(path: Path) -> Submission:
    """A notebook as a single-file submission: its code cells, converted without running."""
    from grader import notebook

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SubmissionError(f"cannot read {path}: {exc.strerror}") from None
    converted = notebook.convert(data, path.name)
    # A file of its own per conversion: two students' identical notebooks are graded at the
    # same time by a batch, and one must never read the other's half-written copy.
    fd, name = tempfile.mkstemp(dir=_module_folder(), suffix=".py")
    with os.fdopen(fd, "wb") as fh:
        fh.write(converted.text.encode("utf-8"))
    module = Path(name)
    return Submission(path.resolve(), single_file=True, module_file=module,
                      notes=converted.notes)


def _check_text(files: list[Path]) -> None:
    for file in files:
        try:
            problem = utf8_error(str(file), file.read_bytes())
        except OSError as exc:
            raise SubmissionError(f"cannot read {file}: {exc.strerror}") from None
        if problem:
            raise SubmissionError(problem)
