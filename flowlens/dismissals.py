"""A reviewer's dismissals: "leave this rule alone", remembered across runs
(``state/dismissals.parquet``).

A dismissal is keyed by the rule's content (:func:`content_key`: group, direction, protocol,
ports and peer), not by its id, so it survives re-runs, re-imports and rule-id changes (a rule
re-created with the same content is still dismissed), and it lapses by itself when the rule's
content changes: the changed rule has another key, so the recommender judges it afresh. A
dismissal with ``until`` holds through that day (UTC) and is expired after it.

:func:`active_reasons` is what the recommender reads; the rest is the ``dismiss`` /
``dismissals`` commands' I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from flowlens import arrays, sqlfiles
from flowlens.atomic import write_parquet_atomic
from flowlens.catalog import refresh_catalog, register_views
from flowlens.datadir import DataDir
from flowlens.errors import InputError, UsageError
from flowlens.lock import writer_lock
from flowlens.model.net import Rule, SgRule, derived_rule_id
from flowlens.model.state import DISMISSALS_SCHEMA, content_key

log = logging.getLogger(__name__)

TABLE = "dismissals"


class DismissalState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"  # its --until day has passed
    LAPSED = "lapsed"  # no rule of the newest snapshot has this content any more


@dataclass(frozen=True)
class Dismissal:
    content_key: str
    rule_id: str  # the id the rule had when dismissed
    group_id: str
    rule: Rule
    reason: str
    dismissed_by: str
    dismissed_at: datetime
    until: date | None = None
    finding_id: str | None = None

    def state(self, today: date, current_keys: Iterable[str] | None = None) -> DismissalState:
        if self.until is not None and today > self.until:
            return DismissalState.EXPIRED
        if current_keys is not None and self.content_key not in set(current_keys):
            return DismissalState.LAPSED
        return DismissalState.ACTIVE

    def kept_reason(self) -> str:
        """What the plan says of the rule it leaves alone."""
        until = f" until {self.until}" if self.until else ""
        return (
            f"dismissed by {self.dismissed_by} on "
            f"{self.dismissed_at.astimezone(UTC):%Y-%m-%d}{until}, reason: {self.reason}"
        )

    def to_row(self) -> dict[str, object]:
        r = self.rule
        return {
            "content_key": self.content_key,
            "rule_id": self.rule_id,
            "group_id": self.group_id,
            "direction": str(r.direction),
            "ip_protocol": r.ip_protocol,
            "from_port": r.from_port,
            "to_port": r.to_port,
            "peer_type": str(r.peer_type),
            "peer": r.peer,
            "finding_id": self.finding_id,
            "reason": self.reason,
            "dismissed_by": self.dismissed_by,
            "dismissed_at": self.dismissed_at,
            "until": self.until,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Dismissal:
        sg_rule = SgRule.from_row(row)
        return cls(
            str(row["content_key"]),
            sg_rule.rule_id,
            sg_rule.group_id,
            sg_rule.rule,
            str(row["reason"]),
            str(row["dismissed_by"]),
            row["dismissed_at"],
            row["until"],
            None if row["finding_id"] is None else str(row["finding_id"]),
        )


def load(dd: DataDir) -> list[Dismissal]:
    path = dd.state_table(TABLE)
    if not path.exists():
        return []
    try:
        rows = pq.read_table(path).to_pylist()
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"{path}: cannot read the dismissals table ({exc})") from None
    return [Dismissal.from_row(r) for r in rows]


def save(dd: DataDir, dismissals: Sequence[Dismissal]) -> None:
    table = arrays.table_from_rows([d.to_row() for d in dismissals], schema=DISMISSALS_SCHEMA)
    write_parquet_atomic(table, dd.state_table(TABLE))
    refresh_catalog(dd)


def active_reasons(dismissals: Iterable[Dismissal], today: date) -> dict[str, str]:
    """content_key → the kept reason, for the dismissals that hold on ``today``."""
    return {
        d.content_key: d.kept_reason()
        for d in dismissals
        if d.state(today) is DismissalState.ACTIVE
    }


def _lookup(dd: DataDir, target: str) -> tuple[SgRule, str | None]:
    """The rule a dismissal names: a rule id of the newest snapshot, or a
    finding that names a rule."""
    if not dd.snapshots():
        raise InputError(f"{dd.inventory}: no inventory snapshot; run 'flowlens inventory' first")
    con = duckdb.connect()
    try:
        register_views(con, dd)
        finding_id = None
        rule_id = target
        if not target.startswith("sgr-"):
            found = sqlfiles.execute(
                con, sqlfiles.load("state", "finding_rule"), {"finding_id": target}
            ).fetchall()
            if not found:
                raise UsageError(
                    f"{target!r} is neither a rule id (sgr-...) of the newest "
                    "snapshot nor a finding id"
                )
            if not found[0][0]:
                raise UsageError(
                    f"finding {target} names no rule; dismissals are kept per rule "
                    "(dismiss one of its rules)"
                )
            finding_id, rule_id = target, str(found[0][0])
        rows = sqlfiles.rows(con, sqlfiles.load("state", "rule_by_id"), {"rule_id": rule_id})
    finally:
        con.close()
    if not rows:
        raise UsageError(
            f"rule {rule_id} is not in the newest inventory snapshot ({dd.snapshots()[-1]})"
        )
    return SgRule.from_row(rows[0]), finding_id


def dismiss(
    dd: DataDir,
    target: str,
    reason: str,
    *,
    by: str,
    until: date | None = None,
    now: datetime | None = None,
) -> Dismissal:
    """Record that ``target`` (a rule id or a finding naming a rule) is to be left alone.

    Dismissing a rule again replaces its dismissal (new reason, new end).
    """
    if not reason.strip():
        raise UsageError("--reason must say why (it is shown wherever the rule is kept)")
    now = now or datetime.now(UTC)
    if until is not None and until < now.date():
        raise UsageError(f"--until {until} is in the past")
    # Under the writer lock like every other writer of the data dir: the table is read, changed
    # and rewritten, and a concurrent dismiss would otherwise lose one of the two decisions.
    with writer_lock(dd, "dismiss"):
        sg_rule, finding_id = _lookup(dd, target)
        d = Dismissal(
            content_key(sg_rule.group_id, sg_rule.rule),
            sg_rule.rule_id,
            sg_rule.group_id,
            sg_rule.rule,
            reason.strip(),
            by,
            now,
            until,
            finding_id,
        )
        kept = [x for x in load(dd) if x.content_key != d.content_key]
        save(dd, [*kept, d])
    log.info("dismissed %s (%s): %s", sg_rule.rule_id, d.content_key, d.reason)
    return d


def remove(dd: DataDir, keys: Iterable[str]) -> list[Dismissal]:
    """Remove the dismissals named by content key or by rule id; returns the removed ones."""
    wanted = set(keys)
    with writer_lock(dd, "dismissals --remove"):
        current = load(dd)
        gone = [d for d in current if d.content_key in wanted or d.rule_id in wanted]
        missing = wanted - {d.content_key for d in gone} - {d.rule_id for d in gone}
        if missing:
            raise UsageError(
                f"no dismissal for {', '.join(sorted(missing))}; 'flowlens dismissals' lists them"
            )
        save(dd, [d for d in current if d not in gone])
    return gone


def current_keys(dd: DataDir) -> set[str]:
    """The content keys of the newest snapshot's rules (a dismissal whose
    key is absent has lapsed)."""
    if not dd.snapshots():
        return set()
    con = duckdb.connect()
    try:
        register_views(con, dd)
        rows = sqlfiles.execute(con, sqlfiles.load("state", "rule_contents")).fetchall()
    finally:
        con.close()
    return {derived_rule_id(g, d, int(p), lo, hi, peer) for g, d, p, lo, hi, peer in rows}
