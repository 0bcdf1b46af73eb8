"""Shadowed rules from configuration alone: is everything a rule allows allowed by other rules?

A rule's allowed set is protocol × port (or ICMP type/code) × peer address, with SG references
and prefix lists expanded to the addresses they stand for at snapshot time. A rule is
*shadowed* when, on every ENI it applies to, that set lies inside the union of the other rules
of the same direction that apply there (its own SG's and every co-attached SG's, in any
combination). An SG without members applies to no ENI yet; its rules are judged against its
own rules only, which apply to every future member as well.

Sets are unions of boxes in a three-dimensional integer space (protocol, port, address); the
containment test subtracts each covering box from what is left of the rule until nothing (or
no cover) is left. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from flowlens.model.net import ALL, ICMPS, PORTED, PeerType, Rule, SgRule
from flowlens.recommend.rules import PeerContext, network

#: One box: inclusive (lo, hi) bounds on protocol, port and address.
Box = tuple[int, int, int, int, int, int]

_V6_BASE = 1 << 32  # IPv6 addresses sit after the IPv4 ones, so one axis holds both families
_PORTS = (0, 65535)
_PROTOCOLS = (0, 255)


@dataclass(frozen=True)
class Shadow:
    """A rule whose allowed set is inside the union of ``shadowed_by`` on every ENI it applies to.

    ``dynamic``: an SG reference takes part (the rule itself or a cover), so the containment holds
    for the members of the snapshot and may end when membership changes.
    """

    rule_id: str
    group_id: str
    direction: str
    shadowed_by: tuple[str, ...]
    enis: int
    dynamic: bool


def _address_ranges(
    peer_type: str, peer: str, ctx: PeerContext, known_groups: frozenset[str]
) -> list[tuple[int, int]] | None:
    """The peer's addresses as merged integer ranges; None when they cannot be known."""
    if peer_type in (PeerType.CIDR4, PeerType.CIDR6):
        cidrs: Iterable[str] = (peer,)
    elif peer_type == PeerType.SG:
        if peer not in known_groups:
            return (
                None  # a deleted group or one in a peered VPC: its members are not in the snapshot
            )
        cidrs = (*ctx.sg_members.get(peer, ()), *ctx.sg_member_prefixes.get(peer, ()))
    elif peer_type == PeerType.PREFIX_LIST:
        if peer not in ctx.prefix_lists:
            return None
        cidrs = ctx.prefix_lists[peer]
    else:
        return None
    ranges = []
    for cidr in cidrs:
        net = network(cidr)
        base = 0 if net.version == 4 else _V6_BASE
        ranges.append((base + int(net.network_address), base + int(net.broadcast_address)))
    return _merge(ranges)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _port_span(rule: Rule) -> tuple[int, int]:
    """TCP/UDP ports; ICMP type/code as type*256+code (EC2's semantics,
    not flow logs'); else all."""
    if rule.ip_protocol in PORTED:
        return rule.port_range() or _PORTS
    if rule.ip_protocol in ICMPS:
        icmp_type, code = rule.from_port, rule.to_port
        if icmp_type is None or icmp_type < 0:
            return _PORTS
        if code is None or code < 0:
            return (icmp_type * 256, icmp_type * 256 + 255)
        return (icmp_type * 256 + code, icmp_type * 256 + code)
    return _PORTS


def rule_boxes(
    rule: Rule, ctx: PeerContext, known_groups: frozenset[str]
) -> tuple[Box, ...] | None:
    """The set ``rule`` allows as boxes; None when its peer cannot be expanded from the snapshot."""
    ranges = _address_ranges(rule.peer_type, rule.peer, ctx, known_groups)
    if ranges is None:
        return None
    protocols = _PROTOCOLS if rule.ip_protocol == ALL else (rule.ip_protocol, rule.ip_protocol)
    ports = _PORTS if rule.ip_protocol == ALL else _port_span(rule)
    return tuple((*protocols, *ports, lo, hi) for lo, hi in ranges)


def _intersects(a: Box, b: Box) -> bool:
    return all(a[i] <= b[i + 1] and b[i] <= a[i + 1] for i in (0, 2, 4))


def _subtract(a: Box, b: Box) -> list[Box]:
    """``a`` minus ``b`` as disjoint boxes (at most six)."""
    if not _intersects(a, b):
        return [a]
    out: list[Box] = []
    rest = list(a)
    for i in (0, 2, 4):
        lo, hi = rest[i], rest[i + 1]
        if lo < b[i]:
            piece = list(rest)
            piece[i + 1] = b[i] - 1
            out.append(tuple(piece))  # type: ignore[arg-type]
            rest[i] = b[i]
        if hi > b[i + 1]:
            piece = list(rest)
            piece[i] = b[i + 1] + 1
            out.append(tuple(piece))  # type: ignore[arg-type]
            rest[i + 1] = b[i + 1]
    return out


def _uncovered(
    target: Sequence[Box], covers: Sequence[tuple[str, tuple[Box, ...]]]
) -> tuple[list[Box], list[str]]:
    """What of ``target`` no cover allows, and the covers that took a part of it."""
    left, used = list(target), []
    for cover_id, boxes in covers:
        before = left
        for box in boxes:
            left = [piece for part in left for piece in _subtract(part, box)]
        if left != before:
            used.append(cover_id)
        if not left:
            break
    return left, used


def covering_rules(
    target: Sequence[Box], covers: Sequence[tuple[str, tuple[Box, ...]]]
) -> tuple[str, ...] | None:
    """A minimal set of covers whose union holds ``target``, or None when the union does not.

    An empty target (a reference to a group without members) is never called covered: it allows
    nothing today, which is a different finding.
    """
    if not target:
        return None
    left, used = _uncovered(target, covers)
    if left:
        return None
    chosen = [c for c in covers if c[0] in used]
    for cover in sorted(chosen, key=lambda c: c[0]):  # drop any cover the others make unneeded
        trial = [c for c in chosen if c is not cover]
        if not _uncovered(target, trial)[0]:
            chosen = trial
    return tuple(sorted(c[0] for c in chosen))


@dataclass(frozen=True)
class RuleSet:
    """The rules that apply, where: the inputs of the containment test."""

    rules: Sequence[SgRule]
    eni_groups: Mapping[str, tuple[str, ...]]
    ctx: PeerContext
    known_groups: frozenset[str]

    @cached_property
    def _enis_by_group(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for eni, groups in sorted(self.eni_groups.items()):
            for g in groups:
                out.setdefault(g, []).append(eni)
        return out

    @cached_property
    def _rules_by_group(self) -> dict[tuple[str, str], list[SgRule]]:
        out: dict[tuple[str, str], list[SgRule]] = {}
        for r in self.rules:
            out.setdefault((r.group_id, r.rule.direction), []).append(r)
        return out

    def enis_of(self, group_id: str) -> list[str]:
        return self._enis_by_group.get(group_id, [])

    def rules_of(self, groups: Iterable[str], direction: str) -> list[SgRule]:
        """The rules of ``groups`` in ``direction``, in the order of
        :attr:`rules` within each group."""
        return [r for g in sorted(groups) for r in self._rules_by_group.get((g, direction), [])]


def shadow_of(
    r: SgRule, rs: RuleSet, boxes: dict[Rule, tuple[Box, ...] | None] | None = None
) -> Shadow | None:
    """The :class:`Shadow` of ``r`` within ``rs`` (whose rules may include ``r``), or None.

    ``rs`` may hold several rules under one id (a narrowed rule as its proposed rules); ``boxes``
    is a cache by rule value, filled as needed.
    """
    box_of = boxes if boxes is not None else {}

    def boxes_for(x: SgRule) -> tuple[Box, ...] | None:
        if x.rule not in box_of:
            box_of[x.rule] = rule_boxes(x.rule, rs.ctx, rs.known_groups)
        return box_of[x.rule]

    target = boxes_for(r)
    if not target:
        return None
    enis = rs.enis_of(r.group_id)
    # ENIs with the same set of SGs see the same rules: judge each set once.
    scopes = sorted({frozenset(rs.eni_groups[e]) for e in enis}, key=sorted) or [
        frozenset({r.group_id})
    ]
    by: set[str] = set()
    dynamic = r.rule.peer_type is PeerType.SG
    for groups in scopes:
        covers = []
        for o in rs.rules_of(groups, r.rule.direction):
            if o.rule_id == r.rule_id:
                continue
            ob = boxes_for(o)
            if ob:
                covers.append((o.rule_id, ob))
        found = covering_rules(target, covers)
        if found is None:
            return None
        by.update(found)
    dynamic = dynamic or any(o.rule.peer_type is PeerType.SG for o in rs.rules if o.rule_id in by)
    return Shadow(r.rule_id, r.group_id, r.rule.direction, tuple(sorted(by)), len(enis), dynamic)


def find_shadows(rs: RuleSet) -> list[Shadow]:
    """Every shadowed rule of ``rs``, each judged with all the others in place.

    Two rules that shadow each other are both listed; removing one makes the other needed, which
    the recommender's one-at-a-time re-check honours.
    """
    boxes: dict[Rule, tuple[Box, ...] | None] = {}
    out = []
    for r in sorted(rs.rules, key=lambda x: (x.group_id, x.rule_id)):
        s = shadow_of(r, rs, boxes)
        if s is not None:
            out.append(s)
    return out
