"""Counts and rules said in words a reviewer reads: "2 addresses on tcp/22", "4.3 billion".

Pure: no pandas, no I/O. Exposure figures reach 2**128 × 65,536 (IPv6); scientific notation
(1.69e15) tells a reviewer nothing, so large counts are named ("1.7 quadrillion") and beyond the
named scales given as a power of ten.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from flowlens.model.net import ALL, TCP, UDP, Rule

_SCALES = (
    (10**18, "quintillion"),
    (10**15, "quadrillion"),
    (10**12, "trillion"),
    (10**9, "billion"),
    (10**6, "million"),
)
_PROTOCOLS = {TCP: "tcp", UDP: "udp", 1: "icmp", 58: "icmpv6"}


def count(n: int) -> str:
    """A count in words: exact below a million, then named scales, then ``10^N``.

    >>> count(2), count(65_536), count(4_294_967_296), count(2**32 * 65_536)
    ('2', '65,536', '4.3 billion', '281.5 trillion')
    >>> count(2**128)
    '~10^38'
    """
    if n < 1_000_000:
        return f"{n:,}"
    for scale, name in _SCALES:
        if n >= scale:
            if n >= scale * 1000:  # beyond the largest name
                return f"~10^{len(str(n)) - 1}"
            return f"{n / scale:.1f}".removesuffix(".0") + f" {name}"
    return f"{n:,}"  # pragma: no cover  (every n ≥ 10**6 has a scale)


def plural(n: int, word: str) -> str:
    """``"1 address"``, ``"2 addresses"``, ``"4.3 billion addresses"``."""
    noun = (
        word if n == 1 else (word + "es" if word.endswith(("s", "x", "sh", "ch")) else word + "s")
    )
    return f"{count(n)} {noun}"


def ports(rule: Rule) -> str:
    """The service part of a rule: ``tcp/22``, ``tcp/8000-8100``,
    ``all tcp ports``, ``all traffic``.

    >>> ssh, everything = Rule("ingress", 6, 22, 22, "cidr4", "0.0.0.0/0"), Rule(
    ...     "ingress", -1, None, None, "cidr6", "::/0"
    ... )
    >>> ports(ssh), ports(everything)
    ('tcp/22', 'all traffic')
    """
    if rule.ip_protocol == ALL:
        return "all traffic"
    name = _PROTOCOLS.get(rule.ip_protocol, f"protocol {rule.ip_protocol}")
    if rule.ip_protocol not in (TCP, UDP):
        return name
    lo = 0 if rule.from_port is None or rule.from_port < 0 else rule.from_port
    hi = 65535 if rule.to_port is None or rule.to_port < 0 else rule.to_port
    if lo == 0 and hi == 65535:
        return f"all {name} ports"
    return f"{name}/{lo}" if lo == hi else f"{name}/{lo}-{hi}"


def addresses(rule: Rule, resolve: Mapping[str, Sequence[str]]) -> int | None:
    """How many addresses the rule's peer stands for (None: an SG or prefix
    list with no known members)."""
    if rule.peer_type.is_cidr:
        try:
            return ipaddress.ip_network(rule.peer.strip(), strict=False).num_addresses
        except ValueError:
            return None
    cidrs = resolve.get(rule.peer, ())
    if not cidrs:
        return None
    return sum(ipaddress.ip_network(c.strip(), strict=False).num_addresses for c in cidrs)


def reach(rule: Rule, resolve: Mapping[str, Sequence[str]]) -> str:
    """What a rule lets through, in words: ``"2 addresses on tcp/22"``.

    >>> reach(Rule("ingress", 6, 22, 22, "cidr4", "0.0.0.0/0"), {})
    '4.3 billion addresses on tcp/22'
    >>> reach(Rule("ingress", 6, 22, 22, "sg", "sg-1"), {"sg-1": ["10.0.0.5/32", "10.0.0.6/32"]})
    '2 addresses on tcp/22'
    """
    n = addresses(rule, resolve)
    who = plural(n, "address") if n is not None else f"the members of {rule.peer} (none known)"
    return f"{who} on {ports(rule)}"
