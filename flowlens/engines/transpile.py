"""DuckDB SQL (the dialect of ``sql/``) rendered for Spark SQL and Trino/Athena with sqlglot.

Small transformations of the parsed tree, each doing one thing, chained per dialect:

* ``json_object(k, v, ...)``: Spark has none, so it becomes ``to_json(named_struct(k, v, ...))``
  (run Spark with ``spark.sql.jsonGenerator.ignoreNullFields=false`` to keep null members, as
  DuckDB does).
* ``$name`` parameters: Spark 3.4+ binds ``:name`` (sqlglot's rendering); Trino/Athena bind ``?``
  positionally, so the names are returned in the order of the question marks.
* table names can be mapped (``{"flows": "db.flows"}``), leaving the names of CTEs alone.

>>> to_spark("SELECT CAST(json_object('a', x) AS VARCHAR) FROM t WHERE d = $day").sql
"SELECT CAST(TO_JSON(NAMED_STRUCT('a', x)) AS STRING) FROM t WHERE d = :day"
>>> r = to_trino("SELECT * FROM t WHERE a = $x AND b = $y AND c = $x")
>>> r.sql, r.params
('SELECT * FROM t WHERE a = ? AND b = ? AND c = ?', ('x', 'y', 'x'))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from flowlens.errors import AnalysisError

SOURCE_DIALECT = "duckdb"
DIALECTS: dict[str, str] = {"spark": "spark", "trino": "trino", "athena": "athena"}


@dataclass(frozen=True)
class Rendered:
    """A query in a target dialect; ``params`` are the names to bind, in order for ``?`` markers."""

    sql: str
    params: tuple[str, ...]


def to_spark(sql: str, *, tables: Mapping[str, str] | None = None) -> Rendered:
    return transpile(sql, "spark", tables=tables)


def to_trino(sql: str, *, tables: Mapping[str, str] | None = None) -> Rendered:
    return transpile(sql, "trino", tables=tables)


def transpile(sql: str, dialect: str, *, tables: Mapping[str, str] | None = None) -> Rendered:
    """``sql`` (DuckDB dialect, one statement) rendered for ``dialect`` (spark, trino or athena)."""
    if dialect not in DIALECTS:
        raise AnalysisError(f"cannot transpile to {dialect!r}; choose one of {', '.join(DIALECTS)}")
    try:
        tree = cast(exp.Expression, sqlglot.parse_one(sql, read=SOURCE_DIALECT))
    except SqlglotError as exc:
        raise AnalysisError(f"sqlglot cannot parse the query: {exc}") from exc
    if tables:
        tree = rename_tables(tree, tables)
    steps: list[Callable[[exp.Expression], exp.Expression]] = [flow_sum_to_sum]
    if dialect == "spark":
        steps.append(json_object_to_struct)
    for step in steps:
        tree = step(tree)
    if dialect != "spark":
        tree = tree.transform(_mark_param)
    try:
        text = tree.sql(dialect=DIALECTS[dialect], comments=False)
    except SqlglotError as exc:
        raise AnalysisError(f"sqlglot cannot render the query for {dialect}: {exc}") from exc
    if dialect == "spark":
        return Rendered(text, tuple(dict.fromkeys(p.name for p in tree.find_all(exp.Placeholder))))
    return positional_params(text)


def flow_sum_to_sum(tree: exp.Expression) -> exp.Expression:
    """``FLOW_SUM(x)`` (DuckDB's macro for a day's sums, flowlens/engines/duckdb_engine.py) as
    ``SUM(x)``: other engines sum the one way they have."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and str(node.this).upper() == "FLOW_SUM":
            return exp.Sum(this=node.expressions[0])
        return node

    return tree.transform(swap)


def json_object_to_struct(tree: exp.Expression) -> exp.Expression:
    """``json_object(k, v, ...)`` → ``to_json(named_struct(k, v, ...))``
    (Spark has no JSON_OBJECT)."""

    def swap(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.JSONObject):
            return node
        args: list[exp.Expression] = []
        for kv in node.expressions:
            args += [kv.this, kv.expression]
        return exp.Anonymous(
            this="TO_JSON", expressions=[exp.Anonymous(this="NAMED_STRUCT", expressions=args)]
        )

    return tree.transform(swap)


_MARK = "__flowlens_param_"
_MARK_RE = re.compile(r":" + _MARK + r"(\w+?)__")


def _mark_param(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Placeholder) and node.name:
        return exp.Placeholder(this=f"{_MARK}{node.name}__")
    return node


def positional_params(text: str) -> Rendered:
    """Marked named placeholders → ``?``, with the names in the order they appear in the text."""
    names = tuple(m.group(1) for m in _MARK_RE.finditer(text))
    return Rendered(_MARK_RE.sub("?", text), names)


def rename_tables(tree: exp.Expression, tables: Mapping[str, str]) -> exp.Expression:
    """Unqualified table names found in ``tables`` → the mapped (possibly
    qualified) name; CTEs stay."""
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}

    def swap(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Table)
            and not node.db
            and node.name in tables
            and node.name not in ctes
        ):
            new = exp.to_table(tables[node.name])
            alias = node.args.get("alias")
            if alias is not None:
                new.set("alias", alias.copy())
            else:
                new.set("alias", exp.TableAlias(this=exp.to_identifier(node.name)))
            return new
        return node

    return tree.transform(swap)


@dataclass(frozen=True)
class Part:
    """One piece of a query split for an engine that recomputes CTEs (:func:`split_shared_ctes`):
    ``view`` is the name it is made as (``None``: the query's own result), ``sql`` its text in
    the source dialect."""

    view: str | None
    sql: str


def split_shared_ctes(sql: str, prefix: str) -> list[Part]:
    """``sql`` as the CTEs it reads more than once, each its own query (view ``<prefix>__<cte>``),
    then the query itself reading those views.

    Spark inlines every deterministic CTE at each reference, so a CTE read five times is planned
    and computed five times (``30_conversation_sides``: the paired flows; ``70_rejected``: the
    day's rejected records); made once as a view and materialised, it is read, not recomputed.
    CTEs read once stay inline, in the piece that needs them. A recursive ``WITH``, a CTE name
    defined twice, or no CTE read twice: the query as it is, one part.
    """
    try:
        tree = cast(exp.Expression, sqlglot.parse_one(sql, read=SOURCE_DIALECT))
    except SqlglotError as exc:
        raise AnalysisError(f"sqlglot cannot parse the query: {exc}") from exc
    with_ = tree.args.get("with_")
    if not isinstance(with_, exp.With) or with_.args.get("recursive"):
        return [Part(None, sql)]
    ctes = {c.alias_or_name: c.this for c in with_.expressions}
    if len(ctes) != len(with_.expressions) or any(
        c.alias_or_name in ctes for c in tree.find_all(exp.CTE) if c.parent is not with_
    ):
        return [Part(None, sql)]  # shadowed names: the references are not ours to resolve
    main = tree.copy()
    main.set("with_", None)

    def refs(node: exp.Expression) -> list[str]:
        return [t.name for t in node.find_all(exp.Table) if not t.db and t.name in ctes]

    counts: dict[str, int] = {}
    for body in [*ctes.values(), main]:
        for name in refs(body):
            counts[name] = counts.get(name, 0) + 1
    shared = [name for name in ctes if counts.get(name, 0) >= 2]
    if not shared:
        return [Part(None, sql)]
    views = {name: f"{prefix}__{name}" for name in shared}

    def piece(body: exp.Expression, view: str | None) -> Part:
        inline: list[str] = []  # the unshared CTEs the body needs, in definition order
        todo = [n for n in refs(body) if n not in views]
        while todo:
            name = todo.pop()
            if name not in inline:
                inline.append(name)
                todo += [n for n in refs(ctes[name]) if n not in views]
        order = [n for n in ctes if n in inline]
        defs = [f"{n} AS ({_with_views(ctes[n], views).sql(SOURCE_DIALECT)})" for n in order]
        text = _with_views(body, views).sql(SOURCE_DIALECT)
        return Part(view, f"WITH {', '.join(defs)} {text}" if defs else text)

    return [piece(ctes[n], views[n]) for n in shared] + [piece(main, None)]


def _with_views(node: exp.Expression, views: Mapping[str, str]) -> exp.Expression:
    """``node`` (copied) reading ``views[name]`` for each table ``name`` it names, keeping the
    name as its alias so qualified columns still resolve."""

    def swap(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Table) and not n.db and n.name in views:
            new = exp.to_table(views[n.name])
            alias = n.args.get("alias")
            new.set(
                "alias",
                alias.copy()
                if alias is not None
                else exp.TableAlias(this=exp.to_identifier(n.name)),
            )
            return new
        return n

    return node.copy().transform(swap)
