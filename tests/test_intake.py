"""Batch intake: every kind of submission a class sends becomes a gradable submission or an
error row that says what was wrong and what to do; nothing is ever written outside the working
folder; the content hash recognises an unchanged submission."""

from __future__ import annotations

import io
import os
import shutil
import stat
import struct
import warnings
import zipfile
from pathlib import Path

import pytest

from grader import intake
from grader.catalog import EXERCISES_DIR
from grader.errors import GraderError, SubmissionError
from grader.grading import grade
from grader.intake import Intake, ZipLimits, content_hash, discover

from conftest import reference_source

REF = reference_source("linalg")
STUB = (EXERCISES_DIR / "linalg.py").read_text()
TOPICS = frozenset({"linalg", "nn"})
MiB = 2**20


# ----------------------------------------------------------------------------- helpers

def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Files under ``root`` (made if missing) from {relative path: text or bytes}."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def write_zip(path: Path, members: dict[str, str | bytes] | list[tuple[str, str | bytes]]
              ) -> Path:
    """A zip at ``path`` holding the members in the order given, names kept verbatim."""
    items = members.items() if isinstance(members, dict) else members
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate-name case
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, content in items:
                zf.writestr(name, content)
    return path


def patch_zip(path: Path, *, local_offset: int, central_offset: int, value: int) -> None:
    """Overwrite one 4-byte field of every local header and central-directory record (a zip
    whose headers lie, as a forged one would)."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", central_offset)):
        at = data.find(signature)
        while at != -1:
            data[at + offset:at + offset + 4] = struct.pack("<I", value)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def snapshot(root: Path, skip: Path) -> dict[str, bytes | str]:
    """Every file, link and folder under ``root`` except under ``skip``, with its content."""
    seen: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == skip or skip in here.parents:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = here / name
            if path == skip:
                continue
            key = str(path.relative_to(root))
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                seen[key] = "-> " + os.readlink(path)
            elif stat.S_ISREG(mode):
                seen[key] = path.read_bytes()
            else:
                seen[key] = stat.filemode(mode)
    return seen


@pytest.fixture
def subs(tmp_path: Path) -> Path:
    folder = tmp_path / "subs"
    folder.mkdir()
    return folder


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "out").mkdir()  # the batch's output folder; _unpacked is intake's
    return tmp_path / "out" / "_unpacked"


@pytest.fixture
def run(tmp_path: Path, subs: Path, work: Path):
    """``run(**limits) -> {student: Intake}`` (``run.rows`` the list), asserting that nothing
    outside ``work`` (the submissions folder included) was written, changed or removed."""

    def go(**limits) -> dict[str, Intake]:
        before = snapshot(tmp_path, skip=work)
        rows = discover(subs, workdir=work, limits=ZipLimits(**limits), topics=TOPICS)
        assert snapshot(tmp_path, skip=work) == before
        assert [r.student for r in rows] == sorted(r.student for r in rows)
        go.rows = rows
        return {r.student: r for r in rows}

    return go


def graded(submission: Path):
    result = grade(submission=submission, ids=("linalg.dot",), time_it=False)
    assert [e.id for e in result.exercises] == ["linalg.dot"]
    return result.exercises[0]


# ----------------------------------------------------------------------------- bad input

@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """A 200 MiB member of zeros, deflated to about 200 KB."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("linalg.py", "w") as member:
            for _ in range(200):
                member.write(bytes(MiB))
    return path


def _bomb_ratio(path: Path) -> str:
    info = zipfile.ZipFile(path).getinfo("linalg.py")
    return f"{info.file_size / info.compress_size:.0f}"


def _lying_bomb(subs: Path, bomb: Path) -> None:
    # Declare 1000 bytes (local header offset 22, central directory offset 24): the declared
    # sizes and the ratio then pass, and only reading reveals the lie.
    shutil.copy(bomb, subs / "carol.zip")
    patch_zip(subs / "carol.zip", local_offset=22, central_offset=24, value=1000)


def _encrypted(subs: Path) -> None:
    # General-purpose flag bit 0 (local offset 6, central offset 8; both 2-byte fields, the
    # 4-byte patch also rewrites the compression method with its own value 8 = deflate).
    write_zip(subs / "carol.zip", {"linalg.py": REF})
    patch_zip(subs / "carol.zip", local_offset=6, central_offset=8, value=0x1 | 8 << 16)


def _symlink_member(subs: Path) -> None:
    with zipfile.ZipFile(subs / "carol.zip", "w") as zf:
        zf.writestr("linalg.py", REF)
        link = zipfile.ZipInfo("nn.py")
        link.create_system = 3  # unix: external_attr holds st_mode
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")


NOT_UTF8 = b"import numpy as np\n# caf\xe9\n"
PATTERN = bytes(range(256)) * 400  # 100 KiB, stored as is


def _stored(path: Path, members: dict[str, str | bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)

FEW = dict(max_files=3)

# (id, build(subs, bomb), limits, student, expected error)
BAD = [
    ("empty-folder", lambda s, b: (s / "alice").mkdir(), {}, "alice",
     "alice/ holds no .py files; submit the exercise files (such as linalg.py) in a folder, a "
     ".zip or as a single .py file"),
    ("folder-without-py", lambda s, b: write_tree(s / "alice", {"notes.txt": "x",
                                                                "report.pdf": "y"}), {}, "alice",
     "alice/ holds no .py files (it holds only notes.txt, report.pdf); submit the exercise "
     "files (such as linalg.py) in a folder, a .zip or as a single .py file"),
    ("empty-zip", lambda s, b: write_zip(s / "carol.zip", {}), {}, "carol",
     "carol.zip holds no .py files; submit the exercise files (such as linalg.py) in a folder, "
     "a .zip or as a single .py file"),
    ("not-utf8-in-folder", lambda s, b: write_tree(s / "alice", {"linalg.py": NOT_UTF8}), {},
     "alice", "alice/linalg.py is not UTF-8 text (byte 0xe9 on line 2); save it as UTF-8 in "
              "the editor and submit again"),
    ("not-utf8-file", lambda s, b: (s / "bob.py").write_bytes(NOT_UTF8), {}, "bob",
     "bob.py is not UTF-8 text (byte 0xe9 on line 2); save it as UTF-8 in the editor and "
     "submit again"),
    ("not-utf8-in-zip", lambda s, b: write_zip(s / "carol.zip", {"carol/linalg.py": NOT_UTF8}),
     {}, "carol", "carol.zip: carol/linalg.py is not UTF-8 text (byte 0xe9 on line 2); save "
                  "it as UTF-8 in the editor and submit again"),
    ("zip-slip-dotdot", lambda s, b: write_zip(s / "carol.zip", {"linalg.py": REF,
                                                                 "../evil.py": "x = 1"}), {},
     "carol", "carol.zip holds an entry whose path leads out of the zip (../evil.py); make the "
              "zip again from the folder itself, without '..' in any path"),
    ("zip-slip-nested-dotdot", lambda s, b: write_zip(s / "carol.zip", {
        "carol/linalg.py": REF, "carol/../../evil.py": "x = 1"}), {}, "carol",
     "carol.zip holds an entry whose path leads out of the zip (carol/../../evil.py); make the "
     "zip again from the folder itself, without '..' in any path"),
    ("zip-slip-backslash", lambda s, b: write_zip(s / "carol.zip", {"linalg.py": REF,
                                                                    "..\\evil.py": "x = 1"}),
     {}, "carol", "carol.zip holds an entry whose path leads out of the zip (..\\evil.py); make "
                  "the zip again from the folder itself, without '..' in any path"),
    ("zip-absolute-path", lambda s, b: write_zip(s / "carol.zip", {"linalg.py": REF,
                                                                   "/etc/x.py": "x = 1"}), {},
     "carol", "carol.zip holds an entry with an absolute path (/etc/x.py); make the zip again "
              "from inside the folder, so every path is relative"),
    ("zip-drive-path", lambda s, b: write_zip(s / "carol.zip", {"C:/x.py": "x = 1"}), {},
     "carol", "carol.zip holds an entry with an absolute path (C:/x.py); make the zip again "
              "from inside the folder, so every path is relative"),
    ("zip-symlink", lambda s, b: _symlink_member(s), {}, "carol",
     "carol.zip holds a symbolic link (nn.py); zip the files themselves, not links to them"),
    ("folder-symlink", lambda s, b: (write_tree(s / "alice", {"linalg.py": REF}) / "nn.py")
     .symlink_to("/etc/passwd"), {}, "alice",
     "alice/nn.py is a symbolic link; submit the files themselves, not links to them"),
    ("folder-symlinked-folder", lambda s, b: (write_tree(s / "alice", {"linalg.py": REF})
                                              / "lib").symlink_to("/usr/lib"), {}, "alice",
     "alice/lib is a symbolic link; submit the files themselves, not links to them"),
    ("top-level-symlink", lambda s, b: (s / "frank.py").symlink_to(
        write_tree(s.parent / "elsewhere", {"frank.py": REF}) / "frank.py"), {}, "frank",
     "frank.py is a symbolic link; put the submission itself in the submissions folder, not a "
     "link to it"),
    ("bomb-declared-size", lambda s, b: shutil.copy(b, s / "carol.zip"), {}, "carol",
     "carol.zip would unpack to 200.0 MiB, more than the 32.0 MiB allowed; submit only your "
     ".py files"),
    ("bomb-ratio", lambda s, b: shutil.copy(b, s / "carol.zip"),
     dict(max_total_bytes=300 * MiB), "carol", None),  # message built in the test (ratio)
    ("bomb-lying-header", _lying_bomb, {}, "carol",
     "carol.zip is not a readable zip archive (Bad CRC-32 for file 'linalg.py'); make the zip "
     "again, with ordinary (deflate) compression and no password"),
    ("zip-too-many-files", lambda s, b: write_zip(s / "carol.zip", {
        f"f{i}.py": "" for i in range(4)}), FEW, "carol",
     "carol.zip holds 4 entries, more than the 3 allowed; submit only your .py files"),
    ("folder-too-many-files", lambda s, b: write_tree(s / "alice", {
        f"f{i}.py": "" for i in range(4)}), FEW, "alice",
     "alice/ holds more than 3 files; submit only your .py files"),
    ("zip-file-too-large", lambda s, b: _stored(s / "carol.zip", {"linalg.py": REF,
                                                                  "data.bin": PATTERN}),
     dict(max_total_bytes=50_000), "carol",
     "carol.zip is {size}, more than the 48.8 KiB a submission may unpack to; submit only "
     "your .py files"),
    ("not-a-zip", lambda s, b: (s / "carol.zip").write_text("not a zip"), {}, "carol",
     "carol.zip is not a readable zip archive (File is not a zip file); make the zip again, "
     "with ordinary (deflate) compression and no password"),
    ("zip-encrypted", lambda s, b: _encrypted(s), {}, "carol",
     "carol.zip: linalg.py is password-protected; make the zip again without a password"),
    ("zip-duplicate-entry", lambda s, b: write_zip(s / "carol.zip", [("linalg.py", REF),
                                                                     ("linalg.py", STUB)]),
     {}, "carol", "carol.zip holds two entries named linalg.py; make the zip again"),
    ("nested-too-deep", lambda s, b: write_tree(s / "alice", {"a/b/c/linalg.py": REF}), {},
     "alice", "alice/ has its .py files more than 2 folders down (in a/b/c/); put them at the "
              "top of the folder or zip, like exercises/"),
    ("zip-nested-too-deep", lambda s, b: write_zip(s / "carol.zip", {
        "carol/a/b/linalg.py": REF}), {}, "carol",
     "carol.zip has its .py files more than 2 folders down (in carol/a/b/); put them at the "
     "top of the folder or zip, like exercises/"),
    ("nested-ambiguous", lambda s, b: write_tree(s / "alice", {"v1/linalg.py": STUB,
                                                               "v2/linalg.py": REF}), {},
     "alice", "alice/ holds no .py files at its top but several folders with .py files (v1/, "
              "v2/); keep only the folder to grade"),
    ("nested-ambiguous-second-level", lambda s, b: write_zip(s / "carol.zip", {
        "carol/v1/linalg.py": STUB, "carol/v2/linalg.py": REF}), {}, "carol",
     "carol.zip holds no .py files at its top but several folders with .py files (carol/v1/, "
     "carol/v2/); keep only the folder to grade"),
    ("no-topic-names", lambda s, b: write_tree(s / "alice", {"a.py": REF, "b.py": REF}), {},
     "alice", "alice/ holds a.py, b.py but none is named after an exercise topic (linalg, nn); "
              "name each file after its topic, like exercises/, or submit a single .py file"),
    ("non-python-file", lambda s, b: (s / "erin.pdf").write_bytes(b"%PDF-1.4"), {}, "erin",
     "erin.pdf is not a .py file, a notebook, a .zip or a folder; ask the student for their "
     "exercise files as a folder, a .zip, a single .py file or an .ipynb"),
    ("fifo-in-folder", lambda s, b: os.mkfifo(write_tree(s / "alice", {}) / "linalg.py"), {},
     "alice", "alice/linalg.py is not a regular file; submit ordinary files"),
    ("non-utf8-name", lambda s, b: os.mkdir(os.fsencode(s) + b"/caf\xe9"), {}, "caf\ufffd",
     "the name 'caf\ufffd' is not UTF-8 text; rename it and run the batch again"),
    ("non-utf8-name-inside", lambda s, b: (write_tree(s / "alice", {"linalg.py": REF}), (
        Path(os.fsdecode(os.fsencode(s) + b"/alice/caf\xe9.py")).write_text("X = 1\n"))), {},
     "alice", "alice/caf\\udce9.py has a file name that is not UTF-8 text; rename it and "
              "submit again"),
    ("control-characters-in-names", lambda s, b: write_zip(s / "carol.zip", {
        "\x1b[2J/../evil.py": "x = 1"}), {}, "carol",
     "carol.zip holds an entry whose path leads out of the zip (\\x1b[2J/../evil.py); make the "
     "zip again from the folder itself, without '..' in any path"),
]


@pytest.mark.parametrize("build, limits, student, message",
                         [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_input_is_an_error_row_and_the_batch_goes_on(run, subs, work, bomb, build, limits,
                                                         student, message):
    build(subs, bomb)
    write_tree(subs / "zoe", {"linalg.py": REF})
    if message is None:
        message = (f"carol.zip: linalg.py is compressed {_bomb_ratio(subs / 'carol.zip')} to 1, "
                   "more than the 100 to 1 allowed (a zip bomb?); submit only your .py files")
    if "{size}" in message:
        message = message.format(size=intake._size((subs / "carol.zip").stat().st_size))
    rows = run(**limits)
    assert sorted(rows) == sorted([student, "zoe"])
    row = rows[student]
    assert row.error == message
    assert row.submission is None and row.content_hash is None
    assert row.source.parent == subs
    assert not (work / student).exists()
    assert rows["zoe"].error is None and rows["zoe"].submission == work / "zoe"
    assert sorted(p.name for p in work.rglob("*")) == [intake.MARKER, "linalg.py", "zoe"]
    assert not Path("/etc/x.py").exists()  # the absolute member (tests may run as root)


def test_an_unreadable_file_is_an_error_row(run, subs, monkeypatch):
    # Permissions cannot make a file unreadable for root (CI runs as root): refuse the open.
    write_tree(subs / "alice", {"linalg.py": REF})
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if Path(path).name == "linalg.py" and Path(path).parent.name == "alice":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    row = run()["alice"]
    assert row.error == ("alice/linalg.py could not be read (Permission denied); make it "
                         "readable and run the batch again")
    assert row.submission is None


@pytest.mark.parametrize("second, names", [("dave.zip", "dave/, dave.zip"),
                                           ("Dave.zip", "Dave.zip, dave/"),
                                           ("dave.py", "dave/, dave.py")])
def test_two_submissions_for_one_student_are_both_errors(run, subs, work, second, names):
    write_tree(subs / "dave", {"linalg.py": REF})
    if second.endswith(".zip"):
        write_zip(subs / second, {"linalg.py": REF})
    else:
        (subs / second).write_text(REF)
    run()
    rows = run.rows
    assert len(rows) == 2
    message = (f"2 submissions for student {{}} ({names}): nothing was graded for this "
               "student; keep only one and run the batch again")
    if second == "Dave.zip":
        message += " (names that differ only in case count as the same student)"
    for row in rows:
        assert row.error == message.format(row.student)
        assert row.submission is None
    assert sorted(r.source.name for r in rows) == sorted([second, "dave"])
    assert not (work / "dave").exists() and not (work / "Dave").exists()


def test_read_counted_never_trusts_a_header(tmp_path):
    # zipfile itself stops at the declared size (the lying-header case above fails on its
    # CRC), so the counter is tested on a stream that returns more than was declared.
    stream = io.BytesIO(bytes(5000))
    with pytest.raises(intake._Reject) as caught:
        intake._read_counted(stream, declared=1000, budget=MiB, shown="carol.zip: linalg.py")
    assert str(caught.value) == ("carol.zip: linalg.py unpacks to more than the 1000 bytes its "
                                 "header declares; the zip is damaged or forged: make it again")
    with pytest.raises(intake._Reject) as caught:
        intake._read_counted(io.BytesIO(bytes(5000)), declared=None, budget=4000,
                             shown="alice/linalg.py")
    assert str(caught.value) == ("alice/linalg.py holds more than the 3.9 KiB left of what a "
                                 "submission may hold; submit only your .py files")
    assert intake._read_counted(io.BytesIO(b"x = 1\n"), declared=6, budget=6, shown="") == (
        b"x = 1\n")


def test_the_total_counts_across_files(run, subs):
    # Each file is under the limit; together they are not (bytes counted while reading).
    write_tree(subs / "alice", {"linalg.py": "# " + "x" * 600, "nn.py": "# " + "y" * 600})
    row = run(max_total_bytes=1000)["alice"]
    assert row.error == ("alice/nn.py holds more than the 398 bytes left of what a submission "
                         "may hold; submit only your .py files")


# ----------------------------------------------------------------------------- good input

@pytest.fixture(scope="module")
def good(tmp_path_factory) -> tuple[Path, dict[str, Intake]]:
    """(working folder, rows): one student per good kind."""
    root = tmp_path_factory.mktemp("good")
    subs = root / "subs"
    write_tree(subs / "alice", {"linalg.py": REF, "helpers.py": "X = 1\n", ".DS_Store": b"\0\xff",
                                "__pycache__/linalg.cpython-311.pyc": b"\xff"})
    (subs / "bob.py").write_text(STUB)
    write_zip(subs / "carol.zip", {"linalg.py": REF, "__MACOSX/._linalg.py": b"\0\x05\xff"})
    write_zip(subs / "dan.zip", {"dan/": b"", "dan/linalg.py": STUB, "dan/.DS_Store": b"\xff"})
    write_tree(subs / "eve", {"exercises/linalg.py": REF, "README.md": "my work"})
    write_tree(subs / "gus", {"x/exercises/linalg.py": REF})
    write_zip(subs / "fay.zip", {"solution.py": REF})
    write_zip(subs / "hal.zip", {"hal/linalg.py": STUB})
    (subs / "numpy.py").write_text(REF)
    (subs / "ivy.PY").write_text(REF)
    (subs / ".DS_Store").write_bytes(b"\0\xff")
    write_tree(subs / "__MACOSX", {"._carol.zip": b"\0\xff"})
    rows = discover(subs, workdir=root / "work", topics=TOPICS)
    return root / "work", {r.student: r for r in rows}


# student, graded as (path relative to the working folder), reference or stub
GOOD = [
    ("alice", "alice", REF),   # a folder like exercises/ (hidden files and caches ignored)
    ("bob", "bob/bob.py", STUB),  # a single .py
    ("carol", "carol", REF),   # a zip of files (__MACOSX ignored)
    ("dan", "dan", STUB),      # a zip of one folder
    ("eve", "eve", REF),       # a folder nested one level
    ("gus", "gus", REF),       # a folder nested two levels
    ("fay", "fay/solution.py", REF),  # a zip of one .py not named after a topic
    ("hal", "hal", STUB),      # a zip of one folder holding one topic file
    ("numpy", "numpy/submission.py", REF),  # a single .py named like a module the worker uses
    ("ivy", "ivy/ivy.py", REF),  # an upper-case suffix
]


@pytest.mark.parametrize("student, where, source", GOOD, ids=[g[0] for g in GOOD])
def test_good_submissions_are_graded(good, student, where, source):
    work, rows = good
    row = rows[student]
    assert row.error is None, row.error
    assert row.submission == work / where
    assert row.content_hash == content_hash(
        {p.name: p.read_bytes() for p in (work / student).iterdir()})
    result = graded(row.submission)
    if source is REF:
        assert result.status == "passed", result.message
        assert result.score == result.max_score > 0
    else:
        assert result.status == "not_implemented"
        assert result.score == 0
        assert "not implemented yet" in result.message


def test_the_topics_default_to_the_catalogs(tmp_path, subs):
    # linalg is a topic of the catalog, hello is none: one folder submission, one error.
    write_tree(subs / "alice", {"linalg.py": REF, "helpers.py": ""})
    write_tree(subs / "bob", {"hello.py": "", "helpers.py": ""})
    rows = {r.student: r for r in discover(subs, workdir=tmp_path / "work")}
    assert rows["alice"].submission == tmp_path / "work" / "alice"
    assert rows["bob"].error.startswith("bob/ holds hello.py, helpers.py but none is named "
                                        "after an exercise topic (")
    assert "linalg" in rows["bob"].error


def test_only_the_students_py_files_are_copied(good):
    work, rows = good
    assert sorted(rows) == [g[0] for g in sorted(GOOD)]
    assert sorted(p.name for p in (work / "alice").iterdir()) == ["helpers.py", "linalg.py"]
    assert sorted(p.name for p in (work / "eve").iterdir()) == ["linalg.py"]
    assert (work / "carol" / "linalg.py").read_text() == REF
    assert (work / intake.MARKER).is_file()


# ----------------------------------------------------------------------------- content hash

def test_content_hash_is_pinned():
    # The gradebook keeps these across versions: a change here regrades every class.
    assert content_hash({"linalg.py": b"x = 1\n"}) == (
        "c7b7d082996138c525d8892ff683293361973b39850d66144284686ff36f51aa")


def test_content_hash_ignores_order_and_sees_every_byte():
    files = {"linalg.py": REF.encode(), "nn.py": b"def relu(x):\n    return x\n"}
    same = content_hash(files)
    assert content_hash(dict(reversed(list(files.items())))) == same
    changed = dict(files, **{"nn.py": b"def relu(x):\n    return x \n"})
    assert content_hash(changed) != same
    renamed = {"linalg.py": files["linalg.py"], "nn2.py": files["nn.py"]}
    assert content_hash(renamed) != same
    # Bytes moved from one file to the next: the length prefixes tell them apart.
    assert content_hash({"a.py": b"xy", "b.py": b""}) != content_hash({"a.py": b"x",
                                                                       "b.py": b"y"})


def test_same_content_same_hash_whatever_the_container(run, subs):
    files = {"linalg.py": REF, "nn.py": "X = 2\n"}
    write_tree(subs / "alice", files)
    write_zip(subs / "carol.zip", list(files.items()))
    write_zip(subs / "dan.zip", [(f"dan/{k}", v) for k, v in reversed(files.items())])
    write_zip(subs / "eve.zip", {"linalg.py": REF, "nn.py": "X = 3\n"})
    rows = run()
    assert rows["alice"].content_hash == rows["carol"].content_hash == rows["dan"].content_hash
    assert rows["alice"].content_hash == content_hash(
        {k: v.encode() for k, v in files.items()})
    assert rows["eve"].content_hash != rows["alice"].content_hash


def test_a_second_run_gives_the_same_hash_and_a_fresh_copy(run, subs, work):
    write_tree(subs / "alice", {"linalg.py": REF, "nn.py": "X = 1\n"})
    first = run()["alice"]
    (subs / "alice" / "nn.py").unlink()
    second = run()["alice"]
    assert sorted(p.name for p in second.submission.iterdir()) == ["linalg.py"]
    assert second.content_hash != first.content_hash
    (subs / "alice" / "nn.py").write_text("X = 1\n")
    assert run()["alice"].content_hash == first.content_hash
    # A submission broken since the last run leaves no stale copy to grade.
    (subs / "alice" / "nn.py").write_bytes(NOT_UTF8)
    assert run()["alice"].error is not None
    assert not (work / "alice").exists()


# ----------------------------------------------------------------------------- the folders

def test_a_missing_submissions_folder_raises(tmp_path):
    with pytest.raises(SubmissionError) as caught:
        discover(tmp_path / "nope", workdir=tmp_path / "work")
    assert caught.value.format_message() == (
        f"the submissions folder {tmp_path / 'nope'} does not exist; give the folder that holds "
        "one folder, .py or .zip per student")
    (tmp_path / "file").write_text("")
    with pytest.raises(SubmissionError, match="file is not a folder"):
        discover(tmp_path / "file", workdir=tmp_path / "work")


@pytest.mark.parametrize("where", ["inside", "same", "parent"])
def test_the_working_folder_must_not_overlap_the_submissions(tmp_path, subs, where):
    write_tree(subs / "alice", {"linalg.py": REF})
    workdir = {"inside": subs / "_unpacked", "same": subs, "parent": tmp_path}[where]
    before = snapshot(tmp_path, skip=tmp_path / "none")
    with pytest.raises(GraderError) as caught:
        discover(subs, workdir=workdir, topics=TOPICS)
    assert caught.value.format_message() == (
        f"the working folder {workdir} overlaps the submissions folder {subs}; choose an "
        "output folder outside it")
    assert snapshot(tmp_path, skip=tmp_path / "none") == before


def test_a_foreign_working_folder_is_never_emptied(tmp_path, subs):
    write_tree(subs / "alice", {"linalg.py": REF})
    foreign = write_tree(tmp_path / "home", {"alice/thesis.tex": "years of work"})
    with pytest.raises(GraderError) as caught:
        discover(subs, workdir=foreign, topics=TOPICS)
    assert caught.value.format_message() == (
        f"the working folder {foreign} already holds files that intake did not put there; "
        "choose a new or empty folder")
    assert (foreign / "alice" / "thesis.tex").read_text() == "years of work"
