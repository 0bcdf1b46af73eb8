"""The nightly batch end to end on a generated day: wall time and peak RSS per stage.

    python -m bench.bench_run --records 20000000 --workdir /tmp/flowlens-bench-run [--reuse]

Generates a day in the S3 layout (bench/generate.py) and its inventory as AWS CLI JSON
(bench/inventory.py), then runs each stage of `flowlens run` as its own `flowlens` command in a
subprocess (so each stage's peak RSS is its own): ingest, inventory, analyze, recommend, report.
The target (issue 6): peak RSS under 2 GiB for every stage on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import date
from pathlib import Path

from bench.bench_ingest import _measure
from bench.generate import generate_day
from bench.inventory import write_inventory

DAY = date(2026, 11, 28)


def stages(work: Path, memory_limit: str) -> list[tuple[str, list[str]]]:
    exe = [sys.executable, "-m", "flowlens"]
    common = ["--data-dir", str(work / "data"), "-q"]
    d = ["--date", DAY.isoformat()]
    return [
        ("ingest", [*exe, "ingest", str(work / "src"), *d, *common]),
        ("inventory", [*exe, "inventory", "--from-json", str(work / "inventory"), *common]),
        ("analyze", [*exe, "analyze", *d, "--memory-limit", memory_limit, *common]),
        (
            "recommend",
            [
                *exe,
                "recommend",
                *d,
                "--format",
                "json",
                "--out",
                str(work / "out" / "plan.json"),
                *common,
            ],
        ),
        (
            "report",
            [
                *exe,
                "report",
                *d,
                "--plan",
                str(work / "out" / "plan.json"),
                "--out",
                str(work / "out"),
                *common,
            ],
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--workdir", default="/tmp/flowlens-bench-run")
    p.add_argument(
        "--memory-limit", default="1GB", help="DuckDB memory limit for analyze (default 1GB)"
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
            f"({gen.bytes / 1e6:.0f} MB gzip)"
        )
    shutil.rmtree(work / "data", ignore_errors=True)
    shutil.rmtree(work / "out", ignore_errors=True)
    (work / "out").mkdir(parents=True)
    write_inventory(work / "inventory")
    total = 0.0
    peak_all = 0
    for name, cmd in stages(work, args.memory_limit):
        seconds, peak = _measure(cmd)
        total, peak_all = total + seconds, max(peak_all, peak)
        rate = (
            f"{args.records / seconds:12,.0f} records/s"
            if name in ("ingest", "analyze")
            else " " * 22
        )
        print(f"{name:<10} {seconds:8.2f} s  {rate}  peak RSS {peak / 2**20:7.0f} MiB")
    print(
        f"{'total':<10} {total:8.2f} s  {args.records / total:12,.0f} records/s  peak RSS "
        f"{peak_all / 2**20:7.0f} MiB  (target: every stage under 2048 MiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
