"""Every documentation reference in the repository resolves: files exist, #anchors name a heading.

Covered: relative Markdown links in every .md file, and every ``docs/<page>.md[#anchor]`` written
anywhere (code comments, docstrings, SQL comments, Markdown). Anchors follow GitHub's rules, so a
link that works here works on GitHub. Nothing may point outside the repository.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from conftest import REPO

#: Where documentation references can live; large data folders are left out.
ROOTS = (
    "README.md",
    "docs",
    "flowlens",
    "sql",
    "tests",
    "bench",
    "sample_logs",
    ".ci",
    "Makefile",
    "pyproject.toml",
)
SKIP_DIRS = {"__pycache__", "s3", ".venv", ".git"}
SUFFIXES = {".md", ".py", ".sql", ".toml", ""}

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_MD_LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_DOCS_REF = re.compile(r"(?<![\w./-])docs/([\w.-]+\.md)(#[\w-]+)?")


def _files() -> list[Path]:
    found: list[Path] = []
    for root in ROOTS:
        path = REPO / root
        if path.is_file():
            found.append(path)
            continue
        for p in sorted(path.rglob("*")):
            rel = p.relative_to(REPO).parts
            text_file = p.suffix in SUFFIXES and (p.suffix != "" or p.parent.name == ".ci")
            if p.is_file() and text_file and not SKIP_DIRS & set(rel):
                found.append(p)
    return found


FILES = _files()
MARKDOWN = [p for p in FILES if p.suffix == ".md"]


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: its text lowercased, punctuation dropped, spaces as hyphens.

    >>> github_anchor("report.json keys (schema `flowlens.report/1`)")
    'reportjson-keys-schema-flowlensreport1'
    >>> github_anchor("Addresses: srcaddr and pkt-srcaddr")
    'addresses-srcaddr-and-pkt-srcaddr'
    """
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return kept.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Every heading id of a Markdown file (duplicates numbered as GitHub does)."""
    seen: dict[str, int] = {}
    ids: set[str] = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced or not (m := _HEADING.match(line)):
            continue
        base = github_anchor(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        ids.add(base if n == 0 else f"{base}-{n}")
    return frozenset(ids)


def _without_code(text: str) -> str:
    """Markdown without fenced blocks and inline code (link syntax there is
    an example, not a link)."""
    out, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        out.append("" if fenced else re.sub(r"`[^`]*`", "", line))
    return "\n".join(out)


def _check(source: Path, target: Path, anchor: str | None, written: str) -> str | None:
    where = f"{source.relative_to(REPO)}: {written}"
    try:
        target.resolve().relative_to(REPO.resolve())
    except ValueError:
        return f"{where} points outside the repository"
    if not target.exists():
        return f"{where}: no such file"
    if anchor:
        if target.suffix != ".md":
            return f"{where}: an anchor into a file that is not Markdown"
        if anchor not in anchors(target):
            return f"{where}: {target.name} has no heading #{anchor}"
    return None


def test_relative_markdown_links_resolve() -> None:
    problems = []
    for md in MARKDOWN:
        for m in _MD_LINK.finditer(_without_code(md.read_text(encoding="utf-8"))):
            link = m.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", link):  # https:, mailto:, data:
                continue
            path, _, anchor = link.partition("#")
            target = md if not path else md.parent / path
            if problem := _check(md, target, anchor or None, link):
                problems.append(problem)
    assert not problems, "\n".join(problems)


def test_docs_references_in_code_sql_and_docs_resolve() -> None:
    problems, count = [], 0
    for f in FILES:
        for m in _DOCS_REF.finditer(f.read_text(encoding="utf-8")):
            count += 1
            page, anchor = m.group(1), (m.group(2) or "").lstrip("#") or None
            if problem := _check(f, REPO / "docs" / page, anchor, m.group(0)):
                problems.append(problem)
    assert count > 30, "the scan found almost no docs/ references: is the pattern still right?"
    assert not problems, "\n".join(problems)


_FORBIDDEN = re.compile(
    "|".join(
        [
            r"\.\./" + "shared",
            "shared/" + "corpus",
            "shared/" + "reference",
            r"\bdesign" + r"\.md",
            r"\bdomain" + r"\.md",
        ]
    )
)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_nothing_refers_outside_the_repository(path: Path) -> None:
    hits = [
        f"{n}: {line.strip()}"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _FORBIDDEN.search(line)
    ]
    assert not hits, (
        f"{path.relative_to(REPO)} refers to documents that are not in the repository:\n"
        + "\n".join(hits)
    )


def test_every_docs_page_is_linked_from_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [
        p.name for p in sorted((REPO / "docs").glob("*.md")) if f"docs/{p.name}" not in readme
    ]
    assert not missing, f"README.md does not link {missing}"
