"""The committed sample day with the bastion replaced, as in issue 12's "Why".

The inventory is the committed JSON with one change, made here: the bastion's ENI is replaced by
an identical idle instance's (new ENI id, new private and public address, new instance, attached
at 23:50, same groups), the instance refresh an Auto Scaling group does every day. The day's
records of the old bastion are then on an ENI that no snapshot places in a security group.

Written before the time-aware analysis and replay existed; each assertion is the issue's
requirement: the old bastion's rules are not ``unused``, no recommendation cuts its flows, the
plan counts them as unattributed and protected, and the finding about the ENI is ``high``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_LOGS

from flowlens.catalog import connect
from flowlens.datadir import DataDir
from flowlens.model.plan import Plan
from flowlens.model.window import Window
from flowlens.recommend.render_md import render_md

DAY = date(2026, 11, 28)
OLD_ENI, NEW_ENI = "eni-07a93e423b3ff6908", "eni-0b5a5713e0ffee001"
OLD_ADDR, NEW_ADDR = "10.20.0.10", "10.20.0.11"
#: the rules the old bastion's traffic exercised (sample_logs/README.md, "Rules"), by name
BASTION_RULES = {
    "sgr-093b55da14b72410e": "bastion-in-22-world",
    "sgr-0ec320c4e5a4cb03b": "bastion-out-22-app",
    "sgr-08e3f987fb8de165c": "bastion-out-icmp-app",
    "sgr-076e969feb506cbcb": "app-in-22-bastion",
    "sgr-0efc2af9320f84f60": "app-in-icmp-bastion",
}
#: of those, the rules of the bastion's own group: only the unplaced ENI's records exercise them
OWN_GROUP = ("sgr-093b55da14b72410e", "sgr-0ec320c4e5a4cb03b", "sgr-08e3f987fb8de165c")


def replaced_bastion_inventory(out: Path) -> Path:
    """The committed inventory JSON with the bastion ENI replaced by an idle twin."""
    shutil.copytree(SAMPLE_LOGS / "inventory", out)
    path = out / "describe-network-interfaces.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    (eni,) = [n for n in doc["NetworkInterfaces"] if n["NetworkInterfaceId"] == OLD_ENI]
    eni["NetworkInterfaceId"] = NEW_ENI
    eni["PrivateIpAddress"] = NEW_ADDR
    eni["PrivateDnsName"] = "ip-10-20-0-11.ec2.internal"
    eni["MacAddress"] = "02:d6:5d:84:80:b7"
    public = {"IpOwnerId": "111122223333", "PublicDnsName": "", "PublicIp": "54.85.203.99"}
    eni["Association"] = public
    eni["PrivateIpAddresses"] = [
        {
            "Association": public,
            "Primary": True,
            "PrivateDnsName": "ip-10-20-0-11.ec2.internal",
            "PrivateIpAddress": NEW_ADDR,
        }
    ]
    eni["Attachment"].update(
        {
            "AttachTime": "2026-11-28T23:50:00+00:00",
            "AttachmentId": "eni-attach-0b5a5713e0ffee001",
            "InstanceId": "i-0b5a5713e0ffee001",
        }
    )
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return out


@dataclass(frozen=True)
class Replaced:
    data: DataDir
    plan: Plan


@pytest.fixture(scope="module")
def replaced(tmp_path_factory: pytest.TempPathFactory) -> Replaced:
    from flowlens.analyze import analyze
    from flowlens.ingest.pipeline import ingest
    from flowlens.ingest.source import LocalSource
    from flowlens.inventory import snapshot_from_json
    from flowlens.recommend.pipeline import recommend

    root = tmp_path_factory.mktemp("bastion")
    dd = DataDir(root / "data")
    ingest(LocalSource(SAMPLE_LOGS / "s3"), [DAY], dd, workers=2)
    snapshot_from_json(
        [replaced_bastion_inventory(root / "inventory")], dd, taken_at=Window.day(DAY).end
    )
    analyze(dd, [DAY])
    return Replaced(dd, recommend(dd, [DAY]))


def _query(dd: DataDir, sql: str) -> list[dict[str, Any]]:
    con = connect(dd)
    try:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def test_the_old_bastions_flows_are_unattributed(replaced: Replaced) -> None:
    rows = _query(
        replaced.data, f"SELECT DISTINCT status FROM conversations WHERE eni_id = '{OLD_ENI}'"
    )
    assert [r["status"] for r in rows] == ["not_in_inventory"]


def test_rules_used_by_the_old_bastion_are_not_unused(replaced: Replaced) -> None:
    usage = {
        r["rule_id"]: r
        for r in _query(replaced.data, "SELECT rule_id, status, status_reason FROM rule_usage")
    }
    for rule_id, name in BASTION_RULES.items():
        assert usage[rule_id]["status"] != "unused", f"{name}: {usage[rule_id]['status_reason']}"
    for rule_id in OWN_GROUP:
        assert usage[rule_id]["status"] == "no_coverage", BASTION_RULES[rule_id]
        assert OLD_ENI in usage[rule_id]["status_reason"], BASTION_RULES[rule_id]


def test_no_recommendation_touches_the_old_bastions_rules_and_none_cuts_its_flows(
    replaced: Replaced,
) -> None:
    recs = {r.rule_id for r in replaced.plan.recommendations}
    assert not recs & set(BASTION_RULES), [BASTION_RULES[r] for r in recs & set(BASTION_RULES)]
    assert replaced.plan.verification.flows_cut == 0


def test_the_plan_counts_the_old_bastions_flows_as_unattributed_and_protected(
    replaced: Replaced,
) -> None:
    (row,) = _query(
        replaced.data,
        f"""
        SELECT SUM(flows) AS flows FROM conversations
        WHERE eni_id = '{OLD_ENI}' AND accepted AND eni_role IN ('initiator', 'responder')
          AND rule_direction IS NOT NULL AND peer_addr IS NOT NULL""",
    )
    v = replaced.plan.verification
    assert row["flows"] > 0 and v.flows_unattributed == row["flows"]
    assert v.flows_unattributed_protected == v.flows_unattributed
    assert v.snapshot_taken_at == Window.day(DAY).end and v.days_analysed == (DAY,)
    text = render_md(replaced.plan)
    assert (
        f"{v.flows_unattributed:,} flows on ENIs no snapshot places were protected, not "
        "checked against membership" in text
    )


def test_the_finding_about_the_unplaced_eni_is_high(replaced: Replaced) -> None:
    rows = _query(
        replaced.data,
        "SELECT severity FROM findings WHERE kind = 'eni_not_in_inventory' AND "
        f"resource_id = '{OLD_ENI}'",
    )
    assert [r["severity"] for r in rows] == ["high"]
