"""Why a window listed no flow-log objects: the words ``ingest`` prints instead of a
silent "objects read 0".

It walks the source the way AWS lays it out (``<prefix>/AWSLogs/<account>/vpcflowlogs/<region>/
<yyyy>/<mm>/<dd>/``, or the Hive-style names) and says the first thing that does not fit: no
``AWSLogs/`` under SOURCE (with where one is, a level up or down), filters that excluded every
account, region or flow log seen, or no objects on the window's days (with the nearest days that
have some). Pure apart from listing the source it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flowlens.ingest.keys import AWSLOGS, account_dir, parse_key, region_name
from flowlens.ingest.source import Source

#: How many folders one level down are searched for an ``AWSLogs/`` (a prefix too shallow).
_MAX_PROBE = 50


def _join(prefix: str, child: str) -> str:
    return f"{prefix.strip('/')}/{child}" if prefix.strip("/") else child


def _awslogs_nearby(source: Source, prefix: str) -> str:
    """Where an ``AWSLogs/`` is relative to ``prefix`` (one level down, or in
    the prefix itself), or ""."""
    given = f"{source.description.rstrip('/')}/{prefix.strip('/')}".rstrip("/")
    parts = given.split("/")
    if AWSLOGS.rstrip("/") in parts:  # too deep: SOURCE already points inside AWSLogs/
        up = "/".join(parts[: len(parts) - 1 - parts[::-1].index(AWSLOGS.rstrip("/"))])
        return (
            f"SOURCE points inside AWSLogs/; give the folder that holds AWSLogs/ ({up}) as SOURCE"
        )
    for child in source.children(_join(prefix, ""))[:_MAX_PROBE]:
        if AWSLOGS in source.children(_join(prefix, child)):
            return (
                "AWSLogs/ is one level down, under "
                f"{_join(prefix, child).rstrip('/')}/: add it to SOURCE"
            )
    return ""


def _days_seen(source: Source, region_prefix: str, hive: bool) -> list[date]:
    """The days that have folders under one account/region (years → months → days)."""
    out = []
    for y in source.children(region_prefix):
        for m in source.children(region_prefix + y):
            for d in source.children(region_prefix + y + m):
                text = (
                    (y + m + d)
                    .replace("year=", "")
                    .replace("month=", "")
                    .replace("day=", "")
                    .rstrip("/")
                )
                try:
                    out.append(date(*(int(p) for p in text.split("/")[:3])))
                except (TypeError, ValueError):
                    continue
    return out


def _nearest(days: Sequence[date], window: Sequence[date]) -> str:
    if not days:
        return "no day folders at all"
    first, last = min(window), max(window)
    before = [d for d in days if d < first]
    after = [d for d in days if d > last]
    parts = []
    if before:
        parts.append(f"latest before: {max(before)}")
    if after:
        parts.append(f"earliest after: {min(after)}")
    return "; ".join(parts) or "none near it"


def explain_empty(
    source: Source,
    prefix: str,
    days: Sequence[date],
    *,
    accounts: set[str] | None = None,
    regions: set[str] | None = None,
    flow_log_ids: set[str] | None = None,
) -> str:
    """One sentence on why no object of ``days`` was listed under ``prefix``."""
    root = _join(prefix, AWSLOGS)
    where = f"{source.description}/{root}"
    children = source.children(root)
    if not children:
        near = _awslogs_nearby(source, prefix)
        return f"no AWSLogs/ under {source.description}/{prefix.strip('/')}" + (
            f"; {near}"
            if near
            else "; SOURCE must be the flow logs' S3 destination (the folder that holds AWSLogs/)"
        )
    seen_accounts = {a.account_id: a for a in (account_dir(c) for c in children) if a is not None}
    if not seen_accounts:
        return (
            f"{where} holds no account folders (found: "
            f"{', '.join(c.rstrip('/') for c in children[:5])})"
        )
    kept = {k: a for k, a in seen_accounts.items() if not accounts or k in accounts}
    if not kept:
        return (
            f"--account {', '.join(sorted(accounts or ()))} excluded every account under {where}; "
            f"it holds {', '.join(sorted(seen_accounts))}"
        )
    region_dirs: list[tuple[str, str, bool]] = []  # (region, its prefix, hive)
    for acct in kept.values():
        for child in source.children(root + acct.path):
            region = region_name(child, acct.hive)
            if region:
                region_dirs.append((region, root + acct.path + child, acct.hive))
    if not region_dirs:
        return (
            "no region folders under the vpcflowlogs/ folder of "
            f"{', '.join(sorted(kept))} in {where}"
        )
    wanted = [r for r in region_dirs if not regions or r[0] in regions]
    if not wanted:
        return (
            f"--region {', '.join(sorted(regions or ()))} excluded every region under {where}; "
            f"it holds {', '.join(sorted({r[0] for r in region_dirs}))}"
        )
    if flow_log_ids:
        ids = _flow_logs_on(source, wanted, days)
        if ids and not ids & flow_log_ids:
            return (
                f"--flow-log-id {', '.join(sorted(flow_log_ids))} excluded every object of the "
                f"window; its objects are from {', '.join(sorted(ids))}"
            )
    seen = sorted({d for _r, rp, hive in wanted for d in _days_seen(source, rp, hive)})
    span = str(min(days)) if len(set(days)) == 1 else f"{min(days)}..{max(days)}"
    regions_text = ", ".join(sorted({r[0] for r in wanted}))
    return (
        f"no flow-log objects for {span} under {where} (accounts {', '.join(sorted(kept))}, "
        f"regions {regions_text}); nearest days with objects: {_nearest(seen, days)}"
    )


def _flow_logs_on(
    source: Source, wanted: Sequence[tuple[str, str, bool]], days: Sequence[date]
) -> set[str]:
    ids: set[str] = set()
    for _region, rp, hive in wanted:
        for d in days:
            folder = (
                f"{rp}year={d:%Y}/month={d:%m}/day={d:%d}/"
                if hive
                else f"{rp}{d:%Y}/{d:%m}/{d:%d}/"
            )
            for obj in source.list(folder):
                key = parse_key(obj.key)
                if key is not None:
                    ids.add(key.flow_log_id)
    return ids
