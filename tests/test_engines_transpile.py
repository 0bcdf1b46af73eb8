"""Every shipped query renders for Spark and Trino, and the rewrites do what they claim."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from flowlens.engines.transpile import (
    Part,
    rename_tables,
    split_shared_ctes,
    to_spark,
    to_trino,
    transpile,
)
from flowlens.errors import AnalysisError
from flowlens.sqlfiles import Query, all_queries

QUERIES = all_queries()


@pytest.mark.parametrize("dialect", ["spark", "trino"])
@pytest.mark.parametrize("query", QUERIES, ids=[f"{q.path.parent.name}/{q.name}" for q in QUERIES])
def test_every_query_transpiles_and_parses_back(query: Query, dialect: str) -> None:
    rendered = transpile(query.sql, dialect)
    sqlglot.parse_one(rendered.sql, read=dialect)  # raises on text the dialect cannot read
    assert set(rendered.params) == set(query.params)
    assert "$" not in rendered.sql.replace("${", "")
    if dialect == "trino":
        assert rendered.sql.count("?") >= len(rendered.params)


def test_there_are_queries_to_check() -> None:
    assert len([q for q in QUERIES if q.path.parent.name == "analyze"]) >= 10


def test_spark_has_no_json_object_so_it_gets_to_json_of_a_struct() -> None:
    r = to_spark("SELECT CAST(json_object('a', x, 'b', 1) AS VARCHAR) AS e FROM t")
    assert "TO_JSON(NAMED_STRUCT('a', x, 'b', 1))" in r.sql
    assert "JSON_OBJECT" not in r.sql.upper()


def test_spark_binds_named_parameters() -> None:
    r = to_spark("SELECT * FROM flows WHERE date = $day AND x < $day AND y = $lo")
    assert ":day" in r.sql and ":lo" in r.sql
    assert sorted(r.params) == ["day", "lo"]


def test_trino_binds_positionally_in_text_order_even_through_ctes() -> None:
    r = to_trino(
        "WITH a AS (SELECT * FROM t WHERE d < $second) SELECT * FROM a WHERE d "
        ">= $first AND e = $second"
    )
    assert r.sql.count("?") == 3
    assert r.params == ("second", "first", "second")


def test_tables_are_renamed_but_ctes_and_qualified_names_are_not() -> None:
    tree = sqlglot.parse_one(
        "WITH usage AS (SELECT * FROM rule_matches) SELECT * FROM usage JOIN s.flows f ON true "
        "JOIN flows ON true",
        read="duckdb",
    )
    out = rename_tables(
        tree, {"rule_matches": "db.tmp_rule_matches", "usage": "db.x", "flows": "db.flows"}
    ).sql()
    assert "db.tmp_rule_matches AS rule_matches" in out
    assert "FROM usage" in out and "db.x" not in out
    assert "s.flows AS f" in out and "db.flows AS flows" in out


def test_unknown_dialect_and_bad_sql_are_analysis_errors() -> None:
    with pytest.raises(AnalysisError, match="cannot transpile to 'oracle'"):
        transpile("SELECT 1", "oracle")
    with pytest.raises(AnalysisError, match="cannot parse"):
        transpile("SELECT FROM WHERE (", "spark")


def _run_parts(con: duckdb.DuckDBPyConnection, parts: list[Part]) -> list[tuple[object, ...]]:
    for part in parts[:-1]:
        assert part.view is not None
        con.execute(f"CREATE TEMP TABLE {part.view} AS {part.sql}")
    return sorted(con.execute(parts[-1].sql).fetchall())


def test_ctes_read_twice_become_views_made_first_and_the_rest_stay_inline() -> None:
    sql = (
        "WITH base AS (SELECT x, x % 3 AS m FROM t), "
        "once AS (SELECT m FROM base WHERE x > 2), "
        "twice AS (SELECT m, COUNT(*) AS n FROM once GROUP BY m) "
        "SELECT a.m, a.n, b.n AS n2 FROM twice AS a JOIN twice AS b ON a.m = b.m "
        "UNION ALL SELECT m, x, -1 FROM base"
    )
    parts = split_shared_ctes(sql, "step")
    assert [p.view for p in parts] == ["step__base", "step__twice", None]
    # 'once' is read once (by 'twice'): inline in the piece that makes step__twice, nowhere else
    assert "once AS" in parts[1].sql and "step__base" in parts[1].sql
    assert "once" not in parts[2].sql and "step__twice AS a" in parts[2].sql
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS x FROM range(10)")
    expected = sorted(con.execute(sql).fetchall())
    assert len(expected) == 13
    assert _run_parts(con, parts) == expected


def test_a_query_without_shared_ctes_is_one_part_unchanged() -> None:
    sql = "WITH a AS (SELECT 1 AS x) SELECT x FROM a"
    assert split_shared_ctes(sql, "s") == [Part(None, sql)]
    assert split_shared_ctes("SELECT 1", "s") == [Part(None, "SELECT 1")]
    recursive = "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
    assert len(split_shared_ctes(recursive + "SELECT * FROM r JOIN r AS q ON true", "s")) == 1


@pytest.mark.parametrize("query", QUERIES, ids=[f"{q.path.parent.name}/{q.name}" for q in QUERIES])
def test_every_split_query_renders_for_spark_with_its_parameters(query: Query) -> None:
    parts = split_shared_ctes(query.sql_for("spark"), "step")  # Spark's variant where declared
    params: set[str] = set()
    for part in parts:
        rendered = to_spark(part.sql)
        sqlglot.parse_one(rendered.sql, read="spark")
        params |= set(rendered.params)
    assert params == set(query.params)
    views = [p.view for p in parts[:-1]]
    for i, part in enumerate(parts):  # each view is read only after it is made
        assert not any(v in part.sql for v in views[i:] if v), part.view
