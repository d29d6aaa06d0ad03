"""The comparison engine: the order shape -> dtype -> NaN/Inf -> values, the exact texts of its
messages (pinned here), nested paths, per-dtype tolerances given both-or-neither, and tensors."""

from __future__ import annotations

import numpy as np
import pytest

from grader.catalog import Call, Case, Verdict
from grader.compare import TOLERANCES, Mismatch, compare, compare_arrays, describe, fmt, tolerance
from grader.judges import CallResult, Mistake, Trial, matches
from grader.sandbox.wire import Opaque, TensorValue

E = np.arange(12.0).reshape(3, 4)


def shifted(**changes: float) -> np.ndarray:
    """E with elements changed: shifted(i1_2=0.5) adds 0.5 at [1, 2]."""
    a = E.copy()
    for key, delta in changes.items():
        i, j = key[1:].split("_")
        a[int(i), int(j)] += delta
    return a


# ----------------------------------------------------------------------------- order

def test_shape_is_reported_before_dtype_nan_and_values():
    got = np.full((2, 4), np.nan, dtype=np.float32)
    assert str(compare(got, E)) == "shape (2, 4), expected (3, 4)"
    assert compare(got, E).kind == "shape"


def test_dtype_is_reported_before_nan_and_values():
    got = np.full((3, 4), np.nan, dtype=np.float32)
    found = compare(got, E)
    assert found.kind == "dtype"
    assert str(found) == ("dtype float32, expected float64: float32 where float64 was expected "
                          "(keep float64 throughout)")


def test_nan_is_reported_before_values():
    got = shifted(i0_0=100.0)
    got[2, 1] = np.nan
    found = compare(got, E)
    assert found.kind == "nonfinite"
    assert str(found) == ("1 element with NaN where the expected value is finite; first at "
                          "[2, 1]: got nan, expected 9")
    assert (found.count, found.total) == (1, 12)


def test_values_message_counts_share_first_indices_worst_and_tolerance():
    found = compare(shifted(i0_0=1e-3, i1_2=0.5, i2_3=2.0), E)
    assert found == Mismatch(
        "", "values",
        "3 of 12 elements differ (25.0%); first at [0, 0], [1, 2], [2, 3]; worst at [2, 3]: "
        "got 13, expected 11 (abs diff 2, rel diff 0.181818; rtol=1e-07, atol=1e-10)",
        max_abs=2.0, max_rel=float("inf"), count=3, total=12)  # [0, 0] expects 0


def test_more_mismatches_than_shown_end_with_an_ellipsis():
    found = compare(E + 1.0, E)
    assert str(found) == (
        "12 of 12 elements differ (100.0%); first at [0, 0], [0, 1], [0, 2]...; worst at "
        "[0, 0]: got 1, expected 0 (abs diff 1, rel diff inf; rtol=1e-07, atol=1e-10)")


def test_within_tolerance_is_a_match():
    assert compare(E * (1 + 5e-8), E) is None
    assert compare(E * (1 + 5e-7), E) is not None
    assert compare(E * (1 + 5e-7), E, rtol=1e-6, atol=0.0) is None


# ----------------------------------------------------------------------------- NaN and Inf

@pytest.mark.parametrize("got, want, message", [
    ([np.inf, 1.0], [2.0, 1.0],
     "1 element with Inf where the expected value is finite; first at [0]: got inf, expected 2"),
    ([1.0, 2.0], [1.0, np.nan],
     "1 element where the expected value is NaN or Inf and yours differs; first at [1]: got 2, "
     "expected nan"),
    ([np.inf, 2.0], [-np.inf, 2.0],
     "1 element where the expected value is NaN or Inf and yours differs; first at [0]: got "
     "inf, expected -inf"),
    ([np.nan, 2.0], [np.inf, 2.0],
     "1 element with NaN where the expected value is inf; first at [0]: got nan, expected inf"),
    ([np.nan, np.nan, 3.0], [1.0, 2.0, 3.0],
     "2 elements with NaN where the expected value is finite; first at [0]: got nan, "
     "expected 1"),
], ids=["inf_for_finite", "finite_for_nan", "inf_of_wrong_sign", "nan_for_inf", "two_nans"])
def test_nonfinite_messages(got, want, message):
    found = compare(np.array(got), np.array(want))
    assert found.kind == "nonfinite" and str(found) == message


def test_matching_nan_and_inf_positions_are_equal():
    want = np.array([np.nan, np.inf, -np.inf, 1.0])
    assert compare(want.copy(), want) is None


def test_scalar_nan_message_has_no_index():
    assert str(compare(float("nan"), 1.0)) == ("1 element with NaN where the expected value is "
                                               "finite; got nan, expected 1")


# ----------------------------------------------------------------------------- nesting

def test_nested_path_names_tuple_index_dict_key_and_element():
    grads = {"W1": E.copy(), "b1": np.zeros(4)}
    got = (1.0, {"W1": shifted(i2_1=0.25), "b1": np.zeros(4)})
    found = compare(got, (1.0, grads))
    assert found.path == "[1]['W1']"
    assert str(found) == (
        "[1]['W1']: 1 of 12 elements differ (8.3%); first at [2, 1]; worst at [1]['W1'][2, 1]: "
        "got 9.25, expected 9 (abs diff 0.25, rel diff 0.0277778; rtol=1e-07, atol=1e-10)")


@pytest.mark.parametrize("got, want, message", [
    ((1.0,), (1.0, 2.0), "expected 2 items, got 1"),
    ([1.0, 2.0, 3.0], [1.0, 2.0], "expected 2 items, got 3"),
    ({"W1": 1.0}, {"W1": 1.0, "b1": 2.0}, "missing key(s) 'b1'; got keys 'W1'"),
    ({}, {"W1": 1.0}, "missing key(s) 'W1'; got keys none"),
    ({"b": 1.0, 2: 1.0}, {"a": 1.0}, "missing key(s) 'a'; got keys 'b', 2"),
    (1.0, (1.0, 2.0), "expected a tuple of 2, got the float 1.0"),
    ([1.0], {"W1": 1.0}, "expected a dict with keys ['W1'], got a list of 1"),
    ((np.ones(2), [1.0, 2.0]), (np.ones(2), [1.0]), "[1]: expected 1 items, got 2"),
], ids=["short_tuple", "long_list", "missing_key", "empty_dict", "other_keys", "scalar_for_tuple",
        "list_for_dict", "nested_length"])
def test_structure_messages(got, want, message):
    found = compare(got, want)
    assert str(found) == message


def test_a_list_is_accepted_where_a_tuple_is_expected():
    # A correct answer however written: return [out, cache] works like return out, cache.
    assert compare([1.0, np.ones(2)], (1.0, np.ones(2))) is None


# ----------------------------------------------------------------------------- scalars

@pytest.mark.parametrize("got, message", [
    (np.ones(3), "expected a real scalar, got an array of shape (3,) float64"),
    (None, "expected a real scalar, got None"),
    (True, "expected a real scalar, got the bool True"),
    ("1.0", "expected a real scalar, got the str '1.0'"),
    (1 + 0j, "expected a real scalar, got the complex (1+0j)"),
    (Opaque("mymodule.Thing"), "expected a real scalar, got an object of type mymodule.Thing"),
    ([1.0], "expected a real scalar, got a list of 1"),
    (1.5, "got 1.5, expected 1 (abs diff 0.5, rel diff 0.5; rtol=1e-07, atol=1e-10)"),
], ids=["array", "none", "bool", "str", "complex", "opaque", "list", "value"])
def test_scalar_expected(got, message):
    assert str(compare(got, 1.0)) == message


@pytest.mark.parametrize("got", [1.0, np.float64(1.0), np.float32(1.0), np.array(1.0), 1,
                                 np.int64(1)],
                         ids=["float", "float64", "float32", "zero_d_array", "int", "int64"])
def test_any_real_scalar_kind_matches_a_float(got):
    assert compare(got, 1.0) is None


@pytest.mark.parametrize("got, want, message", [
    (np.True_, True, None),
    (True, np.True_, None),
    (np.False_, True, "expected the bool True, got the bool False"),
    (1, True, "expected the bool True, got the int 1"),
    ("abc", "abc", None),
    ("abc", "abd", "expected the str 'abd', got the str 'abc'"),
    (None, None, None),
    (0.0, None, "expected None, got the float 0.0"),
], ids=["np_bool_for_bool", "bool_for_np_bool", "false_for_true", "int_for_bool", "same_str",
        "other_str", "none", "float_for_none"])
def test_other_values_compare_exactly(got, want, message):
    found = compare(got, want)
    assert (str(found) if found else None) == message


def test_array_expected_scalar_given():
    assert str(compare(2.0, E)) == "expected an array of shape (3, 4), got the float 2.0"


# ----------------------------------------------------------------------------- dtypes

@pytest.mark.parametrize("got, want, message", [
    (E.astype(np.float32), E, "dtype float32, expected float64: float32 where float64 was "
                              "expected (keep float64 throughout)"),
    (E.astype(np.int64), E, "dtype int64, expected float64: integers where floats were expected "
                            "(integer division or an int array?)"),
    (E.astype(np.int32), E.astype(np.float32), "dtype int32, expected float32: integers where "
                                               "floats were expected (integer division or an "
                                               "int array?)"),
    (E, E.astype(np.int64), "dtype float64, expected int64"),
], ids=["float32_for_float64", "int_for_float64", "int_for_float32", "float_for_int"])
def test_dtype_messages(got, want, message):
    found = compare(got, want)
    assert found.kind == "dtype" and str(found) == message


def test_check_dtype_false_compares_values_only():
    assert compare(E.astype(np.float32), E, check_dtype=False) is None
    found = compare(shifted(i0_1=0.5).astype(np.float32), E, check_dtype=False)
    assert found.kind == "values" and "got 1.5, expected 1" in str(found)


def test_non_numeric_arrays_compare_exactly():
    assert compare(np.array(["a", "b"]), np.array(["a", "b"])) is None
    assert str(compare(np.array(["a", "c"]), np.array(["a", "b"]))) == (
        "expected an array of shape (2,) <U1, got an array of shape (2,) <U1")


# ----------------------------------------------------------------------------- tolerances

def test_tolerance_table_by_dtype():
    assert tolerance("float64") == TOLERANCES["float64"] == (1e-7, 1e-10)
    assert tolerance(np.float32) == (1.3e-6, 1e-5)
    assert tolerance("bfloat16") == (1.6e-2, 1e-5)
    assert tolerance("int64") == (0.0, 0.0)  # integers compare exactly


def test_tolerance_given_as_both_is_used():
    assert tolerance("float64", 1e-3, 0.0) == (1e-3, 0.0)
    found = compare(np.array([1.0, 2.0]), np.array([1.0, 2.01]), rtol=1e-4, atol=1e-6)
    assert str(found).endswith("(abs diff 0.01, rel diff 0.00497512; rtol=0.0001, atol=1e-06)")


@pytest.mark.parametrize("kwargs", [{"rtol": 1e-3}, {"atol": 1e-3}], ids=["rtol", "atol"])
def test_tolerance_needs_both_or_neither(kwargs):
    with pytest.raises(ValueError, match="^give both rtol and atol, or neither$"):
        tolerance("float64", **kwargs)
    with pytest.raises(ValueError, match="^give both rtol and atol, or neither$"):
        compare(E, E, **kwargs)


def test_float32_expected_uses_float32_tolerance():
    want = np.array([1.0, 2.0], dtype=np.float32)
    assert compare(want * np.float32(1 + 1e-6), want) is None
    assert str(compare(want * np.float32(1.001), want)).endswith("rtol=1.3e-06, atol=1e-05)")


# ----------------------------------------------------------------------------- tensors

T = TensorValue(E, "cuda:0", "torch.float32", requires_grad=True, grad_fn=True)


@pytest.mark.parametrize("got, kind, message", [
    (TensorValue(E, "cpu", "torch.float32", True, True), "device",
     "the result is on cpu but the input was on cuda:0: create new tensors with device=x.device"),
    (TensorValue(E, "cuda:0", "torch.float64", True, True), "dtype",
     "dtype torch.float64, expected torch.float32"),
    (TensorValue(E, "cuda:0", "torch.float32", False, False), "autograd",
     "the result is detached from autograd (requires_grad is False): avoid .detach(), .numpy() "
     "and in-place copies into new tensors"),
    (TensorValue(shifted(i1_1=1.0), "cuda:0", "torch.float32", True, True), "values",
     "1 of 12 elements differ (8.3%); first at [1, 1]; worst at [1, 1]: got 6, expected 5 (abs "
     "diff 1, rel diff 0.2; rtol=1.3e-06, atol=1e-05)"),
    (E, "type", "expected a torch tensor, got an array of shape (3, 4) float64"),
    (TensorValue(E[:2], "cuda:0", "torch.float32", True, True), "shape",
     "shape (2, 4), expected (3, 4)"),
], ids=["device", "dtype", "detached", "values", "ndarray", "shape"])
def test_tensor_messages(got, kind, message):
    found = compare(got, T)
    assert (found.kind, str(found)) == (kind, message)


def test_tensor_match_and_bfloat16_tolerance():
    assert compare(TensorValue(E.copy(), "cuda:0", "torch.float32", True, True), T) is None
    want = TensorValue(np.array([1.0, 2.0], dtype=np.float32), "cpu", "torch.bfloat16")
    close = TensorValue(np.array([1.0078125, 2.0], dtype=np.float32), "cpu", "torch.bfloat16")
    assert compare(close, want) is None  # one bfloat16 step (2**-7) is within rtol 1.6e-2


# ----------------------------------------------------------------------------- helpers

@pytest.mark.parametrize("value, text", [
    (np.zeros((3, 4)), "an array of shape (3, 4) float64"),
    (np.float32(1.0), "a numpy float32 scalar"),
    (np.bool_(True), "the bool True"),
    (2, "the int 2"),
    (None, "None"),
    ("x" * 70, "the str '" + "x" * 60 + "'..."),
    ((1, 2), "a tuple of 2"),
    ({"b": 1, "a": 2}, "a dict with keys ['a', 'b']"),
    (Opaque("m.T"), "an object of type m.T"),
    (T, "a tensor of shape (3, 4) torch.float32 on cuda:0"),
], ids=["array", "np_scalar", "np_bool", "int", "none", "long_str", "tuple", "dict", "opaque",
        "tensor"])
def test_describe(value, text):
    assert describe(value) == text


@pytest.mark.parametrize("x, text", [(1.0, "1"), (0.1 + 0.2, "0.3"), (123456789.0, "1.23457e+08"),
                                     (float("nan"), "nan"), (float("-inf"), "-inf"),
                                     (1 + 2j, "1+2j")],
                         ids=["one", "rounded", "large", "nan", "minus_inf", "complex"])
def test_fmt(x, text):
    assert fmt(x) == text


def test_compare_arrays_scalar_mismatch_message():
    found = compare_arrays(np.array(1.0), np.array(2.0))
    assert str(found) == "got 1, expected 2 (abs diff 1, rel diff 0.5; rtol=1e-07, atol=1e-10)"
    assert (found.count, found.total, found.max_abs, found.max_rel) == (1, 1, 1.0, 0.5)


# ----------------------------------------------------------------------------- matches()

def _trial(got, want, note="two vectors of length 3") -> Trial:
    case = Case((Call("f", (np.arange(3.0),)),), note)
    return Trial(case, [CallResult(value=got)], [CallResult(value=want)])


def test_matches_prefixes_function_and_case_note():
    verdict = matches()(_trial(shifted(i0_3=1.0), E))
    assert verdict == Verdict(False, "f for two vectors of length 3: 1 of 12 elements differ "
                                     "(8.3%); first at [0, 3]; worst at [0, 3]: got 4, expected 3 "
                                     "(abs diff 1, rel diff 0.333333; rtol=1e-07, atol=1e-10)",
                              None)
    assert matches()(_trial(E.copy(), E)) == Verdict(True)


def test_matches_names_a_declared_mistake_before_generic_diagnoses():
    half = Mistake("half", "you divided by 2 twice", lambda case: E / 2)
    verdict = matches(mistakes=(half,))(_trial(E / 2, E))
    assert not verdict.passed and verdict.diagnosis == "you divided by 2 twice"
    verdict = matches()(_trial(E / 2, E))
    assert verdict.diagnosis == ("your result is the expected one times 0.5: a missing or extra "
                                 "constant factor (a 1/N, a 2, a 1/(1-p)?)")


def test_matches_diagnoses_the_sub_value_at_a_nested_path():
    verdict = matches()(_trial((1.0, {"W1": -E}), (1.0, {"W1": E}), note=""))
    assert verdict.message.startswith("f: [1]['W1']: 11 of 12 elements differ (91.7%)")
    assert verdict.diagnosis == "your result has the wrong sign everywhere: check a minus sign"


def test_matches_on_a_wrong_shape_gives_the_shape_message_not_a_grader_error():
    verdict = matches()(_trial(E[:2], E, note=""))
    assert verdict == Verdict(False, "f: shape (2, 4), expected (3, 4)", None)


def test_matches_on_a_ragged_list_gives_the_type_message():
    verdict = matches()(_trial([1.0, [2.0, 3.0]], np.ones(2), note=""))
    assert verdict == Verdict(False, "f: expected an array of shape (2,), got a list of 2", None)
