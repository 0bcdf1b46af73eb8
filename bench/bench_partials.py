"""Benchmark: issue 15's first direction, measured: conversation partials, then a merge.

    .venv/bin/python -m bench.bench_partials --data /tmp/fl-4m/data --chunk-rows 3571,0 --repeat 3

The idea: ingest has every object's records in memory, so it could aggregate them into
per-object conversation partials (the records pass's aggregates, per chunk of records), and the
analysis would merge the partials instead of aggregating the records. This times, on the day's
flows Parquet with the analysis's DuckDB settings, interleaved ``--repeat`` times:

- the baseline GROUP BY of issue 15 (as bench_analyze);
- the records pass as analyze runs it (sql/analyze/10_eni_flows.sql, materialised);
- the partials: the same aggregates grouped also by a chunk of ``N`` consecutive records
  (``file_row_number // N``; ~3.6k records is one gzip object of bench/generate.py's day; 0:
  the whole day as one chunk, so the partials are exactly the conversations: the best case for
  the merge, whatever the objects' shape);
- the merge: the partials grouped by conversation (SUM of the sums, MIN/MAX of the times,
  BIT_OR of the flags) and the records pass's final projection; its result is checked equal to
  the records pass's, EXCEPT ALL both ways.

The partials are what ingest would have to add to its own cost; the merge is what analysis would
pay instead of the records pass.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date
from pathlib import Path

import duckdb

from bench.bench_analyze import BASELINE
from flowlens import sqlfiles
from flowlens.engines.duckdb_engine import DAY_TOTALS, define_flow_sum, sums_fit
from flowlens.model.tables import sql_str

DAY = date(2026, 11, 28)
SUMS = (
    "f_acc", "f_rej", "r_acc", "r_rej", "f_acc_packets", "f_acc_bytes", "r_acc_packets",
    "r_acc_bytes", "f_packets", "f_bytes", "r_packets", "r_bytes",
)  # fmt: skip
KEY = "eni_id, protocol, lo_addr, lo_port, hi_addr, hi_port"


def queries() -> tuple[str, str, str]:
    """The records pass, its per-chunk partials and their merge (the pass's final projection)."""
    step = sqlfiles.load("analyze", "10_eni_flows").sql.rstrip().rstrip(";")
    cut = step.rindex("\nSELECT")
    head, final = step[:cut], step[cut:]
    partial = head
    for old, new in (
        ("interface_id AS eni_id,", "interface_id AS eni_id, chunk,"),
        ("eni_id, protocol, fwd, packets", "eni_id, chunk, protocol, fwd, packets"),
        (f"GROUP BY {KEY}", f"GROUP BY chunk, {KEY}"),
    ):
        if old not in partial:
            raise SystemExit(f"10_eni_flows.sql changed: {old!r} not found; update this bench")
        partial = partial.replace(old, new)
    merge = (
        f"WITH per_pair AS (SELECT {KEY}, MIN(lo_raw_other) AS lo_raw_other, "
        "MIN(hi_raw_other) AS hi_raw_other, BIT_OR(bits) AS bits, "
        + ", ".join(f"FLOW_SUM({c}) AS {c}" for c in SUMS)
        + ", MIN(f_first) AS f_first, MIN(r_first) AS r_first, MIN(first_accept) AS first_accept,"
        f" MAX(last_end) AS last_end FROM partials GROUP BY {KEY})" + final
    )
    return step, partial + "\nSELECT * FROM per_pair", merge


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="a data dir with the day's flows")
    ap.add_argument("--chunk-rows", default="3571,0", help="comma-separated; 0: one chunk")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    files = sorted((args.data / "flows").rglob(f"date={DAY}/*.parquet"))
    if not files:
        raise SystemExit(f"no flows Parquet for {DAY} under {args.data / 'flows'}")
    step, partial, merge = queries()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, {len(files)} files")
    for rows in (int(r) for r in args.chunk_rows.split(",")):
        con = duckdb.connect(
            config={
                "memory_limit": args.memory_limit,
                "threads": args.threads,
                "preserve_insertion_order": False,
            }
        )
        chunk = f"file_row_number // {rows}" if rows else "0"
        listing = ", ".join(sql_str(f) for f in files)
        con.execute(
            f"CREATE VIEW flows AS SELECT *, {chunk} AS chunk FROM read_parquet([{listing}], "
            "hive_partitioning = true, file_row_number = true)"
        )
        totals = con.execute(DAY_TOTALS, {"day": DAY}).fetchone()
        define_flow_sum(con, fits=totals is not None and sums_fit(tuple(totals)))
        times: dict[str, list[tuple[float, float]]] = {}
        for _ in range(args.repeat):
            for name, sql, params in (
                ("baseline GROUP BY", BASELINE, None),
                ("records pass", step, {"day": DAY}),
                ("partials (ingest)", partial, {"day": DAY}),
                ("merge (analyze)", merge, None),
            ):
                table = {"records pass": "eni_flows", "partials (ingest)": "partials"}.get(
                    name, "scratch"
                )
                c0, w0 = os.times(), time.monotonic()
                con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}", params)
                c1 = os.times()
                cpu = (c1.user - c0.user) + (c1.system - c0.system)
                times.setdefault(name, []).append((time.monotonic() - w0, cpu))
        counts = con.execute(
            "SELECT (SELECT COUNT(*) FROM flows), (SELECT COUNT(*) FROM partials), "
            "(SELECT COUNT(*) FROM scratch)"
        ).fetchone()
        assert counts is not None
        differ = con.execute(
            "SELECT (SELECT COUNT(*) FROM (FROM scratch EXCEPT ALL FROM eni_flows)) + "
            "(SELECT COUNT(*) FROM (FROM eni_flows EXCEPT ALL FROM scratch))"
        ).fetchone()
        label = f"{rows:,} records" if rows else "the whole day (partials = conversations)"
        equal = "yes" if differ == (0,) else f"NO ({differ} rows differ)"
        print(
            f"chunk: {label}; {counts[0]:,} records, {counts[1]:,} partial rows, "
            f"{counts[2]:,} conversations; merge equal to the records pass: {equal}"
        )
        for name, runs in times.items():
            walls = ", ".join(f"{w:.2f}" for w, _ in runs)
            cpus = ", ".join(f"{c:.2f}" for _, c in runs)
            print(f"  {name:18s} wall {walls} s   CPU {cpus} s")
        print(f"  load average {os.getloadavg()[0]:.1f}")
        con.close()


if __name__ == "__main__":
    main()
