"""Environment failures (issue 14, item 10): a full disk, a file size limit, a read-only data dir
and an unwritable rollback path end in one line naming what, where and what to do, exit 4, no
traceback, nothing half-committed; a reader still works on a read-only data dir."""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from test_recommend_apply import _ingress, _plan, _setup

from flowlens.envfail import classify
from flowlens.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
ACCT, REGION = "123456789012", "eu-west-1"
HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)
DAYS = {"2026-11-28": 1795824000, "2026-11-29": 1795824000 + 86400}


def _mirror(root: Path, lines: int = 2000) -> None:
    for day, start in DAYS.items():
        ymd = day.replace("-", "")
        for o in range(4):
            end = start + 600 + o * 3000
            name = f"{ACCT}_vpcflowlogs_{REGION}_fl-0aaa_{ymd}T{o:02d}00Z_{o:08x}.log.gz"
            key = (
                root / f"AWSLogs/{ACCT}/vpcflowlogs/{REGION}/{ymd[:4]}/{ymd[4:6]}/{ymd[6:]}/{name}"
            )
            key.parent.mkdir(parents=True, exist_ok=True)
            body = "".join(
                f"2 {ACCT} eni-0{o}{i % 97:02x} 10.{o}.{i // 250 % 250}.{i % 250} "
                f"10.9.{i % 200}.{i % 7} {1024 + (i * 7919) % 60000} {i % 1000} 6 {i % 50 + 1} "
                f"{i * 37 % 99999 + 40} {end - 30 - i % 20} {end} "
                f"{'ACCEPT' if i % 3 else 'REJECT'} OK\n"
                for i in range(lines)
            )
            key.write_bytes(gzip.compress((HEADER + "\n" + body).encode()))


def _flowlens(*args: str, limit_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run(
        [sys.executable, "-m", "flowlens", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        preexec_fn=limit,
    )


def _one_line_error(run: subprocess.CompletedProcess[str], *words: str) -> None:
    assert run.returncode == ExitCode.ENVIRONMENT == 4, run.stderr
    assert "Traceback" not in run.stderr
    lines = [ln for ln in run.stderr.splitlines() if ": error: " in ln]
    assert len(lines) == 1, run.stderr
    for w in words:
        assert w in lines[0], lines[0]


def _state(dd: Path) -> dict[str, str]:
    """Every visible file of the data dir with its hash (the lock and temp names left out)."""
    return {
        p.relative_to(dd).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(dd.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(dd).parts)
    }


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs of our own (needs the right to mount: root in a container); unmounted after."""
    where = tmp_path / "fs"
    where.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_is_one_line_and_commits_nothing(tmp_path: Path, tmpfs: Path) -> None:
    src, dd = tmp_path / "src", tmpfs / "data"
    _mirror(src)
    first = _flowlens("ingest", str(src), "--date", "2026-11-28", "--data-dir", str(dd), "-q")
    assert first.returncode == 0, first.stderr
    before = _state(dd)
    filler = tmpfs / "filler"
    with open(filler, "wb") as fh:  # fill the disk to the last block
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    run = _flowlens("ingest", str(src), "--date", "2026-11-29", "--data-dir", str(dd))
    _one_line_error(run, "the disk is full", str(tmpfs), "free space")
    assert _state(dd) == before
    filler.unlink()
    again = _flowlens(
        "ingest", str(src), "--date", "2026-11-29", "--data-dir", str(dd), "--json", "-q"
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["rows"] == 4 * 2000


def test_a_file_size_limit_is_one_line_and_commits_nothing(tmp_path: Path) -> None:
    src, dd = tmp_path / "src", tmp_path / "data"
    _mirror(src, lines=20_000)
    run = _flowlens(
        "ingest", str(src), "--date", "2026-11-28", "--data-dir", str(dd), limit_bytes=64 << 10
    )
    _one_line_error(run, "file size limit", "ulimit -f")
    assert not (dd / "ingest_manifest.parquet").exists()
    assert not list((dd / "flows").rglob("part-*.parquet")) if (dd / "flows").exists() else True
    again = _flowlens(
        "ingest", str(src), "--date", "2026-11-28", "--data-dir", str(dd), "--json", "-q"
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["rows"] == 4 * 20_000


def test_a_read_only_data_dir_refuses_writers_and_serves_readers(
    tmp_path: Path, tmpfs: Path
) -> None:
    src, dd = tmp_path / "src", tmpfs / "data"
    _mirror(src)
    assert (
        _flowlens(
            "ingest", str(src), "--date", "2026-11-28", "--data-dir", str(dd), "-q"
        ).returncode
        == 0
    )
    before = _state(dd)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    for args in (
        ("ingest", str(src), "--date", "2026-11-29"),
        ("catalog", "--refresh"),
        ("analyze", "--date", "2026-11-28"),
    ):
        run = _flowlens(*args, "--data-dir", str(dd))
        _one_line_error(run, "read-only", str(dd))
    assert _state(dd) == before
    read = _flowlens(
        "sql", "--data-dir", str(dd), "--format", "csv", "SELECT count(*) AS n FROM flows"
    )
    assert read.returncode == 0 and read.stdout.split() == ["n", str(4 * 2000)], read.stderr
    con = duckdb.connect(str(dd / "catalog.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM flows").fetchone() == (4 * 2000,)
    con.close()


def test_connect_on_a_read_only_moved_copy_uses_views_in_memory(
    tmp_path: Path, tmpfs: Path
) -> None:
    """flowlens.connect() rewrites a catalog made for another location; on a read-only copy it
    cannot, so the views live in memory for that connection and nothing on disk changes."""
    import flowlens

    src = tmp_path / "src"
    _mirror(src)
    assert (
        _flowlens(
            "ingest", str(src), "--date", "2026-11-28", "--data-dir", str(tmpfs / "data"), "-q"
        ).returncode
        == 0
    )
    moved = tmpfs / "moved"
    os.rename(tmpfs / "data", moved)
    before = _state(moved)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    con = flowlens.connect(moved)
    try:
        assert con.execute("SELECT count(*) FROM flows").fetchone() == (4 * 2000,)
    finally:
        con.close()
    assert _state(moved) == before


def test_an_unwritable_rollback_path_changes_nothing(
    moto_reset: str, tmp_path: Path, tmpfs: Path
) -> None:
    ec2, sg, rid = _setup(moto_reset)
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32"])])
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    run = _flowlens(
        "apply",
        str(plan),
        "--commit",
        "--rollback",
        str(tmpfs / "rb.json"),
        "--endpoint-url",
        moto_reset,
    )
    _one_line_error(run, "read-only", str(tmpfs))
    assert _ingress(ec2, sg) == {
        ("tcp", 22, 22, "0.0.0.0/0")
    }  # the rollback file comes before any call


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/data/x"),
            ("the disk is full at /data/x", "free space"),
        ),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), ("the disk is full",)),
        (OSError(errno.EFBIG, "File too large", "/d/f"), ("file size limit", "ulimit -f")),
        (OSError(errno.EROFS, "Read-only file system", "/ro"), ("read-only at /ro",)),
        (
            PermissionError(errno.EACCES, "Permission denied", "/root/x"),
            ("permission denied at /root/x",),
        ),
        (
            OSError("IOError: No space left on device. Detail: [errno 28]"),
            ("the disk is full",),
        ),  # pyarrow's wording
        (
            duckdb.IOException(
                'IO Error: Could not write file "/d/c.duckdb": No space left on device'
            ),
            ("the disk is full",),
        ),
    ],
)
def test_classify_names_the_failure_and_the_remedy(
    exc: BaseException, words: tuple[str, ...]
) -> None:
    failure = classify(exc)
    assert failure is not None and failure.exit_code == 4
    assert "\n" not in str(failure)
    for w in words:
        assert w in str(failure)


def test_other_errors_are_not_environment_failures() -> None:
    assert classify(OSError(errno.ENOENT, "No such file or directory", "/x")) is None
    assert classify(ValueError("bad")) is None
