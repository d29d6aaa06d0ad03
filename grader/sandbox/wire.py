"""Wire format between the grader and its workers: plain data only.

A message is a 4-byte big-endian header length, a JSON header, then binary blobs whose lengths
the header lists. An array travels as its raw C-order bytes in a blob, its dtype (``"d"``, a
plain numeric, boolean or string dtype: never an object or structured one) and shape (``"s"``)
in the JSON next to the blob's index; its size is checked against them before anything is
allocated, and nothing is ever unpickled. Both sides use the same :func:`encode` / :func:`decode`, so a student's return
value reaches the grader as base Python and numpy types only: ndarray subclasses, rigged
``__eq__`` methods and other objects do not survive the trip (they arrive as :class:`Opaque`).

Encoded forms (a JSON value, with single-key dicts as tags):

- ``None``, ``bool``, ``int``, ``str``, ``float`` (NaN and infinities allowed): themselves
- ``list``: a JSON list; ``tuple``: ``{"$t": [...]}``; ``dict``: ``{"$d": [[key, value], ...]}``
- ``complex``: ``{"$c": [re, im]}``
- ``numpy.ndarray``: ``{"$a": blob, "d": dtype, "s": shape}``; numpy scalar: ``{"$s": blob,
  "d": dtype, "s": []}`` (a 0-d array)
- ``torch.Tensor``: ``{"$T": blob, "d", "s", "device": str, "dtype": str, "requires_grad":
  bool, "grad_fn": bool}``, decoded as :class:`TensorValue` (the grader never needs torch)
- :class:`Fn` (a function a check passes, as source text): ``{"$F": source}``; only the
  worker turns it back into a function (``make_function``); elsewhere it is refused
- anything else: ``{"$o": "module.QualName"}``, decoded as :class:`Opaque`
"""

from __future__ import annotations

import functools
import json
import math
import socket
import struct
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_DEPTH = 32
MAX_ITEMS = 1_000_000
DEFAULT_MAX_BYTES = 512 * 2**20
_HEADER = struct.Struct(">I")


class WireError(Exception):
    """A message that breaks the format or its limits."""


@dataclass(frozen=True)
class Opaque:
    """A value that cannot cross the wire as data; only its type name does."""

    type_name: str

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


@dataclass(frozen=True)
class TensorValue:
    """A torch tensor as data: its values (as numpy) and the attributes a check may judge."""

    array: np.ndarray
    device: str
    dtype: str  # torch's name, e.g. "torch.float32"
    requires_grad: bool = False
    grad_fn: bool = False


@dataclass(frozen=True)
class Out:
    """In a call's arguments: an earlier call's return value (``path`` indexes into it).

    It is resolved in the worker, so a value that cannot cross the wire (a dropout cache, say)
    can still be handed from one student function to the next.
    """

    call: int
    path: tuple = ()


@dataclass(frozen=True)
class TensorInput:
    """An input the worker turns into a torch tensor on ``device`` before the call."""

    array: np.ndarray
    dtype: str = "float64"
    device: str = "cpu"
    requires_grad: bool = False


@dataclass(frozen=True)
class Fn:
    """A function that a check passes to the student's code (``f`` of a numerical gradient,
    ``grad_f`` of gradient descent) or calls itself, as source text written in the bank.

    ``source`` is an expression (``"lambda x: np.sum(x ** 3)"``) or statements that define
    ``f``. It is compiled where it runs, with the names of the module under test in scope (the
    student's in the worker, the reference's in the grader), plus ``np`` and ``math``: so a
    check can build an expression from the student's own ``Dual`` or ``Value``.
    """

    source: str
    label: str = ""  # how feedback names it when the check calls it ("your Value graph")


def build_function(fn: Fn, module: Any) -> Any:
    """The function ``fn`` describes, compiled with ``module``'s names (and np, math) in scope.

    Runs bank-written text only: the worker on the grader's requests, the grader for the
    reference. Never called on anything a worker sent.
    """
    import math as math_module

    names = {"np": np, "math": math_module}
    names.update(vars(module) if module is not None else {})
    code = str(fn.source)
    try:
        return eval(compile(code, "<check>", "eval"), names)  # noqa: S307 - bank text
    except SyntaxError:
        exec(compile(code, "<check>", "exec"), names)  # noqa: S102 - bank text
        return names["f"]


def _c_order(arr: np.ndarray) -> np.ndarray:
    # Not np.ascontiguousarray: it turns a 0-d array into shape (1,), and a correct
    # np.tensordot(u, v, 1) (a 0-d array) then arrives as a vector.
    return arr if arr.flags.c_contiguous else np.array(arr, order="C")


#: Array kinds that cross the wire as raw bytes: booleans, integers, floats, complex numbers,
#: byte and unicode strings, datetimes. Objects (pickle) and structured records never do.
_KINDS = frozenset("biufcSUmM")


def _meta(arr: np.ndarray) -> dict:
    """What travels next to an array's blob: its dtype and shape."""
    return {"d": arr.dtype.str, "s": list(arr.shape)}


@functools.lru_cache(maxsize=64)
def _dtype(text: str) -> np.dtype:
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError, SyntaxError) as exc:
        raise WireError(f"an array of unknown dtype {text[:40]!r}") from exc
    if dtype.hasobject or dtype.kind not in _KINDS or dtype.fields or dtype.subdtype:
        raise WireError(f"an array of dtype {text[:40]!r} in the message (objects and records "
                        "would need pickle)")
    return dtype


def _read_array(obj: dict, blobs: list[bytes], index: Any) -> np.ndarray:
    dtype, shape, blob = _dtype(str(obj["d"])), obj["s"], _blob(blobs, index)
    if (not isinstance(shape, list) or len(shape) > MAX_DEPTH
            or not all(type(n) is int and n >= 0 for n in shape)):
        raise WireError("an array with a malformed shape")
    # Checked before anything is allocated: a forged shape must not cost the grader memory.
    if len(blob) != math.prod(shape) * dtype.itemsize:
        raise WireError("an array blob whose size does not match its header")
    # A writable copy: the worker hands inputs to student code, which may write into them.
    return np.frombuffer(blob, dtype=dtype).reshape(shape).copy()


def _type_name(value: Any) -> str:
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


class Encoder:
    """Encodes values into one blob table (one message's)."""

    def __init__(self) -> None:
        self.blobs: list[bytes] = []
        self.items = 0

    def blob(self, data: bytes) -> int:
        self.blobs.append(data)
        return len(self.blobs) - 1

    def array(self, value: np.ndarray) -> Any:
        # np.asarray drops subclasses without calling their methods; object arrays need pickle.
        arr = np.asarray(value)
        if type(arr) is not np.ndarray:
            arr = arr.view(np.ndarray)
        if arr.dtype.hasobject:
            return {"$o": f"numpy.ndarray[dtype={arr.dtype}]"}
        arr = _c_order(arr)
        return {"$a": self.blob(arr.tobytes()), **_meta(arr)}

    def encode(self, value: Any, depth: int = 0) -> Any:
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS:
            raise WireError("the value is nested too deeply or holds too many items")
        cls = type(value)
        if value is None or cls in (bool, int, str):
            return value
        if cls is float:
            return value
        if cls is complex:
            return {"$c": [value.real, value.imag]}
        if isinstance(value, np.ndarray):
            return self.array(value)
        if isinstance(value, np.generic):
            if isinstance(value, (np.object_, np.void)) and value.dtype.hasobject:
                return {"$o": _type_name(value)}
            arr = np.asarray(value)
            return {"$s": self.blob(arr.tobytes()), **_meta(arr)}
        if cls is list:
            return [self.encode(v, depth + 1) for v in value]
        if cls is tuple:
            return {"$t": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, tuple):
            # A named tuple (np.linalg.eigh's EighResult, ...) arrives as the plain tuple of
            # its items, read with tuple's own methods, not the subclass's.
            return {"$t": [self.encode(tuple.__getitem__(value, i), depth + 1)
                           for i in range(tuple.__len__(value))]}
        if cls is dict:
            return {"$d": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                           for k, v in value.items()]}
        if cls is Opaque:  # the worker's stand-in for a value it could not send
            return {"$o": value.type_name}
        if cls is Out:
            return {"$r": [value.call, [self.encode(p, depth + 1) for p in value.path]]}
        if cls is Fn:
            return {"$F": str(value.source)}
        if cls is TensorValue:  # an expected tensor, frozen into a student bundle
            arr = _c_order(np.asarray(value.array))
            return {"$T": self.blob(arr.tobytes()), **_meta(arr), "device": value.device,
                    "dtype": value.dtype, "requires_grad": value.requires_grad,
                    "grad_fn": value.grad_fn}
        if cls is TensorInput:
            arr = _c_order(np.asarray(value.array))
            return {"$I": self.blob(arr.tobytes()), **_meta(arr), "dtype": value.dtype,
                    "device": value.device, "requires_grad": value.requires_grad}
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(value, torch.Tensor):
            return self.tensor(torch, value)
        return {"$o": _type_name(value)}

    def tensor(self, torch: Any, value: Any) -> Any:
        data = torch.Tensor.detach(value)
        if data.dtype == torch.bfloat16:
            data = data.float()  # numpy has no bfloat16; float32 holds every bfloat16 exactly
        arr = data.cpu().numpy() if data.device.type != "meta" else np.zeros(tuple(data.shape))
        arr = _c_order(arr)
        return {"$T": self.blob(arr.tobytes()), **_meta(arr),
                "device": str(value.device), "dtype": str(value.dtype),
                "requires_grad": bool(value.requires_grad), "grad_fn": value.grad_fn is not None}


def encode(value: Any) -> tuple[Any, list[bytes]]:
    """Encode ``value`` as (JSON-able header value, blobs)."""
    enc = Encoder()
    return enc.encode(value), enc.blobs


def _hashable(key: Any) -> Any:
    if isinstance(key, list):
        return tuple(_hashable(k) for k in key)
    if isinstance(key, np.ndarray):
        return Opaque("numpy.ndarray")
    return key


def decode(obj: Any, blobs: list[bytes], *, make_tensor: Any = None,
           make_function: Any = None) -> Any:
    """Inverse of :func:`encode`. ``make_tensor(TensorInput)`` and ``make_function(Fn)`` build
    inputs in the worker; without ``make_function`` a function in the message is refused (the
    grader never runs code that came from a worker).

    Whatever the message holds, a malformed value raises :class:`WireError` and nothing else,
    so a reader needs to catch one exception (the other side may be student code).
    """
    try:
        return _decode(obj, blobs, (make_tensor, make_function), 0)
    except WireError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError,
            EOFError, MemoryError, RecursionError) as exc:
        raise WireError(f"a malformed value in the message ({type(exc).__name__}: "
                        f"{str(exc)[:200]})") from None


_PLAIN = frozenset({str, int, float, bool, type(None)})  # JSON's scalars: decoded as they are


def _decode(obj: Any, blobs: list[bytes], makers: tuple, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("the value is nested too deeply")
    if isinstance(obj, list):
        return _items(obj, blobs, makers, depth + 1)
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 0:
        raise WireError("an untagged object in the message")
    tag = next(iter(obj))
    sub = obj[tag]
    if tag == "$t":
        return tuple(_items(sub, blobs, makers, depth + 1))
    if tag == "$d":
        keys = _items([k for k, _ in sub], blobs, makers, depth + 1)
        values = _items([v for _, v in sub], blobs, makers, depth + 1)
        return {_hashable(k): v for k, v in zip(keys, values)}
    if tag == "$c":
        return complex(float(sub[0]), float(sub[1]))
    if tag == "$a":
        return _read_array(obj, blobs, sub)
    if tag == "$s":
        return _read_array(obj, blobs, sub)[()]
    if tag == "$o":
        return Opaque(str(sub))
    if tag == "$r":
        return Out(int(sub[0]), tuple(_decode(p, blobs, None, depth + 1) for p in sub[1]))
    if tag == "$T":
        return TensorValue(_read_array(obj, blobs, sub), str(obj["device"]), str(obj["dtype"]),
                           bool(obj["requires_grad"]), bool(obj["grad_fn"]))
    if tag == "$I":
        spec = TensorInput(_read_array(obj, blobs, sub), str(obj["dtype"]), str(obj["device"]),
                           bool(obj["requires_grad"]))
        return makers[0](spec) if makers[0] is not None else spec
    if tag == "$F":
        if makers[1] is None:
            raise WireError("a function in the message (only the grader sends functions)")
        return makers[1](Fn(str(sub)))
    raise WireError(f"unknown tag {tag!r} in the message")


def _items(values: list, blobs: list[bytes], makers: tuple, depth: int) -> list:
    """``values`` decoded at ``depth``: scalars as they are (most of a message), without a
    call each."""
    if depth > MAX_DEPTH and values:
        raise WireError("the value is nested too deeply")
    return [v if type(v) in _PLAIN else _decode(v, blobs, makers, depth) for v in values]


def _blob(blobs: list[bytes], index: Any) -> bytes:
    if type(index) is not int or not 0 <= index < len(blobs):
        raise WireError("a blob index out of range")
    return blobs[index]


# ----------------------------------------------------------------------------- framing

_JOIN_BYTES = 1 << 20  # messages up to this size go in one system call each way


def send_message(sock: socket.socket, header: dict, blobs: list[bytes] = ()) -> None:
    """Send one message: ``header`` (JSON-able) and its blobs."""
    blobs = list(blobs)
    head = json.dumps({"h": header, "b": [len(b) for b in blobs]}).encode()
    if sum(map(len, blobs)) <= _JOIN_BYTES:  # many small arrays: one send, not one each
        sock.sendall(b"".join([_HEADER.pack(len(head)), head, *blobs]))
        return
    sock.sendall(_HEADER.pack(len(head)) + head)
    for data in blobs:
        sock.sendall(data)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    part = sock.recv(min(n, _JOIN_BYTES)) if n else b""
    if len(part) == n:  # the usual case: no copy
        return part
    chunks = bytearray(part)
    while len(chunks) < n:
        if not part:
            raise EOFError("the other side closed the connection")
        part = sock.recv(min(n - len(chunks), _JOIN_BYTES))
        chunks += part
    return bytes(chunks)


def recv_message(sock: socket.socket, *, max_bytes: int = DEFAULT_MAX_BYTES
                 ) -> tuple[dict, list[bytes]]:
    """Receive one message; raise :class:`EOFError` when the peer is gone."""
    (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    if size > max_bytes:
        raise WireError(f"a message header of {size} bytes is over the limit")
    try:
        frame = json.loads(_recv_exact(sock, size))
        header, sizes = frame["h"], frame["b"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise WireError(f"a malformed message header: {str(exc)[:200]}") from None
    if not isinstance(header, dict) or not isinstance(sizes, list) or not all(
            type(s) is int and s >= 0 for s in sizes):
        raise WireError("a malformed message header")
    total = sum(sizes)
    if total > max_bytes:
        raise WireError(f"a message of {total} bytes is over the limit of {max_bytes}")
    if len(sizes) > 1 and total <= _JOIN_BYTES:  # many small arrays: one receive
        data, blobs, at = memoryview(_recv_exact(sock, total)), [], 0
        for size in sizes:
            blobs.append(data[at:at + size].tobytes())
            at += size
        return header, blobs
    return header, [_recv_exact(sock, s) for s in sizes]


def send_value(sock: socket.socket, header: dict, key: str, value: Any) -> None:
    """Send ``header`` with ``value`` encoded under ``key``."""
    obj, blobs = encode(value)
    send_message(sock, {**header, key: obj}, blobs)
