"""Benchmark: writing one results table to Parquet, the analysis's writer options against others.

    .venv/bin/python -m bench.bench_write --db /tmp/steps.duckdb --table conversations \\
        --repeat 5 [--columns]

Reads ``--table`` from a DuckDB file of saved step outputs (``bench.bench_steps`` makes one: run
it with ``--steps 50_conversations``), casts it to the results contract's types as the analysis
does, and writes it with each option set of :data:`OPTIONS`, interleaved ``--repeat`` times, each
in a fresh connection (memory_limit and threads as analyze's). Prints per option set the CPU
seconds (process_time: the COPY is the process's only work), wall time and file size, and at the
end the minimum and median CPU seconds. ``--columns`` also times each column written alone with
the analysis's options (where a table's write cost goes).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import duckdb

from bench.bench_steps import attach
from flowlens.model.results import RESULT_SCHEMAS
from flowlens.model.tables import duck_type

#: the analysis's options first (flowlens/engines/duckdb_engine.py), then the alternatives tried
OPTIONS: dict[str, str] = {
    "zstd 1 (analysis)": "COMPRESSION zstd, COMPRESSION_LEVEL 1",
    "zstd 1, no bloom filters": "COMPRESSION zstd, COMPRESSION_LEVEL 1, WRITE_BLOOM_FILTER false",
    "zstd 1, V2 pages": "COMPRESSION zstd, COMPRESSION_LEVEL 1, PARQUET_VERSION V2",
    "snappy": "COMPRESSION snappy",
    "lz4": "COMPRESSION lz4_raw",
    "uncompressed": "COMPRESSION uncompressed",
    "zstd 1, 1M-row groups": "COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 1000000",
}


def _connect(db: Path, table: str, memory_limit: str, threads: int) -> duckdb.DuckDBPyConnection:
    con = attach(db, memory_limit, threads)
    con.execute(f"CREATE TEMP TABLE written AS SELECT * FROM dump.{table}")
    return con


def _select(con: duckdb.DuckDBPyConnection, table: str, columns: list[str] | None = None) -> str:
    """The analysis's write query: every column, those of the contract cast to its types."""
    types = {f.name: f.type for f in RESULT_SCHEMAS[table]}
    names = columns or [str(r[0]) for r in con.execute("DESCRIBE written").fetchall()]
    cols = [
        f'CAST("{c}" AS {duck_type(types[c])}) AS "{c}"' if c in types else f'"{c}"' for c in names
    ]
    return f"SELECT {', '.join(cols)} FROM written"


def write_once(con: duckdb.DuckDBPyConnection, select: str, options: str, out: Path) -> float:
    """CPU seconds of one COPY of ``select`` to ``out``."""
    cpu = time.process_time()
    con.execute(f"COPY ({select}) TO '{out}' (FORMAT parquet, {options})")
    return time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", type=Path, required=True, help="bench_steps' DuckDB file")
    ap.add_argument("--table", default="conversations", choices=sorted(RESULT_SCHEMAS))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench-write.parquet"))
    ap.add_argument("--columns", action="store_true", help="also each column written alone")
    args = ap.parse_args(argv)
    cpu: dict[str, list[float]] = {name: [] for name in OPTIONS}
    for r in range(args.repeat):
        for name, options in OPTIONS.items():
            con = _connect(args.db, args.table, args.memory_limit, args.threads)
            try:
                wall = time.monotonic()
                cpu[name].append(write_once(con, _select(con, args.table), options, args.out))
                wall = time.monotonic() - wall
            finally:
                con.close()
            print(
                f"run {r + 1} {name}: {cpu[name][-1]:.2f} CPU-s ({wall:.2f} s, "
                f"{args.out.stat().st_size / 1e6:.1f} MB); load average {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
            )
    for name, values in cpu.items():
        print(f"{name}: min {min(values):.2f}, median {statistics.median(values):.2f} CPU-s")
    if args.columns:
        con = _connect(args.db, args.table, args.memory_limit, args.threads)
        try:
            names = [str(r[0]) for r in con.execute("DESCRIBE written").fetchall()]
            first = next(iter(OPTIONS.values()))
            for c in names:
                best = min(
                    write_once(con, _select(con, args.table, [c]), first, args.out)
                    for _ in range(3)
                )
                print(f"column {c}: {best:.3f} CPU-s")
        finally:
            con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
