"""``flowlens apply`` against a moto server on 127.0.0.1: dry-run, commit, failure and rollback."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from flowlens.cli import main
from flowlens.verify.record import CutRule, DayResult, Example, Record
from flowlens.verify.run import load_plan, record_path


def _ec2(endpoint: str) -> Any:
    return boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1")


def _setup(
    endpoint: str, tags: dict[str, str] | None = None, description: str = ""
) -> tuple[Any, str, str]:
    """A VPC with one SG holding SSH open to the world; returns (client, group id, rule id)."""
    ec2 = _ec2(endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    spec = [
        {
            "ResourceType": "security-group-rule",
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        }
    ]
    resp = ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [
                    {"CidrIp": "0.0.0.0/0", **({"Description": description} if description else {})}
                ],
            }
        ],
        **({"TagSpecifications": spec} if tags else {}),
    )
    return ec2, sg, resp["SecurityGroupRules"][0]["SecurityGroupRuleId"]


def _ingress(ec2: Any, sg: str) -> set[tuple[Any, ...]]:
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [sg]}])[
        "SecurityGroupRules"
    ]
    return {
        (r["IpProtocol"], r["FromPort"], r["ToPort"], r.get("CidrIpv4"))
        for r in rules
        if not r["IsEgress"]
    }


def _rule(peer: str) -> dict[str, Any]:
    return {
        "direction": "ingress",
        "ip_protocol": 6,
        "from_port": 22,
        "to_port": 22,
        "peer_type": "cidr4",
        "peer": peer,
        "description": "office",
    }


def _plan(tmp: Path, recs: list[tuple[str, str, list[str]]], *, status: str = "ready") -> Path:
    """The plan file, with a verification record beside it that makes it ``status``
    (or none: 'unverified')."""
    doc = {
        "window": {"start": "2026-11-28T00:00:00Z", "end": "2026-11-29T00:00:00Z"},
        "verification": {"flows_checked": 8, "flows_cut": 0},
        "recommendations": [
            {
                "rule_id": rid,
                "group_id": sg,
                "action": "narrow",
                "proposed": [_rule(p) for p in peers],
                "current": _rule("0.0.0.0/0"),
                "evidence": {},
                "risk": "low",
            }
            for rid, sg, peers in recs
        ],
    }
    path = tmp / "plan.json"
    path.write_text(json.dumps(doc))
    if status != "unverified":
        _record(path, status, recs[0][0])
    return path


def _record(plan: Path, status: str, rule_id: str) -> None:
    """A verification record as 'flowlens verify' writes it: one clean day (ready with a minimum of
    1), or a day with a cut flow (blocked), or no day yet (pending)."""
    lp = load_plan(plan)
    day = date(2026, 11, 29)
    cut = CutRule(
        rule_id,
        12,
        3,
        Example(
            day,
            "eni-0123456789abcdef0",
            "ingress",
            6,
            "192.0.2.50",
            22,
            12,
            datetime(2026, 11, 29, 8, tzinfo=UTC),
            datetime(2026, 11, 29, 9, tzinfo=UTC),
        ),
    )
    days = {
        "ready": (DayResult(day, 8, 0),),
        "blocked": (DayResult(day, 20, 12, cuts=(cut,)),),
        "pending": (),
    }[status]
    rec = Record(
        plan.name,
        lp.plan_id,
        (lp.plan.window_start, lp.plan.window_end),
        1,
        days,
        {rule_id: ("sg", "narrow")},
    )
    record_path(plan).write_text(json.dumps(rec.to_dict()))


def test_dry_run_changes_nothing_and_reports_each_call(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2, sg, rid = _setup(moto_reset)
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32", "203.0.113.9/32"])])
    assert main(["apply", str(plan), "--endpoint-url", moto_reset]) == 0
    out = capsys.readouterr().out
    assert re.search(r"ok\s+authorize-ingress .*would succeed", out)
    assert re.search(rf"ok\s+revoke-ingress\s+{sg} {rid}: would succeed", out)
    assert _ingress(ec2, sg) == {("tcp", 22, 22, "0.0.0.0/0")}
    assert not list(tmp_path.glob("*.rollback-*"))


def test_commit_authorizes_then_revokes_and_writes_a_rollback(
    moto_reset: str, tmp_path: Path
) -> None:
    ec2, sg, rid = _setup(moto_reset)
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32", "203.0.113.9/32"])])
    rb = tmp_path / "rb.json"
    assert (
        main(["apply", str(plan), "--commit", "--rollback", str(rb), "--endpoint-url", moto_reset])
        == 0
    )
    assert _ingress(ec2, sg) == {
        ("tcp", 22, 22, "198.51.100.7/32"),
        ("tcp", 22, 22, "203.0.113.9/32"),
    }
    doc = json.loads(rb.read_text())
    assert [a["rules"][0]["peer"] for a in doc["authorize"]] == ["0.0.0.0/0"]
    assert len(doc["revoke"]) == 2
    # the rollback file is itself applicable and restores the original rule
    assert (
        main(
            [
                "apply",
                str(rb),
                "--commit",
                "--rollback",
                str(tmp_path / "rb2.json"),
                "--endpoint-url",
                moto_reset,
            ]
        )
        == 0
    )
    assert _ingress(ec2, sg) == {("tcp", 22, 22, "0.0.0.0/0")}


def test_failure_midway_stops_and_the_printed_rollback_restores(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2, sg, rid = _setup(moto_reset)
    # revokes the real rule, then a rule id that does not exist: the second revoke fails
    # (--force: the live-rule check would otherwise refuse the plan before the first call)
    plan = _plan(
        tmp_path,
        [(rid, sg, ["198.51.100.7/32"]), ("sgr-0000000000000dead", sg, ["203.0.113.9/32"])],
    )
    assert main(["apply", str(plan), "--commit", "--force", "--endpoint-url", moto_reset]) == 1
    captured = capsys.readouterr()
    assert "FAIL revoke-ingress" in captured.out and "InvalidPermission.NotFound" in captured.out
    command = re.search(r"^\s+(flowlens apply .*--commit.*)$", captured.err, re.MULTILINE)
    assert command is not None
    assert _ingress(ec2, sg) == {
        ("tcp", 22, 22, "198.51.100.7/32"),
        ("tcp", 22, 22, "203.0.113.9/32"),
    }
    argv = command.group(1).split()[1:]
    assert main(argv) == 0
    assert _ingress(ec2, sg) == {("tcp", 22, 22, "0.0.0.0/0")}


def test_a_bad_plan_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text('{"nope": 1}')
    assert main(["apply", str(bad)]) == 2
    assert "neither a plan" in capsys.readouterr().err


def _modify(ec2: Any, sg: str, rid: str, cidr: str) -> None:
    """Change a rule in place (same sgr- id), as the console's "edit inbound rules" does."""
    ec2.modify_security_group_rules(
        GroupId=sg,
        SecurityGroupRules=[
            {
                "SecurityGroupRuleId": rid,
                "SecurityGroupRule": {
                    "IpProtocol": "tcp",
                    "FromPort": 22,
                    "ToPort": 22,
                    "CidrIpv4": cidr,
                },
            }
        ],
    )


def test_a_plan_whose_rule_changed_since_is_refused_before_any_call(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2, sg, rid = _setup(moto_reset)
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32"])])
    _modify(ec2, sg, rid, "10.0.0.0/8")
    for extra in ([], ["--commit"]):
        assert main(["apply", str(plan), *extra, "--endpoint-url", moto_reset]) == 2
        err = capsys.readouterr().err
        assert (
            f"{rid} ({sg}): changed from ingress tcp/22 from 0.0.0.0/0 to "
            "ingress tcp/22 from 10.0.0.0/8" in err
        )
        assert "--force" in err
    # nothing was authorized or revoked, and no rollback file was written
    assert _ingress(ec2, sg) == {("tcp", 22, 22, "10.0.0.0/8")}
    assert not list(tmp_path.glob("*.rollback-*"))


def test_a_rule_deleted_since_the_plan_is_named(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2, sg, rid = _setup(moto_reset)
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32"])])
    ec2.revoke_security_group_ingress(GroupId=sg, SecurityGroupRuleIds=[rid])
    assert main(["apply", str(plan), "--commit", "--endpoint-url", moto_reset]) == 2
    assert f"{rid} ({sg}): no longer exists" in capsys.readouterr().err
    assert _ingress(ec2, sg) == set()


def test_force_applies_over_a_changed_rule_and_the_rollback_file_records_it(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2, sg, rid = _setup(moto_reset)
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32"])])
    _modify(ec2, sg, rid, "10.0.0.0/8")
    rb = tmp_path / "rb.json"
    assert (
        main(
            [
                "apply",
                str(plan),
                "--commit",
                "--force",
                "--rollback",
                str(rb),
                "--endpoint-url",
                moto_reset,
            ]
        )
        == 0
    )
    assert "warning: --force" in capsys.readouterr().err
    assert _ingress(ec2, sg) == {("tcp", 22, 22, "198.51.100.7/32")}
    forced = json.loads(rb.read_text())["forced"]
    assert [(c["rule_id"], c["group_id"]) for c in forced["changed_rules"]] == [(rid, sg)]
    assert "10.0.0.0/8" in forced["changed_rules"][0]["how"]
    # the revoke removed the rule as it was live, so the rollback restores that, not the plan's view
    assert [a["rules"][0]["peer"] for a in json.loads(rb.read_text())["authorize"]] == [
        "10.0.0.0/8"
    ]
    assert (
        main(
            [
                "apply",
                str(rb),
                "--commit",
                "--rollback",
                str(tmp_path / "rb2.json"),
                "--endpoint-url",
                moto_reset,
            ]
        )
        == 0
    )
    assert _ingress(ec2, sg) == {("tcp", 22, 22, "10.0.0.0/8")}


def test_a_plan_that_still_matches_the_live_rules_passes_the_check(
    moto_reset: str, tmp_path: Path
) -> None:
    ec2, sg, rid = _setup(moto_reset)
    # a new description is not a change of what the rule allows (the IpPermissions form: moto 5.2
    # ignores the SecurityGroupRuleDescriptions form, so the rename is checked before the apply)
    ec2.update_security_group_rule_descriptions_ingress(
        GroupId=sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "renamed"}],
            }
        ],
    )
    live = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"]
    assert [r.get("Description") for r in live] == ["renamed"]
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32"])])
    assert main(["apply", str(plan), "--endpoint-url", moto_reset]) == 0


def test_commit_refuses_a_blocked_plan_before_any_call(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2, sg, rid = _setup(moto_reset)
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32"])], status="blocked")
    assert main(["apply", str(plan), "--commit", "--endpoint-url", moto_reset]) == 2
    err = capsys.readouterr().err
    assert (
        "the plan is blocked, not ready" in err
        and rid in err
        and "192.0.2.50" in err
        and "--force" in err
    )
    assert _ingress(ec2, sg) == {("tcp", 22, 22, "0.0.0.0/0")}
    assert not list(tmp_path.glob("*.rollback-*"))
    # a dry run changes nothing anyway: it warns and shows the calls
    assert main(["apply", str(plan), "--endpoint-url", moto_reset]) == 0
    assert "warning: the plan is blocked" in capsys.readouterr().err


@pytest.mark.parametrize("status", ["pending", "unverified"])
def test_commit_refuses_a_plan_not_yet_ready(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], status: str
) -> None:
    ec2, sg, rid = _setup(moto_reset)
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32"])], status=status)
    assert main(["apply", str(plan), "--commit", "--endpoint-url", moto_reset]) == 2
    err = capsys.readouterr().err
    assert "the plan is pending, not ready" in err
    assert ("never verified" in err) == (status == "unverified")
    assert _ingress(ec2, sg) == {("tcp", 22, 22, "0.0.0.0/0")}


def test_a_changed_plan_is_not_ready_by_its_old_record(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _ec2, sg, rid = _setup(moto_reset)
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32"])])
    plan.write_text(
        plan.read_text().replace("198.51.100.7/32", "198.51.100.0/24")
    )  # edited after verification
    assert main(["apply", str(plan), "--commit", "--endpoint-url", moto_reset]) == 2
    assert "verified another version of the plan" in capsys.readouterr().err


def test_force_over_a_blocked_plan_is_recorded_in_the_rollback(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2, sg, rid = _setup(moto_reset)
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32"])], status="blocked")
    rb = tmp_path / "rb.json"
    assert (
        main(
            [
                "apply",
                str(plan),
                "--commit",
                "--force",
                "--rollback",
                str(rb),
                "--endpoint-url",
                moto_reset,
            ]
        )
        == 0
    )
    assert "warning: --force: the plan is blocked" in capsys.readouterr().err
    forced = json.loads(rb.read_text())["forced"]
    assert forced["plan_status"] == "blocked" and rid in forced["plan_status_reason"]
    assert forced["changed_rules"] == []
    assert _ingress(ec2, sg) == {("tcp", 22, 22, "198.51.100.7/32")}


# ------------------------------------------------------------------ tags survive a rollback

#: Tag values a shell would act on (EC2 allows any character in rule tags): quotes, a command
#: substitution, a backtick, a glob, a newline and a non-ASCII character.
AWKWARD_TAGS = {
    "Owner": "team-web",
    "Ticket": 'it\'s "SEC-42"; $(touch /tmp/flowlens-pwned) `id` *',
    "note": "line one\nline two — ü",
    "empty": "",
}


def _rules_of(ec2: Any, sg: str) -> list[dict[str, Any]]:
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [sg]}])
    return [r for r in rules["SecurityGroupRules"] if not r["IsEgress"]]


def _tags(item: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in item.get("Tags") or ()}


def _commit(plan: Path, rb: Path, endpoint: str, *extra: str) -> int:
    return main(
        ["apply", str(plan), "--commit", "--rollback", str(rb), "--endpoint-url", endpoint, *extra]
    )


def test_the_rollback_recreates_a_revoked_rule_with_its_description_and_tags(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2, sg, rid = _setup(moto_reset, AWKWARD_TAGS, description="office")
    # renamed after the plan was made: the rollback restores the live description, not the plan's
    # (by IpPermissions: moto 5.2 ignores the SecurityGroupRuleDescriptions form of this call)
    ec2.update_security_group_rule_descriptions_ingress(
        GroupId=sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "bastion $x"}],
            }
        ],
    )
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32"])])
    rb = tmp_path / "rb.json"
    assert _commit(plan, rb, moto_reset) == 0
    assert re.search(
        r"ok\s+describe-rules\s+1 rules to revoke: .*\(1 tagged\)", capsys.readouterr().out
    )
    assert [r["CidrIpv4"] for r in _rules_of(ec2, sg)] == ["198.51.100.7/32"]
    doc = json.loads(rb.read_text())
    [restore] = doc["authorize"]
    assert restore["tags"] == AWKWARD_TAGS and restore["source_rule_id"] == rid
    assert restore["rules"][0]["description"] == "bastion $x"

    assert _commit(rb, tmp_path / "rb2.json", moto_reset) == 0
    out = capsys.readouterr().out
    assert re.search(
        r"ok\s+authorize-ingress .*created sgr-\w+ tagged Owner, Ticket, empty, note", out
    )
    [back] = _rules_of(ec2, sg)
    assert back["SecurityGroupRuleId"] != rid  # re-created: EC2 gives it a new id
    assert (back["CidrIpv4"], back["FromPort"], back["ToPort"]) == ("0.0.0.0/0", 22, 22)
    assert back["Description"] == "bastion $x"
    assert _tags(back) == AWKWARD_TAGS
    # the rollback of the rollback re-creates the narrowed rule, which had no tags
    [again] = json.loads((tmp_path / "rb2.json").read_text())["authorize"]
    assert again["rules"][0]["peer"] == "198.51.100.7/32" and again["tags"] == {}


def test_a_forced_rollback_restores_the_live_rule_with_its_tags(
    moto_reset: str, tmp_path: Path
) -> None:
    ec2, sg, rid = _setup(moto_reset, {"Owner": "team-web"})
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32"])])
    _modify(ec2, sg, rid, "10.0.0.0/8")
    ec2.create_tags(Resources=[rid], Tags=[{"Key": "Changed", "Value": "after the plan"}])
    rb = tmp_path / "rb.json"
    assert _commit(plan, rb, moto_reset, "--force") == 0
    assert _commit(rb, tmp_path / "rb2.json", moto_reset) == 0
    [back] = _rules_of(ec2, sg)
    assert back["CidrIpv4"] == "10.0.0.0/8"
    assert _tags(back) == {"Owner": "team-web", "Changed": "after the plan"}


def test_tags_only_aws_may_set_are_recorded_and_named_not_restored(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # EC2 refuses 'aws:' tag keys from callers (services such as CloudFormation set them); moto 5.2
    # accepts them, which is how this test gives the rule one.
    ec2, sg, rid = _setup(moto_reset, {"Owner": "team-web"})
    ec2.create_tags(
        Resources=[rid], Tags=[{"Key": "aws:cloudformation:stack-name", "Value": "web"}]
    )
    plan = _plan(tmp_path, [(rid, sg, ["198.51.100.7/32"])])
    rb = tmp_path / "rb.json"
    assert _commit(plan, rb, moto_reset) == 0
    assert json.loads(rb.read_text())["authorize"][0]["tags"] == {
        "Owner": "team-web",
        "aws:cloudformation:stack-name": "web",
    }
    capsys.readouterr()
    assert _commit(rb, tmp_path / "rb2.json", moto_reset) == 0
    out = capsys.readouterr().out
    assert "tagged Owner; not restorable (AWS reserves aws:): aws:cloudformation:stack-name" in out
    [back] = _rules_of(ec2, sg)
    assert _tags(back) == {"Owner": "team-web"}


def test_a_dry_run_of_a_rollback_asks_ec2_about_the_tags_too(tmp_path: Path) -> None:
    """EC2 checks ec2:CreateTags for TagSpecifications, so the dry run must send them. moto answers
    DryRun before reading the request, so the request itself is checked (botocore's Stubber)."""
    from botocore.stub import Stubber

    from flowlens.recommend.apply import ChangeSet, change_set, dry_run

    rule = _rule("0.0.0.0/0")
    doc = {
        "kind": "flowlens-change-set",
        "authorize": [
            {"group_id": "sg-0a1b2c3d4e5f60718", "rules": [rule], "tags": {"Owner": "it's"}}
        ],
        "revoke": [],
    }
    cs = change_set(doc, "rb.json")
    assert isinstance(cs, ChangeSet) and cs.authorize[0].tags == (("Owner", "it's"),)
    client = boto3.client("ec2", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error(
            "authorize_security_group_ingress",
            service_error_code="DryRunOperation",
            expected_params={
                "GroupId": "sg-0a1b2c3d4e5f60718",
                "IpPermissions": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 22,
                        "ToPort": 22,
                        "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "office"}],
                    }
                ],
                "DryRun": True,
                "TagSpecifications": [
                    {
                        "ResourceType": "security-group-rule",
                        "Tags": [{"Key": "Owner", "Value": "it's"}],
                    }
                ],
            },
        )
        result = dry_run(client, cs)
        stub.assert_no_pending_responses()
    assert [s.ok for s in result.steps] == [True]


def test_rollback_files_without_tags_still_load_and_bad_tags_are_named() -> None:
    from flowlens.errors import InputError
    from flowlens.recommend.apply import change_set

    older = {
        "kind": "flowlens-change-set",
        "authorize": [{"group_id": "sg-1", "rules": [_rule("0.0.0.0/0")]}],
        "revoke": [],
    }
    assert change_set(older, "old.json").authorize[0].tags == ()
    older["authorize"][0]["tags"] = {"Owner": 7}  # type: ignore[index]
    with pytest.raises(InputError, match=r"bad\.json: 'tags' of an authorization"):
        change_set(older, "bad.json")
