"""The report's staging sections on the sample plan: its connectivity delta, the plans verified on
later days and the rules a reviewer dismissed, in HTML (also in headless Chromium) and Markdown.

Expectations written before running, from tests/test_verify.py's days: the sample plan (made on
2026-11-28) verified on 2026-11-29, when a new operator 192.0.2.50 uses SSH on the bastion, is
blocked by the narrowing of the bastion's SSH rule (sgr-093b55da14b72410e) with that flow as the
example; a copy verified on the quiet 2026-11-30 is pending with 1 of 14 clean days. rds-in-3306
(sgr-0a2752576ebbf3b85) is dismissed by alice until 2099-03-31 with a hostile reason. The report
of 2026-11-30 with the sample plan shows the blocked plan first, then the pending one; the delta
has one row per path of the plan and its summary line on top; the dismissal is active and its
reason is text.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import report_sample as hostile
from staged_days import write_day

from flowlens import dismissals
from flowlens.analyze import analyze
from flowlens.datadir import DataDir
from flowlens.dismissals import Dismissal, DismissalState
from flowlens.explain.load import find_conversation
from flowlens.model.net import Rule
from flowlens.model.plan import Plan
from flowlens.report import ReportPaths, write_report
from flowlens.report.staged import decision_text
from flowlens.report.staged_data import DismissedRule
from flowlens.verify.run import verify

DAY2, DAY3 = date(2026, 11, 29), date(2026, 11, 30)
SSH, BASTION_ENI = "sgr-093b55da14b72410e", "eni-07a93e423b3ff6908"
MYSQL, RDS_SG = "sgr-0a2752576ebbf3b85", "sg-0387bd4e66da75c2d"
NEW_PEER = "192.0.2.50"
REASON = f"export {hostile.EVIL}{hostile.EVIL_ATTR} {hostile.RLO}txt"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
ARTIFACTS = Path(__file__).resolve().parents[1] / "reports" / "ci-artifacts"


class Staged:
    def __init__(self, dd: DataDir, plan: Plan, report: ReportPaths, plans: Path) -> None:
        self.dd, self.plan, self.report, self.plans = dd, plan, report, plans


@pytest.fixture(scope="module")
def staged(sample_day, tmp_path_factory: pytest.TempPathFactory) -> Staged:
    base = tmp_path_factory.mktemp("staged-report")
    shutil.copytree(sample_day.data.root, base / "data")
    dd = DataDir(base / "data")
    plans = base / "plans"
    plans.mkdir()
    for name in ("blocked.json", "pending.json"):
        (plans / name).write_text(sample_day.plan.to_json(), encoding="utf-8")
    write_day(dd, DAY2, new_peer=NEW_PEER)
    write_day(dd, DAY3)
    analyze(dd, [DAY2, DAY3])
    verify(dd, plans / "blocked.json", [DAY2])
    verify(dd, plans / "pending.json", [DAY3])
    dismissals.dismiss(dd, MYSQL, REASON, by="alice", until=date(2099, 3, 31), now=NOW)
    report = write_report(dd, [DAY3], base / "out", plan=plans / "blocked.json")
    return Staged(dd, sample_day.plan, report, plans)


def _section(page: str, ident: str) -> str:
    start = page.index(f'<section id="{ident}">')
    return page[start : page.index("</section>", start)]


def _rows(section: str) -> list[str]:
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr[^>]*>(.*?)</tr>", body)


def test_the_delta_has_a_row_per_changed_path_and_its_summary_on_top(staged: Staged) -> None:
    page = staged.report.html.read_text(encoding="utf-8")
    delta = staged.plan.delta()
    plan_section = _section(page, "recommendations")
    assert plan_section.index('id="delta-summary"') < plan_section.index('id="plan-tiles"')
    assert f"<strong>Connectivity:</strong> {html.escape(delta.summary())}." in plan_section
    rows = _rows(_section(page, "delta"))
    assert len(rows) == len(delta.paths) == 8
    ssh = next(r for r in rows if SSH in r)
    # bastion-sg ingress: 0.0.0.0/0 narrowed to the two office addresses, 376 flows from 2 peers
    assert "narrowed" in ssh and "0.0.0.0/0" in ssh
    assert "198.51.100.7/32" in ssh and "203.0.113.25/32" in ssh
    assert 'data-v="376"' in ssh and 'data-v="2"' in ssh
    removed = next(r for r in rows if MYSQL in r)
    assert "removed" in removed and "nothing" in removed and 'data-v="0"' in removed


def test_staged_plans_show_status_blocker_example_and_its_conversation(staged: Staged) -> None:
    page = staged.report.html.read_text(encoding="utf-8")
    blocked, pending = _rows(_section(page, "staged"))
    assert "blocked.json" in blocked and "badge ps-blocked" in blocked
    assert SSH in blocked and NEW_PEER in blocked and BASTION_ENI in blocked
    assert "tcp/22" in blocked and "2026-11-29" in blocked and "0 of 14 needed" in blocked
    (cid,) = re.findall(r"--conversation-id (cv-[0-9a-f]{16})", blocked)
    conv = find_conversation(staged.dd, cid)
    assert (conv.day, conv.eni_id, conv.initiator_addr, conv.responder_port) == (
        "2026-11-29",
        BASTION_ENI,
        NEW_PEER,
        22,
    )
    assert "pending.json" in pending and "badge ps-pending" in pending
    assert "1 of 14 needed" in pending and "2026-11-30" in pending
    text = staged.report.markdown.read_text(encoding="utf-8")
    md = text.split("## Staged plans", 1)[1].split("\n## ", 1)[0]
    assert md.index("blocked.json") < md.index("pending.json")
    assert f"--conversation-id {cid}" in md and "0 of 14 needed" in md
    doc = json.loads(staged.report.json.read_text(encoding="utf-8"))
    assert [p["status"] for p in doc["staged_plans"]] == ["blocked", "pending"]
    (blocking,) = doc["staged_plans"][0]["blocking"]
    assert (blocking["rule_id"], blocking["conversation_id"]) == (SSH, cid)
    assert doc["staged_plans"][1]["min_window_days"] == 14
    assert doc["connectivity_delta"]["summary"] == staged.plan.delta().summary()
    assert [(d["rule_id"], d["state"]) for d in doc["dismissed"]] == [(MYSQL, "active")]


def test_dismissed_rules_are_apart_and_their_reason_is_text(staged: Staged) -> None:
    page = staged.report.html.read_text(encoding="utf-8")
    (row,) = _rows(_section(page, "dismissed"))
    assert MYSQL in row and RDS_SG in row and "badge ds-active" in row
    assert "kept: dismissed by alice on 2026-11-30 until 2099-03-31, reason: export" in row
    assert hostile.EVIL not in page and html.escape(hostile.EVIL) in row
    assert hostile.EVIL_ATTR not in page and "[U+202E]" in row
    text = staged.report.markdown.read_text(encoding="utf-8")
    md = text.split("## Dismissed by a reviewer", 1)[1].split("\n## ", 1)[0]
    assert MYSQL in md and "| active |" in md and hostile.EVIL not in text


def test_expired_and_lapsed_dismissals_say_the_rule_is_judged_afresh() -> None:
    d = Dismissal(
        "key",
        MYSQL,
        RDS_SG,
        Rule("ingress", 6, 3306, 3306, "cidr4", "10.0.0.0/8"),
        "export",
        "bob",
        NOW,
        date(2026, 12, 31),
    )
    assert decision_text(DismissedRule(d, DismissalState.ACTIVE, MYSQL)) == (
        "kept: dismissed by bob on 2026-11-30 until 2026-12-31, reason: export"
    )
    expired = decision_text(DismissedRule(d, DismissalState.EXPIRED, MYSQL))
    assert expired.startswith("expired after 2026-12-31, judged afresh: dismissed by bob")
    lapsed = decision_text(DismissedRule(d, DismissalState.LAPSED, None))
    assert lapsed.startswith("lapsed: no rule of the snapshot has this content any more")


def test_without_verifications_or_dismissals_the_sections_say_what_to_run(
    sample_day, tmp_path: Path
) -> None:
    out = write_report(sample_day.data, [date(2026, 11, 28)], tmp_path / "out")
    page = out.html.read_text(encoding="utf-8")
    assert "flowlens verify PLAN.json --date D" in _section(page, "staged")
    assert "flowlens dismiss RULE --reason TEXT" in _section(page, "dismissed")
    # without a plan file the delta is the recommendations table's
    assert len(_rows(_section(page, "delta"))) == len(sample_day.plan.recommendations)


# --- in a real browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1400, 400])
def test_the_sections_render_in_chromium(browser: Any, staged: Staged, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(staged.report.html.as_uri())
        page.wait_for_load_state("load")
        assert errors == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate("window.__pwned") is None  # the reason's markup did not run
        order = page.evaluate(
            "Array.from(document.querySelectorAll('main section')).map(s => s.id)"
        )
        assert order[:4] == ["recommendations", "delta", "staged", "dismissed"]
        statuses = page.evaluate(
            "Array.from(document.querySelectorAll('#staged-table tbody .badge'))"
            ".map(b => b.textContent)"
        )
        assert statuses == ["blocked", "pending"]
        reason = page.evaluate("document.querySelector('#dismissed-table tbody').textContent")
        assert hostile.EVIL in reason and "[U+202E]" in reason
        assert page.evaluate("document.querySelectorAll('#delta-table tbody tr').length") == 8
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"staged-{width}px.png"), full_page=True)
    finally:
        context.close()
