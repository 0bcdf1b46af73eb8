"""Benchmark: the floor of Spark local mode against DuckDB, below any analysis SQL.

    .venv/bin/python -m bench.bench_spark_floor --records 1000000,4000000 --cores 2 --repeat 3

On bench_engines' generated days (the same generator, the same Parquet), interleaved ``--repeat``
times in one run, with both engines on ``--cores`` threads:

* **the plain GROUP BY** of issue 15 (``interface_id, srcaddr, dstport, protocol, action``,
  ``COUNT(*)``, ``SUM(bytes)`` over the day's flows), materialised as each engine materialises a
  step: DuckDB a ``CREATE TABLE AS``, Spark a ``localCheckpoint()``. The slope between the two
  largest days is the marginal cost per record of reading and grouping the records, which no
  analysis on that engine can undercut;
* **the per-job cost**: ``--jobs`` trivial checkpointed jobs (``spark.range(10)``), then as many
  small steps shaped like the analysis's small ones (a join of two 1,000-row Parquet tables and a
  GROUP BY, checkpointed): the fixed cost every materialised step pays.

Wall and CPU seconds (this process plus Spark's JVM, from /proc) are printed for each, with the
load average: on a shared machine, only the CPU seconds and same-run ratios mean anything.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from bench.bench_engines import _cpu_of, _cpu_self, _generated_day, _load

GROUP_BY = (
    "SELECT interface_id, srcaddr, dstport, protocol, action, COUNT(*) AS records, "
    "SUM(bytes) AS bytes FROM flows GROUP BY interface_id, srcaddr, dstport, protocol, action"
)
SMALL_STEP = (
    "SELECT a.k, COUNT(*) AS n, MAX(b.v) AS v FROM small_a a JOIN small_b b ON a.k = b.k "
    "GROUP BY a.k"
)

Measure = tuple[float, float]  # wall seconds, CPU seconds


def _duck_group_by(files: list[Path], cores: int, memory: str) -> Measure:
    con = duckdb.connect(config={"threads": cores, "memory_limit": memory})
    try:
        paths = ", ".join(f"'{f}'" for f in files)
        con.execute(f"CREATE VIEW flows AS SELECT * FROM read_parquet([{paths}])")
        t0, c0 = time.monotonic(), _cpu_self()
        con.execute(f"CREATE TABLE g AS {GROUP_BY}")
        return time.monotonic() - t0, _cpu_self() - c0
    finally:
        con.close()


class _Spark:
    """A session with the engine's settings; each measurement's JVM + driver CPU seconds."""

    def __init__(self, cores: int, memory: str) -> None:
        from flowlens.engines.spark_engine import build_session

        self.session = build_session(f"local[{cores}]", memory=memory)
        self.jvm = self.session.sparkContext._gateway.proc.pid

    def timed(self, work: Callable[[], Any]) -> Measure:
        t0, c0, j0 = time.monotonic(), _cpu_self(), _cpu_of(self.jvm)
        work()
        return time.monotonic() - t0, _cpu_self() - c0 + _cpu_of(self.jvm) - j0

    def group_by(self, files: list[Path]) -> Measure:
        self.session.read.parquet(*(str(f) for f in files)).createOrReplaceTempView("flows")
        return self.timed(lambda: self.session.sql(GROUP_BY).localCheckpoint())

    def trivial_jobs(self, n: int) -> Measure:
        def run() -> None:
            for _ in range(n):
                self.session.range(10).localCheckpoint()

        return self.timed(run)

    def small_steps(self, n: int, scratch: Path) -> Measure:
        for name in ("small_a", "small_b"):
            path = scratch / f"{name}.parquet"
            pq.write_table(pa.table({"k": list(range(1000)), "v": list(range(1000))}), path)
            self.session.read.parquet(str(path)).createOrReplaceTempView(name)

        def run() -> None:
            for _ in range(n):
                self.session.sql(SMALL_STEP).localCheckpoint()

        return self.timed(run)

    def close(self) -> None:
        self.session.stop()


def _fmt(values: list[Measure]) -> str:
    walls, cpus = [w for w, _ in values], [c for _, c in values]
    return (
        f"wall {min(walls):7.2f} / {statistics.median(walls):7.2f} s (best / median), "
        f"CPU {min(cpus):7.2f} / {statistics.median(cpus):7.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--records", default="1000000,4000000", help="comma-separated day sizes")
    ap.add_argument("--enis", type=int, default=300)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--memory", default="2g", help="DuckDB memory_limit and Spark driver memory")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=40, help="trivial jobs and small steps to time")
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="flowlens-bench-floor-"))
    duck_memory = args.memory.upper() + ("B" if args.memory[-1].isalpha() else "")
    print(f"{args.cores} cores, load average {_load()}, data under {root}", flush=True)
    days: list[tuple[int, list[Path]]] = []
    for records in (int(r) for r in args.records.split(",") if r.strip()):
        dd, _, n = _generated_day(root / str(records), records, args.enis)
        days.append((n, sorted(dd.flows.rglob("*.parquet"))))
    spark = _Spark(args.cores, args.memory)
    duck: dict[int, list[Measure]] = {n: [] for n, _ in days}
    sprk: dict[int, list[Measure]] = {n: [] for n, _ in days}
    jobs: list[Measure] = []
    steps: list[Measure] = []
    try:
        spark.group_by(days[0][1])  # warm the JVM's JIT once, outside the figures
        spark.trivial_jobs(5)
        for _ in range(args.repeat):
            for n, files in days:
                duck[n].append(_duck_group_by(files, args.cores, duck_memory))
                sprk[n].append(spark.group_by(files))
            jobs.append(spark.trivial_jobs(args.jobs))
            steps.append(spark.small_steps(args.jobs, root))
            print(f"  round done, load average {_load()}", flush=True)
    finally:
        spark.close()
    for n, _ in days:
        ratio = statistics.median(s[1] for s in sprk[n]) / statistics.median(d[1] for d in duck[n])
        print(f"GROUP BY, {n:,} records")
        print(f"  duckdb  {_fmt(duck[n])}")
        print(f"  spark   {_fmt(sprk[n])}   CPU ratio (medians) {ratio:.1f}x")
    if len(days) >= 2:
        (n1, _), (n2, _) = days[-2], days[-1]
        for what, index in (("wall", 0), ("CPU", 1)):
            d = [statistics.median(m[index] for m in duck[n]) for n in (n1, n2)]
            s = [statistics.median(m[index] for m in sprk[n]) for n in (n1, n2)]
            ds, ss = (d[1] - d[0]) / (n2 - n1) * 1e6, (s[1] - s[0]) / (n2 - n1) * 1e6
            print(
                f"GROUP BY marginal {n1:,} → {n2:,} ({what}): DuckDB {ds:.2f} s per M records, "
                f"Spark {ss:.2f} s per M records: {ss / ds:.1f}x"
            )
    for label, values in (("trivial checkpointed job", jobs), ("small checkpointed step", steps)):
        per = [(w / args.jobs, c / args.jobs) for w, c in values]
        print(f"{label:<25} per job: {_fmt(per)}")
    print(f"load average {_load()}")
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
