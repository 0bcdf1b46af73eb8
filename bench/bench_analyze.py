"""Benchmark: `analyze` on a generated day vs a plain DuckDB GROUP BY over the same Parquet.

    .venv/bin/python bench/bench_analyze.py --records 1000000 --memory-limit 2GB

Generates flows Parquet (numpy/pyarrow: a few hundred ENIs, inbound and outbound connections
with both directions logged, ephemeral ports, ~10% scanner rejects, half the ENIs in the v3
format with tcp-flags) and a matching inventory snapshot, then times both in the same run.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from flowlens.analyze import analyze
from flowlens.catalog import register_views
from flowlens.datadir import DataDir
from flowlens.model.addr import cidr_range
from flowlens.model.flow import FLOW_FILE_SCHEMA
from flowlens.model.inventory import INVENTORY_SCHEMAS

DAY = date(2026, 11, 28)


def ip(n: np.ndarray, base: int) -> np.ndarray:
    v = base + n
    return np.char.add(np.char.add(np.char.add(np.char.add(((v >> 24) & 255).astype(str), "."),
                                               np.char.add(((v >> 16) & 255).astype(str), ".")),
                                   np.char.add(((v >> 8) & 255).astype(str), ".")), (v & 255).astype(str))


def gen_flows(n: int, enis: int, rng: np.random.Generator) -> pa.Table:
    conns = n // 2
    eni = rng.integers(0, enis, conns)
    local = ip(eni, 0x0A000000 + 256)  # 10.0.1.0 + i
    inbound = rng.random(conns) < 0.6
    remote = np.where(rng.random(conns) < 0.5, ip(rng.integers(0, 5000, conns), 0xC6336400),
                      ip(rng.integers(0, 200, conns), 0x0A000000 + 256))
    svc = rng.choice(np.array([443, 80, 5432, 8080, 22, 6379]), conns)
    eph = rng.integers(32768, 61000, conns)
    reject = rng.random(conns) < 0.1
    start = int(datetime(2026, 11, 28, tzinfo=UTC).timestamp()) + rng.integers(0, 86000, conns)
    client = np.where(inbound, remote, local)
    server = np.where(inbound, local, remote)
    v3 = (eni % 2) == 0
    src = np.concatenate([client, server])
    dst = np.concatenate([server, client])
    cols = {
        "version": np.where(np.concatenate([v3, v3]), 3, 2).astype(np.int32),
        "interface_id": np.char.add("eni-", np.concatenate([eni, eni]).astype(str)),
        "srcaddr": src, "dstaddr": dst,
        "srcport": np.concatenate([eph, svc]).astype(np.int32), "dstport": np.concatenate([svc, eph]).astype(np.int32),
        "protocol": np.full(2 * conns, 6, np.int32),
        "packets": rng.integers(1, 50, 2 * conns), "bytes": rng.integers(60, 100000, 2 * conns),
        "start": np.concatenate([start, start]), "end": np.concatenate([start, start]) + 59,
        "action": np.where(np.concatenate([reject, reject]), "REJECT", "ACCEPT"),
        "log_status": np.full(2 * conns, "OK"),
    }
    flags = np.concatenate([np.full(conns, 2), np.full(conns, 18)]).astype(np.int32)
    table = pa.table({k: pa.array(v) for k, v in cols.items()})
    keep = ~np.concatenate([np.zeros(conns, bool), reject])  # a rejected request gets no reply
    table = table.append_column("tcp_flags", pa.array(np.where(np.concatenate([v3, v3]), flags, 0), mask=~np.concatenate([v3, v3])))
    table = table.filter(pa.array(keep))
    return pa.table({f.name: table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(len(table), f.type)
                     for f in FLOW_FILE_SCHEMA}, schema=FLOW_FILE_SCHEMA)


def gen_inventory(dd: DataDir, enis: int) -> None:
    snap = dd.snapshot_dir("20261128T000000Z")
    snap.mkdir(parents=True, exist_ok=True)
    ips = [f"10.0.{(256 + i) >> 8 & 255}.{(256 + i) & 255}" for i in range(enis)]
    rules = []
    for g in range(20):
        for j, (port, peer) in enumerate([(443, "0.0.0.0/0"), (5432, "10.0.0.0/16"), (8080, "10.0.0.0/8"), (22, "198.51.100.0/24")]):
            r = cidr_range(peer)
            rules.append({"rule_id": f"sgr-{g}-{j}", "group_id": f"sg-{g}", "direction": "ingress", "ip_protocol": 6,
                          "from_port": port, "to_port": port, "peer_type": "cidr4", "peer": peer,
                          "peer_family": 4, "peer_lo": r.lo, "peer_hi": r.hi, "vpc_id": "vpc-1"})
        r = cidr_range("0.0.0.0/0")
        rules.append({"rule_id": f"sgr-{g}-out", "group_id": f"sg-{g}", "direction": "egress", "ip_protocol": -1,
                      "peer_type": "cidr4", "peer": "0.0.0.0/0", "peer_family": 4, "peer_lo": r.lo, "peer_hi": r.hi, "vpc_id": "vpc-1"})
        rules.append({"rule_id": f"sgr-{g}-self", "group_id": f"sg-{g}", "direction": "ingress", "ip_protocol": -1,
                      "peer_type": "sg", "peer": f"sg-{g}", "vpc_id": "vpc-1"})
    tables = {
        "sg_rules": rules,
        "security_groups": [{"group_id": f"sg-{g}", "vpc_id": "vpc-1"} for g in range(20)],
        "enis": [{"eni_id": f"eni-{i}", "vpc_id": "vpc-1", "subnet_id": "subnet-a", "interface_type": "interface"} for i in range(enis)],
        "eni_groups": [{"eni_id": f"eni-{i}", "group_id": f"sg-{i % 20}"} for i in range(enis)],
        "eni_ips": [{"eni_id": f"eni-{i}", "address": a, "kind": "primary4", "family": 4, "lo": cidr_range(a).lo,
                     "hi": cidr_range(a).hi} for i, a in enumerate(ips)],
        "subnets": [{"subnet_id": "subnet-a", "vpc_id": "vpc-1", "cidr_block": "10.0.0.0/16", "nacl_id": "acl-1"}],
        "eni_coverage": [{"eni_id": f"eni-{i}", "flow_log_id": "fl-1", "traffic_type": "ALL"} for i in range(enis)],
    }
    for name, schema in INVENTORY_SCHEMAS.items():
        rows = tables.get(name, [])
        pq.write_table(pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema), snap / f"{name}.parquet")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--enis", type=int, default=300)
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dir", type=Path, default=None, help="data dir to use (default: a temp dir)")
    args = ap.parse_args(argv)
    root = args.dir or Path(tempfile.mkdtemp(prefix="flowlens-bench-"))
    dd = DataDir(root)
    rng = np.random.default_rng(7)
    t0 = time.monotonic()
    flows = gen_flows(args.records, args.enis, rng)
    folder = dd.flows / "account_id=111122223333" / "region=us-east-1" / f"date={DAY}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(flows, folder / "part-0.parquet", compression="zstd", row_group_size=1_000_000)
    gen_inventory(dd, args.enis)
    print(f"generated {len(flows):,} records in {time.monotonic() - t0:.1f}s under {root}", file=sys.stderr)

    con = duckdb.connect(config={"memory_limit": args.memory_limit, "threads": args.threads})
    register_views(con, dd)
    t1 = time.monotonic()
    groups = con.execute("SELECT COUNT(*) FROM (SELECT interface_id, srcaddr, dstport, protocol, action, COUNT(*) "
                         "FROM flows GROUP BY interface_id, srcaddr, dstport, protocol, action)").fetchone()
    baseline = time.monotonic() - t1
    con.close()
    t2 = time.monotonic()
    summary = analyze(dd, [DAY], memory_limit=args.memory_limit, threads=args.threads)
    elapsed = time.monotonic() - t2
    n = len(flows)
    print(f"records            {n:,}")
    print(f"baseline GROUP BY  {baseline:.2f}s  ({n / baseline:,.0f} rows/s, {groups[0] if groups else 0:,} groups)")
    print(f"analyze            {elapsed:.2f}s  ({n / elapsed:,.0f} rows/s)")
    print(f"ratio              {elapsed / baseline:.2f}x  (target <= 3x)")
    print(f"peak RSS           {peak_rss_mb():,.0f} MB  (memory_limit {args.memory_limit}, threads {args.threads})")
    print(f"summary            {summary.days[0].to_dict()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
