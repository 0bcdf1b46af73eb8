"""End to end through a real moto server: build a VPC with the EC2 API, then
``flowlens inventory --aws`` must reproduce it exactly, rule by rule."""

from __future__ import annotations

import contextlib
import io
import json
import os
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
from flowlens.inventory import from_aws
from flowlens.inventory.permissions import API_PERMISSIONS, iam_policy

REGION = "us-east-1"


def _ec2(url: str) -> Any:
    return boto3.client("ec2", endpoint_url=url, region_name=REGION)


def _build_world(url: str) -> dict[str, Any]:
    ec2 = _ec2(url)
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]["VpcId"]
    sub_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.10.1.0/24", AvailabilityZone="us-east-1a")[
        "Subnet"
    ]["SubnetId"]
    sub_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.10.2.0/24", AvailabilityZone="us-east-1b")[
        "Subnet"
    ]["SubnetId"]
    pl = ec2.create_managed_prefix_list(
        PrefixListName="offices",
        AddressFamily="IPv4",
        MaxEntries=5,
        Entries=[
            {"Cidr": "198.51.100.0/24", "Description": "NY"},
            {"Cidr": "203.0.113.0/25", "Description": "LDN"},
        ],
    )["PrefixList"]["PrefixListId"]
    web = ec2.create_security_group(GroupName="web", Description="web tier", VpcId=vpc)["GroupId"]
    db = ec2.create_security_group(GroupName="db", Description="database", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=web,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "public https"}],
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "PrefixListIds": [{"PrefixListId": pl}],
            },
            {
                "IpProtocol": "icmp",
                "FromPort": 3,
                "ToPort": 4,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            },
        ],
    )
    ec2.authorize_security_group_ingress(
        GroupId=db,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "UserIdGroupPairs": [{"GroupId": web}],
            },
        ],
    )
    eni = ec2.create_network_interface(
        SubnetId=sub_a,
        Groups=[web, db],
        # Explicit secondaries: moto draws SecondaryPrivateIpAddressCount addresses at
        # random from the subnet with no uniqueness check, so two could coincide
        # (a CI run saw one secondary) where AWS always assigns distinct ones.
        PrivateIpAddresses=[
            {"PrivateIpAddress": "10.10.1.10", "Primary": True},
            {"PrivateIpAddress": "10.10.1.11", "Primary": False},
            {"PrivateIpAddress": "10.10.1.12", "Primary": False},
        ],
        Description="app server",
    )["NetworkInterface"]["NetworkInterfaceId"]
    nacl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(
        NetworkAclId=nacl,
        RuleNumber=100,
        Protocol="6",
        RuleAction="allow",
        Egress=False,
        CidrBlock="0.0.0.0/0",
        PortRange={"From": 443, "To": 443},
    )
    ec2.create_network_acl_entry(
        NetworkAclId=nacl,
        RuleNumber=200,
        Protocol="-1",
        RuleAction="deny",
        Egress=False,
        CidrBlock="192.0.2.0/24",
    )
    assoc = _association_of(ec2, sub_b)
    ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=nacl)
    boto3.client("s3", endpoint_url=url, region_name=REGION).create_bucket(Bucket="flowlens-logs")
    fmt = (
        "${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} "
        "${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcp-flags}"
    )
    ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::flowlens-logs",
        LogFormat=fmt,
        MaxAggregationInterval=60,
    )
    return {
        "vpc": vpc,
        "sub_a": sub_a,
        "sub_b": sub_b,
        "pl": pl,
        "web": web,
        "db": db,
        "eni": eni,
        "nacl": nacl,
        "format": fmt,
    }


def _association_of(ec2: Any, subnet_id: str) -> str:
    acls = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
    )["NetworkAcls"]
    return next(
        a["NetworkAclAssociationId"]
        for acl in acls
        for a in acl["Associations"]
        if a["SubnetId"] == subnet_id
    )


def _table(dd: DataDir, name: str) -> list[dict[str, Any]]:
    [stamp] = dd.snapshots()
    return pq.read_table(dd.snapshot_dir(stamp) / f"{name}.parquet").to_pylist()


@pytest.fixture(scope="module")
def inventory_run(
    moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """One world, one inventory run, shared by the assertions below (module scope keeps it fast)."""
    urllib.request.urlopen(
        urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    ).read()
    with pytest.MonkeyPatch.context() as mp:
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "FLOWLENS_DATA_DIR"):
            mp.delenv(var, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        # moto 5.2 does not implement DescribeStaleSecurityGroups (HTTP 500): flowlens then warns
        # and leaves sg_rules.stale NULL; two attempts keep botocore from
        # retrying that 500 ten times.
        mp.setenv("AWS_MAX_ATTEMPTS", "2")
        world = _build_world(moto_endpoint)
        calls: list[str] = []
        original = from_aws.make_session

        def recording_session(profile: str | None = None) -> Any:
            session = original(profile)
            session.events.register(
                "before-call.ec2.*", lambda model, **_: calls.append(model.name)
            )
            return session

        mp.setattr(from_aws, "make_session", recording_session)
        dd = DataDir(tmp_path_factory.mktemp("inv") / "data")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(
                [
                    "inventory",
                    "--aws",
                    "--endpoint-url",
                    moto_endpoint,
                    "--regions",
                    REGION,
                    "--data-dir",
                    str(dd.root),
                    "--json",
                ]
            )
        assert code == 0
        yield {
            **world,
            "dd": dd,
            "calls": calls,
            "summary": json.loads(out.getvalue()),
            "url": moto_endpoint,
        }


def test_rules_are_reproduced_exactly(inventory_run: dict[str, Any]) -> None:
    w, dd = inventory_run, inventory_run["dd"]
    rules = [r for r in _table(dd, "sg_rules") if r["group_id"] in (w["web"], w["db"])]
    got = {
        (
            r["group_id"],
            r["direction"],
            r["ip_protocol"],
            r["from_port"],
            r["to_port"],
            r["peer_type"],
            r["peer"],
            r["description"],
        )
        for r in rules
    }
    assert got == {
        (w["web"], "ingress", 6, 443, 443, "cidr4", "0.0.0.0/0", "public https"),
        (w["web"], "ingress", 6, 443, 443, "cidr6", "::/0", None),
        (w["web"], "ingress", 6, 22, 22, "prefix_list", w["pl"], None),
        (w["web"], "ingress", 1, 3, 4, "cidr4", "10.0.0.0/8", None),
        (w["db"], "ingress", 6, 5432, 5432, "sg", w["web"], None),
        (w["web"], "egress", -1, None, None, "cidr4", "0.0.0.0/0", None),
        (w["db"], "egress", -1, None, None, "cidr4", "0.0.0.0/0", None),
        # the VPC has an IPv6 block, so new SGs also get the all-IPv6 egress rule (as on AWS)
        (w["web"], "egress", -1, None, None, "cidr6", "::/0", None),
        (w["db"], "egress", -1, None, None, "cidr6", "::/0", None),
    }
    api_ids = {
        r["SecurityGroupRuleId"]
        for r in _ec2(w["url"]).describe_security_group_rules()["SecurityGroupRules"]
        if r["GroupId"] in (w["web"], w["db"])
    }
    assert {r["rule_id"] for r in rules} == api_ids
    assert {r["rule_id_source"] for r in rules} == {"api"}
    assert {r["vpc_id"] for r in rules} == {w["vpc"]} and {r["region"] for r in rules} == {REGION}
    sg_ref = next(r for r in rules if r["peer_type"] == "sg")
    assert sg_ref["peer_owner_id"] and sg_ref["peer_family"] is None
    assert {r["stale"] for r in rules} == {None}  # moto lacks DescribeStaleSecurityGroups


def test_enis_groups_and_addresses(inventory_run: dict[str, Any]) -> None:
    w, dd = inventory_run, inventory_run["dd"]
    [eni] = [e for e in _table(dd, "enis") if e["eni_id"] == w["eni"]]
    assert (eni["vpc_id"], eni["subnet_id"], eni["private_ip"], eni["description"]) == (
        w["vpc"],
        w["sub_a"],
        "10.10.1.10",
        "app server",
    )
    groups = [g["group_id"] for g in _table(dd, "eni_groups") if g["eni_id"] == w["eni"]]
    assert sorted(groups) == sorted([w["web"], w["db"]])  # every SG, not just the last
    ips = [(i["kind"], i["address"]) for i in _table(dd, "eni_ips") if i["eni_id"] == w["eni"]]
    assert ("primary4", "10.10.1.10") in ips
    secondaries = [a for k, a in ips if k == "secondary4"]
    assert sorted(secondaries) == ["10.10.1.11", "10.10.1.12"]


def test_nacls_subnets_prefix_lists(inventory_run: dict[str, Any]) -> None:
    w, dd = inventory_run, inventory_run["dd"]
    entries = [
        (
            e["direction"],
            e["rule_number"],
            e["rule_action"],
            e["protocol"],
            e["cidr"],
            e["from_port"],
            e["to_port"],
        )
        for e in _table(dd, "nacl_entries")
        if e["nacl_id"] == w["nacl"] and e["direction"] == "ingress"
    ]
    assert [e for e in entries if e[1] < 32767] == [
        ("ingress", 100, "allow", 6, "0.0.0.0/0", 443, 443),
        ("ingress", 200, "deny", -1, "192.0.2.0/24", None, None),
    ]
    subnets = {s["subnet_id"]: s for s in _table(dd, "subnets")}
    default_nacl = next(
        n["nacl_id"] for n in _table(dd, "nacls") if n["vpc_id"] == w["vpc"] and n["is_default"]
    )
    assert subnets[w["sub_b"]]["nacl_id"] == w["nacl"]
    assert subnets[w["sub_a"]]["nacl_id"] == default_nacl
    assert subnets[w["sub_a"]]["cidr_block"] == "10.10.1.0/24"
    [pl] = [p for p in _table(dd, "prefix_lists") if p["prefix_list_id"] == w["pl"]]
    assert (pl["prefix_list_name"], pl["max_entries"], pl["aws_managed"]) == ("offices", 5, False)
    entries_pl = sorted(
        (e["cidr"], e["description"], e["version"])
        for e in _table(dd, "prefix_list_entries")
        if e["prefix_list_id"] == w["pl"]
    )
    assert entries_pl == [
        ("198.51.100.0/24", "NY", pl["version"]),
        ("203.0.113.0/25", "LDN", pl["version"]),
    ]
    [vpc] = [v for v in _table(dd, "vpcs") if v["vpc_id"] == w["vpc"]]
    assert vpc["cidr_blocks"] == ["10.10.0.0/16"] and len(vpc["ipv6_cidr_blocks"]) == 1


def test_flow_log_and_coverage(inventory_run: dict[str, Any]) -> None:
    w, dd = inventory_run, inventory_run["dd"]
    [fl] = [f for f in _table(dd, "flow_logs") if f["resource_id"] == w["vpc"]]
    assert (
        fl["resource_type"],
        fl["traffic_type"],
        fl["log_format"],
        fl["max_aggregation_interval"],
    ) == ("vpc", "ALL", w["format"], 60)
    assert (fl["destination_type"], fl["destination"]) == ("s3", "arn:aws:s3:::flowlens-logs")
    cover = [c for c in _table(dd, "eni_coverage") if c["eni_id"] == w["eni"]]
    assert [(c["flow_log_id"], c["via"], c["traffic_type"]) for c in cover] == [
        (fl["flow_log_id"], "vpc", "ALL")
    ]


def test_every_call_is_declared_in_the_iam_permissions(inventory_run: dict[str, Any]) -> None:
    calls = set(inventory_run["calls"])
    assert {
        "DescribeSecurityGroupRules",
        "GetManagedPrefixListEntries",
        "DescribeFlowLogs",
    } <= calls
    assert calls <= set(API_PERMISSIONS), calls - set(API_PERMISSIONS)
    actions = iam_policy()["Statement"][0]["Action"]  # type: ignore[index]
    assert {API_PERMISSIONS[c] for c in calls} <= set(actions)


def test_summary_and_catalog(inventory_run: dict[str, Any]) -> None:
    dd, summary = inventory_run["dd"], inventory_run["summary"]
    assert summary["source"] == "aws" and summary["regions"] == [REGION]
    assert summary["row_counts"]["sg_rules"] == len(_table(dd, "sg_rules"))
    assert dd.catalog.exists()
    import duckdb

    con = duckdb.connect(str(dd.catalog), read_only=True)
    n = con.execute("SELECT count(*) FROM sg_rules").fetchall()[0][0]
    assert n == summary["row_counts"]["sg_rules"]


def _reset_auth(url: str, count: str) -> None:
    request = urllib.request.Request(
        f"{url}/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )  # else Flask eats the body as a form
    urllib.request.urlopen(request).read()


def test_access_denied_through_moto_iam_names_the_missing_action(
    moto_reset: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """moto's IAM-auth mode: a principal whose policy lacks ec2:DescribeFlowLogs is refused."""
    _reset_auth(moto_reset, "3")  # the next 3 requests (IAM set-up) run unauthenticated
    try:
        iam = boto3.client("iam", endpoint_url=moto_reset, region_name=REGION)
        iam.create_user(UserName="auditor")
        allowed = sorted(a for a in API_PERMISSIONS.values() if a != "ec2:DescribeFlowLogs")
        iam.put_user_policy(
            UserName="auditor",
            PolicyName="almost",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": allowed, "Resource": "*"}],
                }
            ),
        )
        key = iam.create_access_key(UserName="auditor")["AccessKey"]
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        dd = tmp_path / "data"
        code = main(
            [
                "inventory",
                "--aws",
                "--endpoint-url",
                moto_reset,
                "--regions",
                REGION,
                "--data-dir",
                str(dd),
            ]
        )
    finally:
        _reset_auth(moto_reset, "inf")
    assert code == ExitCode.AWS_ACCESS
    err = capsys.readouterr().err
    assert "ec2:DescribeFlowLogs" in err and "us-east-1" in err
    assert DataDir(dd).snapshots() == []  # nothing partial became the current snapshot
