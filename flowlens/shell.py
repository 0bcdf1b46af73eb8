"""The ``flowlens sql`` prompt's logic: statement splitting, dot commands, settings, completion.

Nothing here touches a terminal, a connection or a file (DuckDB is used only for its parser and
tokenizer), so it is tested without a TTY; the prompt loop (readline, Ctrl-C, threads, printing)
lives in :mod:`flowlens.cli.sql`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

import duckdb

from flowlens.errors import UsageError

PROMPT = "flowlens> "
CONTINUATION = "     ...> "
DEFAULT_MAX_ROWS = 40
HISTORY_ENV = "FLOWLENS_HISTORY"
HISTORY_FILE = ".flowlens_history"
MODES = ("table", "csv", "json", "line")

HELP = """\
SQL statements end with ';' and may span lines; only reads are accepted (SELECT, WITH, SHOW,
DESCRIBE, SUMMARIZE, PRAGMA table_info, EXPLAIN [ANALYZE] of those).
  .tables              list the tables
  .schema [TABLE]      the columns of TABLE (or of every table) with their types
  .mode [MODE]         output format: table, csv, json or line (no MODE: show the current one)
  .maxrows [N]         show at most N rows of a result, 0 for all (no N: show the limit)
  .timer on|off        show each query's run time (default on)
  .help                this text
  .quit, .exit         leave (or Ctrl-D)
Ctrl-C cancels the running query or the line being typed; Tab completes table and column names."""


class Dot(Enum):
    """The dot commands the prompt knows."""

    TABLES = ".tables"
    SCHEMA = ".schema"
    MODE = ".mode"
    MAXROWS = ".maxrows"
    TIMER = ".timer"
    HELP = ".help"
    QUIT = ".quit"


_ALIASES = {".exit": Dot.QUIT, ".q": Dot.QUIT, ".h": Dot.HELP}
DOT_NAMES = tuple(sorted([d.value for d in Dot] + list(_ALIASES)))


@dataclass(frozen=True)
class DotCommand:
    command: Dot
    arg: str | None = None


@dataclass(frozen=True)
class Settings:
    """The prompt's state that dot commands change."""

    mode: str = "table"
    max_rows: int = DEFAULT_MAX_ROWS  # 0: no limit
    timer: bool = True


def is_dot(line: str) -> bool:
    """A dot command is a line starting with '.' typed where a new statement would start."""
    return line.lstrip().startswith(".")


def parse_dot(line: str) -> DotCommand:
    """``.mode csv`` → ``DotCommand(Dot.MODE, "csv")``; a wrong command or argument is a UsageError.

    >>> parse_dot(".maxrows 100")
    DotCommand(command=<Dot.MAXROWS: '.maxrows'>, arg='100')
    """
    words = line.split()
    name = words[0].lower() if words else ""
    command = _ALIASES.get(name) or next((d for d in Dot if d.value == name), None)
    if command is None:
        raise UsageError(f"unknown command {name or line!r}; .help lists the commands")
    args = words[1:]
    takes = {Dot.SCHEMA: 1, Dot.MODE: 1, Dot.MAXROWS: 1, Dot.TIMER: 1}.get(command, 0)
    if len(args) > takes:
        raise UsageError(
            f"{command.value} takes "
            f"{'no argument' if takes == 0 else 'one argument'}; .help shows its use"
        )
    arg = args[0] if args else None
    if command is Dot.MODE and arg is not None and arg.lower() not in MODES:
        raise UsageError(f".mode {arg}: choose one of {', '.join(MODES)}")
    if command is Dot.MAXROWS and arg is not None and not (arg.isdigit()):
        raise UsageError(f".maxrows {arg}: give a whole number of rows (0 for no limit)")
    if command is Dot.TIMER and arg is not None and arg.lower() not in ("on", "off"):
        raise UsageError(f".timer {arg}: give on or off")
    return DotCommand(
        command, arg.lower() if arg is not None and command is not Dot.SCHEMA else arg
    )


def apply(settings: Settings, cmd: DotCommand) -> tuple[Settings, str]:
    """The settings after a ``.mode``/``.maxrows``/``.timer`` command, and the line to show."""
    if cmd.command is Dot.MODE:
        if cmd.arg is None:
            return settings, f"mode: {settings.mode}"
        return replace(settings, mode=cmd.arg), f"mode: {cmd.arg}"
    if cmd.command is Dot.MAXROWS:
        if cmd.arg is not None:
            settings = replace(settings, max_rows=int(cmd.arg))
        return settings, f"maxrows: {settings.max_rows or 'no limit'}"
    if cmd.command is Dot.TIMER:
        if cmd.arg is not None:
            settings = replace(settings, timer=cmd.arg == "on")
        return settings, f"timer: {'on' if settings.timer else 'off'}"
    raise ValueError(f"{cmd.command.value} does not change settings")


def is_complete(buffer: str) -> bool:
    """True once ``buffer`` ends with a ';' outside strings, quoted names and comments.

    DuckDB's own tokenizer decides, so ``SELECT ';'`` and ``SELECT 1 -- ;`` are not complete.

    >>> [is_complete(s) for s in ("SELECT 1", "SELECT 1;", "SELECT ';'", "SELECT 1; -- done")]
    [False, True, False, True]
    """
    raw = duckdb.tokenize(buffer)
    ends = [start for start, _ in raw[1:]] + [len(buffer)] * bool(raw)
    words = [
        buffer[start:end].strip()
        for (start, kind), end in zip(raw, ends, strict=True)
        if kind != duckdb.token_type.comment
    ]
    return bool(words) and words[-1] == ";"


def split(buffer: str) -> list[str]:
    """The statements of a complete buffer, each as its own text (DuckDB's parser splits them).

    A buffer that does not parse is returned whole, so running it reports DuckDB's parse error.

    >>> split("SELECT 1; SELECT ';';")
    ['SELECT 1;', " SELECT ';';"]
    """
    try:
        statements = duckdb.extract_statements(buffer)
    except duckdb.Error:
        return [buffer]
    return [s.query for s in statements]


def history_entry(buffer: str) -> str:
    """A statement as one history line (readline's file keeps one entry per line)."""
    return " ".join(line.strip() for line in buffer.splitlines() if line.strip())


def history_path(env: Mapping[str, str], home: Path) -> Path | None:
    """``$FLOWLENS_HISTORY`` (empty: no history), else ``~/.flowlens_history``.

    Kept out of the data directory on purpose: the prompt writes nothing there.
    """
    if HISTORY_ENV in env:
        return Path(env[HISTORY_ENV]).expanduser() if env[HISTORY_ENV] else None
    return home / HISTORY_FILE


def completions(text: str, words: Iterable[str]) -> list[str]:
    """The words starting with ``text``, compared case-insensitively, sorted.

    >>> completions("rule_", ["rule_usage", "rule_matches", "flows"])
    ['rule_matches', 'rule_usage']
    """
    low = text.lower()
    return sorted({w for w in words if w.lower().startswith(low)})


def default_home() -> Path:
    return Path(os.path.expanduser("~"))
