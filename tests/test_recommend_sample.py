"""The recommender on the committed sample day against the hand-written sample_logs/expected.json.

Ingest, inventory, analyze and recommend run once for the module (no report stage: it is not
under test here and costs most of the time).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from conftest import SampleDay

from flowlens.model.plan import Plan
from flowlens.recommend.render_md import render_md
from flowlens.samples import sample_logs_root

SAMPLES = sample_logs_root()
EXPECTED: dict[str, Any] = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
DAY = date.fromisoformat(EXPECTED["window"]["start"][:10])
BY_ID = {r["rule_id"]: r for r in EXPECTED["recommendations"]}


@pytest.fixture(scope="module")
def plan(sample_day: SampleDay) -> Plan:
    return sample_day.plan


@pytest.fixture(scope="module")
def recs(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r["rule_id"]: r for r in plan.to_dict()["recommendations"]}


def _shape(rules: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    keys = ("direction", "ip_protocol", "from_port", "to_port", "peer_type", "peer")
    return {tuple(r[k] for k in keys) for r in rules}


@pytest.mark.parametrize("rule_id", sorted(BY_ID), ids=[BY_ID[i]["name"] for i in sorted(BY_ID)])
def test_every_expected_recommendation_is_made(
    recs: dict[str, dict[str, Any]], rule_id: str
) -> None:
    want = BY_ID[rule_id]
    assert rule_id in recs, f"{want['name']}: no recommendation; expected {want['action']}"
    got = recs[rule_id]
    assert (got["group_id"], got["action"]) == (want["group_id"], want["action"]), got["notes"]
    assert _shape(got["proposed"]) == _shape(want["proposed"])
    assert got["may_widen"] is want.get("cidr_to_sg_reference", False)


def test_nothing_is_recommended_for_the_rules_that_must_stay(
    recs: dict[str, dict[str, Any]],
) -> None:
    assert not set(EXPECTED["no_recommendation"]) & set(recs)
    assert set(recs) == set(BY_ID)


def test_public_web_rules_are_kept_and_labelled_public(plan: Plan) -> None:
    labels = {k.rule_id: k.label for k in plan.kept}
    public = [rid for rid, why in EXPECTED["no_recommendation"].items() if "labelled public" in why]
    assert public and all(labels.get(rid) == "public" for rid in public)


def test_replay_proof_checks_flows_and_cuts_none(plan: Plan) -> None:
    v = plan.verification
    assert v.flows_cut == 0 and v.flows_checked > 0
    assert not plan.dropped


def test_one_day_window_raises_risk_and_the_plan_says_why(
    plan: Plan, recs: dict[str, dict[str, Any]]
) -> None:
    unused = [r for r in recs.values() if r["kind"] == "remove_unused"]
    assert unused and all(r["risk"] == "high" for r in unused)
    assert recs["sgr-093b55da14b72410e"]["risk"] == "medium"  # a plain narrowing: low, raised once
    assert "Observed for 1 day; 14 recommended before removing" in render_md(plan)


def test_a_split_allow_all_egress_gets_a_peer_per_port(recs: dict[str, dict[str, Any]]) -> None:
    rec = recs["sgr-061791088b8b536bd"]
    assert rec["kind"] == "narrow" and rec["may_widen"] is True and rec["risk"] == "high"
    assert any("pl-63a5400a" in n for n in rec["notes"]) and any(
        "sg-0387bd4e66da75c2d" in n for n in rec["notes"]
    )
