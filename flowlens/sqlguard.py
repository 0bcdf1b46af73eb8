"""The read-only guarantee of ``flowlens sql`` and ``flowlens.connect()``: two
layers, both DuckDB's own.

1. :func:`confine` limits what a connection can touch: external access off, the data directory
   the only allowed directory, extension auto-install/auto-load off, and the configuration locked
   so no ``SET`` can undo any of it. A query can then read no file outside the data directory
   (``read_csv('/etc/passwd')``, ``/proc/self/environ``) and write none outside it.
2. :func:`check_read_only` accepts only statements that cannot change anything, classified by
   DuckDB's parser (``duckdb.extract_statements`` and its statement types) and tokenizer, never by
   matching the text: a ``COPY … TO`` into the data directory, ``EXPORT DATABASE``, ``SET``,
   ``ATTACH``, ``INSTALL``, and ``EXPLAIN ANALYZE`` of any of them, are refused before they run.

``flowlens sql`` applies both; ``flowlens.connect()`` applies the first (it hands out a plain DuckDB
connection), and code that runs other people's SQL on it should call :func:`check_read_only` first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from flowlens.errors import UsageError

ACCEPTED = "SELECT, WITH, SHOW, DESCRIBE, SUMMARIZE, PRAGMA table_info, EXPLAIN [ANALYZE] of those"

_Token = tuple[int, int]  # start, end of one token's text (comments left out)


def confine(con: duckdb.DuckDBPyConnection, root: Path, *, also: Sequence[Path] = ()) -> None:
    """Limit ``con``'s file access to ``root`` (and the folders ``also``: a results location
    apart from it) and lock its configuration (irreversible)."""
    # Both spellings of the root: views may name it as given or with symlinks resolved; DuckDB
    # compares path prefixes, so each ends with a separator ("/data" must not admit "/data-evil").
    dirs = sorted(
        {str(p.absolute()).rstrip("/") + "/" for p in (root, *also)}
        | {str(p.resolve()).rstrip("/") + "/" for p in (root, *also)}
    )
    listed = ", ".join("'" + d.replace("'", "''") + "'" for d in dirs)
    con.execute(f"SET allowed_directories = [{listed}]")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET allow_community_extensions = false")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def check_read_only(sql: str) -> None:
    """Refuse (``UsageError``, exit 2) anything but one statement that only reads."""
    statements = _parse(sql)
    if len(statements) != 1:
        raise UsageError(
            f"give exactly one statement (got {len(statements)}); flowlens sql is read-only"
        )
    _check(statements[0].type, sql, nested=False)


def _parse(sql: str) -> list[duckdb.Statement]:
    try:
        return duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise UsageError(f"cannot parse the query: {exc}") from exc


def _refuse(kind: duckdb.StatementType | str) -> UsageError:
    name = kind if isinstance(kind, str) else str(kind).split(".")[-1]
    return UsageError(f"flowlens sql is read-only: {name} statements are refused; use {ACCEPTED}")


def _check(kind: duckdb.StatementType, sql: str, *, nested: bool) -> None:
    # SHOW, DESCRIBE, SUMMARIZE, FROM-first, VALUES and WITH all parse as SELECT statements
    if kind == duckdb.StatementType.SELECT:
        return
    tokens = _tokens(sql)
    if kind == duckdb.StatementType.PRAGMA and _is_table_info(sql, tokens):
        return
    if kind == duckdb.StatementType.EXPLAIN and not nested:
        inner = _explained(sql, tokens)
        statements = _parse(inner) if inner is not None else []
        if len(statements) != 1:
            raise UsageError("cannot tell what this EXPLAIN explains; flowlens sql is read-only")
        try:
            _check(statements[0].type, inner or "", nested=True)
        except UsageError:
            raise _refuse(f"EXPLAIN of {str(statements[0].type).split('.')[-1]}") from None
        return
    raise _refuse(kind)


def _tokens(sql: str) -> list[_Token]:
    """DuckDB's tokens of ``sql`` without comments; a token ends where the next
    one (or a comment) starts."""
    raw = duckdb.tokenize(sql)
    ends = [start for start, _ in raw[1:]] + [len(sql)] * bool(raw)
    return [
        (start, end)
        for (start, kind), end in zip(raw, ends, strict=True)
        if kind != duckdb.token_type.comment
    ]


def _word(sql: str, tokens: list[_Token], i: int) -> str:
    """The text of token ``i`` (lower case), or '' past the end."""
    if i >= len(tokens):
        return ""
    start, end = tokens[i]
    return sql[start:end].strip().lower()


def _is_table_info(sql: str, tokens: list[_Token]) -> bool:
    # PRAGMA table_info(...) only; IMPORT DATABASE and COPY FROM DATABASE also parse as PRAGMA
    return (
        _word(sql, tokens, 0) == "pragma"
        and _word(sql, tokens, 1) == "table_info"
        and _word(sql, tokens, 2) == "("
    )


_EXPLAIN_OPTIONS = {"format", "analyze", "analyse"}


def _explained(sql: str, tokens: list[_Token]) -> str | None:
    """The statement an ``EXPLAIN [ANALYZE] [(options)]`` wraps, as text; None if it cannot be told.

    The prefix is read token by token; if it is misread, the remainder does not parse as one
    statement and the EXPLAIN is refused, so a misreading can only refuse, never admit.
    """
    if _word(sql, tokens, 0) != "explain":
        return None
    i = 1
    if _word(sql, tokens, i) in ("analyze", "analyse"):
        i += 1
    if _word(sql, tokens, i) == "(" and _word(sql, tokens, i + 1) in _EXPLAIN_OPTIONS:
        depth = 0
        while i < len(tokens):
            w = _word(sql, tokens, i)
            depth += w == "("
            depth -= w == ")"
            i += 1
            if depth == 0:
                break
    if i >= len(tokens):
        return None
    return sql[tokens[i][0] :]


def is_refusal(exc: duckdb.Error) -> bool:
    """True if DuckDB refused ``exc``'s query because of :func:`confine` (not a query mistake)."""
    return isinstance(exc, duckdb.PermissionException) or "configuration has been locked" in str(
        exc
    )
