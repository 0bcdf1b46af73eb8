"""Benchmark: analysis steps A/B: each step's SQL of two source trees, each on its own inputs.

    .venv/bin/python -m bench.bench_steps --data /tmp/fl-4m/data --db /tmp/steps.duckdb \\
        --compare /path/to/a/checkout/of/main --steps 10_eni_flows 30_conversation_sides

First (once, or again with --refresh) runs each tree's own analysis up to the last step named,
in its own process with the analysis's settings, and keeps every table it made or registered in
a DuckDB file (--db for this tree, --db with .1, .2, ... before the suffix for each --compare
tree; the day's flows included), so each tree's step reads the inputs that tree's earlier steps
make. Then, for --repeat rounds, runs each named step's SQL file of each tree, alternately, in a
fresh connection over its tables (memory_limit and threads as analyze's, insertion order not
preserved), and prints its CPU seconds (process_time: the step is the process's only work), wall
time and the load average. Compare the outputs with EXCEPT ALL by hand: the step leaves none.

The steps read ``flows`` from the data directory's Parquet, as analyze does, not from the copy in
the DuckDB file: a DuckDB table carries statistics the Parquet scan has not (the value ranges and
the row count), and DuckDB plans on them. On the 4M day it sums the records pass's BIGINT columns
with ``sum_no_overflow`` over the copy but with ``sum`` over the Parquet, so a step timed over
the copy is not the step analyze runs (bench/README.md). ``--flows-from-db`` times over the copy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from flowlens.analyze import pipeline
from flowlens.datadir import DataDir
from flowlens.engines.duckdb_engine import DuckDBEngine
from flowlens.engines.factory import open_engine
from flowlens.inventory.timeline import FAR_FUTURE, FAR_PAST, load_timeline
from flowlens.model.tables import duckdb_select, flow_sources
from flowlens.model.window import Window

DAY = date(2026, 11, 28)


def _params(day: date) -> dict[str, object]:
    window = Window.day(day)
    return {
        "day": day,
        "window_start": window.start,
        "window_end": window.end,
        "lookback_start": day - timedelta(days=7),
        "far_past": FAR_PAST,
        "far_future": FAR_FUTURE,
    }


def dump(data: Path, db: Path, last: str, day: date, memory_limit: str, threads: int) -> None:
    """Run the analysis steps up to ``last`` and copy every table and view into ``db``."""
    dd = DataDir(data)
    eng = open_engine("duckdb", dd, memory_limit=memory_limit, threads=threads)
    window = Window.day(day)
    pipeline._register_inputs(
        eng, dd, load_timeline(dd, window.start, window.end), window.start, window.end
    )
    con = eng.con  # type: ignore[attr-defined]
    part = db.with_name(db.name + ".part")  # renamed when complete: a failed run leaves no db
    part.unlink(missing_ok=True)
    con.execute(f"ATTACH '{part}' AS dump")
    for step in pipeline.STEPS:
        eng.run_step(pipeline.step_table(step), pipeline.step_query(step), _params(day))
        if step == "15_flow_addresses":
            pipeline._register_addr_keys(eng)
        if step == last:
            break
    names = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'temp' UNION "
        "SELECT view_name FROM duckdb_views() WHERE database_name = 'temp' AND NOT internal"
    ).fetchall()
    for (name,) in names:
        where = " WHERE date = $day" if name == "flows" else ""
        con.execute(
            f"CREATE TABLE dump.{name} AS SELECT * FROM {name}{where}",
            {"day": day} if where else {},
        )
    con.execute("DETACH dump")
    eng.close()
    part.replace(db)


def flows_view(data: Path) -> str:
    """The SELECT analyze registers ``flows`` as: the data directory's Parquet."""
    (flows,) = [s for s in flow_sources(DataDir(data)) if s.name == "flows"]
    return duckdb_select(flows)


def attach(db: Path, memory_limit: str, threads: int) -> duckdb.DuckDBPyConnection:
    """A fresh connection with ``db`` attached read-only as ``dump``, analyze's settings."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{db}' AS dump (READ_ONLY)")
    con.execute(
        f"SET memory_limit = '{memory_limit}'; SET threads = {threads}; "
        "SET preserve_insertion_order = false; SET enable_progress_bar = false"
    )
    return con


def time_sql(con: duckdb.DuckDBPyConnection, sql: str, day: date) -> tuple[float, float, int]:
    """``sql`` (a step's SELECT) materialised once on ``con``: (CPU seconds, wall seconds, rows).
    FLOW_SUM is bound as analyze binds it for the day (that scan untimed)."""
    if "FLOW_SUM(" in sql.upper():
        DuckDBEngine(con, owned=False).fit_sums(day)
    params = {k: v for k, v in _params(day).items() if f"${k}" in sql}
    cpu, wall = time.process_time(), time.monotonic()
    con.execute(f"CREATE TEMP TABLE step_out AS {sql}", params)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    row = con.execute("SELECT COUNT(*) FROM temp.step_out").fetchone()
    return cpu, wall, int(row[0]) if row else 0


def run_step(
    db: Path,
    sql_file: Path,
    day: date,
    memory_limit: str,
    threads: int,
    flows_sql: str | None = None,
) -> tuple[float, float, int]:
    """One step's SQL over the tables in ``db`` (``flows`` as ``flows_sql`` when given, a temp
    view in front of the copy): (CPU seconds, wall seconds, rows)."""
    con = attach(db, memory_limit, threads)
    try:
        con.execute("SET search_path = 'dump.main'")
        if flows_sql is not None:
            con.execute(f"CREATE TEMP VIEW flows AS {flows_sql}")
        return time_sql(con, sql_file.read_text(), day)
    finally:
        con.close()


def _tree_db(db: Path, n: int) -> Path:
    return db if n == 0 else db.with_name(f"{db.stem}.{n}{db.suffix}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, required=True, help="the data directory of the day")
    ap.add_argument("--db", type=Path, required=True, help="DuckDB file for this tree's inputs")
    ap.add_argument("--steps", nargs="+", required=True, help="e.g. 30_conversation_sides")
    ap.add_argument("--compare", type=Path, action="append", default=[], help="a source tree")
    ap.add_argument("--day", type=date.fromisoformat, default=DAY)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--refresh", action="store_true", help="rebuild the inputs even if kept")
    ap.add_argument(
        "--flows-from-db",
        action="store_true",
        help="read flows from the DuckDB copy, not the data directory's Parquet",
    )
    ap.add_argument("--dump-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    unknown = [s for s in args.steps if s not in pipeline.STEPS]
    if unknown:
        ap.error(f"not analysis steps: {unknown}")
    last = max(args.steps, key=pipeline.STEPS.index)
    if args.dump_only:  # the child process of one tree: its own flowlens first on sys.path
        dump(args.data, args.db, last, args.day, args.memory_limit, args.threads)
        return 0
    here = Path(__file__).resolve().parent.parent
    trees = {"this tree": here, **{str(t): t.resolve() for t in args.compare}}
    for n, tree in enumerate(trees.values()):
        db = _tree_db(args.db, n)
        if args.refresh or not db.exists():
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--dump-only",
                "--data",
                str(args.data.resolve()),
                "--db",
                str(db.resolve()),
                "--steps",
                last,
                "--day",
                args.day.isoformat(),
                "--memory-limit",
                args.memory_limit,
                "--threads",
                str(args.threads),
            ]
            env = {**os.environ, "PYTHONPATH": str(tree)}
            subprocess.run(cmd, env=env, cwd=str(tree), check=True)
    flows_sql = None if args.flows_from_db else flows_view(args.data.resolve())
    for r in range(args.repeat):
        for step in args.steps:
            line = f"run {r + 1} {step}:"
            for n, (name, tree) in enumerate(trees.items()):
                cpu, wall, rows = run_step(
                    _tree_db(args.db, n),
                    tree / "sql" / "analyze" / f"{step}.sql",
                    args.day,
                    args.memory_limit,
                    args.threads,
                    flows_sql,
                )
                line += f" {name} {cpu:.2f} CPU-s ({wall:.2f} s, {rows:,} rows);"
            print(f"{line} load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
