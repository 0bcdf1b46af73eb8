"""The organisation: every account of the snapshot side by side, worst first, and its own report.

Written by ``flowlens report`` and ``flowlens run`` beside the report when the inventory holds
more than one account: ``accounts.html``, ``accounts.md`` and ``accounts.json`` (per account its
security groups, its rules by status, its findings and the plan's recommendations for it, with
its own plan and report, and the rules that reference a group of another account), and per
account the whole report of that account alone in ``accounts/<id>/`` (:func:`write_organisation`).
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
from flowlens.model.plan import Plan
from flowlens.recommend.by_account import for_account
from flowlens.report.accounts_page import render_html, span

#: The account of groups the inventory did not place in one (sql/report/accounts.sql).
UNKNOWN = "unknown"


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
    report: str = ""  # the account's report.html, relative to the organisation's page


@dataclass(frozen=True)
class CrossReference:
    """A rule whose peer is a security group of another account (sql/report/cross_account.sql)."""

    account_id: str
    group_id: str
    rule_id: str
    direction: str
    peer: str
    peer_account_id: str
    peer_inventoried: bool
    status: str
    flows: int
    status_reason: str


def _query(
    dd: DataDir, name: str, days: Sequence[date], snapshot: str | None = None
) -> list[dict[str, Any]]:
    con = duckdb.connect()
    try:
        register_views(con, dd, snapshot=snapshot)
        query = sqlfiles.load("report", name)
        cur = sqlfiles.execute(con, query, {"start_date": min(days), "end_date": max(days)})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def account_rows(
    dd: DataDir,
    days: Sequence[date],
    plan: Mapping[str, Any] | None = None,
    snapshot: str | None = None,
) -> list[AccountRow]:
    """The accounts of ``snapshot`` (default: the latest), worst first (sql/report/accounts.sql)."""
    found = _query(dd, "accounts", days, snapshot)
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


def cross_references(
    dd: DataDir, days: Sequence[date], snapshot: str | None = None
) -> list[CrossReference]:
    """Rules referencing a group of another account, with their latest status of the window."""
    return [
        CrossReference(
            account_id=str(r["account_id"]),
            group_id=str(r["group_id"]),
            rule_id=str(r["rule_id"]),
            direction=str(r["direction"]),
            peer=str(r["peer"]),
            peer_account_id=str(r["peer_account_id"]),
            peer_inventoried=bool(r["peer_inventoried"]),
            status=str(r["status"] or "not analysed"),
            flows=int(r["flows"] or 0),
            status_reason=str(r["status_reason"] or ""),
        )
        for r in _query(dd, "cross_account", days, snapshot)
    ]


def render_md(
    rows: Sequence[AccountRow], days: Sequence[date], refs: Sequence[CrossReference] = ()
) -> str:
    lines = [
        f"# Organisation: {len(rows)} accounts, {span(days)}",
        "",
        "Worst first: high or critical findings, then unused rules, then rules without coverage.",
        "",
        "| account | SGs | rules | used | unused | no coverage | unobservable | no members "
        "| findings | high+ | recommendations | plan | report |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        report = r.report.removesuffix("report.html") + "summary.md" if r.report else "-"
        lines.append(
            f"| {r.account_id} | {r.security_groups} | {r.rules} | {r.used} | {r.unused} "
            f"| {r.no_coverage} | {r.unobservable} | {r.no_members} | {r.findings} "
            f"| {r.severe_findings} | {r.recommendations} | {r.plan or '-'} | {report} |"
        )
    if refs:
        lines += [
            "",
            "## References to groups of other accounts",
            "",
            "| account | group | rule | direction | peer group | peer account | status | flows "
            "| why |",
            "|---|---|---|---|---|---|---|---:|---|",
        ]
        lines += [
            f"| {x.account_id} | {x.group_id} | {x.rule_id} | {x.direction} | {x.peer} "
            f"| {x.peer_account_id}{'' if x.peer_inventoried else ' (not inventoried)'} "
            f"| {x.status} | {x.flows} | {x.status_reason or '-'} |"
            for x in refs
        ]
    return "\n".join(lines) + "\n"


def write_accounts(
    dd: DataDir,
    days: Sequence[date],
    out_dir: Path,
    plan: Mapping[str, Any] | None = None,
    account_plans: Mapping[str, str] | None = None,
    reports: Mapping[str, str] | None = None,
    snapshot: str | None = None,
) -> list[AccountRow]:
    """``accounts.html``, ``accounts.md`` and ``accounts.json`` in ``out_dir``; nothing for a
    single account. ``reports``: account → its report.html relative to ``out_dir``."""
    rows = account_rows(dd, days, plan, snapshot)
    if len(rows) <= 1:
        return rows
    plans, pages = dict(account_plans or {}), dict(reports or {})
    rows = [
        AccountRow(
            **{
                **asdict(r),
                "plan": plans.get(r.account_id, ""),
                "report": pages.get(r.account_id, ""),
            }
        )
        for r in rows
    ]
    refs = cross_references(dd, days, snapshot)
    write_text_atomic(render_md(rows, days, refs), out_dir / "accounts.md")
    write_text_atomic(render_html(rows, days, refs, out_dir), out_dir / "accounts.html")
    doc = {
        "days": [d.isoformat() for d in days],
        "accounts": [asdict(r) for r in rows],
        "cross_account_references": [asdict(x) for x in refs],
    }
    write_text_atomic(json.dumps(doc, indent=2) + "\n", out_dir / "accounts.json")
    return rows


def account_plan(doc: Mapping[str, Any], account: str, where: str = "plan") -> dict[str, Any]:
    """The part of the organisation's plan ``doc`` for ``account`` (as ``recommend`` splits it)."""
    return for_account(Plan.from_dict(doc, where=where), account).to_dict()


def write_organisation(
    dd: DataDir,
    days: Sequence[date],
    out_dir: Path,
    *,
    plan: Mapping[str, Any] | None = None,
    plan_source: str = "plan",
    account_plans: Mapping[str, str] | None = None,
    snapshot: str | None = None,
) -> list[AccountRow]:
    """Per account of a multi-account inventory its report in ``accounts/<id>/``, and the
    organisation's page (:func:`write_accounts`); nothing for a single account.

    An account's report shows its plan: its file in ``account_plans`` (``flowlens run`` writes
    ``accounts/<id>/plan.json``), else its part of ``plan``, else its rows of the
    ``recommendations`` table.
    """
    from flowlens.report.render import read_plan_file, write_report

    rows = account_rows(dd, days, plan, snapshot)
    if len(rows) <= 1:
        return rows
    plans = dict(account_plans or {})
    reports: dict[str, str] = {}
    for row in rows:
        account = row.account_id
        if account == UNKNOWN:
            continue  # groups no snapshot places in an account: in the whole report only
        own: Mapping[str, Any] | None = None
        if account in plans:
            own = read_plan_file(Path(plans[account]))
        elif plan is not None:
            own = account_plan(plan, account, plan_source)
        folder = out_dir / "accounts" / account
        write_report(
            dd,
            days,
            folder,
            plan=own,
            snapshot=snapshot,
            account=account,
            organisation="../../accounts.html",
        )
        reports[account] = f"accounts/{account}/report.html"
    return write_accounts(dd, days, out_dir, plan, plans, reports, snapshot)
