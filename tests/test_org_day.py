"""A two-account generated day end to end: ``flowlens run`` over both accounts through the role
(moto server, real HTTP), then the organisation's page, each account's own report and
``flowlens sql`` with ``account_id`` (tests/org_day.py builds the day and says how moto is made
to hold the cross-account reference).

Expected from the day's design: account B is worst (its admin group opens SSH to the world: the
one high finding); A's PostgreSQL rule admits B's application group across the peering and is
used by B's one connection; every report holds its own account's groups, flows and proposals
only. The exact counts were checked by hand against the design after the first run (moto's
default VPC adds a default group per account; egress-all rules see only replies, so unused).
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import org_day
import pytest
from org_day import A, B

from flowlens.cli import main


@dataclass(frozen=True)
class Ran:
    org: org_day.OrgDay
    code: int
    data: Path
    out: Path


@pytest.fixture(scope="module")
def ran(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    urllib.request.urlopen(
        urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    ).read()
    root = tmp_path_factory.mktemp("org-day")
    with pytest.MonkeyPatch.context() as mp:  # module scope: before the per-test AWS env
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "FLOWLENS_DATA_DIR"):
            mp.delenv(var, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_CONFIG_FILE", "/dev/null")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        org = org_day.build(moto_endpoint)
        out = root / "reports"
        code = main(org_day.run_argv(org, root / "data", out))
    yield Ran(org, code, root / "data", out)


def _sql(ran: Ran, query: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["sql", "--data-dir", str(ran.data), "--format", "json", query]) == 0
    return list(json.loads(capsys.readouterr().out))


def _report(ran: Ran, account: str) -> dict[str, Any]:
    return dict(json.loads((ran.out / "accounts" / account / "report.json").read_text()))


def test_the_run_reads_both_accounts_and_the_organisation_page_puts_the_worst_first(
    ran: Ran,
) -> None:
    assert ran.code == 0
    page = json.loads((ran.out / "accounts.json").read_text())
    got = [
        (
            r["account_id"],
            r["security_groups"],
            r["rules"],
            r["used"],
            r["unused"],
            r["no_coverage"],
            r["no_members"],
            r["findings"],
            r["severe_findings"],
            r["recommendations"],
        )
        for r in page["accounts"]
    ]
    # each account: its VPC's groups plus moto's default VPC's default group (no members)
    assert got == [(B, 4, 6, 3, 1, 0, 2, 5, 1, 4), (A, 3, 5, 1, 2, 0, 2, 1, 0, 2)]
    for r in page["accounts"]:
        assert r["report"] == f"accounts/{r['account_id']}/report.html"
        assert r["plan"] == str(ran.out / "accounts" / r["account_id"] / "plan.json")
        assert (ran.out / r["report"]).is_file() and Path(r["plan"]).is_file()
    md = (ran.out / "accounts.md").read_text()
    assert md.index(f"| {B} |") < md.index(f"| {A} |")
    assert f"accounts/{A}/summary.md" in md


def test_the_cross_account_reference_is_attributed_to_the_peer_group(
    ran: Ran, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = ran.org.a, ran.org.b
    (ref,) = json.loads((ran.out / "accounts.json").read_text())["cross_account_references"]
    assert (ref["account_id"], ref["group_id"], ref["rule_id"]) == (
        A,
        a.groups["db"],
        a.rules["postgres_from_b"],
    )
    assert (ref["peer"], ref["peer_account_id"], ref["peer_inventoried"]) == (
        b.groups["app"],
        B,
        True,
    )
    assert (ref["status"], ref["flows"]) == ("used", 1)
    rows = _sql(
        ran,
        "SELECT account_id, status, flows FROM rule_usage "
        f"WHERE rule_id = '{a.rules['postgres_from_b']}'",
        capsys,
    )
    assert rows == [{"account_id": A, "status": "used", "flows": 1}]
    html = (ran.out / "accounts.html").read_text()
    assert a.rules["postgres_from_b"] in html and b.groups["app"] in html


def test_each_account_report_shows_its_own_groups_flows_findings_and_plan(ran: Ran) -> None:
    a, b = ran.org.a, ran.org.b
    for account, mine, theirs in ((A, a, b), (B, b, a)):
        doc = _report(ran, account)
        groups = {r["group_id"] for r in doc["rule_usage"]["rules"]}
        assert set(mine.groups.values()) <= groups
        assert not groups & set(theirs.groups.values())
        assert {f["group_id"] for f in doc["findings"]} - {None} <= groups
        assert {r["group_id"] for r in doc["recommendations"]} <= groups
        assert {r["account_id"] for r in doc["recommendations"]} == {account}
        page = (ran.out / "accounts" / account / "report.html").read_text()
        assert f"flowlens report · {ran.org.day} · account {account}" in page
        assert 'href="../../accounts.html"' in page
        assert theirs.eni_id not in page and mine.eni_id in page
    ha, hb = _report(ran, A)["headline"], _report(ran, B)["headline"]
    # A's ENI saw B's connection (2 records); B's saw the client, its own connection to A and the
    # refused scanner (5 records)
    assert (ha["flow_records"], ha["rejected_records"], ha["findings"]) == (2, 0, 1)
    assert (hb["flow_records"], hb["rejected_records"], hb["findings"]) == (5, 1, 5)
    # ingest accounting: the objects whose key names the account (AWSLogs/<id>/...)
    assert (_report(ran, A)["ingest"]["objects"], _report(ran, A)["ingest"]["rows"]) == (1, 2)
    assert (_report(ran, B)["ingest"]["objects"], _report(ran, B)["ingest"]["rows"]) == (1, 5)
    severe = [f for f in _report(ran, B)["findings"] if f["severity"] == "high"]
    assert [(f["kind"], f["group_id"]) for f in severe] == [
        ("admin_port_open_to_world", b.groups["admin"])
    ]


def test_the_whole_report_stays_the_organisations(ran: Ran) -> None:
    doc = json.loads((ran.out / "report.json").read_text())
    assert doc["headline"]["flow_records"] == 7
    assert doc["headline"]["recommendations"] == 6
    page = (ran.out / "report.html").read_text()
    assert f"<title>flowlens report · {ran.org.day}</title>" in page  # no account: all of them


def test_the_report_command_writes_the_same_pages_with_each_accounts_part_of_the_plan(
    ran: Ran, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "again"
    argv = ["report", "--date", ran.org.day, "--data-dir", str(ran.data), "--out", str(out)]
    capsys.readouterr()
    assert main([*argv, "--plan", str(ran.out / "plan.json"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["accounts"] == str(out / "accounts.html")
    assert doc["account_reports"] == {a: str(out / "accounts" / a / "report.html") for a in (A, B)}
    for account, proposals in ((A, 2), (B, 4)):
        mine = json.loads((out / "accounts" / account / "report.json").read_text())
        assert mine["headline"]["recommendations"] == proposals
        assert {r["account_id"] for r in mine["recommendations"]} == {account}
    page = json.loads((out / "accounts.json").read_text())
    assert [r["account_id"] for r in page["accounts"]] == [B, A]
    assert [r["recommendations"] for r in page["accounts"]] == [4, 2]


def test_sql_names_the_account_on_every_result(
    ran: Ran, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = ran.org.a, ran.org.b
    assert {
        (r["account_id"], r["eni_id"])
        for r in _sql(ran, "SELECT DISTINCT account_id, eni_id FROM conversations", capsys)
    } == {(A, a.eni_id), (B, b.eni_id)}
    for table in ("rule_usage", "rule_matches", "rule_history", "findings", "recommendations"):
        (row,) = _sql(ran, f"SELECT COUNT(*) AS n, COUNT(account_id) AS named FROM {table}", capsys)
        assert row["n"] > 0 and row["named"] == row["n"], table
    rows = _sql(
        ran,
        "SELECT account_id, group_id FROM findings WHERE kind = 'admin_port_open_to_world'",
        capsys,
    )
    assert rows == [{"account_id": B, "group_id": b.groups["admin"]}]
    by_account = _sql(
        ran,
        "SELECT account_id, COUNT(*) AS n FROM recommendations GROUP BY 1 ORDER BY 1",
        capsys,
    )
    assert by_account == [{"account_id": A, "n": 2}, {"account_id": B, "n": 4}]


CHROMIUM_PROBE = """
<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); }, true);
window.addEventListener('load', function () {
  function order() {
    return Array.prototype.map.call(
      document.querySelectorAll('#accounts tbody tr'), function (r) {
        return r.cells[0].textContent.trim(); });
  }
  var before = order();
  var high = Array.prototype.filter.call(document.querySelectorAll('#accounts th'),
    function (th) { return th.textContent === 'high+'; })[0];
  high.click();
  var out = document.createElement('pre');
  out.id = 'probe-result';
  out.textContent = JSON.stringify({
    before: before, ascending: order(), errors: window.__errors,
    links: Array.prototype.map.call(document.querySelectorAll('a[href]:not([href^="#"])'),
      function (a) { return a.getAttribute('href'); }),
    fetched: performance.getEntriesByType('resource').map(function (r) { return r.name; })});
  document.body.appendChild(out);
});
</script>
"""


@pytest.mark.browser
def test_the_organisation_page_renders_sorts_and_links_in_chromium(
    ran: Ran, tmp_path: Path
) -> None:
    from test_report_browser import CHROMIUM, _chromium

    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = (ran.out / "accounts.html").read_text(encoding="utf-8")
    probe = ran.out / "probe.html"  # beside the page: its relative links resolve the same
    probe.write_text(page.replace("</body>", CHROMIUM_PROBE + "</body>"), encoding="utf-8")
    proc = _chromium(["--dump-dom", "--virtual-time-budget=10000", probe.as_uri()], tmp_path / "p")
    probe.unlink()
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"probe did not run: {proc.stderr[-2000:]}"
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert (result["before"], result["ascending"], result["errors"]) == ([B, A], [A, B], [])
    assert [u for u in result["fetched"] if not u.startswith("data:")] == []
    links = set(result["links"])
    assert {f"accounts/{A}/report.html", f"accounts/{B}/report.html", "report.html"} <= links
    assert all((ran.out / link).is_file() for link in links)


@pytest.mark.browser
def test_an_accounts_report_renders_in_chromium_and_links_back(ran: Ran, tmp_path: Path) -> None:
    from test_report_browser import CHROMIUM, PROBE, _chromium

    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    folder = ran.out / "accounts" / A
    page = (folder / "report.html").read_text(encoding="utf-8")
    probe = folder / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = _chromium(["--dump-dom", "--virtual-time-budget=10000", probe.as_uri()], tmp_path / "p")
    probe.unlink()
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"probe did not run: {proc.stderr[-2000:]}"
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert result["images"] and all(i["complete"] and i["width"] > 0 for i in result["images"])
    assert result["errors"] == []
    assert [u for u in result["fetched"] if not u.startswith("data:")] == []
    back = re.search(r'<a class="orglink" href="([^"]+)">', proc.stdout)
    assert back and (folder / back.group(1)).resolve() == (ran.out / "accounts.html").resolve()
