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
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 1_000_000
ROW_GROUP_BYTES = 32 << 20
#: All partitions' buffers together (many accounts/regions): past this the largest is written out.
BUFFER_BUDGET = 128 << 20


def stats_columns(schema: pa.Schema) -> list[str]:
    """Columns whose min/max statistics are written: the integers (times, ports, counters).

    String min/max (addresses, ids) prune nothing in files that mix every ENI, and cost a sixth
    of the write time.
    """
    return [f.name for f in schema if pa.types.is_integer(f.type)]


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


class _Open:
    def __init__(self, final: Path, tmp: Path, schema: pa.Schema) -> None:
        self.final, self.tmp = final, tmp
        self.writer = pq.ParquetWriter(
            tmp, schema, compression="zstd", write_statistics=stats_columns(schema)
        )
        self.write_lock = threading.Lock()  # one row group at a time into this file
        self.buffer: list[pa.Table] = []
        self.rows = 0
        self.nbytes = 0
        self.keys: set[str] = set()

    def take(self) -> pa.Table | None:
        """The buffered rows as one table (buffer emptied); caller holds the writer's lock."""
        if not self.buffer:
            return None
        table = pa.concat_tables(self.buffer)
        self.buffer, self.rows, self.nbytes = [], 0, 0
        return table

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

    def add(self, values: tuple[str, ...], table: pa.Table, keys: set[str]) -> None:
        """Buffer ``table`` (in :attr:`schema`, rows of source ``keys``) for
        the partition ``values``.

        A full buffer is written as a row group outside the shared lock, so
        other workers keep adding.
        """
        with self._lock:
            f = self._file(values)
            f.buffer.append(table)
            f.rows += table.num_rows
            f.nbytes += table.nbytes
            f.keys |= keys
            target = self._to_write(f)
            full = target.take() if target else None
        if target:
            target.write(full)

    def _to_write(self, f: _Open) -> _Open | None:
        """A buffer due for writing: ``f`` when full, else the largest when all
        together exceed the budget."""
        if f.rows >= ROW_GROUP_ROWS or f.nbytes >= ROW_GROUP_BYTES:
            return f
        if sum(o.nbytes for o in self._open.values()) > BUFFER_BUDGET:
            return max(self._open.values(), key=lambda o: o.nbytes)
        return None

    def close(self, drop_keys: Iterable[str] = ()) -> dict[str, list[str]]:
        """Finish every file, dropping rows of ``drop_keys``; rename into place.

        Returns source key → data files (relative to the data dir) holding its rows.
        """
        drop = set(drop_keys)
        out: dict[str, list[str]] = {}
        for f in self._open.values():
            f.write(f.take())
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
    drop = pa.array(sorted(drop_keys), pa.string())
    with pq.ParquetWriter(tmp, pf.schema_arrow, compression="zstd") as w:
        for i in range(pf.num_row_groups):
            rg = pf.read_row_group(i)
            rg = rg.filter(pc.invert(pc.is_in(rg.column("source_key"), value_set=drop)))
            kept += rg.num_rows
            w.write_table(rg, row_group_size=ROW_GROUP_ROWS)
    pf.close()
    if not direct:
        os.replace(tmp, dest)
    return kept
