"""The SQL replay and per-rule matches against the pure-Python reference, on random small inputs.

Half the cases are one snapshot (the world at all times), half memberships, member addresses and
groups of VPCs over the day with flows at their times, attributed or not (issue 12).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowlens.recommend.history import FAR_FUTURE, FAR_PAST, Held, History, MemberAt
from flowlens.recommend.inputs import Inventory, Observed, SgRule
from flowlens.recommend.observations import PyObservations
from flowlens.recommend.rules import Flow, PeerContext, Rule
from flowlens.recommend.sql_observations import SqlObservations
from flowlens.sqlfiles import all_queries

ADDRS = [
    "10.0.0.5",
    "10.0.0.9",
    "10.0.1.7",
    "192.168.4.4",
    "198.51.100.7",
    "203.0.113.9",
    "2001:db8::1",
    "2001:db8::ff",
    "fd00::5",
]
CIDRS = {
    "cidr4": ["0.0.0.0/0", "10.0.0.0/16", "10.0.0.0/24", "10.0.0.5/32", "198.51.100.0/24"],
    "cidr6": ["::/0", "2001:db8::/32", "2001:db8::1/128"],
}
CTX = PeerContext(
    {"sg-a": frozenset({"10.0.0.5", "2001:db8::1"}), "sg-b": frozenset({"10.0.1.7"})},
    {"sg-b": ("fd00::/64",)},
    {"pl-1": ("198.51.100.0/25", "203.0.113.0/24"), "pl-6": ("2001:db8::/64",)},
)
ENIS = {"eni-1": ("sg-a",), "eni-2": ("sg-a", "sg-b"), "eni-3": ("sg-b",)}

protocols = st.sampled_from([-1, 6, 17, 1, 58, 47])
ports = st.one_of(st.none(), st.sampled_from([22, 80, 443, 5432, 8080]))


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    peer_type = draw(st.sampled_from(["cidr4", "cidr6", "sg", "prefix_list"]))
    peer = draw(
        st.sampled_from(
            {"sg": ["sg-a", "sg-b", "sg-none"], "prefix_list": ["pl-1", "pl-6"]}.get(peer_type)
            or CIDRS[peer_type]
        )
    )
    lo = draw(st.one_of(st.none(), st.sampled_from([-1, 22, 80, 443, 5432])))
    hi = None if lo is None else draw(st.sampled_from([lo, lo + 10, 8080]))
    return Rule(
        draw(st.sampled_from(["ingress", "egress"])), draw(protocols), lo, hi, peer_type, peer
    )


@st.composite
def observed(draw: st.DrawFn) -> Observed:
    proto = draw(st.sampled_from([6, 17, 1, 58, 47]))
    port = draw(ports) if proto in (6, 17) else None
    flow = Flow(
        draw(st.sampled_from(["ingress", "egress"])), proto, draw(st.sampled_from(ADDRS)), port
    )
    return Observed(
        draw(st.sampled_from([*ENIS, "eni-x"])),
        flow,
        draw(st.integers(1, 9)),
        draw(st.integers(1, 3)),
    )


#: the day's snapshot times and the far edges: every interval of the
#: histories below is cut from these
TIMES = [FAR_PAST, *(datetime(2026, 11, 28, h, tzinfo=UTC) for h in (6, 12, 18)), FAR_FUTURE]
GROUPS = ["sg-a", "sg-b", "sg-c"]


@st.composite
def spans(draw: st.DrawFn) -> tuple[datetime, datetime]:
    i = draw(st.integers(0, len(TIMES) - 2))
    return TIMES[i], TIMES[draw(st.integers(i + 1, len(TIMES) - 1))]


@st.composite
def helds(draw: st.DrawFn, certain: bool = True) -> Held:
    vf, vt = draw(spans())
    if not certain or draw(st.booleans()):  # certain inside possible, or (unattributed) never
        cf, ct = (FAR_FUTURE, FAR_FUTURE) if not certain else (vf, vt)
    else:
        inner = [t for t in TIMES if vf <= t <= vt]
        a = draw(st.sampled_from(inner))
        cf, ct = a, draw(st.sampled_from([t for t in inner if t >= a]))
    return Held(draw(st.sampled_from(GROUPS)), vf, vt, cf, ct)


@st.composite
def histories(draw: st.DrawFn) -> History:
    holds = {e: tuple(draw(st.lists(helds(), min_size=1, max_size=3))) for e in ENIS}
    vpcs = {v: tuple(draw(st.lists(helds(certain=False), max_size=3))) for v in ("vpc-1", "vpc-2")}
    members: dict[str, list[MemberAt]] = {}
    for g in (*GROUPS, "sg-none"):
        for addr in draw(
            st.lists(st.sampled_from([*ADDRS, "fd00::/64", "10.0.1.0/28"]), max_size=3, unique=True)
        ):
            members.setdefault(g, []).append(
                MemberAt(g, addr, *draw(spans()), certain=draw(st.booleans()))
            )
    return History(holds, vpcs, {g: tuple(m) for g, m in members.items()})


@st.composite
def timed(draw: st.DrawFn) -> Observed:
    """An observation at some time of the day (or of unknown time), on an ENI
    or unattributed in a VPC."""
    base = draw(observed())
    first = draw(
        st.one_of(st.none(), st.sampled_from([*TIMES[1:4], datetime(2026, 11, 28, 9, tzinfo=UTC)]))
    )
    last = None if first is None else first + timedelta(hours=draw(st.sampled_from([0, 1, 6, 12])))
    unattributed = draw(st.booleans())
    vpc = draw(st.sampled_from(["vpc-1", "vpc-2", "vpc-9", None])) if unattributed else None
    return replace(base, first_seen=first, last_seen=last, unattributed=unattributed, vpc_id=vpc)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Inventory, list[Observed], dict[str, tuple[Rule, ...]]]:
    sg_rules = [
        SgRule(f"sgr-{i}", draw(st.sampled_from(["sg-a", "sg-b"])), draw(rules()))
        for i in range(draw(st.integers(1, 6)))
    ]
    changed = draw(st.lists(st.sampled_from([r.rule_id for r in sg_rules]), unique=True))
    changes = {rid: tuple(draw(st.lists(rules(), max_size=2))) for rid in changed}
    if draw(st.booleans()):  # one snapshot: the world as it stands, at all times
        obs = {(o.eni_id, o.flow): o for o in draw(st.lists(observed(), max_size=25))}
        return Inventory(sg_rules, ENIS, CTX), list(obs.values()), changes
    sg_rules += [SgRule(f"sgr-c{i}", "sg-c", draw(rules())) for i in range(draw(st.integers(0, 2)))]
    timed_obs = {
        (o.eni_id, o.flow, o.unattributed): o for o in draw(st.lists(timed(), max_size=25))
    }
    inv = Inventory(sg_rules, ENIS, CTX, history=draw(histories()))
    return inv, list(timed_obs.values()), changes


def _cuts(res: object) -> dict[str, tuple[int, int, Observed]]:
    return {rid: (c.flows, c.connections, c.example) for rid, c in res.cuts.items()}  # type: ignore[attr-defined]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_sql_replay_equals_the_python_replay(
    case: tuple[Inventory, list[Observed], dict[str, tuple[Rule, ...]]],
) -> None:
    inv, obs, changes = case
    py = PyObservations(obs, inv)
    con = duckdb.connect()
    try:
        sql = SqlObservations.from_rows(con, inv, obs)
        for scope in (None, *inv.rules):
            a, b = py.replay(changes, scope), sql.replay(changes, scope)
            assert b.flows_cut == a.flows_cut and _cuts(b) == _cuts(a)
            if scope is None:
                assert (b.flows_checked, b.connections_checked, b.flows_not_allowed_now) == (
                    a.flows_checked,
                    a.connections_checked,
                    a.flows_not_allowed_now,
                )
                assert (b.flows_unattributed, b.flows_unattributed_protected) == (
                    a.flows_unattributed,
                    a.flows_unattributed_protected,
                )
        for r in inv.rules:
            pm, sm = py.matched(r), sql.matched(r)
            assert sm.stats.flows == pm.stats.flows and sm.stats.peers == pm.stats.peers
            assert (
                sm.stats.protocols == pm.stats.protocols
                and sm.stats.sample_peers == pm.stats.sample_peers
            )
            key = {(o.flow.protocol, o.flow.port, o.flow.peer_addr) for o in pm.flows}
            assert {(o.flow.protocol, o.flow.port, o.flow.peer_addr) for o in sm.flows} == key
    finally:
        con.close()


def test_many_peers_on_one_port_load_only_a_spread_sample() -> None:
    rule = SgRule("sgr-web", "sg-a", Rule("ingress", 6, 443, 443, "cidr4", "0.0.0.0/0"))
    inv = Inventory([rule], {"eni-1": ("sg-a",)}, PeerContext())
    obs = [
        Observed("eni-1", Flow("ingress", 6, f"{a}.{b}.7.9", 443), 1, 1)
        for a in range(1, 100)
        for b in range(50)
    ]
    con = duckdb.connect()
    try:
        m = SqlObservations.from_rows(con, inv, obs, max_peers=100, per_block=2).matched(rule)
    finally:
        con.close()
    assert m.truncated == {(6, 443)} and m.stats.peers == len(obs) and m.stats.flows == len(obs)
    assert len(m.flows) < 300 and len({o.flow.peer_addr.split(".")[0] for o in m.flows}) == 99


@pytest.mark.parametrize(
    "query", [q for q in all_queries() if q.path.parent.name == "recommend"], ids=lambda q: q.name
)
@pytest.mark.parametrize("dialect", ["spark", "trino"])
def test_recommend_sql_transpiles(query: object, dialect: str) -> None:
    out = sqlglot.transpile(query.sql, read="duckdb", write=dialect)  # type: ignore[attr-defined]
    assert out and all(out)
