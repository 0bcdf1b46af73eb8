"""The organisation page: every account of the snapshot side by side, worst first.

Written by ``flowlens run`` beside the report when the inventory holds more than one account
(``accounts.md`` and ``accounts.json``): per account its security groups, its rules by status,
its findings and the plan's recommendations for it, with the path of its own plan.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from flowlens import sqlfiles
from flowlens.atomic import write_text_atomic
from flowlens.catalog import register_views
from flowlens.datadir import DataDir


@dataclass(frozen=True)
class AccountRow:
    account_id: str
    security_groups: int
    rules: int
    used: int
    unused: int
    no_coverage: int
    unobservable: int
    no_members: int
    findings: int
    severe_findings: int
    recommendations: int = 0
    plan: str = ""


def account_rows(
    dd: DataDir, days: Sequence[date], plan: Mapping[str, Any] | None = None
) -> list[AccountRow]:
    """The accounts of the latest snapshot, worst first (sql/report/accounts.sql)."""
    con = duckdb.connect()
    try:
        register_views(con, dd)
        query = sqlfiles.load("report", "accounts")
        cur = sqlfiles.execute(con, query, {"start_date": min(days), "end_date": max(days)})
        names = [d[0] for d in cur.description]
        found = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    recs: dict[str, int] = {}
    for r in (plan or {}).get("recommendations") or []:
        key = str(r.get("account_id") or "unknown")
        recs[key] = recs.get(key, 0) + 1
    return [_row(row, recs.get(str(row["account_id"]), 0)) for row in found]


def _row(row: Mapping[str, Any], recommendations: int) -> AccountRow:
    return AccountRow(
        account_id=str(row["account_id"]),
        security_groups=int(row["security_groups"]),
        rules=int(row["rules"]),
        used=int(row["used"]),
        unused=int(row["unused"]),
        no_coverage=int(row["no_coverage"]),
        unobservable=int(row["unobservable"]),
        no_members=int(row["no_members"]),
        findings=int(row["findings"]),
        severe_findings=int(row["severe_findings"]),
        recommendations=recommendations,
    )


def render_md(rows: Sequence[AccountRow], days: Sequence[date]) -> str:
    span = f"{min(days)}" if len(set(days)) == 1 else f"{min(days)} .. {max(days)}"
    lines = [
        f"# Organisation: {len(rows)} accounts, {span}",
        "",
        "Worst first: high or critical findings, then unused rules, then rules without coverage.",
        "",
        "| account | SGs | rules | used | unused | no coverage | unobservable | no members "
        "| findings | high+ | recommendations | plan |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.account_id} | {r.security_groups} | {r.rules} | {r.used} | {r.unused} "
            f"| {r.no_coverage} | {r.unobservable} | {r.no_members} | {r.findings} "
            f"| {r.severe_findings} | {r.recommendations} | {r.plan or '-'} |"
        )
    return "\n".join(lines) + "\n"


def write_accounts(
    dd: DataDir,
    days: Sequence[date],
    out_dir: Path,
    plan: Mapping[str, Any] | None = None,
    account_plans: Mapping[str, str] | None = None,
) -> list[AccountRow]:
    """``accounts.md`` and ``accounts.json`` in ``out_dir``; nothing for a single account."""
    rows = account_rows(dd, days, plan)
    if len(rows) <= 1:
        return rows
    plans = dict(account_plans or {})
    rows = [AccountRow(**{**asdict(r), "plan": plans.get(r.account_id, "")}) for r in rows]
    write_text_atomic(render_md(rows, days), out_dir / "accounts.md")
    doc = {"days": [d.isoformat() for d in days], "accounts": [asdict(r) for r in rows]}
    write_text_atomic(json.dumps(doc, indent=2) + "\n", out_dir / "accounts.json")
    return rows
