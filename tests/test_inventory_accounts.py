"""``flowlens inventory --aws --accounts`` end to end against the moto server, IAM enforced.

moto keeps one backend per account and maps the credentials sts:AssumeRole returns to the
account of the role's ARN, so two accounts are two separate worlds here. moto does not check a
role's trust policy (its AssumeRole docs: "the role does not need to exist"), but with
authorization switched on (``/moto-api/reset-auth``) it evaluates the caller's identity policies:
the auditor user may assume the role of accounts A and B only, so account C's AssumeRole is a
real AccessDenied; and the roles in A and B hold exactly the policy of the role template
(deploy/flowlens-readonly.cfn.yaml), so a describe call the template does not grant fails.
"""

from __future__ import annotations

import contextlib
import io
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest

from flowlens.cli import main
from flowlens.datadir import DataDir
from flowlens.errors import ExitCode

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
REGION = "us-east-1"
A, B, C = "111122223333", "444455556666", "777788889999"
ROLE = "flowlens-readonly"


def _as(url: str, account: str, service: str) -> Any:
    """A client in ``account`` (moto: any assumed role switches account; auth is off here)."""
    creds = boto3.client("sts", endpoint_url=url, region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup"
    )["Credentials"]
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def _network(url: str, account: str, cidr: str) -> dict[str, str]:
    ec2 = _as(url, account, "ec2")
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "1.0/24"))["Subnet"]
    sg = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"], Groups=[sg])
    return {
        "vpc": vpc,
        "subnet": subnet["SubnetId"],
        "sg": sg,
        "eni": eni["NetworkInterface"]["NetworkInterfaceId"],
    }


def _role(url: str, account: str) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = _as(url, account, "iam")
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=ROLE, PolicyName="flowlens", PolicyDocument=json.dumps(_policy()))


def _policy() -> dict[str, Any]:
    """The member role's policy as deploy/flowlens-readonly.cfn.yaml grants it (a test holds it
    equal to what flowlens.inventory.permissions declares)."""
    import yaml

    doc = yaml.safe_load((DEPLOY / "flowlens-readonly.cfn.yaml").read_text(encoding="utf-8"))
    [policy] = doc["Resources"]["FlowlensReadOnlyRole"]["Properties"]["Policies"]
    return dict(policy["PolicyDocument"])


def _auditor(url: str) -> dict[str, str]:
    """A user of the default account allowed to assume the role in A and B, not in C."""
    iam = boto3.client("iam", endpoint_url=url, region_name=REGION)
    iam.create_user(UserName="auditor")
    allowed = [f"arn:aws:iam::{a}:role/{ROLE}" for a in (A, B)]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": allowed}],
    }
    iam.put_user_policy(UserName="auditor", PolicyName="assume", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


def _auth(url: str, count: str) -> None:
    """moto's switch: authorize every request after ``count`` more ("inf": never)."""
    urllib.request.urlopen(
        urllib.request.Request(
            f"{url}/moto-api/reset-auth",
            data=count.encode(),
            headers={"Content-Type": "text/plain"},
            method="POST",
        )
    ).read()


@pytest.fixture
def org(moto_reset: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    url = moto_reset
    worlds = {A: _network(url, A, "10.1.0.0/16"), B: _network(url, B, "10.2.0.0/16")}
    _network(url, C, "10.3.0.0/16")
    for account in (A, B, C):
        _role(url, account)
    for var, value in _auditor(url).items():
        monkeypatch.setenv(var, value)
    _auth(url, "0")
    try:
        yield {"url": url, **worlds}
    finally:
        _auth(url, "inf")


def _inventory(url: str, dd: DataDir, *accounts: str) -> tuple[int, dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            [
                "inventory",
                "--aws",
                "--accounts",
                ",".join(accounts),
                "--role-name",
                ROLE,
                "--regions",
                REGION,
                "--endpoint-url",
                url,
                "--data-dir",
                str(dd.root),
                "--json",
            ]
        )
    return code, json.loads(out.getvalue()), err.getvalue()


def test_two_accounts_in_one_snapshot_and_the_refused_one_named(
    org: dict[str, Any], tmp_path: Path
) -> None:
    dd = DataDir(tmp_path / "data")
    code, summary, err = _inventory(org["url"], dd, A, B, C)
    assert code == ExitCode.FAILURE
    assert f"account {C}" in err and "AccessDenied" in err and "sts:AssumeRole" in err
    assert summary["accounts"] == [A, B]
    assert summary["scopes"] == [[A, REGION], [B, REGION]]
    [failed] = summary["failed"]
    assert (failed["account"], failed["region"]) == (C, None)
    folder = Path(summary["path"])
    for table, key, kind in (
        ("vpcs", "vpc_id", "vpc"),
        ("subnets", "subnet_id", "subnet"),
        ("security_groups", "group_id", "sg"),
        ("enis", "eni_id", "eni"),
        ("eni_groups", "eni_id", "eni"),
        ("eni_ips", "eni_id", "eni"),
    ):
        rows = pq.read_table(folder / f"{table}.parquet").to_pylist()
        owners = {r[key]: r["account_id"] for r in rows}
        assert owners[org[A][kind]] == A, table
        assert owners[org[B][kind]] == B, table
    rules = pq.read_table(folder / "sg_rules.parquet").to_pylist()
    assert {r["account_id"] for r in rules if r["group_id"] == org[B]["sg"]} == {B}
    # every row of every table names its account: nothing of C, nothing unknown
    for table in folder.glob("*.parquet"):
        accounts = set(pq.read_table(table, columns=["account_id"]).column(0).to_pylist())
        assert accounts <= {A, B}, table.name


def test_all_accounts_readable_is_exit_0(org: dict[str, Any], tmp_path: Path) -> None:
    code, summary, err = _inventory(org["url"], DataDir(tmp_path / "data"), A, B)
    assert (code, summary["failed"], summary["accounts"]) == (0, [], [A, B])
    assert "flowlens inventory: failed" not in err  # (moto lacks stale groups: a warning)


def test_a_failed_account_does_not_end_its_rows_in_the_timeline(
    org: dict[str, Any], tmp_path: Path
) -> None:
    """B read at first, then refused: B's rows stay possibly valid after the second snapshot."""
    from datetime import UTC, datetime

    from flowlens.inventory.timeline import FAR_FUTURE, load_timeline

    dd = DataDir(tmp_path / "data")
    assert _inventory(org["url"], dd, A, B)[0] == 0
    assert _inventory(org["url"], dd, A, B, C)[0] == ExitCode.FAILURE  # C refused, B kept
    _auth(org["url"], "inf")  # the auditor may not change its own policy
    iam = boto3.client("iam", endpoint_url=org["url"], region_name=REGION)
    iam.delete_user_policy(UserName="auditor", PolicyName="assume")
    allowed_a = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:aws:iam::{A}:role/{ROLE}",
            }
        ],
    }
    iam.put_user_policy(
        UserName="auditor", PolicyName="assume", PolicyDocument=json.dumps(allowed_a)
    )
    _auth(org["url"], "0")
    code, summary, err = _inventory(org["url"], dd, A, B)
    assert code == ExitCode.FAILURE and f"account {B}" in err
    assert summary["scopes"] == [[A, REGION]]
    assert summary["scopes"] == [[A, REGION]]
    tl = load_timeline(dd, datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC))
    enis = {r["eni_id"]: r for r in tl.tables["enis"].to_pylist()}
    assert enis[org[B]["eni"]]["valid_to"] == FAR_FUTURE  # not read last time: not gone
    assert enis[org[A]["eni"]]["valid_to"] == FAR_FUTURE


# ---------------------------------------------------------------- pure parts


def test_account_ids_are_12_digits_and_kept_once_in_order() -> None:
    from flowlens.errors import UsageError
    from flowlens.inventory.accounts import parse_accounts

    assert parse_accounts(f" {B},{A},{B} ") == [B, A]
    for bad in ("", "1234", f"{A},arn:aws:iam::{B}:root", f"{A};{B}"):
        with pytest.raises(UsageError, match="12 digits"):
            parse_accounts(bad)


def test_role_arn_keeps_the_partition_and_a_path_and_refuses_other_text() -> None:
    from flowlens.errors import UsageError
    from flowlens.inventory.accounts import role_arn

    assert role_arn("aws-cn", A, "audit/flowlens") == f"arn:aws-cn:iam::{A}:role/audit/flowlens"
    for bad in ("flow lens", "x;rm", "arn:aws:iam::1:role/x"):
        with pytest.raises(UsageError, match="role name"):
            role_arn("aws", A, bad)


def test_a_shared_vpc_belongs_to_its_owner_and_a_participants_eni_to_the_participant() -> None:
    """RAM-shared subnets appear in the participant's describe calls with the owner's OwnerId:
    the first reading is kept, its account is the owner; the participant's ENI in that subnet is
    the participant's, and its coverage row (by the owner's VPC flow log) follows the ENI."""
    from flowlens.inventory.build import RawInventory, build_inventory

    vpc = {"VpcId": "vpc-0a", "OwnerId": A, "CidrBlock": "10.1.0.0/16"}
    subnet = {"SubnetId": "subnet-0a", "VpcId": "vpc-0a", "OwnerId": A, "CidrBlock": "10.1.1.0/24"}
    eni = {
        "NetworkInterfaceId": "eni-0b",
        "SubnetId": "subnet-0a",
        "VpcId": "vpc-0a",
        "OwnerId": B,
        "PrivateIpAddress": "10.1.1.9",
        "Groups": [{"GroupId": "sg-0b", "GroupName": "app"}],
    }
    flow_log = {
        "FlowLogId": "fl-0a",
        "ResourceId": "vpc-0a",
        "TrafficType": "ALL",
        "LogDestinationType": "s3",
    }
    participant, owner = RawInventory(), RawInventory()
    participant.add("vpcs", REGION, [vpc], B)
    participant.add("subnets", REGION, [subnet], B)
    participant.add("network_interfaces", REGION, [eni], B)
    participant.add("flow_logs", REGION, [], B)
    owner.add("vpcs", REGION, [vpc], A)
    owner.add("subnets", REGION, [subnet], A)
    owner.add("flow_logs", REGION, [flow_log], A)
    merged = RawInventory()
    merged.merge(participant)  # (account, region) order puts the participant first here
    merged.merge(owner)
    tables = {k: t.to_pylist() for k, t in build_inventory(merged).tables.items()}
    assert [(r["vpc_id"], r["account_id"]) for r in tables["vpcs"]] == [("vpc-0a", A)]
    assert [(r["subnet_id"], r["account_id"]) for r in tables["subnets"]] == [("subnet-0a", A)]
    assert [r["account_id"] for r in tables["enis"]] == [B]
    assert [r["account_id"] for r in tables["eni_ips"]] == [B]
    assert [(r["flow_log_id"], r["account_id"]) for r in tables["flow_logs"]] == [("fl-0a", A)]
    assert [(r["flow_log_id"], r["account_id"]) for r in tables["eni_coverage"]] == [("fl-0a", B)]


def test_a_json_export_of_one_account_names_it_on_rows_without_an_owner() -> None:
    from flowlens.inventory.build import RawInventory, build_inventory

    raw = RawInventory()
    raw.add("vpcs", REGION, [{"VpcId": "vpc-0a", "OwnerId": A, "CidrBlock": "10.1.0.0/16"}])
    raw.add("flow_logs", REGION, [{"FlowLogId": "fl-0a", "ResourceId": "vpc-0a"}])
    tables = build_inventory(raw).tables
    assert tables["flow_logs"].column("account_id").to_pylist() == [A]
    raw.add("vpcs", REGION, [{"VpcId": "vpc-0b", "OwnerId": B, "CidrBlock": "10.2.0.0/16"}])
    tables = build_inventory(raw).tables  # two owners: a flow log's account is not guessed
    assert tables["flow_logs"].column("account_id").to_pylist() == [None]
