"""S3 throttling and dropped connections, over real HTTP: a fault-injecting proxy in front of moto.

The proxy (127.0.0.1, a thread of this test) forwards every request to the moto server, except
that the first GET of each object answers 503 SlowDown (S3's throttling error), and one object's
first successful GET is cut off half-way through its body. botocore's retry mode must absorb
the 503s; flowlens must re-read the cut body; nothing may be lost or doubled; the summary says
how many retries it took.
"""

from __future__ import annotations

import gzip
import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest

from flowlens.cli import main

HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)
DAY_START = 1795824000  # 2026-11-28T00:00:00Z
BUCKET = "throttled"


def _object(period: int, rows: int) -> tuple[str, bytes]:
    ts = DAY_START + period * 300
    stamp = f"20261128T{ts // 3600 % 24:02d}{ts // 60 % 60:02d}Z"
    key = (
        "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/28/"
        f"111122223333_vpcflowlogs_us-east-1_fl-0aaa_{stamp}_{period:08x}.log.gz"
    )
    lines = [HEADER] + [
        f"2 111122223333 eni-0abc 10.0.0.{i % 200 + 1} 10.0.1.5 {40000 + i} 443 6 3 180 "
        f"{ts} {ts + 60} ACCEPT OK"
        for i in range(rows)
    ]
    return key, gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


class _Faults:
    def __init__(self, cut_key: str) -> None:
        self.lock = threading.Lock()
        self.throttled: set[str] = set()
        self.cut_key, self.cut_done = cut_key, False
        self.slowdowns = 0


def _proxy(upstream: str, faults: _Faults) -> ThreadingHTTPServer:
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            path = urlsplit(self.path).path
            is_object_get = self.command == "GET" and path.endswith(".log.gz")
            with faults.lock:
                throttle = is_object_get and path not in faults.throttled
                if throttle:
                    faults.throttled.add(path)
                    faults.slowdowns += 1
                cut = (
                    is_object_get
                    and not throttle
                    and path.endswith(faults.cut_key)
                    and not faults.cut_done
                )
                if cut:
                    faults.cut_done = True
            if throttle:
                err = (
                    b"<Error><Code>SlowDown</Code>"
                    b"<Message>Please reduce your request rate.</Message></Error>"
                )
                self.send_response(503)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(err)))
                self.end_headers()
                self.wfile.write(err)
                return
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            headers["Host"] = target.netloc
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            # A dropped connection: promise the whole body, send half, hang up.
            self.wfile.write(payload[: len(payload) // 2] if cut else payload)
            if cut:
                self.close_connection = True
            conn.close()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def throttling_endpoint(moto_reset: str) -> Iterator[tuple[str, _Faults, dict[str, int]]]:
    s3 = boto3.client("s3", endpoint_url=moto_reset, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    objects = dict(_object(p, 50 + p) for p in range(6))
    for key, body in objects.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    faults = _Faults(cut_key=sorted(objects)[2])
    server = _proxy(moto_reset, faults)
    try:
        yield (
            f"http://127.0.0.1:{server.server_address[1]}",
            faults,
            {k: 50 + i for i, k in enumerate(sorted(objects))},
        )
    finally:
        server.shutdown()


def test_throttling_and_a_dropped_body_are_retried_and_reported(
    throttling_endpoint: tuple[str, _Faults, dict[str, int]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint, faults, rows = throttling_endpoint
    code = main(
        [
            "ingest",
            f"s3://{BUCKET}",
            "--date",
            "2026-11-28",
            "--endpoint-url",
            endpoint,
            "--data-dir",
            str(tmp_path / "d"),
            "--json",
            "-q",
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["failed"] == []
    assert summary["objects"] == len(rows) and summary["rows"] == sum(rows.values())
    assert faults.slowdowns == len(rows) and faults.cut_done
    assert summary["retries"] >= faults.slowdowns + 1  # every 503, and the re-read of the cut body
    main(
        [
            "sql",
            "--data-dir",
            str(tmp_path / "d"),
            "--format",
            "json",
            "SELECT count(*) AS n, count(DISTINCT source_key) AS objects FROM flows",
        ]
    )
    assert json.loads(capsys.readouterr().out) == [{"n": sum(rows.values()), "objects": len(rows)}]
