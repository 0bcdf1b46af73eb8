"""The replay proof and the planner at the flow's time (issue 12), on tiny worlds with
hand-written expectations.

Each case is a day 2026-11-28 with snapshots at 06:00 and 12:00 (or one), an ENI history built
as the inventory timeline would give it, and a few observed flows with their times.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from flowlens.model.plan import Plan
from flowlens.model.window import AnalysedWindow
from flowlens.recommend.assemble import build_plan
from flowlens.recommend.history import (
    FAR_FUTURE,
    FAR_PAST,
    Held,
    History,
    MemberAt,
    Unplaced,
    pieces,
    with_unplaced,
)
from flowlens.recommend.inputs import Inventory, Observed, Settings, SgRule, Usage
from flowlens.recommend.observations import PyObservations
from flowlens.recommend.render_cli import render_cli
from flowlens.recommend.render_md import render_md
from flowlens.recommend.render_tf import render_tf
from flowlens.recommend.rules import Flow, PeerContext, Rule
from flowlens.recommend.sql_observations import SqlObservations


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 28, hour, minute, tzinfo=UTC)


START, END = at(0), datetime(2026, 11, 29, tzinfo=UTC)
ONE_DAY = AnalysedWindow.of([START.date()], [START.date()])
T1, T2 = at(6), at(12)
SSH_OFFICE = Rule("ingress", 6, 22, 22, "cidr4", "198.51.100.0/24")


def ob(
    eni: str,
    peer: str,
    hour: int,
    *,
    port: int = 22,
    flows: int = 1,
    unattributed: bool = False,
    vpc: str | None = "vpc-1",
    direction: str = "ingress",
) -> Observed:
    return Observed(
        eni, Flow(direction, 6, peer, port), flows, 1, at(hour), at(hour, 5), unattributed, vpc
    )


def both(inv: Inventory, observed: list[Observed]) -> list[object]:
    """The Python reference and the SQL replay over the same inputs (the SQL
    one closes with the test)."""
    con = duckdb.connect()
    return [PyObservations(observed, inv), SqlObservations.from_rows(con, inv, observed)]


IMPLS = pytest.mark.parametrize("impl", [0, 1], ids=["python", "sql"])


# --- an instance replaced at 09:00: the old ENI is in the 06:00 snapshot only
# ----------------------------------


def _replaced() -> tuple[Inventory, list[Observed]]:
    rules = [SgRule("sgr-ssh", "sg-bastion", SSH_OFFICE)]
    history = History(
        holds={
            "eni-old": (Held("sg-bastion", FAR_PAST, T2, FAR_PAST, T1),),
            "eni-new": (Held("sg-bastion", T1, FAR_FUTURE, T2, FAR_FUTURE),),
        },
        vpc_groups={"vpc-1": (Held("sg-bastion", certain_from=FAR_FUTURE, certain_to=FAR_FUTURE),)},
    )
    # the latest snapshot (12:00) shows only the new, idle ENI
    inv = Inventory(
        rules,
        {"eni-new": ("sg-bastion",)},
        PeerContext(),
        group_vpc={"sg-bastion": "vpc-1"},
        history=history,
        snapshot_taken_at=T2,
    )
    return inv, [
        ob("eni-old", "198.51.100.7", 4, flows=3),
        ob("eni-old", "198.51.100.8", 8, flows=2),
    ]


@IMPLS
def test_flows_of_a_replaced_eni_are_checked_with_the_groups_it_held_then(impl: int) -> None:
    inv, observed = _replaced()
    res = both(inv, observed)[impl].replay({"sgr-ssh": ()})  # type: ignore[attr-defined]
    # 04:00 (certainly in sg-bastion) and 08:00 (possibly: between the
    # snapshots) both rely on sgr-ssh
    assert (res.flows_checked, res.flows_cut, res.flows_not_allowed_now) == (5, 5, 0)
    assert (
        res.cuts["sgr-ssh"].flows == 5
        and res.cuts["sgr-ssh"].example.flow.peer_addr == "198.51.100.7"
    )


def test_without_the_history_the_old_enis_flows_would_not_count() -> None:
    """What the single latest snapshot alone says (the bug of issue 12's "Why")."""
    inv, observed = _replaced()
    res = PyObservations(observed, Inventory(inv.rules, inv.eni_groups, inv.ctx)).replay(
        {"sgr-ssh": ()}
    )
    assert (res.flows_checked, res.flows_cut, res.flows_not_allowed_now) == (0, 0, 5)


# --- a group removed from an ENI between the snapshots: the redundancy it provided is
# uncertain ---------------


def _group_removed() -> tuple[Inventory, list[Observed]]:
    rules = [SgRule("sgr-a", "sg-a", SSH_OFFICE), SgRule("sgr-b", "sg-b", SSH_OFFICE)]
    history = History(holds={"eni-1": (Held("sg-a"), Held("sg-b", FAR_PAST, T2, FAR_PAST, T1))})
    inv = Inventory(
        rules, {"eni-1": ("sg-a",)}, PeerContext(), history=history, snapshot_taken_at=T2
    )
    return inv, [ob("eni-1", "198.51.100.7", 3), ob("eni-1", "198.51.100.7", 9, flows=4)]


@IMPLS
def test_removing_a_rule_that_another_group_may_no_longer_back_cuts_the_uncertain_flows(
    impl: int,
) -> None:
    inv, observed = _group_removed()
    res = both(inv, observed)[impl].replay({"sgr-a": ()})  # type: ignore[attr-defined]
    # 03:00: sg-b certainly held and still allows; 09:00: sg-b may have gone, sg-a alone is left
    assert (res.flows_checked, res.flows_cut) == (5, 4)
    assert set(res.cuts) == {"sgr-a"}
    # sgr-b never carries a flow alone at a time sg-a could be missing: removing it cuts nothing
    assert both(inv, observed)[impl].replay({"sgr-b": ()}).flows_cut == 0  # type: ignore[attr-defined]


# --- an address reused by an instance of another group in the afternoon
# --------------------------------------


def _reused_address() -> tuple[Inventory, list[Observed]]:
    app = Rule("ingress", 6, 5432, 5432, "sg", "sg-app")
    rules = [SgRule("sgr-db-from-app", "sg-db", app)]
    history = History(
        holds={"eni-db": (Held("sg-db"),)},
        members={
            "sg-app": (MemberAt("sg-app", "10.0.3.5", FAR_PAST, T2),),
            "sg-batch": (MemberAt("sg-batch", "10.0.3.5", T2, FAR_FUTURE),),
        },
    )
    inv = Inventory(
        rules,
        {"eni-db": ("sg-db",)},
        PeerContext({"sg-batch": frozenset({"10.0.3.5"})}),
        history=history,
        snapshot_taken_at=T2,
    )
    return inv, [
        ob("eni-db", "10.0.3.5", 9, port=5432, flows=6),
        ob("eni-db", "10.0.3.5", 15, port=5432, flows=2),
    ]


@IMPLS
def test_an_sg_reference_counts_an_address_only_while_it_belonged_to_the_group(impl: int) -> None:
    inv, observed = _reused_address()
    obs = both(inv, observed)[impl]
    res = obs.replay({"sgr-db-from-app": ()})  # type: ignore[attr-defined]
    # 09:00 was the app server (allowed by the reference); 15:00 is a batch
    # instance it never allowed
    assert (res.flows_checked, res.flows_cut, res.flows_not_allowed_now) == (6, 6, 2)
    assert obs.matched(inv.rules[0]).stats.flows == 6  # type: ignore[attr-defined]


# --- flows on an ENI that no snapshot places: every group of its VPC protects them
# ---------------------------


def _unattributed() -> tuple[Inventory, list[Observed]]:
    rules = [
        SgRule("sgr-a", "sg-a", SSH_OFFICE),
        SgRule("sgr-a-wide", "sg-a", Rule("ingress", 6, 0, 65535, "cidr4", "0.0.0.0/0")),
        SgRule("sgr-other-vpc", "sg-c", SSH_OFFICE),
    ]
    vpc_groups = {
        "vpc-1": (Held("sg-a", certain_from=FAR_FUTURE, certain_to=FAR_FUTURE),),
        "vpc-2": (Held("sg-c", certain_from=FAR_FUTURE, certain_to=FAR_FUTURE),),
    }
    inv = Inventory(
        rules,
        {},
        PeerContext(),
        group_vpc={"sg-a": "vpc-1", "sg-c": "vpc-2"},
        history=History(vpc_groups=vpc_groups),
        snapshot_taken_at=T2,
    )
    return inv, [
        ob("eni-ghost", "198.51.100.7", 10, flows=7, unattributed=True),
        ob("eni-ghost", "192.0.2.1", 10, port=3389, flows=1, unattributed=True, direction="egress"),
    ]


@IMPLS
def test_an_unattributed_flow_is_protected_in_every_group_of_its_vpc(impl: int) -> None:
    inv, observed = _unattributed()
    obs = both(inv, observed)[impl]
    res = obs.replay({"sgr-a": ()})  # type: ignore[attr-defined]
    # sg-a still allows it through sgr-a-wide; sg-c is another VPC's and never held the ENI
    assert res.flows_cut == 0 and (res.flows_unattributed, res.flows_unattributed_protected) == (
        8,
        7,
    )
    assert res.flows_checked == 0 and res.flows_not_allowed_now == 0
    res = obs.replay({"sgr-a": (), "sgr-a-wide": ()})  # type: ignore[attr-defined]
    assert res.flows_cut == 7 and set(res.cuts) == {"sgr-a", "sgr-a-wide"}
    assert obs.replay({"sgr-other-vpc": ()}).flows_cut == 0  # type: ignore[attr-defined]
    # never evidence for narrowing: the flows of an unplaced ENI shape no proposal
    assert obs.matched(inv.rules[0]).stats.flows == 0  # type: ignore[attr-defined]


def test_the_planner_drops_a_removal_that_stops_an_unattributed_flow_and_says_why() -> None:
    inv, observed = _unattributed()
    # as if the analysis had called both of sg-a's rules unused: the replay is
    # the second line of defence
    usage = {
        "sgr-a": Usage("unused"),
        "sgr-a-wide": Usage("unused"),
        "sgr-other-vpc": Usage("unused"),
    }
    plan = build_plan(inv, usage, observed, START, END, Settings(min_window_days=1), ONE_DAY)
    dropped = {d.rule_id: d.reason for d in plan.dropped}
    assert set(dropped) == {"sgr-a", "sgr-a-wide"}
    assert "would cut 7 accepted flows" in dropped["sgr-a"]
    assert (
        "on eni-ghost, an ENI no snapshot places in a security group at that time"
        in dropped["sgr-a"]
    )
    assert {r.rule_id for r in plan.recommendations} == {"sgr-other-vpc"}
    v = plan.verification
    assert (v.flows_cut, v.flows_unattributed, v.flows_unattributed_protected) == (0, 8, 7)
    assert v.snapshot_taken_at == T2 and v.days_analysed == (START.date(),)


@IMPLS
def test_an_address_of_an_unplaced_eni_may_be_a_member_of_any_group_of_its_vpc(impl: int) -> None:
    """The replaced bastion's SSH to an app server: the app's "from the
    bastion SG" rule allowed it."""
    rules = [SgRule("sgr-app-ssh", "sg-app", Rule("ingress", 6, 22, 22, "sg", "sg-bastion"))]
    never = dict(certain_from=FAR_FUTURE, certain_to=FAR_FUTURE)
    history = History(
        holds={"eni-app": (Held("sg-app"),)},
        vpc_groups={
            "vpc-1": (Held("sg-app", **never), Held("sg-bastion", **never)),
            "vpc-2": (Held("sg-x", **never),),
        },
        members={"sg-bastion": (MemberAt("sg-bastion", "10.20.0.11"),)},
    )
    observed = [ob("eni-app", "10.20.0.10", 9, flows=4), ob("eni-app", "10.20.0.10", 20, flows=1)]
    plain = Inventory(rules, {"eni-app": ("sg-app",)}, PeerContext(), history=history)
    assert both(plain, observed)[impl].replay({"sgr-app-ssh": ()}).flows_not_allowed_now == 5  # type: ignore[attr-defined]
    # the old bastion's own records put 10.20.0.10 in use in vpc-1 from 08:00 to 10:00
    seen = with_unplaced(history, [Unplaced("10.20.0.10", "vpc-1", at(8), at(10))])
    assert {
        m.group_id for ms in seen.members.values() for m in ms if m.address == "10.20.0.10"
    } == {"sg-app", "sg-bastion"}
    res = both(replace(plain, history=seen), observed)[impl].replay({"sgr-app-ssh": ()})  # type: ignore[attr-defined]
    assert (res.flows_checked, res.flows_cut, res.flows_not_allowed_now) == (4, 4, 1)
    # a possible member protects a flow, but never keeps one allowed: the VPC-wide SSH rule is not
    # redundant with the reference for the unplaced address (09:00, 4 flows; 20:00 it alone allows)
    wide = SgRule("sgr-app-ssh-vpc", "sg-app", Rule("ingress", 6, 22, 22, "cidr4", "10.20.0.0/16"))
    both_rules = replace(plain, rules=[*rules, wide], history=seen)
    res = both(both_rules, observed)[impl].replay({"sgr-app-ssh-vpc": ()})  # type: ignore[attr-defined]
    assert (res.flows_checked, res.flows_cut, set(res.cuts)) == (5, 5, {"sgr-app-ssh-vpc"})
    assert both(both_rules, observed)[impl].replay({"sgr-app-ssh": ()}).flows_cut == 0  # type: ignore[attr-defined]


# --- the verification states what it could not check, in every format
# ---------------------------------------


def _plan_with_unattributed() -> Plan:
    inv, observed = _unattributed()
    usage = {"sgr-a": Usage("used"), "sgr-a-wide": Usage("used"), "sgr-other-vpc": Usage("unused")}
    return build_plan(
        inv,
        usage,
        [*observed, ob("eni-x", "198.51.100.9", 1, unattributed=True, vpc="vpc-1")],
        START,
        END,
        Settings(min_window_days=1),
        ONE_DAY,
    )


def test_no_format_claims_zero_cut_without_the_unattributed_flows() -> None:
    plan = _plan_with_unattributed()
    d = plan.to_dict()["verification"]
    assert d["flows_unattributed"] == 9 and d["flows_unattributed_protected"] == 8
    assert d["snapshot_taken_at"] == "2026-11-28T12:00:00Z" and d["days_analysed"] == ["2026-11-28"]
    claim = (
        "0 flows checked, 0 cut; 9 flows on ENIs no snapshot places were not "
        "checked against membership"
    )
    for text in (render_md(plan), render_cli(plan), render_tf(plan)):
        assert claim in text and "8 of them protected" in text
        assert "snapshot of 2026-11-28 12:00 UTC; 1 day analysed" in text


# --- rules created, changed and deleted inside the window
# ------------------------------------------------------


def _rule_changes(usage: Usage, min_days: float = 0.25) -> Plan:
    rules = [SgRule("sgr-new", "sg-a", Rule("ingress", 6, 8080, 8080, "cidr4", "10.0.0.0/16"))]
    inv = Inventory(rules, {"eni-1": ("sg-a",)}, PeerContext(), snapshot_taken_at=T2)
    return build_plan(inv, {"sgr-new": usage}, [], START, END, Settings(min_window_days=min_days))


def test_an_unused_rule_created_at_noon_is_not_removed_before_min_window_days_of_existence() -> (
    None
):
    plan = _rule_changes(
        Usage("unused", exists_from=T2, exists_to=END, change="created", change_at=T2), min_days=1
    )
    assert not plan.recommendations
    kept = {k.rule_id: k for k in plan.kept}["sgr-new"]
    assert kept.label == "too_new"
    assert "created on 2026-11-28 12:00 UTC" in kept.reason and "0.5 days" in kept.reason


def test_an_unused_rule_changed_early_enough_is_removed_and_the_note_says_when() -> None:
    plan = _rule_changes(
        Usage("unused", exists_from=at(3), exists_to=END, change="changed", change_at=at(3))
    )
    (rec,) = plan.recommendations
    assert rec.kind.value == "remove_unused"
    assert any("changed on 2026-11-28 03:00 UTC: judged over the 0.88 days" in n for n in rec.notes)


def test_a_rule_deleted_inside_the_window_is_recommended_for_nothing() -> None:
    plan = _rule_changes(Usage("unused", change="deleted", change_at=T2))
    assert not plan.recommendations
    assert {k.rule_id: k.label for k in plan.kept} == {"sgr-new": "deleted"}


def test_pieces_of_a_world_that_never_changes_are_one() -> None:
    (p,) = pieces("eni-1", [Held("sg-a"), Held("sg-b")])
    assert (p.start, p.end, p.possible, p.certain) == (
        FAR_PAST,
        FAR_FUTURE,
        {"sg-a", "sg-b"},
        {"sg-a", "sg-b"},
    )


def test_the_pipeline_reads_a_rules_change_from_rule_usage(tmp_path: Path) -> None:
    """rule_usage's exists_from/change/change_at reach the planner: an unused
    rule created at noon stays."""
    import pyarrow.parquet as pq
    from recommend_scenario import DAY, write_scenario

    from flowlens.recommend.pipeline import recommend

    dd = write_scenario(tmp_path / "data")
    path = dd.results_dir(DAY) / "rule_usage.parquet"
    rows = pq.read_table(path).to_pylist()
    for r in rows:
        if r["rule_id"] == "sgr-unused":
            r.update(exists_from=T2, change="created", change_at=T2)
    pq.write_table(pa.Table.from_pylist(rows, schema=pq.read_schema(path)), path)
    plan = recommend(dd, [DAY], Settings(min_window_days=1), write=False)
    kept = {k.rule_id: k for k in plan.kept}
    assert "sgr-unused" not in {r.rule_id for r in plan.recommendations}
    assert (
        kept["sgr-unused"].label == "too_new"
        and "created on 2026-11-28 12:00 UTC" in kept["sgr-unused"].reason
    )
