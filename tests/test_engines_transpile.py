"""Every shipped query renders for Spark and Trino, and the rewrites do what they claim."""

from __future__ import annotations

import pytest
import sqlglot

from flowlens.engines.transpile import rename_tables, to_spark, to_trino, transpile
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
