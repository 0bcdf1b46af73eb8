"""The engine protocol and the engine-independent description of an input table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from flowlens.sqlfiles import Query


@dataclass(frozen=True)
class ParquetSource:
    """An input table: Parquet files under ``root`` (Hive partitions in the path) or one file.

    ``pattern`` is the glob under ``root`` (``None``: ``root`` is the file itself); ``schema`` is
    the columns inside the files and ``partitions`` the Hive partition columns with their types.
    ``catalog_table`` and ``snapshot`` say where the same data sits in a Glue/Athena catalog
    (see :mod:`flowlens.engines.ddl`): the table, and the inventory snapshot partition to read.
    """

    name: str
    root: Path
    pattern: str | None
    schema: pa.Schema
    partitions: dict[str, pa.DataType] = field(default_factory=dict)
    catalog_table: str = ""
    snapshot: str | None = None

    def files(self) -> list[Path]:
        """The Parquet files present now (hidden temp files of atomic writes excluded)."""
        if self.pattern is None:
            return [self.root] if self.root.is_file() else []
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.glob(self.pattern) if not p.name.startswith("."))

    def full_schema(self) -> pa.Schema:
        """File columns followed by the partition columns: what the view shows."""
        fields = [f for f in self.schema if f.name not in self.partitions]
        return pa.schema([*fields, *(pa.field(n, t) for n, t in self.partitions.items())])

    def empty(self) -> pa.Table:
        return self.full_schema().empty_table()


class Engine(Protocol):
    """What the analysis needs from a query engine.

    SQL given to an engine is DuckDB's dialect with ``$name`` parameters (the dialect of
    ``sql/``); engines with another dialect transpile it.
    """

    name: str

    def register_parquet(self, source: ParquetSource) -> None:
        """Make ``source`` queryable as ``source.name`` (empty, with its schema, when no file exists)."""

    def register_arrow(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable as ``name`` (small reference tables built in Python)."""

    def run_step(self, table: str, query: Query, params: Mapping[str, Any]) -> None:
        """Materialise ``query`` as the temporary table ``table``, binding its declared parameters."""

    def fetch_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run a SELECT and return all its rows."""

    def columns(self, table: str) -> list[str]:
        """Column names of a registered or materialised table, in order."""

    def write_parquet(self, table: str, types: Mapping[str, pa.DataType], final: Path) -> None:
        """Write ``table`` to the Parquet file ``final`` atomically, casting the columns in ``types``."""

    def release(self, table: str) -> None:
        """Free the intermediate ``table``: no later query reads it (bounds what is held at once)."""

    def reset(self) -> None:
        """Drop every table and view made so far (the next day starts clean)."""

    def close(self) -> None:
        """Release the connection/session if the engine owns it."""


def cast_to_types(table: pa.Table, types: Mapping[str, pa.DataType]) -> pa.Table:
    """``table`` with the columns named in ``types`` cast to those types (others unchanged)."""
    cols = []
    for name in table.column_names:
        col = table.column(name)
        if name in types and col.type != types[name]:
            col = col.cast(types[name])
        cols.append(col)
    return pa.table(cols, names=table.column_names)
