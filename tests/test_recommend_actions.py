"""Which action a proposal gets, and when it is marked as possibly widening
(docs/recommend.md#safety-contract)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flowlens.recommend.assemble import build_plan
from flowlens.recommend.inputs import AwsPrefixList, Inventory, Observed, Settings, SgRule, Usage
from flowlens.recommend.rules import Flow, PeerContext, Rule

S3 = AwsPrefixList("pl-s3", "com.amazonaws.us-east-1.s3", 4, ("52.216.0.0/15",))
CTX = PeerContext(
    {"sg-db": frozenset({"10.0.3.5"}), "sg-app": frozenset({"10.0.1.5"})}, {}, {"pl-s3": S3.entries}
)
START = datetime(2026, 11, 1, tzinfo=UTC)


def _plan_for(rule: Rule, flows: list[Flow]) -> dict[str, Any]:
    sg_rule = SgRule("sgr-1", "sg-app", rule)
    inv = Inventory([sg_rule], {"eni-app": ("sg-app",)}, CTX, aws_prefix_lists=[S3])
    observed = [Observed("eni-app", f, 3, 1) for f in flows]
    usage = {
        "sgr-1": Usage(
            "used", flows=3 * len(flows), connections=len(flows), sole_flows=3 * len(flows)
        )
    }
    plan = build_plan(inv, usage, observed, START, START + timedelta(days=14), Settings())
    assert plan.verification.flows_cut == 0 and plan.verification.flows_checked == 3 * len(flows)
    (rec,) = plan.to_dict()["recommendations"]
    return rec


def _proposed(rec: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {(p["ip_protocol"], p["from_port"], p["peer_type"], p["peer"]) for p in rec["proposed"]}


def test_allow_all_egress_gets_its_peer_chosen_per_port() -> None:
    rec = _plan_for(
        Rule("egress", -1, None, None, "cidr4", "0.0.0.0/0"),
        [
            Flow("egress", 6, "52.216.1.1", 443),
            Flow("egress", 6, "52.217.3.4", 443),
            Flow("egress", 6, "10.0.3.5", 5432),
        ],
    )
    assert _proposed(rec) == {(6, 443, "prefix_list", "pl-s3"), (6, 5432, "sg", "sg-db")}
    assert rec["action"] == "narrow" and rec["kind"] == "narrow"
    assert rec["may_widen"] is True and rec["risk"] == "medium"  # the SG-reference part is marked


def test_world_to_a_prefix_list_inside_it_is_a_narrowing() -> None:
    rec = _plan_for(
        Rule("egress", 6, 443, 443, "cidr4", "0.0.0.0/0"), [Flow("egress", 6, "52.216.1.1", 443)]
    )
    assert _proposed(rec) == {(6, 443, "prefix_list", "pl-s3")}
    assert (rec["action"], rec["kind"], rec["may_widen"], rec["risk"]) == (
        "narrow",
        "replace_cidr_with_prefix_list",
        False,
        "low",
    )


def test_a_prefix_list_reaching_beyond_the_cidr_is_a_marked_replacement() -> None:
    rec = _plan_for(
        Rule("egress", 6, 443, 443, "cidr4", "52.216.0.0/16"),
        [Flow("egress", 6, "52.216.1.1", 443)],
    )
    assert _proposed(rec) == {(6, 443, "prefix_list", "pl-s3")}
    assert (rec["action"], rec["may_widen"], rec["risk"]) == ("replace", True, "medium")


def test_a_cidr_to_sg_reference_is_a_marked_replacement() -> None:
    rec = _plan_for(
        Rule("ingress", 6, 5432, 5432, "cidr4", "10.0.0.0/16"),
        [Flow("ingress", 6, "10.0.3.5", 5432)],
    )
    assert _proposed(rec) == {(6, 5432, "sg", "sg-db")}
    assert (rec["action"], rec["kind"], rec["may_widen"], rec["risk"]) == (
        "replace",
        "replace_cidr_with_sg",
        True,
        "medium",
    )
