"""What the recommender reads, as plain values: the inventory, rule usage, observed flows.

The pipeline fills these from the catalog; tests build them by hand. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flowlens.analyze.history import DEFAULT_HISTORY_DAYS
from flowlens.model.net import SgRule
from flowlens.model.status import UNCERTAIN_ORDER, RuleStatus
from flowlens.recommend.history import History, static_history
from flowlens.recommend.rules import Flow, PeerContext

__all__ = [
    "EXCLUDE_TAG",
    "AwsPrefixList",
    "Inventory",
    "Observed",
    "Settings",
    "SgRule",
    "Usage",
    "combine_usage",
]

EXCLUDE_TAG = "flowlens:exclude"


@dataclass(frozen=True)
class Usage:
    """rule_usage for one rule, combined over the window's rows."""

    status: RuleStatus
    status_reason: str = ""
    flows: int = 0
    connections: int = 0
    sole_flows: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    #: the part of the window the rule existed in its latest content (None: the whole window)
    exists_from: datetime | None = None
    exists_to: datetime | None = None
    change: str | None = None  # 'created' | 'changed' | 'deleted' inside the window, or None
    change_at: datetime | None = None

    def existence_days(self, start: datetime, end: datetime) -> float:
        """How long the rule existed as it is now within ``[start, end)``, in days."""
        lo, hi = max(self.exists_from or start, start), min(self.exists_to or end, end)
        return max((hi - lo).total_seconds(), 0.0) / 86400


@dataclass(frozen=True)
class Observed:
    """Accepted initiating conversations of one ENI with one (direction, protocol, peer, port)."""

    eni_id: str
    flow: Flow
    flows: int
    connections: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    #: no snapshot (or Config item) places the ENI in security groups at the flow's time
    unattributed: bool = False
    vpc_id: str | None = None  # the ENI's VPC then (for unattributed flows: the records' own)


@dataclass(frozen=True)
class AwsPrefixList:
    prefix_list_id: str
    name: str
    family: int
    entries: tuple[str, ...]


@dataclass(frozen=True)
class Inventory:
    rules: Sequence[SgRule]
    eni_groups: Mapping[str, tuple[str, ...]]
    ctx: PeerContext
    group_tags: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    group_vpc: Mapping[str, str] = field(default_factory=dict)
    aws_prefix_lists: Sequence[AwsPrefixList] = ()
    prefix_list_weight: Mapping[str, int] = field(default_factory=dict)
    #: memberships over the window (from the inventory timeline); None: the snapshot's, at all times
    history: History | None = None
    #: when the snapshot the rules come from was taken (the plan refers to the rules as it saw them)
    snapshot_taken_at: datetime | None = None

    def timeline(self) -> History:
        """The window's memberships: :attr:`history`, or the snapshot's held at all times."""
        if self.history is not None:
            return self.history
        return static_history(
            self.eni_groups, self.group_vpc, self.ctx.sg_members, self.ctx.sg_member_prefixes
        )

    def group_enis(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for eni, groups in sorted(self.eni_groups.items()):
            for g in groups:
                out.setdefault(g, []).append(eni)
        return out

    def rules_by_group(self) -> dict[str, list[SgRule]]:
        out: dict[str, list[SgRule]] = {}
        for r in self.rules:
            out.setdefault(r.group_id, []).append(r)
        return out


@dataclass(frozen=True)
class Settings:
    """Knobs of the recommender; defaults are documented in docs/recommend.md."""

    k_prefixes: int = 5
    port_ranges: int = 5
    max_rules_per_proposal: int = 10
    public_min_peers: int = 20
    public_min_blocks: int = 4
    min_window_days: float = 14.0
    quota_per_family: int = 60
    max_cover_peers: int = 20_000
    exclude_groups: frozenset[str] = frozenset()
    exclude_rules: frozenset[str] = frozenset()
    #: --min-coverage, --max-prefix, --max-rules (flowlens.recommend.cover_limits); off by default.
    min_coverage: float = 0.0
    max_prefix: int | None = None
    max_rules_per_sg: int | None = None
    #: --history-days: the lookback of the rule histories behind the periodic wait (a monthly
    #: job needs more than the default to show three runs and the silence its removal needs).
    history_days: int = DEFAULT_HISTORY_DAYS

    def to_dict(self) -> dict[str, object]:
        return {
            "k_prefixes": self.k_prefixes,
            "port_ranges": self.port_ranges,
            "max_rules_per_proposal": self.max_rules_per_proposal,
            "public_min_peers": self.public_min_peers,
            "public_min_blocks": self.public_min_blocks,
            "min_window_days": self.min_window_days,
            "quota_per_family": self.quota_per_family,
            "max_cover_peers": self.max_cover_peers,
            "exclude_groups": sorted(self.exclude_groups),
            "exclude_rules": sorted(self.exclude_rules),
            "exclude_tag": EXCLUDE_TAG,
            **({"min_coverage": self.min_coverage} if self.min_coverage else {}),
            **({"max_prefix": self.max_prefix} if self.max_prefix is not None else {}),
            **(
                {"max_rules_per_sg": self.max_rules_per_sg}
                if self.max_rules_per_sg is not None
                else {}
            ),
            **(
                {"history_days": self.history_days}
                if self.history_days != DEFAULT_HISTORY_DAYS
                else {}
            ),
        }


def _covers(spans: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    """True when the union of the analysed windows covers [start, end)."""
    reached = start
    for lo, hi in sorted(spans):
        if lo > reached:
            return False
        reached = max(reached, hi)
    return reached >= end


def combine_usage(
    rows: Sequence[Mapping[str, Any]], start: datetime, end: datetime
) -> dict[str, Usage]:
    """One :class:`Usage` per rule from the window's rule_usage rows (one per analysed window).

    'used' anywhere wins; 'unused' needs every row unused *and* the rows' windows to cover the
    whole requested window (a day never analysed is a coverage gap); otherwise the first of
    no_coverage, unobservable, no_members that occurs.
    """
    by_rule: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_rule.setdefault(str(row["rule_id"]), []).append(row)
    return {rule_id: _combine_one(rs, start, end) for rule_id, rs in by_rule.items()}


def _combine_one(rows: Sequence[Mapping[str, Any]], start: datetime, end: datetime) -> Usage:
    statuses = [str(r["status"]) for r in rows]
    spans = [
        (r["window_start"], r["window_end"]) for r in rows if r["window_start"] and r["window_end"]
    ]
    reasons = list(dict.fromkeys(str(r["status_reason"]) for r in rows if r.get("status_reason")))
    status: RuleStatus
    if RuleStatus.USED in statuses:
        status = RuleStatus.USED
    elif all(s == RuleStatus.UNUSED for s in statuses) and _covers(spans, start, end):
        status = RuleStatus.UNUSED
    else:
        status = next((s for s in UNCERTAIN_ORDER if s in statuses), RuleStatus.NO_COVERAGE)
        if status == RuleStatus.NO_COVERAGE and RuleStatus.NO_COVERAGE not in statuses:
            reasons.append("the analysed windows do not cover the whole requested window")
    firsts = [r["first_seen"] for r in rows if r.get("first_seen")]
    lasts = [r["last_seen"] for r in rows if r.get("last_seen")]
    change, change_at = _latest_change(rows)
    return Usage(
        status,
        "; ".join(reasons),
        sum(int(r.get("flows") or 0) for r in rows),
        sum(int(r.get("connections") or 0) for r in rows),
        sum(int(r.get("sole_flows") or 0) for r in rows),
        min(firsts, default=None),
        max(lasts, default=None),
        *_existence(rows, change_at),
        change,
        change_at,
    )


def _latest_change(rows: Sequence[Mapping[str, Any]]) -> tuple[str | None, datetime | None]:
    """The last change of the rule inside the window (a deletion wins: the rule is gone)."""
    changes = [
        (r["change_at"], str(r["change"])) for r in rows if r.get("change") and r.get("change_at")
    ]
    changes += [
        (r["window_end"], str(r["change"]))
        for r in rows
        if r.get("change") and not r.get("change_at")
    ]
    if not changes:
        return None, None
    if any(c == "deleted" for _, c in changes):
        return "deleted", max(t for t, c in changes if c == "deleted")
    at, what = max(changes)
    return what, at


def _existence(
    rows: Sequence[Mapping[str, Any]], change_at: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """[from, to) of the latest content over the window's rows: not before its last change."""
    froms = [r["exists_from"] for r in rows if r.get("exists_from")]
    tos = [r["exists_to"] for r in rows if r.get("exists_to")]
    if not froms and change_at is None:
        return None, None
    lo = max([*([min(froms)] if froms else []), *([change_at] if change_at else [])])
    return lo, max(tos, default=None)
