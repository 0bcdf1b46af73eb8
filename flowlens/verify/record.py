"""A plan's verification record: every later day replayed against it, and the status that follows.

Security groups have no staged mode, so a plan is staged here: each analysed day after the
plan's own window is replayed against the plan's changes (the recommender's replay, the flow's
time included) and added to the record beside the plan (``<plan>.verification.json``). The
status follows from all the days recorded:

* ``blocked`` as soon as any verified day has a flow the plan would cut: the record names the
  recommendations to blame and example flows (peer, port, ENI, time, first day seen);
* ``ready`` once ``min_window_days`` verified days are clean;
* ``pending`` before that.

A record belongs to one plan (``plan_id``: the hash of the plan file); a changed plan starts a
fresh record. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

KIND = "flowlens-plan-verification"
MAX_EXAMPLES = 5


class PlanStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Example:
    """One flow the plan would cut, as the replay saw it."""

    day: date
    eni_id: str
    direction: str
    protocol: int
    peer: str
    port: int | None
    flows: int
    first_seen: datetime | None
    last_seen: datetime | None
    unattributed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "eni_id": self.eni_id,
            "direction": self.direction,
            "protocol": self.protocol,
            "peer": self.peer,
            "port": self.port,
            "flows": self.flows,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "unattributed": self.unattributed,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Example:
        return cls(
            date.fromisoformat(d["day"]),
            str(d["eni_id"]),
            str(d["direction"]),
            int(d["protocol"]),
            str(d["peer"]),
            None if d.get("port") is None else int(d["port"]),
            int(d.get("flows") or 0),
            _time(d.get("first_seen")),
            _time(d.get("last_seen")),
            bool(d.get("unattributed")),
        )


@dataclass(frozen=True)
class CutRule:
    """A recommendation the replay of one day blames for cutting flows."""

    rule_id: str
    flows: int
    connections: int
    example: Example

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "flows": self.flows,
            "connections": self.connections,
            "example": self.example.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CutRule:
        return cls(
            str(d["rule_id"]),
            int(d["flows"]),
            int(d.get("connections") or 0),
            Example.from_dict(d["example"]),
        )


@dataclass(frozen=True)
class DayResult:
    day: date
    flows_checked: int
    flows_cut: int
    flows_unattributed: int = 0
    flows_unattributed_protected: int = 0
    snapshot_taken_at: datetime | None = None
    cuts: tuple[CutRule, ...] = ()
    missing_rules: tuple[str, ...] = ()  # plan rules no longer in that day's snapshot

    @property
    def clean(self) -> bool:
        return self.flows_cut == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "flows_checked": self.flows_checked,
            "flows_cut": self.flows_cut,
            "flows_unattributed": self.flows_unattributed,
            "flows_unattributed_protected": self.flows_unattributed_protected,
            "snapshot_taken_at": _iso(self.snapshot_taken_at),
            "cuts": [c.to_dict() for c in self.cuts],
            "missing_rules": list(self.missing_rules),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DayResult:
        return cls(
            date.fromisoformat(d["day"]),
            int(d["flows_checked"]),
            int(d["flows_cut"]),
            int(d.get("flows_unattributed") or 0),
            int(d.get("flows_unattributed_protected") or 0),
            _time(d.get("snapshot_taken_at")),
            tuple(CutRule.from_dict(c) for c in d.get("cuts") or ()),
            tuple(str(r) for r in d.get("missing_rules") or ()),
        )


@dataclass(frozen=True)
class Blocker:
    """A recommendation that blocks the plan, over every day recorded."""

    rule_id: str
    group_id: str
    kind: str
    flows: int
    first_day: date
    examples: tuple[Example, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "group_id": self.group_id,
            "kind": self.kind,
            "flows": self.flows,
            "first_day": self.first_day.isoformat(),
            "examples": [e.to_dict() for e in self.examples],
        }

    def sentence(self) -> str:
        e = self.examples[0]
        port = f"/{e.port}" if e.port is not None else ""
        side = "from" if e.direction == "ingress" else "to"
        return (
            f"{self.rule_id} ({self.group_id}, {self.kind}) would cut {self.flows:,} flows, first "
            f"on {self.first_day}, e.g. {e.direction} protocol {e.protocol}{port} {side} {e.peer} "
            f"on {e.eni_id} at {_iso(e.last_seen)}"
        )


@dataclass(frozen=True)
class Record:
    plan: str
    plan_id: str
    plan_window: tuple[datetime, datetime]
    min_window_days: float
    days: tuple[DayResult, ...] = ()
    recs: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # rule_id → (group, kind)
    updated_at: datetime | None = None

    @property
    def clean_days(self) -> int:
        return sum(1 for d in self.days if d.clean)

    def blockers(self) -> list[Blocker]:
        by_rule: dict[str, list[tuple[date, CutRule]]] = {}
        for d in self.days:
            for c in d.cuts:
                by_rule.setdefault(c.rule_id, []).append((d.day, c))
        out = []
        for rid, cuts in sorted(by_rule.items()):
            group, kind = self.recs.get(rid, ("", ""))
            examples = tuple(c.example for _, c in sorted(cuts, key=lambda x: x[0]))[:MAX_EXAMPLES]
            out.append(
                Blocker(
                    rid,
                    group,
                    kind,
                    sum(c.flows for _, c in cuts),
                    min(d for d, _ in cuts),
                    examples,
                )
            )
        return out

    @property
    def status(self) -> PlanStatus:
        if any(not d.clean for d in self.days):
            return PlanStatus.BLOCKED
        if self.clean_days >= self.min_window_days:
            return PlanStatus.READY
        return PlanStatus.PENDING

    def status_reason(self) -> str:
        s = self.status
        if s is PlanStatus.BLOCKED:
            return "blocked: " + "; ".join(b.sentence() for b in self.blockers())
        n = self.clean_days
        if s is PlanStatus.READY:
            return (
                f"ready: {n} clean day{'' if n == 1 else 's'} verified after the plan "
                f"(--min-window-days {self.min_window_days:g})"
            )
        return (
            f"pending: {n} clean day{'' if n == 1 else 's'} verified after the plan, "
            f"{self.min_window_days:g} needed (--min-window-days)"
        )

    def with_days(self, results: Sequence[DayResult], now: datetime) -> Record:
        """The record with ``results`` added (a day verified again replaces its earlier result)."""
        days = {d.day: d for d in self.days}
        days.update((r.day, r) for r in results)
        return replace(self, days=tuple(days[k] for k in sorted(days)), updated_at=now)

    def totals(self) -> dict[str, int]:
        return {
            k: sum(getattr(d, k) for d in self.days)
            for k in (
                "flows_checked",
                "flows_cut",
                "flows_unattributed",
                "flows_unattributed_protected",
            )
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "plan": self.plan,
            "plan_id": self.plan_id,
            "status": self.status.value,
            "status_reason": self.status_reason(),
            "plan_window": {"start": _iso(self.plan_window[0]), "end": _iso(self.plan_window[1])},
            "min_window_days": self.min_window_days,
            "days_verified": len(self.days),
            "clean_days": self.clean_days,
            **self.totals(),
            "blocking": [b.to_dict() for b in self.blockers()],
            "days": [d.to_dict() for d in self.days],
            "recommendations": {
                rid: {"group_id": g, "kind": k} for rid, (g, k) in sorted(self.recs.items())
            },
            "updated_at": _iso(self.updated_at),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Record:
        w = d["plan_window"]
        start, end = _time(w["start"]), _time(w["end"])
        if start is None or end is None:
            raise ValueError("plan_window needs start and end")
        return cls(
            str(d["plan"]),
            str(d["plan_id"]),
            (start, end),
            float(d["min_window_days"]),
            tuple(DayResult.from_dict(x) for x in d.get("days") or ()),
            {
                rid: (str(v["group_id"]), str(v["kind"]))
                for rid, v in (d.get("recommendations") or {}).items()
            },
            _time(d.get("updated_at")),
        )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
