"""The student bundle: public checks only, no reference code, and `grade` works in it."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import frozen, release
from grader.catalog import ROOT, SOLUTIONS_DIR, catalog, select


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "bundle"
    report = release.release(out=out, exercises=select(()))
    assert report.exercises == list(catalog())
    assert report.hidden_checks_removed == sum(c.hidden for e in catalog().values()
                                               for c in e.checks)
    return out


def _bundle_text(bundle: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in bundle.rglob("*")
                     if p.is_file() and p.suffix in (".py", ".md", ".toml", ".j2", ".json"))


def _run(bundle: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(bundle), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=bundle, env=env,
                          capture_output=True, text=True, timeout=300)


def test_bundle_has_stubs_runtime_readme_and_no_solutions(bundle):
    assert not (bundle / "solutions").exists()
    assert (bundle / "README.md").read_text().count("Hidden checks") == 1
    for topic in {e.topic for e in catalog().values()}:
        assert (bundle / "exercises" / f"{topic}.py").read_text() == (
            ROOT / "exercises" / f"{topic}.py").read_text()
    assert not (bundle / "grader" / "release.py").exists()


def test_no_reference_code_is_in_the_bundle(bundle):
    text = _bundle_text(bundle)
    for solution in SOLUTIONS_DIR.glob("*.py"):
        stub = (ROOT / "exercises" / solution.name)
        stub_text = stub.read_text() if stub.exists() else ""
        for line in solution.read_text().splitlines():
            line = line.strip()
            if len(line) > 30 and line not in stub_text and not line.startswith(('"""', "#")):
                assert line not in text, f"reference line leaked: {line}"


def test_no_hidden_check_and_no_mistake_variant_code_is_in_the_bundle(bundle):
    owners = release.bank_modules(list(catalog().values()))
    files = {e: m.__name__.rsplit(".", 1)[1] + ".py" for e, m in owners.items()}
    for name in set(files.values()):
        original = ast.parse((ROOT / "grader" / "bank" / name).read_text())
        source = (bundle / "grader" / "bank" / name).read_text()
        filtered = ast.parse(source)
        kept = {n.name for n in filtered.body if isinstance(n, ast.FunctionDef)}
        dropped = {n.name for n in original.body if isinstance(n, ast.FunctionDef)} - kept
        used = {n.id for n in ast.walk(filtered) if isinstance(n, ast.Name)}
        assert not dropped & used, dropped & used
        assert "hidden=True" not in (bundle / "grader" / "bank" / name).read_text()
    # A hidden check's name may still be a public check's name of another exercise in the
    # same module (eigen's matrix_power has a public 'non_symmetric').
    public = {(files[e.id], c.name) for e in catalog().values() for c in e.checks
              if not c.hidden}
    for exercise in catalog().values():
        bundle_bank = (bundle / "grader" / "bank" / files[exercise.id]).read_text()
        for check in exercise.checks:
            quoted = (f"'{check.name}'", f'"{check.name}"')
            if check.hidden and (files[exercise.id], check.name) not in public:
                assert not any(q in bundle_bank for q in quoted), check.name
            else:
                assert any(q in bundle_bank for q in quoted), check.name


def test_frozen_data_holds_only_public_cases(bundle):
    tables = {p.name: frozen.unpack(p.read_bytes())
              for p in (bundle / "grader" / "_frozen").glob("*.bin")}
    digests = set(tables["mistakes.bin"])
    for name, table in tables.items():
        if name.startswith("expected."):
            digests |= set(table)
    for exercise in catalog().values():
        for check in exercise.checks:
            digest = frozen.case_digest(check.build(exercise.check_rng(check, 0)))
            assert (digest in digests) == (not check.hidden), (exercise.id, check.name)


def test_grade_in_the_bundle_runs_public_checks_and_says_so(bundle):
    stubs = _run(bundle, "grade")
    assert stubs.returncode == 0, stubs.stderr
    assert "TODO linalg.dot" in stubs.stdout
    assert "only the public checks run here" in stubs.stdout
    public_total = sum(c.points for e in catalog().values() for c in e.checks if not c.hidden)
    assert f"Total: 0 / {public_total:g}" in stubs.stdout
    reference = _run(bundle, "grade", "-s", str(SOLUTIONS_DIR), "--json", "r.json")
    assert reference.returncode == 0, reference.stderr
    assert f"Total: {public_total:g} / {public_total:g}" in reference.stdout


def test_known_mistakes_are_still_diagnosed_in_the_bundle(bundle, tmp_path):
    wrong = tmp_path / "linalg.py"
    wrong.write_text("def dot(u, v):\n    return sum(u[i] * v[i] for i in range(len(u) - 1))\n")
    run = _run(bundle, "grade", "linalg.dot", "-s", str(wrong))
    assert "FAIL linalg.dot" in run.stdout
    assert "-> your loop skips the last element" in run.stdout


def test_a_non_literal_hidden_flag_is_refused():
    source = "from grader.catalog import Check\nH = True\nEXERCISES = (Check('a', f, j, hidden=H),)\n"
    with pytest.raises(release.ReleaseError, match="line 3: hidden= must be a literal"):
        release.filter_bank_source(source)


def test_a_helper_another_bank_module_imports_is_kept_in_the_bundle():
    """A topic split over two modules (eigen_maps imports eigen's helpers): what the second
    imports from the first stays in the first's bundle copy, though no public check of the
    first uses it."""
    source = ("from grader.catalog import Check, Exercise\n"
              "def _shared(x):\n    return _deeper(x)\n"
              "def _deeper(x):\n    return x\n"
              "def _unused(x):\n    return x\n"
              "EXERCISES = ()\n")
    kept, _ = release.filter_bank_source(source, {"_shared"})
    names = {n.name for n in ast.parse(kept).body if isinstance(n, ast.FunctionDef)}
    assert names == {"_shared", "_deeper"}
    alone, _ = release.filter_bank_source(source)
    assert not {n for n in ast.parse(alone).body if isinstance(n, ast.FunctionDef)}
    needed = release._with_imports({"eigen_maps"})
    assert "_raises_value_error" in needed["eigen"] and needed["eigen_maps"] == set()


def test_release_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(release.ReleaseError, match="exists and is not empty"):
        release.release(out=tmp_path, exercises=select(("linalg.dot",)), verify=False)
    assert (tmp_path / "keep.txt").read_text() == "mine"
