"""Writers and readers of one data directory at once (issue 14, items 1, 3 and 7).

Real processes, as the probe ran them: two ``flowlens ingest`` of different days on one data dir
lose nothing; the same day twice duplicates nothing; a second writer waits (``--wait``) or exits 2
naming the holder; a lock left by a killed process is taken over; the sweep deletes only what a
dead run's in-flight record names; an open read-only connection never breaks a writer.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

import flowlens
from flowlens.datadir import DataDir
from flowlens.ingest.manifest import begin_run, load
from flowlens.lock import lock_path, read_holder, writer_lock

ROOT = Path(__file__).resolve().parent.parent
ACCT, REGION = "123456789012", "eu-west-1"
HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)
DAY = {"2026-11-28": 1795824000, "2026-11-29": 1795824000 + 86400}
OBJECTS, LINES = 24, 300  # per day: enough objects that two runs overlap for most of their time


def _mirror(root: Path) -> None:
    for day, start in DAY.items():
        ymd = day.replace("-", "")
        for o in range(OBJECTS):
            end = start + 600 + o * 3000
            name = f"{ACCT}_vpcflowlogs_{REGION}_fl-0aaa_{ymd}T{o:02d}00Z_{o:08x}.log.gz"
            key = (
                root / f"AWSLogs/{ACCT}/vpcflowlogs/{REGION}/{ymd[:4]}/{ymd[4:6]}/{ymd[6:]}/{name}"
            )
            key.parent.mkdir(parents=True, exist_ok=True)
            lines = "".join(
                f"2 {ACCT} eni-0abc 10.0.{o}.{i % 250} 10.0.1.1 {40000 + i} 443 6 3 180 "
                f"{end - 30} {end} ACCEPT OK\n"
                for i in range(LINES)
            )
            key.write_bytes(gzip.compress((HEADER + "\n" + lines).encode()))


def _flowlens(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "flowlens", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _ingest(src: Path, dd: Path, day: str, *extra: str) -> subprocess.Popen[str]:
    return _flowlens(
        "ingest", str(src), "--date", day, "--data-dir", str(dd), "--json", "-q", *extra
    )


def _rows(dd: Path, where: str = "") -> int:
    con = duckdb.connect(str(dd / "catalog.duckdb"), read_only=True)
    try:
        return int(con.execute(f"SELECT count(*) FROM flows {where}").fetchall()[0][0])
    finally:
        con.close()


@pytest.mark.parametrize("trial", [1, 2, 3])
def test_two_ingests_of_different_days_both_survive(tmp_path: Path, trial: int) -> None:
    src, dd = tmp_path / "src", tmp_path / "data"
    _mirror(src)
    runs = [_ingest(src, dd, day, "--wait", "300") for day in DAY]
    outs = [r.communicate(timeout=600) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], [o[1] for o in outs]
    assert [json.loads(o[0])["rows"] for o in outs] == [OBJECTS * LINES] * 2
    entries = load(DataDir(dd))
    assert len(entries) == 2 * OBJECTS
    assert all(all((dd / f).is_file() for f in e.files) for e in entries.values())
    for day in DAY:
        assert _rows(dd, f"WHERE date = DATE '{day}'") == OBJECTS * LINES
    # The next run finds nothing to sweep and nothing to redo.
    again = _ingest(src, dd, "2026-11-29")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert json.loads(out)["objects"] == 0 and "interrupted run" not in err
    assert _rows(dd) == 2 * OBJECTS * LINES


def test_two_ingests_of_the_same_day_duplicate_nothing(tmp_path: Path) -> None:
    src, dd = tmp_path / "src", tmp_path / "data"
    _mirror(src)
    runs = [_ingest(src, dd, "2026-11-28", "--wait", "300") for _ in range(2)]
    outs = [r.communicate(timeout=600) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], [o[1] for o in outs]
    summaries = sorted((json.loads(o[0]) for o in outs), key=lambda s: s["objects"])
    assert (
        summaries[0]["objects"] == 0 and summaries[0]["skipped"] >= OBJECTS
    )  # the second found it done
    assert _rows(dd) == OBJECTS * LINES
    con = duckdb.connect(str(dd / "catalog.duckdb"), read_only=True)
    distinct = con.execute(
        "SELECT count(DISTINCT (source_key, srcaddr, srcport)) FROM flows"
    ).fetchone()
    con.close()
    assert distinct == (OBJECTS * LINES,)


def test_a_second_writer_exits_2_naming_the_holder(tmp_path: Path) -> None:
    src, dd = tmp_path / "src", tmp_path / "data"
    _mirror(src)
    with writer_lock(DataDir(dd), "flowlens analyze --date 2026-11-28") as holder:
        run = _ingest(src, dd, "2026-11-28")
        _, err = run.communicate(timeout=120)
    assert run.returncode == 2
    assert (
        f"pid {os.getpid()}" in err
        and "flowlens analyze --date 2026-11-28" in err
        and holder.started in err
    )
    assert "--wait" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (dd / "ingest_manifest.parquet").exists()


def test_wait_takes_the_lock_once_the_holder_finishes(tmp_path: Path) -> None:
    src, dd = tmp_path / "src", tmp_path / "data"
    _mirror(src)
    released = threading.Event()

    def hold() -> None:
        with writer_lock(DataDir(dd), "holder"):
            time.sleep(2)
        released.set()

    t = threading.Thread(target=hold)
    t.start()
    time.sleep(0.3)
    run = _ingest(src, dd, "2026-11-28", "--wait", "120")
    out, err = run.communicate(timeout=300)
    t.join()
    assert run.returncode == 0, err
    assert released.is_set() and json.loads(out)["rows"] == OBJECTS * LINES


def test_wait_gives_up_after_its_seconds(tmp_path: Path) -> None:
    dd = tmp_path / "data"
    with writer_lock(DataDir(dd), "holder"):
        t0 = time.monotonic()
        run = _flowlens("catalog", "--refresh", "--data-dir", str(dd), "--wait", "1.5")
        _, err = run.communicate(timeout=60)
        waited = time.monotonic() - t0
    assert run.returncode == 2 and "after waiting 1.5 s" in err
    assert waited >= 1.5


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    src, dd = tmp_path / "src", tmp_path / "data"
    _mirror(src)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from flowlens.datadir import DataDir\n"
            "from flowlens.lock import writer_lock\n"
            "with writer_lock(DataDir(Path(sys.argv[1])), 'doomed'):\n"
            "    print('held', flush=True); time.sleep(600)",
            str(dd),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    blocked = _ingest(src, dd, "2026-11-28")
    assert blocked.wait(timeout=120) == 2
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    stale = read_holder(lock_path(DataDir(dd)))
    assert stale is not None and stale.pid == holder.pid and stale.command == "doomed"
    run = _flowlens("ingest", str(src), "--date", "2026-11-28", "--data-dir", str(dd), "--json")
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert f"taking over the writer lock of pid {holder.pid}" in err and "no longer running" in err


def test_the_sweep_deletes_only_what_an_in_flight_record_names(tmp_path: Path) -> None:
    src, dd = tmp_path / "src", tmp_path / "data"
    _mirror(src)
    first = _ingest(src, dd, "2026-11-28")
    assert first.wait(timeout=300) == 0
    folder = next(p.parent for p in (dd / "flows").rglob("part-*.parquet"))
    stranger = folder / "part-notarunofours.parquet"  # not ours to delete: no record names it
    stranger.write_bytes((next(folder.glob("part-*.parquet"))).read_bytes())
    begin_run(DataDir(dd), "deadbeef0001")  # a run that died after writing
    dead = folder / "part-deadbeef0001.parquet"
    dead.write_bytes(stranger.read_bytes())
    (folder / ".part-deadbeef0001.parquet.tmp").write_bytes(b"half")
    again = _ingest(src, dd, "2026-11-29")
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert stranger.exists()
    assert not dead.exists() and not (folder / ".part-deadbeef0001.parquet.tmp").exists()
    assert not list((dd / ".inflight").glob("*.json"))


# ------------------------------------------------------------------ open readers


def _open_reader(dd: Path) -> duckdb.DuckDBPyConnection:
    con = flowlens.connect(dd)
    con.execute("SELECT count(*) FROM flows").fetchall()
    return con


def test_an_open_reader_never_breaks_ingest_analyze_or_run(tmp_path: Path) -> None:
    """A notebook (flowlens.connect), a `flowlens sql` prompt and a dashboard on the catalog file
    stay open through ingest, analyze and run; every writer exits 0 and the readers keep working."""
    out = tmp_path / "demo"
    demo = _flowlens("demo", "--out", str(out), "-q")
    assert demo.wait(timeout=600) == 0
    dd = out / "data"
    notebook = _open_reader(dd)
    dashboard = duckdb.connect(str(dd / "catalog.duckdb"), read_only=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    prompt = subprocess.Popen(
        [sys.executable, "-m", "flowlens", "sql", "--data-dir", str(dd)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    rows = notebook.execute("SELECT count(*) FROM flows").fetchone()
    samples = ROOT / "sample_logs"
    writers = [
        ("ingest", str(samples / "s3"), "--date", "2026-11-28", "--data-dir", str(dd)),
        ("analyze", "--date", "2026-11-28", "--data-dir", str(dd)),
        (
            "run",
            str(samples / "s3"),
            "--date",
            "2026-11-28",
            "--inventory",
            str(samples / "inventory"),
            "--data-dir",
            str(dd),
            "--out",
            str(tmp_path / "run"),
        ),
    ]
    try:
        for args in writers:
            w = _flowlens(*args, "-q")
            _, err = w.communicate(timeout=600)
            assert w.returncode == 0 and "Traceback" not in err, (args[0], err)
            assert notebook.execute("SELECT count(*) FROM flows").fetchone() == rows
            assert dashboard.execute("SELECT count(*) FROM flows").fetchone() == rows
            assert notebook.execute("SELECT count(*) FROM rule_usage").fetchone()[0] > 0
        said, _ = prompt.communicate("SELECT count(*) AS n FROM flows;\n", timeout=120)
        assert str(rows[0]) in said
    finally:
        if prompt.poll() is None:
            prompt.kill()
            prompt.communicate()
        notebook.close()
        dashboard.close()


def test_connect_rewriting_a_moved_catalog_disturbs_no_open_reader(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _mirror(src)
    assert _ingest(src, tmp_path / "data", "2026-11-28").wait(timeout=300) == 0
    moved = tmp_path / "moved"
    os.rename(tmp_path / "data", moved)
    code = (
        "import sys, duckdb; con = duckdb.connect(sys.argv[1], read_only=True); print('open', "
        "flush=True)\n"
        'sys.stdin.readline(); print(con.execute("SELECT count(*) FROM duckdb_views() WHERE '
        "view_name = 'flows'\").fetchone()[0])"
    )
    # Another process holds the old catalog open (views of the old location), as a notebook would.
    first = subprocess.Popen(
        [sys.executable, "-c", code, str(moved / "catalog.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert first.stdout is not None and first.stdout.readline().strip() == "open"
    con = flowlens.connect(moved)  # rewrites the catalog for the new location: a new file, renamed
    try:
        assert con.execute("SELECT count(*) FROM flows").fetchone() == (OBJECTS * LINES,)
    finally:
        con.close()
    said, _ = first.communicate("\n", timeout=60)
    assert first.returncode == 0 and said.strip() == "1"
