"""Permissiveness scores and the trade-off points: hand-checked on the sample day,
properties on random worlds."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlens.cli import main
from flowlens.recommend.permissiveness import score, set_score
from flowlens.recommend.rules import Flow, PeerContext, Rule, allows, is_subset
from flowlens.recommend.tradeoff import Point, plan_points, rule_points


def test_scores_by_hand() -> None:
    # bits = log2(addresses x ports x protocols); score = 1 + 99 * bits / 56
    assert score(Rule("ingress", 6, 22, 22, "cidr4", "0.0.0.0/0")) == 57.6  # 32 bits
    assert score(Rule("ingress", 6, 443, 443, "cidr4", "10.0.0.0/16")) == 29.3  # 16 bits
    assert score(Rule("ingress", 6, 0, 65535, "cidr6", "::/0")) == 85.9  # 128/4 + 16 = 48 bits
    assert score(Rule("egress", -1, None, None, "cidr4", "0.0.0.0/0")) == 100.0
    two = [
        Rule("ingress", 6, 22, 22, "cidr4", "198.51.100.7/32"),
        Rule("ingress", 6, 22, 22, "cidr4", "203.0.113.25/32"),
    ]
    assert set_score(two) == 2.8 and set_score([]) == 0.0  # 1 bit; removed


def test_sample_day_tradeoff_for_ssh_and_egress(
    sample_day, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    day = sample_day.expected["window"]["start"][:10]
    assert (
        main(
            [
                "recommend",
                "--data-dir",
                str(sample_day.data.root),
                "--date",
                day,
                "--tradeoff",
                "-q",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    # SSH from 0.0.0.0/0 (57.6): one /4 around both admins (2^28 addresses, 50.5) or the two /32s
    # chosen (2 addresses: 2.8).
    assert "sgr-093b55da14b72410e (sg-0ec5c041d9a101b95), now 57.6:" in out
    assert "      1 rules   50.5  1 prefixes: 192.0.0.0/4" in out
    assert "  *   2 rules    2.8  2 prefixes: 198.51.100.7/32, 203.0.113.25/32" in out
    # Egress all to 0.0.0.0/0 (100) narrowed to HTTPS to the S3 prefix list (chosen, 32.9); the
    # CIDR covers of the observed S3 addresses are the other points, 6 exact /32s the narrowest.
    assert "sgr-00eec7eb59fe0a392 (sg-0420e291bc62e8af7), now 100:" in out
    assert "  *   1 rules   32.9  proposed: pl-63a5400a" in out
    assert "      6 rules    5.6  6 prefixes: 16.182.103.13/32" in out
    # The plan's chosen point: 3.8 + 32.9 + 2.8 + 32.9 over 6 rules; total 944 before, 612.4 after.
    assert "  *    6 rules     72.4" in out and "plan total 944 → 612.4" in out


@st.composite
def narrowing(draw: st.DrawFn) -> tuple[Rule, list[Rule], list[Flow]]:
    base = draw(st.sampled_from(["10.0.0.0/24", "0.0.0.0/0", "192.168.0.0/16"]))
    net = ipaddress.ip_network(base)
    offsets = draw(
        st.lists(
            st.integers(0, min(net.num_addresses - 1, 4095)), min_size=1, max_size=12, unique=True
        )
    )
    addrs = [str(net.network_address + o) for o in offsets]
    ports = draw(
        st.lists(st.sampled_from([22, 80, 443, 5432]), min_size=1, max_size=3, unique=True)
    )
    current = Rule("ingress", draw(st.sampled_from([6, -1])), None, None, "cidr4", base)
    flows = [Flow("ingress", 6, a, draw(st.sampled_from(ports))) for a in addrs]
    proposed = [
        Rule("ingress", 6, p, p, "cidr4", f"{a}/32")
        for a in sorted(set(addrs))
        for p in sorted(ports)
    ]
    return current, proposed, flows


@settings(max_examples=150, deadline=None)
@given(narrowing(), st.integers(1, 6))
def test_every_point_keeps_every_flow_and_stays_inside(
    case: tuple[Rule, list[Rule], list[Flow]], k: int
) -> None:
    current, proposed, flows = case
    ctx = PeerContext()
    points = rule_points(current, proposed, [f.peer_addr for f in flows], k, ctx)
    assert sum(p.chosen for p in points) == 1
    for p in points:
        assert all(any(allows(r, f, ctx) for r in p.rules) for f in flows)
        assert is_subset(p.rules, current, ctx)
    counts = [p.count for p in points]
    perms = [p.permissiveness for p in points if not p.chosen]
    assert counts == sorted(counts) and perms == sorted(perms, reverse=True)  # a frontier


def test_plan_points_mark_the_chosen_sum() -> None:
    r = Rule("ingress", 6, 22, 22, "cidr4", "0.0.0.0/0")
    from flowlens.recommend.tradeoff import Curve

    a = Curve("a", "g", 57.6, (Point((r,), 50.0), Point((r, r), 3.0, True)))
    b = Curve("b", "g", 57.6, (Point((r,), 10.0, True), Point((r, r, r), 1.0)))
    pts = plan_points([a, b])
    assert [(p.rules, p.permissiveness, p.chosen) for p in pts] == [
        (2, 60.0, False),
        (3, 13.0, True),
        (5, 4.0, False),
    ]
