"""Golden cases of the analysis: a tiny world per edge case, hand-written expected rows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from analysis_fixtures import DAY, World

import flowlens
from flowlens.analyze import analyze

NET = "10.0.1.0/24"
WEB = "10.0.1.10"


def run(w: World, days: list[Any] | None = None) -> Any:
    dd = w.write()
    analyze(dd, days or [DAY], threads=1)
    return flowlens.connect(dd.root)


def rows(con: Any, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def usage(con: Any) -> dict[str, tuple[str, int, int]]:
    """rule_id → (status, flows, sole_flows)."""
    return {
        r["rule_id"]: (r["status"], r["flows"], r["sole_flows"])
        for r in rows(con, "SELECT * FROM rule_usage")
    }


def conv(con: Any, **where: Any) -> list[tuple[Any, ...]]:
    cond = " AND ".join(f"{k} = '{v}'" for k, v in where.items()) or "true"
    return [
        tuple(r)
        for r in con.execute(
            "SELECT eni_id, initiator_addr, initiator_port, responder_addr, responder_port, "
            f"eni_role, decided_by, status FROM conversations WHERE {cond} ORDER "
            "BY eni_id, initiator_addr"
        ).fetchall()
    ]


@pytest.fixture
def web(tmp_path: Path) -> World:
    """One web server ENI: ingress tcp/443 from anywhere, the default allow-all egress."""
    w = World(tmp_path / "data")
    w.subnet("subnet-a", NET).sg("sg-web")
    w.rule("sgr-https", "sg-web", "ingress", "tcp", 443, cidr="0.0.0.0/0")
    w.rule("sgr-egress", "sg-web", "egress", "all", cidr="0.0.0.0/0")
    w.eni("eni-web", "subnet-a", [WEB], ["sg-web"])
    return w


def test_reply_traffic_does_not_use_allow_all_egress(web: World) -> None:
    web.both("eni-web", "198.51.100.7", WEB, 50000, 443, req_flags=2, rep_flags=18)
    web.both("eni-web", "198.51.100.8", WEB, 50001, 443, req_flags=3, rep_flags=19, at=60)
    con = run(web)
    assert usage(con) == {"sgr-https": ("used", 2, 2), "sgr-egress": ("unused", 0, 0)}
    assert conv(con) == [
        ("eni-web", "198.51.100.7", 50000, WEB, 443, "responder", "tcp_flags", "allowed"),
        ("eni-web", "198.51.100.8", 50001, WEB, 443, "responder", "tcp_flags", "allowed"),
    ]


def test_conversation_without_syn_uses_listening_port(web: World) -> None:
    # a long-lived connection that began before the day: flags 0 both ways, client port below 32768
    web.both("eni-web", "198.51.100.7", WEB, 20000, 443, req_flags=0, rep_flags=0)
    con = run(web)
    assert conv(con) == [
        ("eni-web", "198.51.100.7", 20000, WEB, 443, "responder", "listening_port", "allowed")
    ]
    assert usage(con)["sgr-https"] == ("used", 1, 1)


def test_v2_format_without_flags_outbound_call(web: World) -> None:
    # default format: no flags, no pkt-*; the web server calls an API on the internet
    web.both("eni-web", WEB, "203.0.113.9", 41000, 443)
    con = run(web)
    assert conv(con) == [
        ("eni-web", WEB, 41000, "203.0.113.9", 443, "initiator", "ephemeral_port", "allowed")
    ]
    assert usage(con) == {"sgr-https": ("unused", 0, 0), "sgr-egress": ("used", 1, 1)}


def test_syn_seen_on_the_peer_eni_decides_a_v2_eni(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-a").sg("sg-b")
    w.rule("sgr-a-in", "sg-a", "ingress", "tcp", (8000, 9000), cidr="10.0.0.0/16")
    w.rule("sgr-b-out", "sg-b", "egress", "tcp", (8000, 9000), cidr="10.0.0.0/16")
    w.eni("eni-a", "subnet-a", ["10.0.1.10"], ["sg-a"]).eni(
        "eni-b", "subnet-a", ["10.0.1.20"], ["sg-b"]
    )
    # both sides use unprivileged ports; only eni-b's v3 log has flags
    w.both("eni-b", "10.0.1.20", "10.0.1.10", 8500, 8080, req_flags=2, rep_flags=18)
    w.both("eni-a", "10.0.1.20", "10.0.1.10", 8500, 8080)
    con = run(w)
    assert conv(con) == [
        ("eni-a", "10.0.1.20", 8500, "10.0.1.10", 8080, "responder", "tcp_flags", "allowed"),
        ("eni-b", "10.0.1.20", 8500, "10.0.1.10", 8080, "initiator", "tcp_flags", "allowed"),
    ]
    assert usage(con) == {"sgr-a-in": ("used", 1, 1), "sgr-b-out": ("used", 1, 1)}


def test_several_sgs_on_one_eni(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-a").sg("sg-b")
    w.rule("sgr-a", "sg-a", "ingress", "tcp", 443, cidr="0.0.0.0/0")
    w.rule("sgr-b", "sg-b", "ingress", "tcp", 443, cidr="198.51.100.0/24")
    w.eni("eni-web", "subnet-a", [WEB], ["sg-a", "sg-b"])
    w.both("eni-web", "198.51.100.7", WEB, 50000, 443, req_flags=2, rep_flags=18)
    w.both("eni-web", "203.0.113.5", WEB, 50001, 443, req_flags=2, rep_flags=18)
    con = run(w)
    assert usage(con) == {"sgr-a": ("used", 2, 1), "sgr-b": ("used", 1, 0)}
    matched = rows(
        con,
        "SELECT peer_addr, rule_id, rules_matched FROM rule_matches ORDER BY peer_addr, rule_id",
    )
    assert [(r["peer_addr"], r["rule_id"], r["rules_matched"]) for r in matched] == [
        ("198.51.100.7", "sgr-a", 2),
        ("198.51.100.7", "sgr-b", 2),
        ("203.0.113.5", "sgr-a", 1),
    ]


def test_two_overlapping_rules_sole_vs_shared(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-db")
    w.rule("sgr-wide", "sg-db", "ingress", "tcp", (0, 65535), cidr="10.0.0.0/16")
    w.rule("sgr-pg", "sg-db", "ingress", "tcp", 5432, cidr="10.0.2.0/24")
    w.eni("eni-db", "subnet-a", [WEB], ["sg-db"])
    for i in range(3):
        w.both("eni-db", "10.0.2.5", WEB, 40000 + i, 5432, req_flags=2, rep_flags=18)
    w.both("eni-db", "10.0.3.5", WEB, 40000, 5432, req_flags=2, rep_flags=18)
    con = run(w)
    assert usage(con) == {"sgr-wide": ("used", 4, 1), "sgr-pg": ("used", 3, 0)}
    r = rows(con, "SELECT * FROM rule_usage WHERE rule_id = 'sgr-pg'")[0]
    assert (r["connections"], r["sole_connections"], r["peers"], r["ports"]) == (3, 0, 1, 1)
    assert "redundant" in r["status_reason"]


def test_sg_reference_matches_private_addresses_only(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).subnet("subnet-b", "10.0.2.0/24")
    w.sg("sg-db").sg("sg-app")
    w.rule("sgr-db-from-app", "sg-db", "ingress", "tcp", 5432, sg="sg-app")
    w.eni("eni-db", "subnet-a", [WEB], ["sg-db"]).eni(
        "eni-app", "subnet-b", ["10.0.2.20"], ["sg-app"]
    )
    w.tables["eni_ips"].append(
        {
            "eni_id": "eni-app",
            "address": "203.0.113.20",
            "kind": "public4",
            "family": 4,
            "lo": "00000000000000000000ffffcb007114",
            "hi": "00000000000000000000ffffcb007114",
        }
    )
    w.both("eni-db", "10.0.2.20", WEB, 40000, 5432, req_flags=2, rep_flags=18)
    w.both("eni-db", "203.0.113.20", WEB, 40001, 5432, req_flags=2, rep_flags=18)
    con = run(w)
    assert usage(con)["sgr-db-from-app"] == ("used", 1, 1)
    assert rows(con, "SELECT matched_via FROM rule_matches")[0]["matched_via"] == "sg"
    assert [c[1] for c in conv(con, status="no_rule")] == ["203.0.113.20"]
    kinds = {r["kind"]: r for r in rows(con, "SELECT * FROM findings")}
    assert kinds["accepted_without_rule"]["resource_id"] == "eni-db"


def test_prefix_list_uses_its_newest_version(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-web")
    w.rule("sgr-pl", "sg-web", "ingress", "tcp", 443, pl="pl-office")
    w.prefix_list("pl-office", ["203.0.113.0/24"], version=1).prefix_list(
        "pl-office", ["198.51.100.0/24"], version=2
    )
    w.eni("eni-web", "subnet-a", [WEB], ["sg-web"])
    w.both("eni-web", "198.51.100.9", WEB, 50000, 443, req_flags=2, rep_flags=18)
    w.both("eni-web", "203.0.113.9", WEB, 50000, 443, req_flags=2, rep_flags=18)
    con = run(w)
    assert usage(con) == {"sgr-pl": ("used", 1, 1)}
    assert [(c[1], c[7]) for c in conv(con)] == [
        ("198.51.100.9", "allowed"),
        ("203.0.113.9", "no_rule"),
    ]


def test_ipv6_matches_only_v6_rules(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET, ipv6="2001:db8:0:1::/64").sg("sg-bastion")
    w.rule("sgr-ssh4", "sg-bastion", "ingress", "tcp", 22, cidr="0.0.0.0/0")
    w.rule("sgr-ssh6", "sg-bastion", "ingress", "tcp", 22, cidr="2001:db8:ffff::/48")
    w.eni("eni-b", "subnet-a", [WEB, "2001:db8:0:1::10"], ["sg-bastion"])
    w.both("eni-b", "2001:db8:ffff::5", "2001:db8:0:1::10", 50000, 22, req_flags=2, rep_flags=18)
    con = run(w)
    assert usage(con) == {"sgr-ssh4": ("unused", 0, 0), "sgr-ssh6": ("used", 1, 1)}
    assert rows(con, "SELECT family FROM conversations")[0]["family"] == 6
    assert (
        rows(con, "SELECT kind FROM findings WHERE rule_id = 'sgr-ssh4'")[0]["kind"]
        == "admin_port_open_to_world"
    )


def test_protocol_all_matches_any_protocol_and_port(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-x")
    w.rule("sgr-all", "sg-x", "ingress", "all", cidr="10.0.0.0/16")
    w.eni("eni-x", "subnet-a", [WEB], ["sg-x"])
    w.both("eni-x", "10.0.5.5", WEB, 53000, 8125, proto="udp")
    w.flow("eni-x", "10.0.5.6", WEB, 0, 0, proto=47)  # GRE, one-way
    con = run(w)
    assert usage(con) == {"sgr-all": ("used", 2, 2)}
    r = rows(con, "SELECT * FROM rule_usage")[0]
    assert (r["peers"], r["ports"]) == (2, 2)


def test_icmp_matches_on_protocol_and_type_rules_are_unobservable(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-x")
    w.rule("sgr-icmp-all", "sg-x", "ingress", "icmp", (-1, -1), cidr="0.0.0.0/0")
    w.rule("sgr-echo", "sg-x", "ingress", "icmp", (8, -1), cidr="0.0.0.0/0")
    w.eni("eni-x", "subnet-a", [WEB], ["sg-x"])
    w.both("eni-x", "198.51.100.7", WEB, 0, 0, proto="icmp")
    con = run(w)
    assert usage(con) == {"sgr-icmp-all": ("used", 1, 0), "sgr-echo": ("unobservable", 1, 0)}
    reason = rows(con, "SELECT status_reason FROM rule_usage WHERE rule_id = 'sgr-echo'")[0][
        "status_reason"
    ]
    assert "ICMP type 8" in reason
    assert conv(con)[0][1:3] == ("198.51.100.7", 0)


def test_nacl_rejected_reply_corpus_ping_case(tmp_path: Path) -> None:
    # docs/flow-logs.md#security-groups / corpus v2-default-icmp-sg-vs-nacl.log: SG allows inbound
    # ICMP, NACL denies outbound
    w = (
        World(tmp_path / "data")
        .nacl("acl-strict")
        .subnet("subnet-a", "172.31.16.0/20", nacl="acl-strict")
    )
    w.nacl_entry("acl-strict", 100, "ingress", "allow").nacl_entry(
        "acl-strict", 32767, "ingress", "deny"
    )
    w.nacl_entry("acl-strict", 100, "egress", "allow", proto="tcp", ports=(1024, 65535))
    w.nacl_entry("acl-strict", 32767, "egress", "deny")
    w.sg("sg-ping").rule("sgr-icmp", "sg-ping", "ingress", "icmp", (-1, -1), cidr="0.0.0.0/0")
    eni = "eni-1235b8ca123456789"
    w.eni(eni, "subnet-a", ["172.31.16.139"], ["sg-ping"])
    w.flow(eni, "203.0.113.12", "172.31.16.139", 0, 0, proto="icmp", packets=4, nbytes=336)
    w.flow(
        eni,
        "172.31.16.139",
        "203.0.113.12",
        0,
        0,
        proto="icmp",
        action="REJECT",
        packets=4,
        nbytes=336,
        at=67,
    )
    con = run(w)
    rej = rows(con, "SELECT * FROM rejected")
    assert [(r["srcaddr"], r["cause"]) for r in rej] == [("172.31.16.139", "nacl")]
    assert "reply to an accepted icmp request from 203.0.113.12" in rej[0]["cause_detail"]
    assert "entry 32767" in rej[0]["cause_detail"]
    assert conv(con) == [
        (eni, "203.0.113.12", 0, "172.31.16.139", 0, "responder", "first_packet", "allowed")
    ]
    assert usage(con) == {"sgr-icmp": ("used", 1, 1)}


def test_same_subnet_reject_is_sg_even_when_the_nacl_would_deny(tmp_path: Path) -> None:
    w = World(tmp_path / "data").nacl("acl-a").subnet("subnet-a", NET, nacl="acl-a")
    w.nacl_entry("acl-a", 90, "ingress", "deny", cidr="10.0.0.0/16", proto="tcp", ports=(22, 22))
    w.nacl_entry("acl-a", 100, "ingress", "allow").nacl_entry("acl-a", 100, "egress", "allow")
    w.sg("sg-web").rule("sgr-https", "sg-web", "ingress", "tcp", 443, cidr="10.0.0.0/16")
    w.eni("eni-web", "subnet-a", [WEB], ["sg-web"])
    w.flow("eni-web", "10.0.1.20", WEB, 40000, 22, action="REJECT", flags=2)
    w.flow(
        "eni-web", "10.0.7.20", WEB, 40000, 22, action="REJECT", flags=2
    )  # other subnet: the NACL
    w.flow(
        "eni-web", "10.0.7.21", WEB, 40000, 3389, action="REJECT", flags=2
    )  # NACL allows, SG does not
    con = run(w)
    rej = {r["srcaddr"] + ":" + str(r["dstport"]): r for r in rows(con, "SELECT * FROM rejected")}
    assert {k: v["cause"] for k, v in rej.items()} == {
        "10.0.1.20:22": "sg",
        "10.0.7.20:22": "nacl",
        "10.0.7.21:3389": "sg",
    }
    assert "same subnet" in rej["10.0.1.20:22"]["cause_detail"]
    assert "entry 90" in rej["10.0.7.20:22"]["cause_detail"]
    assert [c[6] for c in conv(con)] == ["tcp_flags"] * 3  # a rejected SYN names its sender


def test_uncovered_eni_makes_rules_no_coverage(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).subnet("subnet-dark", "10.0.9.0/24")
    w.sg("sg-app").rule("sgr-app", "sg-app", "ingress", "tcp", 8080, cidr="10.0.0.0/16")
    w.sg("sg-lonely").rule("sgr-lonely", "sg-lonely", "ingress", "tcp", 8080, cidr="10.0.0.0/16")
    w.sg("sg-rej").rule("sgr-rej", "sg-rej", "ingress", "tcp", 9090, cidr="10.0.0.0/16")
    w.sg("sg-cov").rule("sgr-cov", "sg-cov", "ingress", "tcp", 7070, cidr="10.0.0.0/16")
    w.eni("eni-a", "subnet-a", ["10.0.1.10"], ["sg-app", "sg-cov"])
    w.eni("eni-dark", "subnet-dark", ["10.0.9.10"], ["sg-app"], log=None)
    w.eni("eni-r", "subnet-a", ["10.0.1.11"], ["sg-rej"], log="REJECT")
    w.flow(
        "eni-a", "10.0.1.99", "10.0.1.10", 0, 0, proto="icmp"
    )  # some traffic so the flow log delivered
    w.flow("eni-r", "10.0.1.99", "10.0.1.11", 40000, 22, action="REJECT")
    con = run(w)
    got = {
        r["rule_id"]: (r["status"], r["status_reason"])
        for r in rows(con, "SELECT * FROM rule_usage")
    }
    assert got["sgr-app"][0] == "no_coverage" and "eni-dark has no flow log" in got["sgr-app"][1]
    assert (
        got["sgr-rej"][0] == "no_coverage"
        and "eni-r has only a REJECT flow log" in got["sgr-rej"][1]
    )
    assert got["sgr-lonely"][0] == "no_members"
    assert got["sgr-cov"][0] == "unused"
    kinds = {(r["kind"], r["resource_id"]) for r in rows(con, "SELECT * FROM findings")}
    assert {
        ("subnet_without_flow_log", "subnet-dark"),
        ("eni_without_flow_log", "eni-dark"),
        ("eni_partial_flow_log", "eni-r"),
    } <= kinds


def test_skipdata_and_late_flow_log_are_no_coverage(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    w = World(tmp_path / "data").subnet("subnet-a", NET)
    w.sg("sg-a").rule("sgr-a", "sg-a", "ingress", "tcp", 80, cidr="10.0.0.0/16")
    w.sg("sg-b").rule("sgr-b", "sg-b", "ingress", "tcp", 80, cidr="10.0.0.0/16")
    w.eni("eni-a", "subnet-a", ["10.0.1.10"], ["sg-a"])
    w.eni(
        "eni-b",
        "subnet-a",
        ["10.0.1.11"],
        ["sg-b"],
        log_created=datetime(2026, 11, 28, 9, tzinfo=UTC),
    )
    w.flow("eni-a", "10.0.1.99", "10.0.1.10", 0, 0, log_status="SKIPDATA")
    w.flow("eni-b", "10.0.1.99", "10.0.1.11", 0, 0, proto="icmp")
    con = run(w)
    got = {
        r["rule_id"]: (r["status"], r["status_reason"])
        for r in rows(con, "SELECT * FROM rule_usage")
    }
    assert got["sgr-a"][0] == "no_coverage" and "SKIPDATA" in got["sgr-a"][1]
    assert got["sgr-b"][0] == "no_coverage" and "created after the window start" in got["sgr-b"][1]


def test_unobservable_destinations(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-x")
    w.rule("sgr-imds", "sg-x", "egress", "tcp", 80, cidr="169.254.169.254/32")
    w.rule("sgr-dns", "sg-x", "egress", "udp", 53, cidr="10.0.0.2/32")
    w.rule("sgr-dhcp", "sg-x", "egress", "udp", (67, 68), cidr="0.0.0.0/0")
    w.rule("sgr-real", "sg-x", "egress", "tcp", 80, cidr="10.0.0.0/24")
    w.eni("eni-x", "subnet-a", [WEB], ["sg-x"])
    w.flow("eni-x", "10.0.1.99", WEB, 0, 0, proto="icmp")
    con = run(w)
    got = {
        r["rule_id"]: (r["status"], r["status_reason"])
        for r in rows(con, "SELECT * FROM rule_usage")
    }
    assert {k: v[0] for k, v in got.items()} == {
        "sgr-imds": "unobservable",
        "sgr-dns": "unobservable",
        "sgr-dhcp": "unobservable",
        "sgr-real": "unused",
    }
    assert "instance metadata" in got["sgr-imds"][1] and "VPC resolver" in got["sgr-dns"][1]


def test_late_fin_and_bpa_rejects(web: World) -> None:
    web.both("eni-web", "198.51.100.7", WEB, 50000, 443, req_flags=2, rep_flags=18)
    web.flow("eni-web", "198.51.100.7", WEB, 50000, 443, action="REJECT", flags=1, at=900)
    web.flow(
        "eni-web", "198.51.100.9", WEB, 50000, 443, action="REJECT", reject_reason="BPA", flags=2
    )
    con = run(web)
    got = {r["srcaddr"]: r["cause"] for r in rows(con, "SELECT * FROM rejected")}
    assert got == {"198.51.100.7": "late_packet", "198.51.100.9": "bpa"}


def test_nat_gateway_eni_is_transit_and_its_rejects_are_nacl(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-pub", "10.0.0.0/24")
    w.eni("eni-nat", "subnet-pub", ["10.0.0.220"], [], itype="nat_gateway")
    w.flow("eni-nat", "10.0.1.5", "10.0.0.220", 41000, 443, pkt_dst="203.0.113.5", flags=2)
    w.flow("eni-nat", "10.0.0.220", "203.0.113.5", 41000, 443, flags=2)
    w.flow("eni-nat", "198.51.100.66", "10.0.0.220", 40000, 22, action="REJECT", flags=2)
    con = run(w)
    assert {c[5] for c in conv(con)} == {"transit"}
    assert {c[7] for c in conv(con)} == {"transit"}
    assert [r["cause"] for r in rows(con, "SELECT * FROM rejected")] == ["nacl"]
    assert rows(con, "SELECT COUNT(*) AS n FROM rule_matches")[0]["n"] == 0


def test_lookback_keeps_a_weekly_rule_used(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-batch")
    w.rule("sgr-weekly", "sg-batch", "ingress", "tcp", 5000, cidr="10.0.0.0/16")
    w.rule("sgr-never", "sg-batch", "ingress", "tcp", 6000, cidr="10.0.0.0/16")
    w.eni("eni-batch", "subnet-a", [WEB], ["sg-batch"])
    earlier = DAY - timedelta(days=6)
    w.both("eni-batch", "10.0.2.2", WEB, 40000, 5000, req_flags=2, rep_flags=18, day=earlier)
    w.flow("eni-batch", "10.0.2.2", WEB, 0, 0, proto="icmp")
    con = run(w, [earlier, DAY])
    got = {
        (str(r["date"])[:10], r["rule_id"]): (
            r["status"],
            r["flows"],
            r["last_used_date"],
            r["status_reason"],
        )
        for r in rows(con, "SELECT * FROM rule_usage")
    }
    assert got[(str(earlier), "sgr-weekly")][:3] == ("used", 1, earlier)
    status, flows, last_used, reason = got[(str(DAY), "sgr-weekly")]
    assert (status, flows, last_used) == ("used", 0, earlier)
    assert f"last used on {earlier}" in reason
    assert got[(str(DAY), "sgr-never")][0] == "unused"


def test_history_carries_the_initiator_to_a_day_without_syn(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-a")
    w.rule("sgr-a", "sg-a", "ingress", "tcp", (1, 65535), cidr="10.0.0.0/16")
    w.rule("sgr-out", "sg-a", "egress", "tcp", (1, 65535), cidr="10.0.0.0/16")
    w.eni("eni-a", "subnet-a", [WEB], ["sg-a"])
    earlier = DAY - timedelta(days=1)
    # a peer that connects from port 45000 to our 40000: ports alone would make us the client
    w.both("eni-a", "10.0.2.2", WEB, 45000, 40000, req_flags=2, rep_flags=18, day=earlier)
    w.both("eni-a", "10.0.2.2", WEB, 45000, 40000, req_flags=0, rep_flags=0)
    con = run(w, [earlier, DAY])
    got = rows(
        con, "SELECT date, initiator_addr, decided_by, eni_role FROM conversations ORDER BY date"
    )
    assert [(r["initiator_addr"], r["decided_by"], r["eni_role"]) for r in got] == [
        ("10.0.2.2", "tcp_flags", "responder"),
        ("10.0.2.2", "history", "responder"),
    ]


def test_moat_and_castle_counts_instance_enis_only(tmp_path: Path) -> None:
    # sg-base is on all three instances but not on the load balancer or the database ENI
    w = World(tmp_path / "data").subnet("subnet-a", NET)
    for g in ("sg-base", "sg-app", "sg-alb", "sg-db", "sg-partial"):
        w.sg(g)
    w.eni("eni-app1", "subnet-a", ["10.0.1.11"], ["sg-base", "sg-app", "sg-partial"])
    w.eni("eni-app2", "subnet-a", ["10.0.1.12"], ["sg-base", "sg-app", "sg-partial"])
    w.eni("eni-ops", "subnet-a", ["10.0.1.13"], ["sg-base"])
    w.eni("eni-alb", "subnet-a", ["10.0.1.20"], ["sg-alb"], service=True)
    w.eni("eni-rds", "subnet-a", ["10.0.1.30"], ["sg-db"], service=True)
    w.flow("eni-app1", "10.0.1.99", "10.0.1.11", 0, 0, proto="icmp")
    con = run(w)
    moat = rows(con, "SELECT * FROM findings WHERE kind = 'moat_and_castle'")
    assert [r["group_id"] for r in moat] == ["sg-base"]
    assert "all 3 instance ENIs" in moat[0]["detail"]


def test_moat_and_castle_needs_three_instances(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-base").sg("sg-alb")
    w.eni("eni-app1", "subnet-a", ["10.0.1.11"], ["sg-base"])
    w.eni("eni-app2", "subnet-a", ["10.0.1.12"], ["sg-base"])
    for i in range(3):
        w.eni(f"eni-alb{i}", "subnet-a", [f"10.0.1.2{i}"], ["sg-alb"], service=True)
    w.flow("eni-app1", "10.0.1.99", "10.0.1.11", 0, 0, proto="icmp")
    con = run(w)
    assert rows(con, "SELECT * FROM findings WHERE kind = 'moat_and_castle'") == []


@pytest.fixture
def db(tmp_path: Path) -> World:
    """An RDS ENI (requester-managed) in its own subnet; the app subnet talks to it on 5432."""
    w = World(tmp_path / "data").subnet("subnet-app", NET).subnet("subnet-db", "10.0.2.0/24")
    w.sg("sg-db").rule("sgr-db", "sg-db", "ingress", "tcp", 5432, cidr="10.0.0.0/16")
    w.eni("eni-rds", "subnet-db", ["10.0.2.10"], ["sg-db"], service=True)
    return w


def test_both_layers_allow_without_tcp_flags_is_unknown(db: World) -> None:
    # sample_logs db_unknown: v2 format, a pooled connection accepted all day, one REJECT mid-way
    db.both("eni-rds", WEB, "10.0.2.10", 41000, 5432)
    db.flow("eni-rds", WEB, "10.0.2.10", 41000, 5432, action="REJECT", at=600, packets=2)
    db.flow(
        "eni-rds", "10.0.1.11", "10.0.2.10", 41001, 5432, action="REJECT", at=600
    )  # no accept at all
    con = run(db)
    rej = {r["srcaddr"]: r for r in rows(con, "SELECT * FROM rejected")}
    assert {k: v["cause"] for k, v in rej.items()} == {WEB: "unknown", "10.0.1.11": "unknown"}
    for r in rej.values():
        assert (
            "both NACL acl-default (entry 100) and 1 security-group rule(s) allow tcp/5432"
            in r["cause_detail"]
        )
        assert "no tcp-flags" in r["cause_detail"] and "cannot be told apart" in r["cause_detail"]
    assert "had accepted records earlier" in rej[WEB]["cause_detail"]
    assert "no earlier accepted record" in rej["10.0.1.11"]["cause_detail"]


def test_both_layers_allow_late_fin_rst_and_expired_state(db: World) -> None:
    # sample_logs late_fin: v3 with tcp-flags; FIN/RST without SYN is a late packet even with no
    # accept that day; an ACK-only packet is one only when the same 5-tuple was accepted earlier
    db.both("eni-rds", WEB, "10.0.2.10", 41000, 5432, req_flags=2, rep_flags=18)
    db.flow("eni-rds", WEB, "10.0.2.10", 41000, 5432, action="REJECT", flags=1, at=900)
    db.flow("eni-rds", "10.0.1.11", "10.0.2.10", 41001, 5432, action="REJECT", flags=4, at=900)
    db.both("eni-rds", "10.0.1.12", "10.0.2.10", 41002, 5432, req_flags=2, rep_flags=18)
    db.flow("eni-rds", "10.0.1.12", "10.0.2.10", 41002, 5432, action="REJECT", flags=16, at=900)
    db.flow("eni-rds", "10.0.1.13", "10.0.2.10", 41003, 5432, action="REJECT", flags=16, at=900)
    con = run(db)
    rej = {r["srcaddr"]: r for r in rows(con, "SELECT * FROM rejected")}
    assert {k: v["cause"] for k, v in rej.items()} == {
        WEB: "late_packet",
        "10.0.1.11": "late_packet",
        "10.0.1.12": "late_packet",
        "10.0.1.13": "unknown",
    }
    assert "FIN/RST without SYN" in rej["10.0.1.11"]["cause_detail"]
    assert "connection-tracking entry expired" in rej["10.0.1.12"]["cause_detail"]
    assert "tcp-flags (16) show no FIN/RST" in rej["10.0.1.13"]["cause_detail"]
