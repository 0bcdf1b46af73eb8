"""Parsing: every corpus flow-log file, the quirks, and a header round-trip property."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlens.ingest.keys import parse_key
from flowlens.ingest.parse import (
    CSV_BLOCK_BYTES,
    Body,
    Header,
    _read_csv,
    parse_chunk,
    parse_chunk_python,
    parse_header,
    parse_joined,
    split_header,
)
from flowlens.ingest.validate import ADDRESSES, KNOWN_VERSIONS
from flowlens.model.flow import VPC_FIELDS, FlowField


def _parse_file(path: Path) -> tuple[Header, object]:
    data = path.read_bytes()
    data = data if data.endswith(b"\n") else data + b"\n"
    for sidecar in (path.with_suffix(".fields"), path.with_suffix(".fields.inferred")):
        if sidecar.exists():
            return parse_header(sidecar.read_bytes()), parse_chunk(
                data, parse_header(sidecar.read_bytes()), 1
            )
    head, body = split_header(data)
    return parse_header(head), parse_chunk(body, parse_header(head), 2)


def _expected(corpus: Path) -> list[dict]:
    return json.loads((corpus / "expected.json").read_text())["records"]


def test_every_expected_record_parses_to_its_fields(corpus: Path) -> None:
    by_file: dict[str, list[dict]] = {}
    for rec in _expected(corpus):
        by_file.setdefault(rec["file"], []).append(rec)
    for rel, recs in by_file.items():
        _header, parsed = _parse_file(corpus / rel)
        rows = parsed.table.to_pylist()
        for rec in recs:
            if rec.get("inline_annotation_in_source"):  # extra tokens: quarantined, not guessed at
                assert any(rec["raw"] in b.raw for b in parsed.bad), rec["raw"]
                continue
            row = rows[rec["record_index"]]
            for name, want in rec["fields"].items():
                got = row[name.replace("-", "_")]
                if name in ("start", "end") and want is not None and want > 10**11:
                    want //= 1000  # epoch milliseconds are normalised
                assert got == want, f"{rel}#{rec['record_index']} {name}"


def test_fast_and_reference_parsers_agree_on_every_corpus_file(corpus: Path) -> None:
    for path in sorted((corpus / "flowlogs").rglob("*.log")):
        header, fast = _parse_file(path)
        data = path.read_bytes()
        body = (
            data
            if path.with_suffix(".fields").exists() or path.with_suffix(".fields.inferred").exists()
            else split_header(data)[1]
        )
        first = 1 if body is data else 2
        ref = parse_chunk_python(body if body.endswith(b"\n") else body + b"\n", header, first)
        assert fast.table.equals(ref.table), path.name
        assert fast.bad == ref.bad, path.name


def test_quirks(corpus: Path) -> None:
    fl = corpus / "flowlogs"
    # the double-space record is kept
    _h, p = _parse_file(fl / "awsdocs-vpc-user-guide/v3-custom-tcp-flag-sequence.log")
    assert p.table.num_rows == 8 and not p.bad
    # NAT gateway format without version: annotations are extra tokens,
    # quarantined with line numbers
    _h, p = _parse_file(fl / "awsdocs-vpc-user-guide/custom-nat-gateway.log")
    assert [b.line_number for b in p.bad] == [5, 6] and "extra tokens" in p.bad[0].reason
    assert p.table.column("version").null_count == p.table.num_rows
    # the bogus line: quarantined with its line number and raw text
    _h, p = _parse_file(fl / "flowlogs-reader-tests/v5-s3-file-with-header-and-bogus-line.log")
    assert p.table.num_rows == 2 and [(b.line_number, b.raw) for b in p.bad] == [(4, "bogus line")]
    # Transit Gateway headers are recognised
    for name in (
        "flowlogs-reader-tests/v6-tgw-s3-file-with-header.log",
        "elastic-beats-processor-testdata/v6-tgw-no-version-field.log",
    ):
        h, p = _parse_file(fl / name)
        assert h.tgw and p.table.num_rows == 1
    # v7 ECS and v8 reject-reason are kept in their own columns
    _h, p = _parse_file(fl / "elastic-integrations-pipeline-tests/test-v8-samples.log")
    assert p.table.column("reject_reason").to_pylist() == ["BPA"]
    assert p.table.column("ecs_cluster_name").null_count == 0


def test_unknown_fields_are_kept_in_extra() -> None:
    h = parse_header(b"version srcport future-field")
    p = parse_chunk(b"2 443 hello\n2 - -\n", h, 2)
    assert p.table.column("extra").to_pylist() == [
        [("future-field", "hello")],
        [("future-field", None)],
    ]
    assert p.table.column("srcport").to_pylist() == [443, None]


def test_non_integer_in_integer_column_is_quarantined_with_reason() -> None:
    h = parse_header(b"srcport dstport")
    p = parse_chunk(b"1 2\nx 3\n4 5\n", h, 2)
    assert p.table.column("srcport").to_pylist() == [1, 4]
    assert [(b.line_number, b.raw) for b in p.bad] == [(3, "x 3")] and "srcport" in p.bad[0].reason


def test_key_layouts() -> None:
    name = "123456789012_vpcflowlogs_eu-west-1_fl-0abc_20261128T2355Z_deadbeef.log.gz"
    keys = {
        "default": f"p/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/28/{name}",
        "hourly": f"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/28/23/{name}",
        "hive": "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/"
        f"year=2026/month=11/day=28/{name}",
        "hive+hourly": "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/"
        f"aws-region=eu-west-1/year=2026/month=11/day=28/hour=23/{name}",
    }
    for layout, key in keys.items():
        k = parse_key(key)
        assert k is not None, layout
        assert (k.account_id, k.region, k.flow_log_id, k.timestamp.isoformat()) == (
            "123456789012",
            "eu-west-1",
            "fl-0abc",
            "2026-11-28T23:55:00+00:00",
        )
        assert k.hive == layout.startswith("hive") and k.hourly == layout.endswith("hourly")
    assert (
        parse_key(keys["default"].replace(".log.gz", ".log.parquet")).format.value == "log.parquet"
    )  # type: ignore[union-attr]
    assert parse_key("AWSLogs/test_file.log.gz") is None
    assert parse_key("AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/28/notes.txt") is None


def _valid_values(f: FlowField) -> st.SearchStrategy[object]:
    """Values a flow log can hold in field ``f`` (others are quarantined: test_ingest_values.py)."""
    if f.name in ("srcport", "dstport"):
        return st.integers(0, 65535)
    if f.name == "protocol":
        return st.integers(0, 255)
    if f.name == "version":
        return st.sampled_from(KNOWN_VERSIONS)
    if f.name == "start":
        return st.integers(0, 2**30 - 1)  # below every end: start after end is quarantined
    if f.name == "end":
        return st.integers(2**30, 2**31 - 1)
    if f.column in ADDRESSES:
        return st.ip_addresses().map(str)
    if pa.types.is_integer(f.type):
        return st.integers(0, 2**31 - 1)
    return st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.:-", min_size=2, max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_fields_in_random_order_round_trip(data: st.DataObject) -> None:
    fields = data.draw(
        st.lists(st.sampled_from(VPC_FIELDS), min_size=1, max_size=12, unique_by=lambda f: f.name)
    )
    rows = data.draw(
        st.lists(st.tuples(*[st.none() | _valid_values(f) for f in fields]), max_size=5)
    )
    body = "".join(" ".join("-" if v is None else str(v) for v in row) + "\n" for row in rows)
    header = " ".join(f.name for f in fields)
    h = parse_header(header.encode())
    p = parse_chunk(body.encode(), h, 2)
    assert not p.bad
    for f, col in zip(fields, zip(*rows, strict=True) if rows else [()] * len(fields), strict=True):
        assert p.table.column(f.column).to_pylist() == list(col), f.name


@pytest.mark.parametrize("bad", [b"1 2 3\n", b"version srcport version\n"])
def test_bad_headers_are_refused(bad: bytes) -> None:
    from flowlens.errors import InputError

    with pytest.raises(InputError):
        parse_header(bad, "k")


@pytest.mark.parametrize(
    "body",
    [
        b"a  b\n",
        b" a b\n",
        b"a b \n",
        b"a\tb c\n",
        b"a b c\r\n",
        b"a b c\n\nd e f\n",
        b"a b c\n   \nd e f\n",
    ],
)
def test_fast_parser_never_keeps_an_empty_field_the_reference_would_not(body: bytes) -> None:
    """Odd whitespace (doubled, leading, trailing, tabs, CR, blank lines)
    parses as the reference does."""
    h = parse_header(b"action log-status interface-id")
    fast, ref = parse_chunk(body, h, 2), parse_chunk_python(body, h, 2)
    assert fast.table.equals(ref.table) and fast.bad == ref.bad


def test_bodies_parse_together_only_when_clean() -> None:
    h = parse_header(b"srcport action")
    joined = parse_joined([Body.of(b"1 A\n2 B\n"), Body.of(b""), Body.of(b"3 C\n")], h)
    assert joined is not None and joined.apart is None
    assert [t.column("srcport").to_pylist() for t in joined.tables()] == [[1, 2], [], [3]]
    for dirty in (
        [b"1 A\n", b"bogus\n"],
        [b"1 A\n", b"x B\n"],
        [b"1 A\n\n", b"2 B\n"],
        [b"1  A\n", b"2 B\n"],
        [b"1 A\n", b"2\tB\n"],
        [b"1 REJECT\n", b"x REJECT\n"],  # a bad line among those read apart
    ):
        assert parse_joined([Body.of(b) for b in dirty], h) is None, dirty
    # Records after a header line are parsed in place (``start``), the header never as a row.
    text = b"srcport action\n7 A\n8 B\n"
    body = Body.of(text, text.find(b"\n") + 1)
    assert (body.lines, body.records) == (2, b"7 A\n8 B\n")
    joined = parse_joined([body, Body.of(b"9 C\n")], h)
    assert joined is not None
    assert [t.column("srcport").to_pylist() for t in joined.tables()] == [[7, 8], [9]]


def test_reject_lines_are_read_apart_and_every_line_is_kept_once() -> None:
    """REJECT lines (runs of them, first and last lines too) come back in ``apart``, per body;
    the others in ``tables``; together they are every record, each once."""
    h = parse_header(b"srcport action")
    texts = [
        b"srcport action\n1 REJECT\n2 ACCEPT\n3 REJECT\n4 REJECT\n5 ACCEPT\n6 REJECT\n",
        b"7 ACCEPT\n8 -\n",
        b"9 REJECT\n",
    ]
    bodies = [Body.of(texts[0], texts[0].find(b"\n") + 1), Body.of(texts[1]), Body.of(texts[2])]
    assert [(b.lines, b.apart_lines) for b in bodies] == [(6, 4), (2, 0), (1, 1)]
    joined = parse_joined(bodies, h)
    assert joined is not None and joined.apart is not None
    ports = [t.column("srcport").to_pylist() for t in joined.tables()]
    apart = [t.column("srcport").to_pylist() for t in joined.tables(apart=True)]
    assert ports == [[2, 5], [7, 8], []]
    assert apart == [[1, 3, 4, 6], [], [9]]
    assert set(joined.apart.column("action").to_pylist()) == {"REJECT"}
    # A body of REJECTs only, and one whose last line has no newline (not split: not clean).
    only = parse_joined([Body.of(b"1 REJECT\n2 REJECT\n")], h)
    assert only is not None and only.apart is not None
    assert (only.table.num_rows, only.apart.num_rows) == (0, 2)
    assert Body.of(b"1 ACCEPT\n2 REJECT").apart == ()


def test_chunks_larger_than_a_csv_block_keep_line_numbers() -> None:
    """The CSV reader parses in CSV_BLOCK_BYTES blocks: rows, bad lines and their numbers do not
    depend on where a block ends."""
    h = parse_header(b"version srcaddr srcport action")
    lines = [
        b"2 10.0.%d.%d %d ACCEPT" % (i // 250 % 250, i % 250, i % 65536) for i in range(150_000)
    ]
    lines[3] = b"2 10.0.0.1 443"  # too few tokens, inside the first block
    lines[140_000] = b"2 10.0.0.1 443 ACCEPT extra"  # too many, several blocks later
    body = b"\n".join(lines) + b"\n"
    table, rejected = _read_csv(body, h)
    assert table.column("srcport").num_chunks > 2  # several blocks were parsed
    assert rejected == [(4, 3), (140_001, 5)]  # CSV row numbers (the body has no header line)
    fast = parse_chunk(body, h, 2)
    assert [(b.line_number, b.reason.split(" where")[0]) for b in fast.bad] == [
        (5, "3 tokens"),
        (140_002, "5 tokens"),
    ]
    assert fast.table.num_rows == 150_000 - 2
    assert fast.table.column("srcport").to_pylist()[-1] == 149_999 % 65536
    ref = parse_chunk_python(body, h, 2)
    assert fast.table.equals(ref.table) and fast.bad == ref.bad


def test_a_line_longer_than_a_csv_block_is_read_and_judged() -> None:
    h = parse_header(b"version srcaddr srcport action")
    long = b"2 " + b"x" * (CSV_BLOCK_BYTES + 10) + b" 80 ACCEPT"
    body = b"2 10.0.0.1 443 ACCEPT\n" * 1000 + long + b"\n" + b"2 10.0.0.2 22 ACCEPT\n"
    table, rejected = _read_csv(body, h)
    assert table.num_rows == 1002 and not rejected
    fast = parse_chunk(body, h, 2)
    assert [(b.line_number, b.reason) for b in fast.bad] == [
        (1002, "srcaddr holds a token longer than 2048 bytes")
    ]
    assert fast.table.column("srcport").to_pylist()[-2:] == [443, 22]
