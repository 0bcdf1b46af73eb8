"""``dismiss``, ``dismissals --remove`` and ``verify`` write under ``state/`` (and beside the plan):
they hold the data directory's writer lock like ingest/analyze/recommend, so a held lock makes
them exit 2 naming the holder, with nothing written, and the library calls raise the same error.

Real processes, as tests/test_concurrency.py runs them: the lock is re-entrant within a process,
so the holder and the blocked writer must be two processes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from staged_days import write_day

from flowlens import dismissals
from flowlens.analyze import analyze
from flowlens.datadir import DataDir
from flowlens.errors import UsageError
from flowlens.lock import DataDirBusy, writer_lock
from flowlens.verify.run import record_path, verify

ROOT = Path(__file__).resolve().parent.parent
MYSQL = "sgr-0a2752576ebbf3b85"  # rds-in-3306, unused on the sample day (sample_logs/README.md)
SSH = "sgr-093b55da14b72410e"  # the bastion's SSH
DAY2 = date(2026, 11, 29)
HOLDER = "flowlens run s3://logs --date 2026-11-29"


@pytest.fixture
def staged(sample_day, tmp_path: Path) -> tuple[DataDir, Path]:
    """A copy of the sample day's data dir with the plan beside it, one later day analysed, and
    one dismissal recorded (so --remove has something to remove)."""
    shutil.copytree(sample_day.data.root, tmp_path / "data")
    dd = DataDir(tmp_path / "data")
    plan = tmp_path / "plan.json"
    plan.write_text(sample_day.plan.to_json(), encoding="utf-8")
    write_day(dd, DAY2)
    analyze(dd, [DAY2])
    dismissals.dismiss(dd, SSH, "bastion", by="alice", now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    return dd, plan


def _flowlens(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowlens", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=300,
    )


def _argv(command: str, dd: DataDir, plan: Path) -> list[str]:
    data = ["--data-dir", str(dd.root), "-q"]
    return {
        "dismiss": ["dismiss", MYSQL, "--reason", "quarterly export", "--by", "bob", *data],
        "dismissals --remove": ["dismissals", "--remove", SSH, *data],
        "verify": ["verify", str(plan), "--date", DAY2.isoformat(), *data],
    }[command]


def _state(dd: DataDir, plan: Path) -> dict[str, bytes | None]:
    """What the three commands write: the two state tables and the plan's record."""
    paths = [
        dd.state_table("dismissals"),
        dd.state_table("plan_verifications"),
        record_path(plan),
    ]
    return {p.name: p.read_bytes() if p.exists() else None for p in paths}


@pytest.mark.parametrize("command", ["dismiss", "dismissals --remove", "verify"])
def test_a_held_lock_makes_the_command_exit_2_naming_the_holder_and_write_nothing(
    staged: tuple[DataDir, Path], command: str
) -> None:
    dd, plan = staged
    before = _state(dd, plan)
    with writer_lock(dd, HOLDER) as holder:
        blocked = _flowlens(*_argv(command, dd, plan))
    assert blocked.returncode == UsageError.exit_code == 2, blocked.stderr
    err = blocked.stderr
    assert f"pid {os.getpid()}" in err and HOLDER in err and holder.started in err, err
    assert "--wait" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert _state(dd, plan) == before
    # the lock was the only obstacle: released, the same command does its write
    done = _flowlens(*_argv(command, dd, plan))
    assert done.returncode == 0, done.stderr
    assert _state(dd, plan) != before


@pytest.fixture
def held_elsewhere(staged: tuple[DataDir, Path]) -> Iterator[tuple[DataDir, Path]]:
    """``staged`` with its writer lock held by another process for the test's length."""
    dd, _ = staged
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from flowlens.datadir import DataDir\n"
            "from flowlens.lock import writer_lock\n"
            "with writer_lock(DataDir(Path(sys.argv[1])), sys.argv[2]):\n"
            "    print('held', flush=True); time.sleep(600)",
            str(dd.root),
            HOLDER,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield staged
    finally:
        holder.kill()
        holder.wait()


def test_the_library_calls_take_the_lock_too(held_elsewhere: tuple[DataDir, Path]) -> None:
    dd, plan = held_elsewhere
    before = _state(dd, plan)
    calls = {
        "dismiss": lambda: dismissals.dismiss(dd, MYSQL, "quarterly export", by="bob"),
        "remove": lambda: dismissals.remove(dd, [SSH]),
        "verify": lambda: verify(dd, plan, [DAY2]),
    }
    for name, call in calls.items():
        with pytest.raises(DataDirBusy, match=HOLDER) as caught:
            call()
        assert caught.value.exit_code == 2, name
    assert _state(dd, plan) == before
