"""Garbage is not flow logs (issue 14, item 9): headers that are not a flow log's, Parquet without
flow-log columns, and records with values no flow log writes — quarantined with a reason, in the
fast (pyarrow) path, the reference path and the Parquet path alike."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flowlens.cli import main
from flowlens.errors import InputError
from flowlens.ingest import parse
from flowlens.ingest.parquet_in import read_parquet
from flowlens.ingest.parse import flow_log_header, parse_chunk, parse_chunk_python, parse_header
from flowlens.ingest.validate import MAX_TOKEN_BYTES

HEADER = (
    b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start "
    b"end action log-status"
)
GOOD = (
    b"2 123456789012 eni-0abc 10.0.0.1 10.0.1.1 40000 443 6 3 180 1795824090 1795824120 ACCEPT OK"
)
ACCT, REGION = "123456789012", "eu-west-1"


def _line(**changes: bytes) -> bytes:
    tokens = dict(zip(HEADER.split(), GOOD.split(), strict=True))
    tokens.update({k.replace("_", "-").encode(): v for k, v in changes.items()})
    return b" ".join(tokens.values())


@pytest.mark.parametrize(
    "text",
    [
        "this is not a flow log",  # lowercase words: valid field names, no flow log's
        "foo bar baz qux",
        "srcport dstport bytes",  # flow-log fields, but not enough to be one
        "account-id srcaddr dstaddr action",  # no interface-id, no version
    ],
)
def test_a_header_that_is_no_flow_logs_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="line 1 is not a flow-log header line") as info:
        flow_log_header(text.encode(), "key.log.gz")
    assert "key.log.gz" in str(info.value) and "version" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        HEADER.decode(),
        "version srcaddr",  # version is enough: AWS puts it first in its own formats
        "interface-id srcaddr dstaddr log-status",  # a custom format without version
        "resource-type tgw-id srcaddr dstaddr packets",  # Transit Gateway
    ],
)
def test_flow_log_headers_are_accepted(text: str) -> None:
    assert flow_log_header(text.encode(), "k").fields == tuple(text.split())


CASES = {
    "port": (_line(dstport=b"70000"), "dstport 70000 is outside 0-65535"),
    "negative port": (_line(srcport=b"-1"), "srcport -1 is outside 0-65535"),
    "negative bytes": (_line(bytes=b"-180"), "bytes -180 is negative"),
    "negative packets": (_line(packets=b"-3"), "packets -3 is negative"),
    "version": (_line(version=b"99"), "version 99 is not a flow-log version (2, 3, 4, 5, 6, 7, 8)"),
    "start after end": (_line(start=b"1795824999"), "start 1795824999 is after end 1795824120"),
    "address": (_line(srcaddr=b"10.0.0.256"), "srcaddr '10.0.0.256' is not an IP address"),
    "word address": (_line(dstaddr=b"localhost"), "dstaddr 'localhost' is not an IP address"),
    "bad ipv6": (_line(dstaddr=b"fe80::1::2"), "dstaddr 'fe80::1::2' is not an IP address"),
    "protocol": (_line(protocol=b"300"), "protocol 300 is outside 0-255"),
    "long token": (
        _line(action=b"A" * (5 << 20)),
        f"action holds a token longer than {MAX_TOKEN_BYTES} bytes",
    ),
    "nul byte": (_line(interface_id=b"eni-0a\x00bc"), "interface_id holds a NUL byte"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("parser", ["fast", "reference"])
def test_impossible_values_are_quarantined_with_a_reason(case: str, parser: str) -> None:
    bad, reason = CASES[case]
    chunk = GOOD + b"\n" + bad + b"\n" + GOOD + b"\n"
    h = parse_header(HEADER)
    p = parse_chunk(chunk, h, 2) if parser == "fast" else parse_chunk_python(chunk, h, 2)
    assert p.table.num_rows == 2
    assert [(b.line_number, b.reason) for b in p.bad] == [(3, reason)]
    assert p.bad[0].raw.encode().startswith(bad[:200]) and len(p.bad[0].raw) < 10_000


def test_valid_edge_values_are_kept() -> None:
    lines = [
        _line(srcport=b"0", dstport=b"65535", protocol=b"255", packets=b"0", bytes=b"0"),
        _line(srcaddr=b"2001:db8::1", dstaddr=b"::ffff:10.0.0.1"),
        _line(start=b"1795824120"),  # start == end: a one-second aggregation
        b"2 123456789012 eni-0abc - - - - - - - 1795824090 1795824120 - NODATA",
        _line(version=b"8"),
    ]
    p = parse_chunk(b"\n".join(lines) + b"\n", parse_header(HEADER), 2)
    assert not p.bad and p.table.num_rows == len(lines)


def test_a_clean_chunk_stays_on_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: object) -> None:
        raise AssertionError("the reference parser ran on a clean chunk")

    monkeypatch.setattr(parse, "parse_chunk_python", refuse)
    lines = [GOOD.replace(b"40000", str(1024 + i).encode()) for i in range(20_000)]
    p = parse_chunk(b"\n".join(lines) + b"\n", parse_header(HEADER), 2)
    assert p.table.num_rows == 20_000 and not p.bad


def _parquet(table: pa.Table) -> io.BytesIO:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    buf.seek(0)
    return buf


def test_parquet_without_flow_log_columns_fails_naming_them() -> None:
    with pytest.raises(InputError, match="without flow-log columns") as info:
        read_parquet(_parquet(pa.table({"name": ["a"], "price": [3]})), "x.log.parquet")
    text = str(info.value)
    assert (
        "x.log.parquet" in text
        and "interface_id, srcaddr, dstaddr" in text
        and "name, price" in text
    )


def test_parquet_rows_with_impossible_values_are_quarantined() -> None:
    table = pa.table(
        {
            "version": pa.array([2, 2, 99], pa.int32()),
            "interface_id": ["eni-1", "eni-2", "eni-3"],
            "srcaddr": ["10.0.0.1", "10.0.0.x", "10.0.0.3"],
            "dstaddr": ["10.0.1.1"] * 3,
            "dstport": pa.array([443, 443, 443], pa.int32()),
            "action": ["ACCEPT"] * 3,
            "log_status": ["OK"] * 3,
        }
    )
    _, batches = read_parquet(_parquet(table), "k.log.parquet")
    parts = list(batches)
    kept = pa.concat_tables([t for t, _ in parts])
    bad = [b for _, bs in parts for b in bs]
    assert kept.column("interface_id").to_pylist() == ["eni-1"]
    assert [(b.line_number, b.reason) for b in bad] == [
        (2, "srcaddr '10.0.0.x' is not an IP address"),
        (3, "version 99 is not a flow-log version (2, 3, 4, 5, 6, 7, 8)"),
    ]
    assert "eni-2" in bad[0].raw


def _write(root: Path, name: str, data: bytes) -> str:
    key = (
        f"AWSLogs/{ACCT}/vpcflowlogs/{REGION}/2026/11/28/"
        f"{ACCT}_vpcflowlogs_{REGION}_fl-0aaa_20261128T{name}Z_0123abcd.log.gz"
    )
    (root / key).parent.mkdir(parents=True, exist_ok=True)
    (root / key).write_bytes(gzip.compress(data))
    return key


def test_ingest_fails_a_garbage_object_and_quarantines_bad_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    garbage = _write(src, "0000", b"this is not a flow log\nreally it is not\n")
    _write(
        src,
        "0100",
        HEADER + b"\n" + GOOD + b"\n" + CASES["port"][0] + b"\n" + CASES["nul byte"][0] + b"\n",
    )
    code = main(
        [
            "ingest",
            str(src),
            "--date",
            "2026-11-28",
            "--data-dir",
            str(tmp_path / "data"),
            "--json",
            "-q",
        ]
    )
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert code == 1 and f"{garbage}: line 1 is not a flow-log header line" in err
    assert (summary["rows"], summary["quarantined"]) == (1, 2)
    assert summary["quarantine_reasons"] == {
        "dstport 70000 is outside 0-65535": 1,
        "interface_id holds a NUL byte": 1,
    }
