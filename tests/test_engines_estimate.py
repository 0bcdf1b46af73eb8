"""``analyze --engine athena --estimate``: bytes per step from Parquet footers, pruned by date.

Expected bytes are read from the footers of the files the test writes (the column chunks a query
names, in the partitions its predicates keep), independently of the module's own walk.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SampleDay

from flowlens.cli import main
from flowlens.datadir import DataDir
from flowlens.engines.estimate import (
    MIN_BILLED_BYTES,
    TB,
    estimate_steps,
)
from flowlens.model.tables import analysis_sources

DAYS = [date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 28)]
DAY = DAYS[-1]


def _flows_dir(tmp_path: Path) -> DataDir:
    """Three days of flows of two columns that matter (srcaddr, bytes) and one that does not."""
    dd = DataDir(tmp_path / "d")
    for i, d in enumerate(DAYS):
        n = 1000 * (i + 1)
        table = pa.table(
            {
                "srcaddr": pa.array([f"10.0.{j % 250}.{j % 7}" for j in range(n)]),
                "bytes": pa.array(range(n), pa.int64()),
                "dstaddr": pa.array([f"192.0.2.{j % 250}" for j in range(n)]),
            }
        )
        folder = dd.flows / "account_id=1" / "region=us-east-1" / f"date={d}"
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "part-0.parquet", row_group_size=700)
    return dd


def _chunk_bytes(path: Path, columns: set[str]) -> int:
    meta = pq.ParquetFile(path).metadata
    return sum(
        meta.row_group(g).column(c).total_compressed_size
        for g in range(meta.num_row_groups)
        for c in range(meta.num_columns)
        if meta.row_group(g).column(c).path_in_schema in columns
    )


def _file(dd: DataDir, d: date) -> Path:
    return dd.flows / "account_id=1" / "region=us-east-1" / f"date={d}" / "part-0.parquet"


PARAMS = {"day": DAY, "lookback_start": DAYS[0]}


def test_one_day_and_named_columns_only(tmp_path: Path) -> None:
    dd = _flows_dir(tmp_path)
    sql = "SELECT srcaddr, SUM(bytes) AS b FROM flows WHERE date = $day GROUP BY srcaddr"
    est = estimate_steps(DAY, [("s", sql)], analysis_sources(dd), PARAMS)
    (scan,) = est.steps[0].scans
    assert (scan.table, scan.files) == ("flows", 1)
    assert set(scan.columns) == {"srcaddr", "bytes"}
    assert scan.bytes == _chunk_bytes(_file(dd, DAY), {"srcaddr", "bytes"}) > 0


def test_lookback_range_excludes_the_day_and_a_cte_is_not_a_table(tmp_path: Path) -> None:
    dd = _flows_dir(tmp_path)
    sql = (
        "WITH earlier AS (SELECT srcaddr FROM flows WHERE date >= $lookback_start AND date < $day)"
        " SELECT * FROM earlier JOIN eni_flows ON earlier.srcaddr = eni_flows.addr"
    )
    est = estimate_steps(DAY, [("s", sql)], analysis_sources(dd), PARAMS)
    step = est.steps[0]
    (scan,) = step.scans
    assert scan.files == 2 and set(scan.columns) == {"srcaddr"}  # the CTE's * reads no table
    assert scan.bytes == sum(_chunk_bytes(_file(dd, d), {"srcaddr"}) for d in DAYS[:2])
    assert step.unknown == ("eni_flows",)  # a work table: its size is known only after running


def test_star_without_a_date_predicate_reads_every_column_of_every_day(tmp_path: Path) -> None:
    dd = _flows_dir(tmp_path)
    est = estimate_steps(DAY, [("s", "SELECT * FROM flows")], analysis_sources(dd), PARAMS)
    (scan,) = est.steps[0].scans
    cols = {"srcaddr", "bytes", "dstaddr"}
    assert scan.files == 3
    assert scan.bytes == sum(_chunk_bytes(_file(dd, d), cols) for d in DAYS)


def test_billing_has_a_ten_megabyte_minimum_per_query(tmp_path: Path) -> None:
    dd = _flows_dir(tmp_path)
    steps = [("a", "SELECT bytes FROM flows WHERE date = $day"), ("b", "SELECT 1 AS one")]
    est = estimate_steps(DAY, steps, analysis_sources(dd), PARAMS, price_per_tb=6.0)
    assert [s.billed for s in est.steps] == [MIN_BILLED_BYTES, MIN_BILLED_BYTES]
    assert est.cost == pytest.approx(2 * MIN_BILLED_BYTES / TB * 6.0)


def test_cli_prints_every_step_and_the_total(
    sample_day: SampleDay, capsys: pytest.CaptureFixture[str]
) -> None:
    day = sample_day.expected["window"]["start"][:10]
    args = ["analyze", "--date", day, "--data-dir", str(sample_day.data.root), "-q"]
    assert main([*args, "--engine", "athena", "--estimate", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (only,) = doc["days"]
    steps = {s["step"]: s for s in only["steps"]}
    flows = next(t for t in steps["10_eni_flows"]["scans"] if t["table"] == "flows")
    files = list(sample_day.data.flows.glob(f"*/*/date={day}/*.parquet"))
    assert flows["files"] == len(files) > 0
    assert flows["bytes"] == sum(_chunk_bytes(f, set(flows["columns"])) for f in files)
    assert "conversation_sides" in steps["34_reject_keys"]["not_counted"]
    assert only["billed_bytes"] == sum(s["billed_bytes"] for s in only["steps"])
    assert main([*args, "--engine", "athena", "--estimate", "--price-per-tb", "7"]) == 0
    text = capsys.readouterr().out
    assert "$7.00 per TB" in text and "10_eni_flows" in text and "total" in text


def test_estimate_needs_the_athena_engine(
    sample_day: SampleDay, capsys: pytest.CaptureFixture[str]
) -> None:
    day = sample_day.expected["window"]["start"][:10]
    code = main(["analyze", "--date", day, "--data-dir", str(sample_day.data.root), "--estimate"])
    assert code == 2
    assert "--engine athena" in capsys.readouterr().err
