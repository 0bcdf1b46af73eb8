"""Exposure: how many (address × port) pairs a set of SG rules allows, before and after a plan.

Pure maths, no I/O. The measure, per security group × direction × address family, is the area
of the union of the rules' rectangles on two axes:

* the *service* axis: TCP ports 0-65535, then UDP ports 0-65535, then one unit per other IP
  protocol (ICMP, ICMPv6, GRE, ...; ICMP type/code are not counted). Protocol -1 covers it all.
* the *address* axis: the peer CIDR; an SG reference stands for the private addresses of the
  ENIs in that group, a prefix list for its entries (both resolved by the caller).

Overlapping rules count once (SG rules are a union). The total over SGs is the sum of the
per-SG figures: each group is a separate door. IPv6 figures are exact integers (they can
exceed 2**64); compare them on a log scale.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from flowlens.model.net import ALL, TCP, UDP, Direction, Rule, SgRule
from flowlens.model.plan import Action

PORTS = 65536
OTHER_BASE = 2 * PORTS
#: Protocol numbers other than TCP and UDP: one unit each.
OTHER_PROTOCOLS = 256 - 2
SERVICE_UNITS = OTHER_BASE + OTHER_PROTOCOLS
FAMILIES = (4, 6)


class Proposal(Protocol):
    """What the maths needs of a plan's recommendation
    (:class:`flowlens.model.plan.Recommendation`)."""

    @property
    def rule_id(self) -> str: ...
    @property
    def group_id(self) -> str: ...
    @property
    def action(self) -> Action: ...
    @property
    def proposed(self) -> tuple[Rule, ...]: ...


@dataclass(frozen=True)
class Exposure:
    """Addresses × service units one group allows in one direction, per family."""

    group_id: str
    direction: str
    ipv4: int
    ipv6: int
    unresolved_peers: int  # SG/prefix-list peers with no known addresses (counted as 0)


@dataclass(frozen=True)
class ExposureTotals:
    ingress_ipv4: int
    ingress_ipv6: int
    egress_ipv4: int
    egress_ipv6: int


def _other_unit(protocol: int) -> int:
    """Position of a non-TCP/UDP protocol on the service axis (6 and 17 are skipped)."""
    return OTHER_BASE + protocol - (protocol > TCP) - (protocol > UDP)


def service_interval(rule: Rule) -> tuple[int, int] | None:
    """The rule's inclusive interval on the service axis; None for a protocol out of range."""
    if rule.ip_protocol == ALL:
        return 0, SERVICE_UNITS - 1
    if rule.ip_protocol in (TCP, UDP):
        base = 0 if rule.ip_protocol == TCP else PORTS
        lo = 0 if rule.from_port is None or rule.from_port < 0 else rule.from_port
        hi = PORTS - 1 if rule.to_port is None or rule.to_port < 0 else rule.to_port
        if hi < lo:
            return None
        return base + lo, base + min(hi, PORTS - 1)
    if 0 <= rule.ip_protocol <= 255:
        unit = _other_unit(rule.ip_protocol)
        return unit, unit
    return None


def cidr_interval(cidr: str) -> tuple[int, int, int]:
    """(family, first, last) address of a CIDR or a bare address."""
    net = ipaddress.ip_network(cidr.strip(), strict=False)
    return net.version, int(net.network_address), int(net.broadcast_address)


def _peer_cidrs(rule: Rule, resolve: Mapping[str, Sequence[str]]) -> tuple[list[str], bool]:
    """The CIDRs a rule's peer stands for, and whether the peer could be resolved."""
    if rule.peer_type.is_cidr:
        return [rule.peer], True
    cidrs = list(resolve.get(rule.peer, ()))
    return cidrs, bool(cidrs)


def union_area(rects: Iterable[tuple[int, int, int, int]]) -> int:
    """Area of the union of inclusive integer rectangles (x_lo, x_hi, y_lo, y_hi)."""
    rects = list(rects)
    xs = sorted({r[0] for r in rects} | {r[1] + 1 for r in rects})
    area = 0
    for x0, x1 in itertools.pairwise(xs):
        ys = sorted((r[2], r[3]) for r in rects if r[0] <= x0 and r[1] >= x0)
        area += (x1 - x0) * _union_length(ys)
    return area


def _union_length(intervals: list[tuple[int, int]]) -> int:
    total, cur_lo, cur_hi = 0, None, None
    for lo, hi in intervals:
        if cur_hi is None or lo > cur_hi + 1:
            if cur_hi is not None and cur_lo is not None:
                total += cur_hi - cur_lo + 1
            cur_lo, cur_hi = lo, hi
        else:
            cur_hi = max(cur_hi, hi)
    if cur_hi is not None and cur_lo is not None:
        total += cur_hi - cur_lo + 1
    return total


def group_exposure(
    group_id: str, direction: str, rules: Iterable[Rule], resolve: Mapping[str, Sequence[str]]
) -> Exposure:
    """Exposure of one group's rules in one direction."""
    rects: dict[int, list[tuple[int, int, int, int]]] = {4: [], 6: []}
    unresolved = 0
    for rule in rules:
        service = service_interval(rule)
        cidrs, known = _peer_cidrs(rule, resolve)
        unresolved += not known
        if service is None:
            continue
        for cidr in cidrs:
            family, lo, hi = cidr_interval(cidr)
            rects[family].append((service[0], service[1], lo, hi))
    return Exposure(group_id, direction, union_area(rects[4]), union_area(rects[6]), unresolved)


def exposure_by_group(
    rules: Iterable[SgRule], resolve: Mapping[str, Sequence[str]]
) -> list[Exposure]:
    """Exposure per (group, direction), sorted by group then direction."""
    buckets: dict[tuple[str, str], list[Rule]] = {}
    for r in rules:
        buckets.setdefault((r.group_id, r.rule.direction), []).append(r.rule)
    return [group_exposure(g, d, rs, resolve) for (g, d), rs in sorted(buckets.items())]


def totals(exposures: Iterable[Exposure]) -> ExposureTotals:
    """Sum over groups, per direction and family."""
    sums = {(d, f): 0 for d in Direction for f in FAMILIES}
    for e in exposures:
        if e.direction in set(Direction):
            sums[(Direction(e.direction), 4)] += e.ipv4
            sums[(Direction(e.direction), 6)] += e.ipv6
    i, o = Direction.INGRESS, Direction.EGRESS
    return ExposureTotals(sums[(i, 4)], sums[(i, 6)], sums[(o, 4)], sums[(o, 6)])


def apply_plan(rules: Iterable[SgRule], proposals: Iterable[Proposal]) -> list[SgRule]:
    """The rules as they would be with every proposal applied (removed
    rules gone, replacements in)."""
    proposals = list(proposals)
    replaced = {p.rule_id for p in proposals}
    kept = [r for r in rules if r.rule_id not in replaced]
    added = [
        SgRule("", p.group_id, r)
        for p in proposals
        if p.action != Action.REMOVE
        for r in p.proposed
    ]
    return kept + added


@dataclass(frozen=True)
class ExposureComparison:
    """Before/after exposure per (group, direction) and in total."""

    rows: tuple[tuple[Exposure, Exposure], ...]  # (before, after) for each (group, direction)
    before: ExposureTotals
    after: ExposureTotals


def compare(
    rules: Sequence[SgRule], proposals: Sequence[Proposal], resolve: Mapping[str, Sequence[str]]
) -> ExposureComparison:
    """Exposure of ``rules`` and of ``rules`` with ``proposals`` applied."""
    before = {(e.group_id, e.direction): e for e in exposure_by_group(rules, resolve)}
    after = {
        (e.group_id, e.direction): e
        for e in exposure_by_group(apply_plan(rules, proposals), resolve)
    }
    keys = sorted(set(before) | set(after))
    rows = tuple(
        (
            before.get(k) or Exposure(k[0], k[1], 0, 0, 0),
            after.get(k) or Exposure(k[0], k[1], 0, 0, 0),
        )
        for k in keys
    )
    return ExposureComparison(rows, totals(before.values()), totals(after.values()))
