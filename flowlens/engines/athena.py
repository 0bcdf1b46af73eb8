"""The Athena engine: each step as a CTAS table in a work prefix, submitted through boto3.

Queries are transpiled to Trino (:mod:`flowlens.engines.transpile`) with ``?`` markers bound by
``ExecutionParameters`` (SQL literals, in marker order). Inputs are the Glue tables of
:mod:`flowlens.engines.ddl`; the inventory is read through a view pinned to the window's
snapshot; Python-built tables are uploaded as Parquet next to the step tables. Every object this
engine creates is named ``<prefix><run>_<table>`` in ``database`` and dropped on reset (the
Parquet stays under ``<output-location>/flowlens-work/<run>/``: give that prefix an S3 lifecycle
rule). Results in a local results location come back through ``GetQueryResults`` and are
written there; in an S3 results location (``--results-location s3://...``) each is a CTAS whose
``external_location`` is the table's day prefix: Athena writes the Parquet, no row comes back.
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import BotoCoreError, ClientError

from flowlens.atomic import write_parquet_atomic
from flowlens.engines.base import ParquetSource, cast_to_types
from flowlens.engines.ddl import create_table
from flowlens.engines.transpile import to_trino
from flowlens.errors import AnalysisError, AwsAccessError
from flowlens.lake import S3Root
from flowlens.model.tables import SQL_TYPES, athena_arrow_type
from flowlens.sqlfiles import Query, bind

log = logging.getLogger(__name__)

_DONE = {"SUCCEEDED", "FAILED", "CANCELLED"}


def sql_literal(value: Any) -> str:
    """A parameter value as the SQL literal Athena's ``ExecutionParameters`` expect.

    >>> sql_literal(date(2026, 11, 28)), sql_literal("it's"), sql_literal(7)
    ("DATE '2026-11-28'", "'it''s'", '7')
    """
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]} UTC'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


class AthenaEngine:
    """Runs the analysis on Athena; ``athena``/``s3`` are boto3 clients passed in by the caller."""

    name = "athena"

    def __init__(
        self,
        athena: Any,
        s3: Any,
        *,
        database: str,
        workgroup: str,
        output_location: str,
        prefix: str = "flowlens_tmp_",
        poll_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not output_location.startswith("s3://"):
            raise AnalysisError(
                f"--output-location must be s3://bucket/prefix/, not {output_location!r}"
            )
        self.athena, self.s3 = athena, s3
        self.database, self.workgroup = database, workgroup
        self.output_location = output_location.rstrip("/") + "/"
        self.run = uuid.uuid4().hex[:12]
        self.prefix = f"{prefix}{self.run}_"
        self.poll_seconds, self._sleep = poll_seconds, sleep
        self.names: dict[str, str] = {}  # the name the queries use → the qualified Athena name
        self._created: list[tuple[str, str]] = []  # (TABLE|VIEW, qualified name)

    # -- the Engine protocol -------------------------------------------------------------------
    def register_parquet(self, source: ParquetSource) -> None:
        table = source.catalog_table or source.name
        if source.snapshot is None:
            self.names[source.name] = f'"{self.database}"."{table}"'
            return
        cols = ", ".join(f'"{f.name}"' for f in source.schema)
        view = self._own(source.name)
        self.execute(
            f'CREATE OR REPLACE VIEW {view} AS SELECT {cols} FROM "{self.database}"."{table}" '
            f"WHERE snapshot = {sql_literal(_stamp(source.snapshot))}"
        )
        self._created.append(("VIEW", view))

    def register_arrow(self, name: str, table: pa.Table) -> None:
        location = f"{self._work_location()}{name}/"
        bucket, key = _split_s3(location + "data.parquet")
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        try:
            self.s3.put_object(Bucket=bucket, Key=key, Body=buf.getvalue())
        except (BotoCoreError, ClientError) as exc:
            raise AwsAccessError(f"cannot upload s3://{bucket}/{key}: {exc}") from exc
        qualified = self._own(name)
        self.execute(f"DROP TABLE IF EXISTS {_hive_name(qualified)}")
        self.execute(create_table(self.database, self.prefix + name, table.schema, location))
        self._created.append(("TABLE", qualified))

    def fit_sums(self, day: date) -> None:
        """Nothing to bind: FLOW_SUM is transpiled to Athena's SUM."""

    def run_step(self, table: str, query: Query, params: Mapping[str, Any]) -> None:
        rendered = to_trino(query.sql, tables=self.names)
        target = self._own(table)
        self.execute(f"DROP TABLE IF EXISTS {_hive_name(target)}")
        ctas = (
            f"CREATE TABLE {target} WITH (format = 'PARQUET', write_compression = 'ZSTD', "
            "external_location = "
            f"{sql_literal(self._work_location() + table + '/')}) AS {rendered.sql}"
        )
        bound = bind(query, params)
        try:
            self.execute(ctas, [bound[p] for p in rendered.params])
        except AnalysisError as exc:
            raise AnalysisError(f"{query.path}: {exc}") from exc
        self._created.append(("TABLE", target))

    def fetch_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        rendered = to_trino(sql, tables=self.names)
        qid = self.execute(rendered.sql, [(params or {})[p] for p in rendered.params])
        return self._results(qid)

    def columns(self, table: str) -> list[str]:
        return self.fetch_arrow(f"SELECT * FROM {table} LIMIT 0").column_names

    def write_parquet(self, table: str, types: Mapping[str, pa.DataType], final: Path) -> None:
        write_parquet_atomic(
            cast_to_types(self.fetch_arrow(f"SELECT * FROM {table}"), types), final
        )

    def write_parquet_s3(
        self, table: str, types: Mapping[str, pa.DataType], target: S3Root
    ) -> None:
        """``table`` written by Athena itself into the S3 prefix ``target`` (a results day:
        ``<location>/<table>/date=<D>/``), its columns cast to the contract's ``types``.

        CTAS refuses a location that holds objects, so the day's old files are deleted first;
        the CTAS table is dropped after (its Parquet stays: Athena's CTAS tables are external).
        """
        location = target.path.uri + "/"
        self._empty(target.path.bucket, target.path.key + "/")
        cols = ", ".join(
            f'CAST("{c}" AS {trino_type(types[c])}) AS "{c}"' if c in types else f'"{c}"'
            for c in self.columns(table)
        )
        written = self._own(f"out_{table}")
        self.execute(f"DROP TABLE IF EXISTS {_hive_name(written)}")
        self.execute(
            f"CREATE TABLE {written} WITH (format = 'PARQUET', write_compression = 'ZSTD', "
            f"external_location = {sql_literal(location)}) AS SELECT {cols} FROM "
            f"{self.names[table]}"
        )
        self.execute(f"DROP TABLE IF EXISTS {_hive_name(written)}")

    def release(self, table: str) -> None:
        """Athena's work tables hold no memory (they are Parquet under the work
        location): kept until reset."""

    def reset(self) -> None:
        for kind, name in reversed(self._created):
            self.execute(f"DROP {kind} IF EXISTS {_hive_name(name) if kind == 'TABLE' else name}")
        self._created, self.names = [], {}

    def close(self) -> None:
        self.reset()

    # -- Athena API ----------------------------------------------------------------------------
    def execute(self, sql: str, params: list[Any] | None = None) -> str:
        """Submit one statement, wait for it, return its query execution id."""
        request: dict[str, Any] = {
            "QueryString": sql,
            "QueryExecutionContext": {"Database": self.database},
            "WorkGroup": self.workgroup,
            "ResultConfiguration": {"OutputLocation": self.output_location},
        }
        if params:
            request["ExecutionParameters"] = [sql_literal(v) for v in params]
        try:
            qid = str(self.athena.start_query_execution(**request)["QueryExecutionId"])
        except (BotoCoreError, ClientError) as exc:
            raise AwsAccessError(
                f"Athena StartQueryExecution in workgroup {self.workgroup} failed: {exc}"
            ) from exc
        self._wait(qid)
        return qid

    def _wait(self, qid: str) -> None:
        while True:
            status = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"][
                "Status"
            ]
            if status["State"] in _DONE:
                break
            self._sleep(self.poll_seconds)
        if status["State"] != "SUCCEEDED":
            raise AnalysisError(
                f"Athena query {qid} {status['State']}: "
                f"{status.get('StateChangeReason', 'no reason given')}"
            )

    def _results(self, qid: str) -> pa.Table:
        rows: list[list[str | None]] = []
        info: list[dict[str, Any]] = []
        for page in self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
            info = info or page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
            rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        names = [c["Name"] for c in info]
        if rows and rows[0] == names:  # a SELECT's first row repeats the column names
            rows = rows[1:]
        return pa.table(
            {
                n: _column([r[i] for r in rows], c["Type"])
                for i, (n, c) in enumerate(zip(names, info, strict=True))
            }
        )

    def _empty(self, bucket: str, prefix: str) -> None:
        """Delete every object under ``s3://bucket/prefix``."""
        try:
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for page in pages:
                keys = [{"Key": o["Key"]} for o in page.get("Contents", ())]
                if keys:
                    self.s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        except (BotoCoreError, ClientError) as exc:
            raise AwsAccessError(f"cannot empty s3://{bucket}/{prefix}: {exc}") from exc

    def _own(self, name: str) -> str:
        qualified = f'"{self.database}"."{self.prefix}{name}"'
        self.names[name] = qualified
        return qualified

    def _work_location(self) -> str:
        return f"{self.output_location}flowlens-work/{self.run}/"


def trino_type(t: pa.DataType) -> str:
    """The Trino type a CTAS casts an Arrow type's column to (timestamps without a zone: what
    Athena writes to Parquet).

    >>> trino_type(pa.map_(pa.string(), pa.int64())), trino_type(pa.timestamp("us", tz="UTC"))
    ('map(varchar, bigint)', 'timestamp')
    """
    if pa.types.is_map(t):
        return f"map({trino_type(t.key_type)}, {trino_type(t.item_type)})"
    if pa.types.is_list(t):
        return f"array({trino_type(t.value_type)})"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_float32(t):
        return "real"
    names = {x.arrow: x.athena[0] for x in SQL_TYPES}
    if t not in names:
        raise AnalysisError(f"no Athena type for the Arrow type {t}")
    return names[t]


def _column(values: list[str | None], athena_type: str) -> pa.Array:
    t = athena_arrow_type(athena_type)
    if t == pa.string():
        return pa.array(values, pa.string())
    if pa.types.is_boolean(t):
        return pa.array([None if v is None else v.lower() == "true" for v in values], t)
    if pa.types.is_date(t):
        return pa.array([None if v is None else date.fromisoformat(v) for v in values], t)
    if pa.types.is_timestamp(t):
        return pa.array(
            [
                None if v is None else datetime.fromisoformat(v.replace(" UTC", "+00:00"))
                for v in values
            ],
            t,
        )
    if pa.types.is_floating(t):
        return pa.array([None if v is None else float(v) for v in values], t)
    return pa.array([None if v is None else int(v) for v in values], t)


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _hive_name(qualified: str) -> str:
    """DDL statements (DROP TABLE) use Hive's backquotes, not Trino's double quotes."""
    return qualified.replace('"', "`")


def _stamp(snapshot: str) -> str:
    if not snapshot.replace("T", "").replace("Z", "").isdigit():
        raise AnalysisError(f"inventory snapshot {snapshot!r} is not a YYYYMMDDTHHMMSSZ stamp")
    return snapshot
