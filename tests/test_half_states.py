"""Readers never see a half state (issue 14, item 7).

A re-ingested object's rows are never visible twice; a day's results are swapped in whole, so a
failed re-analysis leaves the previous complete results (and recommend plans from those); a first
ingest killed while writing the catalog leaves a data dir whose catalog any reader can open.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import duckdb
import pytest

import flowlens
from flowlens import catalog
from flowlens.analyze import analyze
from flowlens.datadir import DataDir
from flowlens.engines.duckdb_engine import DuckDBEngine
from flowlens.ingest.pipeline import ingest
from flowlens.ingest.source import LocalSource
from flowlens.recommend.pipeline import recommend

ROOT = Path(__file__).resolve().parent.parent
ACCT, REGION = "123456789012", "eu-west-1"
HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)
DAY = date(2026, 11, 28)
START = 1795824000
BIG, SMALL, OTHERS = 60_000, 300, 12


def _obj(root: Path, o: int, lines: int, port: int) -> None:
    end = START + 600 + o * 3000
    name = f"{ACCT}_vpcflowlogs_{REGION}_fl-0aaa_20261128T{o:02d}00Z_{o:08x}.log.gz"
    key = root / f"AWSLogs/{ACCT}/vpcflowlogs/{REGION}/2026/11/28/{name}"
    key.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(
        f"2 {ACCT} eni-0abc 10.0.{i // 250 % 250}.{i % 250} 10.0.1.1 {1024 + i % 60000} {port} 6 3 "
        f"180 {end - 30} {end} ACCEPT OK\n"
        for i in range(lines)
    )
    key.write_bytes(gzip.compress((HEADER + "\n" + body).encode(), compresslevel=1))


def _count_files(dd: Path) -> int:
    """What a reader globbing the flows sees at this instant (hidden temp files are not matched)."""
    con = duckdb.connect()
    try:
        return int(
            con.execute(
                f"SELECT count(*) FROM read_parquet('{dd}/flows/**/*.parquet', union_by_name=true)"
            ).fetchone()[0]
        )
    except duckdb.IOException:
        return -1  # no file yet / a file renamed away between glob and open: retried
    finally:
        con.close()


def test_a_poller_during_a_reingest_never_sees_more_rows_than_exist(tmp_path: Path) -> None:
    src, dd = tmp_path / "src", tmp_path / "data"
    _obj(src, 0, BIG, 443)
    for o in range(1, OTHERS + 1):
        _obj(src, o, SMALL, 443)
    ingest(LocalSource(src), [DAY], DataDir(dd))
    total = BIG + OTHERS * SMALL
    assert _count_files(dd) == total
    _obj(src, 0, BIG, 8443)  # the object changed (new ETag), same number of records
    seen: list[int] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            seen.append(_count_files(dd))

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        summary = ingest(LocalSource(src), [DAY], DataDir(dd))
    finally:
        stop.set()
        poller.join()
    assert summary.replaced == 1
    assert len(seen) > 3
    assert max(seen) <= total, f"a reader saw {max(seen)} rows of {total}"
    assert _count_files(dd) == total
    con = flowlens.connect(dd)
    assert con.execute("SELECT count(*) FROM flows WHERE dstport = 8443").fetchone() == (BIG,)
    con.close()


def _results_hashes(dd: DataDir) -> dict[str, str]:
    folder = dd.results_dir(DAY)
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def analysed(tmp_path: Path) -> DataDir:
    """The sample day ingested, inventoried, analysed and recommended into a data dir of its own."""
    out = tmp_path / "demo"
    run = subprocess.run(
        [sys.executable, "-m", "flowlens", "demo", "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    return DataDir(out / "data")


def test_a_failed_reanalysis_leaves_the_previous_complete_results(
    analysed: DataDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    dd = analysed
    before = _results_hashes(dd)
    assert {"conversations.parquet", "rule_usage.parquet", "findings.parquet"} <= set(before)
    plan_before = recommend(dd, [DAY], write=False).to_json()
    real = DuckDBEngine.write_parquet
    calls = {"n": 0}

    def dying(self: DuckDBEngine, table: str, types: object, final: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # two of the five tables written, then the process "dies"
            raise KeyboardInterrupt
        real(self, table, types, final)  # type: ignore[arg-type]

    monkeypatch.setattr(DuckDBEngine, "write_parquet", dying)
    with pytest.raises(KeyboardInterrupt):
        analyze(dd, [DAY])
    assert calls["n"] == 3
    assert _results_hashes(dd) == before  # not two new files among three old ones
    assert not [p for p in dd.results.iterdir() if p.name.startswith(".")], (
        "the half-built folder is gone"
    )
    assert recommend(dd, [DAY], write=False).to_json() == plan_before


def test_a_killed_reanalysis_leaves_the_previous_complete_results(analysed: DataDir) -> None:
    """SIGKILL (no cleanup at all) while the analysis writes its tables."""
    dd = analysed
    before = _results_hashes(dd)
    code = (
        "import os, signal, sys\n"
        "from datetime import date\n"
        "from pathlib import Path\n"
        "from flowlens.analyze import analyze\n"
        "from flowlens.datadir import DataDir\n"
        "from flowlens.engines.duckdb_engine import DuckDBEngine\n"
        "real = DuckDBEngine.write_parquet\n"
        "n = [0]\n"
        "def dying(self, table, types, final):\n"
        "    n[0] += 1\n"
        "    if n[0] == 3: os.kill(os.getpid(), signal.SIGKILL)\n"
        "    real(self, table, types, final)\n"
        "DuckDBEngine.write_parquet = dying\n"
        "analyze(DataDir(Path(sys.argv[1])), [date(2026, 11, 28)])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(dd.root)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == -9, run.stderr
    assert _results_hashes(dd) == before
    # The killed run's hidden folder is never read: the catalog's views and recommend see one run.
    con = flowlens.connect(dd.root)
    assert con.execute("SELECT count(*) FROM rule_usage").fetchone()[0] > 0
    con.close()
    plan = recommend(dd, [DAY], write=False)
    assert plan.recommendations
    # The next analysis replaces the day whole and clears the leftover.
    analyze(dd, [DAY])
    assert set(_results_hashes(dd)) == set(before) - {"recommendations.parquet"}


def test_a_first_ingest_killed_while_writing_the_catalog_leaves_a_usable_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, dd = tmp_path / "src", tmp_path / "data"
    for o in range(3):
        _obj(src, o, SMALL, 443)
    real = catalog.register_views

    def dying(con: duckdb.DuckDBPyConnection, d: DataDir, *, snapshot: str | None = None) -> None:
        con.execute(
            "CREATE VIEW flows AS SELECT 1 AS x"
        )  # a view or two made, then the process "dies"
        raise KeyboardInterrupt

    monkeypatch.setattr(catalog, "register_views", dying)
    with pytest.raises(KeyboardInterrupt):
        ingest(LocalSource(src), [DAY], DataDir(dd))
    monkeypatch.setattr(catalog, "register_views", real)
    assert not (
        dd / "catalog.duckdb"
    ).exists()  # no catalog without views: none at all, or the old one
    assert not [p for p in dd.iterdir() if p.name.startswith(".catalog")]
    con = flowlens.connect(
        dd
    )  # the data committed before the catalog: the reader's catalog is made now
    assert con.execute("SELECT count(*) FROM flows").fetchone() == (3 * SMALL,)
    con.close()
