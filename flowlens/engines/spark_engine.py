"""The Spark engine: the same steps as Spark SQL temp views, each checkpointed once.

Queries are transpiled from DuckDB's dialect (:mod:`flowlens.engines.transpile`) and bound with
Spark 3.4+ named parameters (``spark.sql(text, args=...)``). Each step is materialised with
``localCheckpoint`` so that later steps read its rows instead of recomputing its lineage.
Results come back to the driver as Arrow and are written like DuckDB's (one file per table).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from flowlens.atomic import write_parquet_atomic
from flowlens.engines.base import ParquetSource, cast_to_types
from flowlens.engines.transpile import to_spark
from flowlens.errors import AnalysisError
from flowlens.sqlfiles import Query, bind

log = logging.getLogger(__name__)

#: Settings the analysis relies on: UTC timestamps, JSON members kept when null (as DuckDB's
#: json_object does), no UI. Applied to every session this module builds.
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.jsonGenerator.ignoreNullFields": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}


def build_session(
    master: str = "local[2]",
    *,
    shuffle_partitions: int = 4,
    memory: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> Any:
    """A SparkSession with :data:`SESSION_CONF` (``master``: ``local[N]`` or a cluster URL)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise AnalysisError(
            "the spark engine needs PySpark: pip install 'flowlens[spark]' (and a Java runtime)"
        ) from exc
    builder = SparkSession.builder.master(master).appName("flowlens-analyze")
    conf = {
        **SESSION_CONF,
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        **(extra or {}),
    }
    if memory:
        conf["spark.driver.memory"] = memory
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # Py4J/JVM start-up failures have no common type
        raise AnalysisError(
            f"cannot start Spark at {master}: {exc}; is a Java runtime (17+) installed?"
        ) from exc


class SparkEngine:
    """Runs the analysis on a SparkSession (stopped on close only when ``owned``)."""

    name = "spark"

    def __init__(self, spark: Any, *, owned: bool = False, plans: Path | None = None) -> None:
        self.spark = spark
        self._owned = owned
        #: where each step's formatted physical plan is written (``<step>.txt``), when set
        self._plans = plans
        self._views: list[str] = []
        for key, value in SESSION_CONF.items():
            if key.startswith("spark.sql.") and "partitionColumnTypeInference" not in key:
                spark.conf.set(key, value)

    @classmethod
    def local(
        cls, cores: int = 2, *, memory: str | None = None, master: str | None = None
    ) -> SparkEngine:
        return cls(
            build_session(
                master or f"local[{cores}]", shuffle_partitions=max(cores * 2, 2), memory=memory
            ),
            owned=True,
        )

    def register_parquet(self, source: ParquetSource) -> None:
        if not source.files():
            df = self._from_arrow(source.empty())
        elif source.pattern is None:
            df = self.spark.read.parquet(str(source.root))
        else:
            df = (
                self.spark.read.schema(_spark_schema(source.full_schema()))
                .option("basePath", str(source.root))
                .parquet(*(str(f) for f in source.files()))
            )
        self._view(source.name, df)

    def register_arrow(self, name: str, table: pa.Table) -> None:
        self._view(name, self._from_arrow(table).localCheckpoint())

    def run_step(self, table: str, query: Query, params: Mapping[str, Any]) -> None:
        t0 = time.monotonic()
        bound = bind(query, params)
        # the step names its jobs (Spark UI, event log): where the time goes, per step
        self.spark.sparkContext.setJobGroup(query.name, query.name)
        try:
            df = self._sql(query.sql, bound)
            if self._plans is not None:
                self._write_plan(query.name, df)
            df = df.localCheckpoint()
        except Exception as exc:  # Spark raises AnalysisException/Py4JJavaError/...
            raise AnalysisError(f"{query.path}: query failed on Spark: {exc}") from exc
        self._view(table, df)
        log.debug("%s: %.2fs", query.name, time.monotonic() - t0)

    def fetch_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        table: pa.Table = self._sql(sql, dict(params or {})).toArrow()
        return table

    def columns(self, table: str) -> list[str]:
        return list(self.spark.table(table).columns)

    def write_parquet(self, table: str, types: Mapping[str, pa.DataType], final: Path) -> None:
        write_parquet_atomic(cast_to_types(self.spark.table(table).toArrow(), types), final)

    def release(self, table: str) -> None:
        self.spark.catalog.dropTempView(table)
        if table in self._views:
            self._views.remove(table)

    def reset(self) -> None:
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self._views = []

    def close(self) -> None:
        self.reset()
        if self._owned:
            self.spark.stop()

    def _sql(self, sql: str, params: Mapping[str, Any]) -> Any:
        rendered = to_spark(sql)
        args = {p: params[p] for p in rendered.params}
        return self.spark.sql(rendered.sql, args=args) if args else self.spark.sql(rendered.sql)

    def _write_plan(self, name: str, df: Any) -> None:
        assert self._plans is not None
        self._plans.mkdir(parents=True, exist_ok=True)
        jvm = self.spark.sparkContext._jvm
        text = jvm.PythonSQLUtils.explainString(df._jdf.queryExecution(), "formatted")
        (self._plans / f"{name}.txt").write_text(str(text), encoding="utf-8")

    def _from_arrow(self, table: pa.Table) -> Any:
        return self.spark.createDataFrame(table, schema=_spark_schema(table.schema))

    def _view(self, name: str, df: Any) -> None:
        df.createOrReplaceTempView(name)
        if name not in self._views:
            self._views.append(name)


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)
