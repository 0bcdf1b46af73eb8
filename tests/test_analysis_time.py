"""Golden cases of the analysis over time: worlds that change during the day (issue 12).

Each world takes several snapshots at distinct capture times (``World.snap``); the analysis
judges every conversation by the inventory rows valid at its time (the epochs between the
timeline's change points) and never calls a rule ``unused`` over time it cannot see. The
expected rows were written before the SQL that produces them.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from analysis_fixtures import DAY, LONG_AGO, World

import flowlens
from flowlens.analyze import analyze
from flowlens.datadir import DataDir
from flowlens.inventory.config_store import write_config_history
from flowlens.model.window import Window

NET = "10.0.1.0/24"
OFFICE = "198.51.100.0/24"
S0, S10, S13, S18 = "20261128T000000Z", "20261128T100000Z", "20261128T130000Z", "20261128T180000Z"


def at(hour: float) -> int:
    """The fixture's ``at`` (seconds after 12:00) of an hour of the day."""
    return int((hour - 12) * 3600)


def ts(hour: int) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, tzinfo=UTC)


#: A row first seen in a later snapshot is possibly valid from just after the one that lacked it.
AFTER_S0 = ts(0) + timedelta(microseconds=1)


def run(w: World) -> Any:
    dd = w.write()
    analyze(dd, [DAY], threads=1)
    return flowlens.connect(dd.root)


def rows(con: Any, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def usage(con: Any) -> dict[str, dict[str, Any]]:
    return {r["rule_id"]: r for r in rows(con, "SELECT * FROM rule_usage")}


def statuses(con: Any) -> dict[str, str]:
    return {k: v["status"] for k, v in usage(con).items()}


def convs(con: Any) -> list[tuple[Any, ...]]:
    """(eni, initiator, responder port, hour of first record, status, vpc_id), in that order."""
    return [
        (
            r["eni_id"],
            r["initiator_addr"],
            r["responder_port"],
            r["first_seen"].astimezone(UTC).hour,
            r["status"],
            r["vpc_id"],
        )
        for r in rows(
            con, "SELECT * FROM conversations ORDER BY eni_id, first_seen, initiator_addr"
        )
    ]


def findings(con: Any, kind: str) -> dict[str, dict[str, Any]]:
    return {r["resource_id"]: r for r in rows(con, f"SELECT * FROM findings WHERE kind = '{kind}'")}


def bastion_world(tmp_path: Path) -> World:
    """Offices SSH to a bastion, the bastion SSHes to an app server (sg-app
    allows SSH from sg-bastion)."""
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-bastion").sg("sg-app")
    w.rule("sgr-ssh", "sg-bastion", "ingress", "tcp", 22, cidr=OFFICE)
    w.rule("sgr-rdp", "sg-bastion", "ingress", "tcp", 3389, cidr=OFFICE)
    w.rule("sgr-out", "sg-bastion", "egress", "all", cidr="0.0.0.0/0")
    w.rule("sgr-app-ssh", "sg-app", "ingress", "tcp", 22, sg="sg-bastion")
    w.eni("eni-app", "subnet-a", ["10.0.1.20"], ["sg-app"])
    return w


def old_bastion_flows(w: World) -> World:
    """The morning's work of the old bastion (10.0.1.10): SSH in from the
    office, SSH on to the app."""
    kw = {"vpc": "vpc-1", "subnet": "subnet-a"}
    w.both(
        "eni-old", "198.51.100.7", "10.0.1.10", 50000, 22, req_flags=2, rep_flags=18, at=at(8), **kw
    )
    w.both(
        "eni-old", "10.0.1.10", "10.0.1.20", 40000, 22, req_flags=2, rep_flags=18, at=at(8.5), **kw
    )
    w.both("eni-app", "10.0.1.10", "10.0.1.20", 40000, 22, req_flags=2, rep_flags=18, at=at(8.5))
    return w


# -- an instance replaced mid-day ------------------------------------------------------------


def test_instance_replaced_between_two_snapshots_is_attributed_at_each_time(tmp_path: Path) -> None:
    w = bastion_world(tmp_path)
    w.eni("eni-old", "subnet-a", ["10.0.1.10"], ["sg-bastion"]).snap(S0)
    w.drop_eni("eni-old").eni("eni-new", "subnet-a", ["10.0.1.11"], ["sg-bastion"]).snap(S13)
    old_bastion_flows(w)
    w.both("eni-new", "198.51.100.8", "10.0.1.11", 50001, 22, req_flags=2, rep_flags=18, at=at(15))
    w.both("eni-app", "10.0.1.11", "10.0.1.20", 40001, 22, req_flags=2, rep_flags=18, at=at(15.5))
    con = run(w)
    assert convs(con) == [
        ("eni-app", "10.0.1.10", 22, 8, "allowed", "vpc-1"),
        ("eni-app", "10.0.1.11", 22, 15, "allowed", "vpc-1"),
        ("eni-new", "198.51.100.8", 22, 15, "allowed", "vpc-1"),
        ("eni-old", "198.51.100.7", 22, 8, "allowed", "vpc-1"),
        ("eni-old", "10.0.1.10", 22, 8, "allowed", "vpc-1"),
    ]
    u = usage(con)
    assert {k: (v["status"], v["flows"]) for k, v in u.items()} == {
        "sgr-ssh": ("used", 2),
        "sgr-out": ("used", 1),
        "sgr-app-ssh": ("used", 2),
        "sgr-rdp": ("unused", 0),
    }
    # both bastions were possibly members during the day, and both were covered while they existed
    assert (u["sgr-rdp"]["members"], u["sgr-rdp"]["covered_members"]) == (2, 2)
    assert all(v["change"] is None for v in u.values())
    assert findings(con, "eni_not_in_inventory") == {}


def test_instance_replaced_with_only_the_later_snapshot_is_never_unused(tmp_path: Path) -> None:
    # issue 12 "Why": the inventory holds only the new, idle bastion; the old one's
    # records are on an unknown ENI
    w = bastion_world(tmp_path)
    w.eni("eni-new", "subnet-a", ["10.0.1.11"], ["sg-bastion"]).snap(S13)
    old_bastion_flows(w)
    w.flow(
        "eni-new", "-", "-", 0, 0, log_status="NODATA", at=at(15)
    )  # idle: its flow log delivered, empty
    con = run(w)
    assert convs(con) == [
        ("eni-app", "10.0.1.10", 22, 8, "no_rule", "vpc-1"),
        ("eni-old", "198.51.100.7", 22, 8, "not_in_inventory", "vpc-1"),
        ("eni-old", "10.0.1.10", 22, 8, "not_in_inventory", "vpc-1"),
    ]
    u = usage(con)
    # what the old bastion could have used is not known unused; RDP, which none
    # of its flows could use, is
    assert statuses(con) == {
        "sgr-ssh": "no_coverage",
        "sgr-out": "no_coverage",
        "sgr-app-ssh": "no_coverage",
        "sgr-rdp": "unused",
    }
    for rule in ("sgr-ssh", "sgr-out"):
        reason = u[rule]["status_reason"]
        assert "eni-old" in reason and "4 records" in reason and "--config-history" in reason
    # the app server's SSH from 10.0.1.10: no ENI of the inventory held that address, so it
    # may have been in sg-bastion
    assert (
        "10.0.1.10" in u["sgr-app-ssh"]["status_reason"]
        and "eni-old" in u["sgr-app-ssh"]["status_reason"]
    )
    f = findings(con, "eni_not_in_inventory")["eni-old"]
    assert f["severity"] == "high"
    evidence = json.loads(f["evidence"])
    assert evidence["records"] == 4 and evidence["vpc_id"] == "vpc-1"
    assert set(evidence["affected_rules"].split(", ")) == {"sgr-ssh", "sgr-out", "sgr-app-ssh"}


# -- an ENI alive only between two snapshots ------------------------------------------------


def batch_world(tmp_path: Path) -> World:
    """A web server (covered by the VPC's flow log) and a batch group with
    no member in any snapshot."""
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-batch").sg("sg-web")
    w.rule("sgr-batch-out", "sg-batch", "egress", "tcp", 443, cidr="0.0.0.0/0")
    w.rule("sgr-batch-in", "sg-batch", "ingress", "tcp", 8443, cidr="10.0.0.0/16")
    w.rule("sgr-web-in", "sg-web", "ingress", "tcp", 443, cidr="0.0.0.0/0")
    w.rule("sgr-web-out", "sg-web", "egress", "all", cidr="0.0.0.0/0")
    w.eni("eni-web", "subnet-a", ["10.0.1.10"], ["sg-web"], log=None)
    w.tables["flow_logs"].append(
        {
            "flow_log_id": "fl-vpc",
            "resource_id": "vpc-1",
            "resource_type": "vpc",
            "region": "us-east-1",
            "traffic_type": "ALL",
            "deliver_logs_status": "SUCCESS",
            "creation_time": LONG_AGO,
        }
    )
    w.tables["eni_coverage"].append(
        {
            "eni_id": "eni-web",
            "flow_log_id": "fl-vpc",
            "via": "vpc",
            "traffic_type": "ALL",
            "max_aggregation_interval": 60,
            "creation_time": LONG_AGO,
        }
    )
    w.snap(S0).snap(S18)
    # a batch job's ENI lived from 09:00 to 11:00; its records name their subnet, not their VPC
    w.both(
        "eni-batch",
        "10.0.1.50",
        "203.0.113.50",
        41000,
        443,
        req_flags=2,
        rep_flags=18,
        at=at(10),
        subnet="subnet-a",
    )
    w.flow("eni-web", "10.0.1.99", "10.0.1.10", 0, 0, proto="icmp", at=at(10))
    return w


def eni_config_item(when: datetime, status: str) -> dict[str, Any]:
    """An AWS Config configuration item of the batch ENI, as
    get-resource-config-history returns it."""
    item: dict[str, Any] = {
        "version": "1.3",
        "accountId": "111122223333",
        "configurationItemCaptureTime": when.isoformat(),
        "configurationItemStatus": status,
        "configurationStateId": str(int(when.timestamp() * 1000)),
        "resourceType": "AWS::EC2::NetworkInterface",
        "resourceId": "eni-batch",
        "awsRegion": "us-east-1",
        "relationships": [],
        "supplementaryConfiguration": {},
        "tags": {},
        "configuration": None,
    }
    if status == "ResourceDiscovered":
        item["configuration"] = json.dumps(
            {
                "networkInterfaceId": "eni-batch",
                "vpcId": "vpc-1",
                "subnetId": "subnet-a",
                "interfaceType": "interface",
                "ownerId": "111122223333",
                "privateIpAddress": "10.0.1.50",
                "status": "in-use",
                "requesterManaged": False,
                "privateIpAddresses": [{"privateIpAddress": "10.0.1.50", "primary": True}],
                "ipv6Addresses": [],
                "groups": [{"groupId": "sg-batch", "groupName": "sg-batch"}],
                "tagSet": [],
                "attachment": {
                    "attachTime": when.isoformat(),
                    "instanceId": "i-batch",
                    "status": "attached",
                    "deviceIndex": 0,
                },
            }
        )
    return item


def test_eni_between_two_snapshots_found_in_config_history_is_attributed(tmp_path: Path) -> None:
    w = batch_world(tmp_path)
    dd = w.write()
    write_config_history(
        dd,
        [eni_config_item(ts(9), "ResourceDiscovered"), eni_config_item(ts(11), "ResourceDeleted")],
        source="json",
        complete_to=None,
    )
    analyze(dd, [DAY], threads=1)
    con = flowlens.connect(dd.root)
    assert [c for c in convs(con) if c[0] == "eni-batch"] == [
        ("eni-batch", "10.0.1.50", 443, 10, "allowed", "vpc-1")
    ]
    u = usage(con)
    # its group's rules are judged by its two hours, covered by the VPC's flow log while it lived
    assert {k: (v["status"], v["flows"]) for k, v in u.items()} == {
        "sgr-batch-out": ("used", 1),
        "sgr-batch-in": ("unused", 0),
        "sgr-web-in": ("unused", 0),
        "sgr-web-out": ("unused", 0),
    }
    assert (u["sgr-batch-in"]["members"], u["sgr-batch-in"]["covered_members"]) == (1, 1)
    assert findings(con, "eni_not_in_inventory") == {}


def test_eni_between_two_snapshots_without_config_history_protects_its_vpcs_rules(
    tmp_path: Path,
) -> None:
    w = batch_world(tmp_path)
    con = run(w)
    assert [c for c in convs(con) if c[0] == "eni-batch"] == [
        ("eni-batch", "10.0.1.50", 443, 10, "not_in_inventory", "vpc-1")
    ]
    u = usage(con)
    # the batch job initiated to the internet on 443: any egress rule of the VPC allowing
    # that may be what it used
    assert statuses(con) == {
        "sgr-batch-out": "no_coverage",
        "sgr-web-out": "no_coverage",
        "sgr-batch-in": "no_members",
        "sgr-web-in": "unused",
    }
    assert (
        "eni-batch" in u["sgr-batch-out"]["status_reason"]
        and "2 records" in u["sgr-batch-out"]["status_reason"]
    )
    f = findings(con, "eni_not_in_inventory")["eni-batch"]
    assert f["severity"] == "high"
    assert set(json.loads(f["evidence"])["affected_rules"].split(", ")) == {
        "sgr-batch-out",
        "sgr-web-out",
    }


def test_unknown_eni_that_changes_no_verdict_stays_low(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-web")
    w.rule("sgr-web-in", "sg-web", "ingress", "tcp", 443, cidr="0.0.0.0/0")
    w.eni("eni-web", "subnet-a", ["10.0.1.10"], ["sg-web"])
    w.both("eni-web", "198.51.100.7", "10.0.1.10", 50000, 443, req_flags=2, rep_flags=18)
    # an unknown ENI whose only traffic was rejected exercised no rule
    w.flow(
        "eni-ghost", "198.51.100.9", "10.0.1.77", 50000, 22, action="REJECT", flags=2, vpc="vpc-1"
    )
    con = run(w)
    assert statuses(con) == {"sgr-web-in": "used"}
    assert findings(con, "eni_not_in_inventory")["eni-ghost"]["severity"] == "low"


# -- an address reused by an instance of another SG --------------------------------------------


def test_address_reused_by_another_group_in_the_afternoon_does_not_count_for_the_old_group(
    tmp_path: Path,
) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-db").sg("sg-app").sg("sg-batch")
    w.rule("sgr-db-from-app", "sg-db", "ingress", "tcp", 5432, sg="sg-app")
    w.rule("sgr-db-from-batch", "sg-db", "ingress", "tcp", 6432, sg="sg-batch")
    w.eni("eni-db", "subnet-a", ["10.0.1.30"], ["sg-db"])
    w.eni("eni-app1", "subnet-a", ["10.0.1.40"], ["sg-app"]).snap(S0)
    w.drop_eni("eni-app1").eni("eni-batch", "subnet-a", ["10.0.1.40"], ["sg-batch"]).snap(S13)
    w.both("eni-db", "10.0.1.40", "10.0.1.30", 40000, 5432, req_flags=2, rep_flags=18, at=at(8))
    w.both("eni-db", "10.0.1.40", "10.0.1.30", 40001, 5432, req_flags=2, rep_flags=18, at=at(15))
    w.both("eni-db", "10.0.1.40", "10.0.1.30", 40002, 6432, req_flags=2, rep_flags=18, at=at(16))
    con = run(w)
    assert convs(con) == [
        ("eni-db", "10.0.1.40", 5432, 8, "allowed", "vpc-1"),
        ("eni-db", "10.0.1.40", 5432, 15, "no_rule", "vpc-1"),
        ("eni-db", "10.0.1.40", 6432, 16, "allowed", "vpc-1"),
    ]
    assert {k: (v["status"], v["flows"]) for k, v in usage(con).items()} == {
        "sgr-db-from-app": ("used", 1),
        "sgr-db-from-batch": ("used", 1),
    }
    assert set(findings(con, "accepted_without_rule")) == {"eni-db"}


# -- rules added, changed and deleted at noon --------------------------------------------------


def test_rules_created_changed_and_deleted_inside_the_day(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-web")
    w.rule("sgr-keep", "sg-web", "ingress", "tcp", 443, cidr="0.0.0.0/0")
    w.rule("sgr-old", "sg-web", "ingress", "tcp", 8080, cidr="10.0.0.0/16")
    w.rule("sgr-chg", "sg-web", "ingress", "tcp", 22, cidr=OFFICE)
    w.eni("eni-web", "subnet-a", ["10.0.1.10"], ["sg-web"]).snap(S0)
    w.drop_rule("sgr-old").drop_rule("sgr-chg")
    w.rule("sgr-chg", "sg-web", "ingress", "tcp", 22, cidr="203.0.113.0/24")
    w.rule("sgr-new", "sg-web", "ingress", "tcp", 9090, cidr="10.0.0.0/16")
    w.rule("sgr-idle", "sg-web", "ingress", "tcp", 7070, cidr="10.0.0.0/16").snap(S13)
    w.both("eni-web", "10.0.2.5", "10.0.1.10", 40000, 8080, req_flags=2, rep_flags=18, at=at(8))
    w.both("eni-web", "198.51.100.7", "10.0.1.10", 50000, 22, req_flags=2, rep_flags=18, at=at(8))
    w.both("eni-web", "10.0.2.5", "10.0.1.10", 40001, 9090, req_flags=2, rep_flags=18, at=at(15))
    con = run(w)
    u = usage(con)
    got = {
        k: (v["status"], v["flows"], v["change"], v["change_at"], v["exists_from"], v["exists_to"])
        for k, v in u.items()
    }
    assert got == {
        "sgr-keep": ("unused", 0, None, None, ts(0), ts(0).replace(day=29)),
        "sgr-old": ("used", 1, "deleted", ts(13), ts(0), ts(13)),
        # its new content (from 203.0.113.0/24) had no flow; the morning's flow
        # matched the content it replaced
        "sgr-chg": ("no_coverage", 0, "changed", ts(13), AFTER_S0, ts(0).replace(day=29)),
        "sgr-new": ("used", 1, "created", ts(13), AFTER_S0, ts(0).replace(day=29)),
        "sgr-idle": ("no_coverage", 0, "created", ts(13), AFTER_S0, ts(0).replace(day=29)),
    }
    assert "created on 2026-11-28" in u["sgr-idle"]["status_reason"]
    assert "changed on 2026-11-28" in u["sgr-chg"]["status_reason"]
    assert [c[4] for c in convs(con)] == ["allowed", "allowed", "allowed"]
    # rule_matches is what allowed each flow at its time: the replaced content of sgr-chg included
    matched = rows(con, "SELECT rule_id, service_port FROM rule_matches ORDER BY service_port")
    assert [(r["rule_id"], r["service_port"]) for r in matched] == [
        ("sgr-chg", 22),
        ("sgr-old", 8080),
        ("sgr-new", 9090),
    ]


# -- a prefix list changed mid-window ----------------------------------------------------------


def test_prefix_list_version_in_force_at_the_flows_time(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-web")
    w.rule("sgr-pl", "sg-web", "ingress", "tcp", 443, pl="pl-office")
    w.eni("eni-web", "subnet-a", ["10.0.1.10"], ["sg-web"])
    w.tables["prefix_lists"].append(
        {
            "prefix_list_id": "pl-office",
            "prefix_list_name": "office",
            "version": 1,
            "address_family": "IPv4",
            "max_entries": 5,
            "state": "modify-complete",
        }
    )
    w.prefix_list("pl-office", ["203.0.113.0/24"], version=1).snap(S0).snap(S10)
    w.drop("prefix_lists", prefix_list_id="pl-office").drop(
        "prefix_list_entries", prefix_list_id="pl-office"
    )
    w.tables["prefix_lists"].append(
        {
            "prefix_list_id": "pl-office",
            "prefix_list_name": "office",
            "version": 2,
            "address_family": "IPv4",
            "max_entries": 5,
            "state": "modify-complete",
        }
    )
    w.prefix_list("pl-office", ["198.51.100.0/24"], version=2).snap(S13)
    w.both("eni-web", "203.0.113.9", "10.0.1.10", 50000, 443, req_flags=2, rep_flags=18, at=at(8))
    w.both("eni-web", "198.51.100.9", "10.0.1.10", 50001, 443, req_flags=2, rep_flags=18, at=at(8))
    # between 10:00 and 13:00 either version may have been in force: lenient for "allowed"
    w.both("eni-web", "198.51.100.9", "10.0.1.10", 50002, 443, req_flags=2, rep_flags=18, at=at(11))
    w.both("eni-web", "203.0.113.9", "10.0.1.10", 50003, 443, req_flags=2, rep_flags=18, at=at(15))
    w.both("eni-web", "198.51.100.9", "10.0.1.10", 50004, 443, req_flags=2, rep_flags=18, at=at(15))
    con = run(w)
    assert [(c[1], c[3], c[4]) for c in convs(con)] == [
        ("198.51.100.9", 8, "no_rule"),
        ("203.0.113.9", 8, "allowed"),
        ("198.51.100.9", 11, "allowed"),
        ("198.51.100.9", 15, "allowed"),
        ("203.0.113.9", 15, "no_rule"),
    ]
    assert (usage(con)["sgr-pl"]["status"], usage(con)["sgr-pl"]["flows"]) == ("used", 3)


# -- a flow log created at noon ----------------------------------------------------------------


def test_flow_log_created_at_noon_covers_only_from_its_creation(tmp_path: Path) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-x")
    w.rule("sgr-http", "sg-x", "ingress", "tcp", 80, cidr="10.0.0.0/16")
    w.rule("sgr-https", "sg-x", "ingress", "tcp", 443, cidr="10.0.0.0/16")
    w.eni("eni-x", "subnet-a", ["10.0.1.10"], ["sg-x"], log=None).snap(S0)
    w.drop("eni_coverage", eni_id="eni-x")
    noon = ts(12)
    w.tables["flow_logs"].append(
        {
            "flow_log_id": "fl-eni-x",
            "resource_id": "eni-x",
            "resource_type": "eni",
            "region": "us-east-1",
            "traffic_type": "ALL",
            "deliver_logs_status": "SUCCESS",
            "creation_time": noon,
        }
    )
    w.tables["eni_coverage"].append(
        {
            "eni_id": "eni-x",
            "flow_log_id": "fl-eni-x",
            "via": "eni",
            "traffic_type": "ALL",
            "max_aggregation_interval": 60,
            "creation_time": noon,
        }
    )
    w.snap(S13)
    w.both("eni-x", "10.0.1.99", "10.0.1.10", 40000, 443, req_flags=2, rep_flags=18, at=at(14))
    con = run(w)
    u = usage(con)
    assert {k: (v["status"], v["flows"]) for k, v in u.items()} == {
        "sgr-http": ("no_coverage", 0),
        "sgr-https": ("used", 1),
    }
    assert (
        "fl-eni-x" in u["sgr-http"]["status_reason"]
        and "after the window start" in u["sgr-http"]["status_reason"]
    )


# -- one snapshot: today's results, plus the new columns -----------------------------------------


def test_one_snapshot_gives_one_epoch_and_the_new_columns_their_neutral_values(
    tmp_path: Path,
) -> None:
    w = World(tmp_path / "data").subnet("subnet-a", NET).sg("sg-web")
    w.rule("sgr-https", "sg-web", "ingress", "tcp", 443, cidr="0.0.0.0/0")
    w.eni("eni-web", "subnet-a", ["10.0.1.10"], ["sg-web"])
    w.both("eni-web", "198.51.100.7", "10.0.1.10", 50000, 443, req_flags=2, rep_flags=18)
    con = run(w)
    r = usage(con)["sgr-https"]
    assert (r["status"], r["change"], r["change_at"]) == ("used", None, None)
    assert (r["exists_from"], r["exists_to"]) == (r["window_start"], r["window_end"])
    assert convs(con) == [("eni-web", "198.51.100.7", 443, 12, "allowed", "vpc-1")]


# -- the sample day with the bastion replaced (issue 12 "Why") -----------------------------------

SAMPLE_LOGS = Path(__file__).resolve().parent.parent / "sample_logs"
BASTION = "eni-07a93e423b3ff6908"


def test_sample_day_with_the_bastion_replaced_by_an_idle_twin_cuts_nothing_it_used(
    sample_day: Any, tmp_path: Path
) -> None:
    # the inventory holds, instead of the bastion, an identical idle instance attached at
    # noon: new ENI, new address
    from flowlens.ingest.pipeline import ingest
    from flowlens.ingest.source import LocalSource
    from flowlens.inventory import snapshot_from_json

    exports = tmp_path / "inventory"
    shutil.copytree(SAMPLE_LOGS / "inventory", exports)
    doc = json.loads((exports / "describe-network-interfaces.json").read_text())
    [old] = [e for e in doc["NetworkInterfaces"] if e["NetworkInterfaceId"] == BASTION]
    old.update(
        NetworkInterfaceId="eni-0bbbbbbbbbbbbbbb1",
        PrivateIpAddress="10.20.0.11",
        PrivateDnsName="ip-10-20-0-11.ec2.internal",
    )
    old["PrivateIpAddresses"] = [{"Primary": True, "PrivateIpAddress": "10.20.0.11"}]
    old.pop("Association", None)
    old["Attachment"].update(
        AttachTime="2026-11-28T12:00:00+00:00", InstanceId="i-0bbbbbbbbbbbbbbb1"
    )
    (exports / "describe-network-interfaces.json").write_text(json.dumps(doc))
    day = DAY
    dd = DataDir(tmp_path / "data")
    ingest(LocalSource(SAMPLE_LOGS / "s3"), [day], dd, workers=2)
    snapshot_from_json([exports], dd, taken_at=Window.day(day).end)
    analyze(dd, [day])
    before = {
        r["rule_id"]: r["status"]
        for r in rows(flowlens.connect(sample_day.data.root), "SELECT * FROM rule_usage")
    }
    con = flowlens.connect(dd.root)
    after = {r["rule_id"]: r["status"] for r in rows(con, "SELECT * FROM rule_usage")}
    assert after.keys() == before.keys()
    # nothing the real bastion used becomes unused; nothing else changes to unused either
    assert {k for k, v in before.items() if v == "used" and after[k] == "unused"} == set()
    assert {k for k, v in after.items() if v == "unused"} <= {
        k for k, v in before.items() if v == "unused"
    }
    assert {
        r["status"]
        for r in rows(con, f"SELECT status FROM conversations WHERE eni_id = '{BASTION}'")
    } == {"not_in_inventory"}
    f = findings(con, "eni_not_in_inventory")[BASTION]
    assert f["severity"] == "high"
    affected = json.loads(f["evidence"])["affected_rules"].split(", ")
    assert affected and all(after[r] == "no_coverage" for r in affected)
    assert all(before[r] in ("used", "unused") for r in affected)
