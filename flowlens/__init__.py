"""flowlens: AWS VPC Flow Logs → least-privilege security groups, with evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    import os

    import duckdb

__all__ = ["__version__", "connect"]


def connect(data_dir: str | os.PathLike[str] | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with every flowlens table registered as a view (design.md §4)."""
    from flowlens.catalog import connect as _connect
    from flowlens.datadir import DataDir

    return _connect(DataDir.resolve(data_dir), read_only=read_only)
