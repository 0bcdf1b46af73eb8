"""SG rules and observed flows as values, and the maths of "does this rule allow that flow".

The matching semantics are design.md §5: protocol -1 matches every protocol; ports apply to
TCP and UDP only (ICMP type/code never appear in flow logs, so an ICMP rule matches any ICMP
flow of its family; other protocols ignore ports); the peer is a CIDR (v4 or v6, never across
families), the private addresses of the ENIs in a referenced SG, or a prefix list's entries.

Pure: no boto3, no duckdb.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

TCP, UDP, ICMP, ICMPV6, ALL = 6, 17, 1, 58, -1
PORTED = frozenset({TCP, UDP})
ICMPS = frozenset({ICMP, ICMPV6})
PEER_TYPES = ("cidr4", "cidr6", "sg", "prefix_list")
PROTOCOL_NAMES = {TCP: "tcp", UDP: "udp", ICMP: "icmp", ICMPV6: "icmpv6", ALL: "-1"}
WORLD = {"cidr4": "0.0.0.0/0", "cidr6": "::/0"}


@lru_cache(maxsize=65536)
def network(cidr: str) -> IpNetwork:
    """A CIDR parsed once (host bits cleared as the EC2 API does)."""
    return ipaddress.ip_network(cidr, strict=False)


@lru_cache(maxsize=1 << 20)
def address(text: str) -> IpAddress:
    return ipaddress.ip_address(text)


@dataclass(frozen=True)
class Rule:
    """One SG rule with a single peer (the unit of describe-security-group-rules).

    ``from_port``/``to_port`` are None (or -1) where ports do not apply or all are allowed.
    The description is carried along but is not part of a rule's identity.
    """

    direction: str
    ip_protocol: int
    from_port: int | None
    to_port: int | None
    peer_type: str
    peer: str
    description: str = field(default="", compare=False)

    @property
    def family(self) -> int | None:
        """4 or 6 for CIDR peers; None for references (their family is the flow's)."""
        return {"cidr4": 4, "cidr6": 6}.get(self.peer_type)

    def port_range(self) -> tuple[int, int] | None:
        """The TCP/UDP port range this rule limits to, or None if every port is allowed."""
        if self.ip_protocol not in PORTED or self.from_port is None or self.from_port < 0:
            return None
        return (self.from_port, self.to_port if self.to_port is not None else self.from_port)

    def allows(self, flow: Flow, ctx: PeerContext) -> bool:
        """True when this rule admits ``flow`` (the initiating direction, as seen on the ENI)."""
        return self.admits(flow) and ctx.peer_contains(self.peer_type, self.peer, flow.peer_addr)

    def admits(self, flow: Flow) -> bool:
        """Direction, protocol and ports admit ``flow``: :meth:`allows` without the peer."""
        if flow.direction != self.direction:
            return False
        if self.ip_protocol != ALL and self.ip_protocol != flow.protocol:
            return False
        ports = self.port_range()
        return ports is None or (flow.port is not None and ports[0] <= flow.port <= ports[1])

    def to_dict(self) -> dict[str, object]:
        ports = self.ip_protocol in PORTED or self.ip_protocol in ICMPS
        return {
            "direction": self.direction,
            "ip_protocol": self.ip_protocol,
            "from_port": self.from_port if ports else None,
            "to_port": self.to_port if ports else None,
            "peer_type": self.peer_type,
            "peer": self.peer,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> Rule:
        def _int(v: object) -> int | None:
            return None if v is None else int(str(v))

        proto = _int(d["ip_protocol"])
        return cls(
            str(d["direction"]), -1 if proto is None else proto, _int(d.get("from_port")),
            _int(d.get("to_port")), str(d["peer_type"]), str(d["peer"]), str(d.get("description") or ""),
        )


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
        if peer_type in ("cidr4", "cidr6"):
            net = network(peer)
            return net.version == ip.version and ip in net
        if peer_type == "sg":
            if addr in self.sg_members.get(peer, frozenset()):
                return True
            return _in_any(ip, self.sg_member_prefixes.get(peer, ()))
        if peer_type == "prefix_list":
            return _in_any(ip, self.prefix_lists.get(peer, ()))
        return False


def _in_any(ip: IpAddress, cidrs: Iterable[str]) -> bool:
    return any(network(c).version == ip.version and ip in network(c) for c in cidrs)


def allowed_by_any(rules: Iterable[Rule], flow: Flow, ctx: PeerContext) -> bool:
    """SG rules are a union: one rule admitting the flow is enough."""
    return any(r.allows(flow, ctx) for r in rules)


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
    if old.peer_type in ("cidr4", "cidr6"):
        outer = network(old.peer)
        if new.peer_type in ("cidr4", "cidr6"):
            inner = network(new.peer)
            return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]
        if new.peer_type == "prefix_list":
            entries = ctx.prefix_lists.get(new.peer, ())
            return bool(entries) and all(_net_within(network(e), outer) for e in entries)
        return False  # an SG reference is never provably inside a CIDR: membership changes
    if old.peer_type == "prefix_list" and new.peer_type in ("cidr4", "cidr6"):
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
