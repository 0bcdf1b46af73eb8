"""The DuckDB catalog: one view per table of design.md §4 over the data directory's Parquet.

``catalog.duckdb`` holds only views (absolute paths, globs evaluated at query time), so any
DuckDB client can open it. :func:`register_views` puts the same views on any connection, which
is how the analysis points ``sg_rules`` & co. at the snapshot chosen for its window.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pyarrow as pa

from flowlens.datadir import DataDir
from flowlens.errors import AnalysisError
from flowlens.model.flow import FLOW_FILE_SCHEMA, TGW_FILE_SCHEMA
from flowlens.model.inventory import INVENTORY_SCHEMAS
from flowlens.model.results import RESULT_SCHEMAS
from flowlens.sqlguard import confine

log = logging.getLogger(__name__)

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source_key", pa.string()),
        pa.field("line_number", pa.int64()),
        pa.field("raw", pa.string()),
        pa.field("reason", pa.string()),
    ]
)
MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("source_key", pa.string()),
        pa.field("etag", pa.string()),
        pa.field("size", pa.int64()),
        pa.field("status", pa.string()),
        pa.field("rows", pa.int64()),
        pa.field("quarantined", pa.int64()),
        pa.field("error", pa.string()),
    ]
)


def sql_str(path: Path | str) -> str:
    """A path as a SQL string literal (paths are ours, but quote them properly anyway)."""
    return "'" + str(path).replace("'", "''") + "'"


def _empty_view(con: duckdb.DuckDBPyConnection, name: str, schema: pa.Schema, extra: dict[str, str]) -> None:
    cols = [f"CAST(NULL AS {duck_type(f.type)}) AS \"{f.name}\"" for f in schema]
    cols += [f"CAST(NULL AS {t}) AS \"{n}\"" for n, t in extra.items()]
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT {', '.join(cols)} WHERE false")


def duck_type(t: pa.DataType) -> str:
    if pa.types.is_string(t):
        return "VARCHAR"
    if pa.types.is_int8(t):
        return "TINYINT"
    if pa.types.is_int32(t):
        return "INTEGER"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_floating(t):
        return "DOUBLE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_map(t):
        return f"MAP({duck_type(t.key_type)}, {duck_type(t.item_type)})"
    if pa.types.is_list(t):
        return f"{duck_type(t.value_type)}[]"
    raise AnalysisError(f"no DuckDB type for {t}")


def _has_parquet(folder: Path) -> bool:
    return folder.is_dir() and any(p for p in folder.rglob("*.parquet") if not p.name.startswith("."))


def _partitioned_view(
    con: duckdb.DuckDBPyConnection, name: str, folder: Path, pattern: str, schema: pa.Schema, partitions: dict[str, str]
) -> None:
    if not _has_parquet(folder):
        _empty_view(con, name, schema, partitions)
        return
    casts = ", ".join(f'CAST("{p}" AS {t}) AS "{p}"' for p, t in partitions.items())
    excl = ", ".join(f'"{p}"' for p in partitions)
    con.execute(
        f"CREATE OR REPLACE VIEW {name} AS SELECT * EXCLUDE ({excl}), {casts} FROM read_parquet("
        f"{sql_str(folder / pattern)}, hive_partitioning = true, union_by_name = true, "
        f"hive_types_autocast = false)"
    )


def _file_view(con: duckdb.DuckDBPyConnection, name: str, path: Path, schema: pa.Schema) -> None:
    if path.is_file():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({sql_str(path)})")
    else:
        _empty_view(con, name, schema, {})


def register_views(con: duckdb.DuckDBPyConnection, dd: DataDir, *, snapshot: str | None = None) -> None:
    """Create every catalog view on ``con``; inventory views read ``snapshot`` (default: latest)."""
    flow_parts = {"account_id": "VARCHAR", "region": "VARCHAR", "date": "DATE"}
    _partitioned_view(con, "flows", dd.flows, "*/*/*/*.parquet", FLOW_FILE_SCHEMA, flow_parts)
    _partitioned_view(con, "tgw_flows", dd.tgw_flows, "*/*/*/*.parquet", TGW_FILE_SCHEMA, flow_parts)
    _partitioned_view(con, "quarantine", dd.quarantine, "*/*.parquet", QUARANTINE_SCHEMA, {"date": "DATE"})
    _file_view(con, "ingest_manifest", dd.manifest, MANIFEST_SCHEMA)
    stamps = dd.snapshots()
    chosen = snapshot or (stamps[-1] if stamps else None)
    for table, schema in INVENTORY_SCHEMAS.items():
        path = dd.snapshot_dir(chosen) / f"{table}.parquet" if chosen else Path("/nonexistent")
        _file_view(con, table, path, schema)
    for table, schema in RESULT_SCHEMAS.items():
        folder = dd.results
        files = list(folder.glob(f"date=*/{table}.parquet")) if folder.is_dir() else []
        if files:
            con.execute(
                f"CREATE OR REPLACE VIEW {table} AS SELECT * EXCLUDE (date), CAST(date AS DATE) AS date "
                f"FROM read_parquet({sql_str(folder / ('date=*/' + table + '.parquet'))}, "
                f"hive_partitioning = true, union_by_name = true, hive_types_autocast = false)"
            )
        else:
            _empty_view(con, table, schema, {"date": "DATE"})


def refresh_catalog(dd: DataDir) -> Path:
    """(Re)write ``catalog.duckdb`` so its views match the files now present."""
    dd.root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(dd.catalog))
    try:
        register_views(con, dd)
    finally:
        con.close()
    log.debug("catalog refreshed at %s", dd.catalog)
    return dd.catalog


def connect(dd: DataDir, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the catalog (creating it if needed), confined to the data dir (:func:`flowlens.sqlguard.confine`).

    Read-only connections cannot change the catalog; no connection can read or write a file
    outside the data directory, load an extension or change a setting.
    """
    if not dd.catalog.exists():
        if not dd.root.exists():
            raise AnalysisError(f"no flowlens data directory at {dd.root}; run 'flowlens ingest' first or pass --data-dir")
        refresh_catalog(dd)
    con = duckdb.connect(str(dd.catalog), read_only=read_only)
    confine(con, dd.root)
    return con
