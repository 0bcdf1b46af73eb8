"""The tightening plan as typed values, and its JSON (design.md §4 plus documented extra keys).

Pure: no boto3, no duckdb.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
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
class AnalysedWindow:
    """The days asked for and the days that have analysis results: evidence (and risk) rests on the latter."""

    requested: tuple[date, ...]
    analysed: tuple[date, ...]

    @classmethod
    def of(cls, requested: Sequence[date], analysed: Sequence[date]) -> AnalysedWindow:
        wanted = tuple(sorted(set(requested)))
        return cls(wanted, tuple(d for d in wanted if d in set(analysed)))

    @property
    def missing(self) -> tuple[date, ...]:
        """Days of the requested window without analysis results."""
        have = set(self.analysed)
        return tuple(d for d in self.requested if d not in have)

    @property
    def days(self) -> int:
        return len(self.analysed)

    def bounds(self) -> tuple[datetime, datetime]:
        """[first analysed day 00:00 UTC, the day after the last analysed day 00:00 UTC)."""
        days = self.analysed or self.requested
        return (datetime.combine(min(days), time(), UTC),
                datetime.combine(max(days) + timedelta(days=1), time(), UTC))

    def gap_sentence(self) -> str:
        """``"14 of 15 days have no analysis: 2026-11-14..2026-11-27"``, or "" when none is missing."""
        missing = self.missing
        if not missing:
            return ""
        verb = "has" if len(missing) == 1 else "have"
        return f"{len(missing)} of {len(self.requested)} days {verb} no analysis: {day_ranges(missing)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.requested[0].isoformat(), "end": self.requested[-1].isoformat(),
            "days": len(self.requested), "missing_days": [d.isoformat() for d in self.missing],
        }


def day_ranges(days: Sequence[date]) -> str:
    """Consecutive days folded into ranges: ``2026-11-14..2026-11-20, 2026-11-25``.

    >>> day_ranges([date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 5)])
    '2026-11-01..2026-11-02, 2026-11-05'
    """
    runs: list[list[date]] = []
    for d in sorted(days):
        if runs and (d - runs[-1][-1]).days == 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ", ".join(r[0].isoformat() if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)


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
    account_id: str = ""  # the SG's owner and region per the inventory ("" when it did not say)
    region: str = ""

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
            "account_id": self.account_id or None,
            "region": self.region or None,
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
    flows_checked: int
    connections_checked: int
    flows_cut: int
    flows_not_allowed_now: int = 0  # accepted flows no current rule allows (tracked state, rule changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flows_checked": self.flows_checked,
            "flows_cut": self.flows_cut,
            "connections_checked": self.connections_checked,
            "flows_not_allowed_now": self.flows_not_allowed_now,
        }


@dataclass(frozen=True)
class Plan:
    window_start: datetime
    window_end: datetime
    verification: Verification
    recommendations: tuple[Recommendation, ...]
    dropped: tuple[Dropped, ...] = ()
    kept: tuple[Kept, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    #: The days asked for and those analysed; None when the plan was built from a bare time span.
    analysed: AnalysedWindow | None = None

    @property
    def window_days(self) -> float:
        """Days of evidence: the analysed days (not the span asked for)."""
        if self.analysed is not None:
            return float(self.analysed.days)
        return (self.window_end - self.window_start).total_seconds() / 86400

    @property
    def missing_days(self) -> tuple[date, ...]:
        return self.analysed.missing if self.analysed is not None else ()

    def gap_sentence(self) -> str:
        return self.analysed.gap_sentence() if self.analysed is not None else ""

    def window_dict(self) -> dict[str, Any]:
        """``start``/``end``/``days`` of the analysed days, plus the window asked for and its missing days."""
        out: dict[str, Any] = {"start": _iso(self.window_start), "end": _iso(self.window_end),
                               "days": round(self.window_days, 3)}
        if self.analysed is not None:
            out["analysed_days"] = [d.isoformat() for d in self.analysed.analysed]
            out["requested"] = self.analysed.to_dict()
            out["missing_days"] = out["requested"].pop("missing_days")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": self.window_dict(),
            "verification": self.verification.to_dict(),
            "recommendations": [r.to_dict() for r in self.recommendations],
            "dropped": [d.to_dict() for d in self.dropped],
            "kept": [k.to_dict() for k in self.kept],
            "scope": {"accounts": sorted({r.account_id for r in self.recommendations if r.account_id}),
                      "regions": sorted({r.region for r in self.recommendations if r.region})},
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
