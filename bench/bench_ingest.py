"""Ingest benchmark: flowlens ingest vs DuckDB's read_csv → zstd Parquet, same files, same run.

    python -m bench.bench_ingest --records 1000000 [--workdir /tmp/flowlens-bench] [--workers 2]

Each contender runs in its own subprocess so its peak RSS (psutil, sampled) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path

from bench.generate import CUSTOM_FIELDS, DEFAULT_FIELDS, GeneratedDay, generate_day
from bench.measure import Measured, measure

_TYPES = {
    "version": "INTEGER",
    "srcport": "INTEGER",
    "dstport": "INTEGER",
    "protocol": "INTEGER",
    "packets": "BIGINT",
    "bytes": "BIGINT",
    "start": "BIGINT",
    "end": "BIGINT",
    "tcp-flags": "INTEGER",
    "traffic-path": "INTEGER",
}

_DUCK = """
import duckdb, sys, json
src, out, fields = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
con = duckdb.connect()
con.execute("SET threads = 2")
for i, (glob, cols) in enumerate(fields):
    spec = "{" + ", ".join(f"'{c}': '{t}'" for c, t in cols) + "}"
    con.execute(f"COPY (SELECT * FROM read_csv('{src}/**/{glob}', delim=' ', header=true, "
                f"nullstr='-', columns={spec})) "
                f"TO '{out}/part{i}.parquet' (FORMAT parquet, COMPRESSION zstd)")
"""


def _columns(fields: str) -> list[tuple[str, str]]:
    return [(f, _TYPES.get(f, "VARCHAR")) for f in fields.split()]


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _ingest_cmd(checkout: str, work: Path, day: date, workers: int) -> list[str]:
    """``flowlens ingest`` of this checkout, or of ``checkout`` (put first on sys.path)."""
    first = f"sys.path.insert(0, {checkout!r}); " if checkout else ""
    return [
        sys.executable,
        "-c",
        f"import sys; {first}from flowlens.cli import main; sys.exit(main())",
        "ingest",
        str(work / "src"),
        "--date",
        day.isoformat(),
        "--data-dir",
        str(work / "flowlens"),
        "--workers",
        str(workers),
        "-q",
        "--json",
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--workdir", default="/tmp/flowlens-bench")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--shards",
        type=int,
        default=1,
        help="files per flow log per 5-minute period: 1 = realistic, e.g. 16 = many small files",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure both contenders this many times (interleaved)",
    )
    p.add_argument(
        "--reuse",
        action="store_true",
        help="keep the day generated under --workdir by an earlier run with the same options",
    )
    p.add_argument(
        "--compare",
        metavar="CHECKOUT",
        help="also time the flowlens of another checkout (e.g. a worktree of main), interleaved",
    )
    args = p.parse_args(argv)
    work = Path(args.workdir)
    day = date(2026, 11, 28)
    info = work / "generated.json"
    wanted = {"records": args.records, "seed": args.seed, "shards": args.shards}
    if args.reuse and info.exists() and json.loads(info.read_text())["options"] == wanted:
        gen = GeneratedDay(**json.loads(info.read_text())["day"])
    else:
        shutil.rmtree(work, ignore_errors=True)
        gen = generate_day(work / "src", args.records, day, seed=args.seed, shards=args.shards)
        info.write_text(json.dumps({"options": wanted, "day": asdict(gen)}))
    print(
        f"generated {gen.records:,} records in {gen.files} files: "
        f"{gen.bytes / 1e6:.1f} MB gzip, {gen.text_bytes / 1e6:.1f} MB text"
    )
    fields = [
        ("*fl-0default*.log.gz", _columns(DEFAULT_FIELDS)),
        ("*fl-0custom*.log.gz", _columns(CUSTOM_FIELDS)),
    ]
    contenders = {"flowlens": ""}
    if args.compare:
        contenders["compared"] = str(Path(args.compare).resolve())
    runs: list[dict[str, Measured]] = []
    for _ in range(args.repeat):
        shutil.rmtree(work / "duck", ignore_errors=True)
        (work / "duck").mkdir()
        load_before = _load()
        run = {
            "duckdb": measure(
                [
                    sys.executable,
                    "-c",
                    _DUCK,
                    str(work / "src"),
                    str(work / "duck"),
                    json.dumps(fields),
                ]
            )
        }
        for name, checkout in contenders.items():
            shutil.rmtree(work / "flowlens", ignore_errors=True)
            run[name] = measure(_ingest_cmd(checkout, work, day, args.workers))
        runs.append(run)
        duck = run["duckdb"]
        for name, m in run.items():
            print(
                f"{name:10} {m.seconds:8.2f} s  {gen.records / m.seconds:12,.0f} records/s  "
                f"{gen.bytes / 1e6 / m.seconds:7.1f} MB/s (gzip)  "
                f"CPU {m.cpu_seconds:6.2f} s  peak RSS {m.peak_rss / 2**20:7.0f} MiB"
            )
        for name in contenders:
            print(
                f"{name}/duckdb: time ratio {run[name].seconds / duck.seconds:.2f} "
                f"(target <= 0.8), CPU ratio {run[name].cpu_seconds / duck.cpu_seconds:.2f}"
            )
        print(f"load average {load_before} before, {_load()} after", flush=True)
    if len(runs) > 1:
        for name in contenders:
            ratios = sorted(r[name].seconds / r["duckdb"].seconds for r in runs)
            cpu = sorted(r[name].cpu_seconds / r["duckdb"].cpu_seconds for r in runs)
            print(
                f"{name}/duckdb over {len(runs)} runs: best {ratios[0]:.2f}, "
                f"median {ratios[len(ratios) // 2]:.2f}, worst {ratios[-1]:.2f} "
                f"(CPU {cpu[0]:.2f} / {cpu[len(cpu) // 2]:.2f} / {cpu[-1]:.2f}); "
                f"best {name} {min(r[name].seconds for r in runs):.2f} s, "
                f"best duckdb {min(r['duckdb'].seconds for r in runs):.2f} s, "
                f"peak RSS {name} {max(r[name].peak_rss for r in runs) / 2**20:.0f} MiB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
