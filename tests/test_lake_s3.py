"""A data directory and a results location in S3, against the moto server (real HTTP).

The committed sample day, ingested and analysed locally once (``sample_day``), is published to
a moto bucket in the lake layout of ``flowlens.engines.ddl.lake_key`` (flows as they are, the
inventory one prefix per table); then ``analyze``, ``recommend``, ``report`` and ``sql`` run on
``s3://`` and must give the local run's rows.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SampleDay

from flowlens.cli import main
from flowlens.engines.ddl import lake_key
from flowlens.lake import s3_error
from flowlens.model.results import RESULT_SCHEMAS

BUCKET = "flow-lake"
PREFIX = "flowlens"
LAKE = f"s3://{BUCKET}/{PREFIX}"
#: what the analysis writes (recommendations belong to recommend)
ANALYSIS_TABLES = sorted(t for t in RESULT_SCHEMAS if t != "recommendations")


@pytest.fixture
def s3(moto_reset: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("FLOWLENS_WORK_DIR", str(tmp_path / "work"))
    client = boto3.client("s3", endpoint_url=moto_reset, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def _publish(
    s3: Any,
    root: Path,
    parts: tuple[str, ...] = (
        "flows",
        "tgw_flows",
        "inventory",
        "quarantine",
        "ingest_manifest.parquet",
    ),
) -> int:
    """Copy a data dir's ``parts`` to the bucket as ``athena-ddl`` lays them out."""
    n = 0
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and rel.parts[0] in parts and not any(p[:1] == "." for p in rel.parts):
            s3.put_object(
                Bucket=BUCKET, Key=f"{PREFIX}/{lake_key(rel.as_posix())}", Body=path.read_bytes()
            )
            n += 1
    return n


def _keys(s3: Any, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", ()))


def _rows(table: pa.Table) -> list[str]:
    return sorted(json.dumps(r, default=str, sort_keys=True) for r in table.to_pylist())


def _s3_table(s3: Any, key: str) -> pa.Table:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return pq.read_table(pa.BufferReader(body))


def _day(sample: SampleDay) -> date:
    return date.fromisoformat(sample.expected["window"]["start"][:10])


def test_analyze_recommend_report_sql_on_a_data_dir_in_s3(
    sample_day: SampleDay, s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day, local = _day(sample_day), sample_day.data
    assert _publish(s3, local.root) > 10
    endpoint = s3.meta.endpoint_url
    common = ["--data-dir", LAKE, "--endpoint-url", endpoint, "--date", day.isoformat(), "-q"]
    assert main(["analyze", *common]) == 0

    # every results table in the lake layout, the same rows as the local analysis
    for table in ANALYSIS_TABLES:
        key = f"{PREFIX}/results/{table}/date={day}/{table}.parquet"
        assert _keys(s3, f"{PREFIX}/results/{table}/") == [key]
        want = pq.read_table(local.results_dir(day) / f"{table}.parquet")
        got = _s3_table(s3, key)
        assert got.schema.equals(want.schema), table
        assert _rows(got) == _rows(want), table
    # nothing written into the work directory's results: it is only a cache of the inventory
    work = tmp_path / "work"
    assert (work / "inventory").is_dir() and not (work / "results").exists()

    capsys.readouterr()
    assert main(["recommend", *common, "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    want_plan = sample_day.plan.to_dict()
    assert plan["recommendations"] == want_plan["recommendations"]
    assert plan["recommendations"], "the sample day has recommendations to compare"
    rec_key = f"{PREFIX}/results/recommendations/date={day}/recommendations.parquet"
    assert _keys(s3, f"{PREFIX}/results/recommendations/") == [rec_key]
    assert _s3_table(s3, rec_key).num_rows == len(plan["recommendations"])

    out = tmp_path / "report"
    assert main(["report", *common, "--out", str(out), "--json"]) == 0
    local_out = tmp_path / "report-local"
    assert (
        main(
            [
                "report",
                "--data-dir",
                str(local.root),
                "--date",
                str(day),
                "-q",
                "--out",
                str(local_out),
            ]
        )
        == 0
    )
    assert json.loads((out / "report.json").read_text()) == json.loads(
        (local_out / "report.json").read_text()
    )

    capsys.readouterr()
    query = "SELECT status, COUNT(*) AS n FROM rule_usage GROUP BY status ORDER BY status"
    assert (
        main(["sql", "--data-dir", LAKE, "--endpoint-url", endpoint, query, "--format", "json"])
        == 0
    )
    from_s3 = json.loads(capsys.readouterr().out)
    assert main(["sql", "--data-dir", str(local.root), query, "--format", "json"]) == 0
    assert from_s3 == json.loads(capsys.readouterr().out) and from_s3


def test_the_day_partition_prunes_other_days_files(
    sample_day: SampleDay, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unreadable object in another day's partition: the day's analysis never opens it (the
    ``date = $day`` filter reaches the dataset scan), a query over every day fails naming it."""
    day, local = _day(sample_day), sample_day.data
    _publish(s3, local.root)
    first = next(k for k in _keys(s3, f"{PREFIX}/flows/") if f"date={day}" in k)
    bad = first.replace(f"date={day}", "date=2020-01-01").rsplit("/", 1)[0] + "/broken.parquet"
    s3.put_object(Bucket=BUCKET, Key=bad, Body=b"not parquet at all")
    endpoint = s3.meta.endpoint_url
    args = ["--data-dir", LAKE, "--endpoint-url", endpoint, "-q"]
    assert main(["analyze", *args, "--date", day.isoformat()]) == 0
    capsys.readouterr()
    assert main(["sql", *args, "SELECT COUNT(*) FROM flows"]) != 0
    assert bad in capsys.readouterr().err


def test_local_data_dir_with_results_in_s3(
    sample_day: SampleDay, s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day, local = _day(sample_day), sample_day.data
    results = f"s3://{BUCKET}/elsewhere/results"
    loc = ["--results-location", results, "--endpoint-url", s3.meta.endpoint_url]
    dd = ["--data-dir", str(local.root), "--date", day.isoformat(), "-q"]
    before = sorted(p.name for p in local.results_dir(day).iterdir())
    assert main(["analyze", *dd, *loc]) == 0
    assert sorted(p.name for p in local.results_dir(day).iterdir()) == before  # untouched
    for table in ANALYSIS_TABLES:
        got = _s3_table(s3, f"elsewhere/results/{table}/date={day}/{table}.parquet")
        assert _rows(got) == _rows(pq.read_table(local.results_dir(day) / f"{table}.parquet"))
    capsys.readouterr()
    assert main(["recommend", *dd, *loc, "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["recommendations"] == sample_day.plan.to_dict()["recommendations"]
    out = tmp_path / "report"
    assert main(["report", *dd, *loc, "--out", str(out)]) == 0
    assert json.loads((out / "report.json").read_text())["window"]


def test_missing_bucket_and_results_name_the_uri(
    sample_day: SampleDay, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    day = _day(sample_day)
    endpoint = s3.meta.endpoint_url
    args = ["--endpoint-url", endpoint, "--date", day.isoformat(), "-q"]
    # no such bucket: bad input (exit 2), the URI named
    assert main(["analyze", "--data-dir", "s3://no-such-flow-lake/x", *args]) == 2
    assert "s3://no-such-flow-lake/x" in capsys.readouterr().err
    # a results location in a bucket that does not exist: refused before the analysis runs
    local = ["--data-dir", str(sample_day.data.root)]
    assert main(["analyze", *local, "--results-location", "s3://no-such-results/r", *args]) == 2
    assert "s3://no-such-results/r" in capsys.readouterr().err
    # a bucket without results for the day: recommend says where it looked
    assert main(["recommend", "--data-dir", LAKE, *args]) == 1
    err = capsys.readouterr().err
    assert f"no analysis results for {day} in {LAKE}/results" in err


def test_access_denied_is_an_aws_access_error_naming_the_uri() -> None:
    """moto does not enforce bucket policies, so the denial is pyarrow's message for a 403 as
    AWS returns it (recorded from pyarrow 26 against S3: HeadObject without s3:GetObject)."""
    exc = OSError(
        "When getting information for key 'flowlens/flows' in bucket 'flow-lake': AWS Error "
        "ACCESS_DENIED during HeadObject operation: No response body."
    )
    err = s3_error(exc, "s3://flow-lake/flowlens/flows")
    assert err.exit_code == 3 and "s3://flow-lake/flowlens/flows" in str(err)
    assert "access denied" in str(err)


def test_s3_data_dir_refused_where_not_supported(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--data-dir", LAKE]) == 2
    assert "needs a local data directory" in capsys.readouterr().err


def test_local_results_location_apart_from_the_data_dir(
    sample_day: SampleDay, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day, local = _day(sample_day), sample_day.data
    elsewhere = tmp_path / "results-elsewhere"
    dd = ["--data-dir", str(local.root), "--date", day.isoformat(), "-q"]
    assert main(["analyze", *dd, "--results-location", str(elsewhere)]) == 0
    assert sorted(p.name for p in (elsewhere / f"date={day}").iterdir()) == sorted(
        f"{t}.parquet" for t in ANALYSIS_TABLES
    )
    for table in ANALYSIS_TABLES:
        got = pq.read_table(elsewhere / f"date={day}" / f"{table}.parquet")
        assert _rows(got) == _rows(pq.read_table(local.results_dir(day) / f"{table}.parquet"))
    capsys.readouterr()
    query = "SELECT COUNT(*) AS n FROM conversations"
    args = ["--data-dir", str(local.root), query, "--format", "json"]
    assert main(["sql", *args, "--results-location", str(elsewhere)]) == 0
    apart = json.loads(capsys.readouterr().out)
    assert main(["sql", *args]) == 0
    assert apart == json.loads(capsys.readouterr().out) and apart[0]["n"] > 0


def test_config_only_into_an_s3_results_location(
    sample_day: SampleDay, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """--config-only writes rule_shadows and, on a day not analysed in full there, its findings;
    nothing else, and the day does not count as analysed (no rule_usage)."""
    day, local = _day(sample_day), sample_day.data
    loc = ["--results-location", f"s3://{BUCKET}/cfg", "--endpoint-url", s3.meta.endpoint_url]
    args = ["--data-dir", str(local.root), "--date", day.isoformat(), "-q", *loc]
    assert main(["analyze", *args, "--config-only"]) == 0
    assert _keys(s3, "cfg/") == [
        f"cfg/findings/date={day}/findings.parquet",
        f"cfg/rule_shadows/date={day}/rule_shadows.parquet",
    ]
    want = pq.read_table(local.results_dir(day) / "rule_shadows.parquet")
    got = _s3_table(s3, f"cfg/rule_shadows/date={day}/rule_shadows.parquet")
    assert _rows(got) == _rows(want)
    assert main(["recommend", *args]) == 1
    assert "no analysis results" in capsys.readouterr().err
