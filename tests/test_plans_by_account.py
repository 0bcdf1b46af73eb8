"""A plan of several accounts becomes one plan per account: a CLI script or a Terraform file
never holds two accounts' steps (each runs with one account's credentials)."""

from __future__ import annotations

import json
from pathlib import Path

import hcl2
from test_recommend_apply import _plan

from flowlens.model.plan import Plan
from flowlens.recommend.by_account import UNKNOWN_ACCOUNT, doc_accounts, split
from flowlens.recommend.render_cli import render_cli
from flowlens.recommend.render_tf import render_tf

A, B = "111122223333", "444455556666"


def _two_accounts(tmp: Path) -> Plan:
    recs = [
        ("sgr-0a1", "sg-0a", ["198.51.100.0/24"]),
        ("sgr-0b1", "sg-0b", ["203.0.113.0/24"]),
        ("sgr-0c1", "sg-0c", ["192.0.2.0/24"]),
    ]
    path = _plan(tmp, recs, status="unverified")
    doc = json.loads(path.read_text())
    for rec, account in zip(doc["recommendations"], (A, B, ""), strict=True):
        rec["account_id"], rec["region"] = account, "us-east-1"
    assert doc_accounts(doc) == ["", A, B]
    return Plan.from_json(json.dumps(doc))


def test_each_account_gets_only_its_own_steps(tmp_path: Path) -> None:
    parts = split(_two_accounts(tmp_path))
    assert sorted(parts) == sorted([A, B, UNKNOWN_ACCOUNT])
    assert [r.group_id for r in parts[A].recommendations] == ["sg-0a"]
    assert [r.group_id for r in parts[B].recommendations] == ["sg-0b"]
    assert [r.group_id for r in parts[UNKNOWN_ACCOUNT].recommendations] == ["sg-0c"]
    script = render_cli(parts[A])
    assert f"PLAN_ACCOUNTS={A}" in script and B not in script and "sg-0b" not in script
    assert "NEEDS_ACCOUNT=''" in script
    # the steps of no known account need --account ID to say where they run
    assert "NEEDS_ACCOUNT=yes" in render_cli(parts[UNKNOWN_ACCOUNT])
    tf = render_tf(parts[B])
    assert f'allowed_account_ids = ["{B}"]' in tf and A not in tf
    hcl2.loads(tf)  # valid HCL2 on its own
