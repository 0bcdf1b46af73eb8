"""Benchmark: an analysis step (70_rejected) over the flows Parquet of data dirs, interleaved.

    .venv/bin/python -m bench.bench_steps --data /tmp/fl-4m/data --db /tmp/steps.duckdb \\
        --steps 70_rejected --repeat 1          # once: the step's other inputs
    .venv/bin/python -m bench.bench_layout --db /tmp/steps.duckdb \\
        --flows /tmp/fl-4m/data --flows /tmp/fl-4m-new/data --repeat 3 [--step 10_eni_flows]

Each --flows is a data dir holding the same day's flows, written by different ingests (e.g.
before and after the REJECT records got row groups of their own). Every run reads the step's
other inputs from --db (bench_steps' file) and the flows from that data dir's Parquet, through
the same SELECT the catalog's ``flows`` view runs, so the files' layout is what differs (--step:
another step, whose other inputs --db must hold). Prints each run's CPU seconds (process_time),
wall time and rows, and checks that every data dir gives the same rows (EXCEPT ALL both ways).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

import duckdb

from bench.bench_steps import DAY, attach, time_sql
from flowlens.datadir import DataDir
from flowlens.model.tables import catalog_sources, duckdb_select

SQL = Path(__file__).resolve().parent.parent / "sql" / "analyze"


def _connect(db: Path, data: Path, memory_limit: str, threads: int) -> duckdb.DuckDBPyConnection:
    """A connection reading ``db``'s tables, with ``flows`` over ``data``'s Parquet."""
    con = attach(db, memory_limit, threads)
    flows = next(s for s in catalog_sources(DataDir(data), None) if s.name == "flows")
    con.execute(f"CREATE VIEW memory.main.flows AS {duckdb_select(flows)}")
    names = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'dump' "
        "AND table_name <> 'flows'"
    ).fetchall()
    for (name,) in names:
        con.execute(f"CREATE VIEW memory.main.{name} AS SELECT * FROM dump.main.{name}")
    return con


def run(
    step: str, db: Path, data: Path, day: date, memory_limit: str, threads: int
) -> tuple[float, float, int]:
    """The step once: (CPU seconds, wall seconds, rows)."""
    con = _connect(db, data, memory_limit, threads)
    try:
        return time_sql(con, (SQL / f"{step}.sql").read_text(), day)
    finally:
        con.close()


def same_rows(step: str, db: Path, a: Path, b: Path, day: date) -> bool:
    """Whether the step gives the same rows (as a multiset) over ``a``'s and ``b``'s flows."""
    outs = []
    for data in (a, b):
        con = _connect(db, data, "2GB", 2)
        time_sql(con, (SQL / f"{step}.sql").read_text(), day)
        outs.append(con.sql("SELECT * FROM temp.step_out").to_arrow_table())
        con.close()
    con = duckdb.connect()
    con.register("x", outs[0])
    con.register("y", outs[1])
    diff = con.execute(
        "SELECT (SELECT COUNT(*) FROM (SELECT * FROM x EXCEPT ALL SELECT * FROM y)) + "
        "(SELECT COUNT(*) FROM (SELECT * FROM y EXCEPT ALL SELECT * FROM x))"
    ).fetchone()
    return diff is not None and diff[0] == 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", type=Path, required=True, help="bench_steps' inputs of 70_rejected")
    ap.add_argument("--flows", type=Path, action="append", required=True, help="a data dir")
    ap.add_argument("--step", default="70_rejected")
    ap.add_argument("--day", type=date.fromisoformat, default=DAY)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    for other in args.flows[1:]:
        same = same_rows(args.step, args.db, args.flows[0], other, args.day)
        print(f"{args.flows[0]} and {other}: same rows {same}", file=sys.stderr)
    for r in range(args.repeat):
        line = f"run {r + 1} {args.step}:"
        for data in args.flows:
            cpu, wall, rows = run(
                args.step, args.db, data, args.day, args.memory_limit, args.threads
            )
            line += f" {data} {cpu:.2f} CPU-s ({wall:.2f} s, {rows:,} rows);"
        print(f"{line} load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
