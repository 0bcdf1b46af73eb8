"""Writing one report directory: charts, ``report.html``, ``summary.md``, ``report.json``."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from flowlens import __version__
from flowlens.atomic import atomic_path
from flowlens.catalog import register_views
from flowlens.datadir import DataDir
from flowlens.errors import AnalysisError, InputError
from flowlens.report import charts, data, html, markdown, review, staged, summary
from flowlens.report.sentences import replay_sentence, subset_sentence

log = logging.getLogger(__name__)

CHART_FILES = {
    "traffic": "traffic.png",
    "rejected": "rejected.png",
    "rule_status": "rule_status.png",
    "rule_flows": "rule_flows.png",
    "exposure": "exposure.png",
    "coverage": "coverage.png",
}


@dataclass(frozen=True)
class ReportPaths:
    """Where a report was written."""

    directory: Path
    html: Path
    markdown: Path
    json: Path
    charts: tuple[Path, ...]


def _subnet_labels(d: data.ReportData) -> dict[str, str]:
    labels = {}
    for s in data.rows(d.subnets):
        # a subnet without tags reads as None or pandas' NA, depending on its neighbours
        tags = s.tags if isinstance(s.tags, Mapping | list | tuple) else None
        name = dict(tags).get("Name") if tags else None
        labels[str(s.subnet_id)] = f"{s.subnet_id} ({name})" if name else str(s.subnet_id)
    return labels


def draw_charts(d: data.ReportData) -> dict[str, bytes]:
    """Every chart that has data to show, keyed like :data:`CHART_FILES`."""
    names = {str(g.group_id): str(g.group_name or "") for g in data.rows(d.groups)}
    jobs: dict[str, tuple[bool, Callable[[], bytes]]] = {
        "traffic": (
            not d.traffic.empty,
            lambda: charts.traffic_over_time(
                d.traffic, data.bin_seconds(d.window), d.window.start, d.window.end
            ),
        ),
        "rejected": (
            not d.top_sources.empty or not d.top_ports.empty,
            lambda: charts.top_rejected(d.top_sources, d.top_ports),
        ),
        "rule_status": (not d.rules.empty, lambda: charts.rule_status_per_group(d.rules, names)),
        "rule_flows": (not d.rules.empty, lambda: charts.flows_per_rule(d.rules)),
        "exposure": (
            bool(d.exposure.rows),
            lambda: charts.exposure_before_after(
                summary.exposure_dict(d.exposure.before), summary.exposure_dict(d.exposure.after)
            ),
        ),
        "coverage": (
            not d.coverage.empty,
            lambda: charts.coverage_per_subnet(d.coverage, _subnet_labels(d)),
        ),
    }
    return {key: draw() for key, (has_data, draw) in jobs.items() if has_data}


#: The page's own script (sorting, filtering, search, evidence links): inline,
#: so the file stands alone.
SCRIPT = (Path(__file__).with_name("page.js")).read_text(encoding="utf-8")

HOWTO = {
    "traffic": "Flow records (one per ENI per aggregation interval) and bytes, accepted vs "
    "rejected, per time bin. A REJECT spike without an ACCEPT change is usually a scan; a drop "
    "to zero is a logging gap.",
    "rejected": "Who was refused and on which port, stacked by why: 'sg' = no security-group rule "
    "allowed it, 'nacl' = a network ACL denied it, 'bpa' = VPC Block Public Access, 'late_packet' "
    "= a packet after the connection state expired. Rejected traffic never becomes a new allow.",
    "rules": "Each rule's status over the window. 'unused' is claimed only when every ENI of the "
    "group had an ALL-traffic flow log all window; otherwise 'no_coverage'. 'sole flows' are "
    "flows no other rule allowed: a rule with flows but no sole flows is redundant.",
    "exposure": "Exposure = addresses × ports a group's rules allow (TCP and UDP ports, plus one "
    "unit per other protocol), summed over groups; before = the rules now, after = with the "
    "plan applied. Log scale.",
    "coverage": "Which ENIs are covered by a flow log recording ALL traffic, only ACCEPT, only "
    "REJECT, or none. Only ALL coverage lets flowlens call a rule unused.",
    "findings": "Posture problems visible in the rules themselves, most severe first, each with "
    "its evidence. A kind with many rows (scanners, mostly) is folded into one counted "
    "group: expand it to list them.",
    "evidence": "For each rule with matched traffic: the busiest peer × port pairs it allowed "
    "(from rule_matches), with the ENIs they reached and when they were first and last seen. A "
    "recommendation's 'evidence' link lands here.",
    "recommendations": "Proposed tightenings, each as the current rule → the rules that replace "
    "it (none: removed), with its risk and why. A proposal marked 'may widen' is not a subset of "
    "the rule it replaces (an SG reference or prefix list whose members can change); the others "
    "allow nothing the current rule does not. The replay figures count the accepted flows of the "
    "window checked against the proposed rules and those that would be cut.",
    "groups": "One section per security group of the inventory snapshot (click to expand): its "
    "member ENIs, its rules with status and usage per analysed day, its recommendations and "
    "findings. Names, descriptions and tags are shown as text; invisible "
    "direction-changing characters as [U+…].",
    "ingest": "Source objects read for the window's days (objects whose key names no day are "
    "always counted), rows written, and lines set aside in quarantine.",
}


def _figure(pngs: Mapping[str, bytes], key: str, alt: str, empty: str) -> str:
    return html.image(pngs.get(key), alt, empty)


def _sections(d: data.ReportData, pngs: Mapping[str, bytes]) -> dict[str, str]:
    h = html
    names = d.group_names()
    return {
        "traffic": h.howto(HOWTO["traffic"])
        + _figure(
            pngs,
            "traffic",
            "Accepted and rejected traffic over time",
            "No flow records in this window: run 'flowlens ingest'.",
        ),
        "rejected": h.howto(HOWTO["rejected"])
        + _figure(
            pngs,
            "rejected",
            "Top rejected sources and ports by cause",
            "No rejected traffic attributed in this window.",
        )
        + h.section_rejected(d),
        "rules": h.howto(HOWTO["rules"])
        + _figure(
            pngs,
            "rule_status",
            "Rules per security group by status",
            "No rule usage for this window: run 'flowlens analyze'.",
        )
        + (_figure(pngs, "rule_flows", "Flows per rule", "") if "rule_flows" in pngs else "")
        + h.section_rules(d, names),
        "exposure": h.howto(HOWTO["exposure"])
        + _verification(d)
        + (
            _figure(pngs, "exposure", "Exposure before and after the plan", "")
            if d.exposure.rows
            else ""
        )
        + h.section_exposure(d, names),
        "coverage": h.howto(HOWTO["coverage"])
        + _figure(
            pngs,
            "coverage",
            "Flow-log coverage per subnet",
            "No ENIs in the inventory snapshot: run 'flowlens inventory'.",
        )
        + h.section_coverage(d, _subnet_labels(d)),
        "findings": h.howto(HOWTO["findings"]) + review.findings_section(d, names),
        "recommendations": staged.delta_line(d)
        + review.plan_summary(d)
        + h.howto(HOWTO["recommendations"])
        + (
            f"<p>{h.esc(subset_sentence(d.recommendations))} "
            f"{h.esc(replay_sentence(d.verification))}</p>" + review.recommendations_table(d, names)
            if d.recommendations
            else ""
        ),
        **_staging_sections(d, names),
        "evidence": h.howto(HOWTO["evidence"]) + review.evidence_section(d, names),
        "groups": h.howto(HOWTO["groups"]) + review.groups_section(d, names),
        "ingest": h.howto(HOWTO["ingest"]) + h.section_ingest(d),
    }


def _staging_sections(d: data.ReportData, names: Mapping[str, str]) -> dict[str, str]:
    """The connectivity delta, staged plans and dismissed rules (flowlens.report.staged)."""
    return {
        "delta": html.howto(staged.HOWTO["delta"]) + staged.delta_section(d, names),
        "staged": html.howto(staged.HOWTO["staged"]) + staged.staged_section(d),
        "dismissed": html.howto(staged.HOWTO["dismissed"]) + staged.dismissed_section(d, names),
    }


def _verification(d: data.ReportData) -> str:
    v = d.verification
    if v is None:
        return html.no_data(
            "No plan given, so no replay verification: pass --plan FILE from 'flowlens "
            "recommend --format json'."
        )
    return f"<p>Replay proof: <strong>{html.esc(v.claim())}</strong>.</p>"


def render_html(
    d: data.ReportData,
    pngs: Mapping[str, bytes],
    head: Mapping[str, Any],
    source: str,
    *,
    account: str | None = None,
    organisation: str | None = None,
) -> str:
    """The page; ``account``/``organisation``: one account's page and the link to its
    organisation's (``accounts.html``, relative)."""
    w = d.window
    values = {
        "window": html.esc(w.label()),
        "account": f" · account {html.esc(account)}" if account else "",
        "org_link": f' · <a class="orglink" href="{html.esc(organisation)}">'
        "all accounts of the organisation</a>"
        if organisation
        else "",
        "window_start": html.esc(w.start.strftime("%Y-%m-%d %H:%M")),
        "window_end": html.esc(w.end.strftime("%Y-%m-%d %H:%M")),
        "generated": html.esc(datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        "source": html.esc(source),
        "cards": html.headline_cards(head),
        "version": html.esc(__version__),
        "script": SCRIPT,
        "gap": '<p class="gap"><strong>Days without analysis.</strong> '
        f"{html.esc(d.gap_sentence)}; figures and risks rest on the analysed days only.</p>"
        if d.gap_sentence
        else "",
        **_sections(d, pngs),
    }
    return html.render_page(values)


def read_plan_file(path: Path) -> dict[str, Any]:
    """The JSON object in a plan file, with errors that name the file (parsed by :class:`Plan`)."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"plan file {path} does not exist; write it with 'flowlens recommend "
            f"--format json --out {path}'"
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(obj, dict):
        raise InputError(f"{path}: a plan is a JSON object, found {type(obj).__name__}")
    return obj


def _load_plan(plan: Path | str | Mapping[str, Any] | None) -> tuple[Mapping[str, Any] | None, str]:
    if plan is None:
        return None, "plan"
    if isinstance(plan, Mapping):
        return plan, "plan"
    return read_plan_file(Path(plan)), str(plan)


def write_report(
    dd: DataDir,
    days: Sequence[date],
    out_dir: Path,
    *,
    plan: Path | str | Mapping[str, Any] | None = None,
    snapshot: str | None = None,
    account: str | None = None,
    organisation: str | None = None,
) -> ReportPaths:
    """Build the report for ``days`` from the data dir and write it into ``out_dir``.

    ``plan`` is a plan JSON file or object (docs/recommend.md#plan-json); without it the
    recommendations table is shown and exposure "after" applies those, but there is no replay
    verification. Each file is replaced atomically; other files in ``out_dir`` are left alone.
    ``account``: the report of that AWS account alone (its groups, rules, ENIs, flows, findings;
    ``plan`` should then be that account's, :func:`flowlens.report.accounts.write_organisation`),
    linking to the organisation's page at ``organisation``.
    """
    analysed = _analysed_days(dd, days)
    plan_obj, plan_source = _load_plan(plan)
    con = duckdb.connect()
    try:
        register_views(con, dd, snapshot=snapshot, account=account)
        d = data.load(con, days, plan=plan_obj, plan_source=plan_source, analysed_days=analysed)
    finally:
        con.close()
    pngs = draw_charts(d)
    files = {key: CHART_FILES[key] for key in pngs}
    head = summary.headline(d)
    out_dir.mkdir(parents=True, exist_ok=True)
    chart_paths = tuple(_write_bytes(out_dir / files[k], png) for k, png in pngs.items())
    paths = ReportPaths(
        out_dir,
        out_dir / "report.html",
        out_dir / "summary.md",
        out_dir / "report.json",
        chart_paths,
    )
    _write_text(json.dumps(summary.build(d, files), indent=2) + "\n", paths.json)
    _write_text(markdown.render(d, head, files), paths.markdown)
    page = render_html(
        d, pngs, head, f"data dir {dd.describe()}", account=account, organisation=organisation
    )
    _write_text(page, paths.html)
    log.info(
        "report for %s%s written to %s (%d charts)",
        d.window.label(),
        f" (account {account})" if account else "",
        out_dir,
        len(pngs),
    )
    return paths


def _analysed_days(dd: DataDir, days: Sequence[date]) -> list[date]:
    """The window's days with analysis results; none at all is an error naming what to run."""
    flags = (
        f"--date {min(days)}" if len(set(days)) == 1 else f"--start {min(days)} --end {max(days)}"
    )
    if not dd.lake and not dd.root.is_dir():
        raise AnalysisError(
            f"no flowlens data directory at {dd.root}; run 'flowlens run SOURCE {flags} "
            "--inventory ...' (or ingest, inventory and analyze) first, or pass --data-dir"
        )
    analysed = dd.analysed_days(days)
    if not analysed:
        span = str(min(days)) if len(set(days)) == 1 else f"{min(days)}..{max(days)}"
        raise AnalysisError(
            f"no analysis results for {span} in {dd.results_description()}; "
            f"run 'flowlens analyze {flags} --data-dir {dd.describe()}' first"
        )
    missing = len(set(days)) - len(analysed)
    if missing:
        log.warning("%d of %d days of the window have no analysis results", missing, len(set(days)))
    return analysed


def _write_bytes(path: Path, payload: bytes) -> Path:
    """Atomic write, world-readable (reports are meant to be shared or served)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)
        tmp.chmod(0o644)
    return path


def _write_text(text: str, path: Path) -> Path:
    return _write_bytes(path, text.encode("utf-8"))
