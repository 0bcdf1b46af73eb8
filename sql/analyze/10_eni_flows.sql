-- name: 10_eni_flows
-- returns: one row per ENI × protocol × unordered address/port pair of the day (lo side = the
--     smaller (address, port)), with per-direction aggregates: f_* for lo→hi records, r_* for
--     hi→lo records, and the initiator evidence the conversation carries on its own (flag_side,
--     rnr_side, eph_side: lo|hi, NULL when silent; sql/analyze/30_conversation_sides.sql weighs
--     them with the evidence of other conversations)
-- params: $day
-- variants: spark
-- Spark runs its own form (after "-- variant: spark"): Spark hash-aggregates only fixed-width
-- buffers, so the two MINs over text would plan the whole GROUP BY as a SortAggregate (every record
-- sorted, twice: docs/engines.md). Its form aggregates the records without them, and takes the
-- MINs of the ENI-view addresses from a second, small aggregate over only the records whose
-- ENI-view address differs from the packet-level one (the only ones where they are not NULL),
-- joined back by the pair; DuckDB keeps the one pass.
-- Addresses are packet-level (pkt_srcaddr/pkt_dstaddr when the format has them); lo_raw/hi_raw are
-- the ENI-view addresses (srcaddr/dstaddr) of each side, used to tell which side is the ENI.
-- TCP flags are tested per record (they are OR-ed within an aggregation interval,
-- docs/flow-logs.md#tcp-flags):
-- syn = SYN without bit 16 (the initiator's SYN), synack = bits 18 (the responder's SYN-ACK).
-- This is the one pass over the day's records, and each aggregate costs a scattered update per
-- record (bench/README.md), so the yes/no facts share one BIT_OR of `bits`:
--   1 f_syn, 2 f_synack, 4 r_syn, 8 r_synack (the flags above, per direction),
--   16 lo_dir_local, 32 hi_dir_local (flow-direction names that side as the ENI's own),
--   64 / 128 a record whose ENI-view address of the lo / hi side equals the packet-level one;
-- and the ENI-view addresses are aggregated only where they differ (rare: NAT, middleboxes), so
-- lo_raw = MIN(ENI-view address of the lo side) is rebuilt exactly from bit 64 and that MIN.
-- FLOW_SUM is SUM (Spark and Athena are given SUM). DuckDB binds it to its SUM without overflow
-- checks when the day's records prove that no sum of them can overflow BIGINT (none negative, the
-- day's total within it: flowlens/engines/duckdb_engine.py, fit_sums); its SUM over a Parquet
-- scan, which lacks the statistics that would prove this, checks every addition (bench/README.md).
-- The evidence (docs/flow-logs.md#who-initiated-a-connection): flag_side, the side whose SYN (or
-- whose peer's SYN-ACK) this ENI logged, when only one side's; rnr_side, the side whose records
-- were all REJECTed with no reply at all; eph_side, the side on an ephemeral port (>= 32768,
-- else >= 1024) talking to a lower one (TCP and UDP only).
WITH records AS (
    SELECT
        interface_id AS eni_id,
        protocol,
        COALESCE(pkt_srcaddr, srcaddr) AS src,
        COALESCE(pkt_dstaddr, dstaddr) AS dst,
        COALESCE(srcport, 0) AS sport,
        COALESCE(dstport, 0) AS dport,
        srcaddr, dstaddr, action, packets, bytes, start, "end", tcp_flags, flow_direction
    FROM flows
    WHERE date = $day
      AND action IS NOT NULL AND protocol IS NOT NULL
      AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL
      AND COALESCE(log_status, 'OK') = 'OK'
), oriented AS (
    SELECT records.*, (src < dst OR (src = dst AND sport <= dport)) AS fwd
    FROM records
), keyed AS (
    SELECT
        eni_id, protocol, fwd, packets, bytes, start, "end",
        CASE WHEN fwd THEN src ELSE dst END AS lo_addr,
        CASE WHEN fwd THEN sport ELSE dport END AS lo_port,
        CASE WHEN fwd THEN dst ELSE src END AS hi_addr,
        CASE WHEN fwd THEN dport ELSE sport END AS hi_port,
        CASE
            WHEN fwd AND srcaddr <> src THEN srcaddr
            WHEN NOT fwd AND dstaddr <> dst THEN dstaddr
        END AS lo_raw_other,
        CASE
            WHEN fwd AND dstaddr <> dst THEN dstaddr
            WHEN NOT fwd AND srcaddr <> src THEN srcaddr
        END AS hi_raw_other,
        CASE WHEN action = 'ACCEPT' THEN 1 ELSE 0 END AS acc,
        CASE
            WHEN (tcp_flags & 18) = 2 THEN CASE WHEN fwd THEN 1 ELSE 4 END
            WHEN (tcp_flags & 18) = 18 THEN CASE WHEN fwd THEN 2 ELSE 8 END
            ELSE 0
        END
        + CASE
            WHEN flow_direction = 'egress' THEN CASE WHEN fwd THEN 16 ELSE 32 END
            WHEN flow_direction = 'ingress' THEN CASE WHEN fwd THEN 32 ELSE 16 END
            ELSE 0
        END
        + CASE WHEN (fwd AND srcaddr = src) OR (NOT fwd AND dstaddr = dst) THEN 64 ELSE 0 END
        + CASE WHEN (fwd AND dstaddr = dst) OR (NOT fwd AND srcaddr = src) THEN 128 ELSE 0 END
        AS bits
    FROM oriented
), per_pair AS (
    SELECT
        eni_id, protocol, lo_addr, lo_port, hi_addr, hi_port,
        MIN(lo_raw_other) AS lo_raw_other,
        MIN(hi_raw_other) AS hi_raw_other,
        BIT_OR(bits) AS bits,
        FLOW_SUM(CASE WHEN fwd THEN acc ELSE 0 END) AS f_acc,
        FLOW_SUM(CASE WHEN fwd THEN 1 - acc ELSE 0 END) AS f_rej,
        FLOW_SUM(CASE WHEN NOT fwd THEN acc ELSE 0 END) AS r_acc,
        FLOW_SUM(CASE WHEN NOT fwd THEN 1 - acc ELSE 0 END) AS r_rej,
        FLOW_SUM(CASE WHEN fwd AND acc = 1 THEN packets ELSE 0 END) AS f_acc_packets,
        FLOW_SUM(CASE WHEN fwd AND acc = 1 THEN bytes ELSE 0 END) AS f_acc_bytes,
        FLOW_SUM(CASE WHEN NOT fwd AND acc = 1 THEN packets ELSE 0 END) AS r_acc_packets,
        FLOW_SUM(CASE WHEN NOT fwd AND acc = 1 THEN bytes ELSE 0 END) AS r_acc_bytes,
        FLOW_SUM(CASE WHEN fwd THEN packets ELSE 0 END) AS f_packets,
        FLOW_SUM(CASE WHEN fwd THEN bytes ELSE 0 END) AS f_bytes,
        FLOW_SUM(CASE WHEN NOT fwd THEN packets ELSE 0 END) AS r_packets,
        FLOW_SUM(CASE WHEN NOT fwd THEN bytes ELSE 0 END) AS r_bytes,
        MIN(CASE WHEN fwd THEN start END) AS f_first,
        MIN(CASE WHEN NOT fwd THEN start END) AS r_first,
        MIN(CASE WHEN acc = 1 THEN start END) AS first_accept,
        MAX("end") AS last_end
    FROM keyed
    GROUP BY eni_id, protocol, lo_addr, lo_port, hi_addr, hi_port
)
SELECT
    eni_id, protocol, lo_addr, lo_port, hi_addr, hi_port,
    CASE
        WHEN (bits & 64) <> 0 THEN LEAST(lo_addr, COALESCE(lo_raw_other, lo_addr))
        ELSE lo_raw_other
    END AS lo_raw,
    CASE
        WHEN (bits & 128) <> 0 THEN LEAST(hi_addr, COALESCE(hi_raw_other, hi_addr))
        ELSE hi_raw_other
    END AS hi_raw,
    CASE WHEN (bits & 16) <> 0 THEN 1 ELSE 0 END AS lo_dir_local,
    CASE WHEN (bits & 32) <> 0 THEN 1 ELSE 0 END AS hi_dir_local,
    f_acc, f_rej, r_acc, r_rej, f_acc_packets, f_acc_bytes, r_acc_packets, r_acc_bytes,
    f_packets, f_bytes, r_packets, r_bytes,
    CASE
        WHEN protocol = 6 AND (bits & 9) <> 0 AND (bits & 6) = 0 THEN 'lo'
        WHEN protocol = 6 AND (bits & 6) <> 0 AND (bits & 9) = 0 THEN 'hi'
    END AS flag_side,
    CASE
        WHEN f_rej > 0 AND f_acc = 0 AND r_acc + r_rej = 0 THEN 'lo'
        WHEN r_rej > 0 AND r_acc = 0 AND f_acc + f_rej = 0 THEN 'hi'
    END AS rnr_side,
    CASE
        WHEN protocol NOT IN (6, 17) THEN NULL
        WHEN lo_port >= 32768 AND hi_port < 32768 THEN 'lo'
        WHEN hi_port >= 32768 AND lo_port < 32768 THEN 'hi'
        WHEN lo_port >= 1024 AND hi_port < 1024 THEN 'lo'
        WHEN hi_port >= 1024 AND lo_port < 1024 THEN 'hi'
    END AS eph_side,
    f_first, r_first,
    -- the first record either way, without an aggregate of its own (LEAST is NULL-strict in Trino)
    COALESCE(LEAST(f_first, r_first), f_first, r_first) AS first_start,
    first_accept, last_end
FROM per_pair;
-- variant: spark
WITH records AS (
    SELECT
        interface_id AS eni_id,
        protocol,
        COALESCE(pkt_srcaddr, srcaddr) AS src,
        COALESCE(pkt_dstaddr, dstaddr) AS dst,
        COALESCE(srcport, 0) AS sport,
        COALESCE(dstport, 0) AS dport,
        srcaddr, dstaddr, action, packets, bytes, start, "end", tcp_flags, flow_direction
    FROM flows
    WHERE date = $day
      AND action IS NOT NULL AND protocol IS NOT NULL
      AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL
      AND COALESCE(log_status, 'OK') = 'OK'
), oriented AS (
    SELECT records.*, (src < dst OR (src = dst AND sport <= dport)) AS fwd
    FROM records
), keyed AS (
    SELECT
        eni_id, protocol, fwd, packets, bytes, start, "end",
        CASE WHEN fwd THEN src ELSE dst END AS lo_addr,
        CASE WHEN fwd THEN sport ELSE dport END AS lo_port,
        CASE WHEN fwd THEN dst ELSE src END AS hi_addr,
        CASE WHEN fwd THEN dport ELSE sport END AS hi_port,
        CASE WHEN action = 'ACCEPT' THEN 1 ELSE 0 END AS acc,
        CASE
            WHEN (tcp_flags & 18) = 2 THEN CASE WHEN fwd THEN 1 ELSE 4 END
            WHEN (tcp_flags & 18) = 18 THEN CASE WHEN fwd THEN 2 ELSE 8 END
            ELSE 0
        END
        + CASE
            WHEN flow_direction = 'egress' THEN CASE WHEN fwd THEN 16 ELSE 32 END
            WHEN flow_direction = 'ingress' THEN CASE WHEN fwd THEN 32 ELSE 16 END
            ELSE 0
        END
        + CASE WHEN (fwd AND srcaddr = src) OR (NOT fwd AND dstaddr = dst) THEN 64 ELSE 0 END
        + CASE WHEN (fwd AND dstaddr = dst) OR (NOT fwd AND srcaddr = src) THEN 128 ELSE 0 END
        AS bits
    FROM oriented
), per_pair AS (
    SELECT
        eni_id, protocol, lo_addr, lo_port, hi_addr, hi_port,
        BIT_OR(bits) AS bits,
        FLOW_SUM(CASE WHEN fwd THEN acc ELSE 0 END) AS f_acc,
        FLOW_SUM(CASE WHEN fwd THEN 1 - acc ELSE 0 END) AS f_rej,
        FLOW_SUM(CASE WHEN NOT fwd THEN acc ELSE 0 END) AS r_acc,
        FLOW_SUM(CASE WHEN NOT fwd THEN 1 - acc ELSE 0 END) AS r_rej,
        FLOW_SUM(CASE WHEN fwd AND acc = 1 THEN packets ELSE 0 END) AS f_acc_packets,
        FLOW_SUM(CASE WHEN fwd AND acc = 1 THEN bytes ELSE 0 END) AS f_acc_bytes,
        FLOW_SUM(CASE WHEN NOT fwd AND acc = 1 THEN packets ELSE 0 END) AS r_acc_packets,
        FLOW_SUM(CASE WHEN NOT fwd AND acc = 1 THEN bytes ELSE 0 END) AS r_acc_bytes,
        FLOW_SUM(CASE WHEN fwd THEN packets ELSE 0 END) AS f_packets,
        FLOW_SUM(CASE WHEN fwd THEN bytes ELSE 0 END) AS f_bytes,
        FLOW_SUM(CASE WHEN NOT fwd THEN packets ELSE 0 END) AS r_packets,
        FLOW_SUM(CASE WHEN NOT fwd THEN bytes ELSE 0 END) AS r_bytes,
        MIN(CASE WHEN fwd THEN start END) AS f_first,
        MIN(CASE WHEN NOT fwd THEN start END) AS r_first,
        MIN(CASE WHEN acc = 1 THEN start END) AS first_accept,
        MAX("end") AS last_end
    FROM keyed
    GROUP BY eni_id, protocol, lo_addr, lo_port, hi_addr, hi_port
), translated AS (
    -- the records whose ENI-view address differs from the packet-level one (NAT, middleboxes):
    -- the only ones with an ENI-view address to aggregate, few, so their text MINs cost little
    SELECT
        interface_id AS eni_id,
        protocol,
        COALESCE(pkt_srcaddr, srcaddr) AS src,
        COALESCE(pkt_dstaddr, dstaddr) AS dst,
        COALESCE(srcport, 0) AS sport,
        COALESCE(dstport, 0) AS dport,
        srcaddr, dstaddr
    FROM flows
    WHERE date = $day
      AND action IS NOT NULL AND protocol IS NOT NULL
      AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL
      AND COALESCE(log_status, 'OK') = 'OK'
      AND (pkt_srcaddr <> srcaddr OR pkt_dstaddr <> dstaddr)
), translated_oriented AS (
    SELECT translated.*, (src < dst OR (src = dst AND sport <= dport)) AS fwd
    FROM translated
), raw_others AS (
    SELECT
        eni_id, protocol,
        CASE WHEN fwd THEN src ELSE dst END AS lo_addr,
        CASE WHEN fwd THEN sport ELSE dport END AS lo_port,
        CASE WHEN fwd THEN dst ELSE src END AS hi_addr,
        CASE WHEN fwd THEN dport ELSE sport END AS hi_port,
        MIN(CASE
            WHEN fwd AND srcaddr <> src THEN srcaddr
            WHEN NOT fwd AND dstaddr <> dst THEN dstaddr
        END) AS lo_raw_other,
        MIN(CASE
            WHEN fwd AND dstaddr <> dst THEN dstaddr
            WHEN NOT fwd AND srcaddr <> src THEN srcaddr
        END) AS hi_raw_other
    FROM translated_oriented
    GROUP BY 1, 2, 3, 4, 5, 6
), pairs AS (
    SELECT per_pair.*, raw_others.lo_raw_other, raw_others.hi_raw_other
    FROM per_pair
    LEFT JOIN raw_others
        ON per_pair.eni_id IS NOT DISTINCT FROM raw_others.eni_id
        AND per_pair.protocol = raw_others.protocol
        AND per_pair.lo_addr = raw_others.lo_addr AND per_pair.lo_port = raw_others.lo_port
        AND per_pair.hi_addr = raw_others.hi_addr AND per_pair.hi_port = raw_others.hi_port
)
SELECT
    eni_id, protocol, lo_addr, lo_port, hi_addr, hi_port,
    CASE
        WHEN (bits & 64) <> 0 THEN LEAST(lo_addr, COALESCE(lo_raw_other, lo_addr))
        ELSE lo_raw_other
    END AS lo_raw,
    CASE
        WHEN (bits & 128) <> 0 THEN LEAST(hi_addr, COALESCE(hi_raw_other, hi_addr))
        ELSE hi_raw_other
    END AS hi_raw,
    CASE WHEN (bits & 16) <> 0 THEN 1 ELSE 0 END AS lo_dir_local,
    CASE WHEN (bits & 32) <> 0 THEN 1 ELSE 0 END AS hi_dir_local,
    f_acc, f_rej, r_acc, r_rej, f_acc_packets, f_acc_bytes, r_acc_packets, r_acc_bytes,
    f_packets, f_bytes, r_packets, r_bytes,
    CASE
        WHEN protocol = 6 AND (bits & 9) <> 0 AND (bits & 6) = 0 THEN 'lo'
        WHEN protocol = 6 AND (bits & 6) <> 0 AND (bits & 9) = 0 THEN 'hi'
    END AS flag_side,
    CASE
        WHEN f_rej > 0 AND f_acc = 0 AND r_acc + r_rej = 0 THEN 'lo'
        WHEN r_rej > 0 AND r_acc = 0 AND f_acc + f_rej = 0 THEN 'hi'
    END AS rnr_side,
    CASE
        WHEN protocol NOT IN (6, 17) THEN NULL
        WHEN lo_port >= 32768 AND hi_port < 32768 THEN 'lo'
        WHEN hi_port >= 32768 AND lo_port < 32768 THEN 'hi'
        WHEN lo_port >= 1024 AND hi_port < 1024 THEN 'lo'
        WHEN hi_port >= 1024 AND lo_port < 1024 THEN 'hi'
    END AS eph_side,
    f_first, r_first,
    -- the first record either way, without an aggregate of its own (LEAST is NULL-strict in Trino)
    COALESCE(LEAST(f_first, r_first), f_first, r_first) AS first_start,
    first_accept, last_end
FROM pairs
