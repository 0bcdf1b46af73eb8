"""Normalisation of EC2 values: one named case per edge, and properties of the derived ids."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlens.inventory import normalize as nz
from flowlens.inventory.build import RawInventory, build_inventory
from flowlens.model.addr import addr_key


@pytest.mark.parametrize(
    ("value", "number", "name"),
    [
        ("tcp", 6, "tcp"),
        ("6", 6, "tcp"),
        ("TCP", 6, "tcp"),
        ("udp", 17, "udp"),
        ("17", 17, "udp"),
        ("icmp", 1, "icmp"),
        ("1", 1, "icmp"),
        ("icmpv6", 58, "icmpv6"),
        ("58", 58, "icmpv6"),
        ("-1", -1, "all"),
        ("all", -1, "all"),
        (-1, -1, "all"),
        ("47", 47, "47"),
        ("0", 0, "0"),
    ],
)
def test_protocol_names_and_numbers(value: Any, number: int, name: str) -> None:
    assert nz.protocol_number(value) == number
    assert nz.protocol_name(number) == name


@pytest.mark.parametrize("bad", ["tcpx", "256", "-2", ""])
def test_unknown_protocol_is_refused(bad: str) -> None:
    with pytest.raises(nz.NormalizeError):
        nz.protocol_number(bad)


@pytest.mark.parametrize(
    ("protocol", "given", "stored"),
    [
        pytest.param(-1, (None, None), (None, None), id="all-protocols-no-port-keys"),
        pytest.param(-1, (-1, -1), (None, None), id="all-protocols-minus-one"),
        pytest.param(-1, (22, 22), (None, None), id="all-protocols-ignores-given-ports"),
        pytest.param(47, (0, 0), (None, None), id="gre-has-no-ports"),
        pytest.param(6, (22, 22), (22, 22), id="tcp-single-port"),
        pytest.param(17, (0, 65535), (0, 65535), id="udp-all-ports"),
        pytest.param(1, (3, 4), (3, 4), id="icmp-type-3-code-4"),
        pytest.param(1, (8, -1), (8, -1), id="icmp-echo-any-code"),
        pytest.param(1, (-1, -1), (-1, -1), id="icmp-all"),
        pytest.param(58, (None, None), (-1, -1), id="icmpv6-range-omitted-is-all"),
        pytest.param(6, (-1, -1), (-1, -1), id="tcp-minus-one-doc-bug-kept"),
    ],
)
def test_rule_ports(protocol: int, given: tuple[Any, Any], stored: tuple[Any, Any]) -> None:
    assert nz.rule_ports(protocol, *given) == stored


@pytest.mark.parametrize(
    ("cidr", "canonical"),
    [
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("2001:DB8:0:0::/32", "2001:db8::/32"),
        ("::/0", "::/0"),
        (" 192.168.1.0/24 ", "192.168.1.0/24"),
        ("10.0.0.1", "10.0.0.1/32"),
    ],
)
def test_canonical_cidr(cidr: str, canonical: str) -> None:
    assert nz.canonical_cidr(cidr) == canonical


def test_bad_cidr_is_refused() -> None:
    with pytest.raises(nz.NormalizeError, match="not an IPv4 or IPv6 CIDR"):
        nz.canonical_cidr("10.0.0.300/8")


def test_ipv4_and_ipv6_world_do_not_overlap_by_family() -> None:
    v4, v6 = nz.addr_columns("0.0.0.0/0"), nz.addr_columns("::/0")
    assert (v4["family"], v6["family"]) == (4, 6)
    key = addr_key("10.0.0.1")
    assert v4["lo"] <= key <= v4["hi"] and v6["lo"] <= key <= v6["hi"]  # family must be in the join


def test_one_permission_with_many_sources_becomes_one_row_per_source() -> None:
    group = {"GroupId": "sg-1", "VpcId": "vpc-1", "OwnerId": "111"}
    perm = {
        "IpProtocol": "tcp",
        "FromPort": 443,
        "ToPort": 443,
        "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "corp"}, {"CidrIp": "192.168.0.0/16"}],
        "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32"}],
        "PrefixListIds": [{"PrefixListId": "pl-1"}],
        "UserIdGroupPairs": [
            {
                "GroupId": "sg-2",
                "UserId": "222",
                "VpcId": "vpc-2",
                "VpcPeeringConnectionId": "pcx-1",
                "PeeringStatus": "active",
            }
        ],
    }
    rows = list(nz.permission_rules(group, perm, "ingress", "eu-west-1"))
    assert [(r["peer_type"], r["peer"]) for r in rows] == [
        ("cidr4", "10.0.0.0/8"),
        ("cidr4", "192.168.0.0/16"),
        ("cidr6", "2001:db8::/32"),
        ("prefix_list", "pl-1"),
        ("sg", "sg-2"),
    ]
    assert rows[0]["description"] == "corp" and rows[1]["description"] is None
    sg = rows[-1]
    assert (
        sg["peer_owner_id"],
        sg["peer_vpc_id"],
        sg["peering_connection_id"],
        sg["peering_status"],
    ) == ("222", "vpc-2", "pcx-1", "active")
    assert len({r["rule_id"] for r in rows}) == 5


def test_derived_id_is_documented_hash() -> None:
    import hashlib

    expected = hashlib.sha256(b"sg-1|ingress|6|22|22|10.0.0.0/8").hexdigest()[:17]
    assert (
        nz.derived_rule_id("sg-1", "ingress", 6, 22, 22, "10.0.0.0/8") == f"sgr-derived-{expected}"
    )
    assert nz.derived_rule_id("sg-1", "ingress", -1, None, None, "sg-1").startswith("sgr-derived-")


def test_tcp_and_6_spellings_give_the_same_derived_id() -> None:
    group = {"GroupId": "sg-1"}
    a = next(
        nz.permission_rules(
            group,
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            },
            "ingress",
            None,
        )
    )
    b = next(
        nz.permission_rules(
            group,
            {
                "IpProtocol": "6",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.0.0.5/8"}],
            },
            "ingress",
            None,
        )
    )
    assert a["rule_id"] == b["rule_id"]


def test_nacl_entry_with_port_range_and_icmp() -> None:
    tcp = nz.nacl_entry(
        "acl-1",
        {
            "RuleNumber": 110,
            "Egress": False,
            "Protocol": "6",
            "RuleAction": "ALLOW",
            "CidrBlock": "10.0.0.0/16",
            "PortRange": {"From": 1024, "To": 65535},
        },
    )
    assert (tcp["protocol"], tcp["from_port"], tcp["to_port"], tcp["rule_action"]) == (
        6,
        1024,
        65535,
        "allow",
    )
    icmp = nz.nacl_entry(
        "acl-1",
        {
            "RuleNumber": 120,
            "Egress": True,
            "Protocol": "1",
            "RuleAction": "deny",
            "Ipv6CidrBlock": "::/0",
            "IcmpTypeCode": {"Type": 8, "Code": -1},
        },
    )
    assert (icmp["direction"], icmp["icmp_type"], icmp["icmp_code"], icmp["family"]) == (
        "egress",
        8,
        -1,
        6,
    )


def test_eni_addresses_every_kind() -> None:
    eni = {
        "NetworkInterfaceId": "eni-1",
        "PrivateIpAddress": "10.0.0.5",
        "PrivateIpAddresses": [
            {
                "PrivateIpAddress": "10.0.0.5",
                "Primary": True,
                "Association": {"PublicIp": "203.0.113.5"},
            },
            {"PrivateIpAddress": "10.0.0.6", "Primary": False},
        ],
        "Ipv6Addresses": [{"Ipv6Address": "2001:db8::5"}],
        "Ipv4Prefixes": [{"Ipv4Prefix": "10.0.1.0/28"}],
        "Ipv6Prefixes": [{"Ipv6Prefix": "2001:db8:0:1::/80"}],
        "Association": {"PublicIp": "203.0.113.5"},
    }
    rows = list(nz.eni_addresses(eni))
    assert [(r["address"], r["kind"]) for r in rows] == [
        ("10.0.0.5", "primary4"),
        ("10.0.0.6", "secondary4"),
        ("2001:db8::5", "ipv6"),
        ("10.0.1.0/28", "prefix4"),
        ("2001:db8:0:1::/80", "prefix6"),
        ("203.0.113.5", "public4"),
    ]
    prefix = rows[3]
    assert (prefix["lo"], prefix["hi"]) == (addr_key("10.0.1.0"), addr_key("10.0.1.15"))


def _group_with_perms(perms: list[dict[str, Any]]) -> dict[str, Any]:
    return {"GroupId": "sg-p", "VpcId": "vpc-1", "IpPermissions": perms, "IpPermissionsEgress": []}


_cidrs = st.builds(lambda a, p: f"10.{a}.0.0/{p}", st.integers(0, 255), st.integers(16, 24))
_perm = st.builds(
    lambda port, cidrs: {
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": port,
        "IpRanges": [{"CidrIp": c} for c in cidrs],
    },
    st.integers(1, 65535),
    st.lists(_cidrs, min_size=1, max_size=4, unique=True),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_perm, min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_derived_ids_are_stable_under_permutation(
    perms: list[dict[str, Any]], rnd: random.Random
) -> None:
    def ids(ps: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
        raw = RawInventory()
        raw.add("security_groups", "r", [_group_with_perms(ps)])
        rows = build_inventory(raw).tables["sg_rules"].to_pylist()
        return {r["rule_id"]: (r["from_port"], r["peer"]) for r in rows}

    shuffled = [dict(p, IpRanges=rnd.sample(p["IpRanges"], len(p["IpRanges"]))) for p in perms]
    rnd.shuffle(shuffled)
    assert ids(perms) == ids(shuffled)


def test_docstring_examples() -> None:
    import doctest

    from flowlens.inventory import resources

    for module in (nz, resources):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_eni_coverage_via_vpc_subnet_and_eni_and_none() -> None:
    raw = RawInventory()
    raw.add(
        "network_interfaces",
        "r",
        [
            {"NetworkInterfaceId": "eni-a", "VpcId": "vpc-1", "SubnetId": "subnet-1"},
            {"NetworkInterfaceId": "eni-b", "VpcId": "vpc-1", "SubnetId": "subnet-2"},
            {"NetworkInterfaceId": "eni-c", "VpcId": "vpc-2", "SubnetId": "subnet-3"},
        ],
    )
    raw.add(
        "flow_logs",
        "r",
        [
            {
                "FlowLogId": "fl-vpc",
                "ResourceId": "vpc-1",
                "TrafficType": "REJECT",
                "MaxAggregationInterval": 600,
            },
            {
                "FlowLogId": "fl-sub",
                "ResourceId": "subnet-1",
                "TrafficType": "ALL",
                "LogFormat": "${version}",
            },
            {"FlowLogId": "fl-eni", "ResourceId": "eni-b", "TrafficType": "ACCEPT"},
            {"FlowLogId": "fl-tgw", "ResourceId": "tgw-attach-1", "TrafficType": "ALL"},
        ],
    )
    inv = build_inventory(raw)
    cover = sorted(
        (c["eni_id"], c["flow_log_id"], c["via"], c["traffic_type"])
        for c in inv.tables["eni_coverage"].to_pylist()
    )
    assert cover == [
        ("eni-a", "fl-sub", "subnet", "ALL"),
        ("eni-a", "fl-vpc", "vpc", "REJECT"),
        ("eni-b", "fl-eni", "eni", "ACCEPT"),
        ("eni-b", "fl-vpc", "vpc", "REJECT"),
    ]
    types = {f["flow_log_id"]: f["resource_type"] for f in inv.tables["flow_logs"].to_pylist()}
    assert types == {"fl-vpc": "vpc", "fl-sub": "subnet", "fl-eni": "eni", "fl-tgw": None}


def test_subnet_nacl_is_the_associated_one_else_the_vpc_default() -> None:
    raw = RawInventory()
    raw.add(
        "network_acls",
        "r",
        [
            {
                "NetworkAclId": "acl-default",
                "VpcId": "vpc-1",
                "IsDefault": True,
                "Associations": [{"SubnetId": "subnet-1"}],
            },
            {
                "NetworkAclId": "acl-custom",
                "VpcId": "vpc-1",
                "IsDefault": False,
                "Associations": [{"SubnetId": "subnet-2"}],
            },
        ],
    )
    raw.add(
        "subnets",
        "r",
        [
            {"SubnetId": s, "VpcId": "vpc-1", "CidrBlock": "10.0.0.0/24"}
            for s in ("subnet-1", "subnet-2", "subnet-3")
        ],
    )
    nacl_of = {
        s["subnet_id"]: s["nacl_id"] for s in build_inventory(raw).tables["subnets"].to_pylist()
    }
    assert nacl_of == {
        "subnet-1": "acl-default",
        "subnet-2": "acl-custom",
        "subnet-3": "acl-default",
    }


def test_pure_modules_import_neither_boto3_nor_duckdb() -> None:
    import subprocess
    import sys

    code = (
        "import sys, flowlens.inventory, flowlens.inventory.normalize, "
        "flowlens.inventory.resources, flowlens.inventory.shapes, flowlens.inventory.build, "
        "flowlens.inventory.from_json; print(sorted(m for m in ('boto3', 'botocore', "
        "'duckdb') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
