"""Arrow schemas of the analysis results (docs/tables.md#analysis-results); their status and cause
words are in :mod:`flowlens.model.status`.

Results live in ``results/date=<YYYY-MM-DD>/<table>.parquet``; the catalog exposes each table
across all analysed days, with the ``date`` partition column.
"""

from __future__ import annotations

import pyarrow as pa

from flowlens.model.flow import FLOW_FILE_SCHEMA

S, I32, I64, B, F64 = pa.string(), pa.int32(), pa.int64(), pa.bool_(), pa.float64()
TS = pa.timestamp("us", tz="UTC")


#: Earlier analysed days that count as a rule's usage history.
DEFAULT_LOOKBACK_DAYS = 30
#: Engines the analysis runs on (flowlens/engines).
ENGINE_NAMES: tuple[str, ...] = ("duckdb", "spark", "athena")


def _schema(*cols: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t in cols])


RESULT_SCHEMAS: dict[str, pa.Schema] = {
    # One row per SG rule per analysed day (docs/analysis.md explains every status).
    # flows/connections/sole_*/packets/bytes/peers/ports count accepted initiating-direction
    # records on the ENI where the rule applies. last_used_date: today if used today, else the
    # last analysed day within the lookback where it was used (then status is 'used' with
    # flows 0 and a status_reason saying so), else NULL.
    # One row per rule in its latest content of the day (the inventory over time,
    # docs/analysis.md): exists_from/exists_to is the part of the day it possibly existed in that
    # content (window_start/window_end when all day) and its flows count only that content;
    # change is created | changed | deleted (model.status.RuleChange) when that content began or
    # ended inside the day, change_at the first snapshot that showed it (created/changed) or
    # showed it gone (deleted), NULL otherwise.
    "rule_usage": _schema(
        ("rule_id", S),
        ("group_id", S),
        ("direction", S),
        ("status", S),
        ("flows", I64),
        ("connections", I64),
        ("sole_flows", I64),
        ("packets", I64),
        ("bytes", I64),
        ("peers", I64),
        ("ports", I64),
        ("first_seen", TS),
        ("last_seen", TS),
        ("window_start", TS),
        ("window_end", TS),
        ("status_reason", S),
        ("sole_connections", I64),
        ("vpc_id", S),
        ("ip_protocol", I32),
        ("from_port", I32),
        ("to_port", I32),
        ("peer_type", S),
        ("peer", S),
        ("members", I64),
        ("covered_members", I64),
        ("last_used_date", pa.date32()),
        ("exists_from", TS),
        ("exists_to", TS),
        ("change", S),
        ("change_at", TS),
    ),
    # One row per ENI × conversation (unordered 5-tuple) × day, seen from that ENI.
    # eni_role: initiator | responder (this ENI's side), or transit (an ENI that is neither
    # endpoint: NAT gateway, TGW, NLB hop, or an ENI without SGs). Addresses are packet-level
    # (pkt_srcaddr/pkt_dstaddr where the format has them). rule_direction/peer_addr/service_port
    # say which SG rules this conversation exercises on this ENI: ingress rules with the
    # initiator as peer on the responder's ENI, egress rules with the responder as peer on the
    # initiator's ENI; service_port is always the responder's port.
    # decided_by: tcp_flags | history | reject_no_reply | listening_port | ephemeral_port |
    # fan_in | lower_port | first_packet; confidence: high | medium | low.
    # accepted: the initiating direction had ACCEPT records on this ENI.
    # flows/packets/bytes: ACCEPT records of the initiating direction; reply_*: records of the
    # reply direction (any action); rejected_flows: REJECT records, both directions.
    # status: allowed (some current rule allows it) | no_rule (accepted, but no current rule of
    # the ENI's SGs allows it: a removed rule or tracked state) | rejected (never accepted) |
    # transit | not_in_inventory (no snapshot or Config item places the ENI that day:
    # unattributed). matched_rules: how many rules allow it on this ENI, each judged in the
    # content it had at the conversation's time. vpc_id: the ENI's VPC; for an ENI no inventory
    # row places, the records' own vpc-id, else their subnet's VPC, else NULL.
    "conversations": _schema(
        ("eni_id", S),
        ("family", pa.int8()),
        ("protocol", I32),
        ("initiator_addr", S),
        ("initiator_port", I32),
        ("responder_addr", S),
        ("responder_port", I32),
        ("eni_role", S),
        ("rule_direction", S),
        ("peer_addr", S),
        ("service_port", I32),
        ("decided_by", S),
        ("confidence", S),
        ("accepted", B),
        ("flows", I64),
        ("reply_flows", I64),
        ("rejected_flows", I64),
        ("packets", I64),
        ("bytes", I64),
        ("first_seen", TS),
        ("last_seen", TS),
        ("status", S),
        ("matched_rules", I64),
        ("reply_packets", I64),
        ("reply_bytes", I64),
        ("vpc_id", S),
    ),
    # The full match set: one row per (ENI, rule direction, protocol, peer, service port) × rule
    # that allowed it at the time, aggregated over the day's accepted initiating conversations;
    # on a day the inventory changed, one such row per part of the day the conversations span
    # (their epochs), so a column summed over a rule's rows stays exact.
    # rules_matched: how many rules of the ENI's SGs allow that key (1 = this rule is the sole one).
    # matched_via: cidr | prefix_list | sg.
    "rule_matches": _schema(
        ("eni_id", S),
        ("rule_direction", S),
        ("protocol", I32),
        ("family", pa.int8()),
        ("peer_addr", S),
        ("service_port", I32),
        ("rule_id", S),
        ("group_id", S),
        ("matched_via", S),
        ("rules_matched", I64),
        ("flows", I64),
        ("connections", I64),
        ("packets", I64),
        ("bytes", I64),
        ("first_seen", TS),
        ("last_seen", TS),
    ),
    # Every REJECT record: its account and region, every flow column, and why it was rejected.
    "rejected": pa.schema(
        [
            pa.field("account_id", S),
            pa.field("region", S),
            *FLOW_FILE_SCHEMA,
            pa.field("cause", S),
            pa.field("cause_detail", S),
        ]
    ),
    # evidence: a JSON object (text) with the numbers and ids that support the finding.
    "findings": _schema(
        ("finding_id", S),
        ("kind", S),
        ("severity", S),
        ("resource_id", S),
        ("group_id", S),
        ("rule_id", S),
        ("title", S),
        ("detail", S),
        ("evidence", S),
    ),
    # One row per rule whose allowed set (protocol x ports or ICMP type/code x peers, references
    # and prefix lists expanded at snapshot time) lies inside the union of other rules of the
    # same direction on every ENI it applies to (its own SG only when no ENI carries it).
    # shadowed_by: the covering rule ids, comma-separated (a minimal set); enis: how many ENIs
    # it applies to; dynamic: an SG reference takes part, so membership changes may end it.
    "rule_shadows": _schema(
        ("rule_id", S),
        ("group_id", S),
        ("direction", S),
        ("shadowed_by", S),
        ("enis", I64),
        ("dynamic", B),
        ("detail", S),
    ),
    # One row per rule of the day's rule_usage: its use over the analysed days of the history
    # lookback up to this day (docs/analysis.md). class: never_used | stopped | periodic | active;
    # days_used counts days with flows > 0; longest_gap: calendar days between used days;
    # silent_days: analysed days after the last use; period: days between uses of a periodic
    # rule; pattern: one character per calendar day, oldest first (# used, . analysed, _ not).
    "rule_history": _schema(
        ("rule_id", S),
        ("group_id", S),
        ("class", S),
        ("analysed_days", I64),
        ("days_used", I64),
        ("first_used", pa.date32()),
        ("last_used", pa.date32()),
        ("mean_flows", F64),
        ("longest_gap", I64),
        ("silent_days", I64),
        ("period", I64),
        ("pattern", S),
    ),
    # One row per recommendation of the last plan whose window ends on this day. proposed, evidence,
    # current and notes: JSON text (the plan's keys). may_widen: the proposal is not a subset of
    # the current rule (an SG reference or a prefix list reaching beyond it). flows_checked and
    # flows_cut: the whole plan's replay proof (the same on every row of one plan).
    "recommendations": _schema(
        ("rule_id", S),
        ("group_id", S),
        ("action", S),
        ("proposed", S),
        ("evidence", S),
        ("risk", S),
        ("kind", S),
        ("current", S),
        ("risk_reason", S),
        ("may_widen", B),
        ("notes", S),
        ("flows_checked", I64),
        ("flows_cut", I64),
        ("flows_unattributed", I64),
        ("flows_unattributed_protected", I64),
    ),
}

RESULT_TABLES: tuple[str, ...] = tuple(RESULT_SCHEMAS)
