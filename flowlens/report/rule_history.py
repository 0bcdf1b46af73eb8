"""A rule's history in the report: a sparkline of daily use over the analysed days and its class.

From ``rule_history`` as of the window's last analysed day (class, days used, first/last used,
``pattern``) and the flows of each day of its lookback (``rule_history_days.sql``). Markup only;
every value goes through :func:`flowlens.report.html.esc`. The SVG carries its own text
alternative (``role="img"``, ``aria-label`` and a ``<title>``: days used, first and last use, the
class) and the same words sit beside it, so nothing is said by colour or shape alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from flowlens.model.window import Window
from flowlens.report.data import ReportData, rows
from flowlens.report.html import Raw, badge, esc

#: Height of the sparkline and the width (including a 1-unit gap) of one day, in SVG units.
HEIGHT = 20
STEP = 4
#: The widest sparkline drawn, in CSS pixels: 90 days shrink to fit (narrow screens never scroll).
MAX_WIDTH = 180


@dataclass(frozen=True)
class RuleHistory:
    """One rule's ``rule_history`` row as the report reads it, with its days' flows."""

    rule_id: str
    cls: str
    as_of: date
    analysed_days: int
    days_used: int
    first_used: date | None
    last_used: date | None
    silent_days: int
    period: int | None
    pattern: str
    flows: Mapping[date, int]

    def days(self) -> list[tuple[date, str]]:
        """Each calendar day of the lookback from the first analysed one, with its pattern mark."""
        start = self.as_of - timedelta(days=len(self.pattern) - 1)
        marks = [(start + timedelta(days=i), c) for i, c in enumerate(self.pattern)]
        first = next((i for i, (_, c) in enumerate(marks) if c != "_"), len(marks))
        return marks[first:]

    def words(self) -> str:
        """The text alternative: days used, first and last use, and the class in plain words.

        >>> h = RuleHistory("sgr-1", "periodic", date(2026, 11, 28), 28, 4,
        ...     date(2026, 11, 1), date(2026, 11, 22), 6, 7, "#......" * 4, {})
        >>> h.words()
        'used on 4 of 28 analysed days, first 2026-11-01, last 2026-11-22; periodic: every 7 days'
        """
        if self.cls == "never_used" or not self.days_used:
            return f"never used on the {self.analysed_days} analysed days up to {self.as_of}"
        used = (
            f"used on {self.days_used} of {self.analysed_days} analysed days, "
            f"first {self.first_used}, last {self.last_used}"
        )
        if self.cls == "periodic":
            return f"{used}; periodic: every {self.period} days"
        if self.cls == "stopped":
            return f"{used}; stopped: silent for the last {self.silent_days} analysed days"
        return f"{used}; {self.cls}"


def _date(value: Any) -> date | None:
    if value is None or pd.isna(value):  # NULL dates arrive as NaT
        return None
    return pd.Timestamp(value).date()


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def histories(d: ReportData) -> dict[str, RuleHistory]:
    """Rule id → its history in the report, for the rules ``rule_history`` holds (none for
    results analysed before the table existed)."""
    if d.history.empty:
        return {}
    flows: dict[str, dict[date, int]] = {}
    for r in rows(d.history_days) if not d.history_days.empty else []:
        day = _date(r.date)
        if day is not None:
            flows.setdefault(str(r.rule_id), {})[day] = int(r.flows)
    out = {}
    for r in rows(d.history):
        as_of = _date(r.as_of)
        if as_of is None or not isinstance(r.pattern, str):
            continue
        rid = str(r.rule_id)
        out[rid] = RuleHistory(
            rid,
            str(r.history_class),
            as_of,
            _int(r.analysed_days) or 0,
            _int(r.days_used) or 0,
            _date(r.first_used),
            _date(r.last_used),
            _int(r.silent_days) or 0,
            _int(r.period),
            r.pattern,
            flows.get(rid, {}),
        )
    return out


def sparkline(h: RuleHistory, window: Window | None = None) -> str:
    """The days of ``h`` as an inline SVG: a bar per used day (log height: one busy day must not
    flatten the rest), a low tick per analysed day without use, nothing for a day not analysed;
    the window's days on a light band."""
    days = h.days()
    if not days:
        return ""
    values = [h.flows.get(day, 0) if mark == "#" else 0 for day, mark in days]
    top = max((math.log10(v + 1) for v in values), default=0.0) or 1.0
    window_days = set(window.dates()) if window is not None else set()
    parts = []
    band = [i for i, (day, _) in enumerate(days) if day in window_days]
    if band and len(band) < len(days):
        parts.append(
            f'<rect class="win" x="{band[0] * STEP}" y="0" '
            f'width="{(band[-1] - band[0] + 1) * STEP}" height="{HEIGHT}"/>'
        )
    for i, ((day, mark), v) in enumerate(zip(days, values, strict=True)):
        if mark == "#" and day in h.flows:
            height = max(3.0, HEIGHT * math.log10(v + 1) / top)
            tip, cls = f"{day}: {v:,} flows", "on"
        elif mark == "#":  # that day's rule_usage is gone: used, by how much unknown
            height, tip, cls = HEIGHT / 2, f"{day}: used (flows not in rule_usage)", "on"
        elif mark == ".":
            height, tip, cls = 1.5, f"{day}: analysed, not used", "off"
        else:
            continue
        parts.append(
            f'<rect class="{cls}" x="{i * STEP}" y="{HEIGHT - height:.1f}" width="{STEP - 1}" '
            f'height="{height:.1f}"><title>{esc(tip)}</title></rect>'
        )
    width = len(days) * STEP
    shown = min(width, MAX_WIDTH)
    label = esc(f"{h.rule_id}: {h.words()}")
    return (
        f'<svg class="spark hist" width="{shown}" height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}" '
        f'preserveAspectRatio="none" role="img" aria-label="{label}" data-rule="{esc(h.rule_id)}">'
        f"<title>{label}</title>{''.join(parts)}</svg>"
    )


def history_cell(h: RuleHistory, window: Window | None = None) -> Raw:
    """The sparkline, the class as a badge, and the days used with the last use, as text."""
    last = f" · last {h.last_used}" if h.last_used else ""
    facts = f"{h.days_used}/{h.analysed_days} days{last}"
    if h.cls == "periodic" and h.period:
        facts += f" · every {h.period} days"
    return Raw(
        f'<span class="history">{sparkline(h, window)} {badge(h.cls, "hist").text} '
        f'<span class="muted">{esc(facts)}</span></span>'
    )


def usage_cell(
    hist: Mapping[str, RuleHistory], rule_id: Any, window: Window | None, fallback: Raw
) -> Raw:
    """The rule's history cell, sorting by days used; ``fallback`` for a rule without one."""
    h = hist.get(str(rule_id))
    if h is None:
        return fallback
    return Raw(history_cell(h, window).text, sort=h.days_used)
