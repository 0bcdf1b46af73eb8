"""Benchmark: the same analysis on DuckDB and on Spark (local mode), same Parquet, same cores.

    .venv/bin/python -m bench.bench_engines --records 1000000 --cores 2

Generates one day with bench_analyze's generator (flows Parquet plus a matching inventory),
copies it, analyses one copy with DuckDB (threads = cores) and the other with Spark
(local[cores], shuffle partitions = 2 × cores; session start-up timed apart), and prints
records/s and records/s per core for each. Spark needs PySpark 4 and Java 17+.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from bench.bench_analyze import DAY, gen_flows, gen_inventory
from flowlens.analyze import analyze
from flowlens.datadir import DataDir


def _timed_duckdb(dd: DataDir, cores: int, memory: str) -> float:
    t0 = time.monotonic()
    analyze(dd, [DAY], threads=cores, memory_limit=memory)
    return time.monotonic() - t0


def _timed_spark(dd: DataDir, cores: int, memory: str) -> tuple[float, float]:
    from flowlens.engines.spark_engine import SparkEngine, build_session

    t0 = time.monotonic()
    session = build_session(f"local[{cores}]", shuffle_partitions=2 * cores, memory=memory)
    started = time.monotonic() - t0
    engine = SparkEngine(session, owned=True)
    try:
        t1 = time.monotonic()
        analyze(dd, [DAY], engine=engine)
        return started, time.monotonic() - t1
    finally:
        engine.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--enis", type=int, default=300)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--memory", default="2g", help="DuckDB memory_limit and Spark driver memory")
    ap.add_argument(
        "--engines", default="duckdb,spark", help="comma-separated engines to time (default: both)"
    )
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="flowlens-bench-engines-"))
    duck, spark = DataDir(root / "duckdb"), DataDir(root / "spark")
    flows = gen_flows(args.records, args.enis, np.random.default_rng(7))
    folder = duck.flows / "account_id=111122223333" / "region=us-east-1" / f"date={DAY}"
    folder.mkdir(parents=True)
    pq.write_table(flows, folder / "part-0.parquet", compression="zstd")
    gen_inventory(duck, args.enis)
    shutil.copytree(duck.root, spark.root)
    n = len(flows)
    print(f"records   {n:,} on {args.cores} cores (under {root})", flush=True)
    if "duckdb" in args.engines:
        d = _timed_duckdb(
            duck, args.cores, args.memory.upper() + ("B" if args.memory[-1].isalpha() else "")
        )
        print(
            f"duckdb    {d:8.1f}s  {n / d:12,.0f} records/s  "
            f"{n / d / args.cores:12,.0f} records/s/core",
            flush=True,
        )
    if "spark" in args.engines:
        started, s = _timed_spark(spark, args.cores, args.memory)
        print(
            f"spark     {s:8.1f}s  {n / s:12,.0f} records/s  {n / s / args.cores:12,.0f} "
            f"records/s/core  (+{started:.1f}s session start)"
        )
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
