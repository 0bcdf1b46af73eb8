"""docs/tables.md lists exactly the tables and columns the catalog exposes,
so the two cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from conftest import REPO, SampleDay

from flowlens.catalog import register_views
from flowlens.datadir import DataDir

TABLES_MD = REPO / "docs" / "tables.md"
_HEADING = re.compile(r"^### `([a-z_]+)`$")
_ROW = re.compile(r"^\| `([a-z_0-9]+)` \| `([^`]+)` \| (.+) \|$")


def documented() -> dict[str, list[tuple[str, str]]]:
    """Table → [(column, type)] in the order docs/tables.md lists them."""
    tables: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in TABLES_MD.read_text(encoding="utf-8").splitlines():
        if m := _HEADING.match(line):
            assert m.group(1) not in tables, f"docs/tables.md lists {m.group(1)} twice"
            current = tables[m.group(1)] = []
        elif line.startswith("## "):
            current = None
        elif current is not None and (m := _ROW.match(line)):
            current.append((m.group(1), m.group(2)))
    return tables


def exposed(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    views = [
        r[0]
        for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    ]
    return {
        v: [(c[0], c[1]) for c in con.execute(f'DESCRIBE "{v}"').fetchall()] for v in sorted(views)
    }


def test_every_table_of_a_full_data_dir_is_documented_column_for_column(
    sample_day: SampleDay,
) -> None:
    # the sample day went through ingest (with quarantined lines), inventory, analyze and recommend
    con = duckdb.connect(str(sample_day.data.catalog), read_only=True)
    try:
        views = exposed(con)
    finally:
        con.close()
    docs = documented()
    assert sorted(docs) == sorted(views), (
        "docs/tables.md must list exactly the catalog's views: undocumented "
        f"{sorted(set(views) - set(docs))}, not in the catalog {sorted(set(docs) - set(views))}"
    )
    for table, columns in views.items():
        assert docs[table] == columns, (
            f"docs/tables.md: the columns of {table} differ from the catalog (DESCRIBE {table});\n"
            f"  undocumented: {[c for c in columns if c not in docs[table]]}\n"
            "  documented but not exposed, or another type: "
            f"{[c for c in docs[table] if c not in columns]}\n"
            "  (same set in another order when both lists are empty)"
        )


def test_every_documented_table_has_a_meaning_for_every_column() -> None:
    for line in TABLES_MD.read_text(encoding="utf-8").splitlines():
        if m := _ROW.match(line):
            assert len(m.group(3).strip()) > 3, f"docs/tables.md: {m.group(1)} has no meaning"
    assert all(documented().values()), "a table in docs/tables.md lists no column"


def test_an_empty_data_dir_exposes_only_documented_columns(tmp_path: Path) -> None:
    # before any stage ran the views exist with typed columns (partition columns included)
    con = duckdb.connect()
    try:
        register_views(con, DataDir(tmp_path / "data"))
        views = exposed(con)
    finally:
        con.close()
    docs = documented()
    assert sorted(views) == sorted(docs)
    for table, columns in views.items():
        assert set(columns) <= set(docs[table]), (
            f"{table}: {set(columns) - set(docs[table])} not in docs/tables.md"
        )
