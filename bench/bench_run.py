"""The nightly batch end to end on a generated day: `flowlens run`, wall and CPU seconds, peak RSS.

    python -m bench.bench_run --records 20000000 --workdir /tmp/flowlens-bench-run \
        [--repeat 3] [--reuse] [--stages] [--memory-limit 2GB]

Generates a day in the S3 layout (bench/generate.py) and its inventory as AWS CLI JSON
(bench/inventory.py), then times `flowlens run` over it, the whole batch in one process (ingest →
inventory → analyze → recommend → report), `--repeat` times from an empty data directory, and
prints each stage's seconds (from the run's own `--json` summary), the whole command's wall time,
user+sys CPU seconds and the peak RSS of its process tree, best/median/worst, with the load
average around each run. Issue 15's target: the 20M-record day in <= 240 s on 2 cores, every
stage's peak RSS <= 2.5 GB (the process's peak bounds every stage's).

`--stages` instead runs each stage as its own `flowlens` command (ingest, inventory, analyze,
recommend, report), so each stage's peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

from bench.generate import generate_day
from bench.inventory import write_inventory
from bench.measure import Measured, measure

DAY = date(2026, 11, 28)
TAKEN_AT = "2026-11-29T00:05:00Z"  # after the window: the snapshot judges the whole day
TARGET_SECONDS = 240.0
TARGET_RSS = 2.5e9
STAGE_NAMES = ("ingest", "inventory", "analyze", "recommend", "report")


def run_cmd(work: Path, memory_limit: str) -> list[str]:
    """`flowlens run` over the generated day, its summary as JSON on stdout."""
    return [
        sys.executable,
        "-m",
        "flowlens",
        "run",
        str(work / "src"),
        "--date",
        DAY.isoformat(),
        "--inventory",
        str(work / "inventory"),
        "--taken-at",
        TAKEN_AT,
        "--out",
        str(work / "out"),
        "--memory-limit",
        memory_limit,
        "--data-dir",
        str(work / "data"),
        "--json",
        "-q",
    ]


def stage_cmds(work: Path, memory_limit: str) -> list[tuple[str, list[str]]]:
    """The same batch as one `flowlens` command per stage."""
    exe = [sys.executable, "-m", "flowlens"]
    common = ["--data-dir", str(work / "data"), "-q"]
    d = ["--date", DAY.isoformat()]
    plan = str(work / "out" / "plan.json")
    inventory = ["--from-json", str(work / "inventory"), "--taken-at", TAKEN_AT]
    return [
        ("ingest", [*exe, "ingest", str(work / "src"), *d, *common]),
        ("inventory", [*exe, "inventory", *inventory, *common]),
        ("analyze", [*exe, "analyze", *d, "--memory-limit", memory_limit, *common]),
        ("recommend", [*exe, "recommend", *d, "--format", "json", "--out", plan, *common]),
        ("report", [*exe, "report", *d, "--plan", plan, "--out", str(work / "out"), *common]),
    ]


def _fresh(work: Path) -> None:
    for sub in ("data", "out"):
        shutil.rmtree(work / sub, ignore_errors=True)
    (work / "out").mkdir(parents=True)


def _load() -> float:
    return os.getloadavg()[0]


def time_run(work: Path, memory_limit: str) -> tuple[Measured, dict[str, float]]:
    """One `flowlens run` from an empty data directory: the measurement and the stage seconds."""
    _fresh(work)
    with tempfile.TemporaryFile("w+") as out:
        m = measure(run_cmd(work, memory_limit), stdout=out)
        out.seek(0)
        summary = json.load(out)
    seconds = {s["name"]: float(s["seconds"] or 0.0) for s in summary["stages"]}
    return m, seconds


def _spread(values: list[float]) -> str:
    return (
        f"best {min(values):.1f}, median {statistics.median(values):.1f}, worst {max(values):.1f}"
    )


def bench_run(work: Path, records: int, memory_limit: str, repeat: int) -> int:
    runs: list[tuple[Measured, dict[str, float]]] = []
    for i in range(repeat):
        before = _load()
        m, stages = time_run(work, memory_limit)
        runs.append((m, stages))
        per_stage = ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
        print(
            f"run {i + 1}: {m.seconds:.1f} s wall, {m.cpu_seconds:.1f} CPU-s, peak RSS "
            f"{m.peak_rss / 2**20:,.0f} MiB ({per_stage}); load average {before:.1f} -> "
            f"{_load():.1f}",
            flush=True,
        )
    walls = [m.seconds for m, _ in runs]
    print(f"records    {records:,}")
    for name in STAGE_NAMES:
        values = [s.get(name, 0.0) for _, s in runs]
        print(f"{name:<10} {_spread(values)} s")
    print(
        f"total      {_spread(walls)} s  ({records / statistics.median(walls):,.0f} records/s; "
        f"target <= {TARGET_SECONDS:.0f} s)"
    )
    print(f"CPU        {_spread([m.cpu_seconds for m, _ in runs])} CPU-s")
    peak = max(m.peak_rss for m, _ in runs)
    print(f"peak RSS   {peak / 2**20:,.0f} MiB  (target <= {TARGET_RSS / 2**20:,.0f} MiB)")
    return 0


def bench_stages(work: Path, records: int, memory_limit: str) -> int:
    _fresh(work)
    total = cpu = 0.0
    peak_all = 0
    for name, cmd in stage_cmds(work, memory_limit):
        before = _load()
        m = measure(cmd)
        total, cpu, peak_all = total + m.seconds, cpu + m.cpu_seconds, max(peak_all, m.peak_rss)
        rate = f"{records / m.seconds:12,.0f} records/s" if name in ("ingest", "analyze") else ""
        print(
            f"{name:<10} {m.seconds:8.2f} s  {m.cpu_seconds:8.1f} CPU-s  {rate:<22}  peak RSS "
            f"{m.peak_rss / 2**20:7,.0f} MiB  load {before:.1f} -> {_load():.1f}",
            flush=True,
        )
    print(
        f"{'total':<10} {total:8.2f} s  {cpu:8.1f} CPU-s  {records / total:12,.0f} records/s  "
        f"peak RSS {peak_all / 2**20:7,.0f} MiB"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--workdir", default="/tmp/flowlens-bench-run")
    p.add_argument(
        "--memory-limit", default="2GB", help="DuckDB memory limit for analyze (default 2GB)"
    )
    p.add_argument("--repeat", type=int, default=1, help="time the batch this many times")
    p.add_argument(
        "--stages", action="store_true", help="one process per stage (each stage's own peak RSS)"
    )
    p.add_argument(
        "--reuse",
        action="store_true",
        help="keep the generated day of an earlier run (same --records)",
    )
    args = p.parse_args(argv)
    work = Path(args.workdir)
    if not (args.reuse and (work / "src").is_dir()):
        shutil.rmtree(work, ignore_errors=True)
        gen = generate_day(work / "src", args.records, DAY, seed=1)
        print(
            f"generated {gen.records:,} records in {gen.files} files "
            f"({gen.bytes / 1e6:.0f} MB gzip)",
            flush=True,
        )
    write_inventory(work / "inventory")
    print(f"{os.cpu_count()} cores, load average {_load():.1f}", flush=True)
    if args.stages:
        return bench_stages(work, args.records, args.memory_limit)
    return bench_run(work, args.records, args.memory_limit, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
