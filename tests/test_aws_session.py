"""One AWS session factory for every command; botocore's errors end as one
line and exit 3 (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)
from conftest import SAMPLE_LOGS

from flowlens.aws import AwsOptions, access_error, client, is_botocore_error, session
from flowlens.cli import main
from flowlens.errors import AwsAccessError, ExitCode

NOSUCH = "--profile nosuch: no such profile in the AWS config"


@pytest.mark.parametrize(
    "argv",
    [
        [
            "run",
            str(SAMPLE_LOGS / "s3"),
            "--date",
            "2026-11-28",
            "--inventory",
            "aws",
            "--regions",
            "us-east-1",
        ],
        [
            "run",
            "s3://flows/logs",
            "--date",
            "2026-11-28",
            "--inventory",
            str(SAMPLE_LOGS / "inventory"),
        ],
        ["inventory", "--aws", "--regions", "us-east-1"],
        ["ingest", "s3://flows/logs", "--date", "2026-11-28"],
    ],
    ids=["run-inventory", "run-s3", "inventory", "ingest"],
)
def test_a_missing_profile_is_one_line_and_exit_3(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*argv, "--profile", "nosuch", "--data-dir", str(tmp_path / "d"), "-q"])
    err = capsys.readouterr().err
    assert code == ExitCode.AWS_ACCESS == 3
    assert err.count("\n") == 1 and NOSUCH in err and "Traceback" not in err


def test_the_factory_applies_endpoint_region_and_retry_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s3 = client(
        AwsOptions(region="eu-west-1", endpoint_url="http://127.0.0.1:9", retry_mode="adaptive"),
        "s3",
        max_pool=7,
    )
    assert s3.meta.region_name == "eu-west-1" and s3.meta.endpoint_url == "http://127.0.0.1:9"
    assert s3.meta.config.retries["mode"] == "adaptive" and s3.meta.config.max_pool_connections == 7
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    ec2 = client(AwsOptions(region="us-east-1"), "ec2")
    assert (
        ec2.meta.endpoint_url == "http://127.0.0.1:8"
        and ec2.meta.config.retries["total_max_attempts"] == 4
    )
    assert session(AwsOptions(region="ap-south-1")).region_name == "ap-south-1"


def test_botocore_errors_map_to_one_line() -> None:
    cases = {
        NoCredentialsError(): "no AWS credentials found",
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"): "cannot reach AWS",
        NoRegionError(): "no AWS region",
        ClientError(
            {"Error": {"Code": "UnauthorizedOperation", "Message": "nope"}}, "DescribeVpcs"
        ): "AWS refused the call (UnauthorizedOperation: nope)",
    }
    for exc, text in cases.items():
        assert is_botocore_error(exc)
        mapped = access_error(exc)
        assert (
            isinstance(mapped, AwsAccessError) and text in str(mapped) and "\n" not in str(mapped)
        )
    assert not is_botocore_error(ValueError("x"))
