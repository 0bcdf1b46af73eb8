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

from flowlens.model.addr import addr_key, cidr_range

log = logging.getLogger(__name__)

ADDR_KEYS_SCHEMA = pa.schema([("addr", pa.string()), ("family", pa.int8()), ("key", pa.string())])
RANGES_SCHEMA = pa.schema(
    [("owner", pa.string()), ("family", pa.int8()), ("lo", pa.string()), ("hi", pa.string()), ("what", pa.string())]
)
ADMIN_PORTS_SCHEMA = pa.schema([("port", pa.int32()), ("service", pa.string())])

#: Ports whose exposure to the whole internet is a finding (remote admin and databases).
ADMIN_PORTS: tuple[tuple[int, str], ...] = (
    (22, "SSH"), (23, "Telnet"), (3389, "RDP"), (5900, "VNC"), (445, "SMB"), (135, "MS RPC"),
    (1433, "SQL Server"), (1521, "Oracle"), (3306, "MySQL"), (5432, "PostgreSQL"),
    (6379, "Redis"), (27017, "MongoDB"), (9200, "Elasticsearch"), (9300, "Elasticsearch transport"),
    (5601, "Kibana"), (11211, "Memcached"), (2375, "Docker API"), (2379, "etcd"), (5984, "CouchDB"),
    (9042, "Cassandra"), (8086, "InfluxDB"),
)

#: Link-local service addresses whose traffic flow logs never record (docs/flow-logs.md#traffic-flow-logs-never-record).
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
    for addr in dict.fromkeys(a for a in addresses if a):  # a dict keeps order; a set's depends on PYTHONHASHSEED
        try:
            family = ipaddress.ip_address(addr.strip()).version
        except ValueError:
            bad += 1
            continue
        out.append(AddrKey(addr, family, addr_key(addr)))
    if bad:
        log.warning("%d flow addresses are not IP addresses; their flows match no rule", bad)
    return out


def addr_keys_table(addresses: Iterable[str | None]) -> pa.Table:
    keys = address_keys(addresses)
    return pa.table(
        {"addr": [k.addr for k in keys], "family": [k.family for k in keys], "key": [k.key for k in keys]},
        schema=ADDR_KEYS_SCHEMA,
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


def never_logged_table(vpc_cidrs: Iterable[tuple[str, str]]) -> pa.Table:
    """Ranges whose traffic flow logs never record: link-local services and each VPC's resolver."""
    rows = [("*", cidr, what) for cidr, what in NEVER_LOGGED]
    for vpc_id, cidr in vpc_cidrs:
        resolver = vpc_resolver_address(cidr)
        if resolver:
            rows.append((vpc_id, f"{resolver}/32", f"the VPC resolver {resolver} (VPC+2) of {vpc_id}"))
    return _ranges(rows)


def subnet_ranges_table(subnets: Iterable[tuple[str, str]]) -> pa.Table:
    """(subnet_id, cidr) pairs as key ranges; bad CIDRs are skipped with a warning."""
    return _ranges((sid, cidr, "subnet") for sid, cidr in subnets)


def admin_ports_table() -> pa.Table:
    return pa.table(
        {"port": [p for p, _ in ADMIN_PORTS], "service": [s for _, s in ADMIN_PORTS]}, schema=ADMIN_PORTS_SCHEMA
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
    return pa.table(cols, schema=RANGES_SCHEMA)
