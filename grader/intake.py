"""Where a class's submissions enter: one gradable submission, or one error row, per student.

``discover`` reads the top level of a submissions folder. Each entry is one student's work:

- a folder laid out like ``exercises/`` (``alice/linalg.py``), its id the folder's name;
- a single ``.py`` file (``bob.py``), its id the file's stem;
- a Jupyter notebook (``erin.ipynb``), its id the stem: its code cells are graded as a single
  ``.py`` file would be (:mod:`grader.notebook`);
- a ``.zip`` of either (``carol.zip``), its id the stem.

Whatever the kind, the student's ``.py`` files are copied (or unpacked) into
``workdir/<student>/``, and that copy is what gets graded and hashed: the hash describes exactly
the bytes the worker sees, a file changed in the submissions folder after intake cannot change a
grade already under way, and a worker never sees another student's files next to the one it
grades (``grading._sources`` sends a file's sibling modules along with it).

Rules, each written for a real way submissions arrive:

- Hidden entries (``.DS_Store``, ``.git/``, ``._x`` AppleDouble files), ``__MACOSX/``,
  ``__pycache__/``, ``Thumbs.db`` and ``desktop.ini`` are ignored everywhere.
- A folder or zip with no ``.py`` files at its top but exactly one folder that holds some is
  unwrapped, at most two levels (``carol/linalg.py``, ``carol/exercises/linalg.py``); deeper,
  or several such folders, is an error. A folder or zip whose top holds no ``.py`` file but one
  ``.ipynb`` is that notebook.
- A notebook is checked here, without running anything: not JSON, an nbformat other than 4, a
  code cell that does not parse, or none of the graded functions defined, is an error row that
  says so. It is kept as ``<stem>.ipynb``; grading converts it again (and notes the magics it
  skips).
- The ``.py`` files at the chosen top form a folder submission when one of them is named after
  an exercise topic (``linalg.py``); a lone ``.py`` of any other name is a single-file
  submission (every topic is looked for in it); several, none named after a topic, is an error.
- A single file keeps its name unless its stem would shadow a module the worker imports
  (``numpy.py``, ``random.py``) or is no module name at all (``linalg (1).py``): then it is
  graded as ``submission.py``.
- Zip entries are never extracted by path: only the chosen ``.py`` files are read, through a
  byte counter, and written under fresh names in ``workdir/<student>/``. Any entry with ``..``
  or an absolute path, any symbolic link, encrypted entries and zip bombs (too many entries,
  too many bytes, too high a compression ratio) make the whole zip an error.
- Student ids that differ only in case count as the same student (``Dave.zip`` and ``dave/``
  would share one folder on a case-insensitive disk); two submissions for one student are both
  error rows and nothing is graded for that student.

Nothing here imports or runs student code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import keyword
import os
import re
import shutil
import stat
import sys
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from grader import notebook
from grader.errors import GraderError, SubmissionError
from grader.submission import utf8_error

#: Names ignored at any depth, besides every name that starts with a dot.
IGNORED = frozenset({"__MACOSX", "__pycache__", "Thumbs.db", "desktop.ini"})
#: How many wrapping folders are removed to reach the .py files.
UNWRAP_LEVELS = 2
#: Written into the working folder: only a folder holding it is ours to empty out.
MARKER = ".grader-intake"
#: The name a single-file submission is graded under when its own name cannot be a module.
FALLBACK_NAME = "submission.py"

_MiB = 2**20
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ZipLimits:
    """What one submission may unpack to. Declared sizes are checked before anything is read,
    and bytes are counted while reading, since a zip's headers can lie.

    ``max_files`` and ``max_total_bytes`` bound folders too (a submission folder holding a
    virtual environment is a mistake, not work to grade).
    """

    max_files: int = 1000             # entries of a zip (all), files of a folder (not hidden)
    max_total_bytes: int = 32 * _MiB  # declared, and counted while reading
    max_ratio: float = 100.0          # uncompressed / compressed, per entry
    # Source text compresses far more than 100:1 when it is a long run of one character (a
    # banner of '#'), but such a file is small; a bomb is a large entry. Entries up to this
    # size are exempt from the ratio limit (their bytes still count toward the total).
    ratio_floor: int = 1 * _MiB


@dataclass(frozen=True)
class Intake:
    """One student's submission as found in the submissions folder."""

    student: str             # student id: the folder's name, or the file's stem
    source: Path             # the original file or folder in the submissions folder
    submission: Path | None  # a folder laid out like exercises/, or one .py file, ready for
    #                          grader.submission.locate(); None when error
    content_hash: str | None  # content_hash() of the .py files in `submission`; None when error
    error: str | None        # why this submission cannot be graded, and what to do; else None


class _Reject(Exception):
    """This student's submission cannot be graded; the message says why and what to do."""


# ----------------------------------------------------------------------------- public API

def content_hash(files: dict[str, bytes]) -> str:
    """SHA-256 (hex) over ``{relative path: bytes}``, independent of the order given.

    Each path and its bytes are length-prefixed, so moving bytes between a name and the content
    (or between two files) changes the hash.
    """
    digest = hashlib.sha256(b"grader.intake v1\0")
    for name in sorted(files):
        for part in (name.encode("utf-8"), files[name]):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def discover(submissions_dir: Path, *, workdir: Path, limits: ZipLimits = ZipLimits(),
             topics: frozenset[str] | None = None) -> list[Intake]:
    """Every submission in ``submissions_dir``'s top level, sorted by student id.

    Gradable submissions are written under ``workdir`` (created if needed, marked as ours, and
    each student's folder in it replaced); nothing is written anywhere else. ``topics`` are the
    module names a folder submission may hold (default: every topic of the catalog).

    Raises:
        SubmissionError: ``submissions_dir`` does not exist or is not a folder.
        GraderError: ``workdir`` overlaps ``submissions_dir``, or is a non-empty folder that
            intake did not make (intake empties its students' folders in it).
    """
    submissions_dir = Path(submissions_dir)
    if not submissions_dir.is_dir():
        what = "is not a folder" if submissions_dir.exists() else "does not exist"
        raise SubmissionError(f"the submissions folder {submissions_dir} {what}; give the folder "
                              "that holds one folder, .py or .zip per student")
    workdir = _prepare_workdir(Path(workdir), submissions_dir)
    if topics is None:
        from grader.catalog import catalog

        topics = frozenset(e.topic for e in catalog().values())
    rows = []
    for student, source, problem in _top_level(submissions_dir):
        target = workdir / student
        _remove(target)  # last run's copy: a submission removed or broken since is not graded
        if problem is None:
            try:
                rows.append(_intake_one(student, source, target, limits, topics))
                continue
            except _Reject as exc:
                problem = str(exc)
        rows.append(Intake(student, source, None, None, _printable(problem)))
    return sorted(rows, key=lambda r: (r.student, r.source.name))


# ----------------------------------------------------------------------------- top level

def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    return f"{n / 1024:.1f} KiB" if n < _MiB else f"{n / _MiB:.1f} MiB"


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in IGNORED


def _label(path: Path) -> str:
    """An entry as the instructor sees it in the submissions folder (folders end in '/')."""
    return path.name + ("/" if path.is_dir() and not path.is_symlink() else "")


def _prepare_workdir(workdir: Path, submissions_dir: Path) -> Path:
    work, subs = workdir.resolve(), submissions_dir.resolve()
    if work == subs or work.is_relative_to(subs) or subs.is_relative_to(work):
        raise GraderError(f"the working folder {workdir} overlaps the submissions folder "
                          f"{submissions_dir}; choose an output folder outside it")
    if work.exists():
        if not work.is_dir():
            raise GraderError(f"the working folder {workdir} is not a folder; choose another")
        if not (work / MARKER).is_file() and any(work.iterdir()):
            raise GraderError(f"the working folder {workdir} already holds files that intake "
                              "did not put there; choose a new or empty folder")
    work.mkdir(parents=True, exist_ok=True)
    (work / MARKER).write_text("Made by grader.intake: its folders are replaced on each run.\n")
    return work


def _top_level(submissions_dir: Path) -> list[tuple[str, Path, str | None]]:
    """(student, source, error or None) per entry; same-student entries all become errors."""
    by_student: dict[str, list[tuple[str, Path, str | None]]] = {}
    for name in sorted(os.listdir(submissions_dir)):
        if _ignored(name):
            continue
        source = submissions_dir / name
        student, problem = _classify_entry(source)
        # NFC: macOS writes decomposed accents; casefold: `Dave` and `dave` share one folder
        # on a case-insensitive disk (and one row in a spreadsheet).
        key = unicodedata.normalize("NFC", student).casefold()
        by_student.setdefault(key, []).append((student, source, problem))
    found = []
    for group in by_student.values():
        if len(group) == 1:
            found.extend(group)
            continue
        names = ", ".join(_label(source) for _, source, _ in group)
        for student, source, _ in group:
            problem = (f"{len(group)} submissions for student {student} ({names}): nothing was "
                       "graded for this student; keep only one and run the batch again")
            if len({s for s, _, _ in group}) > 1:
                problem += " (names that differ only in case count as the same student)"
            found.append((student, source, problem))
    return found


def _classify_entry(source: Path) -> tuple[str, str | None]:
    """(student id, error or None) for one top-level entry, from its name and kind alone."""
    name = source.name
    is_dir = source.is_dir()
    student = name if is_dir else Path(name).stem
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        student = os.fsencode(student).decode("utf-8", "replace")
        return student, (f"the name {student!r} is not UTF-8 text; rename it and run the batch "
                         "again")
    if source.is_symlink():
        return student, (f"{name} is a symbolic link; put the submission itself in the "
                         "submissions folder, not a link to it")
    if is_dir or (source.is_file() and source.suffix.lower() in (".py", ".zip", ".ipynb")):
        return student, None
    return student, (f"{name} is not a .py file, a notebook, a .zip or a folder; ask the student "
                     "for their exercise files as a folder, a .zip, a single .py file or an "
                     ".ipynb")


def _intake_one(student: str, source: Path, target: Path, limits: ZipLimits,
                topics: frozenset[str]) -> Intake:
    """The gradable submission, or raises _Reject."""
    if source.is_symlink():  # made a link since it was listed
        raise _Reject(f"{source.name} is a symbolic link; put the submission itself in the "
                      "submissions folder, not a link to it")
    if source.is_dir():
        files = _folder_files(source, limits)
        contents, single = _collect(f"{source.name}/", files, limits, topics)
    elif source.suffix.lower() == ".zip":
        contents, single = _collect_zip(source, limits, topics)
    else:
        data = _file_reader(source, source.name)(limits.max_total_bytes)
        if source.suffix.lower() == ".ipynb":
            contents, single = {_notebook_name(source.name, source.name, data): data}, True
        else:
            _check_text(source.name, source.name, data)
            contents, single = {_single_name(source.stem): data}, True
    return Intake(student, source, _write(target, contents, single), content_hash(contents),
                  None)


def _printable(message: str) -> str:
    """Names in messages come from students: escape control characters (a terminal would obey
    them) and undecodable bytes (the gradebook stores UTF-8)."""
    return "".join(c if c.isprintable() or c == " " else
                   c.encode("unicode_escape").decode("ascii") for c in message)


def _remove(target: Path) -> None:
    """Empty out a student's folder in the working folder (ours: the folder holds MARKER)."""
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)


def _write(target: Path, contents: dict[str, bytes], single: bool) -> Path:
    """Write the checked files flat into ``target``; the path to give ``locate``."""
    target.mkdir()
    for name, data in contents.items():
        # "xb" in the folder just made: nothing there can be followed or overwritten.
        with open(target / name, "xb") as out:
            out.write(data)
    return target / next(iter(contents)) if single else target


# ----------------------------------------------------------------------------- folders

# A reader returns a file's bytes, at most `budget` of them, or raises _Reject.
Reader = Callable[[int], bytes]


def _folder_files(folder: Path, limits: ZipLimits) -> dict[tuple[str, ...], Reader]:
    """Relative path -> reader for every file not ignored; symbolic links are rejected."""
    files: dict[tuple[str, ...], Reader] = {}

    def fail(exc: OSError) -> None:
        raise _Reject(f"{folder.name}/ could not be read ({exc.strerror or exc}); make it "
                      "readable and run the batch again")

    for dirpath, dirnames, filenames in os.walk(folder, onerror=fail):
        here = Path(dirpath)
        rel = here.relative_to(folder).parts
        dirnames[:] = sorted(d for d in dirnames if not _ignored(d))
        for name in dirnames + sorted(filenames):
            if _ignored(name):
                continue
            shown = "/".join((folder.name, *rel, name))
            if os.path.islink(here / name):
                raise _Reject(f"{shown} is a symbolic link; submit the files themselves, not "
                              "links to them")
            if name in filenames:
                files[(*rel, name)] = _file_reader(here / name, shown)
            if len(files) > limits.max_files:
                raise _Reject(f"{folder.name}/ holds more than {limits.max_files} files; "
                              "submit only your .py files")
    return files


def _file_reader(path: Path, shown: str) -> Reader:
    def read(budget: int) -> bytes:
        try:
            # O_NOFOLLOW: a file swapped for a link after the walk is refused, not followed;
            # O_NONBLOCK: opening a FIFO does not wait for a writer.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as exc:
            raise _Reject(f"{shown} could not be read ({exc.strerror or exc}); make it "
                          "readable and run the batch again") from None
        with open(fd, "rb") as stream:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise _Reject(f"{shown} is not a regular file; submit ordinary files")
            return _read_counted(stream, declared=None, budget=budget, shown=shown)
    return read


def _read_counted(stream: BinaryIO, *, declared: int | None, budget: int, shown: str) -> bytes:
    """All of ``stream``, counting bytes as they come: never more than ``declared`` (what a zip
    header said; None for a plain file) nor than ``budget`` (what is left of the allowance)."""
    chunks, total = [], 0
    while chunk := stream.read(_CHUNK):
        total += len(chunk)
        if declared is not None and total > declared:
            raise _Reject(f"{shown} unpacks to more than the {declared} bytes its header "
                          "declares; the zip is damaged or forged: make it again")
        if total > budget:
            raise _Reject(f"{shown} holds more than the {_size(budget)} left of what a "
                          "submission may hold; submit only your .py files")
        chunks.append(chunk)
    return b"".join(chunks)


# ----------------------------------------------------------------------------- zips

_DRIVE = re.compile(r"^[A-Za-z]:")


def _member_parts(name: str, zip_name: str) -> tuple[str, ...]:
    """A zip entry's path as parts; rejects absolute paths and '..' (zip slip).

    Backslashes count as separators: zips made on Windows may use them, and a path that is
    harmless here could escape where it is unpacked with another tool.
    """
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise _Reject(f"{zip_name} holds an entry with an absolute path ({name}); make the "
                      "zip again from inside the folder, so every path is relative")
    parts = tuple(p for p in re.split(r"[\\/]", name) if p not in ("", "."))
    if ".." in parts:
        raise _Reject(f"{zip_name} holds an entry whose path leads out of the zip ({name}); "
                      "make the zip again from the folder itself, without '..' in any path")
    return parts


def _check_declared(zf: zipfile.ZipFile, zip_name: str, limits: ZipLimits) -> None:
    """Limits on what the central directory declares, before one byte is decompressed."""
    entries = zf.infolist()
    if len(entries) > limits.max_files:
        raise _Reject(f"{zip_name} holds {len(entries)} entries, more than the "
                      f"{limits.max_files} allowed; submit only your .py files")
    files = [i for i in entries if not i.is_dir()]
    total = sum(i.file_size for i in files)
    if total > limits.max_total_bytes:
        raise _Reject(f"{zip_name} would unpack to {_size(total)}, more than the "
                      f"{_size(limits.max_total_bytes)} allowed; submit only your .py files")
    for info in files:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
            raise _Reject(f"{zip_name}: {info.filename} is compressed {ratio:.0f} to 1, more "
                          f"than the {limits.max_ratio:.0f} to 1 allowed (a zip bomb?); "
                          "submit only your .py files")


def _zip_files(zf: zipfile.ZipFile, zip_name: str) -> dict[tuple[str, ...], Reader]:
    """Relative path -> reader for every entry not ignored; rejects unsafe entries."""
    files: dict[tuple[str, ...], Reader] = {}
    for info in zf.infolist():
        parts = _member_parts(info.filename, zip_name)
        if not parts or any(_ignored(p) for p in parts):
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _Reject(f"{zip_name} holds a symbolic link ({info.filename}); zip the files "
                          "themselves, not links to them")
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            raise _Reject(f"{zip_name}: {info.filename} is password-protected; make the zip "
                          "again without a password")
        if parts in files:
            raise _Reject(f"{zip_name} holds two entries named {info.filename}; make the zip "
                          "again")
        files[parts] = _member_reader(zf, info, f"{zip_name}: {info.filename}")
    return files


def _member_reader(zf: zipfile.ZipFile, info: zipfile.ZipInfo, shown: str) -> Reader:
    def read(budget: int) -> bytes:
        with zf.open(info) as stream:
            return _read_counted(stream, declared=info.file_size, budget=budget, shown=shown)
    return read


# What zipfile raises on a damaged or unusual archive (zlib.error: a corrupt deflate stream;
# NotImplementedError: an unsupported compression method; RuntimeError: encryption).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError,
               NotImplementedError, RuntimeError)


def _collect_zip(source: Path, limits: ZipLimits, topics: frozenset[str]
                 ) -> tuple[dict[str, bytes], bool]:
    name = source.name
    try:
        # The central directory is parsed whole on opening: bounding the file bounds that work.
        size = source.stat().st_size
        if size > limits.max_total_bytes:
            raise _Reject(f"{name} is {_size(size)}, more than the "
                          f"{_size(limits.max_total_bytes)} a submission may unpack to; "
                          "submit only your .py files")
        with zipfile.ZipFile(source) as zf:
            _check_declared(zf, name, limits)
            return _collect(name, _zip_files(zf, name), limits, topics)
    except _ZIP_ERRORS as exc:
        raise _Reject(f"{name} is not a readable zip archive ({exc}); make the zip again, "
                      "with ordinary (deflate) compression and no password") from None
    except OSError as exc:
        raise _Reject(f"{name} could not be read ({exc.strerror or exc}); make it readable "
                      "and run the batch again") from None


# ----------------------------------------------------------------------------- layout

def _choose_top(label: str, paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The folder (as parts) whose .py files are the submission, unwrapping up to two levels."""
    py = [p for p in paths if _gradable(p[-1])]
    top: tuple[str, ...] = ()
    for level in range(UNWRAP_LEVELS + 1):
        if any(len(p) == len(top) + 1 for p in py):
            return top
        below = sorted({p[len(top)] for p in py})
        if not below:
            others = sorted("/".join(p) for p in paths)
            held = f" (it holds only {', '.join(others[:3])}{', ...' if others[3:] else ''})"
            raise _Reject(f"{label} holds no .py files{held if others else ''}; submit the "
                          "exercise files (such as linalg.py) in a folder, a .zip or as a "
                          "single .py file")
        if len(below) > 1:
            where = ", ".join("/".join((*top, d)) + "/" for d in below)
            raise _Reject(f"{label} holds no .py files at its top but several folders with "
                          f".py files ({where}); keep only the folder to grade")
        if level == UNWRAP_LEVELS:
            where = "/".join((*top, below[0]))
            raise _Reject(f"{label} has its .py files more than {UNWRAP_LEVELS} folders down "
                          f"(in {where}/); put them at the top of the folder or zip, like "
                          "exercises/")
        top = (*top, below[0])
        py = [p for p in py if p[:len(top)] == top]
    raise AssertionError("unreachable")


def _collect(label: str, files: dict[tuple[str, ...], Reader], limits: ZipLimits,
             topics: frozenset[str]) -> tuple[dict[str, bytes], bool]:
    """The submission's files as {name to grade under: bytes}, and whether it is single-file.

    ``label`` names the folder (``alice/``) or zip (``carol.zip``) in messages.
    """
    top = _choose_top(label, list(files))
    prefix = label if label.endswith("/") else f"{label}: "
    chosen = sorted(p for p in files if len(p) == len(top) + 1 and p[-1].endswith(".py"))
    if not chosen:
        return _collect_notebook(label, prefix, files, top, limits)
    names = [p[-1] for p in chosen]
    single = not any(n[:-3] in topics for n in names)
    if single and len(names) > 1:
        raise _Reject(f"{label} holds {', '.join(names)} but none is named after an exercise "
                      f"topic ({', '.join(sorted(topics))}); name each file after its topic, "
                      "like exercises/, or submit a single .py file")
    contents: dict[str, bytes] = {}
    left = limits.max_total_bytes
    for path in chosen:
        shown = prefix + "/".join(path)
        data = files[path](left)
        left -= len(data)
        _check_text(shown, path[-1], data)
        contents[_single_name(path[-1][:-3]) if single else path[-1]] = data
    return contents, single


def _gradable(name: str) -> bool:
    return name.endswith(".py") or name.lower().endswith(".ipynb")


def _collect_notebook(label: str, prefix: str, files: dict[tuple[str, ...], Reader],
                      top: tuple[str, ...], limits: ZipLimits) -> tuple[dict[str, bytes], bool]:
    """The one notebook at ``top`` (no .py file is there) as a single-file submission."""
    found = sorted(p for p in files if len(p) == len(top) + 1 and _gradable(p[-1]))
    if len(found) > 1:
        raise _Reject(f"{label} holds {', '.join(p[-1] for p in found)}: several notebooks and "
                      "no .py file; submit one notebook, or the .py files named after their "
                      "topics")
    path = found[0]
    data = files[path](limits.max_total_bytes)
    return {_notebook_name(prefix + "/".join(path), path[-1], data): data}, True


def _notebook_name(shown: str, name: str, data: bytes) -> str:
    """The checked notebook's name to keep it under; raises _Reject (not a notebook, a cell
    that does not parse, no graded function)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise _Reject(f"{shown} has a file name that is not UTF-8 text; rename it and submit "
                      "again") from None
    try:
        notebook.convert(data, shown)
    except notebook.NotebookError as exc:
        raise _Reject(exc.format_message()) from None
    return _single_name(name[:-len(".ipynb")])[:-len(".py")] + ".ipynb"


def _single_name(stem: str) -> str:
    """The file name a lone .py is graded under: its own, unless the stem cannot be a student
    module (the worker imports the file under its stem, so ``numpy.py`` would replace numpy)."""
    if (stem.isidentifier() and not keyword.iskeyword(stem)
            and stem not in sys.stdlib_module_names and stem not in sys.builtin_module_names
            and stem not in sys.modules and importlib.util.find_spec(stem) is None):
        return f"{stem}.py"
    return FALLBACK_NAME


def _check_text(shown: str, name: str, data: bytes) -> None:
    """The worker reads source as UTF-8; a file it cannot read is reported here, by name."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise _Reject(f"{shown} has a file name that is not UTF-8 text; rename it and submit "
                      "again") from None
    problem = utf8_error(shown, data)
    if problem:
        raise _Reject(problem)
