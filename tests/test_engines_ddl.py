"""The Glue/Athena DDL: every statement parses, projections and locations
are the documented ones."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest
import sqlglot

from flowlens.cli import main
from flowlens.engines.ddl import DdlOptions, athena_ddl, hive_type, lake_key
from flowlens.errors import UsageError
from flowlens.model.inventory import INVENTORY_SCHEMAS
from flowlens.model.results import RESULT_SCHEMAS

OPTS = DdlOptions(
    "s3://lake/fl/",
    "flowlens",
    ("123456789012", "210987654321"),
    ("us-east-1", "eu-west-1"),
    date(2026, 1, 1),
)


def _by_table(stmts: list[str]) -> dict[str, str]:
    return {
        s.split("`.`", 1)[1].split("`", 1)[0]: s for s in stmts if s.startswith("CREATE EXTERNAL")
    }


@pytest.mark.parametrize("dialect", ["hive", "athena"])
def test_every_statement_parses(dialect: str) -> None:
    stmts = athena_ddl(OPTS)
    for stmt in stmts:
        tree = sqlglot.parse_one(stmt, read=dialect)
        assert isinstance(tree, sqlglot.exp.Create), stmt
    tables = _by_table(stmts)
    assert set(tables) == {"flows", "tgw_flows", *INVENTORY_SCHEMAS, *RESULT_SCHEMAS}


def test_flows_partition_projection_over_account_region_date() -> None:
    flows = _by_table(athena_ddl(OPTS))["flows"]
    assert "PARTITIONED BY (`account_id` string, `region` string, `date` date)" in flows
    assert "'projection.account_id.type'='enum'" in flows
    assert "'projection.account_id.values'='123456789012,210987654321'" in flows
    assert "'projection.region.values'='us-east-1,eu-west-1'" in flows
    assert "'projection.date.range'='2026-01-01,NOW'" in flows
    assert (
        "'storage.location.template'='s3://lake/fl/flows/account_id=${account_id}/region=${region}/date=${date}/'"
        in flows
    )
    assert "LOCATION 's3://lake/fl/flows/'" in flows
    assert "`extra` map<string,string>" in flows and "`end` bigint" in flows


def test_without_accounts_the_account_is_injected() -> None:
    flows = _by_table(athena_ddl(DdlOptions("s3://lake")))["flows"]
    assert "'projection.account_id.type'='injected'" in flows


def test_inventory_by_snapshot_and_results_by_date_one_prefix_per_table() -> None:
    tables = _by_table(athena_ddl(OPTS))
    assert "PARTITIONED BY (`snapshot` string)" in tables["sg_rules"]
    assert "s3://lake/fl/inventory/sg_rules/snapshot=${snapshot}/" in tables["sg_rules"]
    assert "PARTITIONED BY (`date` date)" in tables["rule_usage"]
    assert "s3://lake/fl/results/rule_usage/date=${date}/" in tables["rule_usage"]
    assert (
        lake_key("inventory/snapshot=20261128T000000Z/sg_rules.parquet")
        == "inventory/sg_rules/snapshot=20261128T000000Z/sg_rules.parquet"
    )


def test_types_and_bad_options() -> None:
    assert hive_type(pa.timestamp("us", tz="UTC")) == "timestamp"
    with pytest.raises(UsageError, match="s3://bucket"):
        athena_ddl(DdlOptions("lake/fl"))
    with pytest.raises(UsageError, match="12-digit"):
        athena_ddl(DdlOptions("s3://lake", accounts=("12",)))
    with pytest.raises(UsageError, match="Glue name"):
        athena_ddl(DdlOptions("s3://lake", database="My-DB"))


def test_cli_prints_the_ddl(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "athena-ddl",
                "--bucket",
                "s3://lake/fl",
                "--account",
                "123456789012",
                "--region",
                "us-east-1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    stmts = [s for s in out.split(";\n") if s.strip()]
    assert len(stmts) == 3 + len(INVENTORY_SCHEMAS) + len(RESULT_SCHEMAS)
    for s in stmts:
        sqlglot.parse_one(s.rstrip(";\n"), read="athena")
