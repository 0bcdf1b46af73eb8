"""The tightening plan as typed values, and its JSON (design.md §4 plus documented extra keys).

Pure: no boto3, no duckdb.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from flowlens.recommend.rules import Rule

#: A rule the plan proposes to create. Same fields as a current rule; the SG is the recommendation's.
ProposedRule = Rule


class Action(StrEnum):
    REMOVE = "remove"
    NARROW = "narrow"
    REPLACE = "replace"


class Kind(StrEnum):
    """Why a recommendation exists (the JSON key ``kind``)."""

    UNUSED = "remove_unused"
    REDUNDANT = "remove_redundant"
    NARROW = "narrow"  # peer and/or ports and/or protocol, always a subset
    SG_REFERENCE = "replace_cidr_with_sg"  # may widen: membership changes over time
    PREFIX_LIST = "replace_cidr_with_prefix_list"  # an AWS-managed prefix list


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    def raised(self) -> Risk:
        return Risk.HIGH if self is not Risk.LOW else Risk.MEDIUM


@dataclass(frozen=True)
class Evidence:
    """What a recommendation rests on; ``flows``/``peers``/``ports`` are this rule's observed traffic."""

    window_start: datetime
    window_end: datetime
    window_days: float
    status: str
    coverage: str
    flows: int = 0
    connections: int = 0
    sole_flows: int | None = None
    peers: int = 0
    ports: int = 0
    protocols: tuple[int, ...] = ()
    sample_peers: tuple[str, ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    public_by_observation: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "flows": self.flows,
            "connections": self.connections,
            "peers": self.peers,
            "ports": self.ports,
            "window_days": round(self.window_days, 3),
            "window": {"start": _iso(self.window_start), "end": _iso(self.window_end)},
            "status": self.status,
            "coverage": self.coverage,
            "sole_flows": self.sole_flows,
            "protocols": list(self.protocols),
            "sample_peers": list(self.sample_peers),
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "public_by_observation": self.public_by_observation,
        }


@dataclass(frozen=True)
class Recommendation:
    rule_id: str
    group_id: str
    action: Action
    kind: Kind
    current: Rule
    proposed: tuple[ProposedRule, ...]
    evidence: Evidence
    risk: Risk
    risk_reason: str
    may_widen: bool = False
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "group_id": self.group_id,
            "action": self.action.value,
            "proposed": [r.to_dict() for r in self.proposed],
            "evidence": self.evidence.to_dict(),
            "risk": self.risk.value,
            "kind": self.kind.value,
            "risk_reason": self.risk_reason,
            "may_widen": self.may_widen,
            "current": self.current.to_dict(),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Dropped:
    """A proposal that was not emitted, and why (replay cut, quota, redundancy re-check)."""

    rule_id: str
    group_id: str
    kind: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "group_id": self.group_id, "kind": self.kind, "reason": self.reason}


@dataclass(frozen=True)
class Kept:
    """A rule left as it is, and why (excluded, public by observation, not observable, ...)."""

    rule_id: str
    group_id: str
    reason: str
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "group_id": self.group_id, "label": self.label, "reason": self.reason}


@dataclass(frozen=True)
class Verification:
    """What the replay proof checked, and what it could not check (docs/recommend.md)."""

    flows_checked: int
    connections_checked: int
    flows_cut: int
    flows_not_allowed_now: int = 0  # accepted flows no current rule allows (tracked state, rule changes)
    flows_unattributed: int = 0  # flows on ENIs no snapshot places in a group at their time
    flows_unattributed_protected: int = 0  # of those, the flows some group of their VPC allows now
    snapshot_taken_at: datetime | None = None  # of the snapshot whose rules the plan refers to
    days_analysed: tuple[date, ...] = ()  # the window's days that have analysis results

    def to_dict(self) -> dict[str, Any]:
        return {
            "flows_checked": self.flows_checked,
            "flows_cut": self.flows_cut,
            "connections_checked": self.connections_checked,
            "flows_not_allowed_now": self.flows_not_allowed_now,
            "flows_unattributed": self.flows_unattributed,
            "flows_unattributed_protected": self.flows_unattributed_protected,
            "snapshot_taken_at": _iso(self.snapshot_taken_at),
            "days_analysed": [d.isoformat() for d in self.days_analysed],
        }

    def claim(self) -> str:
        """The proof in one sentence, never claiming "0 cut" over flows it could not check."""
        return replay_claim(self.flows_checked, self.flows_cut, self.flows_unattributed, self.flows_unattributed_protected)


def replay_claim(checked: int, cut: int, unattributed: int = 0, protected: int = 0) -> str:
    """What a replay proved, in words (shared by every renderer and the report).

    >>> replay_claim(21409, 0, 2693, 2693)
    '21,409 flows checked, 0 cut; 2,693 flows on ENIs no snapshot places were protected, not checked against membership'
    >>> replay_claim(5, 0)
    '5 flows checked, 0 cut'
    """
    text = f"{checked:,} flows checked, {cut:,} cut"
    if not unattributed:
        return text
    if protected >= unattributed:
        return f"{text}; {unattributed:,} flows on ENIs no snapshot places were protected, not checked against membership"
    return (f"{text}; {unattributed:,} flows on ENIs no snapshot places were not checked against membership "
            f"({protected:,} of them protected in every group of their VPC that allows them; "
            f"{unattributed - protected:,} allowed by no current rule there)")


@dataclass(frozen=True)
class Plan:
    window_start: datetime
    window_end: datetime
    verification: Verification
    recommendations: tuple[Recommendation, ...]
    dropped: tuple[Dropped, ...] = ()
    kept: tuple[Kept, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def window_days(self) -> float:
        return (self.window_end - self.window_start).total_seconds() / 86400

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": {"start": _iso(self.window_start), "end": _iso(self.window_end), "days": round(self.window_days, 3)},
            "verification": self.verification.to_dict(),
            "recommendations": [r.to_dict() for r in self.recommendations],
            "dropped": [d.to_dict() for d in self.dropped],
            "kept": [k.to_dict() for k in self.kept],
            "settings": self.settings,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def _iso(value: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z (naive datetimes are taken as UTC)."""
    if value is None:
        return None
    utc = value.astimezone(UTC) if value.tzinfo else value
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
