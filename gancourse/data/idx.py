"""The IDX file format of MNIST and Fashion-MNIST, written and read with numpy.

Format (LeCun et al., http://yann.lecun.com/exdb/mnist/): a 4-byte big-endian magic
number ``0x0000 TT DD`` (``TT = 0x08`` for unsigned bytes, ``DD`` = number of
dimensions), then ``DD`` big-endian uint32 sizes, then the values in C order.
Images ``(N, 28, 28)`` uint8 have magic 2051, labels ``(N,)`` uint8 have magic 2049.

Files whose name ends in ``.gz`` are gzip-compressed. Compression uses ``mtime=0``
so the same array always gives the same bytes (and the same md5).
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

UBYTE = 0x08


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array (1 to 3 dims) as IDX bytes (header + C-order values)."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"IDX writer supports uint8 only, got {array.dtype}")
    if not 1 <= array.ndim <= 3:
        raise ValueError(f"IDX arrays have 1 to 3 dims, got shape {array.shape}")
    magic = (UBYTE << 8) | array.ndim  # 2049 for labels, 2051 for images
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    return header + array.tobytes()


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write ``array`` (uint8) as an IDX file; gzip it when ``path`` ends in ``.gz``."""
    path = Path(path)
    data = idx_bytes(array)
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (plain or ``.gz``) of unsigned bytes into a uint8 array."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    (magic,) = struct.unpack(">I", raw[:4])
    kind, ndim = magic >> 8, magic & 0xFF
    if kind != UBYTE or not 1 <= ndim <= 3:
        raise ValueError(f"{path}: not a uint8 IDX file (magic {magic})")
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    values = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape}, found {values.size} values")
    return values.reshape(shape)
