"""The manifest's two ways to record an object: read (ingested) or not (failed)."""

from __future__ import annotations

from datetime import UTC, datetime

from flowlens.ingest.manifest import ManifestEntry

T1, T2 = datetime(2026, 11, 28, 1, tzinfo=UTC), datetime(2026, 11, 29, 1, tzinfo=UTC)
KEY = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/28/x.log.gz"


def _good() -> ManifestEntry:
    return ManifestEntry.ingested(
        KEY,
        "e1",
        100,
        flow_log_id="fl-1",
        rows=10,
        quarantined=1,
        out_of_window=2,
        files=("flows/a.parquet",),
        covered=((0, 86400),),
        at=T1,
    )


def test_an_ingested_entry_has_no_error() -> None:
    e = _good()
    assert (e.status, e.error, e.rows, e.files, e.covered, e.ingested_at) == (
        "ingested",
        None,
        10,
        ("flows/a.parquet",),
        ((0, 86400),),
        T1,
    )


def test_a_failed_first_read_records_nothing_taken() -> None:
    e = ManifestEntry.failed(KEY, "e1", 100, error="boom", flow_log_id="fl-1", previous=None, at=T2)
    assert (e.status, e.rows, e.quarantined, e.out_of_window, e.files, e.covered) == (
        "failed",
        0,
        0,
        0,
        (),
        (),
    )
    assert e.error == "boom"


def test_a_failed_re_read_keeps_the_earlier_good_read_and_carries_the_error() -> None:
    e = ManifestEntry.failed(
        KEY, "e1", 100, error="boom", flow_log_id="fl-1", previous=_good(), at=T2
    )
    assert (e.status, e.rows, e.quarantined, e.out_of_window, e.files, e.covered) == (
        "ingested",
        10,
        1,
        2,
        ("flows/a.parquet",),
        ((0, 86400),),
    )
    assert (e.error, e.ingested_at) == ("boom", T2)
