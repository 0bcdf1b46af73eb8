"""``SgRule.from_row``: the one way an ``sg_rules`` row becomes a rule, checked against the rows
the real query files return from a table of the inventory's own schema."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest

from flowlens import sqlfiles
from flowlens.model.inventory import INVENTORY_SCHEMAS
from flowlens.model.net import ALL, ICMP, TCP, Direction, PeerType, Rule, SgRule

# Three rules that differ in what can be NULL: ports, description and tags.
ROWS: list[dict[str, Any]] = [
    {
        "rule_id": "sgr-0a",
        "group_id": "sg-1",
        "direction": "ingress",
        "ip_protocol": TCP,
        "from_port": 22,
        "to_port": 23,
        "peer_type": "cidr4",
        "peer": "198.51.100.0/24",
        "description": "office ssh",
        "tags": [("owner", "ops"), ("team", "net")],
    },
    {
        "rule_id": "sgr-0b",
        "group_id": "sg-1",
        "direction": "egress",
        "ip_protocol": ALL,
        "from_port": None,
        "to_port": None,
        "peer_type": "cidr6",
        "peer": "::/0",
        "description": None,
        "tags": None,
    },
    {
        "rule_id": "sgr-derived-0123456789abcdef0",
        "group_id": "sg-2",
        "direction": "ingress",
        "ip_protocol": ICMP,
        "from_port": -1,
        "to_port": -1,
        "peer_type": "sg",
        "peer": "sg-1",
        "description": "",
        "tags": [],
    },
]

# Written from ROWS by hand: what each rule must be, whichever query read it.
EXPECTED = {
    "sgr-0a": SgRule(
        "sgr-0a",
        "sg-1",
        Rule(Direction.INGRESS, TCP, 22, 23, PeerType.CIDR4, "198.51.100.0/24", "office ssh"),
        {"owner": "", "team": ""},
    ),
    "sgr-0b": SgRule(
        "sgr-0b", "sg-1", Rule(Direction.EGRESS, ALL, None, None, PeerType.CIDR6, "::/0")
    ),
    "sgr-derived-0123456789abcdef0": SgRule(
        "sgr-derived-0123456789abcdef0",
        "sg-2",
        Rule(Direction.INGRESS, ICMP, -1, -1, PeerType.SG, "sg-1"),
    ),
}
DESCRIPTIONS = {"sgr-0a": "office ssh", "sgr-0b": "", "sgr-derived-0123456789abcdef0": ""}


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    schema = INVENTORY_SCHEMAS["sg_rules"]
    table = pa.Table.from_pylist(
        [{name: row.get(name) for name in schema.names} for row in ROWS], schema=schema
    )
    c = duckdb.connect()
    c.register("sg_rules", table)
    return c


@pytest.mark.parametrize(
    ("stage", "name", "has_description", "has_tags"),
    [
        ("recommend", "current_rules", True, True),
        ("evidence", "snapshot_rules", False, False),
        ("report", "sg_rules", True, False),
    ],
)
def test_from_row_reads_every_query_that_selects_rules(
    con: duckdb.DuckDBPyConnection, stage: str, name: str, has_description: bool, has_tags: bool
) -> None:
    got = {
        r.rule_id: r for r in map(SgRule.from_row, sqlfiles.rows(con, sqlfiles.load(stage, name)))
    }
    expected = {
        rid: r if has_tags else SgRule(r.rule_id, r.group_id, r.rule) for rid, r in EXPECTED.items()
    }
    assert got == expected
    # the description is not part of a rule's identity, so == does not see it
    assert {rid: r.rule.description for rid, r in got.items()} == (
        DESCRIPTIONS if has_description else dict.fromkeys(DESCRIPTIONS, "")
    )
    assert all(type(r.rule.direction) is Direction for r in got.values())


def test_from_row_reads_the_dismiss_lookup(con: duckdb.DuckDBPyConnection) -> None:
    query = sqlfiles.load("state", "rule_by_id")
    [row] = sqlfiles.rows(con, query, {"rule_id": "sgr-0a"})
    got = SgRule.from_row(row)
    assert got == SgRule(got.rule_id, got.group_id, EXPECTED["sgr-0a"].rule)
    assert got.rule.description == "office ssh"


def test_from_row_rejects_what_is_not_a_rule() -> None:
    with pytest.raises(ValueError, match="sideways"):
        SgRule.from_row({**ROWS[0], "direction": "sideways"})
    with pytest.raises(ValueError, match="subnet"):
        SgRule.from_row({**ROWS[0], "peer_type": "subnet"})
    with pytest.raises(KeyError, match="peer"):
        SgRule.from_row({k: v for k, v in ROWS[0].items() if k != "peer"})
