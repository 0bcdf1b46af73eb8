"""Golden worlds of issue 18: shadowed rules by configuration, rule history
classes, the periodic wait.

Expectations were written before the code ran; each comment says why the answer is what it is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import flowlens
from flowlens.analyze.history import HistoryClass, classify
from flowlens.cli import main
from flowlens.recommend.assemble import build_plan
from flowlens.recommend.inputs import Inventory, Settings, SgRule, Usage
from flowlens.recommend.rules import PeerContext, Rule
from tests.analysis_fixtures import DAY, World

START = datetime(2026, 11, 1, tzinfo=UTC)
WIDE = SgRule("sgr-wide", "sg-app", Rule("ingress", 6, 8000, 8100, "cidr4", "10.0.0.0/16"))
LOW = SgRule("sgr-low", "sg-app", Rule("ingress", 6, 8000, 8100, "cidr4", "10.0.0.0/17"))
HIGH = SgRule("sgr-high", "sg-ops", Rule("ingress", -1, None, None, "cidr4", "10.0.128.0/17"))
TWO_SGS = Inventory(
    [WIDE, LOW, HIGH], {"eni-1": ("sg-app", "sg-ops")}, PeerContext(), {"sg-app": {}, "sg-ops": {}}
)


def _plan(usage: dict[str, Usage], days: int = 14, history: dict | None = None) -> dict:
    return build_plan(
        TWO_SGS, usage, [], START, START + timedelta(days=days), Settings(), history=history
    ).to_dict()


def test_two_sgs_on_one_eni_shadow_a_rule_nobody_could_observe() -> None:
    # sgr-wide's ENI had no flow log (no_coverage), so traffic can say nothing; configuration can:
    # 10.0.0.0/17 (sg-app) and 10.0.128.0/17 all traffic (sg-ops) together allow all it allows.
    usage = {
        "sgr-wide": Usage("no_coverage"),
        "sgr-low": Usage("no_coverage"),
        "sgr-high": Usage("no_coverage"),
    }
    plan = _plan(usage)
    (rec,) = plan["recommendations"]
    assert (rec["rule_id"], rec["action"], rec["kind"]) == (
        "sgr-wide",
        "remove",
        "remove_redundant",
    )
    assert "shadowed by configuration" in rec["notes"][0] and "sgr-high, sgr-low" in rec["notes"][0]
    assert rec["risk"] == "low"
    assert {k["rule_id"] for k in plan["kept"]} == {"sgr-low", "sgr-high"}


def test_a_shadowing_rule_that_is_removed_leaves_the_shadowed_one_in_place() -> None:
    # sgr-low is unused and removed, so the lower half of sgr-wide is covered by nothing else:
    # sgr-wide stays (as no_coverage), and sgr-high is not removed either.
    usage = {
        "sgr-wide": Usage("no_coverage"),
        "sgr-low": Usage("unused"),
        "sgr-high": Usage("no_coverage"),
    }
    plan = _plan(usage)
    assert [(r["rule_id"], r["kind"]) for r in plan["recommendations"]] == [
        ("sgr-low", "remove_unused")
    ]
    assert {k["rule_id"] for k in plan["kept"]} == {"sgr-wide", "sgr-high"}


def test_config_only_analysis_reports_the_shadow_without_flow_logs(tmp_path: Path) -> None:
    w = World(tmp_path / "data")
    w.subnet("subnet-a", "10.0.1.0/24").sg("sg-app").sg("sg-ops")
    w.rule("sgr-wide", "sg-app", "ingress", "tcp", (8000, 8100), cidr="10.0.0.0/16")
    w.rule("sgr-low", "sg-app", "ingress", "tcp", (8000, 8100), cidr="10.0.0.0/17")
    w.rule("sgr-high", "sg-ops", "ingress", "all", cidr="10.0.128.0/17")
    w.eni("eni-1", "subnet-a", ["10.0.1.10"], ["sg-app", "sg-ops"])
    dd = w.write()
    assert (
        main(
            [
                "analyze",
                "--data-dir",
                str(dd.root),
                "--date",
                DAY.isoformat(),
                "--config-only",
                "-q",
            ]
        )
        == 0
    )
    con = flowlens.connect(dd.root)
    # Each judged with the others in place: sgr-low also lies inside sgr-wide (the recommender,
    # removing one at a time, removes only the wider).
    assert con.execute(
        "SELECT rule_id, shadowed_by, enis, dynamic FROM rule_shadows ORDER BY rule_id"
    ).fetchall() == [("sgr-low", "sgr-wide", 1, False), ("sgr-wide", "sgr-high,sgr-low", 1, False)]
    assert con.execute("SELECT kind, rule_id FROM findings ORDER BY rule_id").fetchall() == [
        ("shadowed", "sgr-low"),
        ("shadowed", "sgr-wide"),
    ]


def _days(n: int, last: date = DAY) -> list[date]:
    return [last - timedelta(days=i) for i in range(n)]


def test_weekly_job_over_28_days_is_periodic() -> None:
    # Used on the 1st, 8th, 15th and 22nd of 28 analysed days: gaps 7, 7, 7; silent 6 days since.
    days = sorted(_days(28))
    weekly = {days[i]: 120 for i in (0, 7, 14, 21)}
    h = classify("sgr-job", "sg-app", DAY, days, weekly)
    assert (h.cls, h.period, h.days_used, h.longest_gap, h.silent_days, h.mean_flows) == (
        HistoryClass.PERIODIC,
        7,
        4,
        7,
        6,
        120,
    )
    assert h.pattern.endswith("#......#......#......#......") and h.pattern.startswith("_")


def test_periodic_rule_is_not_removed_on_a_short_window() -> None:
    # The weekly job's rule shows no flow in a 6-day window (status unused): removal waits for a
    # window of two periods (14 days); a 14-day window holds two runs, so there it would be used.
    days = sorted(_days(28))
    h = classify("sgr-low", "sg-app", DAY, days, {days[i]: 120 for i in (0, 7, 14, 21)})
    usage = {
        "sgr-wide": Usage("used", flows=5, sole_flows=5),
        "sgr-low": Usage("unused"),
        "sgr-high": Usage("used", flows=1, sole_flows=1),
    }
    plan = _plan(usage, days=6, history={"sgr-low": h})
    assert "sgr-low" not in {r["rule_id"] for r in plan["recommendations"]}
    (why,) = [d["reason"] for d in plan["dropped"] if d["rule_id"] == "sgr-low"]
    assert "every 7 days" in why and "at least 14 days" in why and "this window has 6" in why
    plan14 = _plan(usage, days=14, history={"sgr-low": h})
    (rec,) = [r for r in plan14["recommendations"] if r["rule_id"] == "sgr-low"]
    assert (
        rec["evidence"]["history"]["class"] == "periodic"
        and rec["evidence"]["history"]["period"] == 7
    )


def test_used_twenty_days_then_silent_ten_is_stopped() -> None:
    days = sorted(_days(30))
    h = classify("sgr-old", "sg-app", DAY, days, {d: 50 for d in days[:20]})
    assert (h.cls, h.days_used, h.silent_days, h.last_used) == (
        HistoryClass.STOPPED,
        20,
        10,
        days[19],
    )
    assert classify("sgr-none", "sg-app", DAY, days, {}).cls is HistoryClass.NEVER_USED
    assert (
        classify("sgr-daily", "sg-app", DAY, days, {d: 1 for d in days}).cls is HistoryClass.ACTIVE
    )


def test_thirty_analysed_days_weekly_job_and_stopped_rule_end_to_end(tmp_path: Path) -> None:
    # 30 small days analysed with --lookback-days 0 (each day's status is its own traffic):
    # sgr-daily used every day; sgr-weekly on days 2, 9, 16, 23 (0-based); sgr-stopped on days 0-19,
    # then silent for 10. Expected: active, periodic (7, silent 6), stopped (20 used, silent 10).
    days = sorted(_days(30))
    w = World(tmp_path / "data")
    w.subnet("subnet-a", "10.0.1.0/24").sg("sg-app")
    w.rule("sgr-daily", "sg-app", "ingress", "tcp", 443, cidr="10.0.0.0/16")
    w.rule("sgr-weekly", "sg-app", "ingress", "tcp", 9100, cidr="10.0.3.0/24")
    w.rule("sgr-stopped", "sg-app", "ingress", "tcp", 5000, cidr="10.0.4.0/24")
    w.eni("eni-app", "subnet-a", ["10.0.1.10"], ["sg-app"])
    for i, d in enumerate(days):
        w.both("eni-app", "10.0.2.5", "10.0.1.10", 40000, 443, req_flags=2, rep_flags=18, day=d)
        if i in (2, 9, 16, 23):
            w.both(
                "eni-app", "10.0.3.7", "10.0.1.10", 41000, 9100, req_flags=2, rep_flags=18, day=d
            )
        if i < 20:
            w.both(
                "eni-app", "10.0.4.9", "10.0.1.10", 42000, 5000, req_flags=2, rep_flags=18, day=d
            )
    dd = w.write()
    root = str(dd.root)
    assert (
        main(
            [
                "analyze",
                "--data-dir",
                root,
                "--start",
                days[0].isoformat(),
                "--end",
                DAY.isoformat(),
                "--lookback-days",
                "0",
                "-q",
            ]
        )
        == 0
    )
    con = flowlens.connect(dd.root)
    got = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT rule_id, class, days_used, silent_days, period FROM "
            "rule_history WHERE date = ?",
            [DAY],
        ).fetchall()
    }
    assert got == {
        "sgr-daily": ("active", 30, 0, None),
        "sgr-weekly": ("periodic", 4, 6, 7),
        "sgr-stopped": ("stopped", 20, 10, None),
    }
    con.close()
    out = tmp_path / "plan6.json"
    assert (
        main(
            [
                "recommend",
                "--data-dir",
                root,
                "--start",
                days[24].isoformat(),
                "--end",
                DAY.isoformat(),
                "--out",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    import json

    plan = json.loads(out.read_text())
    recs = {r["rule_id"]: r for r in plan["recommendations"]}
    assert "sgr-weekly" not in recs
    (why,) = [d["reason"] for d in plan["dropped"] if d["rule_id"] == "sgr-weekly"]
    assert "every 7 days" in why and "at least 14 days" in why
    assert (
        recs["sgr-stopped"]["kind"] == "remove_unused"
        and recs["sgr-stopped"]["evidence"]["history"]["class"] == "stopped"
    )
    out14 = tmp_path / "plan14.json"
    assert (
        main(
            [
                "recommend",
                "--data-dir",
                root,
                "--start",
                days[16].isoformat(),
                "--end",
                DAY.isoformat(),
                "--out",
                str(out14),
                "-q",
            ]
        )
        == 0
    )
    plan14 = json.loads(out14.read_text())
    assert all(
        r["rule_id"] != "sgr-weekly" or r["action"] != "remove" for r in plan14["recommendations"]
    )


def test_coverage_is_judged_against_rules_as_narrowed() -> None:
    from flowlens.model.plan import Kind
    from flowlens.recommend.evidence import shadowed_removals
    from flowlens.recommend.proposals import Candidate

    a = SgRule("sgr-a", "sg-app", Rule("ingress", -1, None, None, "cidr4", "10.0.0.0/16"))
    b = SgRule("sgr-b", "sg-app", Rule("ingress", 6, 22, 22, "cidr4", "10.0.2.5/32"))
    c = SgRule("sgr-c", "sg-app", Rule("ingress", 6, 80, 80, "cidr4", "10.0.1.5/32"))
    inv = Inventory([a, b, c], {"eni-1": ("sg-app",)}, PeerContext())
    # sgr-a becomes tcp/443 from 10.0.1.0/24 and tcp/22 from 10.0.2.0/24: sgr-b stays covered (by
    # the second proposed rule), sgr-c (port 80) no longer is, though the current sgr-a covers both.
    narrowed = Candidate(
        a,
        Kind.NARROW,
        (
            Rule("ingress", 6, 443, 443, "cidr4", "10.0.1.0/24"),
            Rule("ingress", 6, 22, 22, "cidr4", "10.0.2.0/24"),
        ),
    )
    added = shadowed_removals(inv, [narrowed], [b, c])
    assert [x.sg_rule.rule_id for x in added] == ["sgr-b"]
    assert "sgr-a (as narrowed)" in added[0].notes[0]
    assert [x.sg_rule.rule_id for x in shadowed_removals(inv, [], [b, c])] == ["sgr-b", "sgr-c"]


def test_redundant_by_observation_is_not_structural_when_its_cover_is_narrowed() -> None:
    # sgr-all (all TCP from 10.0.0.0/8) is narrowed to what it carried; sgr-web (tcp/8080 from
    # 10.0.0.0/8) had no sole flow, so it goes as redundant, but its cover is narrowed: only the
    # observed flows stay allowed, so it is redundant by observation (medium), not structurally.
    from flowlens.recommend.inputs import Observed
    from flowlens.recommend.rules import Flow

    every = SgRule("sgr-all", "sg-app", Rule("ingress", 6, 0, 65535, "cidr4", "10.0.0.0/8"))
    web = SgRule("sgr-web", "sg-app", Rule("ingress", 6, 8080, 8080, "cidr4", "10.0.0.0/8"))
    inv = Inventory([every, web], {"eni-1": ("sg-app",)}, PeerContext())
    observed = [
        Observed("eni-1", Flow("ingress", 6, "10.1.1.5", 22), 4, 2),
        Observed("eni-1", Flow("ingress", 6, "10.1.1.6", 8080), 4, 2),
    ]
    usage = {
        "sgr-all": Usage("used", flows=8, sole_flows=4),
        "sgr-web": Usage("used", flows=4, sole_flows=0),
    }
    plan = build_plan(inv, usage, observed, START, START + timedelta(days=14), Settings()).to_dict()
    recs = {r["rule_id"]: r for r in plan["recommendations"]}
    assert recs["sgr-all"]["action"] == "narrow"
    assert recs["sgr-web"]["kind"] == "remove_redundant" and recs["sgr-web"]["risk"] == "medium"
    assert recs["sgr-web"]["notes"] == [
        "every observed flow it allows is also allowed by rules that are kept"
    ]
