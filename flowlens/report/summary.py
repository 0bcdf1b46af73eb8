"""``report.json``: the report's numbers, machine-readable, with stable keys (docs/report.md)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from flowlens.report.data import ReportData, bin_seconds
from flowlens.report.data import rows as tuples
from flowlens.report.exposure import ExposureTotals

SCHEMA = "flowlens.report/1"


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-ready dicts (NaN/NA → None, numpy scalars → Python)."""
    out = []
    for row in df.to_dict("records"):
        out.append({str(k): _plain(v) for k, v in row.items()})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy scalars and arrays
        return _plain(value.tolist())
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    return value


def exposure_dict(t: ExposureTotals) -> dict[str, int]:
    return {
        "ingress_ipv4": t.ingress_ipv4,
        "ingress_ipv6": t.ingress_ipv6,
        "egress_ipv4": t.egress_ipv4,
        "egress_ipv6": t.egress_ipv6,
    }


def headline(data: ReportData) -> dict[str, Any]:
    """The numbers in the report's header."""
    status = data.status_counts()
    v = data.verification
    return {
        "flow_records": data.totals.records,
        "accepted_records": data.totals.accepted,
        "rejected_records": data.totals.rejected,
        "nodata_records": data.totals.nodata,
        "bytes": data.totals.bytes,
        "enis_seen": data.totals.enis,
        "rules": int(sum(status.values())),
        "rules_used": status["used"],
        "rules_unused": status["unused"],
        "rules_no_coverage": status["no_coverage"],
        "rules_unobservable": status["unobservable"],
        "rules_no_members": status["no_members"],
        "rejected_analysed": int(data.reject_causes["records"].sum())
        if not data.reject_causes.empty
        else 0,
        "findings": len(data.findings),
        "recommendations": len(data.recommendations),
        "flows_checked": v.flows_checked if v else None,
        "flows_cut": v.flows_cut if v else None,
        "flows_unattributed": v.flows_unattributed if v else None,
        "flows_unattributed_protected": v.flows_unattributed_protected if v else None,
        "replay_claim": v.claim() if v else None,
    }


def _traffic(data: ReportData) -> list[dict[str, Any]]:
    bins: dict[int, dict[str, Any]] = {}
    for row in tuples(data.traffic):
        start = int(row.bin_start)
        entry = bins.setdefault(
            start,
            {
                "start": datetime.fromtimestamp(start, tz=UTC).isoformat(),
                "accept_flows": 0,
                "accept_bytes": 0,
                "reject_flows": 0,
                "reject_bytes": 0,
            },
        )
        prefix = "accept" if row.action == "ACCEPT" else "reject"
        entry[f"{prefix}_flows"] += int(row.flows)
        entry[f"{prefix}_bytes"] += int(row.bytes)
    return [bins[k] for k in sorted(bins)]


def _exposure(data: ReportData) -> dict[str, Any]:
    ex = data.exposure
    groups = [
        {
            "group_id": b.group_id,
            "direction": b.direction,
            "before_ipv4": b.ipv4,
            "after_ipv4": a.ipv4,
            "before_ipv6": b.ipv6,
            "after_ipv6": a.ipv6,
            "unresolved_peers": b.unresolved_peers,
        }
        for b, a in ex.rows
    ]
    return {"before": exposure_dict(ex.before), "after": exposure_dict(ex.after), "groups": groups}


def _recommendations(data: ReportData) -> list[dict[str, Any]]:
    """Each recommendation as the plan writes it: current and proposed rules,
    may_widen, risk and its reason."""
    return [_plain(r.to_dict()) for r in data.recommendations]


def _ingest(data: ReportData) -> dict[str, Any]:
    df = data.ingest
    total = {k: int(df[k].sum()) if not df.empty else 0 for k in ("objects", "rows", "quarantined")}
    by_status = {str(r.status): int(r.objects) for r in tuples(df)}
    return {
        **total,
        "failed": by_status.get("failed", 0),
        "by_status": _records(df),
        "quarantine_reasons": _records(data.quarantine),
    }


def build(data: ReportData, charts: Mapping[str, str]) -> dict[str, Any]:
    """The whole ``report.json`` object; ``charts`` maps chart keys to PNG file names."""
    w = data.window
    return {
        "schema": SCHEMA,
        "window": {
            "start": w.start.isoformat().replace("+00:00", "Z"),
            "end": w.end.isoformat().replace("+00:00", "Z"),
            "days": w.days,
            "analysed_days": None
            if data.analysed is None
            else [d.isoformat() for d in data.analysed.analysed],
            "missing_days": None
            if data.analysed is None
            else [d.isoformat() for d in data.analysed.missing],
        },
        "headline": headline(data),
        "traffic": {"bin_seconds": bin_seconds(w), "bins": _traffic(data)},
        "rejected": {
            "by_cause": _records(data.reject_causes),
            "top_sources": _records(data.top_sources),
            "top_ports": _records(data.top_ports),
        },
        "rule_usage": {
            "by_status": data.status_counts(),
            "rules": _records(data.rules.drop(columns=["group_name"], errors="ignore")),
        },
        "exposure": _exposure(data),
        "coverage": {"by_class": _coverage_classes(data), "subnets": _records(data.coverage)},
        "findings": _records(data.findings),
        "recommendations": _recommendations(data),
        "verification": data.verification.to_dict() if data.verification else None,
        "connectivity_delta": data.delta().to_dict() if data.recommendations else None,
        "staged_plans": _staged_plans(data),
        "dismissed": _dismissed(data),
        "ingest": _ingest(data),
        "charts": dict(charts),
    }


def _staged_plans(data: ReportData) -> list[dict[str, Any]]:
    """Each verified plan's latest verification as of the window (the plan_verifications row)."""
    return [
        {
            "plan_path": p.plan_path,
            "status": p.status,
            "verified_at": p.verified_at.isoformat(),
            "first_day": p.first_day.isoformat(),
            "last_day": p.last_day.isoformat(),
            "days_verified": p.days_verified,
            "clean_days": p.clean_days,
            "min_window_days": p.min_window_days,
            "flows_checked": p.flows_checked,
            "flows_cut": p.flows_cut,
            "flows_unattributed": p.flows_unattributed,
            "flows_unattributed_protected": p.flows_unattributed_protected,
            "blocking": [
                {
                    "rule_id": b.rule_id,
                    "example": None if b.example is None else b.example.to_dict(),
                    "conversation_id": b.conversation_id,
                }
                for b in p.blocking
            ],
        }
        for p in data.staged.plans
    ]


def _dismissed(data: ReportData) -> list[dict[str, Any]]:
    """Every dismissal with its state today and the snapshot's rule it holds for."""
    return [
        {
            "rule_id": r.current_rule_id,
            "dismissed_rule_id": r.dismissal.rule_id,
            "group_id": r.dismissal.group_id,
            "content_key": r.dismissal.content_key,
            "rule": r.dismissal.rule.to_dict(),
            "state": r.state.value,
            "reason": r.dismissal.reason,
            "dismissed_by": r.dismissal.dismissed_by,
            "dismissed_at": r.dismissal.dismissed_at.isoformat(),
            "until": None if r.dismissal.until is None else r.dismissal.until.isoformat(),
        }
        for r in data.staged.dismissed
    ]


def _coverage_classes(data: ReportData) -> dict[str, int]:
    counts = {c: 0 for c in ("ALL", "ACCEPT-only", "REJECT-only", "none")}
    for row in tuples(data.coverage):
        counts[str(row.coverage)] = counts.get(str(row.coverage), 0) + int(row.enis)
    return counts
