"""A tiny data directory written straight from the table contracts, for the report tests.

Numbers the tests assert (day 2026-11-28):
  flows: 48 ACCEPT + 12 REJECT + 1 NODATA = 61 records; rejected table: 12 rows
  (9 from 203.0.113.9: 6 sg on tcp/22 + 3 nacl on tcp/3389;
   3 from 192.0.2.50 late_packet on tcp/443)
  rules: used 2, unused 1, no_coverage 1, no_members 1; findings 2; recommendations 2
  plan verification: 48 checked, 0 cut; manifest: 2 ingested + 1 failed, 61 rows, 2 quarantined.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from flowlens.model.flow import FLOW_FILE_SCHEMA
from flowlens.model.inventory import INVENTORY_SCHEMAS
from flowlens.model.results import RESULT_SCHEMAS
from flowlens.model.tables import MANIFEST_SCHEMA, QUARANTINE_SCHEMA

DAY = "2026-11-28"
EVIL = "<script>alert(1)</script>"
#: Markup breaking out of an attribute, and a right-to-left override that would
#: reverse what follows it.
EVIL_ATTR = '"><img src=x onerror="window.__pwned=1">'
RLO = "\u202e"
T0 = int(datetime(2026, 11, 28, tzinfo=UTC).timestamp())
ACCOUNT = "111122223333"


def _write(rows: list[dict[str, Any]], schema: pa.Schema, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def _flow(
    i: int, src: str, dst: str, dport: int, action: str, eni: str = "eni-web"
) -> dict[str, Any]:
    start = T0 + i * 1200
    return {
        "version": 2,
        "interface_id": eni,
        "srcaddr": src,
        "dstaddr": dst,
        "srcport": 40000 + i,
        "dstport": dport,
        "protocol": 6,
        "packets": 10,
        "bytes": 1000 * (i + 1),
        "start": start,
        "end": start + 60,
        "action": action,
        "log_status": "OK",
        "source_key": "AWSLogs/k.log.gz",
    }


def flows() -> list[dict[str, Any]]:
    accepted = [_flow(i, f"198.51.100.{i % 5 + 1}", "10.0.1.10", 443, "ACCEPT") for i in range(48)]
    rejected = [_flow(i, "203.0.113.9", "10.0.1.10", 22, "REJECT") for i in range(6)]
    rejected += [_flow(i + 10, "203.0.113.9", "10.0.1.10", 3389, "REJECT") for i in range(3)]
    rejected += [_flow(i + 20, "192.0.2.50", "10.0.1.10", 443, "REJECT") for i in range(3)]
    nodata = {
        "version": 2,
        "interface_id": "eni-db",
        "start": T0,
        "end": T0 + 60,
        "log_status": "NODATA",
    }
    return [*accepted, *rejected, nodata]


def rejected_rows() -> list[dict[str, Any]]:
    causes = {
        22: ("sg", "no rule of sg-web allows tcp/22"),
        3389: ("nacl", "acl-1 entry 90 denies"),
        443: ("late_packet", "reply after the connection expired"),
    }
    rows = []
    for f in flows():
        if f.get("action") == "REJECT":
            cause, detail = causes[f["dstport"]]
            rows.append({**f, "cause": cause, "cause_detail": detail})
    return rows


SGS = [
    {
        "group_id": "sg-web",
        "group_name": "web",
        "description": "web tier",
        "vpc_id": "vpc-1",
        "is_default": False,
        "tags": [("Name", "web-sg")],
    },
    {
        "group_id": "sg-db",
        "group_name": "db",
        "description": "database",
        "vpc_id": "vpc-1",
        "is_default": False,
        "tags": [],
    },
    {
        "group_id": "sg-evil",
        "group_name": EVIL,
        "description": f"{EVIL}{EVIL_ATTR} {RLO}txt.exe",
        "vpc_id": "vpc-1",
        "is_default": False,
        "tags": [("Owner", EVIL), ("Team", EVIL_ATTR)],
    },
]

RULES = [
    {
        "rule_id": "sgr-web443",
        "group_id": "sg-web",
        "direction": "ingress",
        "ip_protocol": 6,
        "from_port": 443,
        "to_port": 443,
        "peer_type": "cidr4",
        "peer": "0.0.0.0/0",
        "description": "https",
    },
    {
        "rule_id": "sgr-web22",
        "group_id": "sg-web",
        "direction": "ingress",
        "ip_protocol": 6,
        "from_port": 22,
        "to_port": 22,
        "peer_type": "cidr4",
        "peer": "0.0.0.0/0",
        "description": "ssh",
    },
    {
        "rule_id": "sgr-webout",
        "group_id": "sg-web",
        "direction": "egress",
        "ip_protocol": -1,
        "peer_type": "cidr4",
        "peer": "0.0.0.0/0",
        "description": None,
    },
    {
        "rule_id": "sgr-db5432",
        "group_id": "sg-db",
        "direction": "ingress",
        "ip_protocol": 6,
        "from_port": 5432,
        "to_port": 5432,
        "peer_type": "sg",
        "peer": "sg-web",
        "description": "pg",
    },
    {
        "rule_id": "sgr-evil",
        "group_id": "sg-evil",
        "direction": "ingress",
        "ip_protocol": 6,
        "from_port": 8080,
        "to_port": 8080,
        "peer_type": "cidr6",
        "peer": "::/0",
        "description": EVIL,
    },
]

USAGE = [
    ("sgr-web443", "used", 48),
    ("sgr-web22", "used", 3),
    ("sgr-webout", "unused", 0),
    ("sgr-db5432", "no_coverage", 0),
    ("sgr-evil", "no_members", 0),
]

NARROW = [
    {
        "direction": "ingress",
        "ip_protocol": 6,
        "from_port": 22,
        "to_port": 22,
        "peer_type": "cidr4",
        "peer": "198.51.100.7/32",
        "description": "admin",
    }
]
RECS = [
    {
        "rule_id": "sgr-web22",
        "group_id": "sg-web",
        "action": "narrow",
        "proposed": json.dumps(NARROW),
        "evidence": json.dumps({"flows": 3, "peers": 1, "ports": 1, "window_days": 1}),
        "risk": "low",
    },
    {
        "rule_id": "sgr-webout",
        "group_id": "sg-web",
        "action": "remove",
        "proposed": "[]",
        "evidence": json.dumps({"flows": 0, "coverage": "ALL"}),
        "risk": "medium",
    },
]


def plan() -> dict[str, Any]:
    return {
        "window": {"start": f"{DAY}T00:00:00Z", "end": "2026-11-29T00:00:00Z"},
        "verification": {"flows_checked": 48, "flows_cut": 0},
        "recommendations": [
            {**r, "proposed": json.loads(r["proposed"]), "evidence": json.loads(r["evidence"])}
            for r in RECS
        ],
    }


def _inventory(root: Path) -> None:
    snap = root / "inventory" / "snapshot=20261128T000000Z"
    tables: dict[str, list[dict[str, Any]]] = {
        "security_groups": SGS,
        "sg_rules": RULES,
        "enis": [
            {"eni_id": "eni-web", "subnet_id": "subnet-a"},
            {"eni_id": "eni-db", "subnet_id": "subnet-b"},
            {"eni_id": "eni-evil", "subnet_id": "subnet-b"},
        ],
        "eni_groups": [
            {"eni_id": "eni-web", "group_id": "sg-web"},
            {"eni_id": "eni-db", "group_id": "sg-db"},
        ],
        "eni_ips": [
            {"eni_id": "eni-web", "address": "10.0.1.10", "kind": "primary4", "family": 4},
            {"eni_id": "eni-db", "address": "10.0.2.20", "kind": "primary4", "family": 4},
        ],
        "eni_coverage": [
            {"eni_id": "eni-web", "flow_log_id": "fl-1", "via": "vpc", "traffic_type": "ALL"},
            {"eni_id": "eni-db", "flow_log_id": "fl-2", "via": "eni", "traffic_type": "ACCEPT"},
        ],
        "subnets": [
            {
                "subnet_id": "subnet-a",
                "vpc_id": "vpc-1",
                "cidr_block": "10.0.1.0/24",
                "tags": [("Name", "public-a")],
            },
            {"subnet_id": "subnet-b", "vpc_id": "vpc-1", "cidr_block": "10.0.2.0/24", "tags": []},
        ],
    }
    for name, schema in INVENTORY_SCHEMAS.items():
        _write(tables.get(name, []), schema, snap / f"{name}.parquet")


def _results(root: Path) -> None:
    res = root / "results" / f"date={DAY}"
    ws, we = datetime(2026, 11, 28, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC)
    usage = [
        {
            "rule_id": r,
            "group_id": next(x["group_id"] for x in RULES if x["rule_id"] == r),
            "direction": next(x["direction"] for x in RULES if x["rule_id"] == r),
            "status": s,
            "flows": n,
            "connections": n,
            "sole_flows": n,
            "peers": min(n, 5),
            "ports": 1 if n else 0,
            "window_start": ws,
            "window_end": we,
            "status_reason": f"reason for {r}",
        }
        for r, s, n in USAGE
    ]
    _write(usage, RESULT_SCHEMAS["rule_usage"], res / "rule_usage.parquet")
    rej_schema = pa.schema([*FLOW_FILE_SCHEMA, *RESULT_SCHEMAS["rejected"]])
    _write(rejected_rows(), rej_schema, res / "rejected.parquet")
    findings = [
        {
            "finding_id": "f1",
            "kind": "admin_port_open",
            "severity": "high",
            "resource_id": "sg-web",
            "group_id": "sg-web",
            "rule_id": "sgr-web22",
            "title": "SSH open to the world",
            "detail": "tcp/22 from 0.0.0.0/0",
            "evidence": json.dumps({"rule": "sgr-web22"}),
        },
        {
            "finding_id": "f2",
            "kind": "stale_reference",
            "severity": "low",
            "resource_id": "sg-evil",
            "group_id": "sg-evil",
            "rule_id": None,
            "title": f"group {EVIL} has no members",
            "detail": EVIL,
            "evidence": "{}",
        },
    ]
    _write(findings, RESULT_SCHEMAS["findings"], res / "findings.parquet")
    _write(RECS, RESULT_SCHEMAS["recommendations"], res / "recommendations.parquet")
    _write(rule_matches(), RESULT_SCHEMAS["rule_matches"], res / "rule_matches.parquet")
    _write([], RESULT_SCHEMAS["conversations"], res / "conversations.parquet")


#: (rule, peer, port, flows): who used each rule; sgr-web22's only peer is
#: the narrowed-to admin host.
MATCHES = [
    ("sgr-web443", "203.0.113.20", 443, 30),
    ("sgr-web443", "203.0.113.21", 443, 12),
    ("sgr-web443", "198.51.100.7", 443, 6),
    ("sgr-web22", "198.51.100.7", 22, 3),
]


def rule_matches() -> list[dict[str, Any]]:
    first = datetime(2026, 11, 28, 1, tzinfo=UTC)
    return [
        {
            "eni_id": "eni-web",
            "rule_direction": "ingress",
            "protocol": 6,
            "family": 4,
            "peer_addr": peer,
            "service_port": port,
            "rule_id": rule,
            "group_id": "sg-web",
            "matched_via": "cidr",
            "rules_matched": 1,
            "flows": n,
            "connections": n,
            "packets": 10 * n,
            "bytes": 1000 * n,
            "first_seen": first,
            "last_seen": datetime(2026, 11, 28, 2 + n % 20, tzinfo=UTC),
        }
        for rule, peer, port, n in MATCHES
    ]


def _ingest(root: Path) -> None:
    part = root / "flows" / f"account_id={ACCOUNT}" / "region=us-east-1" / f"date={DAY}"
    _write(flows(), FLOW_FILE_SCHEMA, part / "part-0.parquet")
    key = f"AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/2026/11/28/"
    manifest = [
        {
            "source_key": key + "a.log.gz",
            "etag": "e1",
            "size": 1000,
            "status": "ingested",
            "rows": 40,
            "quarantined": 2,
        },
        {
            "source_key": key + "b.log.gz",
            "etag": "e2",
            "size": 500,
            "status": "ingested",
            "rows": 21,
            "quarantined": 0,
        },
        {
            "source_key": key + "c.log.gz",
            "etag": "e3",
            "size": 10,
            "status": "failed",
            "rows": 0,
            "quarantined": 0,
            "error": "not gzip",
        },
        {
            "source_key": f"AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/2026/11/27/old.log.gz",
            "etag": "e0",
            "size": 9,
            "status": "ingested",
            "rows": 999,
            "quarantined": 0,
        },
    ]
    _write(manifest, MANIFEST_SCHEMA, root / "ingest_manifest.parquet")
    quarantine = [
        {
            "source_key": key + "a.log.gz",
            "line_number": n,
            "raw": "garbage",
            "reason": "too few fields",
        }
        for n in (3, 9)
    ]
    _write(quarantine, QUARANTINE_SCHEMA, root / "quarantine" / f"date={DAY}" / "part-0.parquet")


def build(root: Path) -> Path:
    """Write the whole sample data dir under ``root``; returns ``root``."""
    _inventory(root)
    _results(root)
    _ingest(root)
    return root


def build_empty(root: Path) -> Path:
    """A data dir with nothing in it at all."""
    root.mkdir(parents=True, exist_ok=True)
    return root
