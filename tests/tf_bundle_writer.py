"""A minimal TensorFlow tensor-bundle writer, for building test checkpoints (our reader's counterpart).

Uncompressed single-block table, no prefix compression, no checksums: enough for inpaint_core's reader,
which is what the tests exercise.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

DTYPE_CODES = {np.dtype(np.float32): 1, np.dtype(np.int32): 3, np.dtype(np.int64): 9}


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, bytes):
        return _varint(number << 3 | 2) + _varint(len(value)) + value
    return _varint(number << 3) + _varint(value)


def _block(entries: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(_varint(0) + _varint(len(k)) + _varint(len(v)) + k + v for k, v in entries)
    return body + struct.pack("<II", 0, 1)


def write_bundle(prefix: Path, variables: dict[str, np.ndarray]) -> Path:
    data, entries = bytearray(), [(b"", _field(1, 1) + _field(3, _field(1, 1)))]
    for name in sorted(variables):
        value = np.ascontiguousarray(variables[name])
        shape = b"".join(_field(2, _field(1, d)) for d in value.shape)
        proto = _field(1, DTYPE_CODES[value.dtype]) + _field(2, shape) + _field(4, len(data)) + _field(5, value.nbytes)
        entries.append((name.encode(), proto))
        data += value.tobytes()
    table = bytearray()
    data_block = _block(entries)
    table += data_block + b"\0" * 5
    meta_offset = len(table)
    meta_block = _block([])
    table += meta_block + b"\0" * 5
    index_offset = len(table)
    index_block = _block([(entries[-1][0], _varint(0) + _varint(len(data_block)))])
    table += index_block + b"\0" * 5
    handles = _varint(meta_offset) + _varint(len(meta_block)) + _varint(index_offset) + _varint(len(index_block))
    table += handles.ljust(40, b"\0") + struct.pack("<Q", 0xDB4775248B80FB57)
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    (prefix.parent / f"{prefix.name}.index").write_bytes(bytes(table))
    (prefix.parent / f"{prefix.name}.data-00000-of-00001").write_bytes(bytes(data))
    return prefix
