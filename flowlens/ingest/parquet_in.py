"""AWS's Parquet delivery (``.log.parquet``): columns taken by name and cast losslessly, or refused.

Casts: integers between widths when every value fits; strings to integers when every value is an
integer or ``-`` (NULL); an integer ``account_id`` back to its 12-digit string (AWS account ids are
always 12 digits, so zero-padding restores leading zeros exactly). Anything else raises
:class:`InputError` naming the column and a value, so nothing is silently changed. An object
without flow-log columns is refused naming what is missing; rows with values no flow log writes
are quarantined (row number, the row as text, the reason), as text records are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flowlens.errors import InputError
from flowlens.ingest.parse import BadLine, Header, finish_table, missing_flow_fields
from flowlens.ingest.validate import invalid_rows

_BATCH_ROWS = 256_000


def read_parquet(
    stream: IO[bytes], where: str
) -> tuple[Header, Iterator[tuple[pa.Table, list[BadLine]]]]:
    """The object's header (from its column names) and its rows as (table in the header's table
    schema, quarantined rows)."""
    try:
        pf = pq.ParquetFile(stream)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{where}: not a readable Parquet file: {exc}") from None
    names = [n.replace("_", "-") for n in pf.schema_arrow.names]
    missing = missing_flow_fields(names)
    if missing:
        raise InputError(
            f"{where}: a Parquet object without flow-log columns: {missing.replace('-', '_')} "
            f"(its columns: {', '.join(pf.schema_arrow.names[:20]) or 'none'})"
        )
    header = Header(tuple(names))

    def batches() -> Iterator[tuple[pa.Table, list[BadLine]]]:
        row = 1
        for batch in pf.iter_batches(batch_size=_BATCH_ROWS):
            cols = {
                n: cast_column(batch.column(i), header.type_of(n), n, where)
                for i, n in enumerate(names)
            }
            table = finish_table(cols, header)
            yield _split_invalid(table, batch, row)
            row += batch.num_rows

    return header, batches()


def _split_invalid(
    table: pa.Table, batch: pa.RecordBatch, first_row: int
) -> tuple[pa.Table, list[BadLine]]:
    """Rows with impossible values apart, as quarantine lines: their row
    number and the row as text."""
    invalid = invalid_rows(table)
    if invalid is None:
        return table, []
    bad = []
    for i, reason in zip(np.flatnonzero(invalid.mask), invalid.reasons, strict=True):
        raw = " ".join(
            "-" if v is None else str(v) for v in batch.slice(int(i), 1).to_pylist()[0].values()
        )
        bad.append(BadLine(first_row + int(i), raw[:4096], reason))
    return table.filter(pa.array(~invalid.mask)), bad


def cast_column(col: pa.Array, target: pa.DataType, name: str, where: str) -> pa.Array:
    """``col`` as ``target`` without losing information, or an InputError naming the column."""
    if col.type == target:
        return _dash_null(col) if pa.types.is_string(target) else col
    if pa.types.is_integer(col.type) and pa.types.is_string(target):
        text = pc.cast(col, pa.string())
        return pc.utf8_lpad(text, 12, "0") if name == "account-id" else text
    if pa.types.is_integer(col.type) and pa.types.is_integer(target):
        try:
            return pc.cast(col, target)  # safe cast: fails on overflow
        except pa.ArrowInvalid:
            raise InputError(
                f"{where}: column {name.replace('-', '_')} has values outside {target}"
            ) from None
    if pa.types.is_string(col.type) and pa.types.is_integer(target):
        clean = _dash_null(col)
        try:
            return pc.cast(clean, target)
        except pa.ArrowInvalid:
            bad = _first_non_integer(clean)
            raise InputError(
                f"{where}: column {name.replace('-', '_')} holds {bad!r}, which is not an integer; "
                f"this Parquet file was not written by AWS flow logs"
            ) from None
    raise InputError(f"{where}: column {name.replace('-', '_')} is {col.type}, expected {target}")


def _dash_null(col: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(col, "-"), pa.scalar(None, col.type), col)


def _first_non_integer(col: pa.Array) -> str:
    ok = pc.match_substring_regex(col, r"^-?[0-9]+$")
    bad = col.filter(pc.invert(pc.fill_null(ok, True)))
    return str(bad[0].as_py()) if len(bad) else "?"
