"""The Spark engine: the same steps as Spark SQL temp views, each checkpointed once.

Queries are transpiled from DuckDB's dialect (:mod:`flowlens.engines.transpile`) and bound with
Spark 3.4+ named parameters (``spark.sql(text, args=...)``). Each step is materialised with
``localCheckpoint`` so that later steps read its rows instead of recomputing (and re-analysing)
its lineage; adaptive execution turns joins with small step tables into broadcasts. Tables built
in Python are written as Parquet to a scratch folder and read back (sized for the planner, never
shipped inside task closures). Results are written by the executors (one file per table, the
contract layout), not collected to the driver. docs/engines.md says where the time goes.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from flowlens.atomic import atomic_path
from flowlens.engines.base import ParquetSource
from flowlens.engines.transpile import split_shared_ctes, to_spark
from flowlens.errors import AnalysisError
from flowlens.lake import S3Root
from flowlens.sqlfiles import Query, bind

log = logging.getLogger(__name__)

#: Settings the analysis relies on: UTC timestamps, JSON members kept when null (as DuckDB's
#: json_object does), Parquet timestamps as the contract's (microseconds, UTC-adjusted, never
#: INT96), no UI; and the ones it is fast with: adaptive execution (partitions coalesced, joins
#: switched to broadcast once a side's real size is known) and broadcasts up to 32 MB (the
#: inventory and rule tables of a day; each broadcast saves two shuffle stages). Applied to every
#: session this module builds; the ``spark.sql.`` ones also to a session passed in.
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.jsonGenerator.ignoreNullFields": "false",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.adaptive.skewJoin.enabled": "true",
    "spark.sql.autoBroadcastJoinThreshold": "32MB",
    "spark.sql.adaptive.autoBroadcastJoinThreshold": "32MB",
}

#: A day whose flow records take less Parquet than this is analysed with whole-stage code
#: generation off: its steps handle too few rows to repay compiling each stage's generated Java
#: (on the sample day, ~1 MB, most of the executors' run time); a larger day keeps it on, for the
#: passes over its records (a 908k-record day, 14 MB, run with it off took 51 s of executors'
#: CPU against 42 s with it on; 70_rejected 6.9 s against 3.2 s). Decided per day from the
#: files' sizes (no job).
SMALL_DAY_BYTES = 8 * 2**20


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

    def __init__(
        self,
        spark: Any,
        *,
        owned: bool = False,
        plans: Path | None = None,
        scratch: Path | None = None,
        small_day_bytes: int = SMALL_DAY_BYTES,
    ) -> None:
        self.spark = spark
        self._owned = owned
        #: where each step's formatted physical plan is written (``<step>.txt``), when set
        self._plans = plans
        #: where Python-built tables are written for the executors to read: a folder every
        #: executor sees (on a cluster, a shared path); by default a private temporary folder
        self._scratch_root = scratch
        self._scratch: Path | None = None
        self._views: list[str] = []
        #: tables read from the session's memory (checkpointed steps, the small Python-built
        #: tables): a step that only renames or filters them is left a view (:func:`_folds`)
        self._cheap: set[str] = set()
        #: the inputs partitioned by date (flows): their files of a day size it (codegen or not)
        self._dated: list[ParquetSource] = []
        self._small_day_bytes = small_day_bytes
        self._sized: Any = None  # the day the code generation setting was chosen for
        for key, value in SESSION_CONF.items():
            if key.startswith("spark.sql.") and "partitionColumnTypeInference" not in key:
                spark.conf.set(key, value)

    @classmethod
    def local(
        cls,
        cores: int = 2,
        *,
        memory: str | None = None,
        master: str | None = None,
        scratch: Path | None = None,
    ) -> SparkEngine:
        return cls(
            build_session(
                master or f"local[{cores}]", shuffle_partitions=max(cores * 2, 2), memory=memory
            ),
            owned=True,
            scratch=scratch,
        )

    def register_parquet(self, source: ParquetSource) -> None:
        if "date" in source.partitions:
            self._dated.append(source)
        if source.remote is not None:
            self._view(source.name, self._read_s3(source))
            return
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
        import pyarrow.parquet as pq

        # A file the executors read, not a DataFrame built from driver data: the planner knows
        # its size (small tables are broadcast) and no task carries the rows in its closure.
        path = self._scratch_dir() / f"{name}-{uuid.uuid4().hex[:8]}.parquet"
        pq.write_table(table, path, compression="zstd")
        df = self.spark.read.schema(_spark_schema(table.schema)).parquet(str(path))
        self._view(name, df)
        self._cheap.add(name)

    def fit_sums(self, day: date) -> None:
        """Nothing to bind: FLOW_SUM is transpiled to Spark's SUM."""

    def run_step(self, table: str, query: Query, params: Mapping[str, Any]) -> None:
        """The step's plan on Spark: each CTE the query reads more than once made first, as its
        own checkpointed view (Spark would inline and recompute it at every reference), then the
        query; checkpointed unless it only renames or filters tables already in memory (then it
        stays a view, folded into the steps that read it: no job of its own)."""
        t0 = time.monotonic()
        bound = bind(query, params)
        # the step names its jobs (Spark UI, event log): where the time goes, per step
        self.spark.sparkContext.setJobGroup(query.name, query.name)
        self._size_for(params.get("day"))
        sql = query.sql_for("spark")  # the file's Spark variant, if it declares one
        parts = split_shared_ctes(sql, table)
        try:
            for part in parts[:-1]:
                assert part.view is not None
                self._view(part.view, self._materialise(table, self._sql(part.sql, bound)))
            df = self._sql(parts[-1].sql, bound)
            if self._plans is not None:
                self._write_plan(query.name, df)
            folded = len(parts) == 1 and _folds(sql, self._cheap)
            if not folded:
                df = self._materialise(table, df)
        except Exception as exc:  # Spark raises AnalysisException/Py4JJavaError/...
            raise AnalysisError(f"{query.path}: query failed on Spark: {exc}") from exc
        finally:
            for part in parts[:-1]:  # the step's plan holds their rows; the names go
                if part.view is not None:
                    self.release(part.view)
        self._view(table, df)
        self._cheap.add(table)  # rows in memory, or a row-by-row view of such rows
        log.debug("%s: %.2fs%s", query.name, time.monotonic() - t0, " (view)" if folded else "")

    def fetch_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        table: pa.Table = self._sql(sql, dict(params or {})).toArrow()
        return table

    def columns(self, table: str) -> list[str]:
        return list(self.spark.table(table).columns)

    def write_parquet(self, table: str, types: Mapping[str, pa.DataType], final: Path) -> None:
        """Written by the executors into one file (the contract layout), never via the driver."""
        df = self._cast(self.spark.table(table), types).coalesce(1)
        with atomic_path(final) as tmp:
            folder = tmp.with_name(tmp.name + ".d")
            try:
                df.write.mode("overwrite").option("compression", "zstd").parquet(_local_uri(folder))
                parts = sorted(folder.glob("part-*.parquet"))
                if len(parts) != 1:
                    raise AnalysisError(
                        f"Spark wrote {len(parts)} files for {table} under {folder}, expected one"
                    )
                parts[0].replace(tmp)
            finally:
                shutil.rmtree(folder, ignore_errors=True)

    def write_parquet_s3(
        self, table: str, types: Mapping[str, pa.DataType], target: S3Root
    ) -> None:
        """Written by the executors straight into the S3 prefix ``target`` (a results day), one
        file, through the cluster's S3A connector (``s3a://``; hadoop-aws on the classpath)."""
        df = self._cast(self.spark.table(table), types).coalesce(1)
        uri = f"s3a://{target.path.fs_path}/"
        try:
            df.write.mode("overwrite").option("compression", "zstd").parquet(uri)
        except Exception as exc:  # Py4JJavaError: no S3A connector, access denied, ...
            raise AnalysisError(f"Spark could not write {table} to {uri}: {exc}") from exc

    def release(self, table: str) -> None:
        self.spark.catalog.dropTempView(table)
        self._cheap.discard(table)
        if table in self._views:
            self._views.remove(table)

    def reset(self) -> None:
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self._views = []
        self._cheap = set()
        self._dated = []
        self._sized = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def close(self) -> None:
        self.reset()
        if self._owned:
            self.spark.stop()

    def _size_for(self, day: Any) -> None:
        """Whole-stage code generation on for a day of :data:`SMALL_DAY_BYTES` of flows or more."""
        if day is None or day == self._sized:
            return
        self._sized = day
        if any(s.remote is not None for s in self._dated):  # flows in S3: not sized, a big day
            self.spark.conf.set("spark.sql.codegen.wholeStage", "true")
            return
        folder = f"date={day}"
        size = sum(f.stat().st_size for s in self._dated for f in s.files() if folder in f.parts)
        codegen = size >= self._small_day_bytes
        self.spark.conf.set("spark.sql.codegen.wholeStage", "true" if codegen else "false")
        log.debug("%s: %d bytes of flows, whole-stage code generation %s", day, size, codegen)

    def _read_s3(self, source: ParquetSource) -> Any:
        """A source in S3 (a results location, a data dir in S3): its files listed from the
        driver (pyarrow), read by the executors through the cluster's S3A connector."""
        from flowlens import lake

        assert source.remote is not None
        files = lake.list_files(source.remote)
        if not files:
            return self._from_arrow(source.empty())
        base = f"s3a://{source.remote.path.fs_path}/"
        return (
            self.spark.read.schema(_spark_schema(source.full_schema()))
            .option("basePath", base)
            .parquet(*(f"s3a://{f}" for f in files))
        )

    def _materialise(self, table: str, df: Any) -> Any:
        """``df`` computed once, its lineage cut: later steps read its rows as a leaf.

        A persisted DataFrame would keep its whole lineage in every later plan, and Spark's
        analyser walks it again for each step (on the sample day, out of heap by step 30).
        """
        return df.localCheckpoint()

    def _cast(self, df: Any, types: Mapping[str, pa.DataType]) -> Any:
        from pyspark.sql.functions import col

        wanted = _spark_schema(pa.schema([pa.field(n, t) for n, t in types.items()]))
        by_name = {f.name: f.dataType for f in wanted.fields}
        return df.select(
            *(
                col(f"`{c}`").cast(by_name[c]).alias(c) if c in by_name else col(f"`{c}`")
                for c in df.columns
            )
        )

    def _scratch_dir(self) -> Path:
        if self._scratch is None:
            if self._scratch_root is None:
                self._scratch = Path(tempfile.mkdtemp(prefix="flowlens-spark-"))
            else:
                self._scratch = self._scratch_root / f"spark-{uuid.uuid4().hex[:12]}"
                self._scratch.mkdir(parents=True, exist_ok=True)
        return self._scratch

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


def _folds(sql: str, cheap: set[str]) -> bool:
    """Whether a step only renames, computes row by row, filters or appends (UNION ALL) tables
    in ``cheap``: recomputing it in each reader costs less than a job to checkpoint it."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    tables = {t.name for t in tree.find_all(exp.Table) if t.name not in ctes}
    if not tables or any(t.db for t in tree.find_all(exp.Table)) or not tables <= cheap:
        return False
    costly = (exp.Join, exp.Group, exp.AggFunc, exp.Window, exp.Distinct, exp.Limit, exp.Subquery)
    if any(tree.find(kind) for kind in costly):
        return False
    return not any(u.args.get("distinct") for u in tree.find_all(exp.Union))


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _local_uri(path: Path) -> str:
    """``file://`` + the absolute path as Hadoop reads it (``Path.as_uri`` would escape ``=``,
    which Hadoop keeps literally: ``date=`` folders became ``date%3D``)."""
    return "file://" + str(path.resolve())
