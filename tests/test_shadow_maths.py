"""Shadowed-by-configuration maths against a brute-force evaluator on small worlds.

The brute force enumerates every (protocol, port, address) of a small universe that represents
every region the random rules can tell apart, and asks :func:`flowlens.recommend.rules.allows`
(the recommender's own match) about each point. ICMP rules are left out: ``allows`` follows flow
logs (no type/code), the configuration maths follows EC2 (type/code matter).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flowlens.analyze.shadow import RuleSet, find_shadows, shadow_of
from flowlens.model.net import Rule, SgRule
from flowlens.recommend.rules import Flow, PeerContext, allows

GROUPS = ("sg-a", "sg-b", "sg-c")
ENI_ADDR = {"eni-1": "10.0.0.1", "eni-2": "10.0.0.2", "eni-3": "10.0.0.9"}
PROTOCOLS = (6, 17, 47, 50)  # 50: a protocol no rule names, inside -1 only
PORTS = (*range(10), 65535)
ADDRESSES = (*(f"10.0.0.{i}" for i in range(16)), "192.0.2.1", "2001:db8::1")
PREFIXES = (
    "0.0.0.0/0",
    "10.0.0.0/28",
    "10.0.0.0/29",
    "10.0.0.8/29",
    "10.0.0.0/30",
    "10.0.0.4/30",
    "10.0.0.0/31",
    "10.0.0.2/31",
    "10.0.0.1/32",
    "10.0.0.2/32",
    "10.0.0.9/32",
)


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    proto = draw(st.sampled_from((6, 17, -1, 47)))
    lo = hi = None
    if proto in (6, 17) and draw(st.booleans()):
        lo = draw(st.integers(0, 8))
        hi = draw(st.integers(lo, 8))
    kind = draw(st.sampled_from(("cidr4", "cidr4", "sg", "cidr6")))
    peer = {
        "cidr4": draw(st.sampled_from(PREFIXES)),
        "sg": draw(st.sampled_from(GROUPS)),
        "cidr6": "::/0",
    }[kind]
    return Rule(draw(st.sampled_from(("ingress", "egress"))), proto, lo, hi, kind, peer)


@st.composite
def worlds(draw: st.DrawFn) -> RuleSet:
    rs = draw(st.lists(st.tuples(st.sampled_from(GROUPS), rules()), min_size=1, max_size=7))
    sg_rules = [SgRule(f"sgr-{i}", g, r) for i, (g, r) in enumerate(rs)]
    eni_groups = {}
    for eni in ENI_ADDR:
        attached = draw(st.lists(st.sampled_from(GROUPS), unique=True, max_size=3))
        if attached:
            eni_groups[eni] = tuple(sorted(attached))
    members = {g: frozenset(ENI_ADDR[e] for e, gs in eni_groups.items() if g in gs) for g in GROUPS}
    return RuleSet(sg_rules, eni_groups, PeerContext(members), frozenset(GROUPS))


def _points(rule: Rule, ctx: PeerContext) -> set[tuple[int, int | None, str]]:
    out = set()
    for proto in PROTOCOLS:
        for port in PORTS if proto in (6, 17) else (None,):
            for addr in ADDRESSES:
                if allows(rule, Flow(rule.direction, proto, addr, port), ctx):
                    out.add((proto, port, addr))
    return out


def _scopes(r: SgRule, rs: RuleSet) -> list[set[str]]:
    return [set(gs) for gs in rs.eni_groups.values() if r.group_id in gs] or [{r.group_id}]


def _brute_shadowed(r: SgRule, rs: RuleSet, among: set[str] | None = None) -> bool:
    mine = _points(r.rule, rs.ctx)
    if not mine:
        return False
    for groups in _scopes(r, rs):
        others = [
            o
            for o in rs.rules
            if o.rule_id != r.rule_id
            and o.group_id in groups
            and o.rule.direction == r.rule.direction
            and (among is None or o.rule_id in among)
        ]
        covered = set().union(*(_points(o.rule, rs.ctx) for o in others)) if others else set()
        if not mine <= covered:
            return False
    return True


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_shadowed_exactly_when_brute_force_says_so(rs: RuleSet) -> None:
    found = {s.rule_id: s for s in find_shadows(rs)}
    for r in rs.rules:
        assert (r.rule_id in found) == _brute_shadowed(r, rs), r


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_shadowed_by_alone_covers_the_rule(rs: RuleSet) -> None:
    for s in find_shadows(rs):
        r = next(x for x in rs.rules if x.rule_id == s.rule_id)
        assert _brute_shadowed(r, rs, among=set(s.shadowed_by))
        for (
            dropped
        ) in s.shadowed_by:  # minimal: no cover can go, on the worlds' scopes taken together
            assert (
                not _brute_shadowed(r, rs, among=set(s.shadowed_by) - {dropped})
                or len(_scopes(r, rs)) > 1
            )


def test_union_of_two_rules_in_two_sgs_on_one_eni() -> None:
    wide = SgRule("sgr-wide", "sg-app", Rule("ingress", 6, 0, 1023, "cidr4", "10.0.0.0/24"))
    low = SgRule("sgr-low", "sg-app", Rule("ingress", 6, 0, 1023, "cidr4", "10.0.0.0/25"))
    high = SgRule("sgr-high", "sg-ops", Rule("ingress", 6, 0, 1023, "cidr4", "10.0.0.128/25"))
    rs = RuleSet(
        [wide, low, high],
        {"eni-1": ("sg-app", "sg-ops")},
        PeerContext(),
        frozenset({"sg-app", "sg-ops"}),
    )
    s = shadow_of(wide, rs)
    assert (
        s is not None and s.shadowed_by == ("sgr-high", "sgr-low") and s.enis == 1 and not s.dynamic
    )
    # On a second ENI without sg-ops the upper half is open only through sgr-wide.
    rs2 = RuleSet(
        rs.rules,
        {"eni-1": ("sg-app", "sg-ops"), "eni-2": ("sg-app",)},
        PeerContext(),
        rs.known_groups,
    )
    assert shadow_of(wide, rs2) is None


def test_icmp_type_code_and_unknown_references() -> None:
    echo = SgRule("sgr-echo", "sg-a", Rule("ingress", 1, 8, -1, "cidr4", "0.0.0.0/0"))
    echo0 = SgRule("sgr-echo0", "sg-a", Rule("ingress", 1, 8, 0, "cidr4", "10.0.0.0/8"))
    unreachable = SgRule("sgr-unr", "sg-a", Rule("ingress", 1, 3, -1, "cidr4", "0.0.0.0/0"))
    peered = SgRule("sgr-peer", "sg-a", Rule("ingress", 6, 443, 443, "sg", "sg-elsewhere"))
    rs = RuleSet([echo, echo0, unreachable, peered], {}, PeerContext(), frozenset({"sg-a"}))
    assert {s.rule_id for s in find_shadows(rs)} == {
        "sgr-echo0"
    }  # type 8 code 0 lies in type 8 any code
