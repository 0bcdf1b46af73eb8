"""Shared fixtures: a real moto server on 127.0.0.1, the conformance corpus, temp data dirs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from flowlens.datadir import DataDir
from flowlens.ingest.pipeline import IngestSummary
from flowlens.model.plan import Plan

REPO = Path(__file__).resolve().parent.parent
#: Public flow-log records and AWS API outputs, with their sources and licences (its README).
CORPUS = REPO / "tests" / "data" / "corpus"
SAMPLE_LOGS = REPO / "sample_logs"


def fresh_commands(*argvs: list[str]) -> tuple[list[int], bool]:
    """Run flowlens commands one after another in a new interpreter (what another test imported
    cannot hide an import): their exit codes, and whether pandas was imported by the end. pyarrow
    imports it at the first ``pa.array``/``pa.table`` of Python values or datetime read from a
    time-zoned timestamp; the commands that never need it build their Arrow through
    flowlens/arrays.py."""
    code = (
        "import json, sys\n"
        "from flowlens.cli import main\n"
        "codes = [main(argv) for argv in json.loads(sys.argv[1])]\n"
        "print(json.dumps([codes, 'pandas' in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(argvs)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    codes, imported = json.loads(out.stdout.splitlines()[-1])
    return codes, imported


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server in server mode on a free loopback port: boto3 talks real HTTP to it."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials so no test can ever reach a real account."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "FLOWLENS_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture
def moto_reset(moto_endpoint: str) -> Iterator[str]:
    """The moto endpoint, emptied before the test so tests do not see each other's resources."""
    import urllib.request

    urllib.request.urlopen(
        urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    ).read()
    yield moto_endpoint


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "expected.json").is_file():
        pytest.fail(f"the conformance corpus is missing at {CORPUS}; it is part of the repository")
    return CORPUS


@dataclass(frozen=True)
class SampleDay:
    """The committed sample day run through ingest, inventory, analyze and recommend once."""

    data: DataDir
    ingest: IngestSummary
    plan: Plan
    expected: dict[str, Any]


@pytest.fixture(scope="session")
def sample_day(tmp_path_factory: pytest.TempPathFactory) -> SampleDay:
    """Built once per test process (each xdist worker that needs it builds its own)."""
    from flowlens.analyze import analyze
    from flowlens.ingest.pipeline import ingest
    from flowlens.ingest.source import LocalSource
    from flowlens.inventory import snapshot_from_json
    from flowlens.model.window import Window
    from flowlens.recommend.pipeline import recommend

    expected = json.loads((SAMPLE_LOGS / "expected.json").read_text(encoding="utf-8"))
    day = date.fromisoformat(expected["window"]["start"][:10])
    dd = DataDir(tmp_path_factory.mktemp("sample") / "data")
    summary = ingest(LocalSource(SAMPLE_LOGS / "s3"), [day], dd, workers=2)
    snapshot_from_json([SAMPLE_LOGS / "inventory"], dd, taken_at=Window.day(day).end)
    analyze(dd, [day])
    return SampleDay(dd, summary, recommend(dd, [day]), expected)
