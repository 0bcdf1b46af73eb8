"""Arrow arrays and tables from numpy and Python values, built from their buffers: without pandas.

pyarrow asks its pandas shim whether a value is a pandas object in every ``pa.array``,
``pa.scalar``, ``pa.table`` of lists and ``Table.from_pylist`` of anything that is not already
Arrow (numpy arrays and Python scalars in compute calls included), and the first ask imports
pandas: 0.25-0.5 CPU-s, a twentieth of an ingest of 3M records and a fifth of the start-up of
every command, for a library that ingest, the analysis and the recommender never use. They build
their arrays here instead: :func:`column` (and :func:`table`, :func:`table_from_rows`) for the
types of the model's schemas, :func:`ints`/:func:`strings`/:func:`from_numpy` for ingest's hot
paths. ``tests/test_ingest_pipeline.py`` checks that an ingest of clean objects never imports
pandas, ``tests/test_arrays.py`` that an analysis does not and that every builder equals
pyarrow's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

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


_EPOCH_DAY = date(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_ONE_US = timedelta(microseconds=1)


def column(values: Sequence[Any], type: pa.DataType) -> pa.Array:
    """Python values (None: NULL) as an Arrow array of ``type``, as ``pa.array(values, type)``
    builds it: strings, booleans, integers, doubles, dates, timestamps (a naive datetime is
    UTC, an aware one converted to it), lists and maps (a dict or a list of key/value pairs) of
    those. Any other type is a ``TypeError``: add it here rather than fall back to pandas."""
    if pa.types.is_string(type):
        return strings(values)
    if pa.types.is_integer(type):
        return ints(values, type)
    if pa.types.is_boolean(type):
        return _bools(values)
    if pa.types.is_float64(type):
        validity, nulls = _validity([v is not None for v in values])
        data = np.array([0.0 if v is None else float(v) for v in values], dtype=np.float64)
        return pa.Array.from_buffers(type, len(values), [validity, pa.py_buffer(data)], nulls)
    if pa.types.is_date32(type):
        days = [None if v is None else (v - _EPOCH_DAY).days for v in values]
        return ints(days, pa.int32()).view(type)
    if pa.types.is_timestamp(type):
        return ints([_ticks(v, type.unit) for v in values]).view(type)
    if pa.types.is_map(type):
        pairs = [
            None if v is None else list(v.items() if isinstance(v, Mapping) else v) for v in values
        ]
        flat = [kv for p in pairs if p is not None for kv in p]
        return pa.MapArray.from_arrays(
            offsets([0 if p is None else len(p) for p in pairs]),
            column([k for k, _ in flat], type.key_type),
            column([v for _, v in flat], type.item_type),
            type=type,
            mask=_nulls([p is not None for p in pairs]),
        )
    if pa.types.is_list(type):
        lists = [None if v is None else list(v) for v in values]
        return pa.ListArray.from_arrays(
            offsets([0 if v is None else len(v) for v in lists]),
            column([x for v in lists if v is not None for x in v], type.value_type),
            type=type,
            mask=_nulls([v is not None for v in lists]),
        )
    raise TypeError(f"flowlens.arrays.column: no builder for {type}")


def table(columns: Mapping[str, Iterable[Any]], schema: pa.Schema) -> pa.Table:
    """``pa.table(columns, schema=schema)`` for columns of Python values (or Arrow arrays of the
    schema's types), without pandas."""
    return pa.Table.from_arrays(
        [_column_of(columns[f.name], f.type) for f in schema], schema=schema
    )


def _column_of(values: Iterable[Any], type: pa.DataType) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    return column(values if isinstance(values, Sequence) else list(values), type)


def table_from_rows(rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """``pa.Table.from_pylist(rows, schema=schema)`` without pandas: a key a row lacks is NULL."""
    return table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema)


def scalar(value: Any, type: pa.DataType) -> pa.Scalar:
    """``pa.scalar(value, type)`` without pandas."""
    return column([value], type)[0]


def pylist(data: pa.Table | pa.Array | pa.ChunkedArray) -> list[Any]:
    """``data.to_pylist()`` without pandas: pyarrow asks for pandas to turn a time-zoned timestamp
    into a datetime, so those columns are read here as integers (a datetime in UTC, or in the
    type's zone). Other columns are pyarrow's own ``to_pylist``."""
    if isinstance(data, pa.Table):
        if not data.num_columns:
            return [{} for _ in range(data.num_rows)]
        columns = [pylist(c) for c in data.columns]
        names = data.column_names
        return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    if pa.types.is_timestamp(data.type) and data.type.tz is not None:
        unit, zone = data.type.unit, data.type.tz
        ticks = data.cast(pa.int64()).to_pylist()
        tz = UTC if zone in ("UTC", "+00:00", "Etc/UTC") else ZoneInfo(zone)
        return [None if v is None else _from_ticks(v, unit, tz) for v in ticks]
    return data.to_pylist()


def _from_ticks(value: int, unit: str, tz: tzinfo) -> datetime:
    per_second = _PER_SECOND[unit]
    if per_second > 1_000_000:
        value //= per_second // 1_000_000
    else:
        value *= 1_000_000 // per_second
    out = _EPOCH_UTC + timedelta(microseconds=value)
    return out if tz is UTC else out.astimezone(tz)


def _ticks(value: datetime | None, unit: str) -> int | None:
    if value is None:
        return None
    epoch = _EPOCH_NAIVE if value.tzinfo is None else _EPOCH_UTC
    us = (value - epoch) // _ONE_US
    per_second = _PER_SECOND[unit]
    return (
        us * (per_second // 1_000_000)
        if per_second >= 1_000_000
        else us // (1_000_000 // per_second)
    )


def _bools(values: Sequence[bool | None]) -> pa.Array:
    validity, nulls = _validity([v is not None for v in values])
    bits = np.packbits(np.array([bool(v) for v in values], dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(values), [validity, pa.py_buffer(bits)], nulls)


def _nulls(present: list[bool]) -> pa.Array | None:
    """The mask a list or map array's ``from_arrays`` takes (True: NULL), None without NULLs."""
    if all(present):
        return None
    return from_numpy(~np.array(present, dtype=bool))
