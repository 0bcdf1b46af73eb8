"""The one pass over the records (sql/analyze/10_eni_flows.sql) against a plain Python reference.

The step packs its yes/no facts into one BIT_OR and aggregates ENI-view addresses only where they
differ from the packet-level ones (to keep the pass cheap, bench/README.md); this checks, on random
small days mixing NAT-ed (pkt_* ≠ srcaddr/dstaddr) and plain records, v2 (no flags, no direction)
and v5 records, that every output column is what its plain definition says. The step runs on
the DuckDB engine's connection, so its sums are bound as analyze binds them (FLOW_SUM without
overflow checks: these days' totals are small).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flowlens import sqlfiles
from flowlens.engines.duckdb_engine import DuckDBEngine

DAY = date(2026, 11, 28)
ADDRS = ["10.0.1.5", "10.0.1.10", "10.0.1.9", "203.0.113.7", "100.64.0.1"]

PORTS = [443, 40000, 0]


@st.composite
def record(draw: st.DrawFn) -> dict[str, Any]:
    """A record of one of few packet-level 5-tuples, so conversations collect several records; its
    ENI-view addresses equal the packet-level ones, or differ (NAT), or the format has no pkt_*."""
    pkt_src, pkt_dst = draw(st.sampled_from(ADDRS[:3])), draw(st.sampled_from(ADDRS[:3]))
    srcaddr = draw(st.one_of(st.just(pkt_src), st.sampled_from(ADDRS)))
    dstaddr = draw(st.one_of(st.just(pkt_dst), st.sampled_from(ADDRS)))
    with_pkt = draw(st.booleans())
    return {
        "interface_id": draw(st.sampled_from(["eni-a", "eni-b"])),
        "srcaddr": srcaddr if with_pkt else pkt_src,
        "dstaddr": dstaddr if with_pkt else pkt_dst,
        "pkt_srcaddr": pkt_src if with_pkt else None,
        "pkt_dstaddr": pkt_dst if with_pkt else None,
        "srcport": draw(st.sampled_from(PORTS)),
        "dstport": draw(st.sampled_from(PORTS)),
        "protocol": 6,
        "action": draw(st.sampled_from(["ACCEPT", "REJECT"])),
        "packets": draw(st.integers(1, 50)),
        "bytes": draw(st.integers(40, 5000)),
        "start": draw(st.integers(1_795_000_000, 1_795_000_600)),
        "tcp_flags": draw(st.one_of(st.none(), st.sampled_from([2, 18, 16, 3, 19, 1, 4]))),
        "flow_direction": draw(st.one_of(st.none(), st.sampled_from(["ingress", "egress"]))),
    }


def reference(records: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in records:
        src, dst = r["pkt_srcaddr"] or r["srcaddr"], r["pkt_dstaddr"] or r["dstaddr"]
        sport, dport = r["srcport"], r["dstport"]
        fwd = (src, sport) <= (dst, dport)
        key = (
            r["interface_id"],
            r["protocol"],
            *((src, sport, dst, dport) if fwd else (dst, dport, src, sport)),
        )
        acc = r["action"] == "ACCEPT"
        flags = r["tcp_flags"]
        syn, synack = flags is not None and flags & 18 == 2, flags is not None and flags & 18 == 18
        f = "f" if fwd else "r"
        c = out.setdefault(
            key,
            {
                "lo_raw": [],
                "hi_raw": [],
                "lo_dir_local": 0,
                "hi_dir_local": 0,
                "f_syn": 0,
                "f_synack": 0,
                "r_syn": 0,
                "r_synack": 0,
                "f_acc": 0,
                "f_rej": 0,
                "r_acc": 0,
                "r_rej": 0,
                "f_packets": 0,
                "r_packets": 0,
                "f_acc_bytes": 0,
                "r_acc_bytes": 0,
            },
        )
        c["lo_raw"].append(r["srcaddr"] if fwd else r["dstaddr"])
        c["hi_raw"].append(r["dstaddr"] if fwd else r["srcaddr"])
        d = r["flow_direction"]
        c["lo_dir_local"] |= int((fwd and d == "egress") or (not fwd and d == "ingress"))
        c["hi_dir_local"] |= int((fwd and d == "ingress") or (not fwd and d == "egress"))
        c[f + "_syn"] |= int(syn)
        c[f + "_synack"] |= int(synack)
        c[f + ("_acc" if acc else "_rej")] += 1
        c[f + "_packets"] += r["packets"]
        c[f + "_acc_bytes"] += r["bytes"] if acc else 0
    for key, c in out.items():
        c["lo_raw"], c["hi_raw"] = min(c["lo_raw"]), min(c["hi_raw"])
        c.update(own_evidence(key, c))
    return out


def _one_side(lo: bool, hi: bool) -> str | None:
    return "lo" if lo and not hi else "hi" if hi and not lo else None


def own_evidence(key: tuple[Any, ...], c: dict[str, Any]) -> dict[str, str | None]:
    """The initiator evidence of one conversation alone, from its plain definitions
    (docs/flow-logs.md#who-initiated-a-connection); the per-direction flags it is made of are
    not outputs."""
    protocol, lo_port, hi_port = key[1], key[3], key[5]
    f_syn, f_synack, r_syn, r_synack = (
        c.pop(k) for k in ("f_syn", "f_synack", "r_syn", "r_synack")
    )
    lo_says, hi_says = f_syn or r_synack, r_syn or f_synack
    eph: str | None = None
    if protocol in (6, 17):
        for bound in (32768, 1024):
            eph = eph or _one_side(lo_port >= bound > hi_port, hi_port >= bound > lo_port)
    return {
        "flag_side": _one_side(bool(lo_says), bool(hi_says)) if protocol == 6 else None,
        "rnr_side": _one_side(
            c["f_rej"] > 0 and c["f_acc"] == 0 and c["r_acc"] + c["r_rej"] == 0,
            c["r_rej"] > 0 and c["r_acc"] == 0 and c["f_acc"] + c["f_rej"] == 0,
        ),
        "eph_side": eph,
    }


def _nat(srcaddr: str, **over: Any) -> dict[str, Any]:
    base = {
        "interface_id": "eni-a",
        "srcaddr": srcaddr,
        "dstaddr": "10.0.1.9",
        "pkt_srcaddr": "10.0.1.5",
        "pkt_dstaddr": "10.0.1.9",
        "srcport": 40000,
        "dstport": 443,
        "protocol": 6,
        "action": "ACCEPT",
        "packets": 3,
        "bytes": 180,
        "start": 1_795_000_000,
        "tcp_flags": 2,
        "flow_direction": "egress",
    }
    return {**base, **over}


@settings(max_examples=80, deadline=None)
@given(st.lists(record(), min_size=1, max_size=30))
# one conversation whose lo side is seen both as itself and NAT-ed to a smaller address
@example([_nat("10.0.1.5"), _nat("10.0.1.10", start=1_795_000_060)])
# ... and only NAT-ed
@example([_nat("203.0.113.7"), _nat("100.64.0.1", tcp_flags=16)])
def test_records_pass_matches_its_plain_definition(records: list[dict[str, Any]]) -> None:
    rows = [{**r, "end": r["start"] + 30, "log_status": "OK", "date": DAY} for r in records]
    con = duckdb.connect()
    con.register("flows_arrow", pa.Table.from_pylist(rows))
    con.execute("CREATE TABLE flows AS SELECT * FROM flows_arrow")
    DuckDBEngine(con, owned=False).fit_sums(DAY)
    step = sqlfiles.load("analyze", "10_eni_flows")
    cur = con.execute(step.sql, {"day": DAY})
    names = [d[0] for d in cur.description]
    got = {
        (r["eni_id"], r["protocol"], r["lo_addr"], r["lo_port"], r["hi_addr"], r["hi_port"]): r
        for r in (dict(zip(names, row, strict=True)) for row in cur.fetchall())
    }
    want = reference(records)
    assert got.keys() == want.keys()
    for key, expected in want.items():
        assert {k: got[key][k] for k in expected} == expected, key
