"""SQL kept in ``sql/<stage>/<name>.sql``, one query per file, loaded by name.

Each file starts with a comment header::

    -- name: rule_usage
    -- returns: one row per SG rule per window: status, flows, connections, ...
    -- params: $window_start, $window_end

A header value too long for one line (SQL lines stay within 100 characters) continues on the
lines right after it, each ``--`` followed by four spaces or more.

Where one engine needs its own form of a query (Spark hash-aggregates only fixed-width buffers, so a
``MIN`` over text sorts every row there), the file says so in its header (``-- variants: spark``,
with why in the header's comments) and holds that form after a line ``-- variant: spark`` (the
default form ends with ``;`` there, dropped on loading, so sqlfluff reads two statements): the text
before it is the query every other engine runs (:attr:`Query.sql`), the text after it Spark's
(:attr:`Query.spark_sql`). Both forms declare the same parameters and give the same rows (the
Spark-equals-DuckDB tests run the variant).

Parameters use DuckDB's own binding (``$name``); values are never formatted into SQL text.
The loader checks that the parameters a query uses are exactly the ones its header declares,
and reports problems as ``file:line``. :func:`execute` and :func:`rows` are the one way a stage
runs a named query on a DuckDB connection: they bind exactly the declared parameters and name
the query's file when the engine fails; other engines bind with :func:`bind`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowlens.errors import AnalysisError

if TYPE_CHECKING:
    import duckdb

_HEADER_RE = re.compile(r"^--\s*(name|returns|params|variants):\s*(.*)$")
_VARIANT_RE = re.compile(r"^-- variant: (\w+)[ \t]*(?:\n|$)", re.MULTILINE)
VARIANTS = ("spark",)
_CONTINUATION_RE = re.compile(r"^--\s{4,}(\S.*)$")
_PARAM_RE = re.compile(r"(?<![\w$])\$([A-Za-z_]\w*)")
_STRING_OR_COMMENT_RE = re.compile(r"'(?:[^']|'')*'|--[^\n]*")


@dataclass(frozen=True)
class Query:
    """One named query read from a ``.sql`` file."""

    name: str
    path: Path
    returns: str
    params: tuple[str, ...]
    sql: str
    spark_sql: str | None = None
    """Spark's own form, when the file declares ``-- variants: spark`` (else ``None``)."""

    def sql_for(self, dialect: str) -> str:
        """The form ``dialect`` runs: its variant if the file has one, else :attr:`sql`."""
        return (self.spark_sql if dialect == "spark" else None) or self.sql


def sql_root() -> Path:
    """Where the SQL lives: inside the installed package, else the source tree's ``sql/``."""
    packaged = Path(str(resources.files("flowlens"))) / "sql"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "sql"


def parse_query(text: str, path: Path) -> Query:
    """Parse a query file's header and check its parameters."""
    header: dict[str, str] = {}
    last: str | None = None  # the key a continuation line extends
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("--"):
            break
        m = _HEADER_RE.match(line)
        more = _CONTINUATION_RE.match(line) if last else None
        if m:
            last = m.group(1)
            header[last] = m.group(2).strip()
        elif last and more:
            header[last] = f"{header[last]} {more.group(1).strip()}"
        else:
            last = None
        if not m and not header and lineno == 1:
            raise AnalysisError(f"{path}:1: a query file must start with '-- name: <name>'")
    for key in ("name", "returns"):
        if key not in header:
            raise AnalysisError(f"{path}:1: header lacks '-- {key}: ...'")
    if header["name"] != path.stem:
        raise AnalysisError(
            f"{path}:1: header name {header['name']!r} differs from the file name {path.stem!r}"
        )
    declared = tuple(
        p.strip().lstrip("$") for p in header.get("params", "").split(",") if p.strip()
    )
    forms = _VARIANT_RE.split(text)  # [default, name, text, name, text, ...]
    if len(forms) > 1:  # the default form ends with ';', so linters read the file's statements
        forms[0] = re.sub(r";\s*$", "\n", forms[0])
    variants = dict(zip(forms[1::2], forms[2::2], strict=True))
    wanted = {v.strip() for v in header.get("variants", "").split(",") if v.strip()}
    unknown = (wanted | set(variants)) - set(VARIANTS)
    if unknown or wanted != set(variants):
        raise AnalysisError(
            f"{path}:1: the header declares variants {sorted(wanted)}, the file holds "
            f"{sorted(variants)} (known: {', '.join(VARIANTS)})"
        )
    for form in (forms[0], *variants.values()):
        body = _STRING_OR_COMMENT_RE.sub("", form)
        used = set(_PARAM_RE.findall(body))
        if used != set(declared):
            at = next((i for i, ln in enumerate(text.splitlines(), 1) if "params:" in ln), 1)
            raise AnalysisError(
                f"{path}:{at}: declared params {sorted(declared)} but the query uses {sorted(used)}"
            )
    return Query(header["name"], path, header["returns"], declared, forms[0], variants.get("spark"))


@cache
def load(stage: str, name: str) -> Query:
    """The query ``sql/<stage>/<name>.sql``."""
    path = sql_root() / stage / f"{name}.sql"
    if not path.is_file():
        raise AnalysisError(f"no query file {path}; the installation is incomplete")
    return parse_query(path.read_text(encoding="utf-8"), path)


def all_queries() -> list[Query]:
    """Every query shipped, for checks and for transpiling."""
    root = sql_root()
    return [load(p.parent.name, p.stem) for p in sorted(root.glob("*/*.sql"))]


def bind(query: Query, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The values of exactly the parameters ``query`` declares (others in ``params`` are ignored).

    >>> q = parse_query("-- name: q\\n-- returns: x\\n-- params: $day\\nSELECT $day", Path("q.sql"))
    >>> bind(q, {"day": 1, "limit": 5})
    {'day': 1}
    >>> bind(q, {})
    Traceback (most recent call last):
    ...
    flowlens.errors.AnalysisError: q.sql: no value given for the declared parameter(s) $day
    """
    given = params or {}
    missing = [p for p in query.params if p not in given]
    if missing:
        raise AnalysisError(
            f"{query.path}: no value given for the declared parameter(s) "
            + ", ".join(f"${p}" for p in missing)
        )
    return {p: given[p] for p in query.params}


def execute(
    con: duckdb.DuckDBPyConnection,
    query: Query,
    params: Mapping[str, Any] | None = None,
    *,
    create: str = "",
) -> duckdb.DuckDBPyConnection:
    """Run ``query`` on ``con`` (as ``<create> AS <query>`` when ``create`` is given, e.g.
    ``CREATE OR REPLACE TEMP TABLE t``) and return the cursor; engine errors name the file."""
    import duckdb

    sql = f"{create} AS {query.sql}" if create else query.sql
    try:
        return con.execute(sql, bind(query, params))
    except duckdb.Error as exc:
        raise AnalysisError(f"{query.path}: query {query.name!r} failed: {exc}") from exc


def rows(
    con: duckdb.DuckDBPyConnection, query: Query, params: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every row of ``query`` as a dict keyed by column name."""
    import duckdb

    cur = execute(con, query, params)
    try:
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    except duckdb.Error as exc:
        raise AnalysisError(f"{query.path}: query {query.name!r} failed: {exc}") from exc
