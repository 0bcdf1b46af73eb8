"""Rule maths, prefix covers and port ranges: unit, doctest and hypothesis property tests."""

from __future__ import annotations

import doctest
import ipaddress
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlens.recommend import ec2_shapes, ports, prefix_cover, rules
from flowlens.recommend.inputs import Inventory, Observed, Settings, SgRule
from flowlens.recommend.ports import covered_count, port_ranges
from flowlens.recommend.prefix_cover import minimal_cover
from flowlens.recommend.proposals import narrow
from flowlens.recommend.rules import Flow, PeerContext, Rule, allows, is_subset


@pytest.mark.parametrize("module", [rules, prefix_cover, ports, ec2_shapes])
def test_doctests(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


CTX = PeerContext({"sg-app": frozenset({"10.0.3.5"})}, {}, {"pl-1": ("52.216.0.0/15",)})


@pytest.mark.parametrize(
    ("rule", "flow", "expected"),
    [
        (
            Rule("ingress", -1, None, None, "cidr4", "0.0.0.0/0"),
            Flow("ingress", 47, "1.2.3.4", None),
            True,
        ),
        (
            Rule("ingress", 6, 22, 22, "cidr4", "0.0.0.0/0"),
            Flow("ingress", 6, "1.2.3.4", 23),
            False,
        ),
        (Rule("ingress", 6, 22, 22, "cidr4", "0.0.0.0/0"), Flow("egress", 6, "1.2.3.4", 22), False),
        (Rule("ingress", 6, 22, 22, "cidr6", "::/0"), Flow("ingress", 6, "1.2.3.4", 22), False),
        (Rule("ingress", 6, 22, 22, "cidr6", "::/0"), Flow("ingress", 6, "2001:db8::1", 22), True),
        (
            Rule("ingress", 47, 5, 5, "cidr4", "0.0.0.0/0"),
            Flow("ingress", 47, "1.2.3.4", None),
            True,
        ),
        (Rule("ingress", 1, 8, 0, "cidr4", "0.0.0.0/0"), Flow("ingress", 1, "1.2.3.4", 0), True),
        (
            Rule("ingress", 6, 5432, 5432, "sg", "sg-app"),
            Flow("ingress", 6, "10.0.3.5", 5432),
            True,
        ),
        (
            Rule("ingress", 6, 5432, 5432, "sg", "sg-app"),
            Flow("ingress", 6, "10.0.3.6", 5432),
            False,
        ),
        (
            Rule("egress", 6, 443, 443, "prefix_list", "pl-1"),
            Flow("egress", 6, "52.217.0.9", 443),
            True,
        ),
    ],
)
def test_allows_follows_design_section_5(rule: Rule, flow: Flow, expected: bool) -> None:
    assert allows(rule, flow, CTX) is expected


def test_subset_knows_references_and_prefix_lists() -> None:
    world = Rule("egress", -1, None, None, "cidr4", "0.0.0.0/0")
    assert is_subset([Rule("egress", 6, 443, 443, "prefix_list", "pl-1")], world, CTX)
    assert not is_subset([Rule("egress", 6, 443, 443, "sg", "sg-app")], world, CTX)
    assert not is_subset([world], Rule("egress", 6, 0, 65535, "cidr4", "0.0.0.0/0"), CTX)
    assert is_subset([Rule("egress", 6, 0, 65535, "cidr4", "1.2.3.4/32")], world, CTX)


# ---- property tests -------------------------------------------------------------------

v4_addr = st.ip_addresses(v=4).map(str)
protocols = st.sampled_from([6, 17, 1, 47])


@st.composite
def rule_and_flows(draw: st.DrawFn) -> tuple[Rule, list[Flow]]:
    """A CIDR rule and flows that it allows."""
    base = draw(st.ip_addresses(v=4))
    plen = draw(st.integers(0, 30))
    net = ipaddress.ip_network(f"{base}/{plen}", strict=False)
    proto = draw(st.sampled_from([-1, 6, 17]))
    lo = draw(st.integers(0, 65535))
    hi = draw(st.integers(lo, 65535))
    rule = Rule(
        "ingress",
        proto,
        lo if proto != -1 else None,
        hi if proto != -1 else None,
        "cidr4",
        str(net),
    )
    n = draw(st.integers(1, 12))
    flows = []
    for _ in range(n):
        addr = str(net.network_address + draw(st.integers(0, net.num_addresses - 1)))
        p = proto if proto != -1 else draw(protocols)
        port = draw(st.integers(lo, hi)) if p in (6, 17) else None
        flows.append(Flow("ingress", p, addr, port))
    return rule, flows


@settings(max_examples=80, deadline=None)
@given(rule_and_flows(), st.integers(1, 4), st.integers(1, 4))
def test_narrowing_never_widens_and_keeps_every_observed_flow(
    case: tuple[Rule, list[Flow]], k: int, budget: int
) -> None:
    rule, flows = case
    sg_rule = SgRule("sgr-1", "sg-1", rule)
    inv = Inventory([sg_rule], {"eni-1": ("sg-1",)}, PeerContext())
    observed = [Observed("eni-1", f, 1, 1) for f in flows]
    cand = narrow(
        sg_rule, observed, inv, Settings(k_prefixes=k, port_ranges=budget, public_min_peers=10**6)
    )
    if cand is None:
        return
    assert is_subset(cand.proposed, rule)
    assert len(cand.proposed) <= Settings().max_rules_per_proposal or (k == 1 and budget == 1)
    for f in flows:
        assert any(allows(p, f, PeerContext()) for p in cand.proposed), f


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 15), min_size=1, max_size=8), st.integers(1, 3))
def test_prefix_cover_is_minimal_against_brute_force(offsets: list[int], k: int) -> None:
    outer = ipaddress.ip_network("192.0.2.0/28")
    addrs = {str(outer.network_address + o) for o in offsets}
    cover = minimal_cover(addrs, str(outer), k)
    nets = [ipaddress.ip_network(p) for p in cover.prefixes]
    assert len(nets) <= k
    assert all(any(ipaddress.ip_address(a) in n for n in nets) for a in addrs)
    assert all(n.subnet_of(outer) for n in nets)  # type: ignore[arg-type]
    assert cover.space == sum(n.num_addresses for n in nets)
    candidates = [n for plen in range(28, 33) for n in outer.subnets(new_prefix=plen)]
    best = min(
        sum(n.num_addresses for n in combo)
        for size in range(1, k + 1)
        for combo in itertools.combinations(candidates, size)
        if all(any(ipaddress.ip_address(a) in n for n in combo) for a in addrs)
    )
    assert cover.space == best


@settings(max_examples=100, deadline=None)
@given(st.lists(st.ip_addresses(v=6), min_size=1, max_size=30), st.integers(1, 6))
def test_prefix_cover_ipv6_covers_everything_inside_the_original(
    addrs: list[ipaddress.IPv6Address], k: int
) -> None:
    cover = minimal_cover([str(a) for a in addrs], "::/0", k)
    nets = [ipaddress.ip_network(p) for p in cover.prefixes]
    assert 1 <= len(nets) <= k
    assert all(any(a in n for n in nets) for a in addrs)


def test_prefix_cover_rejects_addresses_outside() -> None:
    with pytest.raises(ValueError, match="outside"):
        minimal_cover(["10.1.0.1"], "10.0.0.0/16", 2)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 65535), min_size=1, max_size=40), st.integers(1, 6))
def test_port_ranges_cover_within_budget_and_are_optimal(seen: list[int], budget: int) -> None:
    ranges = port_ranges(seen, budget)
    assert len(ranges) <= budget
    assert all(any(lo <= p <= hi for lo, hi in ranges) for p in seen)
    distinct = sorted(set(seen))
    gaps = sorted(b - a - 1 for a, b in itertools.pairwise(distinct))
    must_close = max(0, len(distinct) - budget)
    assert covered_count(ranges) <= len(distinct) + sum(gaps[:must_close])
