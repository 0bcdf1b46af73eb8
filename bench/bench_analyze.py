"""Benchmark: `analyze` on a generated day vs a plain DuckDB GROUP BY over the same Parquet.

    .venv/bin/python -m bench.bench_analyze --records 4000000 --shape s3 --repeat 3 [--steps]

`--shape parquet` (default) generates flows Parquet directly (numpy/pyarrow, see KINDS and
gen_flows: 300 ENIs in web/app/db tiers; connections logged once per direction per 1-minute
window on every ENI that sees them, so long-lived connections give many records and internal ones
are logged twice; pooled DB
connections older than the day have no SYN; many connections per ENI pair; ~1 % NODATA; internet
scanners ~4 % of the records, REJECTed without reply; half the ENIs in v3 with tcp-flags) and a
matching inventory snapshot; `--shape s3` takes bench/generate.py's day (gzip objects of a v2 and
a v5 flow log with pkt-* fields, one connection per ephemeral port: many conversations) through
`flowlens ingest` and bench/inventory.py's inventory. Then times, each in its own process and
interleaved `--repeat` times: the baseline (`CREATE TABLE AS SELECT interface_id, srcaddr,
dstport, protocol, action, COUNT(*), SUM(bytes) ... GROUP BY ALL` over the same flows, same
memory_limit and threads) and `flowlens analyze` (the whole command: wall, CPU seconds, peak RSS),
with the load average around each run. Target: analyze <= 8x the baseline, peak RSS <= 2.5 GB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.generate import generate_day
from bench.inventory import write_inventory
from bench.measure import Measured, measure
from flowlens import sqlfiles
from flowlens.catalog import register_views
from flowlens.datadir import DataDir
from flowlens.engines.duckdb_engine import DAY_TOTALS, define_flow_sum, sums_fit
from flowlens.model.addr import cidr_range
from flowlens.model.flow import FLOW_FILE_SCHEMA
from flowlens.model.inventory import INVENTORY_SCHEMAS
from flowlens.model.tables import sql_str

DAY = date(2026, 11, 28)
#: Issue 15's reference: one plain GROUP BY over the day's flows, materialised.
BASELINE = (
    "SELECT interface_id, srcaddr, dstport, protocol, action, "
    "COUNT(*) AS records, SUM(bytes) AS bytes FROM flows GROUP BY ALL"
)


def _ip_pool(enis: int, externals: int) -> pa.Array:
    """Address strings: ENI i is 10.0.(1 + i // 250).(4 + i % 250); externals
    are 198.51.x.y / 203.x.y.z."""
    local = [f"10.0.{1 + i // 250}.{4 + i % 250}" for i in range(enis)]
    ext = [
        f"{(198, 203, 100, 52)[i % 4]}.{(i // 4) % 250 + 1}.{(i // 1000) % 250 + 1}.{i % 250 + 1}"
        for i in range(externals)
    ]
    return pa.array(local + ext, pa.string())


#: Connection kinds: (share of connections, client, server, port, windows low/high, flows logged per
#: window). client/server: "ext" (internet), "web", "app", "db" (ENI tiers); windows are 1-minute
#: aggregation intervals, drawn log-uniformly between low and high.
KINDS = (
    (0.40, "ext", "web", 443, 1, 3),  # browsers: short HTTPS
    (0.15, "web", "app", 8080, 1, 5),  # web -> app, both ENIs log it
    (0.10, "app", "ext", 443, 1, 10),  # outbound API calls / downloads
    (0.06, "app", "app", 9000, 1, 10),  # service mesh, both ENIs log it
    (
        0.0005,
        "app",
        "db",
        5432,
        60,
        1440,
    ),  # pooled DB connections, long-lived (some older than the day)
    (0.0145, "ext", "web", 22, 1, 2),  # admin over SSH (few)
    (0.275, "scan", "any", 0, 1, 1),  # internet scanners: one rejected record, no reply
)


def gen_flows(n: int, enis: int, rng: np.random.Generator) -> pa.Table:
    """About ``n`` realistic records of one day (see KINDS): several records per connection (one per
    direction per 1-minute window on every ENI that sees it), many connections per ENI pair,
    long-lived connections without a SYN, ~1 % NODATA, half the ENIs in v3 with tcp-flags."""
    tiers = {
        "web": np.arange(0, enis // 5),
        "app": np.arange(enis // 5, enis * 4 // 5),
        "db": np.arange(enis * 4 // 5, enis),
    }
    externals = 50_000
    pool = _ip_pool(enis, externals)
    shares = np.array([k[0] for k in KINDS])
    mean_windows = np.array([np.exp((np.log(k[4]) + np.log(k[5])) / 2) for k in KINDS])
    per_conn = (shares / shares.sum()) @ (
        mean_windows
        * 2
        * np.array([2 if k[1] != "ext" and k[2] not in ("ext", "any") else 1 for k in KINDS])
    )
    conns = max(1, int(n / per_conn))
    kind = rng.choice(len(KINDS), conns, p=shares / shares.sum())

    def pick(tier: str, m: int) -> np.ndarray:
        if tier in ("ext", "scan"):
            return enis + rng.integers(0, externals, m)
        if tier == "any":
            return rng.integers(0, enis, m)
        return rng.choice(tiers[tier], m)

    client = np.empty(conns, np.int64)
    server = np.empty(conns, np.int64)
    sport = np.empty(conns, np.int64)
    lo_w = np.empty(conns)
    hi_w = np.empty(conns)
    for i, (_, c, s, port, lo, hi) in enumerate(KINDS):
        sel = kind == i
        m = int(sel.sum())
        client[sel], server[sel] = pick(c, m), pick(s, m)
        sport[sel] = (
            port if port else rng.choice(np.array([23, 445, 3389, 1433, 8443, 5900, 6379, 25]), m)
        )
        lo_w[sel], hi_w[sel] = lo, hi
    windows = np.exp(rng.uniform(np.log(lo_w), np.log(hi_w))).astype(np.int64).clip(1)
    scan = kind == len(KINDS) - 1
    cport = rng.integers(32768, 61000, conns)
    begin = rng.integers(
        -60, 1440, conns
    )  # minute of the day the connection starts (before midnight: no SYN)
    windows = np.minimum(windows, 1440 - begin.clip(0))
    # observers: the client's ENI and the server's ENI (each local end logs the connection)
    obs_conn = np.concatenate([np.nonzero(client < enis)[0], np.nonzero(server < enis)[0]])
    obs_eni = np.concatenate([client[client < enis], server[server < enis]])
    reps = windows[obs_conn]
    rec_conn = np.repeat(obs_conn, reps)
    rec_eni = np.repeat(obs_eni, reps)
    offs = np.arange(len(rec_conn)) - np.repeat(np.cumsum(reps) - reps, reps)
    minute = begin[rec_conn].clip(0) + offs
    first, last = (offs == 0) & (begin[rec_conn] >= 0), offs == windows[rec_conn] - 1
    # two directions per window, except scans (no reply)
    reply = np.concatenate([np.zeros(len(rec_conn), bool), np.ones(len(rec_conn), bool)])
    keep = ~(reply & np.concatenate([scan[rec_conn], scan[rec_conn]]))
    rc, re_, rm = (
        np.concatenate([rec_conn, rec_conn])[keep],
        np.concatenate([rec_eni, rec_eni])[keep],
        np.concatenate([minute, minute])[keep],
    )
    rf, rl, rr = (
        np.concatenate([first, first])[keep],
        np.concatenate([last, last])[keep],
        reply[keep],
    )
    if len(rc) > n:
        idx = np.sort(rng.choice(len(rc), n, replace=False))
        rc, re_, rm, rf, rl, rr = rc[idx], re_[idx], rm[idx], rf[idx], rl[idx], rr[idx]
    m = len(rc)
    src = np.where(rr, server[rc], client[rc])
    dst = np.where(rr, client[rc], server[rc])
    v3 = (re_ % 2) == 0
    flags = np.where(rr, np.where(rf, 18, 16), np.where(rf, 2, 16)) | np.where(rl, 1, 0)
    t0 = int(datetime(2026, 11, 28, tzinfo=UTC).timestamp())
    start = t0 + rm * 60 + rng.integers(0, 30, m)
    packets = rng.integers(1, 40, m)
    day_flows = pa.table(
        {
            "version": pa.array(np.where(v3, 3, 2).astype(np.int32)),
            "interface_id": pa.array(np.char.add("eni-", re_.astype(str))),
            "srcaddr": pool.take(pa.array(src)),
            "dstaddr": pool.take(pa.array(dst)),
            "srcport": pa.array(np.where(rr, sport[rc], cport[rc]).astype(np.int32)),
            "dstport": pa.array(np.where(rr, cport[rc], sport[rc]).astype(np.int32)),
            "protocol": pa.array(np.full(m, 6, np.int32)),
            "packets": pa.array(packets),
            "bytes": pa.array(packets * rng.integers(60, 1400, m)),
            "start": pa.array(start),
            "end": pa.array(start + rng.integers(0, 30, m)),
            "action": pa.array(np.where(scan[rc], "REJECT", "ACCEPT")),
            "log_status": pa.array(np.full(m, "OK")),
            "tcp_flags": pa.array(np.where(v3, flags, 0).astype(np.int32), mask=~v3),
            "pkt_srcaddr": pa.array(
                np.where(v3, pool.take(pa.array(src)).to_numpy(zero_copy_only=False), None),
                pa.string(),
            ),
            "pkt_dstaddr": pa.array(
                np.where(v3, pool.take(pa.array(dst)).to_numpy(zero_copy_only=False), None),
                pa.string(),
            ),
            "flow_direction": pa.array(
                np.where(v3, np.where(re_ == src, "egress", "ingress"), None), pa.string()
            ),
        }
    )
    nodata = _nodata(rng, enis, max(1, m // 100), t0)
    table = pa.concat_tables([_to_schema(day_flows), _to_schema(nodata)])
    return table.take(pa.array(np.argsort(table["start"].to_numpy(), kind="stable")))


def _nodata(rng: np.random.Generator, enis: int, k: int, t0: int) -> pa.Table:
    start = t0 + rng.integers(0, 1440, k) * 60
    return pa.table(
        {
            "version": pa.array(np.full(k, 2, np.int32)),
            "interface_id": pa.array(np.char.add("eni-", rng.integers(0, enis, k).astype(str))),
            "start": pa.array(start),
            "end": pa.array(start + 59),
            "log_status": pa.array(np.full(k, "NODATA")),
        }
    )


def _to_schema(t: pa.Table) -> pa.Table:
    return pa.table(
        {
            f.name: t[f.name].cast(f.type) if f.name in t.column_names else pa.nulls(len(t), f.type)
            for f in FLOW_FILE_SCHEMA
        },
        schema=FLOW_FILE_SCHEMA,
    )


def gen_inventory(dd: DataDir, enis: int) -> None:
    snap = dd.snapshot_dir("20261128T000000Z")
    snap.mkdir(parents=True, exist_ok=True)
    ips = _ip_pool(enis, 0).to_pylist()
    rules = []
    for g in range(20):
        for j, (port, peer) in enumerate(
            [
                (443, "0.0.0.0/0"),
                (5432, "10.0.0.0/16"),
                (8080, "10.0.0.0/8"),
                (22, "198.51.0.0/16"),
                (9000, "10.0.0.0/16"),
            ]
        ):
            r = cidr_range(peer)
            rules.append(
                {
                    "rule_id": f"sgr-{g}-{j}",
                    "group_id": f"sg-{g}",
                    "direction": "ingress",
                    "ip_protocol": 6,
                    "from_port": port,
                    "to_port": port,
                    "peer_type": "cidr4",
                    "peer": peer,
                    "peer_family": 4,
                    "peer_lo": r.lo,
                    "peer_hi": r.hi,
                    "vpc_id": "vpc-1",
                }
            )
        r = cidr_range("0.0.0.0/0")
        rules.append(
            {
                "rule_id": f"sgr-{g}-out",
                "group_id": f"sg-{g}",
                "direction": "egress",
                "ip_protocol": -1,
                "peer_type": "cidr4",
                "peer": "0.0.0.0/0",
                "peer_family": 4,
                "peer_lo": r.lo,
                "peer_hi": r.hi,
                "vpc_id": "vpc-1",
            }
        )
        rules.append(
            {
                "rule_id": f"sgr-{g}-self",
                "group_id": f"sg-{g}",
                "direction": "ingress",
                "ip_protocol": -1,
                "peer_type": "sg",
                "peer": f"sg-{g}",
                "vpc_id": "vpc-1",
            }
        )
    tables = {
        "sg_rules": rules,
        "security_groups": [{"group_id": f"sg-{g}", "vpc_id": "vpc-1"} for g in range(20)],
        "enis": [
            {
                "eni_id": f"eni-{i}",
                "vpc_id": "vpc-1",
                "subnet_id": "subnet-a",
                "interface_type": "interface",
                "instance_id": f"i-{i}",
            }
            for i in range(enis)
        ],
        "eni_groups": [{"eni_id": f"eni-{i}", "group_id": f"sg-{i % 20}"} for i in range(enis)],
        "eni_ips": [
            {
                "eni_id": f"eni-{i}",
                "address": a,
                "kind": "primary4",
                "family": 4,
                "lo": cidr_range(a).lo,
                "hi": cidr_range(a).hi,
            }
            for i, a in enumerate(ips)
        ],
        "subnets": [
            {
                "subnet_id": "subnet-a",
                "vpc_id": "vpc-1",
                "cidr_block": "10.0.0.0/16",
                "nacl_id": "acl-1",
            }
        ],
        "eni_coverage": [
            {"eni_id": f"eni-{i}", "flow_log_id": "fl-1", "traffic_type": "ALL"}
            for i in range(enis)
        ],
    }
    for name, schema in INVENTORY_SCHEMAS.items():
        rows = tables.get(name, [])
        pq.write_table(
            pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema),
            snap / f"{name}.parquet",
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--enis", type=int, default=300)
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dir", type=Path, default=None, help="data dir to use (default: a temp dir)")
    ap.add_argument(
        "--shape",
        choices=("parquet", "s3"),
        default="parquet",
        help="parquet: this module's generator written straight to flows Parquet; s3: "
        "bench/generate.py's gzip objects (v2 and v5 flow logs, pkt-* fields), ingested by "
        "`flowlens ingest`, with bench/inventory.py's inventory (the nightly batch's day)",
    )
    ap.add_argument("--steps", action="store_true", help="log the time of every analysis step")
    ap.add_argument(
        "--reuse", action="store_true", help="reuse the day already generated under --dir"
    )
    ap.add_argument(
        "--generate-only", action="store_true", help="generate the day under --dir and stop"
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time baseline and analyze this many times (best, median and worst ratio)",
    )
    ap.add_argument(
        "--floor",
        action="store_true",
        help="also time, against the same baseline, the parts of analyze no query plan can "
        "skip (see _floor)",
    )
    ap.add_argument(
        "--compare",
        type=Path,
        action="append",
        default=[],
        help="also time `flowlens analyze` of this source tree (a checkout, e.g. a git worktree "
        "of main) in every run, interleaved: before/after in the same run",
    )
    ap.add_argument("--baseline-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    root = args.dir or Path(tempfile.mkdtemp(prefix="flowlens-bench-"))
    dd = DataDir(root / "data") if args.shape == "s3" else DataDir(root)
    if args.baseline_only:  # the child process of _measured_baseline
        seconds, groups, cpu = _baseline(dd, args.memory_limit, args.threads)
        print(f"{seconds} {groups} {cpu}")
        return 0
    if not (args.reuse and _day_records(dd)):
        if args.shape == "s3":
            _generate_s3(root, args.records)
        else:
            folder = dd.flows / "account_id=111122223333" / "region=us-east-1" / f"date={DAY}"
            _generate(dd, folder, args.records, args.enis)
    if args.generate_only:
        return 0
    n = _day_records(dd)
    trees = {"this tree": None, **{str(t): t for t in args.compare}}
    baselines: list[float] = []
    base_cpus: list[float] = []
    runs: dict[str, list[Measured]] = {name: [] for name in trees}
    for r in range(args.repeat):
        load_before = os.getloadavg()[0]
        baseline, groups, base_cpu = _measured_baseline(root, args)
        baselines.append(baseline)
        base_cpus.append(base_cpu)
        line = f"run {r + 1}: baseline {baseline:.2f}s ({base_cpu:.2f} CPU-s)"
        for name, tree in trees.items():
            # `python -m` puts the working directory first on sys.path: run in the tree itself
            run = measure(
                _analyze_cmd(dd, args),
                env=_tree_env(tree),
                cwd=str(tree.resolve()) if tree else None,
            )
            runs[name].append(run)
            line += (
                f"; {name}: analyze {run.seconds:.2f}s ({run.cpu_seconds:.1f} CPU-s, peak RSS "
                f"{run.peak_rss / 2**20:,.0f} MiB) {run.seconds / baseline:.2f}x"
            )
        print(
            f"{line}; load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}", file=sys.stderr
        )
    print(f"records            {n:,}  ({args.shape} day under {root})")
    print(
        f"baseline GROUP BY  best {min(baselines):.2f}s, worst {max(baselines):.2f}s  "
        f"({n / min(baselines):,.0f} rows/s, {groups:,} groups, {min(base_cpus):.2f} CPU-s)"
    )
    for name, measured in runs.items():
        ratios = sorted(m.seconds / b for m, b in zip(measured, baselines, strict=True))
        cpu = sorted(m.cpu_seconds / c for m, c in zip(measured, base_cpus, strict=True))
        best = min(measured, key=lambda m: m.seconds)
        print(f"analyze ({name})")
        print(
            f"  time             best {best.seconds:.2f}s, worst "
            f"{max(m.seconds for m in measured):.2f}s  ({n / best.seconds:,.0f} records/s, "
            f"{best.cpu_seconds:.1f} CPU-s)"
        )
        print(
            f"  ratio            best {ratios[0]:.2f}x, median {ratios[len(ratios) // 2]:.2f}x, "
            f"worst {ratios[-1]:.2f}x; CPU ratio median {cpu[len(cpu) // 2]:.2f}x  (target <= 8x)"
        )
        print(
            f"  peak RSS         {max(m.peak_rss for m in measured) / 2**20:,.0f} MiB  "
            f"(memory_limit {args.memory_limit}, threads {args.threads}; target <= 2.5 GB)"
        )
    if args.floor:
        _floor(dd, args.memory_limit, args.threads, min(baselines))
    return 0


def _day_records(dd: DataDir) -> int:
    """The day's records in flows Parquet (0 when there is none yet)."""
    if not any(dd.flows.rglob(f"date={DAY}/*.parquet")) if dd.flows.is_dir() else True:
        return 0
    con = duckdb.connect()
    try:
        register_views(con, dd)
        row = con.execute("SELECT COUNT(*) FROM flows WHERE date = $d", {"d": DAY}).fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def _analyze_cmd(dd: DataDir, args: argparse.Namespace) -> list[str]:
    """`flowlens analyze` as its own process (its peak RSS and CPU seconds are its own)."""
    return [
        sys.executable,
        "-m",
        "flowlens",
        "analyze",
        "--date",
        DAY.isoformat(),
        "--data-dir",
        str(dd.root),
        "--memory-limit",
        args.memory_limit,
        "--threads",
        str(args.threads),
        "-vv" if args.steps else "-q",
    ]


def _tree_env(tree: Path | None) -> dict[str, str] | None:
    """The environment that runs ``flowlens`` from ``tree`` (None: this process's own)."""
    if tree is None:
        return None
    return {**os.environ, "PYTHONPATH": str(tree.resolve())}


def _measured_baseline(root: Path, args: argparse.Namespace) -> tuple[float, int, float]:
    """The baseline in its own process: the query's own seconds, groups and CPU seconds."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.bench_analyze",
            "--baseline-only",
            "--dir",
            str(root),
            "--shape",
            args.shape,
            "--memory-limit",
            args.memory_limit,
            "--threads",
            str(args.threads),
        ],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    seconds, groups, cpu = out.stdout.split()
    return float(seconds), int(groups), float(cpu)


def _generate_s3(root: Path, records: int) -> None:
    """bench/generate.py's day and inventory, through `flowlens ingest` and `inventory`."""
    shutil.rmtree(root / "src", ignore_errors=True)
    shutil.rmtree(root / "data", ignore_errors=True)
    gen = generate_day(root / "src", records, DAY, seed=1)
    write_inventory(root / "inventory")
    exe = [sys.executable, "-m", "flowlens"]
    common = ["--data-dir", str(root / "data"), "-q"]
    subprocess.run(
        [*exe, "ingest", str(root / "src"), "--date", DAY.isoformat(), *common],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [
            *exe,
            "inventory",
            "--from-json",
            str(root / "inventory"),
            "--taken-at",
            f"{DAY.isoformat()}T00:00:00Z",
            *common,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"generated {gen.records:,} records in {gen.files} objects under {root}", file=sys.stderr)


#: Grouping the records into ENI conversations (ENI + protocol + unordered address/port pair), with
#: no aggregate at all: the least any initiator analysis must do per record.
_GROUP_ONLY = """
WITH r AS (
    SELECT interface_id, protocol,
           COALESCE(pkt_srcaddr, srcaddr) AS src, COALESCE(pkt_dstaddr, dstaddr) AS dst,
           COALESCE(srcport, 0) AS sport, COALESCE(dstport, 0) AS dport
    FROM flows
    WHERE action IS NOT NULL AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL
      AND protocol IS NOT NULL
      AND COALESCE(log_status, 'OK') = 'OK'
), o AS (
    SELECT r.*, (src < dst OR (src = dst AND sport <= dport)) AS fwd FROM r
)
SELECT COUNT(*) FROM (
    SELECT interface_id, protocol,
           CASE WHEN fwd THEN src ELSE dst END, CASE WHEN fwd THEN sport ELSE dport END,
           CASE WHEN fwd THEN dst ELSE src END, CASE WHEN fwd THEN dport ELSE sport END
    FROM o
    GROUP BY ALL
)"""


def _floor(dd: DataDir, memory_limit: str, threads: int, baseline: float) -> None:
    """Time the parts of analyze that the issue's own outputs make unavoidable, each as a ratio to
    the baseline: grouping the records into conversations (no aggregate), the one records pass as
    analyze runs it (sql/analyze/10_eni_flows.sql, materialised as the pipeline does) and writing
    the conversations results table (one row per conversation, contract) with and without
    compression."""
    spill = dd.tmp / "duckdb-floor"
    spill.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={
            "memory_limit": memory_limit,
            "threads": threads,
            "temp_directory": str(spill),
            "preserve_insertion_order": False,
        }
    )
    try:
        register_views(con, dd)
        parts: list[tuple[str, float]] = []
        t = time.monotonic()
        con.execute(_GROUP_ONLY).fetchone()
        parts.append(("group records into conversations (no aggregates)", time.monotonic() - t))
        step = sqlfiles.load("analyze", "10_eni_flows")
        totals = con.execute(DAY_TOTALS, {"day": DAY}).fetchone()
        define_flow_sum(con, fits=totals is not None and sums_fit(tuple(totals)))
        t = time.monotonic()
        con.execute(f"CREATE TEMP TABLE eni_flows AS {step.sql}", {"day": DAY})
        parts.append(("the records pass (10_eni_flows)", time.monotonic() - t))
        con.execute("DROP TABLE eni_flows")
        results = dd.results_dir(DAY) / "conversations.parquet"
        con.execute(f"CREATE TEMP TABLE conv AS SELECT * FROM read_parquet({sql_str(results)})")
        for codec in ("uncompressed", "zstd"):
            out = spill / f"conversations-{codec}.parquet"
            t = time.monotonic()
            con.execute(f"COPY conv TO {sql_str(out)} (FORMAT parquet, COMPRESSION {codec})")
            parts.append((f"write the conversations table ({codec})", time.monotonic() - t))
            out.unlink()
    finally:
        con.close()
    print("floor (each part alone, as a multiple of the baseline):")
    for name, seconds in parts:
        print(f"  {name:52s} {seconds:6.2f}s  {seconds / baseline:5.2f}x")


def _generate(dd: DataDir, folder: Path, records: int, enis: int) -> None:
    rng = np.random.default_rng(7)
    t0 = time.monotonic()
    flows = gen_flows(records, enis, rng)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(flows, folder / "part-0.parquet", compression="zstd", row_group_size=1_000_000)
    gen_inventory(dd, enis)
    convs = len(
        flows.group_by(["interface_id", "srcaddr", "dstaddr", "srcport", "dstport"]).aggregate([])
    )
    print(
        f"generated {len(flows):,} records ({convs:,} ENI 5-tuples, "
        f"{pc.sum(pc.equal(flows['action'], 'REJECT')).as_py() / len(flows):.1%} REJECT)",
        file=sys.stderr,
    )
    print(
        f"generated {len(flows):,} records in {time.monotonic() - t0:.1f}s under {dd.root}",
        file=sys.stderr,
    )


def _baseline(dd: DataDir, memory_limit: str, threads: int) -> tuple[float, int, float]:
    """The reference: a plain GROUP BY over the same Parquet, same memory limit and threads,
    materialised as the issue defines it; its seconds, groups and CPU seconds."""
    spill = dd.tmp / "duckdb-baseline"
    spill.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={"memory_limit": memory_limit, "threads": threads, "temp_directory": str(spill)}
    )
    try:
        register_views(con, dd)
        t1, c1 = time.monotonic(), time.process_time()
        con.execute(f"CREATE TABLE baseline AS {BASELINE}")
        seconds, cpu = time.monotonic() - t1, time.process_time() - c1
        row = con.execute("SELECT COUNT(*) FROM baseline").fetchone()
        return seconds, int(row[0]) if row else 0, cpu
    finally:
        con.close()


if __name__ == "__main__":
    sys.exit(main())
