"""Ingest planning: which objects of the source hold records of the window,
and what to read of each.

Listing walks ``AWSLogs/<account>/vpcflowlogs/<region>/<day>/`` for the window's days (with
delivery slack); the manifest says what earlier runs already took. Pure apart from listing the
source it is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from flowlens.ingest import manifest as mf
from flowlens.ingest.keys import (
    FlowKey,
    account_dir,
    day_prefixes,
    in_listing_range,
    listing_days,
    parse_key,
    region_name,
    root_prefix,
)
from flowlens.ingest.source import Source, SourceObject
from flowlens.model.window import Window

DEFAULT_SLACK = timedelta(hours=1)
#: A task (one worker's unit) is consecutive objects of about this many source bytes...
TASK_BYTES = 4 << 20
TASK_OBJECTS = 256


@dataclass(frozen=True)
class Planned:
    obj: SourceObject
    key: FlowKey
    intervals: tuple[tuple[int, int], ...]  # end-time intervals to take from it in this run
    first_read: bool  # first read of this ETag: bad lines are quarantined now


def discover(
    source: Source, root: str, accounts: set[str] | None, regions: set[str] | None
) -> Iterator[tuple[str, str, str, bool]]:
    """``(account_id, account_path, region_dir, hive)`` for every account/region folder wanted."""
    for child in source.children(root):
        acct = account_dir(child)
        if acct is None or (accounts and acct.account_id not in accounts):
            continue
        for rchild in source.children(root + acct.path):
            region = region_name(rchild, acct.hive)
            if region and (not regions or region in regions):
                yield acct.account_id, acct.path, acct.region_dir(region), acct.hive


def list_window(
    source: Source,
    prefix: str,
    window: Window,
    slack: timedelta,
    *,
    accounts: set[str] | None,
    regions: set[str] | None,
    flow_log_ids: set[str] | None,
) -> tuple[list[tuple[SourceObject, FlowKey]], int]:
    """Flow-log objects whose time bin can hold records of ``window`` (and
    the count of ignored keys)."""
    root = root_prefix(prefix)
    found, ignored = [], 0
    for _acct, apath, rdir, hive in discover(source, root, accounts, regions):
        for day in listing_days(window, slack):
            folder = day_prefixes(root, apath, rdir, day, hive)
            for obj in source.list(folder):
                key = parse_key(obj.key)
                if key is None:
                    ignored += 1
                    continue
                if flow_log_ids and key.flow_log_id not in flow_log_ids:
                    continue
                if in_listing_range(key, window, slack):
                    found.append((obj, key))
    return found, ignored


def plan(
    found: list[tuple[SourceObject, FlowKey]], entries: dict[str, mf.ManifestEntry], window: Window
) -> tuple[list[Planned], int, list[str]]:
    """What to read: ``(planned, skipped, changed keys)``."""
    ws, we = int(window.start.timestamp()), int(window.end.timestamp())
    planned, skipped, changed = [], 0, []
    for obj, key in found:
        e = entries.get(obj.key)
        if e is not None and e.etag == obj.etag and e.status == "ingested":
            todo = mf.uncovered(e.covered, ws, we)
            if not todo:
                skipped += 1
                continue
            planned.append(Planned(obj, key, tuple(todo), False))
            continue
        if e is not None and e.etag != obj.etag and e.files:
            changed.append(obj.key)
        planned.append(Planned(obj, key, ((ws, we),), True))
    return planned, skipped, changed


def tasks(
    planned: list[Planned], task_bytes: int = TASK_BYTES, task_objects: int = TASK_OBJECTS
) -> list[list[Planned]]:
    """Consecutive objects grouped into tasks of about ``task_bytes`` (source bytes) each."""
    out: list[list[Planned]] = []
    size = 0
    for p in planned:
        if not out or size >= task_bytes or len(out[-1]) >= task_objects:
            out.append([])
            size = 0
        out[-1].append(p)
        size += p.obj.size
    return out
