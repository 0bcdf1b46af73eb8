"""No silent empty run: an ingest that lists nothing says why (issue 13).

Each case is the probe's: a SOURCE one level too deep or too shallow, a wrong --region or
--account, a day without objects; on the committed sample_logs/ mirror (one account
111122223333, region us-east-1, day 2026-11-28) and, for S3, against the moto server.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from conftest import SAMPLE_LOGS

from flowlens.cli import main

MIRROR = SAMPLE_LOGS / "s3"
DAY = "2026-11-28"


def _ingest(
    capsys: pytest.CaptureFixture[str], data: Path, source: str | Path, *args: str
) -> tuple[int, str]:
    code = main(["ingest", str(source), "--data-dir", str(data), "-q", *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("source", "args", "says"),
    [
        (
            MIRROR / "AWSLogs",
            ["--date", DAY],
            "SOURCE points inside AWSLogs/; give the folder that holds "
            f"AWSLogs/ ({MIRROR}) as SOURCE",
        ),
        (SAMPLE_LOGS, ["--date", DAY], "AWSLogs/ is one level down, under s3/: add it to SOURCE"),
        (
            MIRROR,
            ["--date", DAY, "--region", "eu-west-1"],
            "--region eu-west-1 excluded every region under",
        ),
        (
            MIRROR,
            ["--date", DAY, "--account", "999999999999"],
            "--account 999999999999 excluded every account under",
        ),
        (MIRROR, ["--date", "2026-11-20"], "no flow-log objects for 2026-11-20 under"),
    ],
    ids=["too-deep", "too-shallow", "wrong-region", "wrong-account", "day-without-objects"],
)
def test_an_empty_listing_says_why(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, source: Path, args: list[str], says: str
) -> None:
    code, err = _ingest(capsys, tmp_path / "data", source, *args)
    assert code == 0  # without --strict: a warning
    assert "warning: no flow-log objects listed for the window" in err and says in err
    code, err = _ingest(capsys, tmp_path / "data", source, *args, "--strict")
    assert code == 1 and "error: no flow-log objects listed" in err and says in err


def test_the_filters_name_what_was_seen(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _, err = _ingest(capsys, tmp_path / "d", MIRROR, "--date", DAY, "--region", "eu-west-1")
    assert "it holds us-east-1" in err
    _, err = _ingest(capsys, tmp_path / "d", MIRROR, "--date", DAY, "--account", "999999999999")
    assert "it holds 111122223333" in err
    _, err = _ingest(capsys, tmp_path / "d", MIRROR, "--date", DAY, "--flow-log-id", "fl-nosuch")
    assert (
        "--flow-log-id fl-nosuch excluded every object of the window; its objects are from fl-"
        in err
    )
    _, err = _ingest(capsys, tmp_path / "d", MIRROR, "--start", "2026-11-01", "--end", "2026-11-03")
    assert "nearest days with objects: earliest after: 2026-11-28" in err
    _, err = _ingest(capsys, tmp_path / "d", MIRROR, "--date", "2026-12-05")
    assert "latest before: 2026-11-28" in err


def test_json_summary_carries_the_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert (
        main(
            [
                "ingest",
                str(MIRROR),
                "--data-dir",
                str(tmp_path / "d"),
                "--date",
                "2026-11-20",
                "--json",
                "-q",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["objects"] == 0 and doc["empty_reason"].startswith(
        "no flow-log objects for 2026-11-20"
    )


def test_a_listing_with_objects_has_no_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert (
        main(
            [
                "ingest",
                str(MIRROR),
                "--data-dir",
                str(tmp_path / "d"),
                "--date",
                DAY,
                "--json",
                "-q",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["empty_reason"] == ""


def _run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, source: str, *args: str
) -> tuple[int, str]:
    code = main(
        [
            "run",
            source,
            "--date",
            DAY,
            "--inventory",
            str(SAMPLE_LOGS / "inventory"),
            "--data-dir",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "out"),
            "-q",
            *args,
        ]
    )
    return code, capsys.readouterr().err


def test_run_fails_on_an_empty_listing_and_region_filters_like_ingest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, moto_reset: str
) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_reset, region_name="us-east-1")
    s3.create_bucket(Bucket="flows")
    for path in MIRROR.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), "flows", "logs/" + path.relative_to(MIRROR).as_posix())
    code, err = _run(
        capsys, tmp_path, "s3://flows/logs", "--endpoint-url", moto_reset, "--region", "eu-west-1"
    )
    assert code == 1
    assert (
        "flowlens run: error: no flow-log objects listed for the window: --region "
        "eu-west-1 excluded every region" in err
    )
    assert not (tmp_path / "out" / "report.html").exists()
    code, err = _run(capsys, tmp_path, "s3://flows", "--endpoint-url", moto_reset)
    assert code == 1 and "AWSLogs/ is one level down, under logs/: add it to SOURCE" in err
