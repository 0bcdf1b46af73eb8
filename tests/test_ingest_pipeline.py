"""The ingest run end to end: local and S3 (moto server) sources, re-runs, failures, resumption."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import boto3
import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import fresh_commands

from flowlens.cli import main
from flowlens.datadir import DataDir
from flowlens.ingest import reading, writer
from flowlens.ingest.manifest import load

ACCT, REGION = "123456789012", "eu-west-1"
HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)
DAY_START = 1795824000  # 2026-11-28T00:00:00Z


def _line(i: int, end: int) -> str:
    return (
        f"2 {ACCT} eni-0abc 10.0.0.{i % 250} 10.0.1.1 {40000 + i} 443 6 3 180 "
        f"{end - 30} {end} ACCEPT OK"
    )


def _key(hhmm: str, fl: str = "fl-0aaa", day: str = "20261128", hive: bool = False) -> str:
    name = f"{ACCT}_vpcflowlogs_{REGION}_{fl}_{day}T{hhmm}Z_0123abcd.log.gz"
    y, m, d = day[:4], day[4:6], day[6:]
    if hive:
        return (
            f"AWSLogs/aws-account-id={ACCT}/aws-service=vpcflowlogs/aws-region={REGION}/"
            f"year={y}/month={m}/day={d}/hour={hhmm[:2]}/{name}"
        )
    return f"AWSLogs/{ACCT}/vpcflowlogs/{REGION}/{y}/{m}/{d}/{name}"


def _body(n: int, end: int, extra: str = "") -> bytes:
    return gzip.compress(
        (HEADER + "\n" + "".join(_line(i, end) + "\n" for i in range(n)) + extra).encode()
    )


def _write(root: Path, key: str, data: bytes) -> None:
    (root / key).parent.mkdir(parents=True, exist_ok=True)
    (root / key).write_bytes(data)


def _mirror(root: Path) -> None:
    _write(root, _key("0000"), _body(10, DAY_START + 120))
    _write(root, _key("1200", hive=True), _body(5, DAY_START + 43300, extra="bogus line\n"))
    # late record of the previous day in the next day's first file, and a next-day file (slack)
    late = "".join(_line(i, DAY_START + 86400 - 10) + "\n" for i in range(3))
    _write(root, _key("0000", day="20261129"), _body(2, DAY_START + 86400 + 5, extra=late))
    _write(root, f"AWSLogs/{ACCT}/vpcflowlogs/{REGION}/2026/11/28/notes.txt", b"not a flow log")


def _ingest(src: str, dd: Path, *extra: str) -> tuple[int, dict]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            ["ingest", src, "--date", "2026-11-28", "--data-dir", str(dd), "--json", "-q", *extra]
        )
    return code, json.loads(out.getvalue())


def _count(dd: Path, sql: str = "SELECT count(*) FROM flows") -> int:
    con = duckdb.connect(str(dd / "catalog.duckdb"), read_only=True)
    try:
        return int(con.execute(sql).fetchall()[0][0])
    finally:
        con.close()


def test_local_source_accounts_for_every_line_and_is_idempotent(
    tmp_path: Path, data_dir: Path
) -> None:
    _mirror(tmp_path / "src")
    code, s = _ingest(str(tmp_path / "src"), data_dir)
    assert code == 0
    assert (s["rows"], s["quarantined"], s["out_of_window"], s["ignored_keys"]) == (18, 1, 2, 1)
    assert s["rows"] + s["quarantined"] + s["out_of_window"] == s["lines"] == 21
    assert _count(data_dir) == 18
    assert (
        _count(
            data_dir, "SELECT count(*) FROM quarantine WHERE raw = 'bogus line' AND line_number = 7"
        )
        == 1
    )
    assert _count(data_dir, "SELECT count(DISTINCT date) FROM flows") == 1
    code, again = _ingest(str(tmp_path / "src"), data_dir)
    assert code == 0 and again["rows"] == 0 and again["skipped"] == 3
    assert _count(data_dir) == 18
    # the next day takes only the next day's records from the shared edge object
    code2 = main(
        ["ingest", str(tmp_path / "src"), "--date", "2026-11-29", "--data-dir", str(data_dir), "-q"]
    )
    assert code2 == 0 and _count(data_dir) == 20


def test_corrupt_object_is_failed_rest_ingested_exit_1(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _mirror(tmp_path / "src")
    _write(tmp_path / "src", _key("0005"), _body(50, DAY_START + 400)[:-30])  # truncated gzip
    code = main(
        ["ingest", str(tmp_path / "src"), "--date", "2026-11-28", "--data-dir", str(data_dir), "-q"]
    )
    assert code == 1
    assert _key("0005") in capsys.readouterr().err
    manifest = load(DataDir(data_dir))
    assert manifest[_key("0005")].status == "failed" and "truncated" in (
        manifest[_key("0005")].error or ""
    )
    assert _count(data_dir) == 18  # nothing of the truncated object, everything else


def test_changed_object_replaces_its_rows(tmp_path: Path, data_dir: Path) -> None:
    _mirror(tmp_path / "src")
    _ingest(str(tmp_path / "src"), data_dir)
    path = tmp_path / "src" / _key("0000")
    path.write_bytes(_body(4, DAY_START + 150))
    os.utime(path, ns=(1, 1))
    code, s = _ingest(str(tmp_path / "src"), data_dir)
    assert code == 0 and s["replaced"] == 1 and s["rows"] == 4
    assert _count(data_dir) == 12
    assert _count(data_dir, f"SELECT count(*) FROM flows WHERE source_key = '{_key('0000')}'") == 4


def test_killed_run_is_completed_by_the_next_without_duplicates(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _mirror(tmp_path / "src")
    calls = {"n": 0}
    real_close = writer.PartitionWriter.close

    def dying_close(self: writer.PartitionWriter, drop_keys: object = ()) -> dict:
        calls["n"] += 1
        if calls["n"] == 2:  # flows renamed into place, then the process "dies"
            raise KeyboardInterrupt
        return real_close(self, drop_keys)  # type: ignore[arg-type]

    monkeypatch.setattr(writer.PartitionWriter, "close", dying_close)
    with pytest.raises(KeyboardInterrupt):
        from datetime import date

        from flowlens.ingest.pipeline import ingest
        from flowlens.ingest.source import LocalSource

        ingest(LocalSource(tmp_path / "src"), [date(2026, 11, 28)], DataDir(data_dir))
    assert not DataDir(data_dir).manifest.exists()
    monkeypatch.setattr(writer.PartitionWriter, "close", real_close)
    code, s = _ingest(str(tmp_path / "src"), data_dir)
    assert code == 0 and s["rows"] == 18
    assert _count(data_dir) == 18
    leftovers = [
        p
        for p in data_dir.rglob("*")
        if p.name.startswith(".") and p.is_file() and p.name != ".lock"
    ]
    assert leftovers == []


def test_strict_makes_a_bad_line_fatal(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _mirror(tmp_path / "src")
    code = main(
        [
            "ingest",
            str(tmp_path / "src"),
            "--date",
            "2026-11-28",
            "--data-dir",
            str(data_dir),
            "-q",
            "--strict",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "line 7" in err and "--strict" in err
    assert not DataDir(data_dir).manifest.exists()


def test_tgw_files_go_to_tgw_flows(tmp_path: Path, data_dir: Path, corpus: Path) -> None:
    lines = (
        corpus / "flowlogs/elastic-integrations-pipeline-tests/test-tgw-samples.log"
    ).read_text()
    header = (
        corpus / "flowlogs/elastic-integrations-pipeline-tests/test-tgw-samples.fields.inferred"
    ).read_text()
    _write(
        tmp_path / "src",
        _key("0000", day="20250819"),
        gzip.compress((header.strip() + "\n" + lines).encode()),
    )
    code = main(
        ["ingest", str(tmp_path / "src"), "--date", "2025-08-19", "--data-dir", str(data_dir), "-q"]
    )
    assert code == 0
    assert _count(data_dir, "SELECT count(*) FROM tgw_flows") == 10
    assert _count(data_dir) == 0


def test_s3_source_through_moto_server(moto_reset: str, tmp_path: Path, data_dir: Path) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_reset, region_name="us-east-1")
    s3.create_bucket(Bucket="flow-logs")
    _mirror(tmp_path / "src")
    for path in (tmp_path / "src").rglob("*"):
        if path.is_file():
            s3.put_object(
                Bucket="flow-logs",
                Key="team/" + path.relative_to(tmp_path / "src").as_posix(),
                Body=path.read_bytes(),
            )
    s3.put_object(
        Bucket="flow-logs",
        Key="team/AWSLogs/999999999999/vpcflowlogs/us-east-1/2026/11/28/x.log.gz",
        Body=b"x",
    )
    code, s = _ingest(
        "s3://flow-logs/team", data_dir, "--endpoint-url", moto_reset, "--account", ACCT
    )
    assert code == 0 and s["rows"] == 18 and s["quarantined"] == 1
    assert _count(data_dir) == 18
    code, again = _ingest("s3://flow-logs/team", data_dir, "--endpoint-url", moto_reset)
    assert code == 0 and again["rows"] == 0 and again["skipped"] == 3


def test_synthetic_parquet_is_rejected_naming_the_column(
    tmp_path: Path, data_dir: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = _key("0000", day="20150812").replace(".log.gz", ".log.parquet")
    _write(
        tmp_path / "src",
        key,
        (corpus / "flowlogs/flowlogs-reader-tests/flows-synthetic.parquet").read_bytes(),
    )
    code = main(
        ["ingest", str(tmp_path / "src"), "--date", "2015-08-12", "--data-dir", str(data_dir), "-q"]
    )
    assert code == 1
    assert "column srcport" in capsys.readouterr().err


def test_objects_fetched_ahead_are_taken_in_order_with_their_errors(
    tmp_path: Path, data_dir: Path
) -> None:
    """Small objects are fetched ahead of the parse (several in flight, finishing in any order):
    each object keeps its own rows, line numbers and failure."""
    import random
    import threading
    import time
    from datetime import date

    from flowlens.ingest.pipeline import ingest
    from flowlens.ingest.source import LocalSource

    src = tmp_path / "src"
    keys = [_key(f"00{m:02d}") for m in range(0, 60, 5)]
    for n, key in enumerate(keys):
        _write(src, key, _body(n + 1, DAY_START + 300 * n + 60, extra="bogus\n" if n == 4 else ""))
    _write(src, keys[7], _body(8, DAY_START + 2160)[:-30])  # truncated gzip
    rng, lock, opened = random.Random(7), threading.Lock(), set()

    class Slow(LocalSource):
        def open(self, key: str):  # type: ignore[no-untyped-def]
            with lock:
                opened.add(threading.current_thread().name)
                pause = rng.random() / 50
            time.sleep(pause)  # GETs answer out of order
            return super().open(key)

    s = ingest(Slow(src), [date(2026, 11, 28)], DataDir(data_dir), workers=1)
    assert any(name.startswith("ingest-fetch") for name in opened)  # fetched by the pool
    assert [f.key for f in s.failed] == [keys[7]]
    assert s.rows == sum(n + 1 for n in range(12)) - 8 and s.quarantined == 1
    manifest = load(DataDir(data_dir))
    assert [manifest[k].rows for k in keys] == [n + 1 if n != 7 else 0 for n in range(12)]
    assert _count(data_dir, f"SELECT count(*) FROM flows WHERE source_key = '{keys[5]}'") == 6
    assert (
        _count(data_dir, "SELECT line_number FROM quarantine WHERE raw = 'bogus'") == 7
    )  # object 4: header + 5 records + the bad line


@pytest.mark.parametrize("small", [True, False], ids=["joined small objects", "chunked object"])
def test_reject_records_get_row_groups_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small: bool
) -> None:
    """REJECT records land in row groups holding nothing else, with ``action`` statistics, so a
    query of the REJECTs skips the others; every record is still there once."""
    if not small:  # every object read chunk by chunk, as a large one is
        monkeypatch.setattr(reading, "SMALL_OBJECT_BYTES", 0)
    src = tmp_path / "src"
    end = DAY_START + 600
    for n, hhmm in enumerate(("0000", "0005", "0010")):
        lines = [
            _line(i, end).replace(" ACCEPT ", " REJECT " if (i + n) % 3 == 0 else " ACCEPT ")
            for i in range(30)
        ]
        body = HEADER + "\n" + "\n".join(lines) + "\n"
        _write(src, _key(hhmm), gzip.compress(body.encode()))
    code, summary = _ingest(str(src), tmp_path / "dd")
    assert code == 0 and summary["rows"] == 90
    assert _count(tmp_path / "dd", "SELECT count(*) FROM flows WHERE action = 'REJECT'") == 30
    assert _count(tmp_path / "dd", "SELECT count(DISTINCT srcport) FROM flows") == 30
    (path,) = (tmp_path / "dd" / "flows").rglob("*.parquet")
    meta = pq.ParquetFile(path).metadata
    col = [meta.row_group(0).column(i).path_in_schema for i in range(meta.num_columns)]
    stats = [meta.row_group(g).column(col.index("action")).statistics for g in range(2)]
    assert meta.num_row_groups == 2
    assert [(s.min, s.max) for s in stats] == [("ACCEPT", "ACCEPT"), ("REJECT", "REJECT")]


def test_an_ingest_and_its_rerun_never_import_pandas(tmp_path: Path) -> None:
    """pyarrow imports pandas (0.25-0.5 CPU-s) at the first ``pa.array``/``pa.scalar`` of a
    Python or numpy value: ingest builds its arrays from buffers (flowlens/arrays.py)."""
    src = tmp_path / "src"
    end = DAY_START + 600
    lines = [
        _line(i, end).replace(" ACCEPT ", " REJECT " if i % 4 else " ACCEPT ") for i in range(9)
    ]
    _write(src, _key("0000"), gzip.compress((HEADER + "\n" + "\n".join(lines) + "\n").encode()))
    _write(src, _key("0005"), _body(7, end))
    args = ["ingest", str(src), "--date", "2026-11-28", "--data-dir", str(tmp_path / "dd"), "-q"]
    assert fresh_commands(args, args) == ([0, 0], False)  # the rerun skips every object
    assert _count(tmp_path / "dd") == 16
