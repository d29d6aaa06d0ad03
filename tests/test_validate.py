"""`grader validate`: an exercise is fit to release, or unfit with the reasons.

Most tests validate temporary exercises of a topic of their own (``extra``), with their
reference and stub written to a temporary folder, so that they depend on no other bank
exercise; the bundle tests release linalg.dot, which is stable.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader import catalog as catalog_mod
from grader import frozen, grading, release
from grader import validate as validate_mod
from grader.catalog import Call, Case, Check, Exercise, Verdict, catalog
from grader.compare import compare
from grader.judges import CallResult, Mistake, Trial, matches
from grader.probes import trivial_answers
from grader.validate import Finding, scan_bundle, validate, validate_cmd

REFERENCE = "import numpy as np\n\n\ndef scale(x, c):\n    return c * np.asarray(x)\n"
STUB = 'def scale(x, c):\n    raise NotImplementedError("extra.scale")\n'
STABLE = ["linalg.dot", "linalg.pinv", "linalg.pca", "nn.two_layer_mlp_loss", "nn.dropout",
          "optim.adam"]


@pytest.fixture
def extra_topic(tmp_path: Path, monkeypatch):
    """``extra_topic(reference=..., stub=...)``: the references and stubs of topic ``extra``
    in temporary folders, in place of solutions/ and exercises/."""

    def write(reference: str = REFERENCE, stub: str = STUB) -> None:
        for folder, source in (("solutions", reference), ("exercises", stub)):
            (tmp_path / folder).mkdir(exist_ok=True)
            (tmp_path / folder / "extra.py").write_text(source)
        monkeypatch.setattr(catalog_mod, "SOLUTIONS_DIR", tmp_path / "solutions")
        monkeypatch.setattr(catalog_mod, "EXERCISES_DIR", tmp_path / "exercises")

    grading._reference.cache_clear()
    grading._prepared.cache_clear()
    yield write
    grading._reference.cache_clear()
    grading._prepared.cache_clear()


def _scale_case(c: float):
    def build(rng: np.random.Generator) -> Case:
        return Case((Call("scale", (rng.standard_normal(5), c)),), f"5 numbers times {c}")
    return build


def _x(case: Case) -> np.ndarray:
    return np.asarray(case.calls[-1].args[0])


FORGOT_C = Mistake("forgot_c", "you returned x itself: multiply it by c", _x)
NEGATED = Mistake("negated", "you negated the product: scale returns c * x",
                  lambda case: -case.calls[-1].args[1] * _x(case))
_JUDGE = matches(rtol=1e-12, atol=0.0, mistakes=(FORGOT_C, NEGATED))


def _exercise(name: str, *checks: Check) -> Exercise:
    return Exercise(id=f"extra.{name}", title=name.title(), functions=("scale",), checks=checks)


SCALE = _exercise("scale", Check("small", _scale_case(3.0), _JUDGE),
                  Check("negative", _scale_case(-2.0), _JUDGE, hidden=True))


def _run(*exercises: Exercise) -> list[Finding]:
    return validate(exercises=list(exercises), bundle=False)


# ----------------------------------------------------------------------------- fit

def test_a_sound_exercise_is_fit_with_its_counts(extra_topic):
    extra_topic()
    [finding] = _run(SCALE)
    assert (finding.exercise, finding.fit, finding.unfit, finding.warnings) == (
        "extra.scale", True, [], [])
    # Per check: zeros, the constant 0.0 and x itself (which is also FORGOT_C) are refused;
    # a 1-D answer has no transpose to try.
    assert (finding.checks, finding.mistakes, finding.trivial) == (2, 2, 6)
    assert finding.lines() == [
        "FIT    extra.scale  (2 checks, 2 mistakes diagnosed, 6 trivial answers refused)"]


def test_the_reference_must_get_full_marks_through_the_worker(extra_topic):
    # The worker's random draw is not the grader's: the reference does not reproduce itself.
    extra_topic(reference=REFERENCE.replace("return c * np.asarray(x)",
                                            "return c * np.asarray(x) + np.random.random()"))
    [finding] = _run(_exercise("noisy", Check("small", _scale_case(3.0), _JUDGE)))
    assert not finding.fit
    assert finding.unfit[0].startswith("the reference gets 0 / 1 through the worker (failed): "
                                       "check 'small': scale for 5 numbers times 3.0: ")


def test_the_stub_must_score_zero_as_not_implemented(extra_topic):
    extra_topic(stub=REFERENCE)
    [finding] = _run(_exercise("done", Check("small", _scale_case(3.0), _JUDGE)))
    assert (finding.fit, finding.unfit) == (False, [
        "the stub gets 1 / 1 (passed), not 0 as not implemented: all 1 checks passed"])


# ----------------------------------------------------------------------------- case generators

def _global_rng(rng: np.random.Generator) -> Case:
    return Case((Call("scale", (np.random.standard_normal(5), 3.0)),), "global draws")


def _broken(rng: np.random.Generator) -> Case:
    return Case((Call("scale", (rng.standard_normal(5), 1 / 0)),))


def test_a_generator_that_ignores_its_rng_is_not_deterministic(extra_topic):
    extra_topic()
    [finding] = _run(_exercise("random", Check("small", _global_rng, _JUDGE)))
    assert (finding.fit, finding.unfit) == (False, [
        "check 'small': two builds from seed 0 gave different inputs (draw from the rng it is "
        "given, never from np.random or the time)"])


def test_a_generator_that_raises_is_unfit_and_nothing_else_runs(extra_topic):
    extra_topic()
    [finding] = _run(_exercise("broken", Check("small", _broken, _JUDGE),
                               Check("fine", _scale_case(2.0), _JUDGE)))
    assert (finding.fit, finding.unfit, finding.mistakes, finding.trivial) == (False, [
        "check 'small': its case generator raised ZeroDivisionError: division by zero"], 0, 0)


# ----------------------------------------------------------------------------- mistakes

NEVER = Mistake("never", "you multiplied by c", lambda case: 3.0 * _x(case))  # the right answer
NOWHERE = Mistake("nowhere", "you divided by zero", lambda case: 1 / 0)
TWIN = Mistake("twin", "you forgot c (said twice)", _x)  # FORGOT_C's variant, named after it
HALVED = Mistake("halved", "you multiplied by c / 2", lambda case: 1.5 * _x(case))


def _silent_judge(trial: Trial) -> Verdict:
    """Diagnoses HALVED, then drops the diagnosis (a judge that never says why)."""
    verdict = matches(rtol=1e-12, atol=0.0, mistakes=(HALVED,))(trial)
    return Verdict(verdict.passed, verdict.message)


def test_every_declared_mistake_must_be_caught_and_diagnosed(extra_topic):
    extra_topic()
    judge = matches(rtol=1e-12, atol=0.0, mistakes=(FORGOT_C, NEVER, NOWHERE, TWIN))
    [finding] = _run(_exercise("mistakes", Check("small", _scale_case(3.0), judge),
                               Check("quiet", _scale_case(3.0), _silent_judge)))
    assert finding.unfit[:2] == [
        "mistake 'never' is caught by no check: it passes small",
        "mistake 'nowhere' applies to no check: its variant raised on every case"]
    assert re.fullmatch(r"mistake 'halved' fails check 'quiet' without a diagnosis \(scale for "
                        r"5 numbers times 3\.0: 5 of 5 elements differ .*\)", finding.unfit[2])
    assert len(finding.unfit) == 3
    assert finding.warnings == [
        "mistake 'twin' is caught but never named: check 'small' explains it as 'you returned "
        "x itself: multiply it by c'"]
    assert finding.mistakes == 2  # forgot_c, and twin (diagnosed, if as its twin)


def test_a_declared_mistake_no_judge_uses_is_a_warning(extra_topic, monkeypatch):
    extra_topic()
    exercise = _exercise("orphaned", Check("small", _scale_case(3.0), _JUDGE))
    module = types.ModuleType("grader.bank.extra_orphans")
    module.EXERCISES = (exercise,)
    module.MISTAKES = (FORGOT_C, NEGATED)
    module.UNUSED = Mistake("unused", "declared, never named", _x)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    [finding] = _run(exercise)
    assert (finding.fit, finding.mistakes, finding.warnings) == (True, 2, [
        "grader.bank.extra_orphans declares mistakes no check's judge uses: unused"])


PER_CALL = Mistake("forgot_c_each", "you returned x itself, in every call",
                   lambda case: [np.asarray(c.args[0]) for c in case.calls])
RAISES = Mistake("divides", "you divided by c - 3: it is 0 here",
                 lambda case: 1.0 / (case.calls[-1].args[1] - 3.0) * _x(case))


def _two_calls(rng: np.random.Generator) -> Case:
    return Case((Call("scale", (rng.standard_normal(4), 3.0)),
                 Call("scale", (rng.standard_normal(4), -2.0))), "two calls")


def _per_call_judge(trial: Trial) -> Verdict:
    """Each call's value, with PER_CALL's variant read per call (as the layers bank does)."""
    for i in range(len(trial.case.calls)):
        verdict = matches(rtol=1e-12, atol=0.0, call=i)(trial)
        if not verdict.passed:
            same = compare(trial.got(i), PER_CALL.variant(trial.case)[i], rtol=1e-12,
                           atol=0.0) is None
            return Verdict(False, verdict.message, PER_CALL.explain if same else None)
    return Verdict(True)


def _raise_judge(trial: Trial) -> Verdict:
    raised = trial.actual[-1].raised
    if raised is not None and raised["type"] == "ZeroDivisionError":
        return Verdict(False, "scale raised ZeroDivisionError", RAISES.explain)
    return matches(rtol=1e-12, atol=0.0)(trial)


def test_variants_per_call_and_variants_that_raise_are_replayed_where_they_show(extra_topic):
    extra_topic()
    findings = _run(_exercise("per_call", Check("both", _two_calls, _per_call_judge)),
                    _exercise("raising", Check("small", _scale_case(3.0), _raise_judge)))
    assert [(f.exercise, f.fit, f.unfit, f.mistakes) for f in findings] == [
        ("extra.per_call", True, [], 1), ("extra.raising", True, [], 1)]


# ----------------------------------------------------------------------------- trivial answers

def test_a_loose_tolerance_passes_trivial_answers_and_is_unfit(extra_topic):
    extra_topic()
    [finding] = _run(_exercise("loose", Check("small", _scale_case(3.0),
                                              matches(rtol=10.0, atol=10.0))))
    assert (finding.fit, finding.unfit) == (False, [
        "check 'small' passes a trivial wrong answer: zeros like the expected value (its "
        "tolerance or judge is too loose)",
        "check 'small' passes a trivial wrong answer: the first array input returned unchanged "
        "(its tolerance or judge is too loose)"])
    assert finding.lines()[0].startswith("UNFIT  extra.loose: check 'small' passes a trivial "
                                         "wrong answer: zeros like the expected value")


def test_a_trivial_answer_that_is_the_expected_value_is_a_warning(extra_topic):
    extra_topic()
    judge = matches(rtol=1e-12, atol=0.0, mistakes=(FORGOT_C,))  # -0 * x is right here
    [finding] = _run(_exercise("zero", Check("zero", _scale_case(0.0), judge)))
    assert (finding.fit, finding.unfit, finding.trivial) == (True, [], 2)
    assert finding.warnings == [
        "check 'zero' passes zeros like the expected value, which is the right answer here: "
        "the check cannot tell it from a correct one"]
    assert finding.lines()[1] == f"       warning: {finding.warnings[0]}"


def _rotation(rng: np.random.Generator) -> Case:
    t = rng.uniform(0.3, 1.2)
    r = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return Case((Call("scale", (r, 1.0)),), "a 2x2 rotation")


def _orthonormal_judge(trial: Trial) -> Verdict:
    """Any orthonormal basis of the plane is accepted."""
    q = trial.got()
    if isinstance(q, np.ndarray) and q.shape == (2, 2) and np.allclose(q.T @ q, np.eye(2)):
        return Verdict(True)
    return Verdict(False, "the columns are not orthonormal", "Q^T Q must be I")


def test_a_normal_matrix_transposed_that_passes_is_a_warning(extra_topic):
    extra_topic()
    [finding] = _run(_exercise("basis", Check("basis", _rotation, _orthonormal_judge)))
    assert (finding.fit, finding.unfit, finding.trivial) == (True, [], 2)
    assert finding.warnings == [
        "check 'basis' passes the first array input returned unchanged, which is the right "
        "answer here: the check cannot tell it from a correct one",
        "check 'basis' passes the expected value transposed, a normal matrix's transpose "
        "(symmetric or orthogonal up to scale): make sure the check accepts it on purpose (a "
        "basis of a subspace)"]


def test_trivial_answers_cover_every_call_and_transpose_only_matrices():
    x, m = np.arange(3.0), np.arange(6.0).reshape(2, 3)
    case = Case((Call("f", (x, 2)), Call("g", (3,)), Call("h", (m,), send=False)))
    expected = [CallResult(value=(m, 1.5)), CallResult(raised={"type": "ValueError"}),
                CallResult(value=None)]
    answers = trivial_answers(case, expected)
    assert list(answers) == ["zeros like the expected value", "the constant 0.0",
                             "the first array input returned unchanged",
                             "the expected value transposed"]
    (zeros, half), zero, none = answers["zeros like the expected value"]
    assert (zeros.tolist(), half, zero, none) == ([[0.0] * 3] * 2, 0.0, 0.0, None)
    assert answers["the constant 0.0"] == [0.0, 0.0, None]
    first = answers["the first array input returned unchanged"]
    assert (first[0].tolist(), first[1:]) == ([0.0, 1.0, 2.0], [0.0, None])
    (transposed, half), _, _ = answers["the expected value transposed"]
    assert (transposed.shape, half) == ((3, 2), 1.5)


# ----------------------------------------------------------------------------- the bundle

def test_linalg_dot_is_fit_including_its_bundle():
    [finding] = validate(ids=["linalg.dot"])
    assert (finding.fit, finding.unfit) == (True, [])
    assert finding.warnings == [
        "check 'empty' passes zeros like the expected value, which is the right answer here: "
        "the check cannot tell it from a correct one",
        "check 'empty' passes the constant 0.0, which is the right answer here: the check "
        "cannot tell it from a correct one"]
    assert finding.lines()[0] == ("FIT    linalg.dot  (5 checks, 3 mistakes diagnosed, 13 "
                                  "trivial answers refused)")


def test_a_bundle_that_gives_hidden_checks_and_reference_lines_away_is_caught(tmp_path):
    dot = catalog()["linalg.dot"]
    out = tmp_path / "bundle"
    release.release(out=out, exercises=[dot], verify=False)
    assert scan_bundle(out, [dot]) == []
    bank = out / "grader" / "bank" / "linalg.py"
    bank.write_text(bank.read_text() + "\nLEFT_OVER = 'length_mismatch'\n")
    line = ('raise ValueError(f"vectors of different lengths: {u.shape[0]} and '
            '{v.shape[0]}")')
    (out / "README.md").write_text((out / "README.md").read_text() + f"\n    {line}\n")
    table_file = out / "grader" / "_frozen" / "expected.linalg.dot.bin"
    table = frozen.unpack(table_file.read_bytes())
    integers = next(c for c in dot.checks if c.name == "integers")
    table[frozen.case_digest(integers.build(dot.check_rng(integers, 0)))] = [{"value": 0}]
    table_file.write_bytes(frozen.pack(table))
    assert [reason for _, reason in scan_bundle(out, [dot])] == [
        "hidden check 'length_mismatch' is reachable from the student bundle: its name is "
        "quoted in grader/bank/linalg.py",
        "hidden check 'integers' is reachable from the student bundle: its inputs are in the "
        "frozen data",
        f"a reference line is in the student bundle: {line!r}"]


def test_a_bundle_that_fails_its_own_verification_makes_the_exercise_unfit(monkeypatch):
    def failing(*, out, **options):
        raise release.ReleaseError(f"the bundle in {out} does not work: Traceback (most recent "
                                   "call last):\n  File x\nKeyError: 'linalg.dot'")

    monkeypatch.setattr(release, "release", failing)
    [finding] = validate(ids=["linalg.dot"])
    assert finding.unfit == ["the student bundle fails its own verification: the bundle does "
                             "not work: KeyError: 'linalg.dot'"]


# ----------------------------------------------------------------------------- the command

def test_command_prints_a_verdict_line_per_exercise_and_exits_0_when_fit():
    result = CliRunner().invoke(validate_cmd, ["linalg.dot", "--no-bundle"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "FIT    linalg.dot  (5 checks, 3 mistakes diagnosed, 13 trivial answers refused)",
        "       warning: check 'empty' passes zeros like the expected value, which is the right "
        "answer here: the check cannot tell it from a correct one",
        "       warning: check 'empty' passes the constant 0.0, which is the right answer here: "
        "the check cannot tell it from a correct one",
        "1 exercise: 1 fit, 0 unfit"]


def test_command_exits_1_when_an_exercise_is_unfit(extra_topic, monkeypatch):
    extra_topic()
    loose = _exercise("loose", Check("small", _scale_case(3.0), matches(rtol=10.0, atol=10.0)))
    monkeypatch.setattr(validate_mod, "select", lambda ids: [loose])
    result = CliRunner().invoke(validate_cmd, ["extra.loose", "--no-bundle"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("UNFIT  extra.loose: check 'small' passes a trivial wrong "
                               "answer: zeros like the expected value")
    assert lines[1:] == ["1 exercise: 0 fit, 1 unfit (extra.loose)"]


def test_command_exits_2_for_an_unknown_exercise():
    result = CliRunner().invoke(validate_cmd, ["linalg.nope"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: no exercise or topic 'linalg.nope'; known: "
                                    "linalg.dot, ")


# ----------------------------------------------------------------------------- the bank (CI)

@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", STABLE)
def test_the_stable_exercises_are_fit(exercise_id):
    [finding] = validate(ids=[exercise_id])
    assert (finding.exercise, finding.unfit) == (exercise_id, [])


@pytest.mark.slow
def test_the_whole_bank_is_fit():
    result = CliRunner().invoke(validate_cmd, [])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"{len(catalog())} exercises: {len(catalog())} " \
                                             "fit, 0 unfit"
