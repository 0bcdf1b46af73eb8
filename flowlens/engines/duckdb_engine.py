"""The DuckDB engine: one in-process connection, steps as temp tables, results by COPY."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from flowlens import lake, sqlfiles
from flowlens.atomic import atomic_path
from flowlens.errors import AnalysisError
from flowlens.model.tables import ParquetSource, duck_type, duckdb_select, sql_str
from flowlens.sqlfiles import Query

log = logging.getLogger(__name__)

# Above this a day's total packets or bytes could overflow a BIGINT sum (2^63 - 1).
BIGINT_MAX = 2**63 - 1

# The day's flow totals that tell whether FLOW_SUM may skip overflow checks (see fit_sums).
DAY_TOTALS = """
SELECT MIN(packets), SUM(packets), MIN(bytes), SUM(bytes)
FROM flows WHERE date = $day
"""


def define_flow_sum(con: duckdb.DuckDBPyConnection, *, fits: bool) -> None:
    """``FLOW_SUM`` (sql/analyze/10_eni_flows.sql) on ``con``: when ``fits`` (no sum over the
    day's records can overflow BIGINT), DuckDB's ``sum_no_overflow`` cast to BIGINT, else ``SUM``.
    Both skip NULLs, so the results are the same; the first adds without checks, and its BIGINT
    (where both return HUGEINT) halves the twelve sums of every conversation row that
    ``eni_flows`` and ``conversation_sides`` hold: 16 bytes each, ~2 GB of a 10M-conversation
    day, which a 2 GB memory limit spilled (bench/README.md, session 8)."""
    body = "CAST(sum_no_overflow(x) AS BIGINT)" if fits else "sum(x)"
    con.execute(f"CREATE OR REPLACE TEMP MACRO flow_sum(x) AS {body}")


def sums_fit(totals: tuple[Any, ...]) -> bool:
    """Whether every sum of a subset of the day's packets and bytes fits in BIGINT: none is
    negative and each column's total does (a subset's sum is at most the total)."""
    min_packets, sum_packets, min_bytes, sum_bytes = totals
    return all(
        (low is None or low >= 0) and (total is None or total <= BIGINT_MAX)
        for low, total in ((min_packets, sum_packets), (min_bytes, sum_bytes))
    )


def connect(
    spill_dir: Path, *, memory_limit: str | None = None, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory connection that spills to ``spill_dir``."""
    spill_dir.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"temp_directory": str(spill_dir), "preserve_insertion_order": False}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    try:
        return duckdb.connect(":memory:", config=config)
    except duckdb.Error as exc:
        raise AnalysisError(
            f"cannot start DuckDB with {config}: {exc}; check --memory-limit/--threads"
        ) from exc


class DuckDBEngine:
    """Runs the analysis on a DuckDB connection (owned unless ``owned=False``)."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, *, owned: bool = True) -> None:
        self.con = con
        self._owned = owned
        self._tables: list[str] = []
        self._views: list[str] = []
        self._s3: list[str] = []  # S3 datasets registered on the connection (flowlens.lake)
        self._written: dict[str, int] = {}  # rows each write_parquet wrote, by table
        define_flow_sum(con, fits=False)

    def register_parquet(self, source: ParquetSource) -> None:
        if source.remote is None:
            self._create_view(source.name, duckdb_select(source))
            return
        # In S3: a pyarrow dataset, DuckDB's filters (the day's partition) pushed into its scan
        self._create_view(source.name, lake.register_duckdb(self.con, source))
        self._s3.append(source.name)

    def register_arrow(self, name: str, table: pa.Table) -> None:
        arrow_name = f"{name}_arrow"
        self.con.register(arrow_name, table)
        try:
            self._create_table(name, f"SELECT * FROM {arrow_name}", {})
        finally:
            self.con.unregister(arrow_name)

    def run_step(self, table: str, query: Query, params: Mapping[str, Any]) -> None:
        t0 = time.monotonic()
        sqlfiles.execute(self.con, query, params, create=f"CREATE OR REPLACE TEMP TABLE {table}")
        self._tables.append(table)
        log.debug("%s: %.2fs", query.name, time.monotonic() - t0)

    def fit_sums(self, day: date) -> None:
        """Bind FLOW_SUM for ``day``: without overflow checks when the day's totals allow it
        (one scan of two columns; over the Parquet files DuckDB checks every addition)."""
        row = self.con.execute(DAY_TOTALS, {"day": day}).fetchone()
        fits = row is not None and sums_fit(tuple(row))
        define_flow_sum(self.con, fits=fits)
        log.debug("%s: FLOW_SUM is %s", day, "sum_no_overflow" if fits else "sum")

    def run_view(self, table: str, query: Query) -> None:
        """Make ``query`` (one without parameters) queryable as ``table`` without materialising
        it: each reader runs it again (flowlens.analyze.pipeline.VIEW_STEPS)."""
        if query.params:
            raise AnalysisError(f"{query.path}: a step left a view takes no parameters")
        sqlfiles.execute(self.con, query, create=f"CREATE OR REPLACE TEMP VIEW {table}")
        self._views.append(table)

    def fetch_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        table: pa.Table = self.con.sql(
            sql, params=dict(params) if params else None
        ).to_arrow_table()
        return table

    def columns(self, table: str) -> list[str]:
        return [str(row[0]) for row in self.con.execute(f"DESCRIBE {table}").fetchall()]

    def write_parquet(self, table: str, types: Mapping[str, pa.DataType], final: Path) -> None:
        cols = [
            f'CAST("{c}" AS {duck_type(types[c])}) AS "{c}"' if c in types else f'"{c}"'
            for c in self.columns(table)
        ]
        with atomic_path(final) as tmp:
            # zstd level 1: ~15 % faster than the default level 3 for ~2 % larger
            # files (4.5M conversations)
            row = self.con.execute(
                f"COPY (SELECT {', '.join(cols)} FROM {table}) TO {sql_str(tmp)} "
                "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"
            ).fetchone()
        if row is not None:
            self._written[table] = int(row[0])

    def written_rows(self, table: str) -> int | None:
        """The rows the last :meth:`write_parquet` of ``table`` wrote (COPY returns them), None
        if it was not written since the last :meth:`reset`: a count of a view without running it
        again (the day's summary counts ``conversations`` so)."""
        return self._written.get(table)

    def release(self, table: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS temp.main.{table}")
        if table in self._tables:
            self._tables.remove(table)

    def reset(self) -> None:
        for name in reversed(self._views):
            self.con.execute(f"DROP VIEW IF EXISTS {name}")
        for name in reversed(self._tables):
            self.con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")
        for name in self._s3:
            lake.unregister_duckdb(self.con, name)
        self._views, self._tables, self._s3 = [], [], []
        self._written = {}

    def close(self) -> None:
        if self._owned:
            self.con.close()

    def _create_view(self, name: str, select: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {select}")
        self._views.append(name)

    def _create_table(self, name: str, select: str, params: Mapping[str, Any]) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {select}", dict(params))
        self._tables.append(name)
