"""Parsed tables of many objects → window filter, provenance and partition split, once per batch.

Most flow-log objects are small (a few thousand records, 5-minute files): running the filter and
split compute calls per object dominated the run. A worker therefore accumulates the parsed tables
of consecutive objects that share a table schema and the window intervals, and splits them in one
pass: the window test, the account/region/day of every row and the per-object row counts are
numpy operations over the whole batch, and the common case (one account, one region, one day, all
rows inside the window) takes no filter and no sort at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flowlens.arrays import from_numpy, ints, strings
from flowlens.errors import InputError
from flowlens.ingest.writer import memory_schema

_EPOCH = date(1970, 1, 1)
_DAY = 86400

PartKey = tuple[str, str, str]  # (account_id, region, date)


@dataclass(frozen=True)
class Piece:
    """How many rows of a block are one object's, and what its key says."""

    index: int  # the object's position in its batch
    rows: int
    source_key: str
    flow_log_id: str
    account_id: str  # of the key: fills a NULL account-id
    region: str  # of the key: fills a NULL region (formats without the field)
    timestamp: int  # of the key: fills a NULL end


@dataclass(frozen=True)
class Block:
    """Parsed rows (in the header's table schema) of one or more objects, ``pieces`` in row order.

    Objects parsed together stay one table: a slice per object would make a chunk per object in
    every column, and each chunk costs the writer (its size, its encoding) again.
    """

    table: pa.Table
    pieces: list[Piece]

    def of(self, index: int) -> Block:
        """The rows of the object at ``index`` alone."""
        start = 0
        for p in self.pieces:
            if p.index == index:
                return Block(self.table.slice(start, p.rows), [p])
            start += p.rows
        return Block(self.table.slice(0, 0), [])


@dataclass(frozen=True)
class Split:
    parts: list[
        tuple[PartKey, pa.Table, set[str]]
    ]  # partition, rows in the file schema, source keys
    rows: dict[int, int]  # object index → rows kept
    out_of_window: dict[int, int]  # object index → rows outside the intervals


def split(blocks: list[Block], intervals: tuple[tuple[int, int], ...], schema: pa.Schema) -> Split:
    """Keep the rows whose ``end`` lies in ``intervals``; split them by partition."""
    table = pa.concat_tables([b.table for b in blocks])
    pieces = [p for b in blocks for p in b.pieces]
    counts = np.array([p.rows for p in pieces], dtype=np.int64)
    owner = np.repeat(np.arange(len(pieces), dtype=np.int32), counts)
    end = _ints(_filled(table.column("end"), owner, [p.timestamp for p in pieces]))
    keep = _inside(end, intervals)
    if keep is not None:
        table, owner, end = table.filter(from_numpy(keep)), owner[keep], end[keep]
    kept = np.bincount(owner, minlength=len(pieces))
    rows = {p.index: 0 for p in pieces}
    oow = dict(rows)
    for i, p in enumerate(pieces):
        rows[p.index] += int(kept[i])
        oow[p.index] += int(counts[i] - kept[i])
    return Split(_partitions(table, owner, end, pieces, schema), rows, oow)


def _filled(col: pa.ChunkedArray, owner: np.ndarray, per_piece: list[int] | list[str]) -> pa.Array:
    """``col`` with NULLs replaced by the value of the row's piece."""
    flat = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if flat.null_count == 0:
        return flat
    values = (
        strings(cast(list[str], per_piece))
        if pa.types.is_string(flat.type)
        else ints(cast(list[int], per_piece), flat.type)
    )
    return pc.coalesce(flat, values.take(from_numpy(owner)))


def _inside(end: np.ndarray, intervals: tuple[tuple[int, int], ...]) -> np.ndarray | None:
    """Mask of rows inside the intervals, or ``None`` when every row is."""
    if len(end) == 0:
        return None
    lo, hi = int(end.min()), int(end.max())
    if any(s <= lo and hi < e for s, e in intervals):
        return None
    keep = np.zeros(len(end), dtype=bool)
    for s, e in intervals:
        keep |= (end >= s) & (end < e)
    return keep


def _partitions(
    table: pa.Table, owner: np.ndarray, end: np.ndarray, pieces: list[Piece], schema: pa.Schema
) -> list[tuple[PartKey, pa.Table, set[str]]]:
    if table.num_rows == 0:
        return []
    accounts, acct_code = _codes(table.column("account_id"), owner, [p.account_id for p in pieces])
    regions, region_code = _codes(table.column("region"), owner, [p.region for p in pieces])
    day = np.floor_divide(end, _DAY)
    dmin, dmax = int(day.min()), int(day.max())
    data = _file_table(table, owner, pieces, schema)
    if len(accounts) == 1 and len(regions) == 1 and dmin == dmax:
        return [((accounts[0], regions[0], _iso(dmin)), data, _keys(owner, pieces))]
    code = (acct_code.astype(np.int64) * len(regions) + region_code) * (dmax - dmin + 1) + (
        day - dmin
    )
    order = np.argsort(code, kind="stable")
    code, owner, data = code[order], owner[order], data.take(from_numpy(order))
    bounds = np.flatnonzero(np.diff(code)) + 1
    out = []
    for s, e in zip(
        np.concatenate([[0], bounds]), np.concatenate([bounds, [len(code)]]), strict=True
    ):
        c = int(code[s])
        a, rest = divmod(c, len(regions) * (dmax - dmin + 1))
        r, d = divmod(rest, dmax - dmin + 1)
        out.append(
            (
                (accounts[a], regions[r], _iso(dmin + d)),
                data.slice(s, e - s),
                _keys(owner[s:e], pieces),
            )
        )
    return out


def _codes(
    col: pa.ChunkedArray, owner: np.ndarray, per_piece: list[str]
) -> tuple[list[str], np.ndarray]:
    """Distinct values of a string column (NULL → the piece's value) and each row's code."""
    if col.null_count == len(col):  # the format lacks the field: the key's value
        names = sorted(set(per_piece))
        by_piece = np.array([names.index(v) for v in per_piece], dtype=np.int32)
        return names, by_piece[owner]
    if col.null_count == 0:
        values = pc.unique(col)
        if len(values) == 1:
            return [values[0].as_py()], np.zeros(len(owner), dtype=np.int32)
    encoded = pc.dictionary_encode(_filled(col, owner, per_piece))
    return encoded.dictionary.to_pylist(), _ints(encoded.indices)


def _ints(arr: pa.Array) -> np.ndarray:
    """A NULL-free integer array as numpy, zero-copy (``Array.to_numpy`` would import pandas)."""
    assert arr.null_count == 0
    dtype = np.dtype(f"int{arr.type.bit_width}")
    return np.frombuffer(arr.buffers()[1], dtype=dtype)[arr.offset : arr.offset + len(arr)]


def _file_table(
    table: pa.Table, owner: np.ndarray, pieces: list[Piece], schema: pa.Schema
) -> pa.Table:
    """The rows in the writer's schema (:func:`memory_schema`), with the provenance columns.

    The provenance columns are dictionary arrays: the row owners are the indices (no copy of a
    key per row; the writer stores the dictionary as is).
    """
    idx = from_numpy(owner)
    extra = {
        "source_key": pa.DictionaryArray.from_arrays(idx, strings([p.source_key for p in pieces])),
        "flow_log_id": pa.DictionaryArray.from_arrays(
            idx, strings([p.flow_log_id for p in pieces])
        ),
    }
    out = memory_schema(schema)
    return pa.Table.from_arrays(
        [extra[f.name] if f.name in extra else table.column(f.name) for f in out], schema=out
    )


def _keys(owner: np.ndarray, pieces: list[Piece]) -> set[str]:
    return {pieces[i].source_key for i in np.unique(owner)}


def _iso(day: int) -> str:
    try:
        return (_EPOCH + timedelta(days=day)).isoformat()
    except OverflowError:
        raise InputError(
            f"record end time {day * _DAY} is not a date between years 1 and 9999"
        ) from None
