"""Progress on long work: a status line on a terminal (a real pseudo-terminal
here), none when piped or -q.

analyze shows step n/m with records/s and an ETA, ingest's bar a rate and an ETA, recommend its
phases; the log lines keep their timestamps in every case.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from flowlens.analyze.pipeline import STEPS
from flowlens.cli import main
from flowlens.cli.progress import AnalyzeProgress, StatusLine, ingest_bar
from flowlens.samples import sample_logs_root

ROOT = Path(__file__).resolve().parents[1]
DAY = "2026-11-28"
STAMPED = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING) flowlens")
STATUS = re.compile(r"step \d+/\d+|objects/s|phase \d+/\d+|ETA")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("progress") / "demo"
    assert main(["demo", "--out", str(out), "-q"]) == 0
    return out / "data"


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "COLUMNS": "200",
    }


def in_pty(*args: str) -> str:
    """What ``flowlens ARGS`` writes to a terminal (stdout and stderr share the pty)."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "flowlens", *args],
        env=_env(),
        encoding="utf-8",
        timeout=300,
        dimensions=(40, 200),
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return str(child.before)


def piped(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "flowlens", *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_analyze_on_a_terminal_shows_steps_rate_and_eta(data_dir: Path) -> None:
    out = in_pty("analyze", "--date", DAY, "--data-dir", str(data_dir))
    lines = out.replace("\r\n", "\n").split("\r")
    n = len(STEPS)
    assert any(
        re.search(rf"analyze 2026-11-28 \(day 1/1\) · step 1/{n} {STEPS[0]} · 49,637 records", ln)
        for ln in lines
    )
    last = next(ln for ln in reversed(lines) if f"step {n}/{n}" in ln)
    assert re.search(
        rf"step {n}/{n} {STEPS[-1]} · 49,637 records · [\d,]+ records/s · ETA \d+:\d\d", last
    )
    assert STAMPED.search(out), "the log lines keep their timestamps"
    assert "\x1b[K" in out  # the line is redrawn in place, and cleared before a log line


def test_analyze_piped_or_quiet_shows_no_status_line(data_dir: Path) -> None:
    proc = piped("analyze", "--date", DAY, "--data-dir", str(data_dir))
    assert not STATUS.search(proc.stderr) and "\r" not in proc.stderr and "\x1b" not in proc.stderr
    assert STAMPED.search(proc.stderr)
    quiet = in_pty("analyze", "--date", DAY, "--data-dir", str(data_dir), "-q")
    assert not STATUS.search(quiet) and "\x1b" not in quiet


def test_recommend_on_a_terminal_shows_its_phases(data_dir: Path) -> None:
    out = in_pty(
        "recommend",
        "--date",
        DAY,
        "--data-dir",
        str(data_dir),
        "--out",
        str(data_dir.parent / "p.json"),
        "--format",
        "json",
    )
    phases = re.findall(r"recommend phase (\d)/5: ([a-z ]+)", out)
    assert [int(n) for n, _ in phases] == [1, 2, 3, 4, 5]
    assert phases[3][1].startswith("planning and replaying")
    assert not STATUS.search(
        piped(
            "recommend",
            "--date",
            DAY,
            "--data-dir",
            str(data_dir),
            "--out",
            str(data_dir.parent / "p2.json"),
            "--format",
            "json",
        ).stderr
    )


def test_ingest_bar_has_rate_and_eta_on_a_terminal_only(tmp_path: Path) -> None:
    source = str(sample_logs_root() / "s3")
    out = in_pty("ingest", source, "--date", DAY, "--data-dir", str(tmp_path / "a"))
    assert re.search(r"\[#{30}\] (\d+)/\1 objects · [\d.,]+ objects/s · ETA 0:00", out)
    proc = piped("ingest", source, "--date", DAY, "--data-dir", str(tmp_path / "b"))
    assert not STATUS.search(proc.stderr) and "#####" not in proc.stderr


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_status_line_maths_with_a_fixed_clock() -> None:
    ticks = iter([0.0, 10.0, 20.0, 30.0])
    stream = FakeTTY()
    line = StatusLine(stream, clock=lambda: next(ticks))
    show = AnalyzeProgress(line, days=2)
    show("2026-11-27", 2, 4, "b", 1000)  # t=10: one step of eight done, 250 records
    assert stream.getvalue().endswith(
        "day 1/2) · step 2/4 b · 1,000 records · 25 records/s · ETA 1:10"
    )
    show("2026-11-28", 1, 4, "a", 3000)  # t=20: four steps done (a whole day), 1,000 records
    assert stream.getvalue().endswith(
        "day 2/2) · step 1/4 a · 3,000 records · 50 records/s · ETA 0:20"
    )
    line.close()
    assert stream.getvalue().endswith("\n")
    off = io.StringIO()
    quiet = StatusLine(off, enabled=False)
    ingest_bar(quiet)(1, 2)
    quiet.close()
    assert off.getvalue() == ""
