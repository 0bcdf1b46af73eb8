"""The nightly batch: ingest → inventory → analyze → recommend → report, resumable.

Each stage records a fingerprint of its inputs in ``<data-dir>/runs/<window>.json``; a re-run
skips every stage whose inputs did not change, so a run that failed half-way resumes where it
stopped. Ingest always runs (it is itself incremental: unchanged objects are skipped after a
listing).

The inventory snapshot is taken first, at the run's start (closest to the window for a nightly
run of yesterday). A re-run of the same window reuses the snapshot an earlier run of it took
from the EC2 API when that snapshot was taken after the window ended: the timeline of a window
reads the first snapshot after it (flowlens.inventory.timeline_io), so a newer one would change
nothing but the fingerprints. While the window is still open (a run over today), every run takes
a new snapshot: the world may have changed since. JSON inputs are re-read only when their
content changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flowlens.analyze.pipeline import analyze
from flowlens.atomic import write_text_atomic
from flowlens.datadir import DataDir
from flowlens.errors import NothingToDo
from flowlens.ingest.pipeline import IngestSummary, ingest
from flowlens.ingest.source import Source
from flowlens.inventory import config_history_from_aws, inventory_from_json, snapshot_from_aws
from flowlens.inventory.snapshot import parse_stamp
from flowlens.isolated import run_isolated
from flowlens.model.window import Window
from flowlens.recommend.inputs import Settings
from flowlens.runstate import RunState, fingerprint_files, tree_files

log = logging.getLogger(__name__)

STAGES = ["inventory", "ingest", "config_history", "analyze", "recommend", "report"]


@dataclass(frozen=True)
class InventorySpec:
    """Where the inventory comes from: AWS CLI JSON files, or the EC2 API (a boto3 session)."""

    json_paths: tuple[Path, ...] = ()
    aws_session: Any = None
    regions: tuple[str, ...] = ()
    endpoint_url: str | None = None
    taken_at: datetime | None = None
    #: After ingest, look up in AWS Config the window's ENIs no snapshot holds (API inventory only).
    config_history: bool = False
    #: An organisation: read these accounts through ``role_name`` (``inventory --accounts``).
    accounts: tuple[str, ...] = ()
    role_name: str | None = None
    profile: str | None = None
    external_id: str | None = None
    retry_mode: str = "adaptive"


@dataclass
class StageResult:
    name: str
    status: str  # ran | skipped
    seconds: float
    summary: dict[str, Any]


@dataclass
class BatchResult:
    window: tuple[date, date]
    out_dir: Path
    stages: list[StageResult] = field(default_factory=list)
    failed_objects: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": {"start": self.window[0].isoformat(), "end": self.window[1].isoformat()},
            "out_dir": str(self.out_dir),
            "stages": [vars(s) for s in self.stages],
            "failed_objects": self.failed_objects,
        }


def _files_hash(paths: Sequence[Path]) -> str:
    """Content hash of input files (inventory JSON is small; content beats mtimes here)."""
    h = hashlib.sha256()
    files = sorted(
        p for root in paths for p in ([root] if root.is_file() else sorted(root.rglob("*.json")))
    )
    for p in files:
        h.update(str(p.name).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:20]


def _window_inputs(dd: DataDir, days: Sequence[date]) -> list[Path]:
    wanted = {f"date={d.isoformat()}" for d in days}
    flows = [p for p in tree_files(dd.flows) if p.parent.name in wanted]
    return [*flows, *tree_files(dd.inventory)]


def run_batch(
    source: Source,
    days: Sequence[date],
    dd: DataDir,
    inventory: InventorySpec,
    out_dir: Path,
    *,
    prefix: str = "",
    settings: Settings | None = None,
    strict: bool = False,
    workers: int = 2,
    memory_limit: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    accounts: set[str] | None = None,
    regions: set[str] | None = None,
    flow_log_ids: set[str] | None = None,
    verify_plans: Path | None = None,
) -> BatchResult:
    """Run every stage for the window; returns what ran, what was skipped and why.

    ``verify_plans``: a directory of pending plans; after the report, the window's days are
    replayed against each plan whose own window ended before them (``flowlens verify``).
    """
    first, last = min(days), max(days)
    state = RunState.load(dd.root / "runs" / f"{first}_{last}.json")
    result = BatchResult((first, last), out_dir)
    settings = settings or Settings()

    def stage(
        name: str,
        fingerprint: str | None,
        work: Callable[[], dict[str, Any]],
        outputs: Sequence[Path] = (),
        *,
        rerun: bool = False,
    ) -> None:
        present = all(p.is_file() for p in outputs)
        if (
            fingerprint is not None
            and not rerun
            and present
            and state.is_current(name, fingerprint)
        ):
            log.info("stage %s: inputs unchanged since the last run, skipped", name)
            result.stages.append(StageResult(name, "skipped", 0.0, state.stages[name]["summary"]))
            return
        t0 = time.perf_counter()
        log.info("stage %s: running", name)
        summary = work()
        seconds = round(time.perf_counter() - t0, 3)
        state.record(name, fingerprint or "always", summary)
        result.stages.append(StageResult(name, "ran", seconds, summary))
        log.info("stage %s: done in %.1f s", name, seconds)

    def do_ingest() -> dict[str, Any]:
        # In a child process: what ingest leaves allocated (~130 MiB on a 4M-record day) would
        # otherwise sit under the analysis's peak (flowlens/isolated.py).
        s: IngestSummary = run_isolated(
            lambda: ingest(
                source,
                list(days),
                dd,
                prefix=prefix,
                accounts=accounts,
                regions=regions,
                flow_log_ids=flow_log_ids,
                strict=strict,
                workers=workers,
                progress=progress,
            ),
            "ingest",
        )
        if s.empty_reason:  # a nightly job that reads nothing must not look like a quiet night
            raise NothingToDo(f"no flow-log objects listed for the window: {s.empty_reason}")
        result.failed_objects = [f.key for f in s.failed]
        return s.to_dict()

    # The snapshot first: "the inventory at the start of the run" (see the module docstring).
    taken = state.stages.get("inventory", {}).get("summary", {}).get("snapshot")
    snapshot_out = [dd.snapshot_dir(taken) / "snapshot.json"] if taken else [dd.inventory / "none"]
    if inventory.json_paths:
        fp = _files_hash(inventory.json_paths) + (
            f":{inventory.taken_at.isoformat()}" if inventory.taken_at else ""
        )
        stage("inventory", fp, lambda: _json_inventory(inventory, dd), snapshot_out)
    else:
        fp = f"aws:{','.join(inventory.regions)}:{inventory.endpoint_url or ''}" + (
            f":{','.join(inventory.accounts)}:{inventory.role_name}" if inventory.role_name else ""
        )
        stage(
            "inventory",
            fp,
            lambda: _aws_inventory(inventory, dd),
            snapshot_out,
            rerun=not reuses_snapshot(taken, days),
        )
    stage("ingest", None, do_ingest)
    if inventory.config_history and inventory.aws_session is not None:
        # Always asked: new flows may be on new ENIs. An identical fetch is not stored again, so an
        # unchanged answer leaves the analysis fingerprint as it was.
        stage(
            "config_history",
            None,
            lambda: config_history_from_aws(
                inventory.aws_session, dd, days, endpoint_url=inventory.endpoint_url
            ).to_dict(),
        )
    window_fp = fingerprint_files(_window_inputs(dd, days), memory_limit or "")
    stage(
        "analyze",
        window_fp,
        lambda: analyze(dd, days, memory_limit=memory_limit).to_dict(),
        [dd.results_dir(d) / "rule_usage.parquet" for d in days],
    )
    # The recommender writes recommendations.parquet into results/: not an input of its own.
    analysis_out = [p for p in tree_files(dd.results) if p.name != "recommendations.parquet"]
    results_fp = fingerprint_files(analysis_out, window_fp, repr(settings))
    stage(
        "recommend",
        results_fp,
        lambda: _recommend(dd, days, settings, out_dir),
        [out_dir / "plan.json"],
    )
    report_fp = fingerprint_files(
        [*tree_files(dd.results), *tree_files(out_dir, "plan.*")], window_fp
    )
    stage("report", report_fp, lambda: _report(dd, days, out_dir), [out_dir / "report.html"])
    if verify_plans is not None:
        stage(
            "verify",
            None,
            lambda: verify_plan_dir(dd, days, verify_plans, memory_limit=memory_limit or "1GB"),
        )
    return result


def verify_plan_dir(
    dd: DataDir, days: Sequence[date], directory: Path, *, memory_limit: str = "1GB"
) -> dict[str, Any]:
    """Verify every plan of ``directory`` on the days after its window;
    plan path → status and why."""
    from flowlens.model.window import Window
    from flowlens.verify.run import load_plan, plan_files, verify

    out: dict[str, Any] = {}
    for path in plan_files(directory):
        plan = load_plan(path).plan
        later = [d for d in days if Window.day(d).start >= plan.window_end]
        if not later:
            out[str(path)] = {"status": "skipped", "reason": "the window is not after the plan's"}
            continue
        record = verify(dd, path, later, memory_limit=memory_limit)
        out[str(path)] = {"status": record.status.value, "reason": record.status_reason()}
    return out


def reuses_snapshot(taken: str | None, days: Sequence[date]) -> bool:
    """Whether a re-run of the window keeps the API snapshot ``taken`` by an earlier run of it.

    Yes once that snapshot was taken after the window ended (it is the one the window's timeline
    reads); no while the window was still open when it was taken.

    >>> day = [date(2026, 11, 28)]
    >>> reuses_snapshot("20261129T020000Z", day), reuses_snapshot("20261128T150000Z", day)
    (True, False)
    """
    return taken is not None and parse_stamp(taken) >= Window.of(days).end


def _json_inventory(spec: InventorySpec, dd: DataDir) -> dict[str, Any]:
    info, history = inventory_from_json(spec.json_paths, dd, taken_at=spec.taken_at)
    summary: dict[str, Any] = (
        {"snapshot": info.stamp, "rows": dict(info.row_counts)} if info else {"snapshot": None}
    )
    if history:
        summary["config_history"] = {
            "items": history.items,
            "resources": history.resources,
            "path": str(history.path),
        }
    return summary


def _aws_inventory(spec: InventorySpec, dd: DataDir) -> dict[str, Any]:
    if spec.role_name:
        return _accounts_inventory(spec, dd)
    info = snapshot_from_aws(
        spec.aws_session, list(spec.regions), dd, endpoint_url=spec.endpoint_url
    )
    return {"snapshot": info.stamp, "rows": dict(info.row_counts)}


def _accounts_inventory(spec: InventorySpec, dd: DataDir) -> dict[str, Any]:
    """Every account x region through the role; a failed one is named and the run goes on (the
    analysis keeps that account's rows from earlier snapshots) and exits 1 at the end."""
    from flowlens.aws import AwsOptions
    from flowlens.inventory import snapshot_from_accounts

    opts = AwsOptions(
        profile=spec.profile,
        region=spec.regions[0],
        endpoint_url=spec.endpoint_url,
        retry_mode=spec.retry_mode,
    )
    info, failures = snapshot_from_accounts(
        opts,
        list(spec.accounts),
        list(spec.regions),
        spec.role_name or "",
        dd,
        external_id=spec.external_id,
    )
    return {
        "snapshot": info.stamp,
        "rows": dict(info.row_counts),
        "accounts": info.accounts,
        "failed": [f.to_dict() for f in failures],
    }


def _recommend(
    dd: DataDir, days: Sequence[date], settings: Settings, out_dir: Path
) -> dict[str, Any]:
    from flowlens.recommend.by_account import split
    from flowlens.recommend.pipeline import recommend
    from flowlens.recommend.render_cli import render_cli
    from flowlens.recommend.render_md import render_md
    from flowlens.recommend.render_tf import render_tf

    plan = recommend(dd, days, settings)
    doc = plan.to_dict()
    write_text_atomic(plan.to_json(), out_dir / "plan.json")
    write_text_atomic(render_md(plan), out_dir / "plan.md")
    parts = split(plan)
    if len(parts) <= 1:
        write_text_atomic(render_cli(plan), out_dir / "plan.sh")
        write_text_atomic(render_tf(plan), out_dir / "plan.tf")
        return {
            "recommendations": len(plan.recommendations),
            "dropped": len(plan.dropped),
            "verification": doc.get("verification", {}),
            "plan": str(out_dir / "plan.json"),
        }
    # Several accounts: an AWS CLI script or Terraform file never mixes them (each runs with one
    # account's credentials), so each account gets its own plan folder; the top-level plan.json
    # and plan.md describe the organisation's plan, and no mixed plan.sh/plan.tf is left behind.
    for name in ("plan.sh", "plan.tf"):
        (out_dir / name).unlink(missing_ok=True)
    per_account: dict[str, str] = {}
    for account, part in parts.items():
        folder = out_dir / "accounts" / account
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(part.to_json(), folder / "plan.json")
        write_text_atomic(render_md(part), folder / "plan.md")
        write_text_atomic(render_cli(part), folder / "plan.sh")
        write_text_atomic(render_tf(part), folder / "plan.tf")
        per_account[account] = str(folder / "plan.json")
    return {
        "recommendations": len(plan.recommendations),
        "dropped": len(plan.dropped),
        "verification": doc.get("verification", {}),
        "plan": str(out_dir / "plan.json"),
        "account_plans": per_account,
    }


def _report(dd: DataDir, days: Sequence[date], out_dir: Path) -> dict[str, Any]:
    from flowlens.report.accounts import write_organisation
    from flowlens.report.render import write_report

    plan = out_dir / "plan.json"
    paths = write_report(dd, days, out_dir, plan=plan if plan.is_file() else None)
    out: dict[str, Any] = {
        "html": str(paths.html),
        "markdown": str(paths.markdown),
        "json": str(paths.json),
    }
    # An organisation: its accounts side by side, and each account's report with the plan of
    # its own folder.
    plans = {p.parent.name: str(p) for p in sorted((out_dir / "accounts").glob("*/plan.json"))}
    doc = json.loads(plan.read_text(encoding="utf-8")) if plan.is_file() else None
    accounts = {str(r.get("account_id") or "") for r in (doc or {}).get("recommendations") or []}
    if not plans and len(accounts) == 1 and "" not in accounts:
        plans = {accounts.pop(): str(plan)}  # one account's plan: plan.sh and plan.tf are its own
    rows = write_organisation(
        dd, days, out_dir, plan=doc, plan_source=str(plan), account_plans=plans
    )
    if len(rows) > 1:
        out["accounts"] = str(out_dir / "accounts.md")
        out["accounts_html"] = str(out_dir / "accounts.html")
        out["account_reports"] = {r.account_id: str(out_dir / r.report) for r in rows if r.report}
    return out


def window_end(days: Sequence[date]) -> datetime:
    """The instant the window ends (UTC), used as the demo inventory's snapshot time."""
    return Window.of(days).end
