"""Query engines the analysis runs on: DuckDB (one machine), Spark and Athena/Trino (past one).

The analysis is the numbered queries of ``sql/analyze/``, written once in DuckDB's dialect; an
engine registers the inputs, runs each query as a temporary table (transpiling it when its
dialect differs, :mod:`flowlens.engines.transpile`) and hands tables back as Arrow.
"""

from flowlens.engines.base import Engine, ParquetSource

__all__ = ["Engine", "ParquetSource"]
