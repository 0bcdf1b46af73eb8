"""The analysed window: whole UTC days, first to last inclusive, as every stage names it.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flowlens.errors import UsageError


@dataclass(frozen=True)
class Window:
    """UTC days ``first``..``last`` (inclusive); as instants the half-open ``[start, end)``.

    >>> w = Window.of([date(2026, 11, 29), date(2026, 11, 28)])
    >>> w.days, w.start.isoformat(), w.end.isoformat(), w.label()
    (2, '2026-11-28T00:00:00+00:00', '2026-11-30T00:00:00+00:00', '2026-11-28 to 2026-11-29')
    """

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise UsageError(f"a window cannot end ({self.last}) before it starts ({self.first})")

    @classmethod
    def of(cls, days: Iterable[date]) -> Window:
        """The window spanning ``days`` (at least one)."""
        listed = list(days)
        if not listed:
            raise UsageError("a window needs at least one day")
        return cls(min(listed), max(listed))

    @classmethod
    def day(cls, day: date) -> Window:
        return cls(day, day)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]

    @property
    def start(self) -> datetime:
        """00:00 UTC of the first day."""
        return datetime.combine(self.first, time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """00:00 UTC of the day after the last (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC)

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.end

    def label(self) -> str:
        return self.first.isoformat() if self.days == 1 else f"{self.first} to {self.last}"


@dataclass(frozen=True)
class AnalysedWindow:
    """The days asked for and the days that have analysis results: evidence (and
    risk) rests on the latter.

    >>> a = AnalysedWindow.of([date(2026, 11, 27), date(2026, 11, 28)], [date(2026, 11, 28)])
    >>> a.days, a.gap_sentence()
    (1, '1 of 2 days has no analysis: 2026-11-27')
    """

    requested: tuple[date, ...]
    analysed: tuple[date, ...]

    @classmethod
    def of(cls, requested: Iterable[date], analysed: Iterable[date]) -> AnalysedWindow:
        wanted = tuple(sorted(set(requested)))
        have = set(analysed)
        return cls(wanted, tuple(d for d in wanted if d in have))

    @property
    def missing(self) -> tuple[date, ...]:
        """Days of the requested window without analysis results."""
        have = set(self.analysed)
        return tuple(d for d in self.requested if d not in have)

    @property
    def days(self) -> int:
        return len(self.analysed)

    def bounds(self) -> tuple[datetime, datetime]:
        """[first analysed day 00:00 UTC, the day after the last analysed day 00:00 UTC)."""
        w = Window.of(self.analysed or self.requested)
        return w.start, w.end

    def gap_sentence(self) -> str:
        """``"14 of 15 days have no analysis: 2026-11-14..2026-11-27"``, or
        "" when none is missing."""
        missing = self.missing
        if not missing:
            return ""
        verb = "has" if len(missing) == 1 else "have"
        return (
            f"{len(missing)} of {len(self.requested)} days {verb} no "
            f"analysis: {day_ranges(missing)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.requested[0].isoformat(),
            "end": self.requested[-1].isoformat(),
            "days": len(self.requested),
            "missing_days": [d.isoformat() for d in self.missing],
        }


def day_ranges(days: Sequence[date]) -> str:
    """Consecutive days folded into ranges.

    >>> day_ranges([date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 5)])
    '2026-11-01..2026-11-02, 2026-11-05'
    """
    runs: list[list[date]] = []
    for d in sorted(days):
        if runs and (d - runs[-1][-1]).days == 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ", ".join(r[0].isoformat() if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)
