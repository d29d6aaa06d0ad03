"""The wire format between grader and worker: every encoded form survives a round trip with its
type, dtype and shape; what cannot travel as data arrives as Opaque; a malformed, oversized or
pickled message raises WireError and nothing is ever unpickled."""

from __future__ import annotations

import json
import math
import pickle
import socket
import struct
import types

import numpy as np
import pytest

from grader.sandbox import wire
from grader.sandbox.wire import Opaque, Out, TensorInput, TensorValue, WireError


def round_trip(value):
    obj, blobs = wire.encode(value)
    json.dumps(obj, allow_nan=True)  # the header part is plain JSON
    return wire.decode(obj, blobs)


def same(a, b) -> bool:
    """Equal value, type and (for arrays) dtype and shape, NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=(
            a.dtype.kind in "fc"))
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and (a == b or (np.isnan(a) and np.isnan(b)))
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


# ----------------------------------------------------------------------------- round trips

VALUES = {
    "none": None,
    "bool": True,
    "int": -7,
    "big_int": 2**70,
    "str": "héllo",
    "float": 0.1,
    "nan": float("nan"),
    "inf": float("inf"),
    "minus_inf": float("-inf"),
    "complex": 1.5 - 2j,
    "float64_array": np.linspace(0, 1, 6).reshape(2, 3),
    "float32_array": np.arange(4, dtype=np.float32),
    "float16_array": np.array([1.5, -2.0], dtype=np.float16),
    "int32_array": np.arange(6, dtype=np.int32).reshape(3, 2),
    "uint8_array": np.array([0, 255], dtype=np.uint8),
    "bool_array": np.array([True, False]),
    "complex128_array": np.array([1 + 2j, 3 - 4j]),
    "str_array": np.array(["ab", "c"]),
    "nan_inf_array": np.array([np.nan, np.inf, -np.inf, 0.0]),
    "empty_array": np.zeros((0, 3)),
    "zero_d_array": np.array(3.5),
    "zero_d_int_array": np.array(7, dtype=np.int16),
    "float64_scalar": np.float64(2.5),
    "float32_scalar": np.float32(2.5),
    "int64_scalar": np.int64(-3),
    "bool_scalar": np.bool_(False),
    "complex64_scalar": np.complex64(1 + 2j),
    "nan_scalar": np.float64("nan"),
    "tuple": (1, 2.0, "x"),
    "list": [1, 2.0, "x"],
    "empty_tuple": (),
    "tuple_of_list": ([1], (2,)),
    "dict_str_keys": {"W1": np.ones(2), "b1": np.zeros(1)},
    "dict_non_str_keys": {1: "int", (2, 3): "tuple", None: "none", 2.5: "float", True: "bool"},
    "nested": [{"grads": ({"W1": np.eye(2)}, [np.float32(1.0)])}, (None, {0: [1j]})],
    "out": Out(1, (0, "cache")),
}


@pytest.mark.parametrize("value", list(VALUES.values()), ids=list(VALUES))
def test_round_trip_keeps_value_type_dtype_and_shape(value):
    back = round_trip(value)
    assert same(back, value), (value, back)


def test_zero_d_array_stays_zero_d():
    # np.ascontiguousarray would make it shape (1,): a correct np.tensordot(u, v, 1) then
    # arrived as a vector and was marked wrong.
    back = round_trip(np.array(2.0))
    assert type(back) is np.ndarray and back.shape == () and back[()] == 2.0


def test_tuple_and_list_stay_distinct():
    back = round_trip({"t": (1, [2, (3,)]), "l": [(1,), 2]})
    assert type(back["t"]) is tuple and type(back["t"][1]) is list
    assert type(back["t"][1][1]) is tuple and type(back["l"]) is list
    assert type(back["l"][0]) is tuple


def test_non_contiguous_and_fortran_arrays_arrive_with_their_values():
    base = np.arange(24.0).reshape(4, 6)
    for arr in (base[::2, 1::2], np.asfortranarray(base), base.T):
        back = round_trip(arr)
        assert same(back, np.ascontiguousarray(arr))


def test_tensor_input_round_trip_and_make_tensor():
    spec = TensorInput(np.arange(3.0), dtype="float32", device="cpu", requires_grad=True)
    obj, blobs = wire.encode([spec])
    back = wire.decode(obj, blobs)[0]
    assert type(back) is TensorInput and same(back.array, spec.array)
    assert (back.dtype, back.device, back.requires_grad) == ("float32", "cpu", True)
    made = wire.decode(obj, blobs, make_tensor=lambda s: ("made", s.dtype))
    assert made == [("made", "float32")]


@pytest.mark.parametrize("make, dtype, requires_grad, grad_fn", [
    (lambda torch: torch.arange(6.0).reshape(2, 3), "torch.float32", False, False),
    (lambda torch: torch.ones(2, dtype=torch.float64, requires_grad=True), "torch.float64", True,
     False),
    (lambda torch: torch.ones(2, requires_grad=True) * 3, "torch.float32", True, True),
    (lambda torch: (torch.ones(2, requires_grad=True) * 3).detach(), "torch.float32", False, False),
    (lambda torch: torch.tensor([1.5, -2.25], dtype=torch.bfloat16), "torch.bfloat16", False, False),
    (lambda torch: torch.tensor(2.0), "torch.float32", False, False),
    (lambda torch: torch.arange(4), "torch.int64", False, False),
], ids=["float32", "leaf_requires_grad", "grad_fn", "detached", "bfloat16", "zero_d", "int64"])
def test_torch_tensor_arrives_as_tensor_value(make, dtype, requires_grad, grad_fn):
    torch = pytest.importorskip("torch")
    tensor = make(torch)
    back = round_trip(tensor)
    assert type(back) is TensorValue
    assert (back.device, back.dtype) == ("cpu", dtype)
    assert (back.requires_grad, back.grad_fn) == (requires_grad, grad_fn)
    assert back.array.shape == tuple(tensor.shape)
    # numpy has no bfloat16: float32 holds every bfloat16 value exactly.
    want = tensor.detach().float().numpy() if tensor.dtype == torch.bfloat16 else (
        tensor.detach().numpy())
    assert same(back.array, want)


# ----------------------------------------------------------------------------- Opaque

class _Rigged:
    def __eq__(self, other):
        return True


class _RiggedArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)

    def __array_finalize__(self, obj):
        _RiggedArray.finalized = True


class _MyList(list):
    pass


@pytest.mark.parametrize("value, type_name", [
    (_Rigged(), "test_wire._Rigged"),
    (_MyList([1, 2]), "test_wire._MyList"),
    (np.array([1, "a"], dtype=object), "numpy.ndarray[dtype=object]"),
    ({1, 2}, "builtins.set"),
    (len, "builtins.builtin_function_or_method"),
    (Opaque("a thing that could not be sent"), "a thing that could not be sent"),
], ids=["rigged_eq", "list_subclass", "object_array", "set", "function", "opaque"])
def test_objects_arrive_as_opaque(value, type_name):
    back = round_trip(value)
    assert back == Opaque(type_name)
    assert repr(back) == f"<{type_name} object>"


def test_ndarray_subclass_arrives_as_plain_ndarray_without_its_methods():
    rigged = np.arange(3.0).view(_RiggedArray)
    back = round_trip(rigged)
    assert type(back) is np.ndarray
    assert back.tolist() == [0.0, 1.0, 2.0]
    assert not bool(np.all(back == np.array([9.0, 9.0, 9.0])))  # no rigged __eq__
    back_masked = round_trip(np.ma.array([1.0, 2.0], mask=[False, True]))
    assert type(back_masked) is np.ndarray and back_masked.tolist() == [1.0, 2.0]


def test_too_deep_or_too_many_items_refuses_to_encode(monkeypatch):
    deep = 1.0
    for _ in range(wire.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(WireError, match="^the value is nested too deeply or holds too many "
                                        "items$"):
        wire.encode(deep)
    monkeypatch.setattr(wire, "MAX_ITEMS", 10)
    with pytest.raises(WireError, match="too many items"):
        wire.encode(list(range(20)))


# ----------------------------------------------------------------------------- malformed

_UNPICKLED: list[str] = []


def _record_unpickling(tag: str) -> str:
    _UNPICKLED.append(tag)
    return tag


class _Payload:
    """Unpickling this calls _record_unpickling: proof that something was unpickled."""

    def __reduce__(self):
        return (_record_unpickling, ("unpickled",))


PICKLED = pickle.dumps(_Payload())
F8 = {"d": "<f8"}

MALFORMED = {
    # A pickle is only bytes here: read as float64 values, never unpickled.
    "pickle_in_array_blob": ({"$a": 0, **F8, "s": [2]}, [PICKLED],
                             "an array blob whose size does not match its header"),
    "pickle_in_scalar_blob": ({"$s": 0, **F8, "s": []}, [PICKLED],
                              "an array blob whose size does not match its header"),
    "object_dtype": ({"$a": 0, "d": "|O", "s": [1]}, [b"\0" * 8],
                     "objects and records would need pickle"),
    "object_dtype_tensor": ({"$T": 0, "d": "|O", "s": [1], "device": "cpu", "dtype": "x",
                             "requires_grad": False, "grad_fn": False}, [b"\0" * 8],
                            "objects and records would need pickle"),
    "structured_dtype": ({"$a": 0, "d": "f8,i4", "s": [1]}, [b"\0" * 12],
                         "objects and records would need pickle"),
    "unknown_dtype": ({"$a": 0, "d": "not a dtype", "s": [1]}, [b"\0" * 8],
                      "an array of unknown dtype 'not a dtype'"),
    "forged_huge_shape": ({"$a": 0, **F8, "s": [10**12]}, [b"\0" * 16],
                          "an array blob whose size does not match its header"),
    "truncated_array": ({"$a": 0, **F8, "s": [4]}, [np.arange(4.0).tobytes()[:-8]],
                        "an array blob whose size does not match its header"),
    "negative_shape": ({"$a": 0, **F8, "s": [-1]}, [b""], "an array with a malformed shape"),
    "shape_not_a_list": ({"$a": 0, **F8, "s": "3"}, [b"\0" * 24],
                         "an array with a malformed shape"),
    "array_without_dtype": ({"$a": 0, "s": [1]}, [b"\0" * 8], "KeyError"),
    "blob_index_out_of_range": ({"$a": 3, **F8, "s": [0]}, [], "a blob index out of range"),
    "blob_index_bool": ({"$a": True, **F8, "s": [0]}, [b"", b""], "a blob index out of range"),
    "blob_index_str": ({"$a": "0", **F8, "s": [0]}, [b""], "a blob index out of range"),
    "unknown_tag": ({"$x": 1}, [], "unknown tag '\\$x' in the message"),
    "untagged": ({}, [], "an untagged object in the message"),
    "complex_not_numbers": ({"$c": ["a", "b"]}, [], "ValueError"),
    "complex_too_short": ({"$c": [1]}, [], "IndexError"),
    "dict_not_pairs": ({"$d": 5}, [], "TypeError"),
    "dict_unhashable_key": ({"$d": [[{"$d": []}, 1]]}, [], "unhashable"),
    "tensor_without_fields": ({"$T": 0, **F8, "s": [2]}, [b"\0" * 16], "KeyError"),
    "out_without_path": ({"$r": [1]}, [], "IndexError"),
    "too_deep": (json.loads("[" * 40 + "1" + "]" * 40), [], "the value is nested too deeply"),
}


@pytest.mark.parametrize("obj, blobs, message", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_value_raises_wire_error_and_unpickles_nothing(obj, blobs, message):
    with pytest.raises(WireError, match=message):
        wire.decode(obj, blobs)
    assert _UNPICKLED == []


def test_the_pickle_payload_would_have_run_code():
    # The control: the payloads above really are pickles that run code when unpickled.
    assert pickle.loads(PICKLED) == "unpickled"
    _UNPICKLED.clear()


# ----------------------------------------------------------------------------- framing

def _pair():
    a, b = socket.socketpair()
    a.settimeout(5)
    b.settimeout(5)
    return a, b


def test_send_and_receive_a_message_with_blobs():
    a, b = _pair()
    with a, b:
        value = {"x": np.arange(3.0), "y": (np.float32(1.5), [1j])}
        wire.send_value(a, {"op": "run"}, "value", value)
        header, blobs = wire.recv_message(b)
        assert header["op"] == "run"
        assert same(wire.decode(header["value"], blobs), value)


def _raw(head: bytes, blobs: bytes = b"", *, max_bytes: int = wire.DEFAULT_MAX_BYTES):
    a, b = _pair()
    with a, b:
        a.sendall(struct.pack(">I", len(head)) + head + blobs)
        a.shutdown(socket.SHUT_WR)
        return wire.recv_message(b, max_bytes=max_bytes)


@pytest.mark.parametrize("head, blobs, message", [
    (b"\xff\xfe{", b"", "a malformed message header"),
    (b"[1, 2]", b"", "a malformed message header"),
    (b'{"h": {}}', b"", "a malformed message header: 'b'"),
    (b'{"h": [], "b": []}', b"", "^a malformed message header$"),
    (b'{"h": {}, "b": 5}', b"", "^a malformed message header$"),
    (b'{"h": {}, "b": [-1]}', b"", "^a malformed message header$"),
    (b'{"h": {}, "b": [true]}', b"x", "^a malformed message header$"),
    (b"[" * 100_000 + b"]" * 100_000, b"", "a malformed message header"),
], ids=["not_json", "not_an_object", "no_blob_sizes", "header_not_a_dict",
        "sizes_not_a_list", "negative_size", "bool_size", "json_nested_too_deep"])
def test_malformed_frame_raises_wire_error(head, blobs, message):
    with pytest.raises(WireError, match=message):
        _raw(head, blobs)


def test_oversized_header_raises_before_reading_it():
    a, b = _pair()
    with a, b:
        a.sendall(struct.pack(">I", 2**31))
        with pytest.raises(WireError, match=r"^a message header of 2147483648 bytes is over the "
                                            r"limit$"):
            wire.recv_message(b, max_bytes=1024)


def test_oversized_blobs_raise_before_reading_them():
    head = json.dumps({"h": {}, "b": [600, 600]}).encode()
    with pytest.raises(WireError, match=r"^a message of 1200 bytes is over the limit of 1000$"):
        _raw(head, max_bytes=1000)


def test_a_peer_that_leaves_mid_message_raises_eof():
    head = json.dumps({"h": {}, "b": [100]}).encode()
    with pytest.raises(EOFError, match="the other side closed the connection"):
        _raw(head, b"short")


def test_a_check_function_travels_as_source_and_only_the_worker_builds_it():
    fn = wire.Fn("lambda x: 2 * x", label="the check's f")
    obj, blobs = wire.encode([fn, 3])
    assert obj == [{"$F": "lambda x: 2 * x"}, 3]
    built = wire.decode(obj, blobs, make_function=lambda spec: ("built", spec.source))
    assert built == [("built", "lambda x: 2 * x"), 3]
    # The grader decodes without make_function: a function a worker sent back is refused.
    with pytest.raises(wire.WireError, match=r"a function in the message \(only the grader "
                                             r"sends functions\)"):
        wire.decode(obj, blobs)


@pytest.mark.parametrize("source", ["lambda x: scale(x) + np.pi", "def f(x):\n    y = scale(x)\n"
                                    "    return y + math.pi"], ids=["expression", "statements"])
def test_build_function_sees_the_module_names_np_and_math(source):
    module = types.SimpleNamespace(scale=lambda x: 10 * x)
    f = wire.build_function(wire.Fn(source), module)
    assert f(2.0) == pytest.approx(20.0 + np.pi, rel=1e-15)


def test_a_named_tuple_arrives_as_the_plain_tuple_of_its_items():
    result = np.linalg.eigh(np.diag([2.0, 1.0]))  # EighResult, a named tuple
    back = round_trip(result)
    assert type(back) is tuple and len(back) == 2
    assert same(back[0], result.eigenvalues) and same(back[1], result.eigenvectors)


def test_a_tuple_subclass_cannot_rig_its_items():
    class Rigged(tuple):
        def __iter__(self):
            return iter((42.0,))

        def __getitem__(self, index):
            return 42.0

    assert round_trip(Rigged((1.0, 2.0))) == (1.0, 2.0)


def test_an_expected_tensor_round_trips_for_the_student_bundle():
    value = TensorValue(np.arange(4.0).reshape(2, 2), "cpu", "torch.float32", True, True)
    back = round_trip(value)
    assert type(back) is TensorValue and same(back.array, value.array)
    assert (back.device, back.dtype, back.requires_grad, back.grad_fn) == (
        "cpu", "torch.float32", True, True)
