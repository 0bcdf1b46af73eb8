"""Where every table visible to SQL comes from, with its schema, and how SQL types name Arrow's.

One :class:`ParquetSource` per table (flows, tgw_flows, quarantine, ingest_manifest, each
inventory table of a snapshot, each results table): the catalog registers them all, the
analysis engines the ones they read. :func:`duckdb_select` is the one DuckDB ``read_parquet``
view body; :data:`SQL_TYPES` the one Arrow ↔ SQL type map (DuckDB, Hive/Glue, Athena results).
Pure: pyarrow schemas and text, no engine imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa

from flowlens.datadir import DataDir
from flowlens.errors import AnalysisError, UsageError
from flowlens.lake import S3Root
from flowlens.model.conversation import CONVERSATION_ID_SQL
from flowlens.model.flow import FLOW_FILE_SCHEMA, TGW_FILE_SCHEMA
from flowlens.model.inventory import INVENTORY_SCHEMAS
from flowlens.model.results import RESULT_SCHEMAS
from flowlens.model.state import STATE_SCHEMAS

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

FLOW_PARTITION_TYPES: Mapping[str, pa.DataType] = {
    "account_id": pa.string(),
    "region": pa.string(),
    "date": pa.date32(),
}
DATE_PARTITION: Mapping[str, pa.DataType] = {"date": pa.date32()}
FLOW_PATTERN = "*/*/*/*.parquet"  # account_id=/region=/date=/file

#: Earlier days' results the analysis reads, registered as ``prior_<table>``.
PRIOR_RESULTS: tuple[str, ...] = ("conversations", "rule_usage")


@dataclass(frozen=True)
class DerivedColumn:
    """A column a catalog view computes from the stored ones (never in the files or ``schema``)."""

    name: str
    duckdb: str  # the DuckDB expression over the view's other columns


#: Columns the catalog adds to a results view (docs/tables.md lists them with the stored ones).
CATALOG_DERIVED: Mapping[str, tuple[DerivedColumn, ...]] = {
    "conversations": (DerivedColumn("conversation_id", CONVERSATION_ID_SQL),),
}


@dataclass(frozen=True)
class ParquetSource:
    """An input table: Parquet files under ``root`` (Hive partitions in the path) or one file.

    ``pattern`` is the glob under ``root`` (``None``: ``root`` is the file itself); ``schema`` is
    the columns inside the files and ``partitions`` the Hive partition columns with their types.
    ``catalog_table`` and ``snapshot`` say where the same data sits in a Glue/Athena catalog
    (see :mod:`flowlens.engines.ddl`): the table, and the inventory snapshot partition to read.
    ``remote``: the files are in S3 there instead (``root`` is then unused), read through
    :func:`flowlens.lake.dataset`.
    """

    name: str
    root: Path
    pattern: str | None
    schema: pa.Schema
    partitions: Mapping[str, pa.DataType] = field(default_factory=dict)
    catalog_table: str = ""
    snapshot: str | None = None
    derived: tuple[DerivedColumn, ...] = ()
    remote: S3Root | None = None

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


def flow_sources(dd: DataDir) -> list[ParquetSource]:
    lake = dd.lake_root
    return [
        ParquetSource(
            "flows",
            dd.flows,
            FLOW_PATTERN,
            FLOW_FILE_SCHEMA,
            FLOW_PARTITION_TYPES,
            "flows",
            remote=S3Root(lake.path.child("flows"), lake.aws) if lake else None,
        ),
        ParquetSource(
            "tgw_flows",
            dd.tgw_flows,
            FLOW_PATTERN,
            TGW_FILE_SCHEMA,
            FLOW_PARTITION_TYPES,
            "tgw_flows",
            remote=S3Root(lake.path.child("tgw_flows"), lake.aws) if lake else None,
        ),
    ]


def inventory_sources(dd: DataDir, snapshot: str | None) -> list[ParquetSource]:
    """The inventory tables of ``snapshot`` (``None``: no snapshot, every table empty)."""

    def path(table: str) -> Path:
        return (
            dd.snapshot_dir(snapshot) / f"{table}.parquet"
            if snapshot
            else dd.inventory / "none" / f"{table}.parquet"
        )

    return [
        ParquetSource(t, path(t), None, s, {}, t, snapshot) for t, s in INVENTORY_SCHEMAS.items()
    ]


def result_source(dd: DataDir, table: str, *, name: str | None = None) -> ParquetSource:
    """One results table across every analysed day, with its ``date`` partition (in S3:
    ``<location>/<table>/date=<D>/``)."""
    s3 = dd.results_s3
    return ParquetSource(
        name or table,
        dd.results,
        f"date=*/{table}.parquet",
        RESULT_SCHEMAS[table],
        DATE_PARTITION,
        table,
        remote=S3Root(s3.path.child(table), s3.aws, suffix="") if s3 else None,
    )


def catalog_sources(dd: DataDir, snapshot: str | None) -> list[ParquetSource]:
    """Every table of the catalog (docs/tables.md), the inventory read from ``snapshot``."""
    lake = dd.lake_root
    return [
        *flow_sources(dd),
        ParquetSource(
            "quarantine",
            dd.quarantine,
            "*/*.parquet",
            QUARANTINE_SCHEMA,
            DATE_PARTITION,
            remote=S3Root(lake.path.child("quarantine"), lake.aws) if lake else None,
        ),
        ParquetSource(
            "ingest_manifest",
            dd.manifest,
            None,
            MANIFEST_SCHEMA,
            remote=S3Root(lake.path.child(dd.manifest.name), lake.aws) if lake else None,
        ),
        *inventory_sources(dd, snapshot),
        *(
            replace(result_source(dd, t), derived=CATALOG_DERIVED.get(t, ()))
            for t in RESULT_SCHEMAS
        ),
        *(ParquetSource(t, dd.state_table(t), None, s, {}, t) for t, s in STATE_SCHEMAS.items()),
    ]


def analysis_sources(dd: DataDir) -> list[ParquetSource]:
    """Flows and the prior results, as the queries name them.

    The inventory is not one snapshot's files: the analysis registers the day's rows of the
    timeline built from every snapshot around the window (flowlens.analyze.epochs).
    """
    return [*flow_sources(dd), *(result_source(dd, t, name=f"prior_{t}") for t in PRIOR_RESULTS)]


# --- SQL types ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SqlType:
    """How one Arrow type is written in each SQL dialect flowlens speaks."""

    arrow: pa.DataType
    duckdb: str
    hive: str  # Glue/Hive DDL
    athena: tuple[str, ...]  # the type names Athena reports in query results


SQL_TYPES: tuple[SqlType, ...] = (
    SqlType(pa.string(), "VARCHAR", "string", ("varchar", "char", "string")),
    SqlType(pa.int8(), "TINYINT", "tinyint", ("tinyint",)),
    SqlType(pa.int16(), "SMALLINT", "smallint", ("smallint",)),
    SqlType(pa.int32(), "INTEGER", "int", ("integer", "int")),
    SqlType(pa.int64(), "BIGINT", "bigint", ("bigint",)),
    SqlType(pa.bool_(), "BOOLEAN", "boolean", ("boolean",)),
    SqlType(pa.float32(), "DOUBLE", "float", ("float", "real")),
    SqlType(pa.float64(), "DOUBLE", "double", ("double",)),
    SqlType(pa.date32(), "DATE", "date", ("date",)),
    SqlType(pa.timestamp("us"), "TIMESTAMPTZ", "timestamp", ("timestamp",)),
    SqlType(
        pa.timestamp("us", tz="UTC"), "TIMESTAMPTZ", "timestamp", ("timestamp with time zone",)
    ),
)
_BY_ARROW = {t.arrow: t for t in SQL_TYPES}
_BY_ATHENA = {name: t.arrow for t in SQL_TYPES for name in t.athena}


def _simple(t: pa.DataType) -> SqlType | None:
    if pa.types.is_timestamp(t):  # any unit or zone is written the same way
        return _BY_ARROW[pa.timestamp("us", tz="UTC")]
    return _BY_ARROW.get(t)


def duck_type(t: pa.DataType) -> str:
    """The DuckDB type of an Arrow type.

    >>> duck_type(pa.map_(pa.string(), pa.string())), duck_type(pa.list_(pa.int32()))
    ('MAP(VARCHAR, VARCHAR)', 'INTEGER[]')
    """
    simple = _simple(t)
    if simple is not None:
        return simple.duckdb
    if pa.types.is_map(t):
        return f"MAP({duck_type(t.key_type)}, {duck_type(t.item_type)})"
    if pa.types.is_list(t):
        return f"{duck_type(t.value_type)}[]"
    raise AnalysisError(f"no DuckDB type for {t}")


def hive_type(t: pa.DataType) -> str:
    """The Hive/Glue column type of an Arrow type.

    >>> hive_type(pa.map_(pa.string(), pa.string())), hive_type(pa.list_(pa.int32()))
    ('map<string,string>', 'array<int>')
    """
    simple = _simple(t)
    if simple is not None:
        return simple.hive
    if pa.types.is_map(t):
        return f"map<{hive_type(t.key_type)},{hive_type(t.item_type)}>"
    if pa.types.is_list(t):
        return f"array<{hive_type(t.value_type)}>"
    raise UsageError(f"no Glue type for the Arrow type {t}")


def athena_arrow_type(name: str) -> pa.DataType:
    """The Arrow type of a column type Athena reports (unknown types are read as text).

    >>> athena_arrow_type("INTEGER"), athena_arrow_type("array(varchar)")
    (DataType(int32), DataType(string))
    """
    return _BY_ATHENA.get(name.lower(), pa.string())


# --- DuckDB views ------------------------------------------------------------------------------


def sql_str(path: Path | str) -> str:
    """A path as a SQL string literal (paths are ours, but quote them properly anyway)."""
    return "'" + str(path).replace("'", "''") + "'"


def duckdb_select(source: ParquetSource) -> str:
    """The SELECT a DuckDB view of ``source`` runs: its files now, or no rows with its schema,
    followed by its derived columns (a source in S3: no rows; see
    :func:`flowlens.lake.register_duckdb`).

    Paths are made absolute so that a view stored in ``catalog.duckdb`` reads the same files
    from any working directory.
    """
    stored = _stored_select(source) if source.remote is None else _empty_select(source)
    return with_derived(source, stored)


def with_derived(source: ParquetSource, stored: str) -> str:
    """``stored`` (the SELECT of the stored columns) followed by ``source``'s derived columns."""
    if not source.derived:
        return stored
    extra = ", ".join(f'{c.duckdb} AS "{c.name}"' for c in source.derived)
    return f"SELECT *, {extra} FROM ({stored})"


def _empty_select(source: ParquetSource) -> str:
    cols = [f'CAST(NULL AS {duck_type(f.type)}) AS "{f.name}"' for f in source.full_schema()]
    return f"SELECT {', '.join(cols)} WHERE false"


def _stored_select(source: ParquetSource) -> str:
    if not source.files():
        return _empty_select(source)
    root = source.root.absolute()
    if source.pattern is None:
        return f"SELECT * FROM read_parquet({sql_str(root)})"
    casts = "".join(
        f', CAST("{p}" AS {duck_type(t)}) AS "{p}"' for p, t in source.partitions.items()
    )
    quoted = ", ".join(f'"{p}"' for p in source.partitions)
    excl = f" EXCLUDE ({quoted})" if quoted else ""
    return (
        f"SELECT *{excl}{casts} FROM read_parquet({sql_str(root / source.pattern)}, "
        f"hive_partitioning = true, union_by_name = true, hive_types_autocast = false)"
    )
