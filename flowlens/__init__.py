"""flowlens: AWS VPC Flow Logs → least-privilege security groups, with evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    import os

    import duckdb

__all__ = ["__version__", "connect"]


def connect(
    data_dir: str | os.PathLike[str] | None = None, *, read_only: bool = True
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with every flowlens table registered as a view (docs/tables.md).

    The connection is confined to the data directory: DuckDB's external access is off with the
    data dir as the only allowed directory, extensions do not auto-load, and the configuration is
    locked, so no query on it reads or writes a file elsewhere (``read_csv('/etc/passwd')`` is a
    ``duckdb.PermissionException``) and no ``SET`` undoes that. It is still a plain DuckDB
    connection: to run SQL you did not write, check it first with
    ``flowlens.sqlguard.check_read_only(sql)`` (what ``flowlens sql`` does) — that refuses
    ``COPY … TO`` into the data dir and every other statement that is not a read.
    """
    from flowlens.catalog import connect as _connect
    from flowlens.datadir import DataDir

    return _connect(DataDir.resolve(data_dir), read_only=read_only)
