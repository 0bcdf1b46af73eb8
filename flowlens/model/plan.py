"""The tightening plan as typed values, and its JSON (docs/recommend.md#plan-json).

``Plan.from_dict`` is the inverse of ``Plan.to_dict`` (tests/test_model_plan.py holds the
round trip as the contract of plan.json). It also reads the minimal shape of the contract,
where only ``rule_id``, ``group_id``, ``action``, ``proposed``, ``evidence`` and ``risk`` are
given: missing keys take the defaults their fields document. Pure: no boto3, no duckdb.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from flowlens.errors import InputError
from flowlens.model.delta import Delta, connectivity_delta
from flowlens.model.net import Direction, PeerType, Rule
from flowlens.model.status import RuleStatus
from flowlens.model.window import AnalysedWindow, Window

#: A rule the plan proposes to create. Same fields as a current rule; the SG
#: is the recommendation's.
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
    """What a recommendation rests on; ``flows``/``peers``/``ports`` are this
    rule's observed traffic."""

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
    #: The rule's rule_history over the analysed days (class, days used, pattern, ...), when known.
    history: Mapping[str, Any] | None = None
    #: The rule's permissiveness score (1-100) before and after: {"before": x, "after": y}.
    permissiveness: Mapping[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"history": dict(self.history)} if self.history is not None else {}
        if self.permissiveness is not None:
            extra["permissiveness"] = dict(self.permissiveness)
        return {
            **extra,
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

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, window: tuple[datetime, datetime]) -> Evidence:
        """The inverse of :meth:`to_dict`; ``window`` is used when the evidence names none."""
        span = d.get("window") or {}
        start = _parse_time(span.get("start")) or window[0]
        end = _parse_time(span.get("end")) or window[1]
        days = (end - start).total_seconds() / 86400
        if d.get("window_days") is not None and float(d["window_days"]) != round(days, 3):
            days = float(d["window_days"])  # a plan that states its own figure keeps it
        return cls(
            start,
            end,
            days,
            str(d.get("status") or ""),
            str(d.get("coverage") or ""),
            flows=int(d.get("flows") or 0),
            connections=int(d.get("connections") or 0),
            sole_flows=None if d.get("sole_flows") is None else int(d["sole_flows"]),
            peers=int(d.get("peers") or 0),
            ports=int(d.get("ports") or 0),
            protocols=tuple(int(p) for p in d.get("protocols") or ()),
            sample_peers=tuple(str(p) for p in d.get("sample_peers") or ()),
            first_seen=_parse_time(d.get("first_seen")),
            last_seen=_parse_time(d.get("last_seen")),
            public_by_observation=bool(d.get("public_by_observation")),
            history=d.get("history"),
            permissiveness=d.get("permissiveness"),
        )


@dataclass(frozen=True)
class Recommendation:
    """One proposed change; ``current`` is None only in plans that do not
    carry it (minimal shape)."""

    rule_id: str
    group_id: str
    action: Action
    kind: Kind
    current: Rule | None
    proposed: tuple[ProposedRule, ...]
    evidence: Evidence
    risk: Risk
    risk_reason: str
    may_widen: bool = False
    notes: tuple[str, ...] = ()
    account_id: str = ""  # the SG's owner and region per the inventory ("" when it did not say)
    region: str = ""

    @property
    def direction(self) -> Direction:
        """The replaced rule's direction (a proposal never changes it)."""
        if self.current is not None:
            return self.current.direction
        return self.proposed[0].direction if self.proposed else Direction.INGRESS

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
            "current": None if self.current is None else self.current.to_dict(),
            "notes": list(self.notes),
            "account_id": self.account_id or None,
            "region": self.region or None,
        }

    @classmethod
    def from_dict(
        cls,
        d: Mapping[str, Any],
        *,
        window: tuple[datetime, datetime],
        where: str = "plan",
        directions: Mapping[str, str] | None = None,
    ) -> Recommendation:
        """The inverse of :meth:`to_dict`, naming ``where`` in errors.

        A proposed rule without a direction takes the current rule's, else ``directions[rule_id]``
        (e.g. from ``sg_rules``), else ingress. Without ``kind`` it is inferred from the action
        (remove: unused when the evidence says so, else redundant; replace: an SG reference when
        a proposed peer is one, else a prefix list); without ``may_widen``, a replacement may widen.
        """
        rule_id = str(d.get("rule_id") or "")
        if not rule_id:
            raise InputError(f"{where}: a recommendation has no rule_id")
        where = f"{where} ({rule_id})"
        try:
            current = Rule.from_dict(d["current"]) if d.get("current") else None
            direction = (
                current.direction if current else (directions or {}).get(rule_id, Direction.INGRESS)
            )
            proposed = tuple(
                Rule.from_dict(p, direction=direction) for p in _listed(d.get("proposed"))
            )
            evidence = Evidence.from_dict(d.get("evidence") or {}, window=window)
            action, risk = Action(str(d.get("action"))), Risk(str(d.get("risk")))
            kind = (
                Kind(str(d["kind"])) if d.get("kind") else _infer_kind(action, proposed, evidence)
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(
                f"{where}: not a valid recommendation ({type(exc).__name__}: {exc})"
            ) from None
        may_widen = d.get("may_widen")
        return cls(
            rule_id,
            str(d.get("group_id") or ""),
            action,
            kind,
            current,
            proposed,
            evidence,
            risk,
            str(d.get("risk_reason") or ""),
            action is Action.REPLACE if may_widen is None else bool(may_widen),
            tuple(str(n) for n in d.get("notes") or ()),
            str(d.get("account_id") or ""),
            str(d.get("region") or ""),
        )


def _listed(value: Any) -> list[Mapping[str, Any]]:
    """``proposed`` as a list (a single rule object is accepted as a list of one)."""
    if value is None:
        return []
    return [value] if isinstance(value, Mapping) else list(value)


def _infer_kind(action: Action, proposed: tuple[Rule, ...], evidence: Evidence) -> Kind:
    if action is Action.REMOVE:
        return Kind.UNUSED if evidence.status == RuleStatus.UNUSED else Kind.REDUNDANT
    if action is Action.REPLACE:
        return (
            Kind.SG_REFERENCE
            if any(r.peer_type is PeerType.SG for r in proposed)
            else Kind.PREFIX_LIST
        )
    return Kind.NARROW


@dataclass(frozen=True)
class Dropped:
    """A proposal that was not emitted, and why (replay cut, quota, redundancy re-check)."""

    rule_id: str
    group_id: str
    kind: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "group_id": self.group_id,
            "kind": self.kind,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Dropped:
        return cls(str(d["rule_id"]), str(d["group_id"]), str(d["kind"]), str(d["reason"]))


@dataclass(frozen=True)
class Kept:
    """A rule left as it is, and why (excluded, public by observation, not observable, ...)."""

    rule_id: str
    group_id: str
    reason: str
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "group_id": self.group_id,
            "label": self.label,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Kept:
        return cls(
            str(d["rule_id"]), str(d["group_id"]), str(d["reason"]), str(d.get("label") or "")
        )


@dataclass(frozen=True)
class Verification:
    """What the replay proof checked, and what it could not check (docs/recommend.md)."""

    flows_checked: int
    connections_checked: int
    flows_cut: int
    flows_not_allowed_now: int = (
        0  # accepted flows no current rule allows (tracked state, rule changes)
    )
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

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Verification:
        taken = d.get("snapshot_taken_at")
        return cls(
            int(d["flows_checked"]),
            int(d.get("connections_checked") or 0),
            int(d["flows_cut"]),
            int(d.get("flows_not_allowed_now") or 0),
            int(d.get("flows_unattributed") or 0),
            int(d.get("flows_unattributed_protected") or 0),
            _parse_time(str(taken)) if taken else None,
            tuple(date.fromisoformat(str(x)) for x in d.get("days_analysed") or ()),
        )

    def claim(self) -> str:
        """The proof in one sentence, never claiming "0 cut" over flows it could not check."""
        return replay_claim(
            self.flows_checked,
            self.flows_cut,
            self.flows_unattributed,
            self.flows_unattributed_protected,
        )


def replay_claim(checked: int, cut: int, unattributed: int = 0, protected: int = 0) -> str:
    """What a replay proved, in words (shared by every renderer and the report).

    >>> print(replay_claim(21409, 0, 2693, 2693))  # doctest: +NORMALIZE_WHITESPACE
    21,409 flows checked, 0 cut; 2,693 flows on ENIs no snapshot places were protected, not checked
    against membership
    >>> replay_claim(5, 0)
    '5 flows checked, 0 cut'
    """
    text = f"{checked:,} flows checked, {cut:,} cut"
    if not unattributed:
        return text
    if protected >= unattributed:
        return (
            f"{text}; {unattributed:,} flows on ENIs no snapshot places were protected, not "
            "checked against membership"
        )
    return (
        f"{text}; {unattributed:,} flows on ENIs no snapshot places were not checked against "
        f"membership ({protected:,} of them protected in every group of their VPC that allows "
        f"them; {unattributed - protected:,} allowed by no current rule there)"
    )


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

    def delta(self) -> Delta:
        """The paths the plan changes, before → after, with their observed flows."""
        return connectivity_delta(self.recommendations)

    @property
    def missing_days(self) -> tuple[date, ...]:
        return self.analysed.missing if self.analysed is not None else ()

    def gap_sentence(self) -> str:
        return self.analysed.gap_sentence() if self.analysed is not None else ""

    def window_dict(self) -> dict[str, Any]:
        """``start``/``end``/``days`` of the analysed days, plus the window asked
        for and its missing days."""
        out: dict[str, Any] = {
            "start": _iso(self.window_start),
            "end": _iso(self.window_end),
            "days": round(self.window_days, 3),
        }
        if self.analysed is not None:
            out["analysed_days"] = [d.isoformat() for d in self.analysed.analysed]
            out["requested"] = self.analysed.to_dict()
            out["missing_days"] = out["requested"].pop("missing_days")
        return out

    def to_dict(self) -> dict[str, Any]:
        delta = self.delta()
        return {
            # derived (from_dict ignores it): the plan's effect in one line
            "summary": delta.summary(),
            "window": self.window_dict(),
            "verification": self.verification.to_dict(),
            "recommendations": [r.to_dict() for r in self.recommendations],
            "dropped": [d.to_dict() for d in self.dropped],
            "kept": [k.to_dict() for k in self.kept],
            "scope": {
                "accounts": sorted({r.account_id for r in self.recommendations if r.account_id}),
                "regions": sorted({r.region for r in self.recommendations if r.region}),
            },
            "settings": self.settings,
            "connectivity_delta": delta.to_dict()["paths"],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(
        cls,
        obj: Mapping[str, Any],
        *,
        where: str = "plan",
        directions: Mapping[str, str] | None = None,
    ) -> Plan:
        """The inverse of :meth:`to_dict`; errors name ``where`` (the file the plan came from)."""
        if not isinstance(obj, Mapping):
            raise InputError(
                f"{where}: a plan is a JSON object with window, verification, recommendations"
            )
        recs = obj.get("recommendations") or []
        if not isinstance(recs, list):
            raise InputError(f"{where}: 'recommendations' must be a list")
        try:
            span = obj["window"]
            start, end = _parse_time(span["start"]), _parse_time(span["end"])
            if start is None or end is None:
                raise ValueError("window start and end are required")
            verification = Verification.from_dict(obj["verification"])
            dropped = tuple(Dropped.from_dict(d) for d in obj.get("dropped") or ())
            kept = tuple(Kept.from_dict(k) for k in obj.get("kept") or ())
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"{where}: not a plan: needs window start/end and verification "
                f"flows_checked/flows_cut ({type(exc).__name__}: {exc})"
            ) from None
        return cls(
            start,
            end,
            verification,
            tuple(
                Recommendation.from_dict(
                    r,
                    window=(start, end),
                    where=f"{where} recommendation {i}",
                    directions=directions,
                )
                for i, r in enumerate(recs)
            ),
            dropped,
            kept,
            dict(obj.get("settings") or {}),
            _analysed_from(span, where),
        )

    @classmethod
    def from_json(cls, text: str, *, where: str = "plan") -> Plan:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}:{exc.lineno}: not valid JSON: {exc.msg}") from None
        return cls.from_dict(obj, where=where)


def _analysed_from(span: Mapping[str, Any], where: str) -> AnalysedWindow | None:
    """The requested and analysed days a plan's ``window`` states (None for plans without them)."""
    requested, analysed = span.get("requested"), span.get("analysed_days")
    if not isinstance(requested, Mapping) or analysed is None:
        return None
    try:
        first, last = date.fromisoformat(requested["start"]), date.fromisoformat(requested["end"])
        days = Window(first, last).dates()
        return AnalysedWindow.of(days, [date.fromisoformat(d) for d in analysed])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{where}: window.requested/analysed_days are not dates ({exc})") from None


def _parse_time(value: Any) -> datetime | None:
    """An ISO 8601 instant (``Z`` or an offset; naive taken as UTC) as an aware datetime."""
    if value is None or value == "":
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z (naive datetimes are taken as UTC)."""
    if value is None:
        return None
    utc = value.astimezone(UTC) if value.tzinfo else value
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
