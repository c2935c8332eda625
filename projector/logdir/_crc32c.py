"""CRC32C (Castagnoli) and the masking used by LevelDB tables and tensor bundles."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_POLY = 0x82F63B78
_MASK_DELTA = 0xA282EAD8


def _make_tables() -> np.ndarray:
    """Slicing-by-8 tables, shape (8, 256), uint32."""
    tables = np.zeros((8, 256), dtype=np.uint32)
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ (_POLY if crc & 1 else 0)
        tables[0, i] = crc
    for k in range(1, 8):
        for i in range(256):
            prev = int(tables[k - 1, i])
            tables[k, i] = (prev >> 8) ^ int(tables[0, prev & 0xFF])
    return tables


_TABLES = _make_tables()


def _crc32c_update(crc: np.uint32, data: np.ndarray, tables: np.ndarray) -> np.uint32:  # pragma: no cover - jit
    """Continue a raw (unfinalised) CRC32C over a uint8 array of shape (n,)."""
    c = np.uint32(crc)
    n = data.shape[0]
    i = 0
    t0 = tables[0]
    t1 = tables[1]
    t2 = tables[2]
    t3 = tables[3]
    t4 = tables[4]
    t5 = tables[5]
    t6 = tables[6]
    t7 = tables[7]
    while i + 8 <= n:
        lo = c ^ (
            np.uint32(data[i])
            | (np.uint32(data[i + 1]) << np.uint32(8))
            | (np.uint32(data[i + 2]) << np.uint32(16))
            | (np.uint32(data[i + 3]) << np.uint32(24))
        )
        c = (
            t7[lo & np.uint32(0xFF)]
            ^ t6[(lo >> np.uint32(8)) & np.uint32(0xFF)]
            ^ t5[(lo >> np.uint32(16)) & np.uint32(0xFF)]
            ^ t4[lo >> np.uint32(24)]
            ^ t3[data[i + 4]]
            ^ t2[data[i + 5]]
            ^ t1[data[i + 6]]
            ^ t0[data[i + 7]]
        )
        i += 8
    while i < n:
        c = t0[(c ^ np.uint32(data[i])) & np.uint32(0xFF)] ^ (c >> np.uint32(8))
        i += 1
    return c


_compiled: Callable[[np.uint32, np.ndarray, np.ndarray], np.uint32] | None = None


def _kernel() -> Callable[[np.uint32, np.ndarray, np.ndarray], np.uint32]:
    # compiled on first use: importing projector (e.g. for the client) does not import Numba
    global _compiled
    if _compiled is None:
        import numba

        _compiled = numba.njit(cache=True, nogil=True)(_crc32c_update)
    return _compiled


def crc32c(data: bytes | bytearray | memoryview | np.ndarray, crc: int = 0) -> int:
    """CRC32C of ``data``, optionally continuing from a previous finished ``crc``."""
    array = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data
    array = np.ascontiguousarray(array).view(np.uint8).reshape(-1)
    raw = int(_kernel()(np.uint32(crc ^ 0xFFFFFFFF), array, _TABLES))
    return raw ^ 0xFFFFFFFF


def mask(crc: int) -> int:
    """Masked form of a CRC, as stored in tables and bundle entries."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def unmask(masked: int) -> int:
    """Inverse of :func:`mask`."""
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF
