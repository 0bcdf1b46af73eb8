"""Benchmark: `analyze` + `recommend` over a multi-day window, one snapshot per day vs one snapshot.

    python -m bench.bench_time --days 14 --records 2000000 \\
        --work-dir /tmp/flowlens-bench-time [--repeat 3] [--reuse]

Generates ``--days`` days of ``--records`` records each in the S3 layout (bench/generate.py) and
their inventory as AWS CLI JSON (bench/inventory.py: the same world every day), ingests the window
once, then times `flowlens analyze` and `flowlens recommend` over the whole window, each as its own
subprocess, in data dirs that share the ingested flows (``flows/`` is a symlink) and differ only in
their inventory:

  (a) one snapshot, taken one hour before the window;
  (b) one snapshot per day, each an hour before its day (``--taken-at``), the world unchanged;
  (c) as (b), with churn: on a few days one instance is replaced by an identical one (new ENI id,
      new address, same groups), the instance refresh an Auto Scaling group does.

The target (issue 12): (b) / (a) <= 1.5. Prints per-stage wall time, records/s, peak RSS and CPU
seconds (user + sys: less sensitive to a busy machine than wall time), and the load average before
and after each run. ``--repeat N`` runs a, b, c N times interleaved and prints the best, median and
worst ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.generate import generate_day
from bench.inventory import write_inventory
from bench.measure import measure

FIRST_DAY = date(2026, 11, 1)
#: Instances variant (c) replaces, one each at a quarter, half and three quarters of the window.
CHURN_ENIS = (5, 11, 20)


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _snapshot_times(days: list[date]) -> list[datetime]:
    """One hour before each day of the window."""
    return [datetime(d.year, d.month, d.day, tzinfo=UTC) - timedelta(hours=1) for d in days]


def _churned_inventory(base: Path, out: Path, replaced: list[int]) -> Path:
    """``base``'s JSON with the ENIs in ``replaced`` swapped for identical
    ones (new id, new address)."""
    shutil.copytree(base, out, dirs_exist_ok=True)
    path = out / "describe-network-interfaces.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    for eni in doc["NetworkInterfaces"]:
        i = int(eni["NetworkInterfaceId"].removeprefix("eni-0a1b2c3d4e5f6")) - 1000
        if i in replaced:
            addr = f"10.0.{i % 3}.{200 + i}"
            eni["NetworkInterfaceId"] = f"eni-0feedbeef{i:08d}"
            eni["Attachment"]["InstanceId"] = f"i-0new{i}"
            eni["PrivateIpAddress"] = addr
            eni["PrivateIpAddresses"] = [{"PrivateIpAddress": addr, "Primary": True}]
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return out


def _run(cmd: list[str]) -> None:
    """Run a set-up command; its stderr (the expected warnings about tables absent from
    the JSON) only on failure."""
    proc = subprocess.run(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False
    )
    if proc.returncode:
        raise SystemExit(
            f"{' '.join(cmd[2:5])} failed with exit code {proc.returncode}:\n{proc.stderr}"
        )


def prepare(work: Path, days: list[date], records: int, reuse: bool) -> None:
    """Generate and ingest the window once (kept with --reuse), then build
    each variant's data dir."""
    exe = [sys.executable, "-m", "flowlens"]
    shared = work / "shared"
    marker = shared / f"ingested-{len(days)}x{records}"
    if not (reuse and marker.exists()):
        shutil.rmtree(work, ignore_errors=True)
        t0 = time.perf_counter()
        for i, d in enumerate(days):
            generate_day(work / "src", records, d, seed=1 + i)
        print(
            f"generated {len(days)} x {records:,} records in {time.perf_counter() - t0:.0f}s",
            file=sys.stderr,
        )
        m = measure(
            [
                *exe,
                "ingest",
                str(work / "src"),
                "--start",
                days[0].isoformat(),
                "--end",
                days[-1].isoformat(),
                "--data-dir",
                str(shared),
                "-q",
            ]
        )
        print(
            f"ingest   {m.seconds:8.1f} s  {len(days) * records / m.seconds:10,.0f} records/s  "
            f"peak RSS {m.peak_rss / 2**20:5.0f} MiB  CPU {m.cpu_seconds:.1f} s",
            file=sys.stderr,
        )
        marker.touch()
    base_json = write_inventory(work / "inventory-json")
    times = _snapshot_times(days)
    plans: dict[str, list[tuple[datetime, Path]]] = {
        "a": [(times[0], base_json)],
        "b": [(t, base_json) for t in times],
        "c": [],
    }
    churn = {len(days) * (j + 1) // 4: eni for j, eni in enumerate(CHURN_ENIS)}
    replaced: list[int] = []
    for k, t in enumerate(times):
        replaced += [churn[k]] if k in churn and k > 0 else []
        src = (
            _churned_inventory(base_json, work / f"inventory-json-c{k}", replaced)
            if replaced
            else base_json
        )
        plans["c"].append((t, src))
    for name, snaps in plans.items():
        dd = work / name
        shutil.rmtree(dd, ignore_errors=True)
        dd.mkdir(parents=True)
        (dd / "flows").symlink_to(shared / "flows")
        for extra in ("ingest_manifest.parquet",):
            if (shared / extra).exists():
                shutil.copy2(shared / extra, dd / extra)
        for t, src in snaps:
            _run(
                [
                    *exe,
                    "inventory",
                    "--from-json",
                    str(src),
                    "--taken-at",
                    _stamp(t),
                    "--data-dir",
                    str(dd),
                    "-q",
                ]
            )


def stages(
    work: Path, name: str, days: list[date], memory_limit: str
) -> list[tuple[str, list[str]]]:
    exe = [sys.executable, "-m", "flowlens"]
    common = ["--data-dir", str(work / name), "-q"]
    window = ["--start", days[0].isoformat(), "--end", days[-1].isoformat()]
    return [
        ("analyze", [*exe, "analyze", *window, "--memory-limit", memory_limit, *common]),
        (
            "recommend",
            [
                *exe,
                "recommend",
                *window,
                "--format",
                "json",
                "--out",
                str(work / name / "plan.json"),
                *common,
            ],
        ),
    ]


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--days", type=int, default=14)
    p.add_argument("--records", type=int, default=2_000_000, help="records per day")
    p.add_argument(
        "--repeat", type=int, default=1, help="run a, b and c this many times, interleaved"
    )
    p.add_argument(
        "--reuse",
        action="store_true",
        help="keep the generated and ingested window of an earlier run (same --days/--records)",
    )
    p.add_argument("--work-dir", default="/tmp/flowlens-bench-time")
    p.add_argument(
        "--memory-limit", default="1GB", help="DuckDB memory limit for analyze (default 1GB)"
    )
    p.add_argument("--no-churn", action="store_true", help="skip variant (c)")
    args = p.parse_args(argv)
    work = Path(args.work_dir)
    days = [FIRST_DAY + timedelta(days=i) for i in range(args.days)]
    prepare(work, days, args.records, args.reuse)
    variants = ["a", "b"] if args.no_churn else ["a", "b", "c"]
    n = args.days * args.records
    totals: dict[str, list[float]] = {v: [] for v in variants}
    cpus: dict[str, list[float]] = {v: [] for v in variants}
    for rep in range(args.repeat):
        for v in variants:
            load_before = _load()
            parts = []
            for stage, cmd in stages(work, v, days, args.memory_limit):
                m = measure(cmd)
                parts.append((stage, m))
            total = sum(m.seconds for _, m in parts)
            totals[v].append(total)
            cpus[v].append(sum(m.cpu_seconds for _, m in parts))
            line = "  ".join(
                f"{s} {m.seconds:6.1f}s cpu {m.cpu_seconds:5.1f}s rss {m.peak_rss / 2**20:4.0f}MiB"
                for s, m in parts
            )
            print(
                f"run {rep + 1} ({v}): {line}  total {total:6.1f}s ({n / total:,.0f} records/s)  "
                f"load {load_before} -> {_load()}"
            )
    print(
        f"window     {args.days} days x {args.records:,} records = {n:,} records; snapshots a=1, "
        f"b={args.days}, c={args.days} with {len(CHURN_ENIS)} instance replacements"
    )
    for v in variants:
        ts = sorted(totals[v])
        print(
            f"({v}) total  best {ts[0]:.1f}s, median {statistics.median(ts):.1f}s, worst "
            f"{ts[-1]:.1f}s  ({n / ts[0]:,.0f} records/s; CPU best {min(cpus[v]):.1f}s)"
        )
    for v in variants[1:]:
        ratios = sorted(b / a for b, a in zip(totals[v], totals["a"], strict=True))
        cpu_ratios = sorted(b / a for b, a in zip(cpus[v], cpus["a"], strict=True))
        print(
            f"ratio ({v})/(a)  wall best {ratios[0]:.2f}x, median "
            f"{statistics.median(ratios):.2f}x, worst {ratios[-1]:.2f}x; CPU best "
            f"{cpu_ratios[0]:.2f}x, median {statistics.median(cpu_ratios):.2f}x  (target <= 1.5x)"
        )
    print(f"load average now {_load()} (1/5/15 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
