"""`grader new TOPIC.NAME` in a temporary copy of the tree's layout: the files it writes, the
scaffolded exercise graded through the real worker path, the refusals; and the worked example
of docs/authoring.md, extracted from the page and graded."""

from __future__ import annotations

import ast
import importlib.util
import itertools
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import catalog as catalog_mod
from grader import grading, scaffold
from grader.catalog import ROOT, Exercise
from grader.release import filter_bank_source
from grader.scaffold import ScaffoldError, new_cmd, new_exercise

_modules = itertools.count()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """An empty tree laid out like the grader's source: exercises/, solutions/, grader/bank/."""
    for folder in ("exercises", "solutions", "grader/bank"):
        (tmp_path / folder).mkdir(parents=True)
    return tmp_path


@pytest.fixture
def linalg_tree(tree: Path) -> Path:
    """The tree with copies of the linalg topic (a stable one), to append to."""
    for folder in ("exercises", "solutions", "grader/bank"):
        shutil.copy2(ROOT / folder / "linalg.py", tree / folder / "linalg.py")
    return tree


@pytest.fixture
def graded_in(monkeypatch):
    """``graded_in(tree)(exercise, folder) -> ExerciseResult``: grade with the tree's
    references (no timing, hidden checks included), with no reference or case cached."""

    def use(tree: Path):
        monkeypatch.setattr(catalog_mod, "SOLUTIONS_DIR", tree / "solutions")

        def grade(exercise: Exercise, folder: Path):
            grading._reference.cache_clear()
            grading._prepared.cache_clear()
            result = grading.grade(submission=folder, exercises=[exercise], time_it=False)
            return result.exercises[0]

        return grade

    yield use
    grading._reference.cache_clear()
    grading._prepared.cache_clear()


def _load_bank(path: Path):
    """Import a bank module from its file, under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"scaffolded_bank_{next(_modules)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _imports(source: str) -> list[str]:
    return [ast.unparse(s) for s in ast.parse(source).body
            if isinstance(s, (ast.Import, ast.ImportFrom))]


def _snapshot(tree: Path) -> dict[str, str]:
    return {str(p.relative_to(tree)): p.read_text() for p in sorted(tree.rglob("*.py"))}


# ----------------------------------------------------------------------------- a new topic

def test_a_new_topic_gets_three_files_with_todos(tree):
    done = new_exercise("widgets.twice", root=tree)
    assert done.exercise_id == "widgets.twice"
    assert done.files == ((tree / "exercises/widgets.py", "created"),
                          (tree / "solutions/widgets.py", "created"),
                          (tree / "grader/bank/widgets.py", "created"))
    stub = (tree / "exercises/widgets.py").read_text()
    assert stub.startswith('"""TODO: the topic in a few words.\n')
    assert "\n\n\ndef twice(x):\n" in stub
    assert '"""TODO: what twice computes, in one line.  [widgets.twice]\n' in stub
    for section in ("Math:   TODO", "Args:\n        x: TODO", "Returns:\n        TODO",
                    "Raises:\n        TODO", "Performance: TODO"):
        assert section in stub
    assert stub.endswith('    raise NotImplementedError("widgets.twice: implement twice(x) in "\n'
                         '                              "exercises/widgets.py")\n')
    reference = (tree / "solutions/widgets.py").read_text()
    assert reference.endswith(
        "\n\ndef twice(x):\n"
        "    # TODO(widgets.twice): the reference, the one source of every check's expected "
        "result.\n"
        '    raise NotImplementedError("widgets.twice: TODO: write the reference in "\n'
        '                              "solutions/widgets.py")\n')
    bank = (tree / "grader/bank/widgets.py").read_text()
    for piece in ("def _twice_case(n: int):", "def build(rng: np.random.Generator) -> Case:",
                  'return Case((Call("twice", (x,)),), f"a vector of length {n}")',
                  "#     Mistake(\"drops_last\",", "TWICE_MISTAKES: tuple[Mistake, ...] = ()",
                  'id="widgets.twice"', 'functions=("twice",)',
                  'Check("small", _twice_case(3),',
                  "matches(rtol=1e-12, atol=1e-12, mistakes=TWICE_MISTAKES)",
                  'Check("large", _twice_case(1000),', "points=1, hidden=True",
                  "# timing=Timing(lambda rng: Call(\"twice\""):
        assert piece in bank
    assert bank.count("hidden=True") == 1
    assert bank.count("TODO") == 12
    assert bank.endswith("\n)\n\n\nEXERCISES = (TWICE,)\n")


def test_the_scaffolded_bank_imports_and_its_stub_scores_zero(tree, graded_in):
    new_exercise("widgets.twice", root=tree)
    module = _load_bank(tree / "grader/bank/widgets.py")
    (exercise,) = module.EXERCISES
    assert (exercise.id, exercise.functions, exercise.max_score) == ("widgets.twice",
                                                                     ("twice",), 2.0)
    assert [(c.name, c.hidden, c.points) for c in exercise.checks] == [("small", False, 1),
                                                                       ("large", True, 1)]
    grade = graded_in(tree)
    stub = grade(exercise, tree / "exercises")
    assert (stub.status, stub.score, stub.max_score) == ("not_implemented", 0.0, 2.0)
    assert stub.message == (f"not implemented yet: write twice in {tree}/exercises/widgets.py "
                            "(it still raises NotImplementedError)")
    assert [(c.name, c.status, c.message) for c in stub.checks] == [
        (name, "not_implemented", "not implemented yet (raises NotImplementedError)")
        for name in ("small", "large")]
    # The reference is a TODO too: graded as a submission, it is not implemented either.
    reference = grade(exercise, tree / "solutions")
    assert (reference.status, reference.score) == ("not_implemented", 0.0)
    assert reference.message == (f"not implemented yet: write twice in "
                                 f"{tree}/solutions/widgets.py (it still raises "
                                 "NotImplementedError)")
    # The release filter removes its hidden check.
    public, removed = filter_bank_source((tree / "grader/bank/widgets.py").read_text())
    assert removed == 1
    assert "Check('small'" in public and "'large'" not in public


def test_with_its_todos_filled_in_the_scaffold_grades_end_to_end(tree, graded_in):
    new_exercise("widgets.twice", root=tree)
    for folder, raised in (("exercises", "implement twice(x) in"),
                           ("solutions", "TODO: write the reference in")):
        path = tree / folder / "widgets.py"
        source = path.read_text()
        start = source.index('    raise NotImplementedError("widgets.twice: ' + raised)
        path.write_text(source[:start] + "    return 2.0 * np.asarray(x)\n")
    (exercise,) = _load_bank(tree / "grader/bank/widgets.py").EXERCISES
    grade = graded_in(tree)
    result = grade(exercise, tree / "exercises")
    assert (result.status, result.score, result.message) == ("passed", 2.0,
                                                             "all 2 checks passed")
    wrong = tree / "wrong"
    wrong.mkdir()
    (wrong / "widgets.py").write_text("import numpy as np\n\n\ndef twice(x):\n"
                                      "    return 3.0 * np.asarray(x)\n")
    result = grade(exercise, wrong)
    assert (result.status, result.score) == ("failed", 0.0)
    assert result.message.startswith("check 'small': twice for a vector of length 3: ")
    assert result.diagnosis == ("your result is the expected one times 1.5: a missing or extra "
                                "constant factor (a 1/N, a 2, a 1/(1-p)?)")


# ----------------------------------------------------------------------------- appending

def test_appending_to_a_topic_keeps_its_files_and_extends_exercises(linalg_tree, graded_in):
    before = _snapshot(linalg_tree)
    done = new_exercise("linalg.trace", root=linalg_tree)
    assert [how for _, how in done.files] == ["appended"] * 3
    bank = (linalg_tree / "grader/bank/linalg.py").read_text()
    head, tail = before["grader/bank/linalg.py"].split("EXERCISES = (DOT, PINV, PCA)")
    assert bank.startswith(head.rstrip("\n") + "\n\n\n# ------")
    assert bank.endswith("\n)\n\n\nEXERCISES = (DOT, PINV, PCA, TRACE)" + tail)
    assert _imports(bank) == _imports(before["grader/bank/linalg.py"])  # none was missing
    for folder in ("exercises", "solutions"):
        text = (linalg_tree / folder / "linalg.py").read_text()
        assert text.startswith(before[f"{folder}/linalg.py"].rstrip("\n") + "\n\n\ndef trace(x):")
    module = _load_bank(linalg_tree / "grader/bank/linalg.py")
    assert [e.id for e in module.EXERCISES] == ["linalg.dot", "linalg.pinv", "linalg.pca",
                                                "linalg.trace"]
    stub = graded_in(linalg_tree)(module.EXERCISES[-1], linalg_tree / "exercises")
    assert (stub.status, stub.score) == ("not_implemented", 0.0)


def test_missing_imports_are_added_after_the_last_import(tree):
    path = tree / "grader/bank/widgets.py"
    path.write_text('"""Checks of exercises/widgets.py."""\n\nfrom grader.catalog import '
                    'Exercise\n\nEXERCISES = ()\n')
    new_exercise("widgets.twice", root=tree)
    text = path.read_text()
    assert text.startswith('"""Checks of exercises/widgets.py."""\n\n'
                           "from grader.catalog import Exercise\n"
                           "import numpy as np\n"
                           "from grader.catalog import Call, Case, Check\n"
                           "from grader.judges import Mistake, matches\n\n\n# -----")
    assert text.endswith("\n\n\nEXERCISES = (TWICE,)\n")
    assert [e.id for e in _load_bank(path).EXERCISES] == ["widgets.twice"]


def test_a_long_exercises_tuple_is_wrapped(tree):
    names = [f"EXERCISE_NUMBER_{i}" for i in range(6)]
    path = tree / "grader/bank/widgets.py"
    path.write_text("".join(f"{n} = None\n" for n in names)
                    + f"EXERCISES = ({', '.join(names)})\n")
    new_exercise("widgets.twice", root=tree)
    text = path.read_text()
    assert text.endswith(
        "EXERCISES = (EXERCISE_NUMBER_0, EXERCISE_NUMBER_1, EXERCISE_NUMBER_2, EXERCISE_NUMBER_3,\n"
        "             EXERCISE_NUMBER_4, EXERCISE_NUMBER_5, TWICE)\n")


# ----------------------------------------------------------------------------- refusals

MALFORMED = [
    ("linalg", "malformed exercise id 'linalg': write TOPIC.NAME in lower case letters, digits "
               "and underscores, each starting with a letter (e.g. linalg.trace)"),
    ("Linalg.dot", "malformed exercise id 'Linalg.dot': write TOPIC.NAME"),
    ("linalg.dot.x", "malformed exercise id 'linalg.dot.x': write TOPIC.NAME"),
    ("linalg.2d", "malformed exercise id 'linalg.2d': write TOPIC.NAME"),
    ("lin-alg.dot", "malformed exercise id 'lin-alg.dot': write TOPIC.NAME"),
    ("linalg.", "malformed exercise id 'linalg.': write TOPIC.NAME"),
    ("linalg.def", "malformed exercise id 'linalg.def': 'def' is a Python keyword"),
    ("class.dot", "malformed exercise id 'class.dot': 'class' is a Python keyword"),
    ("numpy.dot", "topic 'numpy' of 'numpy.dot' is the name of a module the grader or the "
                  "student's code imports; choose another topic"),
    ("random.choice", "topic 'random' of 'random.choice' is the name of a module"),
]


@pytest.mark.parametrize("exercise_id, message", MALFORMED, ids=[i for i, _ in MALFORMED])
def test_a_malformed_id_is_refused(tree, exercise_id, message):
    with pytest.raises(ScaffoldError) as err:
        new_exercise(exercise_id, root=tree)
    assert err.value.exit_code == 2
    assert err.value.message.startswith(message)
    assert _snapshot(tree) == {}


def test_an_existing_exercise_is_refused(linalg_tree):
    before = _snapshot(linalg_tree)
    with pytest.raises(ScaffoldError) as err:
        new_exercise("linalg.dot", root=linalg_tree)
    assert err.value.message == ("exercise linalg.dot already exists: grader/bank/linalg.py "
                                 "declares it")
    (linalg_tree / "solutions/widgets.py").write_text("def twice(x):\n    return 2 * x\n")
    with pytest.raises(ScaffoldError) as err:
        new_exercise("widgets.twice", root=linalg_tree)
    assert err.value.message == ("exercise widgets.twice already exists: solutions/widgets.py "
                                 "already defines 'twice'")
    assert _snapshot(linalg_tree) == {**before,
                                      "solutions/widgets.py": "def twice(x):\n    return 2 * x\n"}


UNSAFE = {
    "computed": ("ALL = ()\nEXERCISES = tuple(ALL)\n",
                 "grader/bank/widgets.py cannot be appended to safely: EXERCISES (line 2) is not "
                 "a literal tuple of names like `EXERCISES = (DOT, PINV)`; add the exercise by "
                 "hand (docs/authoring.md)"),
    "absent": ('"""No exercises yet."""\n',
               "grader/bank/widgets.py cannot be appended to safely: it has no top-level "
               "`EXERCISES = (...)`; add the exercise by hand (docs/authoring.md)"),
    "twice": ("EXERCISES = ()\nEXERCISES += ()\n",
              "grader/bank/widgets.py cannot be appended to safely: it binds EXERCISES more "
              "than once; add the exercise by hand (docs/authoring.md)"),
    "syntax": ("EXERCISES = (\n",
               "grader/bank/widgets.py, line 1 cannot be parsed (SyntaxError), so the new "
               "exercise cannot be appended to it safely; fix it first"),
    "clash": ("def _twice_case(n):\n    pass\n\n\nEXERCISES = ()\n",
              "grader/bank/widgets.py cannot be appended to safely: it already defines "
              "_twice_case, which the new exercise's declaration would replace; add the "
              "exercise by hand (docs/authoring.md)"),
}


@pytest.mark.parametrize("case", list(UNSAFE))
def test_a_bank_module_that_cannot_be_appended_to_safely_is_refused(tree, case):
    source, message = UNSAFE[case]
    (tree / "grader/bank/widgets.py").write_text(source)
    (tree / "exercises/widgets.py").write_text('"""Widgets."""\n')
    before = _snapshot(tree)
    with pytest.raises(ScaffoldError) as err:
        new_exercise("widgets.twice", root=tree)
    assert (err.value.exit_code, err.value.message) == (2, message)
    assert _snapshot(tree) == before


def test_a_stub_file_that_does_not_parse_is_refused(tree):
    (tree / "exercises/widgets.py").write_text("def broken(:\n")
    with pytest.raises(ScaffoldError) as err:
        new_exercise("widgets.twice", root=tree)
    assert err.value.message == ("exercises/widgets.py, line 1 cannot be parsed (SyntaxError), "
                                 "so the new exercise cannot be appended to it safely; fix it "
                                 "first")
    assert _snapshot(tree) == {"exercises/widgets.py": "def broken(:\n"}


def test_a_root_without_the_layout_is_refused(tmp_path):
    with pytest.raises(ScaffoldError) as err:
        new_exercise("widgets.twice", root=tmp_path)
    assert err.value.message == (f"{tmp_path}/exercises does not exist: run `grader new` in the "
                                 "grader's source tree (the one with exercises/, solutions/ and "
                                 "grader/bank/)")


# ----------------------------------------------------------------------------- the command

def test_new_command_lists_the_files_and_next_steps(tree, monkeypatch):
    monkeypatch.setattr(scaffold, "ROOT", tree)
    out = CliRunner().invoke(new_cmd, ["widgets.twice"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        " created exercises/widgets.py",
        " created solutions/widgets.py",
        " created grader/bank/widgets.py",
        "Next: fill in the TODOs (docs/authoring.md), then",
        "  grade widgets.twice --submission solutions   the reference: full marks",
        "  grade widgets.twice                          the stub: 0, not implemented yet",
        "  grader validate widgets.twice                every check before release"]
    out = CliRunner().invoke(new_cmd, ["widgets.twice"])
    assert out.exit_code == 2
    assert out.output == ("Error: exercise widgets.twice already exists: grader/bank/widgets.py "
                          "declares it\n")
    out = CliRunner().invoke(new_cmd, ["widgets"])
    assert out.exit_code == 2
    assert out.output.startswith("Error: malformed exercise id 'widgets': ")


# ----------------------------------------------------------------------------- the docs

DOC = (ROOT / "docs" / "authoring.md").read_text()


def _doc_files() -> dict[str, str]:
    return dict(re.findall(r"<!-- file: (\S+) -->\n```python\n(.*?)```\n", DOC, re.S))


def test_the_docs_show_what_grader_new_prints(tree, monkeypatch):
    monkeypatch.setattr(scaffold, "ROOT", tree)
    out = CliRunner().invoke(new_cmd, ["preprocessing.standardize"])
    assert out.exit_code == 0, out.output
    shown = DOC.split("$ grader new preprocessing.standardize\n", 1)[1].split("```", 1)[0]
    assert out.output == shown


@pytest.fixture
def worked_example(tree: Path) -> tuple[Exercise, Path]:
    files = _doc_files()
    assert sorted(files) == ["exercises/preprocessing.py", "grader/bank/preprocessing.py",
                             "solutions/preprocessing.py"]
    for name, text in files.items():
        (tree / name).write_text(text)
    (exercise,) = _load_bank(tree / "grader/bank/preprocessing.py").EXERCISES
    return exercise, tree


def test_the_worked_example_reference_gets_full_marks_and_the_stub_none(worked_example,
                                                                          graded_in):
    exercise, tree = worked_example
    assert [(c.name, c.points, c.hidden) for c in exercise.checks] == [
        ("small", 1, False), ("tall", 1, False), ("wide", 0.5, True), ("one_sample", 0.5, True)]
    grade = graded_in(tree)
    reference = grade(exercise, tree / "solutions")
    assert (reference.status, reference.score, reference.message) == ("passed", 3.0,
                                                                      "all 4 checks passed")
    stub = grade(exercise, tree / "exercises")
    assert (stub.status, stub.score) == ("not_implemented", 0.0)
    assert stub.message == (f"not implemented yet: write standardize in {tree}/exercises/"
                            "preprocessing.py (it still raises NotImplementedError)")


@pytest.mark.parametrize("body, diagnosis", [
    ("return (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)",
     "you divided by the sample standard deviation (ddof = 1); standardizing uses the "
     "population one: np.std(X, axis=0), ddof = 0"),
    ("return (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)",
     "you standardized each ROW (axis=1); the features are the columns: take the mean and the "
     "standard deviation over axis=0"),
    ("return X / X.std(axis=0)",
     "you divided by the standard deviation without subtracting the mean first: "
     "Z = (X - mu) / sigma"),
], ids=["sample_std", "standardized_rows", "not_centered"])
def test_the_worked_example_names_each_mistake(worked_example, graded_in, body, diagnosis):
    exercise, tree = worked_example
    student = tree / "student"
    student.mkdir()
    (student / "preprocessing.py").write_text(textwrap.dedent(f"""\
        import numpy as np


        def standardize(X):
            {body}
        """))
    result = graded_in(tree)(exercise, student)
    assert (result.status, result.score) == ("failed", 0.0)
    assert result.message.startswith("check 'small': standardize for 5 samples of 3 features: "
                                     "15 of 15 elements differ (100.0%)")
    assert result.diagnosis == diagnosis
    assert [c.diagnosis for c in result.checks[:3]] == [diagnosis] * 3
    assert result.checks[3].message == (
        "standardize for a single sample of 3 features should raise ValueError: a single "
        "sample has no spread; it returned an array of shape (1, 3) float64")


def test_the_worked_example_shows_the_output_the_docs_show(worked_example, graded_in):
    exercise, tree = worked_example
    student = tree / "student"
    student.mkdir()
    (student / "preprocessing.py").write_text(
        "import numpy as np\n\n\ndef standardize(X):\n"
        "    return (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)\n")
    result = graded_in(tree)(exercise, student)
    shown = DOC.split("A student who divides by `X.std(axis=0, ddof=1)` is told which slip it "
                      "is:\n\n```\n", 1)[1].split("```", 1)[0].splitlines()
    assert shown[1] == f"     {result.message}"
    assert shown[2] == f"     -> {result.diagnosis}"
