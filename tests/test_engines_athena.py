"""The Athena engine against moto in server mode: the API calls it makes and what they carry.

moto does not execute SQL: it records each query execution and answers GetQueryResults with
the canned results queued through its ``/moto-api/static/athena/query-results`` endpoint (or no
rows). So these tests check the requests (workgroup, output location, database, query text,
``ExecutionParameters``), the S3 upload of Python-built tables, and the decoding of results;
that the transpiled SQL gives DuckDB's answers is shown on Spark (test_engines_spark.py) and by
every query parsing as Trino (test_engines_transpile.py).
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest

from flowlens import sqlfiles
from flowlens.datadir import DataDir
from flowlens.engines.athena import AthenaEngine
from flowlens.errors import AnalysisError
from flowlens.model.tables import analysis_sources

OUT = "s3://athena-results/flowlens/"
DAY = date(2026, 11, 28)


@pytest.fixture
def engine(moto_reset: str) -> tuple[AthenaEngine, list[dict[str, Any]]]:
    athena = boto3.client("athena", endpoint_url=moto_reset, region_name="us-east-1")
    s3 = boto3.client("s3", endpoint_url=moto_reset, region_name="us-east-1")
    s3.create_bucket(Bucket="athena-results")
    athena.create_work_group(
        Name="analytics", Configuration={"ResultConfiguration": {"OutputLocation": OUT}}
    )
    sent: list[dict[str, Any]] = []
    athena.meta.events.register(
        "provide-client-params.athena.StartQueryExecution",
        lambda params, **_: sent.append(dict(params)),
    )
    return AthenaEngine(
        athena,
        s3,
        database="flowlens",
        workgroup="analytics",
        output_location=OUT,
        poll_seconds=0.01,
    ), sent


def _canned(endpoint: str, rows: list[list[str | None]], columns: list[tuple[str, str]]) -> None:
    body = {
        "results": [
            {
                "rows": [
                    {"Data": [{"VarCharValue": v} if v is not None else {} for v in r]}
                    for r in rows
                ],
                "column_info": [
                    {
                        "Name": n,
                        "Type": t,
                        "CatalogName": "hive",
                        "SchemaName": "",
                        "TableName": "",
                        "Label": n,
                        "Precision": 0,
                        "Scale": 0,
                        "Nullable": "NULLABLE",
                        "CaseSensitive": True,
                    }
                    for n, t in columns
                ],
            }
        ]
    }
    req = urllib.request.Request(
        f"{endpoint}/moto-api/static/athena/query-results",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(req).read()


def test_step_is_a_ctas_in_the_work_prefix_with_positional_parameters(engine: Any) -> None:
    eng, sent = engine
    for source in analysis_sources(DataDir(Path("/nonexistent"))):
        eng.register_parquet(source)
    eng.run_step(
        "eni_day_stats", sqlfiles.load("analyze", "12_eni_day_stats"), {"day": DAY, "unused": 1}
    )
    ctas = sent[-1]
    assert ctas["WorkGroup"] == "analytics"
    assert ctas["ResultConfiguration"] == {"OutputLocation": OUT}
    assert ctas["QueryExecutionContext"] == {"Database": "flowlens"}
    assert ctas["QueryString"].startswith(
        f'CREATE TABLE "flowlens"."{eng.prefix}eni_day_stats" WITH (format = \'PARQUET\''
    )
    assert (
        f"external_location = '{OUT}flowlens-work/{eng.run}/eni_day_stats/'" in ctas["QueryString"]
    )
    assert (
        'FROM "flowlens"."flows" AS flows' in ctas["QueryString"]
        and "date = ?" in ctas["QueryString"]
    )
    assert ctas["ExecutionParameters"] == ["DATE '2026-11-28'"]
    assert sent[-2]["QueryString"] == f"DROP TABLE IF EXISTS `flowlens`.`{eng.prefix}eni_day_stats`"
    # the inventory is the day's timeline, uploaded like every Python-built table: no snapshot view
    assert not any(f'"{eng.prefix}sg_rules"' in s["QueryString"] for s in sent)
    # moto kept the same request: the workgroup and parameters reached the API
    got = eng.athena.get_query_execution(
        QueryExecutionId=eng.athena.list_query_executions(WorkGroup="analytics")[
            "QueryExecutionIds"
        ][-1]
    )["QueryExecution"]
    assert got["WorkGroup"] == "analytics" and got["ResultConfiguration"][
        "OutputLocation"
    ].startswith(OUT)
    assert got["Query"] == ctas["QueryString"] and got["ExecutionParameters"] == [
        "DATE '2026-11-28'"
    ]


def test_later_steps_read_earlier_steps_by_their_work_names(engine: Any) -> None:
    eng, sent = engine
    eng.run_step("eni_flows", sqlfiles.load("analyze", "10_eni_flows"), {"day": DAY})
    eng.run_step("flow_addresses", sqlfiles.load("analyze", "15_flow_addresses"), {})
    assert f'FROM "flowlens"."{eng.prefix}eni_flows" AS eni_flows' in sent[-1]["QueryString"]
    assert "ExecutionParameters" not in sent[-1]


def test_python_tables_are_uploaded_as_parquet_and_declared(engine: Any) -> None:
    eng, sent = engine
    eng.register_arrow(
        "admin_ports", pa.table({"port": pa.array([22], pa.int32()), "service": ["SSH"]})
    )
    key = f"flowlens/flowlens-work/{eng.run}/admin_ports/data.parquet"
    assert eng.s3.head_object(Bucket="athena-results", Key=key)["ContentLength"] > 0
    ddl = sent[-1]["QueryString"]
    assert ddl.startswith(
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `flowlens`.`{eng.prefix}admin_ports`"
    )
    assert "`port` int" in ddl and f"LOCATION '{OUT}flowlens-work/{eng.run}/admin_ports/'" in ddl


def test_results_are_decoded_with_their_athena_types(engine: Any) -> None:
    eng, sent = engine
    _canned(
        eng.athena.meta.endpoint_url,
        [["n", "d", "t", "ok", "s"], ["3", "2026-11-28", "2026-11-28 01:02:03.000", "true", None]],
        [("n", "bigint"), ("d", "date"), ("t", "timestamp"), ("ok", "boolean"), ("s", "varchar")],
    )
    got = eng.fetch_arrow("SELECT COUNT(*) AS n FROM flows WHERE date = $day", {"day": DAY})
    assert sent[-1]["ExecutionParameters"] == ["DATE '2026-11-28'"]
    assert got.to_pylist() == [
        {"n": 3, "d": DAY, "t": datetime(2026, 11, 28, 1, 2, 3), "ok": True, "s": None}
    ]


def test_reset_drops_what_the_run_created(engine: Any) -> None:
    eng, sent = engine
    eng.register_arrow("admin_ports", pa.table({"port": pa.array([22], pa.int32())}))
    eng.run_step("flow_addresses", sqlfiles.load("analyze", "15_flow_addresses"), {})
    sent.clear()
    eng.reset()
    assert [s["QueryString"] for s in sent] == [
        f"DROP TABLE IF EXISTS `flowlens`.`{eng.prefix}flow_addresses`",
        f"DROP TABLE IF EXISTS `flowlens`.`{eng.prefix}admin_ports`",
    ]


def test_bad_output_location_and_timestamps_as_literals() -> None:
    from flowlens.engines.athena import sql_literal

    assert (
        sql_literal(datetime(2026, 11, 28, tzinfo=UTC)) == "TIMESTAMP '2026-11-28 00:00:00.000 UTC'"
    )
    with pytest.raises(AnalysisError, match="s3://"):
        AthenaEngine(None, None, database="d", workgroup="w", output_location="/tmp/x")


def test_cli_athena_engine_needs_an_output_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flowlens.cli import main

    code = main(
        ["analyze", "--data-dir", str(tmp_path), "--date", "2026-11-28", "--engine", "athena"]
    )
    assert code == 2
    assert "--output-location" in capsys.readouterr().err


def test_results_in_s3_are_ctas_tables_written_at_the_results_location(engine: Any) -> None:
    """With an S3 results location each results table is a CTAS whose external_location is its
    day prefix in the athena-ddl layout: Athena writes the Parquet, no row comes back through
    GetQueryResults (only the column names, from a LIMIT 0). moto's Athena does not run SQL, so
    this checks the requests, the old day's objects deleted first (CTAS needs an empty prefix)
    and rule_usage written last; that Athena accepts such a CTAS rests on AWS's documentation."""
    from flowlens.aws import AwsOptions
    from flowlens.lake_dir import day_results
    from flowlens.model.results import RESULT_SCHEMAS

    eng, sent = engine
    endpoint = eng.athena.meta.endpoint_url
    eng.s3.create_bucket(Bucket="flow-lake")
    old = [
        f"flowlens/results/{t}/date={DAY}/20261128_old_{t}" for t in ("conversations", "rule_usage")
    ]
    kept = f"flowlens/results/conversations/date=2026-11-27/{'conversations'}.parquet"
    for key in [*old, kept]:
        eng.s3.put_object(Bucket="flow-lake", Key=key, Body=b"old")
    dd = DataDir(
        Path("/nonexistent"),
        results_location="s3://flow-lake/flowlens/results",
        aws=AwsOptions(endpoint_url=endpoint),
    )
    for table in ("conversations", "rule_usage"):
        eng.run_step(table, sqlfiles.load("analyze", "15_flow_addresses"), {})
    sent.clear()
    # the column names each LIMIT 0 reports, in the order the tables are written (moto answers
    # queued results first in, first out); one extra column, written as it is
    _canned(
        endpoint,
        [["eni_id", "family", "extra"]],
        [("eni_id", "varchar"), ("family", "tinyint"), ("extra", "bigint")],
    )
    _canned(endpoint, [["rule_id", "status"]], [("rule_id", "varchar"), ("status", "varchar")])
    types = {
        t: {f.name: f.type for f in RESULT_SCHEMAS[t]} for t in ("conversations", "rule_usage")
    }
    with day_results(dd, DAY, eng) as write:
        write("rule_usage", types["rule_usage"])  # deferred: written after every other table
        write("conversations", types["conversations"])
    remaining = eng.s3.list_objects_v2(Bucket="flow-lake")["Contents"]
    assert [o["Key"] for o in remaining] == [kept]  # the day's old files gone, other days kept
    ctas = [s["QueryString"] for s in sent if s["QueryString"].startswith("CREATE TABLE")]
    assert len(ctas) == 2
    assert ctas[0] == (
        f'CREATE TABLE "flowlens"."{eng.prefix}out_conversations" WITH (format = \'PARQUET\', '
        "write_compression = 'ZSTD', external_location = "
        f"'s3://flow-lake/flowlens/results/conversations/date={DAY}/') AS SELECT "
        'CAST("eni_id" AS varchar) AS "eni_id", CAST("family" AS tinyint) AS "family", "extra" '
        f'FROM "flowlens"."{eng.prefix}conversations"'
    )
    assert f"'s3://flow-lake/flowlens/results/rule_usage/date={DAY}/'" in ctas[1]
    # each CTAS table is dropped once written (its Parquet stays: CTAS tables are external)
    drops = [s["QueryString"] for s in sent if s["QueryString"].startswith("DROP")]
    assert f"DROP TABLE IF EXISTS `flowlens`.`{eng.prefix}out_rule_usage`" in drops
    # no data came back to this machine: every SELECT sent is a LIMIT 0 for the column names
    selects = [s["QueryString"] for s in sent if s["QueryString"].startswith("SELECT")]
    assert selects and all(q.endswith("LIMIT 0") for q in selects)
