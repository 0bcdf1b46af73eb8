"""Every query under sql/ passes sqlfluff with the repository's .sqlfluff (aliases, capitals,
lines within 100 characters), so CI enforces the one SQL style."""

from __future__ import annotations

from pathlib import Path

from sqlfluff.core import FluffConfig, Linter

REPO = Path(__file__).resolve().parent.parent


def test_sql_passes_sqlfluff() -> None:
    config = FluffConfig.from_path(str(REPO))
    assert config.get("dialect") == "duckdb" and config.get("max_line_length") == 100
    result = Linter(config=config).lint_paths((str(REPO / "sql"),))
    records = result.as_records()
    assert len(records) >= 50, "sqlfluff found too few query files"
    problems = [
        f"{Path(rec['filepath']).relative_to(REPO)}:{v['start_line_no']}: {v['code']} "
        f"{v['description']}"
        for rec in records
        for v in rec["violations"]
    ]
    assert not problems, "sqlfluff (run `sqlfluff fix sql` or edit by hand):\n" + "\n".join(
        problems
    )
