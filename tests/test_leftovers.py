"""Leftovers no in-flight record names (flowlens/leftovers.py): what killed writers, and flowlens
before ``.inflight``, left in a data dir is swept under the writer lock; committed files stay."""

from __future__ import annotations

import gzip
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import flowlens
from flowlens.cli import main
from flowlens.datadir import DataDir
from flowlens.leftovers import GRACE_S
from flowlens.lock import writer_lock

ROOT = Path(__file__).resolve().parent.parent
ACCT, REGION = "123456789012", "eu-west-1"
HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)
START = 1795824000  # 2026-11-28T00:00:00Z
OBJECTS, LINES = 3, 20


def _aged(path: Path, seconds: float = GRACE_S + 60) -> Path:
    """Make ``path`` (and, for a folder, what is in it) look ``seconds`` old."""
    then = time.time() - seconds
    for p in [path, *(path.rglob("*") if path.is_dir() else [])]:
        os.utime(p, (then, then))
    return path


def _file(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_lock_sweeps_old_temp_names_and_keeps_every_committed_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dd = DataDir(tmp_path / "data")
    results, inventory = dd.root / "results", dd.root / "inventory"
    committed = [
        _file(dd.root / "ingest_manifest.parquet"),
        _file(dd.root / "catalog.duckdb"),
        _file(results / "date=2026-11-28" / "rule_usage.parquet"),
        _file(results / "date=2026-11-27" / "rule_usage.parquet"),
        _file(inventory / "snapshot=20261128T060000Z" / "sg_rules.parquet"),
        _file(inventory / "config_history" / "20261128T060000Z.json"),
        _file(dd.root / "state" / "dismissals.parquet"),
        _file(dd.root / "runs" / "2026-11-28.json"),
        # not flowlens's temp names: someone's own files stay, hidden or not
        _file(dd.root / "notes.txt"),
        _file(dd.root / ".keep"),
        _file(results / ".date=2026-11-28.backup" / "rule_usage.parquet"),
    ]
    leftovers = [
        _file(dd.root / ".ingest_manifest.parquet.k2j4h6g8.tmp"),
        _file(dd.root / ".catalog.duckdb.0123456789ab.tmp"),
        _file(dd.root / ".catalog.duckdb.0123456789ab.tmp.wal"),
        _file(results / ".date=2026-11-28.a1b2c3d4" / "rule_usage.parquet").parent,
        _file(results / ".date=2026-11-27.old" / "rule_usage.parquet").parent,
        _file(inventory / ".snapshot=20261128T070000Z.zz_9yy8x" / "sg_rules.parquet").parent,
        _file(inventory / "config_history" / ".20261128T070000Z.json.q1w2e3r4.tmp"),
        _file(dd.root / "state" / ".dismissals.parquet.abcdefgh.tmp"),
        _file(dd.root / "runs" / ".2026-11-28.json.abcdefgh.tmp"),
    ]
    # a swap killed between its two renames: the committed day is only under its aside name
    aside = _file(results / ".date=2026-11-26.old" / "rule_usage.parquet", "committed").parent
    # a temp file being written right now by a writer that takes no lock (connect()'s refresh)
    fresh = _file(dd.root / ".catalog.duckdb.fedcba987654.tmp")
    for path in [*committed, *leftovers, aside]:
        _aged(path)
    with caplog.at_level(logging.INFO, logger="flowlens.leftovers"), writer_lock(dd, "test"):
        pass
    assert all(p.exists() for p in committed)
    assert [p for p in leftovers if p.exists()] == []
    assert fresh.exists()
    assert not aside.exists()
    assert (results / "date=2026-11-26" / "rule_usage.parquet").read_text() == "committed"
    logged = caplog.text
    for p in leftovers:
        assert f"removing {p.relative_to(dd.root).as_posix()}, a temp" in logged
    assert "restored results/date=2026-11-26 from .date=2026-11-26.old" in logged


def test_a_killed_writers_fresh_leftovers_go_at_the_next_lock_and_a_readers_catalog_temp_waits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every writer holds the lock, so what one killed seconds ago left is swept at once; only a
    catalog rewrite's temp name, which a reader's connect() writes without the lock, waits."""
    dd = DataDir(tmp_path / "data")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from flowlens.datadir import DataDir\n"
            "from flowlens.atomic import atomic_path\n"
            "from flowlens.lock import writer_lock\n"
            "dd = DataDir(Path(sys.argv[1]))\n"
            "with writer_lock(dd, 'flowlens dismiss'):\n"
            "    with atomic_path(dd.state_table('dismissals')) as tmp:\n"
            "        tmp.write_text('half')\n"
            "        print(tmp, flush=True); time.sleep(600)",
            str(dd.root),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert holder.stdout is not None
    half = Path(holder.stdout.readline().strip())
    holder.send_signal(signal.SIGKILL)  # killed mid-write: its temp file stays behind
    holder.wait()
    assert half.is_file() and half.parent == dd.root / "state"
    fresh_dir = _file(dd.root / "results" / ".date=2026-11-28.k3j4h5g6" / "rule_usage.parquet")
    reader_temp = _file(dd.root / ".catalog.duckdb.0123456789ab.tmp")
    with caplog.at_level(logging.INFO, logger="flowlens.leftovers"), writer_lock(dd, "next"):
        pass
    assert not half.exists() and not fresh_dir.parent.exists()
    assert f"removing state/{half.name}, a temp file left by a killed writer" in caplog.text
    assert reader_temp.exists()  # seconds old: a connect() may be writing it right now
    _aged(reader_temp)
    with writer_lock(dd, "later"):
        pass
    assert not reader_temp.exists()


# ------------------------------------------------------------------ an older flowlens's ingest


def _mirror(root: Path) -> None:
    for o in range(OBJECTS):
        end = START + 600 + o * 3000
        name = f"{ACCT}_vpcflowlogs_{REGION}_fl-0aaa_20261128T{o:02d}00Z_{o:08x}.log.gz"
        key = root / f"AWSLogs/{ACCT}/vpcflowlogs/{REGION}/2026/11/28/{name}"
        key.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(
            f"2 {ACCT} eni-0abc 10.0.{o}.{i} 10.0.1.1 {40000 + i} 443 6 3 180 {end - 30} {end} "
            "ACCEPT OK\n"
            for i in range(LINES)
        )
        key.write_bytes(gzip.compress((HEADER + "\n" + lines).encode()))


def _flows(data: Path) -> int:
    con = flowlens.connect(data)
    try:
        row = con.execute("SELECT count(*) FROM flows").fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


def _ingest(src: Path, data: Path, *extra: str) -> int:
    """An in-process ``flowlens ingest`` (its log lines go to stderr, as the CLI's do)."""
    return main(["ingest", str(src), "--date", "2026-11-28", "--data-dir", str(data), *extra])


@pytest.fixture
def ingested(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(source, data dir, one committed data file) after one ingest of the day."""
    src, data = tmp_path / "src", tmp_path / "data"
    _mirror(src)
    assert _ingest(src, data, "-q") == 0
    assert _flows(data) == OBJECTS * LINES
    return src, data, next((data / "flows").rglob("part-*.parquet"))


def test_files_an_older_flowlens_left_uncommitted_are_swept_by_the_next_ingest(
    ingested: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    src, data, committed = ingested
    folder = committed.parent
    # What flowlens before .inflight left when killed between renaming its files into place and
    # writing the manifest: a visible part file of a run no manifest row names (its rows counted
    # twice by every reader), and the temp files of the same run.
    uncommitted = folder / "part-0123456789ab.parquet"
    shutil.copy(committed, uncommitted)
    temps = [
        _aged(_file(folder / ".part-0123456789ab.parquet.tmp")),
        _aged(_file(folder / ".part-0123456789ab.parquet.a1b2c3.tmp")),
    ]
    stranger = folder / "part-notarunofours.parquet"  # not a name flowlens writes: not ours
    shutil.copy(committed, stranger)
    assert _flows(data) > OBJECTS * LINES
    capsys.readouterr()
    assert _ingest(src, data) == 0  # nothing new to read: only the sweep does something
    logged = capsys.readouterr().err
    assert not uncommitted.exists() and not any(t.exists() for t in temps)
    assert committed.exists() and stranger.exists()
    rel = uncommitted.relative_to(data).as_posix()
    assert f"removing {rel}, written by an ingest that was killed before its commit" in logged
    for t in temps:
        assert f"removing {t.relative_to(data).as_posix()}, a temp file left by" in logged
    stranger.unlink()
    assert _flows(data) == OBJECTS * LINES


def test_without_a_manifest_that_names_files_no_visible_file_is_removed(
    ingested: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    src, data, committed = ingested
    uncommitted = committed.parent / "part-0123456789ab.parquet"
    shutil.copy(committed, uncommitted)
    (data / "ingest_manifest.parquet").unlink()  # lost: nothing proves which files were committed
    capsys.readouterr()
    assert _ingest(src, data, "-q") == 0
    assert uncommitted.exists() and committed.exists()
    logged = capsys.readouterr().err
    assert "names no file at all" in logged and "keeping them all" in logged
