"""The one grouping of the conversations by rule key (sql/analyze/34_service_keys.sql) against a
plain Python reference.

35_match_keys reads every key from it and 44_span_rule_matches the aggregates of the accepted
initiating conversations (flows > 0); this checks, on random small sets of conversations mixing
accepted and rejected-only ones, transit ENIs and ENIs without SGs, that each key is there once
and each aggregate counts exactly the conversations its definition says.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flowlens import sqlfiles

KEY = (
    "eni_id",
    "rule_direction",
    "protocol",
    "family",
    "peer_kid",
    "service_port",
    "ep_lo",
    "ep_hi",
)


@st.composite
def side(draw: st.DrawFn) -> dict[str, Any]:
    """A conversation of one of few rule keys, accepted (flows > 0) or rejected only."""
    flows = draw(st.sampled_from([0.0, 0.0, 1.0, 3.0]))
    return {
        "eni_id": draw(st.sampled_from(["eni-a", "eni-b"])),
        "rule_direction": draw(st.sampled_from(["ingress", "egress"])),
        "protocol": 6,
        "family": 4,
        "peer_kid": draw(st.sampled_from([1, 2])),
        "peer_addr": draw(st.sampled_from(["10.0.0.1", "10.0.0.2", "10.0.0.3"])),
        "service_port": draw(st.sampled_from([443, 5432])),
        "ep_lo": 0,
        "ep_hi": draw(st.sampled_from([0, 1])),
        "eni_role": draw(st.sampled_from(["initiator", "responder", "responder", "transit"])),
        "has_sgs": draw(st.sampled_from([True, True, False])),
        "flows": flows,
        "packets": flows * draw(st.integers(1, 9)),
        "bytes": flows * draw(st.integers(40, 900)),
        "first_start": draw(st.integers(1_795_000_000, 1_795_000_600)),
        "last_end": draw(st.integers(1_795_000_600, 1_795_001_200)),
    }


def _side(**values: Any) -> dict[str, Any]:
    """A responder's conversation on eni-a of key (ingress, TCP, peer 1, 443, epoch 0)."""
    base = {
        "eni_id": "eni-a",
        "rule_direction": "ingress",
        "protocol": 6,
        "family": 4,
        "peer_kid": 1,
        "service_port": 443,
        "ep_lo": 0,
        "ep_hi": 0,
        "eni_role": "responder",
        "has_sgs": True,
        "first_start": 1_795_000_000,
        "last_end": 1_795_000_700,
    }
    return {**base, **values}


def reference(sides: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for s in sides:
        if s["eni_role"] in ("initiator", "responder") and s["has_sgs"]:
            groups.setdefault(tuple(s[k] for k in KEY), []).append(s)
    out = {}
    for key, rows in groups.items():
        acc = [r for r in rows if r["flows"] > 0]
        out[key] = {
            "peer_addr": min((r["peer_addr"] for r in acc), default=None),
            "flows": sum(r["flows"] for r in acc) if acc else None,
            "connections": len(acc),
            "packets": sum(r["packets"] for r in acc) if acc else None,
            "bytes": sum(r["bytes"] for r in acc) if acc else None,
            "first_start": min((r["first_start"] for r in acc), default=None),
            "last_end": max((r["last_end"] for r in acc), default=None),
        }
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(side(), max_size=40))
@example(
    [  # one key: a rejected-only conversation and an accepted one; a transit one apart
        _side(flows=0.0, packets=0.0, bytes=0.0, peer_addr="10.0.0.1"),
        _side(flows=2.0, packets=4.0, bytes=80.0, peer_addr="10.0.0.3"),
        _side(flows=5.0, packets=5.0, bytes=50.0, peer_addr="10.0.0.2", eni_role="transit"),
    ]
)
def test_service_keys_match_their_plain_definition(sides: list[dict[str, Any]]) -> None:
    con = duckdb.connect()
    schema = pa.schema(
        [
            ("eni_id", pa.string()),
            ("rule_direction", pa.string()),
            ("protocol", pa.int32()),
            ("family", pa.int8()),
            ("peer_kid", pa.int64()),
            ("peer_addr", pa.string()),
            ("service_port", pa.int32()),
            ("ep_lo", pa.int32()),
            ("ep_hi", pa.int32()),
            ("eni_role", pa.string()),
            ("has_sgs", pa.bool_()),
            ("flows", pa.float64()),
            ("packets", pa.float64()),
            ("bytes", pa.float64()),
            ("first_start", pa.int64()),
            ("last_end", pa.int64()),
        ]
    )
    con.register("sides_arrow", pa.Table.from_pylist(sides, schema=schema))
    con.execute("CREATE TABLE conversation_sides AS SELECT * FROM sides_arrow")
    step = sqlfiles.load("analyze", "34_service_keys")
    cur = sqlfiles.execute(con, step)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    got = {tuple(r[k] for k in KEY): {k: v for k, v in r.items() if k not in KEY} for r in rows}
    assert len(got) == len(rows), "a key appears more than once"
    assert got == reference(sides)
