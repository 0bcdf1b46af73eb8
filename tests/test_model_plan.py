"""plan.json's contract: ``Plan.from_dict`` is the inverse of
``Plan.to_dict`` (and of the JSON text)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlens.errors import InputError
from flowlens.model.net import ALL, ICMP, ICMPV6, TCP, UDP, Direction, PeerType, Rule
from flowlens.model.plan import (
    Action,
    Dropped,
    Evidence,
    Kept,
    Kind,
    Plan,
    Recommendation,
    Risk,
    Verification,
)

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
ids = st.from_regex(r"\A(sgr|sg)-[0-9a-f]{4,8}\Z")
counts = st.integers(0, 10**9)
# plan.json stores instants to the second, in UTC
instants = st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    proto = draw(st.sampled_from([TCP, UDP, ICMP, ICMPV6, ALL, 47]))
    if proto in (TCP, UDP):
        lo = draw(st.integers(0, 65535))
        ports: tuple[int | None, int | None] = (lo, draw(st.integers(lo, 65535)))
    elif proto in (ICMP, ICMPV6):
        ports = (draw(st.integers(-1, 255)), draw(st.integers(-1, 255)))
    else:
        ports = (None, None)
    peer_type = draw(st.sampled_from(list(PeerType)))
    peer = {
        PeerType.CIDR4: "198.51.100.0/24",
        PeerType.CIDR6: "2001:db8::/64",
        PeerType.SG: "sg-0a1b",
        PeerType.PREFIX_LIST: "pl-0a1b",
    }[peer_type]
    return Rule(draw(st.sampled_from(list(Direction))), proto, *ports, peer_type, peer, draw(texts))


@st.composite
def evidence(draw: st.DrawFn) -> Evidence:
    start = draw(instants)
    end = start + timedelta(seconds=draw(st.integers(1, 90 * 86400)))
    return Evidence(
        start,
        end,
        (end - start).total_seconds() / 86400,
        draw(st.sampled_from(["used", "unused"])),
        draw(texts),
        flows=draw(counts),
        connections=draw(counts),
        sole_flows=draw(st.none() | counts),
        peers=draw(counts),
        ports=draw(counts),
        protocols=tuple(draw(st.lists(st.integers(-1, 255), max_size=3))),
        sample_peers=tuple(draw(st.lists(texts, max_size=3))),
        first_seen=draw(st.none() | instants),
        last_seen=draw(st.none() | instants),
        public_by_observation=draw(st.booleans()),
    )


@st.composite
def recommendations(draw: st.DrawFn) -> Recommendation:
    return Recommendation(
        draw(ids),
        draw(ids),
        draw(st.sampled_from(list(Action))),
        draw(st.sampled_from(list(Kind))),
        draw(st.none() | rules()),
        tuple(draw(st.lists(rules(), max_size=3))),
        draw(evidence()),
        draw(st.sampled_from(list(Risk))),
        draw(texts),
        draw(st.booleans()),
        tuple(draw(st.lists(texts, max_size=2))),
    )


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    start = draw(instants)
    end = start + timedelta(days=draw(st.integers(1, 60)))
    settings_ = draw(
        st.dictionaries(st.sampled_from(["k_prefixes", "exclude_tag"]), st.integers(0, 9) | texts)
    )
    return Plan(
        start,
        end,
        Verification(
            draw(counts),
            draw(counts),
            draw(counts),
            draw(counts),
            draw(counts),
            draw(counts),
            draw(st.none() | instants),
            tuple(
                sorted(
                    {(start + timedelta(days=d)).date() for d in draw(st.lists(st.integers(0, 3)))}
                )
            ),
        ),
        tuple(draw(st.lists(recommendations(), max_size=4))),
        tuple(
            Dropped(draw(ids), draw(ids), draw(st.sampled_from(list(Kind))).value, draw(texts))
            for _ in range(draw(st.integers(0, 2)))
        ),
        tuple(
            Kept(draw(ids), draw(ids), draw(texts), draw(texts))
            for _ in range(draw(st.integers(0, 2)))
        ),
        settings_,
    )


@settings(max_examples=200, deadline=None)
@given(plans())
def test_from_dict_inverts_to_dict(plan: Plan) -> None:
    assert Plan.from_dict(plan.to_dict()) == plan


@settings(max_examples=100, deadline=None)
@given(plans())
def test_the_json_text_round_trips(plan: Plan) -> None:
    text = plan.to_json()
    assert Plan.from_json(text).to_json() == text


@settings(max_examples=200, deadline=None)
@given(rules())
def test_a_rule_round_trips_with_its_description(rule: Rule) -> None:
    again = Rule.from_dict(rule.to_dict())
    assert (again, again.description) == (rule, rule.description)


def test_the_minimal_shape_of_the_contract_reads_with_documented_defaults() -> None:
    plan = Plan.from_dict(
        {
            "window": {"start": "2026-11-28T00:00:00Z", "end": "2026-11-29T00:00:00Z"},
            "verification": {"flows_checked": 123456, "flows_cut": 0},
            "recommendations": [
                {
                    "rule_id": "sgr-1",
                    "group_id": "sg-1",
                    "action": "narrow",
                    "risk": "low",
                    "proposed": [
                        {
                            "ip_protocol": 6,
                            "from_port": 22,
                            "to_port": 22,
                            "peer_type": "cidr4",
                            "peer": "198.51.100.7/32",
                        }
                    ],
                    "evidence": {"flows": 812, "peers": 2, "ports": 1, "window_days": 1},
                },
                {
                    "rule_id": "sgr-2",
                    "group_id": "sg-1",
                    "action": "replace",
                    "risk": "medium",
                    "proposed": [
                        {
                            "direction": "egress",
                            "ip_protocol": -1,
                            "peer_type": "sg",
                            "peer": "sg-2",
                        }
                    ],
                    "evidence": {},
                },
            ],
        },
        directions={"sgr-1": "egress"},
    )
    narrow, replace = plan.recommendations
    assert narrow.proposed[0].direction is Direction.EGRESS  # from the directions given
    assert (narrow.kind, narrow.current, narrow.may_widen, narrow.evidence.window_days) == (
        Kind.NARROW,
        None,
        False,
        1,
    )
    assert narrow.evidence.window_start == datetime(2026, 11, 28, tzinfo=UTC)  # the plan's window
    assert (replace.kind, replace.may_widen) == (Kind.SG_REFERENCE, True)  # a replacement may widen
    assert plan.verification == Verification(123456, 0, 0)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"verification": {"flows_checked": 1, "flows_cut": 0}},
            r"plan.json: not a plan: needs window",
        ),
        (
            {"window": {"start": "2026-11-28T00:00:00Z", "end": "2026-11-29T00:00:00Z"}},
            r"verification",
        ),
        (
            {
                "window": {"start": "2026-11-28T00:00:00Z", "end": "2026-11-29T00:00:00Z"},
                "verification": {"flows_checked": 1, "flows_cut": 0},
                "recommendations": [
                    {"rule_id": "sgr-1", "group_id": "sg-1", "action": "shrink", "risk": "low"}
                ],
            },
            r"plan.json recommendation 0 \(sgr-1\): not a valid recommendation .*'shrink'",
        ),
    ],
)
def test_a_bad_plan_is_an_input_error_naming_where(doc: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        Plan.from_dict(doc, where="plan.json")


def test_from_json_names_the_line_of_bad_json() -> None:
    with pytest.raises(InputError, match=r"plan.json:2: not valid JSON"):
        Plan.from_json('{\n"window": }', where="plan.json")
    assert (
        json.loads(
            Plan.from_json(
                json.dumps(
                    {
                        "window": {"start": "2026-11-28T00:00:00Z", "end": "2026-11-29T00:00:00Z"},
                        "verification": {"flows_checked": 1, "flows_cut": 0},
                    }
                )
            ).to_json()
        )["window"]["days"]
        == 1
    )
