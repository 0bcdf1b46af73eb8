"""The recommender on a hand-made scenario with hand-written expectations (issue 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from recommend_scenario import DAY, FLOWS, WEB_CLIENTS, write_scenario

from flowlens.catalog import connect
from flowlens.model.plan import Plan
from flowlens.recommend.inputs import Settings
from flowlens.recommend.pipeline import recommend


@pytest.fixture(scope="module")
def plan_and_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Path]:
    root = tmp_path_factory.mktemp("scenario") / "data"
    dd = write_scenario(root)
    return recommend(dd, [DAY], Settings(min_window_days=1)), root


@pytest.fixture(scope="module")
def recs(plan_and_dir: tuple[Plan, Path]) -> dict[str, dict[str, Any]]:
    return {r["rule_id"]: r for r in plan_and_dir[0].to_dict()["recommendations"]}


def _peers(rec: dict[str, Any]) -> set[str]:
    return {p["peer"] for p in rec["proposed"]}


def test_ssh_open_to_the_world_is_narrowed_to_the_two_office_addresses(
    recs: dict[str, dict[str, Any]],
) -> None:
    rec = recs["sgr-ssh"]
    assert rec["action"] == "narrow" and rec["risk"] == "low"
    assert _peers(rec) == {"198.51.100.7/32", "203.0.113.9/32"}
    assert {(p["ip_protocol"], p["from_port"], p["to_port"]) for p in rec["proposed"]} == {
        (6, 22, 22)
    }
    assert (
        rec["evidence"]["flows"] == 8
        and rec["evidence"]["peers"] == 2
        and rec["evidence"]["ports"] == 1
    )


def test_database_rule_on_a_16_becomes_a_reference_to_the_app_tier(
    recs: dict[str, dict[str, Any]],
) -> None:
    rec = recs["sgr-db"]
    assert rec["action"] == "replace" and rec["kind"] == "replace_cidr_with_sg"
    assert rec["proposed"] == [{**rec["proposed"][0], "peer_type": "sg", "peer": "sg-app"}]
    assert rec["may_widen"] is True and rec["risk"] == "medium"


def test_allow_all_egress_used_for_two_destinations_is_narrowed(
    recs: dict[str, dict[str, Any]],
) -> None:
    rec = recs["sgr-egress"]
    assert rec["action"] == "narrow"
    assert {
        (p["ip_protocol"], p["from_port"], p["to_port"], p["peer"]) for p in rec["proposed"]
    } == {(6, 443, 443, "198.51.100.20/32"), (6, 443, 443, "203.0.113.50/32")}


def test_unused_rule_is_removed(recs: dict[str, dict[str, Any]]) -> None:
    assert recs["sgr-unused"]["action"] == "remove" and recs["sgr-unused"]["proposed"] == []
    assert recs["sgr-unused"]["risk"] == "medium"


def test_public_web_rule_is_kept_and_labelled(
    plan_and_dir: tuple[Plan, Path], recs: dict[str, dict[str, Any]]
) -> None:
    assert "sgr-http" not in recs
    kept = {k.rule_id: k for k in plan_and_dir[0].kept}
    assert kept["sgr-http"].label == "public"
    assert f"{len(WEB_CLIENTS)} peers" in kept["sgr-http"].reason


def test_a_removal_that_would_cut_traffic_is_dropped_with_its_reason(
    plan_and_dir: tuple[Plan, Path],
) -> None:
    dropped = {d.rule_id: d for d in plan_and_dir[0].dropped}
    assert "sgr-stale" in dropped
    assert "would cut 1 accepted flows" in dropped["sgr-stale"].reason
    assert "10.0.3.6" in dropped["sgr-stale"].reason


def test_redundant_rules_are_removed_one_at_a_time(recs: dict[str, dict[str, Any]]) -> None:
    # both overlap; the wider one goes, the narrower one stays needed and is replaced
    assert recs["sgr-dup1"]["kind"] == "remove_redundant"
    assert recs["sgr-dup2"]["kind"] == "replace_cidr_with_sg"


def test_aws_service_destination_becomes_the_managed_prefix_list(
    recs: dict[str, dict[str, Any]],
) -> None:
    rec = recs["sgr-s3"]
    assert rec["kind"] == "replace_cidr_with_prefix_list" and _peers(rec) == {"pl-s3"}
    assert rec["risk"] == "low" and rec["may_widen"] is False
    assert (
        rec["action"] == "narrow"
    )  # the list lies inside 0.0.0.0/0: a subset, not a marked replacement


def test_excluded_and_uncovered_rules_are_kept_with_reasons(
    plan_and_dir: tuple[Plan, Path],
) -> None:
    kept = {k.rule_id: k for k in plan_and_dir[0].kept}
    assert (
        kept["sgr-excluded"].label == "excluded"
        and "flowlens:exclude" in kept["sgr-excluded"].reason
    )
    assert kept["sgr-nocov"].label == "no_coverage"


def test_verification_checks_every_allowed_flow_and_cuts_none(
    plan_and_dir: tuple[Plan, Path],
) -> None:
    v = plan_and_dir[0].verification
    assert v.flows_cut == 0
    assert v.flows_checked == sum(f[5] for f in FLOWS)


def test_short_window_raises_risk(tmp_path: Path) -> None:
    dd = write_scenario(tmp_path / "data")
    plan = recommend(dd, [DAY], Settings(min_window_days=14), write=False)
    risks = {r.rule_id: r.risk.value for r in plan.recommendations}
    assert risks["sgr-ssh"] == "medium" and risks["sgr-unused"] == "high"


def test_exclude_flags_keep_rules(tmp_path: Path) -> None:
    dd = write_scenario(tmp_path / "data")
    plan = recommend(
        dd,
        [DAY],
        Settings(exclude_rules=frozenset({"sgr-ssh"}), exclude_groups=frozenset({"sg-db"})),
        write=False,
    )
    ids = {r.rule_id for r in plan.recommendations}
    assert "sgr-ssh" not in ids and not any(r.group_id == "sg-db" for r in plan.recommendations)


def test_recommendations_table_is_written_and_queryable(plan_and_dir: tuple[Plan, Path]) -> None:
    from flowlens.datadir import DataDir

    con = connect(DataDir(plan_and_dir[1]))
    try:
        rows = con.execute(
            "SELECT rule_id, action, risk FROM recommendations ORDER BY rule_id"
        ).fetchall()
    finally:
        con.close()
    assert ("sgr-ssh", "narrow", "low") in rows and len(rows) == len(
        plan_and_dir[0].recommendations
    )
    assert isinstance(con, duckdb.DuckDBPyConnection)
