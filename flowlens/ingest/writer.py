"""Hive-partitioned zstd Parquet output, batched across source objects, made visible atomically.

One :class:`PartitionWriter` per table (flows, tgw_flows, quarantine). Rows from many source objects
go into one file per partition per run; buffers are flushed as row groups, so memory is bounded by
the buffer sizes (and a budget across partitions), not the day. Files are written under hidden temp
names (ignored by the catalog, Hive and Spark) and renamed into place by
:meth:`PartitionWriter.close`; the manifest commit that follows is what makes
them part of the data set.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flowlens.arrays import strings

ROW_GROUP_ROWS = 1_000_000
ROW_GROUP_BYTES = 32 << 20
#: All partitions' buffers together (many accounts/regions): past this the largest is written out.
BUFFER_BUDGET = 128 << 20


#: The string column whose min/max statistics are written too: the REJECT records are written in
#: row groups of their own (see :class:`_Open`), so a query of the REJECTs skips the others.
PRUNED_STRINGS = ("action",)


def stats_columns(schema: pa.Schema) -> list[str]:
    """Columns whose min/max statistics are written: the integers (times, ports, counters) and
    :data:`PRUNED_STRINGS`.

    Other strings' min/max (addresses, ids) prune nothing in files that mix every ENI, and cost a
    sixth of the write time.
    """
    return [f.name for f in schema if pa.types.is_integer(f.type) or f.name in PRUNED_STRINGS]


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


#: Columns that batches carry dictionary-encoded: one value per source object, repeated on its
#: thousands of rows. Built from the row owners (no per-row copy of a 100-byte key) and written
#: as the Parquet dictionary as is (no per-row hashing).
DICTIONARY_COLUMNS = ("source_key", "flow_log_id")
_DICT = pa.dictionary(pa.int32(), pa.string())


@lru_cache(maxsize=8)
def memory_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with :data:`DICTIONARY_COLUMNS` dictionary-typed: what the writer is given."""
    return pa.schema(
        [f.with_type(_DICT) if f.name in DICTIONARY_COLUMNS else f for f in schema],
        metadata=schema.metadata,
    )


def parquet_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """A zstd writer for ``schema`` (plain or :func:`memory_schema`); files read back as plain.

    Dictionary encoding is asked for string columns only: integer columns (ports, counters,
    times) hold too many distinct values and fell back to plain after hashing every value. They
    are delta-encoded instead (DELTA_BINARY_PACKED, a Parquet 2 encoding every engine here
    reads): zstd then has less to compress, and DuckDB less to inflate (write -12 %, DuckDB's
    read of them -55 %, bench/README.md). A schema with dictionary types is not stored in the file
    (it would read back as dictionaries): without it every reader derives the plain file schema
    from the Parquet types.
    """
    dict_typed = any(pa.types.is_dictionary(f.type) for f in schema)
    return pq.ParquetWriter(
        path,
        schema,
        compression="zstd",
        write_statistics=stats_columns(schema),
        use_dictionary=_dictionary_columns(schema) or False,
        column_encoding=_delta_columns(schema) or None,
        store_schema=not dict_typed,
    )


def _delta_columns(schema: pa.Schema) -> dict[str, str]:
    return {f.name: "DELTA_BINARY_PACKED" for f in schema if pa.types.is_integer(f.type)}


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    out = []
    for f in schema:
        if pa.types.is_string(f.type) or pa.types.is_dictionary(f.type):
            out.append(f.name)
        elif pa.types.is_map(f.type):  # its leaves, by Parquet column path
            out += [f"{f.name}.key_value.key", f"{f.name}.key_value.value"]
    return out


class _Buffer:
    """Tables waiting to be written as one row group."""

    def __init__(self) -> None:
        self.tables: list[pa.Table] = []
        self.rows = 0
        self.nbytes = 0

    @property
    def full(self) -> bool:
        return self.rows >= ROW_GROUP_ROWS or self.nbytes >= ROW_GROUP_BYTES

    def take(self) -> pa.Table | None:
        """The buffered rows as one table (buffer emptied); caller holds the writer's lock."""
        if not self.tables:
            return None
        # One dictionary per column across the buffered tables: the writer keeps writing
        # dictionary indices only while the dictionary stays the same (else it falls back to plain).
        table = pa.concat_tables(self.tables).unify_dictionaries()
        self.tables, self.rows, self.nbytes = [], 0, 0
        return table


class _Open:
    """One file being written. Rows given as ``apart`` (the REJECT records, see parse.Body) are
    buffered on their own and written in row groups of their own: with the ``action`` statistics
    a query of the REJECTs skips every other row group, and its wide columns are never
    decompressed."""

    def __init__(self, final: Path, tmp: Path, schema: pa.Schema) -> None:
        self.final, self.tmp = final, tmp
        self.writer = parquet_writer(tmp, schema)
        self.write_lock = threading.Lock()  # one row group at a time into this file
        self.buffers = (_Buffer(), _Buffer())  # the other rows, the rows apart
        self.keys: set[str] = set()

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes for b in self.buffers)

    def write(self, table: pa.Table | None) -> None:
        if table is not None:
            with self.write_lock:
                self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)


class PartitionWriter:
    """Appends tables to ``<base>/<k>=<v>/.../part-<run>.parquet``; thread-safe."""

    def __init__(
        self, base: Path, root: Path, schema: pa.Schema, partitions: tuple[str, ...], run_id: str
    ) -> None:
        self.base, self.root, self.schema, self.partitions, self.run_id = (
            base,
            root,
            schema,
            partitions,
            run_id,
        )
        self._open: dict[tuple[str, ...], _Open] = {}
        self._lock = threading.Lock()

    def _file(self, values: tuple[str, ...]) -> _Open:
        f = self._open.get(values)
        if f is None:
            folder = self.base.joinpath(
                *(f"{k}={v}" for k, v in zip(self.partitions, values, strict=True))
            )
            folder.mkdir(parents=True, exist_ok=True)
            final = folder / f"part-{self.run_id}.parquet"
            f = self._open[values] = _Open(final, folder / f".{final.name}.tmp", self.schema)
        return f

    def add(
        self, values: tuple[str, ...], table: pa.Table, keys: set[str], apart: bool = False
    ) -> None:
        """Buffer ``table`` (in :attr:`schema`, rows of source ``keys``) for
        the partition ``values``; ``apart``: in the row groups of the REJECTs (see :class:`_Open`).

        A full buffer is written as a row group outside the shared lock, so
        other workers keep adding.
        """
        with self._lock:
            f = self._file(values)
            b = f.buffers[apart]
            b.tables.append(table)
            b.rows += table.num_rows
            b.nbytes += table.nbytes
            f.keys |= keys
            target = self._to_write(f, b)
            full = target[1].take() if target else None
        if target:
            target[0].write(full)

    def _to_write(self, f: _Open, b: _Buffer) -> tuple[_Open, _Buffer] | None:
        """A buffer due for writing: ``b`` (of ``f``) when full, else the largest when all
        together exceed the budget."""
        if b.full:
            return f, b
        if sum(o.nbytes for o in self._open.values()) > BUFFER_BUDGET:
            return max(
                ((o, ob) for o in self._open.values() for ob in o.buffers),
                key=lambda pair: pair[1].nbytes,
            )
        return None

    def close(self, drop_keys: Iterable[str] = ()) -> dict[str, list[str]]:
        """Finish every file, dropping rows of ``drop_keys``; rename into place.

        Returns source key → data files (relative to the data dir) holding its rows.
        """
        drop = set(drop_keys)
        out: dict[str, list[str]] = {}
        for f in self._open.values():
            for b in f.buffers:
                f.write(b.take())
            f.writer.close()
            if f.keys & drop:
                filter_file(f.tmp, f.tmp, drop)
                f.keys -= drop
            if not f.keys:
                f.tmp.unlink()
                continue
            os.replace(f.tmp, f.final)
            for k in f.keys:
                out.setdefault(k, []).append(f.final.relative_to(self.root).as_posix())
        self._open.clear()
        return out

    def abort(self) -> None:
        """Forget everything written in this run (temp files removed)."""
        for f in self._open.values():
            f.writer.close()
            f.tmp.unlink(missing_ok=True)
        self._open.clear()


def filter_file(src: Path, dest: Path, drop_keys: set[str]) -> int:
    """Rewrite ``src`` to ``dest`` without rows whose ``source_key`` is in
    ``drop_keys``; rows kept."""
    pf = pq.ParquetFile(src)
    # A hidden temp destination is written directly; anything else through a temp file of its own.
    direct = dest != src and dest.name.startswith(".") and dest.name.endswith(".tmp")
    tmp = dest if direct else dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:6]}.tmp")
    kept = 0
    drop = strings(sorted(drop_keys))
    with parquet_writer(tmp, pf.schema_arrow) as w:
        for i in range(pf.num_row_groups):
            rg = pf.read_row_group(i)
            rg = rg.filter(pc.invert(pc.is_in(rg.column("source_key"), value_set=drop)))
            kept += rg.num_rows
            w.write_table(rg, row_group_size=ROW_GROUP_ROWS)
    pf.close()
    if not direct:
        os.replace(tmp, dest)
    return kept
