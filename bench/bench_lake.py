"""Partition pruning of flows read from S3 (issue 20): one day's query against all days' scan.

    .venv/bin/python -m bench.bench_lake --records 200000 --days 8

A moto server in this process (real HTTP on loopback) holds ``--days`` copies of one generated day
(bench_analyze's generator) under ``flows/account_id=/region=/date=/``, read the way ``flowlens
analyze --data-dir s3://...`` reads them (:func:`flowlens.lake.register_duckdb`). Two queries
count the same day's records: ``WHERE date = $day`` (the analysis's form: the filter reaches the
dataset scan and prunes the other days' files) and ``COUNT(*) FILTER (WHERE date = $day)`` (no
filter to push: every day's files read). Printed per query: wall and CPU seconds (this process),
the object GETs the server saw and the load average; only the same-run ratios mean anything on a
shared machine.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import re
import socket
import time
from datetime import date, timedelta

import numpy as np
import pyarrow.parquet as pq

DAY = date(2026, 11, 28)
BUCKET = "bench-lake"


class _Gets(logging.Handler):
    """Counts the object GETs the moto server logs (werkzeug's access log)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if re.search(r"GET /\S+\.parquet", text):  # 206s come colour-coded
            self.count += 1


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--days", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for var, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench")):
        os.environ.setdefault(var, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

    import boto3
    import duckdb
    from moto.server import ThreadedMotoServer

    from bench.bench_analyze import gen_flows
    from flowlens.aws import AwsOptions
    from flowlens.datadir import DataDir
    from flowlens.lake import register_duckdb
    from flowlens.model.tables import flow_sources

    port = _port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=True)
    server.start()
    gets = _Gets()
    logging.getLogger("werkzeug").addHandler(gets)
    logging.getLogger("werkzeug").setLevel(logging.INFO)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket=BUCKET)
        flows = gen_flows(args.records, 300, np.random.default_rng(7))
        buf = io.BytesIO()
        pq.write_table(flows, buf, compression="zstd")
        for i in range(args.days):
            d = DAY - timedelta(days=i)
            key = f"lake/flows/account_id=111122223333/region=us-east-1/date={d}/part-0.parquet"
            s3.put_object(Bucket=BUCKET, Key=key, Body=buf.getvalue())
        dd = DataDir.resolve(f"s3://{BUCKET}/lake", aws=AwsOptions(endpoint_url=endpoint))
        source = next(s for s in flow_sources(dd) if s.name == "flows")
        con = duckdb.connect(config={"threads": 2})
        con.execute(f"CREATE VIEW flows AS {register_duckdb(con, source)}")
        queries = {
            "date = $day (pruned)": "SELECT SUM(bytes) FROM flows WHERE date = $day",
            "FILTER (every day read)": "SELECT SUM(bytes) FILTER (WHERE date = $day) FROM flows",
        }
        print(
            f"{flows.num_rows:,} records a day x {args.days} days, "
            f"{len(buf.getvalue()) / 1e6:.1f} MB a day"
        )
        for name, sql in queries.items():
            for _ in range(args.repeat):
                gets.count = 0
                load = os.getloadavg()[0]
                t0, c0 = time.perf_counter(), time.process_time()
                n = con.execute(sql, {"day": DAY}).fetchone()
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                print(
                    f"{name:26s} {int(n[0] or 0) if n else 0:>14,} bytes  {wall:6.2f} s  "
                    f"{cpu:6.2f} CPU-s  {gets.count:4d} GETs  load {load:.1f}"
                )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
