"""Exposure maths: addresses × service units allowed, before and after a plan."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from flowlens.model.net import Rule, SgRule
from flowlens.model.plan import Action
from flowlens.report.exposure import (
    PORTS,
    SERVICE_UNITS,
    compare,
    exposure_by_group,
    group_exposure,
    union_area,
)


@dataclass(frozen=True)
class Proposal:
    """The part of a plan recommendation the exposure maths reads."""

    rule_id: str
    group_id: str
    action: Action
    proposed: tuple[Rule, ...]


def rule(
    proto: int,
    lo: int | None,
    hi: int | None,
    peer: str,
    *,
    rid: str = "r",
    d: str = "ingress",
    ptype: str = "cidr4",
) -> SgRule:
    return SgRule(rid, "sg-1", Rule(d, proto, lo, hi, ptype, peer))  # type: ignore[arg-type]


def test_one_port_to_the_world_is_2_pow_32() -> None:
    e = group_exposure("sg-1", "ingress", [rule(6, 22, 22, "0.0.0.0/0").rule], {})
    assert (e.ipv4, e.ipv6) == (2**32, 0)


def test_all_traffic_counts_every_tcp_udp_port_and_other_protocol() -> None:
    e = group_exposure("sg-1", "ingress", [rule(-1, None, None, "10.0.0.0/8").rule], {})
    assert e.ipv4 == 2**24 * SERVICE_UNITS
    assert SERVICE_UNITS == 2 * PORTS + 254


def test_icmp_counts_one_unit_and_ipv6_is_separate() -> None:
    rules = [
        rule(1, -1, -1, "192.0.2.0/24").rule,
        rule(58, -1, -1, "2001:db8::/64", ptype="cidr6").rule,
    ]
    e = group_exposure("sg-1", "ingress", rules, {})
    assert (e.ipv4, e.ipv6) == (256, 2**64)


def test_overlapping_rules_count_once() -> None:
    rules = [
        rule(6, 0, 65535, "10.0.0.0/8"),
        rule(6, 443, 443, "10.1.0.0/16"),
        rule(6, 443, 443, "0.0.0.0/0"),
    ]
    e = group_exposure("sg-1", "ingress", [r.rule for r in rules], {})
    assert e.ipv4 == 2**24 * PORTS + (2**32 - 2**24)


def test_sg_and_prefix_list_peers_resolve_through_the_mapping() -> None:
    rules = [
        rule(6, 5432, 5432, "sg-web", ptype="sg"),
        rule(6, 443, 443, "pl-1", ptype="prefix_list"),
        rule(6, 80, 80, "sg-gone", ptype="sg"),
    ]
    e = group_exposure(
        "sg-1",
        "ingress",
        [r.rule for r in rules],
        {"sg-web": ["10.0.1.10", "10.0.1.11"], "pl-1": ["192.0.2.0/30"]},
    )
    assert e.ipv4 == 2 + 4
    assert e.unresolved_peers == 1


def test_plan_removal_and_narrowing_shrink_exposure() -> None:
    rules = [
        rule(6, 22, 22, "0.0.0.0/0", rid="ssh"),
        rule(-1, None, None, "0.0.0.0/0", rid="out", d="egress"),
    ]
    narrowed = Proposal(
        "ssh", "sg-1", Action.NARROW, (rule(6, 22, 22, "198.51.100.7/32", rid="").rule,)
    )
    removed = Proposal("out", "sg-1", Action.REMOVE, ())
    cmp = compare(rules, [narrowed, removed], {})
    assert cmp.before.ingress_ipv4 == 2**32 and cmp.after.ingress_ipv4 == 1
    assert cmp.before.egress_ipv4 == 2**32 * SERVICE_UNITS and cmp.after.egress_ipv4 == 0


def test_union_area_of_nothing_is_zero() -> None:
    assert union_area([]) == 0
    assert exposure_by_group([], {}) == []


@st.composite
def rule_and_subset(draw: st.DrawFn) -> tuple[SgRule, Rule]:
    """A rule and a rule allowing a subset of it (same protocol, narrower ports and peer)."""
    proto = draw(st.sampled_from([6, 17, 1, -1]))
    net = ipaddress.ip_network(
        f"{draw(st.ip_addresses(v=4))}/{draw(st.integers(0, 32))}", strict=False
    )
    sub_len = draw(st.integers(net.prefixlen, 32))
    sub = next(net.subnets(new_prefix=sub_len)) if sub_len > net.prefixlen else net
    lo = draw(st.integers(0, 65535))
    hi = draw(st.integers(lo, 65535))
    slo = draw(st.integers(lo, hi))
    shi = draw(st.integers(slo, hi))
    ports = (lo, hi, slo, shi) if proto in (6, 17) else (None, None, None, None)
    direction = draw(st.sampled_from(["ingress", "egress"]))
    group = draw(st.sampled_from(["sg-a", "sg-b"]))
    rid = f"r{draw(st.integers(0, 10**9))}"
    original = SgRule(rid, group, Rule(direction, proto, ports[0], ports[1], "cidr4", str(net)))  # type: ignore[arg-type]
    narrowed = Rule(direction, proto, ports[2], ports[3], "cidr4", str(sub))  # type: ignore[arg-type]
    return original, narrowed


@settings(max_examples=150, deadline=None)
@given(st.lists(rule_and_subset(), min_size=1, max_size=8), st.data())
def test_after_never_exceeds_before_when_proposals_are_subsets(
    pairs: list[tuple[SgRule, Rule]], data: st.DataObject
) -> None:
    rules = [orig for orig, _ in pairs]
    chosen = data.draw(st.lists(st.sampled_from(pairs), unique_by=lambda p: p[0].rule_id))
    proposals = [
        Proposal(
            o.rule_id, o.group_id, data.draw(st.sampled_from([Action.NARROW, Action.REMOVE])), (n,)
        )
        for o, n in chosen
    ]
    cmp = compare(rules, proposals, {})
    for before, after in cmp.rows:
        assert after.ipv4 <= before.ipv4
    assert cmp.after.ingress_ipv4 <= cmp.before.ingress_ipv4
    assert cmp.after.egress_ipv4 <= cmp.before.egress_ipv4


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50), st.integers(0, 50)),
        max_size=6,
    )
)
def test_union_area_matches_brute_force(raw: list[tuple[int, int, int, int]]) -> None:
    rects = [(min(a, b), max(a, b), min(c, d), max(c, d)) for a, b, c, d in raw]
    cells = {
        (x, y) for x0, x1, y0, y1 in rects for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)
    }
    assert union_area(rects) == len(cells)
