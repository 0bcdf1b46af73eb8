"""Arrow schemas of the reviewer's state kept in the data dir: dismissals and plan verifications.

Unlike results (recomputed per analysed day), these record decisions and checks made over time;
each is one Parquet file under ``<data dir>/state/`` and a view of the catalog of the same name.
"""

from __future__ import annotations

import pyarrow as pa

from flowlens.model.net import Rule, derived_rule_id

S, I32, I64, B = pa.string(), pa.int32(), pa.int64(), pa.bool_()
TS = pa.timestamp("us", tz="UTC")

#: A reviewer's "leave this rule alone", keyed by the rule's content (content_key: the derived-id
#: hash of group, direction, protocol, ports and peer), so it survives re-runs and rule-id changes
#: and lapses when the rule's content changes. ``until``: the last day it holds (NULL: no end).
DISMISSALS_SCHEMA = pa.schema(
    [
        ("content_key", S),
        ("rule_id", S),
        ("group_id", S),
        ("direction", S),
        ("ip_protocol", I32),
        ("from_port", I32),
        ("to_port", I32),
        ("peer_type", S),
        ("peer", S),
        ("finding_id", S),
        ("reason", S),
        ("dismissed_by", S),
        ("dismissed_at", TS),
        ("until", pa.date32()),
    ]
)

#: One row per verification of a plan (``flowlens verify``): the days replayed, what was checked,
#: what the plan would cut and the plan's status after it (pending | ready | blocked).
PLAN_VERIFICATIONS_SCHEMA = pa.schema(
    [
        ("plan_path", S),
        ("plan_id", S),
        ("verified_at", TS),
        ("first_day", pa.date32()),
        ("last_day", pa.date32()),
        ("days_verified", I64),
        ("clean_days", I64),
        ("flows_checked", I64),
        ("flows_cut", I64),
        ("flows_unattributed", I64),
        ("flows_unattributed_protected", I64),
        ("status", S),
        ("blocking_rules", S),
        ("examples", S),
        ("record_path", S),
    ]
)

STATE_SCHEMAS: dict[str, pa.Schema] = {
    "dismissals": DISMISSALS_SCHEMA,
    "plan_verifications": PLAN_VERIFICATIONS_SCHEMA,
}


def content_key(group_id: str, rule: Rule) -> str:
    """A rule's identity by content: the derived-id hash (descriptions and
    rule ids do not enter it).

    >>> content_key("sg-1", Rule("ingress", 6, 22, 22, "cidr4", "10.0.0.0/8"))
    'sgr-derived-b7898da2c4b59aaa7'
    """
    return derived_rule_id(
        group_id, str(rule.direction), rule.ip_protocol, rule.from_port, rule.to_port, rule.peer
    )
