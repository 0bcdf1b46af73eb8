"""A rule's use over the analysed days: days used, gaps, and a class (docs/analysis.md).

Classes, judged from the days on which the rule carried flows (``flows > 0``) among the analysed
days of the lookback:

- ``never_used``: no analysed day shows a flow;
- ``periodic``: at least three used days whose gaps repeat (each within 20 %, at least a day, of
  their median) and are longer than a day; the median is the period (7: a weekly job). A
  periodic rule silent for more than :data:`STOP_FACTOR` periods is ``stopped`` instead;
- ``stopped``: silent for more than :data:`STOP_FACTOR` times its usual gap (the median gap
  between used days; 1 when it was used on one day only), counted in analysed days after the
  last use;
- ``active``: everything else.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise
from statistics import median

#: Lookback of the history, in days, when that much has been analysed.
DEFAULT_HISTORY_DAYS = 90
#: Silent for more than this many usual gaps (or periods): ``stopped``.
STOP_FACTOR = 3
#: A periodic rule's removal needs a window of at least this many periods.
PERIODIC_WINDOW_FACTOR = 2


class HistoryClass(StrEnum):
    NEVER_USED = "never_used"
    STOPPED = "stopped"
    PERIODIC = "periodic"
    ACTIVE = "active"


@dataclass(frozen=True)
class History:
    """One rule's history up to ``as_of``; ``pattern`` has one character per calendar day of the
    lookback, oldest first: ``#`` used, ``.`` analysed without use, ``_`` not analysed (the data
    of a per-rule sparkline)."""

    rule_id: str
    group_id: str
    as_of: date
    analysed_days: int
    days_used: int
    first_used: date | None
    last_used: date | None
    mean_flows: float | None
    longest_gap: int | None
    usual_gap: float | None
    silent_days: int
    period: int | None
    cls: HistoryClass
    pattern: str

    def summary(self) -> str:
        """One line for reasons and evidence."""
        if self.cls is HistoryClass.NEVER_USED:
            return f"never used on the {self.analysed_days} analysed days up to {self.as_of}"
        base = (
            f"used on {self.days_used} of {self.analysed_days} analysed days "
            f"({self.first_used}..{self.last_used}, {self.mean_flows:g} flows per used day, "
            f"longest gap {self.longest_gap or 0} days)"
        )
        if self.cls is HistoryClass.PERIODIC:
            return f"periodic, every {self.period} days: {base}"
        if self.cls is HistoryClass.STOPPED:
            return f"stopped: silent for the last {self.silent_days} analysed days; {base}"
        return f"active: {base}"

    def to_dict(self) -> dict[str, object]:
        return {
            "class": self.cls.value,
            "analysed_days": self.analysed_days,
            "days_used": self.days_used,
            "first_used": _iso(self.first_used),
            "last_used": _iso(self.last_used),
            "mean_flows": self.mean_flows,
            "longest_gap": self.longest_gap,
            "silent_days": self.silent_days,
            "period": self.period,
            "pattern": self.pattern,
        }


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _period(gaps: Sequence[int]) -> int | None:
    if len(gaps) < 2:
        return None
    mid = median(gaps)
    if mid < 2 or any(abs(g - mid) > max(1.0, 0.2 * mid) for g in gaps):
        return None
    return round(mid)


def classify(
    rule_id: str,
    group_id: str,
    as_of: date,
    analysed: Iterable[date],
    flows_by_day: Mapping[date, int],
    lookback_days: int = DEFAULT_HISTORY_DAYS,
) -> History:
    """The history of one rule from the analysed days up to ``as_of`` within ``lookback_days``.

    >>> d = date(2026, 11, 28)
    >>> days = [d - timedelta(days=i) for i in range(28)]
    >>> weekly = {x: 40 for x in days if (d - x).days % 7 == 3}
    >>> h = classify("sgr-1", "sg-1", d, days, weekly)
    >>> h.cls.value, h.period, h.days_used, h.silent_days
    ('periodic', 7, 4, 3)
    """
    start = as_of - timedelta(days=max(lookback_days - 1, 0))
    seen = sorted({x for x in analysed if start <= x <= as_of})
    used = [x for x in seen if flows_by_day.get(x, 0) > 0]
    seen_set = set(seen)
    pattern = "".join(
        "#" if flows_by_day.get(x, 0) > 0 and x in seen_set else "." if x in seen_set else "_"
        for x in (start + timedelta(days=i) for i in range((as_of - start).days + 1))
    )
    if not used:
        return History(
            rule_id,
            group_id,
            as_of,
            len(seen),
            0,
            None,
            None,
            None,
            None,
            None,
            len(seen),
            None,
            HistoryClass.NEVER_USED,
            pattern,
        )
    gaps = [(b - a).days for a, b in pairwise(used)]
    silent = sum(1 for x in seen if x > used[-1])
    usual = float(median(gaps)) if gaps else 1.0
    period = _period(gaps)
    if silent > STOP_FACTOR * (period or usual):
        cls = HistoryClass.STOPPED
    elif period is not None:
        cls = HistoryClass.PERIODIC
    else:
        cls = HistoryClass.ACTIVE
    mean = round(sum(flows_by_day[x] for x in used) / len(used), 3)
    return History(
        rule_id,
        group_id,
        as_of,
        len(seen),
        len(used),
        used[0],
        used[-1],
        mean,
        max(gaps) if gaps else None,
        usual if gaps else None,
        silent,
        period if cls is HistoryClass.PERIODIC else None,
        cls,
        pattern,
    )


def periodic_block(h: History | None, window_days: float) -> str | None:
    """Why a removal must wait for a longer window, or None: a periodic rule needs two periods."""
    if h is None or h.cls is not HistoryClass.PERIODIC or h.period is None:
        return None
    need = PERIODIC_WINDOW_FACTOR * h.period
    if window_days >= need:
        return None
    return (
        f"periodic rule (used every {h.period} days; {h.summary()}): removing it needs a window of "
        f"at least {need} days ({PERIODIC_WINDOW_FACTOR} periods), this window has {window_days:g}"
    )


def histories(
    as_of: date,
    rows: Iterable[Mapping[str, object]],
    rules: Iterable[tuple[str, str]],
    lookback_days: int = DEFAULT_HISTORY_DAYS,
) -> list[History]:
    """Histories of ``rules`` ((rule_id, group_id)) from rule_usage-like
    rows (rule_id, date, flows).

    A day counts as analysed when any rule has a row for it.
    """
    analysed: set[date] = set()
    flows: dict[str, dict[date, int]] = {}
    for r in rows:
        day = r["date"]
        assert isinstance(day, date)
        analysed.add(day)
        per = flows.setdefault(str(r["rule_id"]), {})
        per[day] = per.get(day, 0) + int(r["flows"] or 0)  # type: ignore[call-overload]
    return [
        classify(rid, gid, as_of, analysed, flows.get(rid, {}), lookback_days)
        for rid, gid in sorted(set(rules))
    ]
