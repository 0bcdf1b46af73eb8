"""Address keys and small reference tables the SQL joins on; pure Python, no DuckDB.

Every range test in the analysis SQL is ``family = family AND key BETWEEN lo AND hi`` on the
keys of :mod:`flowlens.model.addr`, so the same SQL runs on Spark and Trino. The distinct
addresses of a day are few (thousands), so computing their keys here is cheap.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from flowlens import arrays
from flowlens.model.addr import cidr_range, family_and_key
from flowlens.model.net import PROTOCOL_NAMES

log = logging.getLogger(__name__)

ADDR_KEYS_SCHEMA = pa.schema([("addr", pa.string()), ("family", pa.int8()), ("key", pa.string())])
#: The analysis's addr_keys: each address also as integers, so the per-conversation joins and
#: groupings hash numbers, not strings (sql/analyze/30_conversation_sides.sql).
ADDR_IDS_SCHEMA = pa.schema(
    [*ADDR_KEYS_SCHEMA, pa.field("addr_id", pa.int64()), pa.field("key_id", pa.int64())]
)
RANGES_SCHEMA = pa.schema(
    [
        ("owner", pa.string()),
        ("family", pa.int8()),
        ("lo", pa.string()),
        ("hi", pa.string()),
        ("what", pa.string()),
    ]
)
ADMIN_PORTS_SCHEMA = pa.schema([("port", pa.int32()), ("service", pa.string())])
PORT_OFFSETS_SCHEMA = pa.schema([("port_offset", pa.int32())])

#: The widest inbound SG rule port range whose every port counts as a listening port (initiator
#: evidence, sql/analyze/30_conversation_sides.sql): wider ranges say nothing about a port.
LISTENING_RANGE_PORTS = 256
PROTOCOL_NAMES_SCHEMA = pa.schema([("protocol", pa.int32()), ("name", pa.string())])

#: Ports whose exposure to the whole internet is a finding (remote admin and databases).
ADMIN_PORTS: tuple[tuple[int, str], ...] = (
    (22, "SSH"),
    (23, "Telnet"),
    (3389, "RDP"),
    (5900, "VNC"),
    (445, "SMB"),
    (135, "MS RPC"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (3306, "MySQL"),
    (5432, "PostgreSQL"),
    (6379, "Redis"),
    (27017, "MongoDB"),
    (9200, "Elasticsearch"),
    (9300, "Elasticsearch transport"),
    (5601, "Kibana"),
    (11211, "Memcached"),
    (2375, "Docker API"),
    (2379, "etcd"),
    (5984, "CouchDB"),
    (9042, "Cassandra"),
    (8086, "InfluxDB"),
)

#: Link-local service addresses whose traffic flow logs never record
#: (docs/flow-logs.md#traffic-flow-logs-never-record).
NEVER_LOGGED: tuple[tuple[str, str], ...] = (
    ("169.254.169.254/32", "the instance metadata service (IMDS)"),
    ("fd00:ec2::254/128", "the instance metadata service (IMDS, IPv6)"),
    ("169.254.169.123/32", "the Amazon Time Sync Service"),
    ("fd00:ec2::123/128", "the Amazon Time Sync Service (IPv6)"),
    ("169.254.169.253/32", "the Amazon DNS server (Route 53 Resolver)"),
    ("fd00:ec2::253/128", "the Amazon DNS server (Route 53 Resolver, IPv6)"),
)


@dataclass(frozen=True)
class AddrKey:
    addr: str
    family: int
    key: str


def address_keys(addresses: Iterable[str | None]) -> list[AddrKey]:
    """Keys of the distinct parseable addresses, in first-seen order; unparseable ones are logged
    and left out (they match nothing).

    >>> [(k.addr, k.family) for k in address_keys(["10.0.0.1", "::1", "bogus", None, "10.0.0.1"])]
    [('10.0.0.1', 4), ('::1', 6)]
    """
    out: list[AddrKey] = []
    bad = 0
    for addr in dict.fromkeys(
        a for a in addresses if a
    ):  # a dict keeps order; a set's depends on PYTHONHASHSEED
        try:
            family, key = family_and_key(addr)
        except ValueError:
            bad += 1
            continue
        out.append(AddrKey(addr, family, key))
    if bad:
        log.warning("%d flow addresses are not IP addresses; their flows match no rule", bad)
    return out


def addr_keys_table(addresses: Iterable[str | None]) -> pa.Table:
    keys = address_keys(addresses)
    return arrays.table(
        {
            "addr": [k.addr for k in keys],
            "family": [k.family for k in keys],
            "key": [k.key for k in keys],
        },
        schema=ADDR_KEYS_SCHEMA,
    )


def addr_ids_table(addresses: Iterable[str | None]) -> pa.Table:
    """:func:`addr_keys_table` plus two dense integer ids: ``addr_id``, one per address text, and
    ``key_id``, one per key in key order (equal keys, equal ids; so ``key_id`` order is address
    order and a CIDR's addresses have consecutive ids).

    >>> t = addr_ids_table(["10.0.0.9", "::1", "10.0.0.10", "10.0.0.9"]).to_pylist()
    >>> [(r["addr"], r["addr_id"], r["key_id"]) for r in t]
    [('10.0.0.9', 0, 1), ('::1', 1, 0), ('10.0.0.10', 2, 2)]
    """
    keys = address_keys(addresses)
    rank = {key: n for n, key in enumerate(sorted({k.key for k in keys}))}
    return arrays.table(
        {
            "addr": [k.addr for k in keys],
            "family": [k.family for k in keys],
            "key": [k.key for k in keys],
            "addr_id": range(len(keys)),
            "key_id": [rank[k.key] for k in keys],
        },
        schema=ADDR_IDS_SCHEMA,
    )


def vpc_resolver_address(cidr: str) -> str | None:
    """The Amazon DNS server of a VPC CIDR: its base address plus two (the "VPC+2" address).

    >>> vpc_resolver_address("10.0.0.0/16")
    '10.0.0.2'
    """
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None
    return str(net.network_address + 2) if net.version == 4 else None


def never_logged_table(
    vpc_cidrs: Iterable[tuple[str, str]], vpc_subnets: Iterable[tuple[str, str]] = ()
) -> pa.Table:
    """Ranges whose traffic flow logs never record: link-local services, each VPC's resolver and
    the addresses AWS reserves in every subnet.

    ``vpc_cidrs``: (vpc_id, CIDR) from describe-vpcs; ``vpc_subnets``: (vpc_id, subnet CIDR).
    AWS reserves the first four and the last address of every IPv4 subnet (network, VPC router,
    DNS, future use; broadcast): no ENI holds them. The resolver is the primary VPC CIDR's base
    plus two. Without describe-vpcs the VPC's CIDR is unknown, so every address that could be its
    base plus two (an aligned /16../28 block around one of its subnets, plus two) is a candidate.
    """
    rows = [("*", cidr, what) for cidr, what in NEVER_LOGGED]
    known: set[str] = set()
    for vpc_id, cidr in vpc_cidrs:
        known.add(vpc_id)
        resolver = vpc_resolver_address(cidr)
        if resolver:
            rows.append(
                (vpc_id, f"{resolver}/32", f"the VPC resolver {resolver} (VPC+2) of {vpc_id}")
            )
    unknown: set[str] = set()
    for vpc_id, cidr in set(vpc_subnets):
        net = _ipv4_network(cidr)
        if net is None:
            continue
        rows += [
            (
                vpc_id,
                f"{net.network_address}/30",
                f"the subnet-reserved addresses (network, router, DNS, future use) of {cidr}",
            ),
            (
                vpc_id,
                f"{net.broadcast_address}/32",
                f"the subnet-reserved broadcast address of {cidr}",
            ),
        ]
        if vpc_id not in known:
            unknown.add(vpc_id)
            rows += [
                (
                    vpc_id,
                    f"{c}/32",
                    f"the VPC resolver (VPC+2) of {vpc_id} if its primary CIDR starts at {base}; "
                    "describe-vpcs was not given",
                )
                for base, c in candidate_resolvers(net)
            ]
    if unknown:
        log.warning(
            "VPC CIDRs unknown for %s: the inventory has no describe-vpcs output for them; the "
            "VPC resolver is taken to be any address AWS reserves in their subnets or could be "
            "VPC+2 (add describe-vpcs to the inventory to pin it)",
            ", ".join(sorted(unknown)),
        )
    return _ranges(sorted(set(rows)))


def _ipv4_network(cidr: str) -> ipaddress.IPv4Network | None:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None
    return net if isinstance(net, ipaddress.IPv4Network) else None


def candidate_resolvers(subnet: ipaddress.IPv4Network) -> list[tuple[str, str]]:
    """(possible VPC CIDR, its base + 2) for every /16../28 block that could hold ``subnet``.

    >>> candidate_resolvers(ipaddress.ip_network("10.0.5.0/24"))[-1]
    ('10.0.5.0/24', '10.0.5.2')
    >>> len({c for _, c in candidate_resolvers(ipaddress.ip_network("10.0.5.0/24"))})
    3
    """
    out: list[tuple[str, str]] = []
    for prefix in range(16, min(subnet.prefixlen, 28) + 1):
        block = subnet.supernet(new_prefix=prefix)
        out.append((str(block), str(block.network_address + 2)))
    return out


def subnet_ranges_table(subnets: Iterable[tuple[str, str]]) -> pa.Table:
    """(subnet_id, cidr) pairs as key ranges; bad CIDRs are skipped with a warning."""
    return _ranges((sid, cidr, "subnet") for sid, cidr in subnets)


def admin_ports_table() -> pa.Table:
    return arrays.table(
        {"port": [p for p, _ in ADMIN_PORTS], "service": [s for _, s in ADMIN_PORTS]},
        schema=ADMIN_PORTS_SCHEMA,
    )


def port_offsets_table() -> pa.Table:
    """0 .. LISTENING_RANGE_PORTS - 1: expands a rule's port range into its ports, portable SQL."""
    return arrays.table(
        {"port_offset": list(range(LISTENING_RANGE_PORTS))}, schema=PORT_OFFSETS_SCHEMA
    )


def protocol_names_table() -> pa.Table:
    """The model's one protocol number → name table (:data:`flowlens.model.net.PROTOCOL_NAMES`)
    as the relation ``protocol_names`` the queries name protocols by, so the SQL holds no copy.

    Its ``-1`` (``all``) is a rule's protocol, never a flow's (flow logs record 0-255).

    >>> protocol_names_table().to_pylist()[0]
    {'protocol': 6, 'name': 'tcp'}
    """
    return arrays.table(
        {"protocol": list(PROTOCOL_NAMES), "name": list(PROTOCOL_NAMES.values())},
        schema=PROTOCOL_NAMES_SCHEMA,
    )


def _ranges(rows: Iterable[tuple[str, str, str]]) -> pa.Table:
    cols: dict[str, list[object]] = {"owner": [], "family": [], "lo": [], "hi": [], "what": []}
    for owner, cidr, what in rows:
        try:
            r = cidr_range(cidr)
        except ValueError:
            log.warning("%s: %r is not a CIDR; ignored", owner, cidr)
            continue
        for name, value in zip(cols, (owner, r.family, r.lo, r.hi, what), strict=True):
            cols[name].append(value)
    return arrays.table(cols, schema=RANGES_SCHEMA)
