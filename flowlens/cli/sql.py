"""``flowlens sql``: ad-hoc read-only SQL over the catalog, one query or an interactive prompt."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb

from flowlens import query, shell
from flowlens.cli import _common
from flowlens.errors import ExitCode, FlowlensError, UsageError


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub,
        "sql",
        help="ad-hoc read-only SQL over the catalog",
        description="Run a read-only query over every flowlens table (flows, sg_rules, "
        "conversations, rule_usage, rejected, findings, ...). Only SELECT, WITH, SHOW, DESCRIBE, "
        "SUMMARIZE, PRAGMA table_info and EXPLAIN [ANALYZE] of those are accepted, and no query "
        "reads or writes a file outside the data dir; anything else is refused with exit 2. '-' "
        "reads the query from stdin. No QUERY opens a prompt: statements end with ';' and may "
        "span lines, Ctrl-C cancels the running query or the line, Tab completes table and column "
        "names, history is kept in ~/.flowlens_history ($FLOWLENS_HISTORY; empty for none), .help "
        "lists the commands (.tables, .schema, .mode, .maxrows, .timer, .quit).",
        example='flowlens sql "SELECT rule_id, status, status_reason FROM rule_usage WHERE '
        "status = 'unused'\"\n"
        "echo 'SELECT cause, COUNT(*) FROM rejected GROUP BY cause' | flowlens sql - --format "
        "json\n"
        "flowlens sql --max-rows 100    # the prompt; .help lists its commands",
    )
    p.add_argument("query", nargs="?", metavar="QUERY", help="the SQL; '-' reads it from stdin")
    p.add_argument(
        "--format", choices=query.FORMATS, default="table", help="output format (default: table)"
    )
    p.add_argument(
        "--max-rows",
        type=int,
        default=None,
        metavar="N",
        help=f"show at most N rows, counting the rest (default: all for QUERY, "
        f"{shell.DEFAULT_MAX_ROWS} at the prompt; 0: all)",
    )
    _common.add_location_options(p.add_argument_group("data in S3 (docs/engines.md)"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flowlens.catalog import connect

    if args.max_rows is not None and args.max_rows < 0:
        raise UsageError(f"--max-rows {args.max_rows}: give 0 (all rows) or more")
    with _no_sigint_in_new_threads() if args.query is None else contextlib.nullcontext():
        con = connect(
            _common.data_dir(args), read_only=True
        )  # DuckDB starts its worker threads here
    try:
        if args.query is None:
            max_rows = shell.DEFAULT_MAX_ROWS if args.max_rows is None else args.max_rows
            return Prompt(con, shell.Settings(mode=args.format, max_rows=max_rows)).loop()
        sql = sys.stdin.read() if args.query == "-" else args.query
        result = query.run(con, sql, max_rows=args.max_rows or None)
        print(query.render(result.names, result.rows, args.format, total=result.total))
        if result.more:
            print(f"... {result.more:,} more rows (--max-rows to show them)", file=sys.stderr)
        return 0
    finally:
        con.close()


@contextlib.contextmanager
def _no_sigint_in_new_threads() -> Iterator[None]:
    """Threads started inside (DuckDB's) block SIGINT, so Ctrl-C always reaches the prompt's thread.

    The kernel hands a process's SIGINT to any thread that does not block it; one that lands in a
    DuckDB thread sets Python's flag but never wakes readline's wait for input, and Ctrl-C at the
    prompt would seem to do nothing.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _block_sigint() -> None:
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


class Prompt:
    """The interactive loop. Statements run at ';'; errors are shown and the prompt stays."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: shell.Settings) -> None:
        self.con = con
        self.settings = settings
        self.tty = sys.stdin.isatty()
        self.readline: ModuleType | None = None
        self.history: Path | None = None
        self.failed = ExitCode.OK  # the worst error seen: a script on stdin exits with it

    def loop(self) -> int:
        if self.tty:
            self._start_readline()
            print(
                "flowlens sql (read-only). End statements with ';'. .help for help, .quit or "
                f"Ctrl-D to leave. Showing up to {self.settings.max_rows or 'all'} rows.",
                file=sys.stderr,
            )
        buffer = ""
        while True:
            try:
                line = input((shell.CONTINUATION if buffer else shell.PROMPT) if self.tty else "")
            except EOFError:
                if buffer.strip():
                    self._statements(buffer)
                if self.tty:
                    print(file=sys.stderr)
                return self._exit_code()
            except KeyboardInterrupt:  # Ctrl-C while typing: drop the statement, keep the prompt
                print("^C" if not buffer else "^C (statement discarded)", file=sys.stderr)
                buffer = ""
                continue
            try:
                if not buffer and shell.is_dot(line):
                    self._remember(line)
                    if not self._dot(line):
                        return self._exit_code()
                    continue
                if not buffer and not line.strip():
                    continue
                buffer = f"{buffer}\n{line}" if buffer else line
                if shell.is_complete(buffer):
                    statement, buffer = buffer, ""
                    self._remember(statement)
                    self._statements(statement)
            except KeyboardInterrupt:  # Ctrl-C while a result prints: stop it, keep the prompt
                print("^C", file=sys.stderr)

    def _exit_code(self) -> int:
        # at a terminal errors were shown and answered; a script's caller
        # learns of them from the code
        return 0 if self.tty else int(self.failed)

    def _statements(self, buffer: str) -> None:
        for sql in shell.split(buffer):
            try:
                self._show(self._execute(sql))
            except FlowlensError as exc:  # a bad or refused query must not end the session
                print(f"error: {exc}", file=sys.stderr)
                self.failed = max(self.failed, exc.exit_code)

    def _execute(self, sql: str) -> query.Result:
        """Run in a worker thread so Ctrl-C reaches us here and interrupts
        DuckDB (con.interrupt())."""
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            _block_sigint()  # and threads DuckDB starts from this one inherit the mask
            try:
                outcome["result"] = query.run(
                    self.con, sql, max_rows=self.settings.max_rows or None
                )
            except BaseException as exc:  # noqa: BLE001 - handed back to the prompt's thread
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=work, name="flowlens-sql-query", daemon=True).start()
        # wait on an Event, not Thread.join: a join interrupted by Ctrl-C can
        # report a live thread dead
        cancelled = False
        while not done.is_set():
            try:
                if (
                    cancelled
                ):  # again until it ends: a first interrupt can land before DuckDB starts
                    self.con.interrupt()
                done.wait(0.05)
            except KeyboardInterrupt:
                cancelled = True
                # DuckDB stops the query; the worker then reports QueryCancelled
                self.con.interrupt()
        if "error" in outcome:
            raise outcome["error"]
        result: query.Result = outcome["result"]
        return result

    def _show(self, result: query.Result) -> None:
        print(query.render(result.names, result.rows, self.settings.mode, total=result.total))
        if result.more:
            print(
                f"... {result.more:,} more rows (.maxrows N to show more, 0 for all)",
                file=sys.stderr,
            )
        if self.settings.timer and self.tty:
            print(f"Run Time: {result.seconds:.3f} s", file=sys.stderr)

    def _dot(self, line: str) -> bool:
        """Run a dot command; False means leave."""
        try:
            cmd = shell.parse_dot(line)
            if cmd.command is shell.Dot.QUIT:
                return False
            if cmd.command is shell.Dot.HELP:
                print(shell.HELP)
            elif cmd.command is shell.Dot.TABLES:
                print("\n".join(self._tables()))
            elif cmd.command is shell.Dot.SCHEMA:
                print(self._schema(cmd.arg))
            else:
                self.settings, shown = shell.apply(self.settings, cmd)
                print(shown, file=sys.stderr)
        except FlowlensError as exc:
            print(f"error: {exc}", file=sys.stderr)
            self.failed = max(self.failed, exc.exit_code)
        return True

    def _tables(self) -> list[str]:
        rows = self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT internal AND NOT temporary UNION "
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary ORDER BY 1"
        ).fetchall()
        return [r[0] for r in rows]

    def _columns(self, table: str | None) -> list[tuple[str, str, str]]:
        sql = (
            "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE NOT internal "
            "AND (? IS NULL OR lower(table_name) = lower(?)) ORDER BY table_name, column_index"
        )
        try:
            return [(t, c, d) for t, c, d in self.con.execute(sql, [table, table]).fetchall()]
        except duckdb.Error as exc:
            raise UsageError(f"cannot read the columns: {exc}") from exc

    def _schema(self, table: str | None) -> str:
        cols = self._columns(table)
        if not cols:
            raise UsageError(f"no table {table!r}; .tables lists them")
        out: dict[str, list[str]] = {}
        for t, c, d in cols:
            out.setdefault(t, []).append(f"{c} {d}")
        if table is not None:  # one table: a column per line, like psql's \\d
            width = max(len(c) for _, c, _ in cols)
            return "\n".join(f"{c.ljust(width)}  {d}" for _, c, d in cols)
        return "\n".join(f"{t}({', '.join(c)})" for t, c in out.items())

    def _start_readline(self) -> None:
        with contextlib.suppress(ImportError):
            self.readline = importlib.import_module("readline")  # line editing, completion, history
        rl = self.readline
        if rl is None:
            return
        words = list(shell.DOT_NAMES)
        with contextlib.suppress(duckdb.Error, UsageError):
            cols = self._columns(None)
            words += self._tables() + [c for _, c, _ in cols]
            words += [
                r[0]
                for r in self.con.execute("SELECT keyword_name FROM duckdb_keywords()").fetchall()
            ]
        matches: list[str] = []

        def complete(text: str, state: int) -> str | None:
            nonlocal matches
            if state == 0:
                matches = shell.completions(text, words)
            return matches[state] if state < len(matches) else None

        rl.set_completer(complete)
        rl.set_completer_delims(" \t\n()[],;=<>+-*/|'\"")
        rl.parse_and_bind("tab: complete")
        rl.set_auto_history(False)  # whole statements go in history, not their lines
        rl.set_history_length(1000)
        self.history = shell.history_path(os.environ, shell.default_home())
        if self.history is not None:
            try:
                # the history holds queries: readable by the user alone
                os.close(os.open(self.history, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
                rl.read_history_file(str(self.history))
            except OSError as exc:
                print(f"warning: no history ({self.history}: {exc.strerror})", file=sys.stderr)
                self.history = None

    def _remember(self, entry: str) -> None:
        rl = self.readline
        if rl is None:
            return
        rl.add_history(shell.history_entry(entry))
        if self.history is not None:
            try:
                rl.append_history_file(1, str(self.history))
            except OSError as exc:
                print(
                    f"warning: history not saved ({self.history}: {exc.strerror})", file=sys.stderr
                )
                self.history = None
