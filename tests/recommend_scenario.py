"""A hand-made scenario (inventory + rule_usage + conversations) written as a data directory.

Not a test module itself: tests import :func:`write_scenario`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from flowlens.atomic import write_parquet_atomic
from flowlens.datadir import DataDir
from flowlens.model.addr import addr_key, cidr_range
from flowlens.model.inventory import INVENTORY_SCHEMAS
from flowlens.model.results import RESULT_SCHEMAS

DAY = date(2026, 11, 28)
START = datetime(2026, 11, 28, tzinfo=UTC)
END = datetime(2026, 11, 29, tzinfo=UTC)
VPC = "vpc-1"

#: 30 public addresses in 30 different /8 blocks: a web port's real clientele.
WEB_CLIENTS = [
    f"{a}.20.30.40"
    for a in (
        3,
        13,
        18,
        23,
        34,
        35,
        44,
        45,
        50,
        52,
        54,
        63,
        64,
        66,
        69,
        72,
        74,
        76,
        80,
        81,
        82,
        84,
        85,
        86,
        88,
        89,
        91,
        93,
        94,
        95,
    )
]

ENIS = {
    "eni-web1": ("10.0.1.10", ["sg-web"]),
    "eni-web2": ("10.0.1.11", ["sg-web"]),
    "eni-app1": ("10.0.3.5", ["sg-app"]),
    "eni-app2": ("10.0.3.6", ["sg-app"]),
    "eni-db1": ("10.0.2.20", ["sg-db"]),
}

# rule_id: (group, direction, proto, from, to, peer_type, peer, status, sole_flows, tags)
RULES: dict[str, tuple[Any, ...]] = {
    "sgr-ssh": ("sg-web", "ingress", 6, 22, 22, "cidr4", "0.0.0.0/0", "used", 2, {}),
    "sgr-http": ("sg-web", "ingress", 6, 443, 443, "cidr4", "0.0.0.0/0", "used", 30, {}),
    "sgr-egress": ("sg-web", "egress", -1, None, None, "cidr4", "0.0.0.0/0", "used", 2, {}),
    "sgr-unused": ("sg-web", "ingress", 6, 8080, 8080, "cidr4", "10.0.0.0/16", "unused", 0, {}),
    "sgr-db": ("sg-db", "ingress", 6, 5432, 5432, "cidr4", "10.0.0.0/16", "used", 2, {}),
    "sgr-dup1": ("sg-db", "ingress", 6, 6379, 6379, "cidr4", "10.0.3.0/24", "used", 0, {}),
    "sgr-dup2": ("sg-db", "ingress", 6, 6379, 6379, "cidr4", "10.0.3.0/25", "used", 0, {}),
    "sgr-stale": ("sg-db", "ingress", 6, 9000, 9000, "cidr4", "10.0.0.0/16", "unused", 0, {}),
    "sgr-nocov": ("sg-db", "ingress", 6, 7000, 7000, "cidr4", "10.0.0.0/16", "no_coverage", 0, {}),
    "sgr-excluded": (
        "sg-db",
        "ingress",
        6,
        22,
        22,
        "cidr4",
        "0.0.0.0/0",
        "unused",
        0,
        {"flowlens:exclude": "yes"},
    ),
    "sgr-s3": ("sg-app", "egress", 6, 443, 443, "cidr4", "0.0.0.0/0", "used", 2, {}),
}

# (eni, rule_direction, protocol, peer, service_port, flows)
FLOWS: list[tuple[str, str, int, str, int, int]] = [
    ("eni-web1", "ingress", 6, "198.51.100.7", 22, 5),
    ("eni-web2", "ingress", 6, "203.0.113.9", 22, 3),
    *[("eni-web1", "ingress", 6, c, 443, 1) for c in WEB_CLIENTS],
    ("eni-web1", "egress", 6, "198.51.100.20", 443, 4),
    ("eni-web2", "egress", 6, "203.0.113.50", 443, 2),
    ("eni-db1", "ingress", 6, "10.0.3.5", 5432, 7),
    ("eni-db1", "ingress", 6, "10.0.3.6", 5432, 6),
    ("eni-db1", "ingress", 6, "10.0.3.5", 6379, 2),
    ("eni-db1", "ingress", 6, "10.0.3.6", 9000, 1),
    ("eni-app1", "egress", 6, "52.216.1.1", 443, 3),
    ("eni-app2", "egress", 6, "52.217.2.2", 443, 3),
]


def _table(name: str, rows: list[dict[str, Any]], schemas: dict[str, pa.Schema]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schemas[name])


def _rule_row(rule_id: str, spec: tuple[Any, ...]) -> dict[str, Any]:
    group, direction, proto, lo, hi, ptype, peer, _status, _sole, tags = spec
    r = cidr_range(peer) if ptype.startswith("cidr") else None
    return {
        "rule_id": rule_id,
        "rule_id_source": "api",
        "group_id": group,
        "vpc_id": VPC,
        "region": "us-east-1",
        "direction": direction,
        "ip_protocol": proto,
        "from_port": lo,
        "to_port": hi,
        "peer_type": ptype,
        "peer": peer,
        "peer_family": r.family if r else None,
        "peer_lo": r.lo if r else None,
        "peer_hi": r.hi if r else None,
        "description": f"{rule_id} rule",
        "tags": list(tags.items()),
    }


def inventory_tables() -> dict[str, pa.Table]:
    s = INVENTORY_SCHEMAS
    groups = sorted({g for _ip, gs in ENIS.values() for g in gs})
    return {
        "sg_rules": _table("sg_rules", [_rule_row(k, v) for k, v in RULES.items()], s),
        "security_groups": _table(
            "security_groups",
            [
                {"group_id": g, "group_name": g, "vpc_id": VPC, "region": "us-east-1", "tags": []}
                for g in groups
            ],
            s,
        ),
        "enis": _table(
            "enis",
            [
                {
                    "eni_id": e,
                    "vpc_id": VPC,
                    "private_ip": ip,
                    "interface_type": "interface",
                    "tags": [],
                }
                for e, (ip, _g) in ENIS.items()
            ],
            s,
        ),
        "eni_groups": _table(
            "eni_groups",
            [
                {"eni_id": e, "group_id": g, "group_name": g}
                for e, (_ip, gs) in ENIS.items()
                for g in gs
            ],
            s,
        ),
        "eni_ips": _table(
            "eni_ips",
            [
                {
                    "eni_id": e,
                    "address": ip,
                    "kind": "primary4",
                    "family": 4,
                    "lo": addr_key(ip),
                    "hi": addr_key(ip),
                }
                for e, (ip, _g) in ENIS.items()
            ],
            s,
        ),
        "prefix_lists": _table(
            "prefix_lists",
            [
                {
                    "prefix_list_id": "pl-s3",
                    "prefix_list_name": "com.amazonaws.us-east-1.s3",
                    "address_family": "IPv4",
                    "max_entries": None,
                    "version": 1,
                    "state": "create-complete",
                    "owner_id": "AWS",
                    "region": "us-east-1",
                    "aws_managed": True,
                }
            ],
            s,
        ),
        "prefix_list_entries": _table(
            "prefix_list_entries",
            [
                {
                    "prefix_list_id": "pl-s3",
                    "version": 1,
                    "cidr": "52.216.0.0/15",
                    "family": 4,
                    "lo": cidr_range("52.216.0.0/15").lo,
                    "hi": cidr_range("52.216.0.0/15").hi,
                }
            ],
            s,
        ),
    }


def result_tables() -> dict[str, pa.Table]:
    usage = [
        {
            "rule_id": k,
            "group_id": v[0],
            "direction": v[1],
            "status": v[7],
            "flows": sum(f[5] for f in FLOWS) if v[7] == "used" else 0,
            "connections": 1,
            "sole_flows": v[8],
            "window_start": START,
            "window_end": END,
            "status_reason": "",
        }
        for k, v in RULES.items()
    ]
    convs = []
    for i, (eni, direction, proto, peer, port, flows) in enumerate(FLOWS):
        local = ENIS[eni][0]
        init, resp = (peer, local) if direction == "ingress" else (local, peer)
        convs.append(
            {
                "eni_id": eni,
                "family": 4,
                "protocol": proto,
                "initiator_addr": init,
                "initiator_port": 40000 + i,
                "responder_addr": resp,
                "responder_port": port,
                "eni_role": "responder" if direction == "ingress" else "initiator",
                "rule_direction": direction,
                "peer_addr": peer,
                "service_port": port,
                "decided_by": "tcp_flags",
                "confidence": "high",
                "accepted": True,
                "flows": flows,
                "reply_flows": flows,
                "rejected_flows": 0,
                "packets": 10 * flows,
                "bytes": 1000 * flows,
                "first_seen": START,
                "last_seen": END,
            }
        )
    # a reply-side row and a rejected row: neither may count
    convs.append({**convs[0], "eni_role": "transit"})
    convs.append({**convs[0], "peer_addr": "192.0.2.99", "accepted": False})
    return {
        "rule_usage": _table("rule_usage", usage, RESULT_SCHEMAS),
        "conversations": _table("conversations", convs, RESULT_SCHEMAS),
    }


def write_scenario(root: Path) -> DataDir:
    dd = DataDir(root)
    snap = dd.snapshot_dir("20261129T010000Z")
    for name, table in inventory_tables().items():
        write_parquet_atomic(table, snap / f"{name}.parquet")
    for name, table in result_tables().items():
        write_parquet_atomic(table, dd.results_dir(DAY) / f"{name}.parquet")
    return dd
