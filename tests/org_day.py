"""A two-account day on a moto server: each account's network and flow logs, one central bucket.

Account A (111122223333) runs a database whose security group admits PostgreSQL from a group of
account B (444455556666) across a VPC peering; B runs the application, open to the world on
HTTPS and (badly) on SSH. Both accounts deliver their flow logs into one bucket, keyed as AWS
delivers them (``AWSLogs/<account>/vpcflowlogs/...``); the records are today's, after the ENIs
and flow logs exist. ``tests/test_org_day.py`` runs the batch over it; run this file to see the
day's reports yourself (needs the test extra, for moto)::

    python tests/org_day.py /tmp/org-day

moto's authorize-security-group-ingress looks a referenced group up in the caller's own account,
so it refuses a reference to B's group from A. The builder gives it, in A's VPC, a group *named*
like B's group id (moto's lookup falls back to names), authorizes the rule with B's ``UserId``
and the peering, and deletes that stand-in: A's describe-security-groups then reports the rule
as AWS does for a peered reference (``UserIdGroupPairs`` with ``UserId`` and
``VpcPeeringConnectionId``), and A holds no extra group.
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

A, B = "111122223333", "444455556666"
BUCKET = "org-flow-logs"
REGION = "us-east-1"
#: moto's default account: the central bucket's, and the caller's that assumes the roles
CENTRAL = "123456789012"
INTERNET_CLIENT, SCANNER = "198.51.100.7", "203.0.113.50"

V5_HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr "
    "pkt-dstaddr region flow-direction"
)


@dataclass(frozen=True)
class Account:
    account_id: str
    vpc_id: str
    subnet_id: str
    groups: dict[str, str]  # name → group id
    rules: dict[str, str]  # name → sgr- id
    eni_id: str
    instance_id: str
    address: str


@dataclass(frozen=True)
class OrgDay:
    endpoint: str
    day: str
    a: Account
    b: Account
    peering_id: str


def _client(endpoint: str, service: str, account: str | None = None) -> Any:
    """A client of ``account`` (through an assumed role, which moto maps to the role's account),
    else of moto's default account."""
    keys: dict[str, str] = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    if account is not None:
        creds = boto3.client("sts", endpoint_url=endpoint, region_name=REGION, **keys).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup"
        )["Credentials"]
        keys = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **keys)


def _ingress(ec2: Any, group: str, port: int, **peer: Any) -> str:
    perm: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **peer}
    rules = ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[perm])
    return str(rules["SecurityGroupRules"][0]["SecurityGroupRuleId"])


def _network(ec2: Any, cidr: str, subnet: str) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock=subnet)["Subnet"]["SubnetId"]
    made = ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::{BUCKET}",
        LogFormat=" ".join("${" + f + "}" for f in V5_HEADER.split()),
    )
    if made.get("Unsuccessful"):
        raise RuntimeError(f"moto refused the flow log of {vpc}: {made['Unsuccessful']}")
    return vpc, sub


def _launch(ec2: Any, subnet: str, groups: list[str]) -> tuple[str, str, str]:
    inst = ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet, SecurityGroupIds=groups
    )["Instances"][0]
    nic = inst["NetworkInterfaces"][0]
    return inst["InstanceId"], nic["NetworkInterfaceId"], inst["PrivateIpAddress"]


def build(endpoint: str) -> OrgDay:
    """Both accounts' resources in moto, then today's flow records in the central bucket."""
    s3 = _client(endpoint, "s3")
    if BUCKET not in {x["Name"] for x in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=BUCKET)  # before the flow logs: moto refuses a missing bucket
    ea, eb = _client(endpoint, "ec2", A), _client(endpoint, "ec2", B)
    vpc_b, sub_b = _network(eb, "10.2.0.0/16", "10.2.1.0/24")
    app = eb.create_security_group(GroupName="app", Description="app tier", VpcId=vpc_b)
    admin = eb.create_security_group(GroupName="admin", Description="ssh", VpcId=vpc_b)
    groups_b = {"app": app["GroupId"], "admin": admin["GroupId"]}
    rules_b = {
        "https": _ingress(eb, groups_b["app"], 443, IpRanges=[{"CidrIp": "0.0.0.0/0"}]),
        "ssh": _ingress(eb, groups_b["admin"], 22, IpRanges=[{"CidrIp": "0.0.0.0/0"}]),
    }

    vpc_a, sub_a = _network(ea, "10.1.0.0/16", "10.1.1.0/24")
    pcx = ea.create_vpc_peering_connection(VpcId=vpc_a, PeerVpcId=vpc_b, PeerOwnerId=B)
    peering = pcx["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    eb.accept_vpc_peering_connection(VpcPeeringConnectionId=peering)
    db = ea.create_security_group(GroupName="db", Description="database", VpcId=vpc_a)
    groups_a = {"db": db["GroupId"]}
    # the stand-in for moto's own-account lookup (module docstring), deleted once the rule exists
    stand_in = ea.create_security_group(
        GroupName=groups_b["app"], Description="stand-in", VpcId=vpc_a
    )["GroupId"]
    pair = {"GroupId": groups_b["app"], "UserId": B, "VpcPeeringConnectionId": peering}
    rules_a = {
        "postgres_from_b": _ingress(ea, groups_a["db"], 5432, UserIdGroupPairs=[pair]),
        "ssh_from_office": _ingress(ea, groups_a["db"], 22, IpRanges=[{"CidrIp": "10.0.0.0/8"}]),
    }
    ea.delete_security_group(GroupId=stand_in)

    inst_a, eni_a, addr_a = _launch(ea, sub_a, [groups_a["db"]])
    inst_b, eni_b, addr_b = _launch(eb, sub_b, [groups_b["app"], groups_b["admin"]])
    a = Account(A, vpc_a, sub_a, groups_a, rules_a, eni_a, inst_a, addr_a)
    b = Account(B, vpc_b, sub_b, groups_b, rules_b, eni_b, inst_b, addr_b)
    time.sleep(1.1)  # the records come after the ENIs' AttachTime and the flow logs' creation
    now = int(time.time())
    _put(s3, a, _records_a(a, b, now), now)
    _put(s3, b, _records_b(a, b, now), now)
    return OrgDay(endpoint, datetime.fromtimestamp(now, UTC).date().isoformat(), a, b, peering)


def _line(acct: Account, src: str, dst: str, sport: int, dport: int, at: int, **kw: Any) -> str:
    action, flags, direction = kw.get("action", "ACCEPT"), kw.get("flags", 2), kw["direction"]
    fields = [
        5, acct.account_id, acct.eni_id, src, dst, sport, dport, 6, 10, 840, at, at + 5, action,
        "OK", acct.vpc_id, acct.subnet_id, acct.instance_id, flags, "IPv4", src, dst, REGION,
        direction,
    ]  # fmt: skip
    return " ".join(str(f) for f in fields)


def _records_a(a: Account, b: Account, at: int) -> list[str]:
    """On A's database ENI: B's application server connecting to PostgreSQL, both directions."""
    return [
        _line(a, b.address, a.address, 41000, 5432, at, direction="ingress"),
        _line(a, a.address, b.address, 5432, 41000, at, flags=18, direction="egress"),
    ]


def _records_b(a: Account, b: Account, at: int) -> list[str]:
    """On B's application ENI: a client on HTTPS, the application's own PostgreSQL connection to
    A, and a scanner refused on RDP."""
    return [
        _line(b, INTERNET_CLIENT, b.address, 50000, 443, at, direction="ingress"),
        _line(b, b.address, INTERNET_CLIENT, 443, 50000, at, flags=18, direction="egress"),
        _line(b, b.address, a.address, 41000, 5432, at, direction="egress"),
        _line(b, a.address, b.address, 5432, 41000, at, flags=18, direction="ingress"),
        _line(b, SCANNER, b.address, 61000, 3389, at, action="REJECT", direction="ingress"),
    ]


def _put(s3: Any, acct: Account, lines: list[str], at: int) -> None:
    when = datetime.fromtimestamp(at, UTC)
    key = (
        f"AWSLogs/{acct.account_id}/vpcflowlogs/{REGION}/{when:%Y/%m/%d}/"
        f"{acct.account_id}_vpcflowlogs_{REGION}_fl-0{acct.account_id[:16]}_"
        f"{when:%Y%m%dT%H%MZ}_{acct.eni_id[-8:]}.log.gz"
    )
    body = gzip.compress(("\n".join([V5_HEADER, *lines]) + "\n").encode(), mtime=0)
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)


def run_argv(org: OrgDay, data_dir: Path, out_dir: Path) -> list[str]:
    """``flowlens run`` over the day: both accounts through the role, one central bucket."""
    return [
        "run",
        f"s3://{BUCKET}",
        "--date",
        org.day,
        "--inventory",
        "aws",
        "--inventory-accounts",
        f"{A},{B}",
        "--role-name",
        "flowlens-readonly",
        "--regions",
        REGION,
        "--endpoint-url",
        org.endpoint,
        "--data-dir",
        str(data_dir),
        "--out",
        str(out_dir),
        "--json",
        "-q",
    ]


def main(argv: list[str]) -> int:
    """Start a moto server, build the day, run the batch into DIR; print the organisation page."""
    import logging
    import os

    from moto.server import ThreadedMotoServer

    from flowlens.cli import main as flowlens

    if len(argv) != 1:
        print("usage: python tests/org_day.py DIR", file=sys.stderr)
        return 2
    root = Path(argv[0])
    for var, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ[var] = value
    # moto's request log, and its tracebacks for the calls it lacks (describe-stale-security-
    # groups, which flowlens notes as not checked)
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        org = build(f"http://{host}:{port}")
        argv = run_argv(org, root / "data", root / "reports")
        code = flowlens([a for a in argv if a != "--json"])  # the run's own summary lines
    finally:
        server.stop()
    page = json.loads((root / "reports" / "accounts.json").read_text(encoding="utf-8"))
    for row in page["accounts"]:
        print(json.dumps(row), file=sys.stderr)
    print(root / "reports" / "accounts.html", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
