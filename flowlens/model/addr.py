"""Addresses and CIDRs as sortable keys, so that address-in-range is a plain range join.

Every address maps into one 128-bit space: IPv6 as itself, IPv4 as its IPv4-mapped IPv6
address (``::ffff:a.b.c.d``). A key is that number as 32 lowercase hex digits, so string order
is numeric order in DuckDB, Spark and Trino alike. The family is kept beside the key, because
``::/0`` must not match IPv4 traffic.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

_V4_MAPPED = 0xFFFF << 32


def _key(n: int) -> str:
    return f"{n:032x}"


@dataclass(frozen=True)
class AddrRange:
    """A CIDR as its canonical text, address family and inclusive key bounds."""

    cidr: str
    family: int  # 4 or 6
    lo: str
    hi: str

    def contains_key(self, key: str) -> bool:
        return self.lo <= key <= self.hi


def addr_key(address: str) -> str:
    """The sortable key of one IPv4 or IPv6 address.

    >>> addr_key("10.0.0.1")
    '00000000000000000000ffff0a000001'
    >>> addr_key("::1")
    '00000000000000000000000000000001'
    """
    ip = ipaddress.ip_address(address.strip())
    n = int(ip) | _V4_MAPPED if ip.version == 4 else int(ip)
    return _key(n)


def addr_family(address: str) -> int:
    return ipaddress.ip_address(address.strip()).version


def cidr_range(cidr: str) -> AddrRange:
    """Canonical CIDR text and bounds; host bits are cleared as the EC2 API does.

    >>> r = cidr_range("100.68.0.18/18")
    >>> r.cidr, r.family
    ('100.68.0.0/18', 4)
    """
    net = ipaddress.ip_network(cidr.strip(), strict=False)
    lo, hi = int(net.network_address), int(net.broadcast_address)
    if net.version == 4:
        lo, hi = lo | _V4_MAPPED, hi | _V4_MAPPED
    return AddrRange(str(net), net.version, _key(lo), _key(hi))


def key_to_address(key: str, family: int) -> str:
    """Inverse of :func:`addr_key`."""
    n = int(key, 16)
    if family == 4:
        return str(ipaddress.IPv4Address(n & 0xFFFFFFFF))
    return str(ipaddress.IPv6Address(n))
