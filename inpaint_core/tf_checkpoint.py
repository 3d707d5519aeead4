"""Read a TensorFlow checkpoint (tensor-bundle format) without TensorFlow.

A checkpoint ``PREFIX`` is ``PREFIX.index`` (a LevelDB-style sorted table mapping each variable name to a small
protobuf saying dtype, shape, shard, offset and size) and ``PREFIX.data-NNNNN-of-MMMMM`` (raw little-endian
tensor bytes). Both formats are simple and stable, so a reader of a hundred lines beats a TF dependency of a
gigabyte. Only what checkpoints of the official DeepFill code use is supported: dense, uncompressed tables.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5  # compression type byte + crc32

# tensorflow/core/framework/types.proto
DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64,
          10: np.bool_, 17: np.uint16, 19: np.float16, 22: np.uint32, 23: np.uint64}


class TFCheckpointError(ValueError):
    """An official TensorFlow checkpoint is missing, unreadable or not a tensor bundle; the message says which file
    and why. (Our own training checkpoints raise ``train.checkpoint.TrainingCheckpointError``.)"""


@dataclass(frozen=True)
class TensorEntry:
    dtype: type
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise TFCheckpointError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _protobuf_fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs of a protobuf message; length-delimited values stay bytes."""
    fields, pos = [], 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        else:
            raise TFCheckpointError(f"unsupported protobuf wire type {wire}")
        fields.append((number, value))
    return fields


def _parse_entry(name: str, buf: bytes) -> TensorEntry:
    dtype_code, shape, shard, offset, size = 0, (), 0, 0, 0
    for number, value in _protobuf_fields(buf):
        if number == 1:
            dtype_code = value
        elif number == 2:
            dims = []
            for dim_field, dim in _protobuf_fields(value):
                if dim_field == 2:
                    dims.append(next((v for f, v in _protobuf_fields(dim) if f == 1), 0))
            shape = tuple(dims)
        elif number == 3:
            shard = value
        elif number == 4:
            offset = value
        elif number == 5:
            size = value
        elif number == 7:
            raise TFCheckpointError(f"variable {name} is stored in slices (partitioned); not supported")
    if dtype_code not in DTYPES:
        raise TFCheckpointError(f"variable {name} has an unsupported dtype code {dtype_code}")
    return TensorEntry(DTYPES[dtype_code], shape, shard, offset, size)


def _block(data: bytes, offset: int, size: int) -> list[tuple[bytes, bytes]]:
    """Entries of one table block (keys are prefix-compressed against the previous key)."""
    if offset + size + BLOCK_TRAILER_SIZE > len(data):
        raise TFCheckpointError("index block lies outside the file (truncated?)")
    if data[offset + size] != 0:
        raise TFCheckpointError("compressed index blocks are not supported")
    block = data[offset:offset + size]
    num_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * num_restarts
    entries, pos, key = [], 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        entries.append((key, block[pos:pos + value_len]))
        pos += value_len
    return entries


def _read_index(index_path: Path) -> tuple[int, dict[str, TensorEntry]]:
    data = index_path.read_bytes()
    if len(data) < FOOTER_SIZE or struct.unpack_from("<Q", data, len(data) - 8)[0] != TABLE_MAGIC:
        raise TFCheckpointError(f"{index_path}: not a TensorFlow checkpoint index (bad magic number)")
    footer = data[-FOOTER_SIZE:]
    _, pos = _varint(footer, 0)          # metaindex handle (unused)
    _, pos = _varint(footer, pos)
    index_offset, pos = _varint(footer, pos)
    index_size, _ = _varint(footer, pos)
    num_shards, entries = 1, {}
    for _, handle in _block(data, index_offset, index_size):
        block_offset, p = _varint(handle, 0)
        block_size, _ = _varint(handle, p)
        for key, value in _block(data, block_offset, block_size):
            if key == b"":
                header = dict(_protobuf_fields(value))
                num_shards = int(header.get(1, 1))
            else:
                name = key.decode("utf-8")
                entries[name] = _parse_entry(name, value)
    return num_shards, entries


def resolve_prefix(path: str | Path) -> Path:
    """A checkpoint prefix from a prefix, an ``.index`` file, or a folder holding a ``checkpoint`` file
    (``checkpoint.txt`` too: the official release folders on Google Drive carry that name)."""
    path = Path(path)
    if path.suffix == ".index":
        return path.with_suffix("")
    if path.is_dir():
        for name in ("checkpoint", "checkpoint.txt"):
            state = path / name
            if state.is_file():
                match = re.search(r'^model_checkpoint_path:\s*"([^"]+)"', state.read_text(), re.MULTILINE)
                if match:
                    prefix = Path(match.group(1))
                    return prefix if prefix.is_absolute() else path / prefix
        indexes = sorted(path.glob("*.index"))
        if len(indexes) == 1:
            return indexes[0].with_suffix("")
        raise TFCheckpointError(f"{path}: no 'checkpoint' file and {len(indexes)} .index files; pass the prefix itself")
    return path


def read_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """Every variable of the checkpoint as a NumPy array in TF layout (kernels HWIO)."""
    prefix = resolve_prefix(path)
    index_path = prefix.parent / (prefix.name + ".index")
    if not index_path.is_file():
        raise TFCheckpointError(f"{index_path}: no such checkpoint index")
    num_shards, entries = _read_index(index_path)
    shards: dict[int, bytes] = {}
    arrays = {}
    for name, entry in entries.items():
        if entry.shard not in shards:
            shard_path = prefix.parent / f"{prefix.name}.data-{entry.shard:05d}-of-{num_shards:05d}"
            if not shard_path.is_file():
                raise TFCheckpointError(f"{shard_path}: data file of the checkpoint is missing")
            shards[entry.shard] = shard_path.read_bytes()
        blob = shards[entry.shard]
        count = int(np.prod(entry.shape)) if entry.shape else 1
        itemsize = np.dtype(entry.dtype).itemsize
        if entry.size != count * itemsize or entry.offset + entry.size > len(blob):
            raise TFCheckpointError(f"variable {name}: its bytes are missing from the data file "
                                    "(truncated checkpoint?)")
        arrays[name] = np.frombuffer(blob, dtype=np.dtype(entry.dtype).newbyteorder("<"), count=count,
                                     offset=entry.offset).reshape(entry.shape).copy()
    return arrays
