"""Reader for the LevelDB-format sorted table ("SSTable") used by checkpoint .index files."""

from __future__ import annotations

import os
import struct
from pathlib import Path

from ._crc32c import crc32c, unmask
from ._paths import read_inside
from ._proto import read_varint
from ._snappy import snappy_decompress
from .errors import LogdirError
from .limits import MAX_INDEX_BYTES

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
_NO_COMPRESSION = 0
_SNAPPY = 1


def _read_block(data: bytes, offset: int, size: int, source: str, verify: bool) -> bytes:
    """Contents of the block at (offset, size), checked and decompressed."""
    if offset + size + 5 > len(data) - FOOTER_SIZE:
        raise LogdirError(
            f"{source}: truncated or corrupt index: block at offset {offset} (size {size}) "
            f"runs past the end of the file ({len(data)} bytes)"
        )
    block = data[offset : offset + size]
    kind = data[offset + size]
    if verify:
        stored = struct.unpack_from("<I", data, offset + size + 1)[0]
        actual = crc32c(data[offset : offset + size + 1])
        if unmask(stored) != actual:
            raise LogdirError(f"{source}: checksum mismatch in the index block at offset {offset}")
    if kind == _NO_COMPRESSION:
        return block
    if kind == _SNAPPY:
        try:
            return snappy_decompress(block)
        except LogdirError as exc:
            raise LogdirError(f"{source}: block at offset {offset}: {exc}") from None
    raise LogdirError(f"{source}: block at offset {offset} uses unknown compression type {kind}")


def _block_entries(block: bytes, source: str) -> list[tuple[bytes, bytes]]:
    """Decode the prefix-compressed (key, value) entries of one block."""
    if len(block) < 4:
        raise LogdirError(f"{source}: corrupt block (only {len(block)} bytes)")
    num_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * num_restarts
    if end < 0:
        raise LogdirError(f"{source}: corrupt block (restart array larger than the block)")
    entries: list[tuple[bytes, bytes]] = []
    key = b""
    pos = 0
    while pos < end:
        shared, pos = read_varint(block, pos, source)
        non_shared, pos = read_varint(block, pos, source)
        value_len, pos = read_varint(block, pos, source)
        if shared > len(key) or pos + non_shared + value_len > end:
            raise LogdirError(f"{source}: corrupt block entry at byte {pos}")
        key = key[:shared] + block[pos : pos + non_shared]
        pos += non_shared
        entries.append((key, block[pos : pos + value_len]))
        pos += value_len
    return entries


def read_table(path: str | Path, verify: bool = True, root: Path | None = None) -> list[tuple[bytes, bytes]]:
    """All (key, value) pairs of a table file inside ``root`` (default: its folder), in key order."""
    path = Path(path)
    source = str(path)
    data = read_inside(Path(os.path.realpath(root or path.parent)), path, MAX_INDEX_BYTES, "checkpoint index")
    if len(data) < FOOTER_SIZE:
        raise LogdirError(f"{source}: not a checkpoint index or truncated ({len(data)} bytes, shorter than the {FOOTER_SIZE}-byte footer)")
    magic = struct.unpack_from("<Q", data, len(data) - 8)[0]
    if magic != TABLE_MAGIC:
        raise LogdirError(f"{source}: not a checkpoint index or truncated (bad magic number at the end)")
    footer = data[-FOOTER_SIZE:]
    _, pos = read_varint(footer, 0, source)  # metaindex handle: unused (no filters)
    _, pos = read_varint(footer, pos, source)
    index_offset, pos = read_varint(footer, pos, source)
    index_size, pos = read_varint(footer, pos, source)
    index = _read_block(data, index_offset, index_size, source, verify)
    entries: list[tuple[bytes, bytes]] = []
    for _, handle in _block_entries(index, source):
        offset, hpos = read_varint(handle, 0, source)
        size, _ = read_varint(handle, hpos, source)
        entries.extend(_block_entries(_read_block(data, offset, size, source, verify), source))
    return entries
