"""Ingest benchmark: flowlens ingest vs DuckDB's read_csv → zstd Parquet, same files, same run.

    python -m bench.bench_ingest --records 1000000 [--workdir /tmp/flowlens-bench] [--workers 2]

Each contender runs in its own subprocess so its peak RSS (psutil, sampled) is its own.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import date
from pathlib import Path

from bench.generate import CUSTOM_FIELDS, DEFAULT_FIELDS, generate_day
from bench.measure import measure

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


def _measure(cmd: list[str]) -> tuple[float, int]:
    m = measure(cmd)
    return m.seconds, m.peak_rss


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
    args = p.parse_args(argv)
    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    day = date(2026, 11, 28)
    gen = generate_day(work / "src", args.records, day, seed=args.seed, shards=args.shards)
    print(
        f"generated {gen.records:,} records in {gen.files} files: {gen.bytes / 1e6:.1f} MB gzip, "
        f"{gen.text_bytes / 1e6:.1f} MB text"
    )
    fields = [
        ("*fl-0default*.log.gz", _columns(DEFAULT_FIELDS)),
        ("*fl-0custom*.log.gz", _columns(CUSTOM_FIELDS)),
    ]
    runs = []
    for _ in range(args.repeat):
        shutil.rmtree(work / "duck", ignore_errors=True)
        shutil.rmtree(work / "flowlens", ignore_errors=True)
        (work / "duck").mkdir()
        duck = _measure(
            [sys.executable, "-c", _DUCK, str(work / "src"), str(work / "duck"), json.dumps(fields)]
        )
        fl = _measure(
            [
                sys.executable,
                "-c",
                "import sys; from flowlens.cli import main; sys.exit(main())",
                "ingest",
                str(work / "src"),
                "--date",
                day.isoformat(),
                "--data-dir",
                str(work / "flowlens"),
                "--workers",
                str(args.workers),
                "-q",
                "--json",
            ]
        )
        runs.append((fl, duck))
        for name, (secs, rss) in (("flowlens ingest", fl), ("duckdb read_csv", duck)):
            print(
                f"{name:16} {secs:8.2f} s  {gen.records / secs:12,.0f} records/s  "
                f"{gen.bytes / 1e6 / secs:7.1f} MB/s (gzip)  peak RSS {rss / 2**20:7.0f} MiB"
            )
        print(f"time ratio flowlens/duckdb = {fl[0] / duck[0]:.2f} (target <= 1.0)", flush=True)
    if len(runs) > 1:
        ratios = sorted(f[0] / d[0] for f, d in runs)
        print(
            f"ratios over {len(runs)} runs: best {ratios[0]:.2f}, median "
            f"{ratios[len(ratios) // 2]:.2f}, worst {ratios[-1]:.2f}; best flowlens "
            f"{min(f[0] for f, _ in runs):.2f} s, best duckdb {min(d[0] for _, d in runs):.2f} s, "
            f"peak RSS flowlens {max(f[1] for f, _ in runs) / 2**20:.0f} MiB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
