"""Engines by name, for callers that do not build one themselves."""

from __future__ import annotations

from flowlens.datadir import DataDir
from flowlens.engines.base import Engine
from flowlens.errors import UsageError
from flowlens.model.results import ENGINE_NAMES


def open_engine(
    name: str, dd: DataDir, *, memory_limit: str | None = None, threads: int | None = None
) -> Engine:
    """A new engine the caller owns: DuckDB in memory, or Spark in local mode
    (``local[threads or 2]``)."""
    if name == "duckdb":
        from flowlens.engines.duckdb_engine import DuckDBEngine, connect

        return DuckDBEngine(connect(dd.tmp / "duckdb", memory_limit=memory_limit, threads=threads))
    if name == "spark":
        from flowlens.engines.spark_engine import SparkEngine

        return SparkEngine.local(threads or 2, memory=memory_limit, scratch=dd.tmp)
    if name == "athena":
        raise UsageError(
            "the athena engine needs "
            "--workgroup/--output-location/--database; build AthenaEngine(...)"
        )
    raise UsageError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")
