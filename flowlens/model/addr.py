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
    return family_and_key(address)[1]


_DIGITS = frozenset("0123456789")


def family_and_key(address: str) -> tuple[int, str]:
    """The family (4 or 6) and :func:`addr_key` of an address, parsed once; ``ValueError`` for
    text that is not one, exactly as :func:`ipaddress.ip_address` decides.

    Dotted-quad IPv4 (nearly every flow address) is read here without ``ipaddress``, which costs
    ~4 µs an address: a day of 150k distinct addresses spent over a second on it. Anything that
    is not plain dotted-quad text (IPv6, or text ``ipaddress`` must judge) goes to ``ipaddress``.

    >>> family_and_key("10.0.0.1"), family_and_key(" ::1 ")[0]
    ((4, '00000000000000000000ffff0a000001'), 6)
    """
    text = address.strip()
    parts = text.split(".")
    if len(parts) == 4:
        n = 0
        for part in parts:
            # ipaddress's rules for an octet: 1-3 ASCII digits, no leading zero, at most 255
            if not 0 < len(part) <= 3 or not _DIGITS.issuperset(part):
                break
            if part[0] == "0" and len(part) > 1:
                break
            octet = int(part)
            if octet > 255:
                break
            n = n << 8 | octet
        else:
            return 4, _key(n | _V4_MAPPED)
    ip = ipaddress.ip_address(text)
    return ip.version, _key(int(ip) | _V4_MAPPED if ip.version == 4 else int(ip))


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
