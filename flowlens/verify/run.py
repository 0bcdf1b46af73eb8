"""``verify``: replay later analysed days against a plan with the recommender's
replay, record the result.

Each day is judged as the recommender judges its own window (:mod:`flowlens.recommend.pipeline`):
the rules of the newest snapshot of that day's timeline, the memberships at each flow's time,
ENIs that no snapshot places protected in every group of their VPC, and the SQL replay of
:class:`~flowlens.recommend.sql_observations.SqlObservations` with the plan's changes (the rules
the plan does not touch stay as they are). The record is written beside the plan
(:func:`record_path`) and a row per run is appended to the ``plan_verifications`` table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from flowlens import arrays
from flowlens.atomic import write_parquet_atomic, write_text_atomic
from flowlens.catalog import refresh_catalog, register_views
from flowlens.datadir import DataDir
from flowlens.errors import AnalysisError, InputError
from flowlens.inventory.timeline import load_timeline
from flowlens.lock import writer_lock
from flowlens.model.plan import Plan
from flowlens.model.state import PLAN_VERIFICATIONS_SCHEMA
from flowlens.model.window import Window
from flowlens.recommend.history import with_unplaced
from flowlens.recommend.inputs import Observed, Settings
from flowlens.recommend.pipeline import load_inventory, load_unplaced, with_history
from flowlens.recommend.sql_observations import SqlObservations
from flowlens.verify.record import KIND, CutRule, DayResult, Example, Record

log = logging.getLogger(__name__)

TABLE = "plan_verifications"


@dataclass(frozen=True)
class LoadedPlan:
    path: Path
    plan: Plan
    plan_id: str


def record_path(plan_path: Path) -> Path:
    """Where a plan's verification record lives: ``plan.json`` → ``plan.verification.json``."""
    return plan_path.with_name(f"{plan_path.stem}.verification.json")


def load_plan(path: Path) -> LoadedPlan:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the plan ({exc.strerror or exc})") from None
    return LoadedPlan(
        path, Plan.from_json(text, where=str(path)), hashlib.sha256(text.encode()).hexdigest()[:16]
    )


def load_record(lp: LoadedPlan, min_window_days: float) -> Record:
    """The plan's record so far; a fresh one when there is none or it belongs to another plan."""
    path = record_path(lp.path)
    recs = {r.rule_id: (r.group_id, r.kind.value) for r in lp.plan.recommendations}
    fresh = Record(
        lp.path.name,
        lp.plan_id,
        (lp.plan.window_start, lp.plan.window_end),
        min_window_days,
        (),
        recs,
    )
    if not path.exists():
        return fresh
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("kind") != KIND:
            raise ValueError(f"kind is not {KIND!r}")
        old = Record.from_dict(doc)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{path}: not a verification record ({type(exc).__name__}: {exc}); move it away"
        ) from None
    if old.plan_id != lp.plan_id:
        log.warning(
            "%s: the plan changed since its last verification; starting a fresh record", lp.path
        )
        return fresh
    return replace(old, min_window_days=min_window_days, recs=recs)


def _analysed(dd: DataDir, day: date) -> bool:
    return (dd.results_dir(day) / "conversations.parquet").exists()


def replay_day(dd: DataDir, plan: Plan, day: date, *, memory_limit: str = "1GB") -> DayResult:
    """One day replayed against the plan's changes, as the recommender replays its window."""
    if not _analysed(dd, day):
        raise AnalysisError(
            f"{day}: not analysed; run 'flowlens analyze --date {day}' before verifying it"
        )
    if not dd.snapshots():
        raise InputError(f"{dd.inventory}: no inventory snapshot; run 'flowlens inventory' first")
    window = Window.day(day)
    tl = load_timeline(dd, window.start, window.end)
    with tempfile.TemporaryDirectory(prefix="flowlens-verify-") as spill:
        con = duckdb.connect(
            config={"memory_limit": memory_limit, "temp_directory": spill, "threads": 2}
        )
        try:
            register_views(con, dd, snapshot=tl.latest.stamp if tl.latest else None, accounts=False)
            inv = with_history(load_inventory(con), tl)
            inv = replace(inv, history=with_unplaced(inv.timeline(), load_unplaced(con, [day])))
            present = {r.rule_id for r in inv.rules}
            changes = {r.rule_id: r.proposed for r in plan.recommendations if r.rule_id in present}
            missing = tuple(
                sorted(r.rule_id for r in plan.recommendations if r.rule_id not in present)
            )
            obs = SqlObservations.from_catalog(
                con, inv, day, day, max_peers=Settings().max_cover_peers
            )
            res = obs.replay(changes)
        finally:
            con.close()
    cuts = tuple(
        CutRule(rid, c.flows, c.connections, _example(day, c.example))
        for rid, c in sorted(res.cuts.items())
    )
    return DayResult(
        day,
        res.flows_checked,
        res.flows_cut,
        res.flows_unattributed,
        res.flows_unattributed_protected,
        tl.latest.taken_at if tl.latest else None,
        cuts,
        missing,
    )


def _example(day: date, ob: Observed) -> Example:
    f = ob.flow
    return Example(
        day,
        ob.eni_id,
        str(f.direction),
        f.protocol,
        f.peer_addr,
        f.port,
        ob.flows,
        ob.first_seen,
        ob.last_seen,
        ob.unattributed,
    )


def verify(
    dd: DataDir,
    plan_path: str | Path,
    days: Sequence[date],
    *,
    min_window_days: float | None = None,
    now: datetime | None = None,
    memory_limit: str = "1GB",
) -> Record:
    """Replay ``days`` against the plan, write its record beside it and a
    ``plan_verifications`` row.

    Days inside the plan's own window are not new evidence and are refused. ``min_window_days``
    defaults to the plan's own setting (that of the recommend run that made it).
    """
    lp = load_plan(Path(plan_path))
    inside = [d for d in days if Window.day(d).start < lp.plan.window_end]
    if inside:
        raise InputError(
            f"{lp.path}: {', '.join(map(str, inside))} is inside the plan's window "
            f"(ends {lp.plan.window_end:%Y-%m-%d %H:%M} UTC); verify the days after it"
        )
    minimum = float(
        min_window_days
        if min_window_days is not None
        else lp.plan.settings.get("min_window_days", Settings.min_window_days)
    )
    # The record and the plan_verifications table are read, extended and rewritten: under the
    # writer lock, as every writer of the data dir, so two verifies never lose each other's days.
    with writer_lock(dd, "verify"):
        record = load_record(lp, minimum)
        results = [replay_day(dd, lp.plan, d, memory_limit=memory_limit) for d in sorted(set(days))]
        now = now or datetime.now(UTC)
        record = record.with_days(results, now)
        out = record_path(lp.path)
        write_text_atomic(json.dumps(record.to_dict(), indent=2) + "\n", out)
        _append_row(dd, record, lp, out, results, now)
    log.info("%s: %s", lp.path, record.status_reason())
    return record


def _append_row(
    dd: DataDir,
    record: Record,
    lp: LoadedPlan,
    out: Path,
    results: Sequence[DayResult],
    now: datetime,
) -> None:
    path = dd.state_table(TABLE)
    rows = pq.read_table(path).to_pylist() if path.exists() else []
    blockers = record.blockers()
    rows.append(
        {
            "plan_path": str(lp.path.resolve()),
            "plan_id": lp.plan_id,
            "verified_at": now,
            "first_day": min(r.day for r in results),
            "last_day": max(r.day for r in results),
            "days_verified": len(record.days),
            "clean_days": record.clean_days,
            **record.totals(),
            "status": record.status.value,
            "blocking_rules": ",".join(b.rule_id for b in blockers),
            "examples": json.dumps([e.to_dict() for b in blockers for e in b.examples[:1]]),
            "record_path": str(out.resolve()),
        }
    )
    write_parquet_atomic(arrays.table_from_rows(rows, schema=PLAN_VERIFICATIONS_SCHEMA), path)
    refresh_catalog(dd)


def plan_status(plan_path: Path) -> tuple[str, str]:
    """(status, reason) of a plan from the record beside it; ``pending`` when never verified."""
    path = record_path(plan_path)
    if not path.exists():
        return (
            "pending",
            f"never verified: no {path.name} beside the plan; run 'flowlens "
            f"verify {plan_path} --date D'",
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        status, reason = str(doc["status"]), str(doc.get("status_reason") or "")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return "pending", f"{path}: unreadable verification record ({type(exc).__name__})"
    plan_id = hashlib.sha256(plan_path.read_bytes()).hexdigest()[:16]
    if doc.get("plan_id") != plan_id:
        return "pending", f"{path.name} verified another version of the plan; verify this one"
    return status, reason


def plan_files(directory: Path) -> list[Path]:
    """The plan JSON files of a directory (records and rollback files left out)."""
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory of plans")
    out = []
    for p in sorted(directory.glob("*.json")):
        if p.name.endswith(".verification.json") or ".rollback-" in p.name:
            continue
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and "recommendations" in doc:
            out.append(p)
    return out
