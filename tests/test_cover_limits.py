"""--min-coverage, --max-prefix and --max-rules: what the narrowing proposes under each limit."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from flowlens.recommend.assemble import build_plan
from flowlens.recommend.cover_limits import limited_cover
from flowlens.recommend.inputs import Inventory, Observed, Settings, SgRule, Usage
from flowlens.recommend.rules import Flow, PeerContext, Rule

START = datetime(2026, 11, 1, tzinfo=UTC)
SSH = SgRule("sgr-ssh", "sg-app", Rule("ingress", 6, 22, 22, "cidr4", "10.0.0.0/16"))
PEERS = ("10.0.1.5", "10.0.1.6", "10.0.9.1")


def _proposed(s: Settings) -> tuple[list[str], list[dict]]:
    inv = Inventory([SSH], {"eni-1": ("sg-app",)}, PeerContext())
    observed = [Observed("eni-1", Flow("ingress", 6, p, 22), 2, 1) for p in PEERS]
    plan = build_plan(
        inv,
        {"sgr-ssh": Usage("used", flows=6, sole_flows=6)},
        observed,
        START,
        START + timedelta(days=14),
        s,
    )
    d = plan.to_dict()
    return [p["peer"] for r in d["recommendations"] for p in r["proposed"]], d["dropped"]


def test_one_prefix_by_default_hosts_under_min_coverage_and_max_prefix() -> None:
    assert _proposed(Settings(k_prefixes=1))[0] == [
        "10.0.0.0/20"
    ]  # 3 hosts stand for 4096 addresses
    # half of 10.0.1.4/30 was seen, not 75 %: the three hosts, one rule each
    assert _proposed(Settings(k_prefixes=1, min_coverage=0.75))[0] == [
        "10.0.1.5/32",
        "10.0.1.6/32",
        "10.0.9.1/32",
    ]
    assert _proposed(Settings(k_prefixes=2, max_prefix=24))[0] == ["10.0.1.4/30", "10.0.9.1/32"]


def test_max_rules_keeps_a_narrowing_that_would_grow_the_sg() -> None:
    peers, dropped = _proposed(Settings(k_prefixes=3, max_rules_per_sg=2))
    assert (
        peers == [] and "--max-rules: sg-app would hold 3 rules (limit 2)" in dropped[0]["reason"]
    )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 255), min_size=1, max_size=10, unique=True),
    st.integers(1, 4),
    st.sampled_from([0.0, 0.25, 0.5, 1.0]),
    st.sampled_from([None, 24, 28, 30]),
)
def test_limited_cover_covers_every_peer_inside_and_within_limits(
    offsets: list[int], k: int, share: float, widest: int | None
) -> None:
    peers = [f"10.0.0.{o}" for o in offsets]
    cover = limited_cover(peers, "10.0.0.0/24", k, min_coverage=share, max_prefix=widest, limit=10)
    if cover is None:
        assert len(peers) > 10 or share > 0 or widest is not None
        return
    nets = [ipaddress.ip_network(p) for p in cover.prefixes]
    assert all(any(ipaddress.ip_address(a) in n for n in nets) for a in peers)
    assert all(n.subnet_of(ipaddress.ip_network("10.0.0.0/24")) for n in nets)
    for n in nets:
        assert widest is None or n.prefixlen >= widest
        assert sum(ipaddress.ip_address(a) in n for a in peers) >= share * n.num_addresses
