"""Generate a realistic day of VPC flow logs in the S3 layout (gzip text,
header line, 5-minute files).

Two flow logs share the prefix: ``fl-0default000000`` in the default (v2) format and
``fl-0custom0000000`` in a v5 custom format with tcp-flags, pkt-* and flow-direction. Records
come in pairs (both directions of each connection: client ephemeral port ↔ server port) between
ENIs of a few subnets and some outside peers; ~4% REJECT (unanswered), ~1% NODATA, a few SKIPDATA.
Vectorised with numpy/pyarrow, deterministic by seed.

    python -m bench.generate OUT_DIR --records 1000000 --day 2026-11-28 --seed 1
"""

from __future__ import annotations

import argparse
import gzip
import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ACCOUNT = "123456789012"
REGION = "us-east-1"
DEFAULT_FL = "fl-0default000000"
CUSTOM_FL = "fl-0custom0000000"
DEFAULT_FIELDS = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol "
    "packets bytes start end action log-status"
)
CUSTOM_FIELDS = (
    "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport "
    "dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status "
    "flow-direction traffic-path"
)
SERVER_PORTS = np.array([443, 80, 22, 5432, 3306, 6379, 8080, 53, 123, 9200])


@dataclass(frozen=True)
class GeneratedDay:
    out_dir: str
    day: str
    records: int
    files: int
    bytes: int  # compressed bytes on disk
    text_bytes: int
    flow_logs: tuple[str, ...]


def _ips(prefix: str, idx: np.ndarray) -> pa.Array:
    hi, lo = (idx // 250) % 250 + 1, idx % 250 + 4
    return pc.binary_join_element_wise(
        prefix, pa.array(hi).cast(pa.string()), ".", pa.array(lo).cast(pa.string()), ""
    )


def _columns(rng: np.random.Generator, n: int, day_start: int) -> dict[str, pa.Array]:
    """``n`` records (n/2 connections × 2 directions), sorted by end time."""
    c = int(n / 1.9) + 10  # ~4% of connections have no reply
    n_eni = 48
    local = rng.integers(0, n_eni, c)
    external = rng.random(c) < 0.3
    peer = np.where(external, rng.integers(0, 5000, c), rng.integers(0, n_eni, c))
    inbound = rng.random(c) < 0.5
    sport = SERVER_PORTS[rng.integers(0, len(SERVER_PORTS), c)]
    eport = rng.integers(32768, 61000, c)
    proto = np.where(np.isin(sport, [53, 123]), 17, 6)
    end = day_start + np.sort(rng.integers(0, 86400, c))
    start = end - rng.integers(0, 600, c)
    pk = rng.integers(1, 200, c)
    rejected = rng.random(c) < 0.04
    # direction 0: client → server; direction 1: the reply, on the same ENI
    both = np.concatenate
    local_ip = _ips("10.0.", both([local, local]))
    peer_ip = pc.if_else(
        pa.array(both([external, external])),
        _ips("198.51.", both([peer, peer])),
        _ips("10.1.", both([peer, peer])),
    )
    is_reply = np.repeat([False, True], c)
    inb = both([inbound, inbound])
    client_is_peer = inb
    src_is_local = np.where(is_reply, client_is_peer, ~client_is_peer)
    srcaddr = pc.if_else(pa.array(src_is_local), local_ip, peer_ip)
    dstaddr = pc.if_else(pa.array(src_is_local), peer_ip, local_ip)
    srcport = np.where(is_reply, both([sport, sport]), both([eport, eport]))
    dstport = np.where(is_reply, both([eport, eport]), both([sport, sport]))
    rej = both([rejected, rejected])
    keep = ~(is_reply & rej)  # rejected connections get no reply
    cols = {
        "eni": both([local, local]),
        "srcaddr": srcaddr,
        "dstaddr": dstaddr,
        "srcport": srcport,
        "dstport": dstport,
        "protocol": both([proto, proto]),
        "packets": both([pk, pk]),
        "start": both([start, start]),
        "end": both([end, end]),
        "reject": rej,
        "reply": is_reply,
        "inbound": inb,
    }
    idx = np.nonzero(keep)[0]
    idx = idx[np.argsort(cols_end := cols["end"][idx], kind="stable")]
    del cols_end
    out = {
        k: (v.take(pa.array(idx)) if isinstance(v, pa.Array) else v[idx]) for k, v in cols.items()
    }
    return {k: (v[:n] if not isinstance(v, pa.Array) else v.slice(0, n)) for k, v in out.items()}


def _render(
    cols: dict[str, pa.Array | np.ndarray], sel: np.ndarray, custom: bool, rng: np.random.Generator
) -> bytes:
    """Text lines (no header) of the records ``sel``, in one flow log's format."""
    m = len(sel)
    take = pa.array(sel)

    def s(x: pa.Array | np.ndarray) -> pa.Array:
        arr = x.take(take) if isinstance(x, pa.Array) else pa.array(x[sel])
        return arr.cast(pa.string())

    status = rng.random(m)
    nodata, skip = status < 0.01, (status >= 0.01) & (status < 0.0102)
    flow = ~(nodata | skip)
    dash = pa.scalar("-")
    fmask = pa.array(flow)
    packets = np.asarray(cols["packets"])[sel]
    byts = packets * rng.integers(60, 1500, m)
    action = np.where(np.asarray(cols["reject"])[sel], "REJECT", "ACCEPT")
    log_status = np.where(nodata, "NODATA", np.where(skip, "SKIPDATA", "OK"))
    eni = np.asarray(cols["eni"])[sel]
    eni_id = pc.binary_join_element_wise(
        "eni-0a1b2c3d4e5f6", pa.array(eni + 1000).cast(pa.string()), ""
    )

    def f(x: pa.Array) -> pa.Array:
        return pc.if_else(fmask, x, dash)

    common = {
        "version": pa.array(["5" if custom else "2"] * m),
        "account-id": pa.array([ACCOUNT] * m),
        "interface-id": eni_id,
        "srcaddr": f(s(cols["srcaddr"])),
        "dstaddr": f(s(cols["dstaddr"])),
        "srcport": f(s(cols["srcport"])),
        "dstport": f(s(cols["dstport"])),
        "protocol": f(s(cols["protocol"])),
        "packets": f(pa.array(packets).cast(pa.string())),
        "bytes": f(pa.array(byts).cast(pa.string())),
        "start": s(cols["start"]),
        "end": s(cols["end"]),
        "action": f(pa.array(action)),
        "log-status": pa.array(log_status),
    }
    if custom:
        reply, inbound = np.asarray(cols["reply"])[sel], np.asarray(cols["inbound"])[sel]
        tcp = np.where(
            np.asarray(cols["protocol"])[sel] == 6,
            np.where(reply, 18, 2) | rng.choice([0, 1, 16], m),
            0,
        )
        ingress = np.where(reply, ~inbound, inbound)
        subnet = pc.binary_join_element_wise("subnet-0aa", pa.array(eni % 3).cast(pa.string()), "")
        common |= {
            "vpc-id": pa.array(["vpc-0123456789abcdef0"] * m),
            "subnet-id": subnet,
            "instance-id": pc.binary_join_element_wise(
                "i-0abc", pa.array(eni).cast(pa.string()), ""
            ),
            "type": pa.array(["IPv4"] * m),
            "pkt-srcaddr": f(s(cols["srcaddr"])),
            "pkt-dstaddr": f(s(cols["dstaddr"])),
            "tcp-flags": f(pa.array(tcp).cast(pa.string())),
            "flow-direction": pa.array(np.where(ingress, "ingress", "egress")),
            "traffic-path": pc.if_else(
                pa.array(ingress), dash, pa.array(np.where(rng.random(m) < 0.5, "1", "8"))
            ),
        }
    names = (CUSTOM_FIELDS if custom else DEFAULT_FIELDS).split()
    lines = pc.binary_join_element_wise(*[common[k] for k in names], " ")
    return ("\n".join(lines.to_pylist()) + "\n").encode() if m else b""


def _key(root: Path, fl: str, ts: datetime, h: int) -> Path:
    name = f"{ACCOUNT}_vpcflowlogs_{REGION}_{fl}_{ts:%Y%m%dT%H%MZ}_{h:08x}.log.gz"
    return (
        root
        / "AWSLogs"
        / ACCOUNT
        / "vpcflowlogs"
        / REGION
        / f"{ts:%Y}"
        / f"{ts:%m}"
        / f"{ts:%d}"
        / name
    )


def generate_day(
    out_dir: Path | str,
    n_records: int,
    day: date,
    *,
    seed: int = 0,
    compresslevel: int = 6,
    shards: int = 1,
) -> GeneratedDay:
    """Write one day of ``n_records`` records under ``out_dir/AWSLogs/...``;
    returns what was written.

    AWS delivers one file per flow log per 5-minute period, split into several files by its
    delivery hosts and past 75 MB: ``shards`` is that split (files per flow log per period), so
    a day has 288 × 2 × ``shards`` files (×2 more when N exceeds a 2M-record block).
    """
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    day_start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    files = total = text = 0
    per_block = 2_000_000  # records generated at a time: memory stays bounded for large N
    for block_start in range(0, n_records, per_block):
        m = min(per_block, n_records - block_start)
        cols = _columns(rng, m, day_start)
        end = np.asarray(cols["end"])
        custom = rng.random(len(end)) < 0.5
        bins = (end - day_start) // 300
        for b in np.unique(bins):
            for is_custom, fl in ((False, DEFAULT_FL), (True, CUSTOM_FL)):
                sel_all = np.nonzero((bins == b) & (custom == is_custom))[0]
                for sel in np.array_split(sel_all, min(shards, max(len(sel_all), 1))):
                    if not len(sel):
                        continue
                    body = (
                        (CUSTOM_FIELDS if is_custom else DEFAULT_FIELDS) + "\n"
                    ).encode() + _render(cols, sel, is_custom, rng)
                    ts = datetime.fromtimestamp(day_start + int(b) * 300, UTC)
                    path = _key(out, fl, ts, int(rng.integers(0, 2**32)) ^ block_start)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    data = gzip.compress(body, compresslevel=compresslevel, mtime=0)
                    path.write_bytes(data)
                    files, total, text = files + 1, total + len(data), text + len(body)
    return GeneratedDay(
        str(out), day.isoformat(), n_records, files, total, text, (DEFAULT_FL, CUSTOM_FL)
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("out_dir")
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--day", default="2026-11-28")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--shards", type=int, default=1, help="files per flow log per 5-minute period (default 1)"
    )
    args = p.parse_args(argv)
    g = generate_day(
        args.out_dir, args.records, date.fromisoformat(args.day), seed=args.seed, shards=args.shards
    )
    print(json.dumps(asdict(g)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
