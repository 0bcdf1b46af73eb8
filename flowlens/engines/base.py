"""The engine protocol; the engine-independent description of an input table
is :class:`ParquetSource`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from flowlens.model.tables import ParquetSource
from flowlens.sqlfiles import Query

__all__ = ["Engine", "ParquetSource", "cast_to_types"]


class Engine(Protocol):
    """What the analysis needs from a query engine.

    SQL given to an engine is DuckDB's dialect with ``$name`` parameters (the dialect of
    ``sql/``); engines with another dialect transpile it.
    """

    name: str

    def register_parquet(self, source: ParquetSource) -> None:
        """Make ``source`` queryable as ``source.name`` (empty, with its
        schema, when no file exists)."""

    def register_arrow(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable as ``name`` (small reference tables built in Python)."""

    def fit_sums(self, day: date) -> None:
        """Before ``day``'s steps: bind ``FLOW_SUM`` (SUM over the day's flow records) to the
        cheapest sum that cannot overflow on that day's records."""

    def run_step(self, table: str, query: Query, params: Mapping[str, Any]) -> None:
        """Materialise ``query`` as the temporary table ``table``, binding
        its declared parameters."""

    def fetch_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run a SELECT and return all its rows."""

    def columns(self, table: str) -> list[str]:
        """Column names of a registered or materialised table, in order."""

    def write_parquet(self, table: str, types: Mapping[str, pa.DataType], final: Path) -> None:
        """Write ``table`` to the Parquet file ``final`` atomically, casting
        the columns in ``types``."""

    def release(self, table: str) -> None:
        """Free the intermediate ``table``: no later query reads it
        (bounds what is held at once)."""

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
