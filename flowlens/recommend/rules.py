"""SG rules and observed flows as values, and the maths of "does this rule allow that flow".

The matching semantics are docs/analysis.md#the-enis-own-side-and-matching: protocol -1 matches
every protocol; ports apply to TCP and UDP only (ICMP type/code never appear in flow logs, so an
ICMP rule matches any ICMP flow of its family; other protocols ignore ports); the peer is a CIDR (v4
or v6, never across families), the private addresses of the ENIs in a referenced SG, or
a prefix list's entries.

Pure: no boto3, no duckdb.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from flowlens.model.net import ALL, ICMP, ICMPS, ICMPV6, PORTED, TCP, UDP, WORLD, PeerType, Rule

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

__all__ = [
    "ALL",
    "ICMP",
    "ICMPS",
    "ICMPV6",
    "PORTED",
    "TCP",
    "UDP",
    "WORLD",
    "Flow",
    "PeerContext",
    "Rule",
    "address",
    "admits",
    "allowed_by_any",
    "allows",
    "is_subset",
    "network",
    "rule_subset",
]


@lru_cache(maxsize=65536)
def network(cidr: str) -> IpNetwork:
    """A CIDR parsed once (host bits cleared as the EC2 API does)."""
    return ipaddress.ip_network(cidr, strict=False)


@lru_cache(maxsize=1 << 20)
def address(text: str) -> IpAddress:
    return ipaddress.ip_address(text)


def allows(rule: Rule, flow: Flow, ctx: PeerContext) -> bool:
    """True when ``rule`` admits ``flow`` (the initiating direction, as seen on the ENI)."""
    return admits(rule, flow) and ctx.peer_contains(rule.peer_type, rule.peer, flow.peer_addr)


def admits(rule: Rule, flow: Flow) -> bool:
    """Direction, protocol and ports of ``rule`` admit ``flow``: :func:`allows` without the peer."""
    if flow.direction != rule.direction:
        return False
    if rule.ip_protocol != ALL and rule.ip_protocol != flow.protocol:
        return False
    ports = rule.port_range()
    return ports is None or (flow.port is not None and ports[0] <= flow.port <= ports[1])


@dataclass(frozen=True)
class Flow:
    """An observed initiating connection as one ENI's rules see it (a conversations row).

    ``peer_addr`` is the other side; ``port`` the responder's (service) port.
    """

    direction: str
    protocol: int
    peer_addr: str
    port: int | None


@dataclass(frozen=True)
class PeerContext:
    """What SG references and prefix lists stand for: member addresses and list entries."""

    sg_members: Mapping[str, frozenset[str]] = field(default_factory=dict)
    sg_member_prefixes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    prefix_lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def peer_contains(self, peer_type: str, peer: str, addr: str) -> bool:
        ip = address(addr)
        if peer_type in (PeerType.CIDR4, PeerType.CIDR6):
            net = network(peer)
            return net.version == ip.version and ip in net
        if peer_type == PeerType.SG:
            if addr in self.sg_members.get(peer, frozenset()):
                return True
            return _in_any(ip, self.sg_member_prefixes.get(peer, ()))
        if peer_type == PeerType.PREFIX_LIST:
            return _in_any(ip, self.prefix_lists.get(peer, ()))
        return False


def _in_any(ip: IpAddress, cidrs: Iterable[str]) -> bool:
    return any(network(c).version == ip.version and ip in network(c) for c in cidrs)


def allowed_by_any(rules: Iterable[Rule], flow: Flow, ctx: PeerContext) -> bool:
    """SG rules are a union: one rule admitting the flow is enough."""
    return any(allows(r, flow, ctx) for r in rules)


def _protocol_subset(new: Rule, old: Rule) -> bool:
    return old.ip_protocol == ALL or new.ip_protocol == old.ip_protocol


def _ports_subset(new: Rule, old: Rule) -> bool:
    if old.ip_protocol == ALL or old.ip_protocol not in PORTED | ICMPS:
        return True
    if old.ip_protocol in ICMPS:
        # type/code: -1 (all) covers anything; otherwise they must be the same pair.
        if old.from_port is None or old.from_port < 0:
            return True
        if old.to_port is None or old.to_port < 0:
            return new.from_port == old.from_port
        return (new.from_port, new.to_port) == (old.from_port, old.to_port)
    old_range, new_range = old.port_range(), new.port_range()
    if old_range is None:
        return True
    return new_range is not None and old_range[0] <= new_range[0] and new_range[1] <= old_range[1]


def _peer_subset(new: Rule, old: Rule, ctx: PeerContext) -> bool:
    if new.peer_type == old.peer_type and new.peer == old.peer:
        return True
    if old.peer_type.is_cidr:
        outer = network(old.peer)
        if new.peer_type.is_cidr:
            inner = network(new.peer)
            return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]
        if new.peer_type is PeerType.PREFIX_LIST:
            entries = ctx.prefix_lists.get(new.peer, ())
            return bool(entries) and all(_net_within(network(e), outer) for e in entries)
        return False  # an SG reference is never provably inside a CIDR: membership changes
    if old.peer_type is PeerType.PREFIX_LIST and new.peer_type.is_cidr:
        inner = network(new.peer)
        return any(_net_within(inner, network(e)) for e in ctx.prefix_lists.get(old.peer, ()))
    return False


def _net_within(inner: IpNetwork, outer: IpNetwork) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def rule_subset(new: Rule, old: Rule, ctx: PeerContext) -> bool:
    """Everything ``new`` allows, ``old`` allows too (for any flow, not just observed ones)."""
    return (
        new.direction == old.direction
        and _protocol_subset(new, old)
        and (new.ip_protocol != ALL or old.ip_protocol == ALL)
        and _ports_subset(new, old)
        and _peer_subset(new, old, ctx)
    )


def is_subset(new_rules: Iterable[Rule], old_rule: Rule, ctx: PeerContext | None = None) -> bool:
    """True when a proposal never widens: each proposed rule lies inside the rule it replaces.

    >>> old = Rule("ingress", 6, 22, 22, "cidr4", "0.0.0.0/0")
    >>> is_subset([Rule("ingress", 6, 22, 22, "cidr4", "198.51.100.7/32")], old)
    True
    >>> is_subset([Rule("ingress", 6, 22, 23, "cidr4", "198.51.100.7/32")], old)
    False
    >>> is_subset([Rule("ingress", 6, 22, 22, "sg", "sg-1")], old)  # a marked replacement
    False
    """
    context = ctx or PeerContext()
    return all(rule_subset(n, old_rule, context) for n in new_rules)
