"""Spark local mode gives the results DuckDB gives, row for row, on the same Parquet.

One SparkSession for the whole test session (local[2], 4 shuffle partitions): starting the
JVM is the slow part. Two worlds: the bundled sample_logs/ (ingested and inventoried like the
demo) and a generated day over two accounts and two regions (bench/generate.py ingested as
one account; bench/bench_analyze.py's flows and matching inventory as the other).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from flowlens.analyze import analyze
from flowlens.analyze.pipeline import OUTPUTS
from flowlens.atomic import write_parquet_atomic
from flowlens.batch import window_end
from flowlens.datadir import DataDir
from flowlens.ingest.pipeline import ingest
from flowlens.ingest.source import LocalSource
from flowlens.inventory import snapshot_from_json
from flowlens.samples import sample_logs_root

REPO = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 28)

if shutil.which("java") is None:
    pytest.skip("no Java runtime: .ci/run installs default-jre-headless", allow_module_level=True)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from flowlens.engines.spark_engine import build_session

    # tiny inputs: compiling generated code costs more than it saves
    session = build_session(
        "local[2]", shuffle_partitions=4, extra={"spark.sql.codegen.wholeStage": "false"}
    )
    yield session
    session.stop()


def _bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _canonical(value: Any) -> Any:
    if isinstance(value, list):  # Arrow maps come back as lists of (key, value) pairs
        return tuple(sorted(map(repr, value)))
    if isinstance(value, str) and value.startswith("{"):  # JSON evidence: compare as objects
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    return value


def _rows(path: Path) -> list[tuple[Any, ...]]:
    table = pq.read_table(path)
    rows = [
        tuple(_canonical(v) for v in r.values())
        for r in table.select(sorted(table.column_names)).to_pylist()
    ]
    return sorted(rows, key=repr)


def _compare_engines(
    dd: DataDir, tmp: Path, spark: Any, days: list[date], **engine: Any
) -> dict[str, int]:
    from flowlens.engines.spark_engine import SparkEngine

    spark_dd = DataDir(tmp / "spark")
    shutil.copytree(dd.root, spark_dd.root)
    analyze(dd, days)
    analyze(spark_dd, days, engine=SparkEngine(spark, **engine))
    sizes = {}
    for day in days:
        for table in OUTPUTS:
            duck, sprk = (
                _rows(dd.results_dir(day) / f"{table}.parquet"),
                _rows(spark_dd.results_dir(day) / f"{table}.parquet"),
            )
            assert (
                pq.read_schema(dd.results_dir(day) / f"{table}.parquet").names
                == pq.read_schema(spark_dd.results_dir(day) / f"{table}.parquet").names
            ), table
            assert len(duck) == len(sprk), (
                f"{day} {table}: DuckDB {len(duck)} rows, Spark {len(sprk)}"
            )
            diff = [(a, b) for a, b in zip(duck, sprk, strict=True) if a != b]
            assert not diff, (
                f"{day} {table}: first difference DuckDB {diff[0][0]} vs Spark {diff[0][1]}"
            )
            sizes[table] = sizes.get(table, 0) + len(duck)
    return sizes


def test_sample_logs_give_identical_results(spark: Any, tmp_path: Path) -> None:
    samples = sample_logs_root()
    dd = DataDir(tmp_path / "duck")
    ingest(LocalSource(samples / "s3"), [DAY], dd)
    snapshot_from_json([samples / "inventory"], dd, taken_at=window_end([DAY]))
    sizes = _compare_engines(dd, tmp_path, spark, [DAY])
    assert all(sizes[t] > 0 for t in ("conversations", "rule_usage", "rejected", "findings")), sizes
    # a small day: whole-stage code generation off (SMALL_DAY_BYTES)
    assert spark.conf.get("spark.sql.codegen.wholeStage") == "false"


def test_generated_multi_account_day_gives_identical_results(spark: Any, tmp_path: Path) -> None:
    generate, bench_analyze = _bench("generate"), _bench("bench_analyze")
    dd = DataDir(tmp_path / "duck")
    generate.generate_day(tmp_path / "bucket", 6000, DAY, seed=3)
    ingest(LocalSource(tmp_path / "bucket"), [DAY], dd)
    flows = bench_analyze.gen_flows(6000, 60, np.random.default_rng(5))
    other = (
        dd.flows / "account_id=210987654321" / "region=eu-west-1" / f"date={DAY}" / "part-0.parquet"
    )
    write_parquet_atomic(flows, other)
    bench_analyze.gen_inventory(dd, 60)
    # analysed as a large day is (whole-stage code generation on): the same rows either way
    sizes = _compare_engines(dd, tmp_path, spark, [DAY], small_day_bytes=0)
    assert spark.conf.get("spark.sql.codegen.wholeStage") == "true"
    assert sizes["conversations"] > 1000 and sizes["rule_usage"] > 50, sizes


def test_results_location_apart_from_the_data_dir(spark: Any, tmp_path: Path) -> None:
    """``--results-location`` on Spark: the executors write every results table there, in the
    contract layout (one file per table under ``date=<D>/``); the data dir's ``results/`` is
    never made, and the rows are DuckDB's. One ENI, one connection: the test is the location."""
    from analysis_fixtures import DAY as FIXTURE_DAY
    from analysis_fixtures import World

    from flowlens.engines.spark_engine import SparkEngine

    w = World(tmp_path / "data").subnet("subnet-a", "10.0.1.0/24").sg("sg-web")
    w.rule("sgr-https", "sg-web", "ingress", "tcp", 443, cidr="0.0.0.0/0")
    w.eni("eni-web", "subnet-a", ["10.0.1.10"], ["sg-web"])
    w.both("eni-web", "198.51.100.7", "10.0.1.10", 50000, 443, req_flags=2, rep_flags=18)
    dd = w.write()
    apart = DataDir(dd.root, results_location=str(tmp_path / "cluster-results"))
    analyze(apart, [FIXTURE_DAY], engine=SparkEngine(spark))
    assert not dd.results.exists()
    written = apart.results_dir(FIXTURE_DAY)
    assert written == tmp_path / "cluster-results" / f"date={FIXTURE_DAY}"
    assert sorted(p.name for p in written.iterdir()) == sorted(f"{t}.parquet" for t in OUTPUTS)
    analyze(dd, [FIXTURE_DAY])  # DuckDB, into the data dir
    for table in OUTPUTS:
        want = _rows(dd.results_dir(FIXTURE_DAY) / f"{table}.parquet")
        assert _rows(written / f"{table}.parquet") == want, table
    assert _rows(written / "rule_usage.parquet"), "the connection used the rule"
