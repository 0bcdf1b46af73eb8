"""Small later days for verifying the sample plan, made cheaply from the sample day's own flows.

A later day is a subset of the sample day's flow records (by ENI), shifted by whole days into
that day's partition; ``new_peer`` adds the SSH conversation of 198.51.100.7 again, from another
address, as a new legitimate operator would appear.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flowlens.atomic import write_parquet_atomic
from flowlens.datadir import DataDir

SAMPLE_DAY = date(2026, 11, 28)
#: app-1 (ALB → app 8080, app → rds 5432 and S3) and the bastion (SSH from the two office addresses)
SMALL_ENIS = ("eni-0a7d0664fd881ae5b", "eni-07a93e423b3ff6908")
KNOWN_OPERATOR = "198.51.100.7"


def _sample_flows(dd: DataDir) -> pa.Table:
    part = next(dd.flows.glob(f"*/*/date={SAMPLE_DAY}"))
    return pq.read_table(next(part.glob("*.parquet")))


def write_day(dd: DataDir, day: date, *, new_peer: str | None = None) -> None:
    """Day ``day``: the sample day's records of SMALL_ENIS, moved to ``day``
    (plus ``new_peer``'s SSH)."""
    flows = _sample_flows(dd)
    small = flows.filter(pc.is_in(flows["interface_id"], pa.array(SMALL_ENIS)))
    parts = [small]
    if new_peer:
        ssh = flows.filter(
            pc.or_(
                pc.equal(flows["srcaddr"], KNOWN_OPERATOR),
                pc.equal(flows["dstaddr"], KNOWN_OPERATOR),
            )
        )
        for col in ("srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr"):
            i = ssh.schema.get_field_index(col)
            swapped = pc.if_else(pc.equal(ssh[col], KNOWN_OPERATOR), new_peer, ssh[col])
            ssh = ssh.set_column(i, col, swapped)
        parts.append(ssh)
    table = pa.concat_tables(parts)
    shift = (day - SAMPLE_DAY).days * 86400
    for col in ("start", "end"):
        table = table.set_column(table.schema.get_field_index(col), col, pc.add(table[col], shift))
    base = next(dd.flows.glob(f"*/*/date={SAMPLE_DAY}")).parent
    write_parquet_atomic(table, base / f"date={day}" / "part-staged.parquet")
