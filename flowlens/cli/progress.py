"""One status line on a terminal for long work: analyze's steps, ingest's bar, recommend's phases.

Only on a TTY and without ``-q``: piped or redirected output (CI logs, ``2> file``) gets none of
it, only the timestamped log lines. While the line is shown, a log record first clears it (the
log keeps its own line and timestamp) and the next update redraws it.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from typing import TextIO

CLEAR = "\r\x1b[K"


def duration(seconds: float) -> str:
    """``0:07``, ``1:05``, ``1:02:03``.

    >>> duration(7.4), duration(65), duration(3723)
    ('0:07', '1:05', '1:02:03')
    """
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def eta(done: float, total: float, elapsed: float) -> str:
    """Time left at the pace so far, or ``?`` before there is a pace.

    >>> eta(1, 4, 10.0), eta(0, 4, 3.0), eta(4, 4, 9.0)
    ('0:30', '?', '0:00')
    """
    if done <= 0 or elapsed <= 0:
        return "?"
    return duration(elapsed / done * max(total - done, 0))


def rate(amount: float, elapsed: float) -> str:
    """``12,345`` per second (``–`` before any time has passed)."""
    return f"{amount / elapsed:,.0f}" if elapsed > 0 else "–"


class _ClearBeforeLog(logging.Filter):
    def __init__(self, line: StatusLine) -> None:
        super().__init__()
        self.line = line

    def filter(self, record: logging.LogRecord) -> bool:
        self.line.clear()
        return True


class StatusLine:
    """A line rewritten in place on ``stream``; every call is a no-op when disabled."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.clock = clock
        self.started = clock()
        self.shown = False
        self._filter = _ClearBeforeLog(self)
        self._handlers: list[logging.Handler] = []
        if self.enabled:
            self._handlers = list(logging.getLogger("flowlens").handlers)
            for h in self._handlers:
                h.addFilter(self._filter)

    @classmethod
    def for_args(cls, args: argparse.Namespace) -> StatusLine:
        """On stderr when it is a terminal and ``-q`` was not given."""
        return cls(sys.stderr, enabled=sys.stderr.isatty() and not getattr(args, "quiet", False))

    def elapsed(self) -> float:
        return self.clock() - self.started

    def show(self, text: str) -> None:
        if self.enabled:
            self.stream.write(CLEAR + text)
            self.stream.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write(CLEAR)
            self.stream.flush()
            self.shown = False

    def close(self) -> None:
        """Leave the last state on its own line and stop watching the log."""
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False
        for h in self._handlers:
            h.removeFilter(self._filter)
        self._handlers = []


class AnalyzeProgress:
    """The analyze status line, e.g.:

    ``analyze 2026-11-28 (day 1/1) · step 7/24 30_conversation_sides · 49,637 records
    · 25,000 records/s · ETA 0:08``
    """

    def __init__(self, line: StatusLine, days: int) -> None:
        self.line, self.days = line, days
        self.day_index = 0
        self.records_before = 0  # records of the days already finished
        self.current: tuple[str, int] = ("", 0)

    def __call__(self, day: object, step: int, steps: int, name: str, records: int) -> None:
        if (str(day), records) != self.current:
            if self.current[0]:
                self.records_before += self.current[1]
            self.current = (str(day), records)
            self.day_index += 1
        done_records = self.records_before + records * (step - 1) / steps  # ``step`` is starting
        total_steps = self.days * steps
        done_steps = (self.day_index - 1) * steps + step - 1
        elapsed = self.line.elapsed()
        self.line.show(
            f"analyze {day} (day {self.day_index}/{self.days}) · step {step}/{steps} {name} · "
            f"{records:,} records · {rate(done_records, elapsed)} records/s · "
            f"ETA {eta(done_steps, total_steps, elapsed)}"
        )


def ingest_bar(line: StatusLine, width: int = 30) -> Callable[[int, int], None]:
    """The ingest callback: ``[#####.....] 12/40 objects · 3.1 objects/s · ETA 0:09``."""

    def show(done: int, total: int) -> None:
        filled = width * done // max(total, 1)
        elapsed = line.elapsed()
        per_s = f"{done / elapsed:,.1f}" if elapsed > 0 else "–"
        line.show(
            f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} objects · {per_s} objects/s "
            f"· ETA {eta(done, total, elapsed)}"
        )

    return show


def phases(line: StatusLine, command: str) -> Callable[[str, int, int], None]:
    """The recommend callback: ``recommend phase 3/5: reading observed traffic (0:02)``."""

    def show(name: str, n: int, m: int) -> None:
        line.show(f"{command} phase {n}/{m}: {name} ({duration(line.elapsed())})")

    return show
