"""Ids are checked at the inventory edge (issue 14, item 5): an id that is not its kind's form
(the probe's rule id with a newline and a shell command) is a clear error naming the file, exit 2,
and no snapshot is written; the ids of the bundled sample and AWS's documentation examples pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowlens.cli import main
from flowlens.inventory.ids import check_id
from flowlens.inventory.normalize import NormalizeError

GROUP = "sg-0123456789abcdef0"


def _rules_file(tmp: Path, rule_id: str = "sgr-0123456789abcdef0", group_id: str = GROUP) -> Path:
    doc = {
        "SecurityGroupRules": [
            {
                "SecurityGroupRuleId": rule_id,
                "GroupId": group_id,
                "GroupOwnerId": "123456789012",
                "IsEgress": False,
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "CidrIpv4": "10.0.0.0/8",
                "Description": "ssh",
            }
        ]
    }
    path = tmp / "rules.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("rule_id", "group_id", "said"),
    [
        ("sgr-1\ntouch /tmp/owned", GROUP, "security group rule id"),
        ("sgr-1 # x", GROUP, "security group rule id"),
        ("sgr-${path.cwd}", GROUP, "security group rule id"),
        ("rule-0123", GROUP, "security group rule id"),
        ("sgr-0123456789abcdef0", "sg-1'; rm -rf ~", "security group id"),
        ("sgr-0123456789abcdef0", "sg-", "security group id"),
    ],
)
def test_an_invalid_id_is_an_error_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rule_id: str, group_id: str, said: str
) -> None:
    path = _rules_file(tmp_path, rule_id, group_id)
    code = main(["inventory", "--from-json", str(path), "--data-dir", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 2
    assert str(path) in err and said in err and "Traceback" not in err
    errors = [ln for ln in err.splitlines() if ": error: " in ln]
    assert len(errors) == 1 and not any(
        ln.startswith("touch") for ln in err.splitlines()
    )  # the newline shown escaped
    assert not (tmp_path / "data" / "inventory").exists()


def test_valid_ids_pass(tmp_path: Path) -> None:
    path = _rules_file(tmp_path)
    assert (
        main(["inventory", "--from-json", str(path), "--data-dir", str(tmp_path / "data"), "-q"])
        == 0
    )


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("sg_rules", "rule_id", "sgr-derived-b7898da2c4b59aaa7"),  # flowlens's own derived ids
        ("nacls", "nacl_id", "acl-0e2a78e4e2EXAMPLE"),  # AWS documentation examples
        ("sg_rules", "rule_id", "sgr-app-ssh"),  # readable test ids
        ("enis", "eni_id", "eni-0123456789abcdef0"),
        ("prefix_lists", "prefix_list_id", "pl-63a5400a"),
        ("flow_logs", "flow_log_id", "fl-1234abcd"),
        (
            "sg_rules",
            "peer",
            "web servers $1 {a}",
        ),  # a peer group's name: AWS allows these characters
    ],
)
def test_aws_and_example_ids_are_accepted(table: str, column: str, value: str) -> None:
    check_id(table, column, value)


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("vpcs", "vpc_id", "subnet-0123"),  # the wrong kind
        ("enis", "eni_id", "eni-0abc\x00"),
        ("sg_rules", "peer", "web\nservers"),
        ("prefix_lists", "prefix_list_id", "pl-" + "a" * 200),
    ],
)
def test_malformed_ids_are_refused(table: str, column: str, value: str) -> None:
    with pytest.raises(NormalizeError, match=rf"{table}\.{column}"):
        check_id(table, column, value)
