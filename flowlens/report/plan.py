"""Reading a recommendation plan (design.md §4) for the report: verification and proposals. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowlens.errors import InputError
from flowlens.recommend.plan import replay_claim
from flowlens.report.exposure import Proposal, Rule


@dataclass(frozen=True)
class PlanRecommendation:
    """One recommendation as the report shows it; ``proposal`` feeds the exposure maths."""

    rule_id: str
    group_id: str
    action: str
    risk: str
    proposed: tuple[dict[str, Any], ...]
    evidence: dict[str, Any]
    proposal: Proposal


@dataclass(frozen=True)
class Plan:
    window_start: str | None
    window_end: str | None
    flows_checked: int | None
    flows_cut: int | None
    recommendations: tuple[PlanRecommendation, ...]
    flows_unattributed: int = 0  # flows on ENIs no snapshot places: protected, not membership-checked
    flows_unattributed_protected: int = 0
    snapshot_taken_at: str | None = None
    days_analysed: tuple[str, ...] = ()

    def claim(self) -> str | None:
        """The replay proof in words (None without a verification block)."""
        if self.flows_checked is None:
            return None
        return replay_claim(self.flows_checked, self.flows_cut or 0, self.flows_unattributed,
                            self.flows_unattributed_protected)


def _as_obj(value: Any, where: str) -> Any:
    """A JSON column may hold text or already-parsed JSON."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc.msg} at char {exc.pos})") from None
    return value


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def proposed_rule(item: Mapping[str, Any], group_id: str, default_direction: str, where: str) -> Rule:
    """A proposed rule from its plan dict; the direction defaults to the replaced rule's."""
    try:
        return Rule(
            group_id=group_id,
            direction=str(item.get("direction") or default_direction),
            ip_protocol=int(item["ip_protocol"]),
            from_port=_int_or_none(item.get("from_port")),
            to_port=_int_or_none(item.get("to_port")),
            peer_type=str(item["peer_type"]),
            peer=str(item["peer"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{where}: a proposed rule needs ip_protocol, peer_type and peer ({exc})") from None


def recommendation(
    raw: Mapping[str, Any], where: str, directions: Mapping[str, str]
) -> PlanRecommendation:
    """One recommendation from a plan entry or a ``recommendations`` table row."""
    rule_id, group_id = str(raw.get("rule_id") or ""), str(raw.get("group_id") or "")
    if not rule_id:
        raise InputError(f"{where}: a recommendation has no rule_id")
    proposed_raw = _as_obj(raw.get("proposed"), f"{where} ({rule_id}) proposed") or []
    if isinstance(proposed_raw, Mapping):
        proposed_raw = [proposed_raw]
    evidence = _as_obj(raw.get("evidence"), f"{where} ({rule_id}) evidence") or {}
    if not isinstance(evidence, Mapping):
        evidence = {"evidence": evidence}
    direction = directions.get(rule_id, "ingress")
    rules = tuple(proposed_rule(p, group_id, direction, f"{where} ({rule_id})") for p in proposed_raw)
    action = str(raw.get("action") or "")
    return PlanRecommendation(
        rule_id, group_id, action, str(raw.get("risk") or ""), tuple(dict(p) for p in proposed_raw),
        dict(evidence), Proposal(rule_id, group_id, action, rules),
    )


def parse_plan(obj: Mapping[str, Any], where: str, directions: Mapping[str, str]) -> Plan:
    """A plan object (design.md §4 shape); ``directions`` maps rule ids to their direction."""
    if not isinstance(obj, Mapping):
        raise InputError(f"{where}: a plan is a JSON object with window, verification, recommendations")
    window = obj.get("window") or {}
    verification = obj.get("verification") or {}
    recs = obj.get("recommendations") or []
    if not isinstance(recs, list):
        raise InputError(f"{where}: 'recommendations' must be a list")
    return Plan(
        window.get("start"), window.get("end"),
        _int_or_none(verification.get("flows_checked")), _int_or_none(verification.get("flows_cut")),
        tuple(recommendation(r, f"{where} recommendation {i}", directions) for i, r in enumerate(recs)),
        int(verification.get("flows_unattributed") or 0), int(verification.get("flows_unattributed_protected") or 0),
        verification.get("snapshot_taken_at"), tuple(str(d) for d in verification.get("days_analysed") or ()),
    )


def read_plan_file(path: Path) -> dict[str, Any]:
    """The JSON object in a plan file, with errors that name the file."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"plan file {path} does not exist; write it with 'flowlens recommend --format json --out {path}'") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(obj, dict):
        raise InputError(f"{path}: a plan is a JSON object, found {type(obj).__name__}")
    return obj
