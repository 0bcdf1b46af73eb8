"""The small promises of issue 13: each one a clear error or a named reason, never a traceback."""

from __future__ import annotations

import gzip
import importlib.metadata
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from packaging.requirements import Requirement
from recommend_scenario import write_scenario

from flowlens.cli import main
from flowlens.ingest.parse import REPEATED_HEADER, parse_chunk, parse_header

REPO = Path(__file__).resolve().parent.parent
HEADER = (
    b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start "
    b"end action log-status"
)
RECORD = (
    b"2 111122223333 eni-0a1 10.0.0.1 10.0.0.2 443 50000 6 10 840 1764288000 1764288060 ACCEPT OK"
)


def test_a_repeated_header_line_is_quarantined_as_such() -> None:
    header = parse_header(HEADER)
    parsed = parse_chunk(RECORD + b"\n" + HEADER + b"\n" + RECORD + b"\n", header, 2)
    assert parsed.table.num_rows == 2
    assert [(b.line_number, b.reason) for b in parsed.bad] == [(3, REPEATED_HEADER)]


def test_ingest_counts_the_repeated_header_by_its_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = (
        tmp_path
        / "src"
        / "AWSLogs"
        / "111122223333"
        / "vpcflowlogs"
        / "us-east-1"
        / "2025"
        / "11"
        / "28"
    )
    folder.mkdir(parents=True)
    name = "111122223333_vpcflowlogs_us-east-1_fl-0abc_20251128T0000Z_hash.log.gz"
    (folder / name).write_bytes(
        gzip.compress(HEADER + b"\n" + RECORD + b"\n" + HEADER + b"\n" + RECORD + b"\n")
    )
    assert (
        main(
            [
                "ingest",
                str(tmp_path / "src"),
                "--date",
                "2025-11-28",
                "--data-dir",
                str(tmp_path / "d"),
                "--json",
                "-q",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows"] == 2 and doc["quarantine_reasons"] == {REPEATED_HEADER: 1}


@pytest.mark.parametrize("command", ["analyze", "run"])
def test_memory_limit_is_checked_when_parsing(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        command,
        *(["./src", "--inventory", "x.json"] if command == "run" else []),
        "--date",
        "2026-11-28",
        "--memory-limit",
        "lots",
    ]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert (
        "argument --memory-limit: 'lots' is not a memory size; use a number and a unit, e.g. 4GB"
        in err
    )
    assert "'memory_limit'" not in err and "Traceback" not in err  # not DuckDB's internal dict


def test_apply_names_a_flowlens_file_that_is_not_a_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps({"schema": "flowlens.report/1", "recommendations": [{"rule_id": "sgr-1"}]})
    )
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(
        json.dumps({"stamp": "20261129T000000Z", "taken_at": "2026-11-29T00:00:00Z", "inputs": {}})
    )
    for path, what in (
        (report, "it is a flowlens report (report.json); apply the plan.json written beside it"),
        (snapshot, "it is an inventory snapshot's snapshot.json"),
    ):
        assert main(["apply", str(path), "--region", "us-east-1"]) == 2
        err = capsys.readouterr().err
        assert f"{path} is not a plan: {what}" in err and "KeyError" not in err


@pytest.mark.parametrize(
    ("typo", "meant"), [("analyse", "analyze"), ("injest", "ingest"), ("reccomend", "recommend")]
)
def test_a_mistyped_command_gets_did_you_mean(
    typo: str, meant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([typo, "--date", "2026-11-28"])
    assert exit_.value.code == 2
    assert f"unknown command {typo!r}; did you mean {meant!r}?" in capsys.readouterr().err


def test_a_failing_recommend_query_names_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dd = write_scenario(tmp_path / "data")
    snap = next(dd.inventory.glob("snapshot=*"))
    rules = pq.read_table(snap / "sg_rules.parquet")
    pq.write_table(
        rules.drop_columns(["description"]), snap / "sg_rules.parquet"
    )  # an older, narrower snapshot
    assert main(["recommend", "--data-dir", str(dd.root), "--date", "2026-11-28", "-q"]) == 1
    err = capsys.readouterr().err
    assert (
        "sql/recommend/current_rules.sql: query 'current_rules' failed" in err
        and "Traceback" not in err
    )


def test_pandas_is_inside_the_declared_range_that_pyspark_supports() -> None:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pandas_req = next(Requirement(d) for d in deps if Requirement(d).name == "pandas")
    installed = importlib.metadata.version("pandas")
    assert pandas_req.specifier.contains(installed), (
        f"pandas {installed} outside {pandas_req.specifier}"
    )
    assert not pandas_req.specifier.contains("3.0.0") and not pandas_req.specifier.contains("2.1.4")
    pyspark_pandas = [
        Requirement(r)
        for r in importlib.metadata.requires("pyspark") or []
        if Requirement(r).name == "pandas"
    ]
    for req in pyspark_pandas:  # every version we allow, PySpark allows
        assert req.specifier.contains(installed)


def test_pyspark_imports_pandas_support_without_a_warning() -> None:
    code = (
        "import warnings; warnings.simplefilter('error');"
        "from pyspark.sql.pandas.utils import require_minimum_pandas_version as r; r()"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 0, res.stderr
