"""``flowlens apply --account``: the plan must be that account's alone and the credentials that
account's (sts get-caller-identity), checked against the moto server before any EC2 call.

moto answers get-caller-identity with 123456789012 for its default credentials, and with the
role's account for credentials sts:AssumeRole returned.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from test_recommend_apply import _plan, _record, _setup

from flowlens.cli import main
from flowlens.errors import ExitCode

DEFAULT, B = "123456789012", "444455556666"


def _for(plan: Path, *accounts: str) -> Path:
    """The plan with its recommendations placed in ``accounts`` (one each, in order)."""
    doc = json.loads(plan.read_text())
    for rec, account in zip(doc["recommendations"], accounts, strict=True):
        rec["account_id"] = account
    plan.write_text(json.dumps(doc))
    _record(plan, "ready", doc["recommendations"][0]["rule_id"])  # verified as it is now
    return plan


def _apply(plan: Path, endpoint: str, account: str) -> int:
    return main(["apply", str(plan), "--account", account, "--endpoint-url", endpoint])


def test_the_plan_of_the_callers_account_runs(moto_reset: str, tmp_path: Path) -> None:
    _, sg, rid = _setup(moto_reset)
    plan = _for(_plan(tmp_path, [(rid, sg, ["198.51.100.0/24"])]), DEFAULT)
    assert _apply(plan, moto_reset, DEFAULT) == ExitCode.OK


def test_credentials_of_another_account_are_refused_before_any_call(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2, sg, rid = _setup(moto_reset)
    plan = _for(_plan(tmp_path, [(rid, sg, ["198.51.100.0/24"])]), B)
    assert _apply(plan, moto_reset, B) == ExitCode.AWS_ACCESS
    err = capsys.readouterr().err
    assert f"credentials are for account {DEFAULT}, --account is {B}" in err
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [sg]}])
    assert len(rules["SecurityGroupRules"]) == 2  # the open rule and the default egress


def test_a_plan_of_another_or_of_several_accounts_is_refused(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, sg, rid = _setup(moto_reset)
    _, sg2, rid2 = _setup(moto_reset)
    recs = [(rid, sg, ["198.51.100.0/24"]), (rid2, sg2, ["198.51.100.0/24"])]
    plan = _for(_plan(tmp_path, recs), DEFAULT, B)
    assert _apply(plan, moto_reset, DEFAULT) == ExitCode.BAD_INPUT
    assert f"steps for {B}, not only for --account {DEFAULT}" in capsys.readouterr().err
    plan = _for(_plan(tmp_path, recs), B, B)
    assert _apply(plan, moto_reset, DEFAULT) == ExitCode.BAD_INPUT


def test_the_plan_of_account_b_runs_with_b_s_assumed_role(
    moto_reset: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = boto3.client("sts", endpoint_url=moto_reset, region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{B}:role/flowlens-apply", RoleSessionName="flowlens"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it caches the credentials it found
    ec2, sg, rid = _setup(moto_reset)  # made in account B
    assert ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["OwnerId"] == B
    plan = _for(_plan(tmp_path, [(rid, sg, ["198.51.100.0/24"])]), B)
    assert _apply(plan, moto_reset, B) == ExitCode.OK
    assert _apply(plan, moto_reset, DEFAULT) == ExitCode.BAD_INPUT
    cmd: list[Any] = ["apply", str(plan), "--account", B, "--endpoint-url", moto_reset, "--commit"]
    assert main(cmd) == ExitCode.OK
    assert ("tcp", 22, 22, "198.51.100.0/24") in {
        (r["IpProtocol"], r["FromPort"], r["ToPort"], r.get("CidrIpv4"))
        for r in ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [sg]}])[
            "SecurityGroupRules"
        ]
    }
