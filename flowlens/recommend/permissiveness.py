"""How much a rule allows, as a score from 1 (one address, one port) to 100 (all traffic, anywhere).

A rule allows addresses × ports (× protocols). The score is that count on a log scale:
``1 + 99 × bits / 56``, where ``bits`` is log2 of the count and 56 = 32 address bits (IPv4's
whole space) + 16 port bits + 8 protocol bits (protocol -1). An IPv6 prefix counts a quarter of
its host bits, so ``::/0`` weighs like ``0.0.0.0/0`` and a /64 like a /16. Ports: the range size
for TCP/UDP, one type (256 codes) or one type/code for ICMP, all 65536 for other protocols; an SG
reference counts its members at snapshot time (at least one address), a prefix list its entries.

>>> round(score(Rule("ingress", 6, 22, 22, "cidr4", "198.51.100.7/32")), 1)
1.0
>>> round(score(Rule("ingress", 6, 22, 22, "cidr4", "0.0.0.0/0")), 1)
57.6
>>> round(score(Rule("egress", -1, None, None, "cidr4", "0.0.0.0/0")), 1)
100.0

Pure: no boto3, no duckdb.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from flowlens.model.net import ALL, ICMPS, PORTED, PeerType, Rule, SgRule
from flowlens.recommend.rules import PeerContext, network

MAX_BITS = 56.0
_EMPTY = PeerContext()


def _address_weight(cidr: str) -> float:
    net = network(cidr)
    host = net.max_prefixlen - net.prefixlen
    return 2.0 ** (host if net.version == 4 else host / 4)


def address_weight(rule: Rule, ctx: PeerContext = _EMPTY) -> float:
    """How many addresses the peer stands for (IPv6 scaled as above; at least 1)."""
    if rule.peer_type in (PeerType.CIDR4, PeerType.CIDR6):
        return _address_weight(rule.peer)
    if rule.peer_type is PeerType.SG:
        members = len(ctx.sg_members.get(rule.peer, ())) + sum(
            _address_weight(p) for p in ctx.sg_member_prefixes.get(rule.peer, ())
        )
        return max(1.0, float(members))
    return max(1.0, sum(_address_weight(e) for e in ctx.prefix_lists.get(rule.peer, ())))


def port_weight(rule: Rule) -> float:
    """Ports × protocols the rule allows."""
    if rule.ip_protocol == ALL:
        return 65536.0 * 256
    if rule.ip_protocol in PORTED:
        lo, hi = rule.port_range() or (0, 65535)
        return float(hi - lo + 1)
    if rule.ip_protocol in ICMPS:
        if rule.from_port is None or rule.from_port < 0:
            return 65536.0
        return 256.0 if rule.to_port is None or rule.to_port < 0 else 1.0
    return 65536.0


def raw(rule: Rule, ctx: PeerContext = _EMPTY) -> float:
    return address_weight(rule, ctx) * port_weight(rule)


def _scale(total: float) -> float:
    if total <= 0:
        return 0.0
    return round(min(100.0, 1 + 99 * math.log2(max(total, 1.0)) / MAX_BITS), 1)


def score(rule: Rule, ctx: PeerContext = _EMPTY) -> float:
    """The rule's permissiveness, 1-100."""
    return _scale(raw(rule, ctx))


def set_score(rules: Iterable[Rule], ctx: PeerContext = _EMPTY) -> float:
    """The permissiveness of rules taken together (what a rule becomes
    when narrowed); 0 for none."""
    return _scale(sum(raw(r, ctx) for r in rules))


def plan_totals(
    rules: Iterable[SgRule], changes: Mapping[str, Sequence[Rule]], ctx: PeerContext = _EMPTY
) -> tuple[float, float]:
    """Sum of the rules' scores before and after ``changes`` (rule id → what
    it becomes; () = removed)."""
    before = after = 0.0
    for r in rules:
        before += score(r.rule, ctx)
        after += set_score(changes[r.rule_id], ctx) if r.rule_id in changes else score(r.rule, ctx)
    return round(before, 1), round(after, 1)
