"""The analysed window: whole UTC days, first to last inclusive, as every stage names it.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

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
