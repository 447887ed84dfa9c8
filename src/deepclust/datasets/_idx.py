"""Read IDX files (the MNIST / Fashion-MNIST format), gzipped or not."""

from __future__ import annotations

import gzip
import os

import numpy as np
import numpy.typing as npt

_IDX_DTYPES: dict[int, npt.DTypeLike] = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
                                         0x0E: ">f8"}


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """Return the array stored in an IDX file (``.gz`` is decompressed on the fly).

    Raises ``ValueError`` when the header or the size does not match the IDX format.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int(v) for v in np.frombuffer(data[4:header], dtype=">u4"))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(f"{path}: IDX body has {len(data) - header} bytes, header says {expected}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))
