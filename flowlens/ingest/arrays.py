"""Arrow arrays from numpy and Python values, built from their buffers: without pandas.

pyarrow asks its pandas shim whether a value is a pandas object in every ``pa.array``,
``pa.scalar`` and ``Table.from_pylist`` of anything that is not already Arrow (numpy arrays and
Python scalars in compute calls included), and the first ask imports pandas: 0.25-0.5 CPU-s, a
twentieth of an ingest of 3M records, for a library ingest never uses. Ingest builds its arrays
here instead; ``tests/test_ingest_pipeline.py`` checks that an ingest of clean objects never
imports pandas.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa


def from_numpy(values: np.ndarray) -> pa.Array:
    """A 1-D numpy array of integers or booleans (no NULLs) as an Arrow array."""
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)], 0)
    values = np.ascontiguousarray(values)
    dtype = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(dtype, len(values), [None, pa.py_buffer(values)], 0)


def _validity(present: list[bool]) -> tuple[pa.Buffer | None, int]:
    nulls = present.count(False)
    if not nulls:
        return None, 0
    return pa.py_buffer(np.packbits(np.array(present, dtype=bool), bitorder="little")), nulls


_INT64 = pa.int64()


def ints(values: Sequence[int | None], type: pa.DataType = _INT64) -> pa.Array:
    """Python integers (None: NULL) as an Arrow integer array of ``type``."""
    validity, nulls = _validity([v is not None for v in values])
    data = np.array([0 if v is None else v for v in values], dtype=type.to_pandas_dtype())
    return pa.Array.from_buffers(type, len(values), [validity, pa.py_buffer(data)], nulls)


def strings(values: Sequence[str | None]) -> pa.Array:
    """Python strings (None: NULL) as an Arrow string array."""
    encoded = [b"" if v is None else v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    validity, nulls = _validity([v is not None for v in values])
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(values), buffers, nulls)


def offsets(lengths: Sequence[int]) -> pa.Array:
    """The int32 offsets of a list array whose lists have ``lengths``."""
    out = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=out[1:])
    return from_numpy(out)


def to_mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as a numpy mask, NULL as False."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    return np.concatenate([_bits(c) for c in chunks]) if chunks else np.zeros(0, dtype=bool)


def _bits(arr: pa.Array) -> np.ndarray:
    n, start = len(arr), arr.offset
    if n == 0:
        return np.zeros(0, dtype=bool)
    validity, data = arr.buffers()

    def unpacked(buf: pa.Buffer) -> np.ndarray:
        bits = np.unpackbits(np.frombuffer(buf, dtype=np.uint8), bitorder="little")
        return bits[start : start + n].astype(bool)

    out = unpacked(data)
    if validity is not None and arr.null_count:
        out &= unpacked(validity)
    return out
