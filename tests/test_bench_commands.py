"""The benchmark commands of bench/ still start: a refactor of one bench module broke
bench_run's import once, unnoticed, because nothing ran it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SampleDay

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = sorted(
    p.stem
    for p in (ROOT / "bench").glob("*.py")
    if p.stem != "__init__" and "def main(" in p.read_text()
)


def test_the_benchmarks_are_found() -> None:
    assert {"bench_analyze", "bench_ingest", "bench_run", "bench_engines"} <= set(COMMANDS)


@pytest.mark.parametrize("module", COMMANDS)
def test_help_runs(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


@pytest.mark.slow
def test_bench_run_times_the_batch_on_a_tiny_day(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.bench_run",
            "--records",
            "5000",
            "--workdir",
            str(tmp_path / "work"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "run 1:" in out
    for stage in ("ingest", "inventory", "analyze", "recommend", "report"):
        assert f"\n{stage} " in out, out
    assert "target <= 240 s" in out
    assert (tmp_path / "work" / "out" / "plan.json").is_file()


def test_bench_steps_times_a_step_over_the_flows_it_is_given(tmp_path: Path) -> None:
    """The step reads ``flows`` from the SELECT it is given (analyze's Parquet view), not from the
    dumped copy in the DuckDB file, whose statistics change DuckDB's plan."""
    import duckdb

    from bench import bench_steps

    db = tmp_path / "steps.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE flows AS SELECT 1 AS x")
    con.close()
    step = tmp_path / "step.sql"
    step.write_text("SELECT x FROM flows")
    day = bench_steps.DAY
    assert bench_steps.run_step(db, step, day, "1GB", 1)[2] == 1
    three = "SELECT * FROM (VALUES (1), (2), (3)) AS t (x)"
    assert bench_steps.run_step(db, step, day, "1GB", 1, three)[2] == 3
    part = tmp_path / "data" / "flows" / "account_id=1" / "region=r" / "date=2026-11-28"
    part.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 'eni-1' AS interface_id) TO '{part / 'part-0.parquet'}'")
    con.close()
    assert str(tmp_path / "data" / "flows") in bench_steps.flows_view(tmp_path / "data")


def test_bench_partials_merges_to_the_records_pass_on_the_sample_day(sample_day: SampleDay) -> None:
    """bench_partials' claim rests on its merge giving the records pass's rows: checked on the
    sample day, in chunks smaller than its objects and as one chunk."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.bench_partials",
            "--data",
            str(sample_day.data.root),
            "--chunk-rows",
            "300,0",
            "--repeat",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    verdicts = [line for line in done.stdout.splitlines() if line.startswith("chunk:")]
    assert len(verdicts) == 2
    assert all(v.endswith("merge equal to the records pass: yes") for v in verdicts), verdicts
    assert "49,637 records" in verdicts[0]
