"""What the report shows of staged plans and reviewers' dismissals, read from the catalog.

* Each plan verified by ``flowlens verify`` (the ``plan_verifications`` table): its latest
  verification as of the window's last day, with the recommendations that block it, one
  example flow each and, where the example's day is still analysed, the id of a conversation
  it describes (for ``flowlens explain --conversation-id``).
* Each dismissal of the ``dismissals`` table with its state today, as the recommender judges it
  (active, expired, or lapsed when no rule of the snapshot has its content any more) and the
  rule of the snapshot it holds for.

Plain data; nothing here formats.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from flowlens import sqlfiles
from flowlens.dismissals import Dismissal, DismissalState
from flowlens.errors import InputError
from flowlens.model.net import SgRule
from flowlens.model.state import content_key
from flowlens.verify.record import Example

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Blocking:
    """A recommendation that blocks a staged plan, with the first flow it would cut."""

    rule_id: str
    example: Example | None
    conversation_id: str | None = None  # a conversation the example describes, when still analysed


@dataclass(frozen=True)
class StagedPlan:
    """A plan's latest verification as of the report's window."""

    plan_path: str
    status: str  # pending | ready | blocked
    verified_at: datetime
    first_day: date
    last_day: date
    days_verified: int
    clean_days: int
    flows_checked: int
    flows_cut: int
    flows_unattributed: int
    flows_unattributed_protected: int
    blocking: tuple[Blocking, ...] = ()
    min_window_days: float | None = None  # from the record beside the plan, when readable


@dataclass(frozen=True)
class DismissedRule:
    """A dismissal and what it means today (the day the report is made)."""

    dismissal: Dismissal
    state: DismissalState
    current_rule_id: str | None  # the snapshot's rule with the dismissed content, if any


@dataclass(frozen=True)
class Staged:
    plans: tuple[StagedPlan, ...] = ()
    dismissed: tuple[DismissedRule, ...] = ()


def load_staged(
    con: duckdb.DuckDBPyConnection, last_day: date, rules: Sequence[SgRule], today: date
) -> Staged:
    """Staged plans as of ``last_day``; each dismissal on ``today`` against the snapshot rules."""
    return Staged(_plans(con, last_day), _dismissed(con, today, rules))


def _plans(con: duckdb.DuckDBPyConnection, last_day: date) -> tuple[StagedPlan, ...]:
    rows = sqlfiles.rows(con, sqlfiles.load("report", "plan_verifications"), {"end_date": last_day})
    return tuple(_plan(con, r) for r in rows)


def _plan(con: duckdb.DuckDBPyConnection, r: Mapping[str, Any]) -> StagedPlan:
    where = f"plan_verifications row of {r['plan_path']}"
    rule_ids = [x for x in str(r["blocking_rules"] or "").split(",") if x]
    examples = [Example.from_dict(e) for e in _json_list(r["examples"], where)]
    # verify writes the first example of each blocking rule, in the order of blocking_rules
    paired = examples if len(examples) == len(rule_ids) else [None] * len(rule_ids)
    blocking = tuple(
        Blocking(rid, ex, _conversation_of(con, ex) if ex is not None else None)
        for rid, ex in zip(rule_ids, paired, strict=True)
    )
    return StagedPlan(
        str(r["plan_path"]),
        str(r["status"]),
        r["verified_at"],
        r["first_day"],
        r["last_day"],
        int(r["days_verified"] or 0),
        int(r["clean_days"] or 0),
        int(r["flows_checked"] or 0),
        int(r["flows_cut"] or 0),
        int(r["flows_unattributed"] or 0),
        int(r["flows_unattributed_protected"] or 0),
        blocking,
        _min_window_days(r["record_path"], str(r["plan_id"])),
    )


def _json_list(text: Any, where: str) -> list[Mapping[str, Any]]:
    if not text:
        return []
    try:
        value = json.loads(str(text))
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: examples is not valid JSON ({exc.msg})") from None
    if not isinstance(value, list):
        raise InputError(f"{where}: examples is not a JSON array")
    return [v for v in value if isinstance(v, Mapping)]


def _conversation_of(con: duckdb.DuckDBPyConnection, ex: Example) -> str | None:
    found = sqlfiles.rows(
        con,
        sqlfiles.load("report", "example_conversation"),
        {
            "day": ex.day,
            "eni_id": ex.eni_id,
            "direction": ex.direction,
            "protocol": ex.protocol,
            "peer": ex.peer,
            "port": ex.port,
        },
    )
    return str(found[0]["conversation_id"]) if found else None


def _min_window_days(record_path: Any, plan_id: str) -> float | None:
    """The clean days the plan needs, from its record (None: the record is gone or another's)."""
    if not record_path:
        return None
    try:
        doc = json.loads(Path(str(record_path)).read_text(encoding="utf-8"))
        if doc.get("plan_id") != plan_id:
            return None
        return float(doc["min_window_days"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.debug("no min_window_days from %s: %s", record_path, exc)
        return None


def _dismissed(
    con: duckdb.DuckDBPyConnection, today: date, rules: Sequence[SgRule]
) -> tuple[DismissedRule, ...]:
    current = {content_key(r.group_id, r.rule): r.rule_id for r in rules}
    out = []
    for row in sqlfiles.rows(con, sqlfiles.load("report", "dismissals")):
        d = Dismissal.from_row(row)
        out.append(DismissedRule(d, d.state(today, current), current.get(d.content_key)))
    return tuple(out)
