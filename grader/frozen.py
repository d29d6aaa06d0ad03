"""Frozen check data: what the student bundle carries instead of reference code.

``grader release`` computes, for every PUBLIC check, the expected results (with the reference)
and the results of every known mistake's variant on the same inputs, and stores them as plain
data in ``grader/_frozen/`` (the wire format: JSON and raw array bytes, never pickle). The
bundle's bank modules keep the public case generators and judges; their ``Mistake`` variants
are replaced by :func:`variant` lookups. Cases are keyed by a digest of their encoded inputs, so a bundle that
regenerates different inputs (another numpy, another seed) fails closed instead of comparing
against the wrong expected values.
"""

from __future__ import annotations

import functools
import hashlib
import json
import struct
from pathlib import Path
from typing import Any, Callable

from grader.sandbox import wire

FROZEN_DIR = Path(__file__).resolve().parent / "_frozen"
MANIFEST = "manifest.json"
_LEN = struct.Struct(">I")


class FrozenMissing(LookupError):
    """The bundle holds no frozen data for these inputs."""


def pack(value: Any) -> bytes:
    """``value`` as bytes: a length-prefixed JSON header and the array blobs (wire format)."""
    obj, blobs = wire.encode(value)
    head = json.dumps({"h": obj, "b": [len(b) for b in blobs]}).encode()
    return _LEN.pack(len(head)) + head + b"".join(blobs)


def unpack(data: bytes) -> Any:
    (size,) = _LEN.unpack_from(data)
    frame = json.loads(data[_LEN.size:_LEN.size + size])
    blobs, pos = [], _LEN.size + size
    for length in frame["b"]:
        blobs.append(data[pos:pos + length])
        pos += length
    return wire.decode(frame["h"], blobs)


def case_digest(case: Any) -> str:
    """A digest of a case's calls (function names and inputs), stable across runs."""
    obj, blobs = wire.encode([c.to_wire() for c in case.calls])
    h = hashlib.sha256(json.dumps(obj, sort_keys=True).encode())
    for blob in blobs:
        h.update(hashlib.sha256(blob).digest())
    return h.hexdigest()


def is_bundle() -> bool:
    """True in a student bundle (frozen data present, references absent)."""
    return (FROZEN_DIR / MANIFEST).is_file()


@functools.lru_cache(maxsize=None)
def manifest() -> dict:
    return json.loads((FROZEN_DIR / MANIFEST).read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def _table(name: str) -> dict:
    path = FROZEN_DIR / f"{name}.bin"
    return unpack(path.read_bytes()) if path.is_file() else {}


def expected(exercise_id: str, digest: str) -> list[dict]:
    """The frozen reference results of one case: ``[{value} | {raised}, ...]``."""
    table = _table(f"expected.{exercise_id}")
    if digest not in table:
        raise FrozenMissing(f"no frozen expected results for these inputs of {exercise_id}")
    return table[digest]


def variant(name: str) -> Callable[[Any], Any]:
    """Stands in for a known mistake's variant in the bundle: its frozen result on the case."""

    def lookup(case: Any) -> Any:
        values = _table("mistakes").get(case_digest(case), {})
        if name not in values:
            raise FrozenMissing(name)
        return values[name]

    return lookup
