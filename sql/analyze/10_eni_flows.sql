-- name: 10_eni_flows
-- returns: one row per ENI × protocol × unordered address/port pair of the day (lo side = the smaller (address, port)), with per-direction aggregates: f_* for lo→hi records, r_* for hi→lo records
-- params: $day
-- Addresses are packet-level (pkt_srcaddr/pkt_dstaddr when the format has them); lo_raw/hi_raw are
-- the ENI-view addresses (srcaddr/dstaddr) of each side, used to tell which side is the ENI.
-- TCP flags are tested per record (they are OR-ed within an aggregation interval, domain.md §1.6):
-- syn = SYN without bit 16 (the initiator's SYN), synack = bits 18 (the responder's SYN-ACK).
WITH r AS (
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
      AND action IS NOT NULL AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL AND protocol IS NOT NULL
      AND COALESCE(log_status, 'OK') = 'OK'
), o AS (
    SELECT
        r.*,
        (src < dst OR (src = dst AND sport <= dport)) AS fwd,
        CASE WHEN tcp_flags IS NOT NULL AND (tcp_flags & 2) = 2 AND (tcp_flags & 16) = 0 THEN 1 ELSE 0 END AS syn,
        CASE WHEN tcp_flags IS NOT NULL AND (tcp_flags & 18) = 18 THEN 1 ELSE 0 END AS synack
    FROM r
), k AS (
    SELECT
        o.*,
        CASE WHEN fwd THEN src ELSE dst END AS lo_addr,
        CASE WHEN fwd THEN sport ELSE dport END AS lo_port,
        CASE WHEN fwd THEN dst ELSE src END AS hi_addr,
        CASE WHEN fwd THEN dport ELSE sport END AS hi_port,
        CASE WHEN fwd THEN srcaddr ELSE dstaddr END AS lo_raw_addr,
        CASE WHEN fwd THEN dstaddr ELSE srcaddr END AS hi_raw_addr,
        CASE WHEN action = 'ACCEPT' THEN 1 ELSE 0 END AS acc
    FROM o
)
SELECT
    eni_id, protocol, lo_addr, lo_port, hi_addr, hi_port,
    MIN(lo_raw_addr) AS lo_raw,
    MIN(hi_raw_addr) AS hi_raw,
    MAX(CASE WHEN (fwd AND flow_direction = 'egress') OR (NOT fwd AND flow_direction = 'ingress') THEN 1 ELSE 0 END) AS lo_dir_local,
    MAX(CASE WHEN (fwd AND flow_direction = 'ingress') OR (NOT fwd AND flow_direction = 'egress') THEN 1 ELSE 0 END) AS hi_dir_local,
    SUM(CASE WHEN fwd THEN acc ELSE 0 END) AS f_acc,
    SUM(CASE WHEN fwd THEN 1 - acc ELSE 0 END) AS f_rej,
    SUM(CASE WHEN NOT fwd THEN acc ELSE 0 END) AS r_acc,
    SUM(CASE WHEN NOT fwd THEN 1 - acc ELSE 0 END) AS r_rej,
    SUM(CASE WHEN fwd AND acc = 1 THEN packets ELSE 0 END) AS f_acc_packets,
    SUM(CASE WHEN fwd AND acc = 1 THEN bytes ELSE 0 END) AS f_acc_bytes,
    SUM(CASE WHEN NOT fwd AND acc = 1 THEN packets ELSE 0 END) AS r_acc_packets,
    SUM(CASE WHEN NOT fwd AND acc = 1 THEN bytes ELSE 0 END) AS r_acc_bytes,
    SUM(CASE WHEN fwd THEN packets ELSE 0 END) AS f_packets,
    SUM(CASE WHEN fwd THEN bytes ELSE 0 END) AS f_bytes,
    SUM(CASE WHEN NOT fwd THEN packets ELSE 0 END) AS r_packets,
    SUM(CASE WHEN NOT fwd THEN bytes ELSE 0 END) AS r_bytes,
    MAX(CASE WHEN fwd THEN syn ELSE 0 END) AS f_syn,
    MAX(CASE WHEN fwd THEN synack ELSE 0 END) AS f_synack,
    MAX(CASE WHEN NOT fwd THEN syn ELSE 0 END) AS r_syn,
    MAX(CASE WHEN NOT fwd THEN synack ELSE 0 END) AS r_synack,
    MIN(CASE WHEN fwd THEN start END) AS f_first,
    MIN(CASE WHEN NOT fwd THEN start END) AS r_first,
    MIN(start) AS first_start,
    MIN(CASE WHEN acc = 1 THEN start END) AS first_accept,
    MAX("end") AS last_end
FROM k
GROUP BY eni_id, protocol, lo_addr, lo_port, hi_addr, hi_port
