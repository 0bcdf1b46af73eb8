"""Golden cases: a security-group reference to a group of another account (UserIdGroupPairs
``UserId`` with ``VpcPeeringConnectionId``), with and without that account inventoried.

moto cannot hold such a rule (its authorize-security-group-ingress looks the referenced group up
in the caller's own account and refuses it), so these worlds are written as snapshot tables, the
way describe-security-groups of account A reports the rule: peer sg-0b, UserId of account B.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis_fixtures import ACCOUNT, DAY, World

import flowlens
from flowlens.analyze import analyze

A, B = ACCOUNT, "444455556666"
DB, PEER = "10.0.1.10", "10.2.1.5"  # account B's VPC is peered with A's (pcx-0ab)


def _world(root: Path, *, b_inventoried: bool) -> World:
    w = World(root).subnet("subnet-a", "10.0.1.0/24")
    w.sg("sg-0a")
    w.rule("sgr-db-from-b", "sg-0a", "ingress", "tcp", 5432, sg="sg-0b")
    w.tables["sg_rules"][-1].update(peer_owner_id=B, peering_connection_id="pcx-0ab")
    w.rule("sgr-db-ssh", "sg-0a", "ingress", "tcp", 22, cidr="10.0.0.0/16")
    w.eni("eni-0a", "subnet-a", [DB], ["sg-0a"])
    if b_inventoried:
        w.subnet("subnet-b", "10.2.1.0/24")
        w.sg("sg-0b")
        w.eni("eni-0b", "subnet-b", [PEER], ["sg-0b"])
        for table in ("subnets", "security_groups", "enis"):
            w.tables[table][-1].update(vpc_id="vpc-b", account_id=B, owner_id=B)
        w.tables["security_groups"][-1].pop("owner_id")
    w.both("eni-0a", PEER, DB, 40000, 5432, req_flags=2, rep_flags=18)
    return w


def _usage(root: Path, w: World) -> dict[str, dict[str, Any]]:
    analyze(w.write(), [DAY], threads=1)
    con = flowlens.connect(root)
    cur = con.execute("SELECT rule_id, status, flows, status_reason FROM rule_usage")
    names = [d[0] for d in cur.description]
    return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def test_a_reference_into_an_inventoried_account_is_attributed(tmp_path: Path) -> None:
    w = _world(tmp_path / "data", b_inventoried=True)
    got = _usage(tmp_path / "data", w)
    assert (got["sgr-db-from-b"]["status"], got["sgr-db-from-b"]["flows"]) == ("used", 1)
    assert got["sgr-db-ssh"]["status"] == "unused"


def test_a_reference_into_an_account_not_inventoried_is_no_coverage_naming_it(
    tmp_path: Path,
) -> None:
    w = _world(tmp_path / "data", b_inventoried=False)
    got = _usage(tmp_path / "data", w)["sgr-db-from-b"]
    assert (got["status"], got["flows"]) == ("no_coverage", 0)
    assert got["status_reason"].startswith(f"peer group sg-0b in account {B} not inventoried")


def test_a_same_account_reference_to_a_missing_group_is_judged_as_before(tmp_path: Path) -> None:
    """No peer account: the reference's group is simply gone; unused, as without accounts."""
    w = _world(tmp_path / "data", b_inventoried=False)
    w.tables["sg_rules"][0]["peer_owner_id"] = A
    got = _usage(tmp_path / "data", w)["sgr-db-from-b"]
    assert got["status"] == "unused"


def test_a_reference_through_a_deleted_peering_stays_provably_unused(tmp_path: Path) -> None:
    """The peering is gone (describe-security-group-rules PeeringStatus "deleted"): no flow can
    use the reference, so it is unused whether or not account B is inventoried."""
    w = _world(tmp_path / "data", b_inventoried=False)
    w.tables["sg_rules"][0]["peering_status"] = "deleted"
    assert _usage(tmp_path / "data", w)["sgr-db-from-b"]["status"] == "unused"


def test_the_organisation_page_lists_accounts_worst_first(tmp_path: Path) -> None:
    from flowlens.datadir import DataDir
    from flowlens.report.accounts import write_accounts

    w = _world(tmp_path / "data", b_inventoried=True)
    w.tables["security_groups"][0]["account_id"] = A
    _usage(tmp_path / "data", w)
    plan = {"recommendations": [{"account_id": A}, {"account_id": A}]}
    rows = write_accounts(DataDir(tmp_path / "data"), [DAY], tmp_path, plan, {A: "a/plan.json"})
    got = [(r.account_id, r.security_groups, r.rules, r.used, r.unused) for r in rows]
    assert got == [(A, 1, 2, 1, 1), (B, 1, 0, 0, 0)]
    assert (rows[0].recommendations, rows[0].plan, rows[1].plan) == (2, "a/plan.json", "")
    page = (tmp_path / "accounts.md").read_text()
    assert page.index(A) < page.index(B) and "# Organisation: 2 accounts, 2026-11-28" in page
