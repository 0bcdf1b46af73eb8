-- name: 30_conversation_sides
-- returns: one row per ENI conversation of the day with its initiator decided (init_side lo|hi, decided_by, confidence), the ENI's own side (local_side), its role and the rule key it exercises (rule_direction, peer_addr/peer_key, service_port)
-- params: $day, $lookback_start
-- Initiator evidence, strongest first (docs/flow-logs.md#who-initiated-a-connection): tcp_flags on this ENI, then on another ENI
-- that saw the same packet-level 5-tuple the same day, then the same 5-tuple's earlier analysed
-- days (history), then REJECT without any reply, then listening ports (SYN-confirmed responder
-- ports and inbound SG rule ports of the address's ENI), then ephemeral ranges, then fan-in, then
-- the lower port, then the first packet's time.
WITH local_addrs AS (
    SELECT DISTINCT x.eni_id, x.addr
    FROM (SELECT eni_id, lo_raw AS addr FROM eni_flows UNION SELECT eni_id, hi_raw AS addr FROM eni_flows) x
    JOIN addr_keys k ON k.addr = x.addr
    JOIN eni_ips i ON i.eni_id = x.eni_id AND i.family = k.family AND k.key BETWEEN i.lo AND i.hi
), base AS (
    SELECT
        ef.*,
        lk.family, lk.key AS lo_key, hk.key AS hi_key,
        ei.eni_id IS NOT NULL AS in_inventory,
        COALESCE(ei.has_sgs, FALSE) AS has_sgs,
        (la.addr IS NOT NULL OR ef.lo_dir_local = 1) AS lo_local,
        (ha.addr IS NOT NULL OR ef.hi_dir_local = 1) AS hi_local,
        CASE
            WHEN ef.protocol = 6 AND (ef.f_syn = 1 OR ef.r_synack = 1) AND NOT (ef.r_syn = 1 OR ef.f_synack = 1) THEN 'lo'
            WHEN ef.protocol = 6 AND (ef.r_syn = 1 OR ef.f_synack = 1) AND NOT (ef.f_syn = 1 OR ef.r_synack = 1) THEN 'hi'
        END AS flag_side
    FROM eni_flows ef
    JOIN addr_keys lk ON lk.addr = ef.lo_addr
    JOIN addr_keys hk ON hk.addr = ef.hi_addr
    LEFT JOIN eni_info ei ON ei.eni_id = ef.eni_id
    LEFT JOIN local_addrs la ON la.eni_id = ef.eni_id AND la.addr = ef.lo_raw
    LEFT JOIN local_addrs ha ON ha.eni_id = ef.eni_id AND ha.addr = ef.hi_raw
), peer_flags AS (
    SELECT protocol, lo_addr, lo_port, hi_addr, hi_port, MIN(flag_side) AS side
    FROM base
    WHERE flag_side IS NOT NULL
    GROUP BY protocol, lo_addr, lo_port, hi_addr, hi_port
    HAVING MIN(flag_side) = MAX(flag_side)
), prior AS (
    SELECT
        protocol,
        CASE WHEN ord THEN initiator_addr ELSE responder_addr END AS lo_addr,
        CASE WHEN ord THEN initiator_port ELSE responder_port END AS lo_port,
        CASE WHEN ord THEN responder_addr ELSE initiator_addr END AS hi_addr,
        CASE WHEN ord THEN responder_port ELSE initiator_port END AS hi_port,
        CASE WHEN ord THEN 'lo' ELSE 'hi' END AS side
    FROM (
        SELECT
            protocol, initiator_addr, initiator_port, responder_addr, responder_port,
            (initiator_addr < responder_addr OR (initiator_addr = responder_addr AND initiator_port <= responder_port)) AS ord
        FROM prior_conversations
        WHERE date >= $lookback_start AND date < $day AND decided_by IN ('tcp_flags', 'history')
    ) p
), history AS (
    SELECT protocol, lo_addr, lo_port, hi_addr, hi_port, MIN(side) AS side
    FROM prior
    GROUP BY protocol, lo_addr, lo_port, hi_addr, hi_port
    HAVING MIN(side) = MAX(side)
), listeners AS (
    SELECT CASE WHEN flag_side = 'lo' THEN hi_key ELSE lo_key END AS key, protocol,
           CASE WHEN flag_side = 'lo' THEN hi_port ELSE lo_port END AS from_port,
           CASE WHEN flag_side = 'lo' THEN hi_port ELSE lo_port END AS to_port
    FROM base WHERE flag_side IS NOT NULL
    UNION
    SELECT i.lo AS key, r.ip_protocol AS protocol, r.from_port, r.to_port
    FROM sg_rules r
    JOIN eni_groups g ON g.group_id = r.group_id
    JOIN eni_ips i ON i.eni_id = g.eni_id AND i.lo = i.hi AND i.kind <> 'public4'
    WHERE r.direction = 'ingress' AND r.ip_protocol IN (6, 17)
      AND r.from_port IS NOT NULL AND r.to_port IS NOT NULL AND r.from_port >= 0 AND r.to_port - r.from_port < 256
), listening AS (
    -- the endpoints of the day that some listener covers, joined from the few listeners: collecting
    -- the distinct endpoints first hashed every ephemeral client port of the day
    SELECT b.lo_key AS key, b.protocol, b.lo_port AS port
    FROM base b
    JOIN listeners l ON l.key = b.lo_key AND l.protocol = b.protocol AND b.lo_port BETWEEN l.from_port AND l.to_port
    WHERE b.protocol IN (6, 17)
    UNION
    SELECT b.hi_key AS key, b.protocol, b.hi_port AS port
    FROM base b
    JOIN listeners l ON l.key = b.hi_key AND l.protocol = b.protocol AND b.hi_port BETWEEN l.from_port AND l.to_port
    WHERE b.protocol IN (6, 17)
), d1 AS (
    SELECT
        b.*,
        pf.side AS peer_side,
        h.side AS hist_side,
        CASE
            WHEN b.f_rej > 0 AND b.f_acc = 0 AND b.r_acc + b.r_rej = 0 THEN 'lo'
            WHEN b.r_rej > 0 AND b.r_acc = 0 AND b.f_acc + b.f_rej = 0 THEN 'hi'
        END AS rnr_side,
        CASE
            WHEN b.protocol NOT IN (6, 17) THEN NULL
            WHEN ll.key IS NOT NULL AND hl.key IS NULL THEN 'hi'
            WHEN hl.key IS NOT NULL AND ll.key IS NULL THEN 'lo'
        END AS listen_side,
        CASE
            WHEN b.protocol NOT IN (6, 17) THEN NULL
            WHEN b.lo_port >= 32768 AND b.hi_port < 32768 THEN 'lo'
            WHEN b.hi_port >= 32768 AND b.lo_port < 32768 THEN 'hi'
            WHEN b.lo_port >= 1024 AND b.hi_port < 1024 THEN 'lo'
            WHEN b.hi_port >= 1024 AND b.lo_port < 1024 THEN 'hi'
        END AS eph_side
    FROM base b
    LEFT JOIN peer_flags pf
        ON pf.protocol = b.protocol AND pf.lo_addr = b.lo_addr AND pf.lo_port = b.lo_port
       AND pf.hi_addr = b.hi_addr AND pf.hi_port = b.hi_port
    LEFT JOIN history h
        ON h.protocol = b.protocol AND h.lo_addr = b.lo_addr AND h.lo_port = b.lo_port
       AND h.hi_addr = b.hi_addr AND h.hi_port = b.hi_port
    LEFT JOIN listening ll ON ll.key = b.lo_key AND ll.protocol = b.protocol AND ll.port = b.lo_port
    LEFT JOIN listening hl ON hl.key = b.hi_key AND hl.protocol = b.protocol AND hl.port = b.hi_port
), d2 AS (
    SELECT d1.*, COALESCE(flag_side, peer_side, hist_side, rnr_side, listen_side, eph_side) AS strong_side
    FROM d1
), undecided AS (
    SELECT lo_key AS key, protocol, lo_port AS port FROM d2 WHERE strong_side IS NULL
    UNION
    SELECT hi_key AS key, protocol, hi_port AS port FROM d2 WHERE strong_side IS NULL
), endpoints AS (
    -- fan-in: distinct peers per (address, protocol, port), only for endpoints still undecided
    SELECT e.key, e.protocol, e.port, COUNT(DISTINCT e.peer) AS peers
    FROM (
        SELECT lo_key AS key, protocol, lo_port AS port, hi_key AS peer FROM base
        UNION ALL
        SELECT hi_key AS key, protocol, hi_port AS port, lo_key AS peer FROM base
    ) e
    JOIN undecided u ON u.key = e.key AND u.protocol = e.protocol AND u.port = e.port
    GROUP BY e.key, e.protocol, e.port
), d3 AS (
    SELECT
        d2.*,
        CASE
            WHEN d2.strong_side IS NOT NULL OR d2.lo_port = d2.hi_port THEN NULL
            WHEN COALESCE(lf.peers, 1) >= 2 AND COALESCE(hf.peers, 1) < COALESCE(lf.peers, 1) THEN 'hi'
            WHEN COALESCE(hf.peers, 1) >= 2 AND COALESCE(lf.peers, 1) < COALESCE(hf.peers, 1) THEN 'lo'
        END AS fan_side,
        CASE WHEN d2.lo_port < d2.hi_port THEN 'hi' WHEN d2.hi_port < d2.lo_port THEN 'lo' END AS low_side,
        CASE
            WHEN d2.f_first IS NOT NULL AND (d2.r_first IS NULL OR d2.f_first < d2.r_first) THEN 'lo'
            WHEN d2.r_first IS NOT NULL AND (d2.f_first IS NULL OR d2.r_first < d2.f_first) THEN 'hi'
            WHEN d2.f_acc > 0 AND d2.r_acc = 0 AND d2.r_rej > 0 THEN 'lo'
            WHEN d2.r_acc > 0 AND d2.f_acc = 0 AND d2.f_rej > 0 THEN 'hi'
            ELSE 'lo'
        END AS first_side
    FROM d2
    LEFT JOIN endpoints lf ON lf.key = d2.lo_key AND lf.protocol = d2.protocol AND lf.port = d2.lo_port
    LEFT JOIN endpoints hf ON hf.key = d2.hi_key AND hf.protocol = d2.protocol AND hf.port = d2.hi_port
), decided AS (
    SELECT
        d3.*,
        COALESCE(strong_side, fan_side, low_side, first_side) AS init_side,
        CASE
            WHEN flag_side IS NOT NULL OR peer_side IS NOT NULL THEN 'tcp_flags'
            WHEN hist_side IS NOT NULL THEN 'history'
            WHEN rnr_side IS NOT NULL THEN 'reject_no_reply'
            WHEN listen_side IS NOT NULL THEN 'listening_port'
            WHEN eph_side IS NOT NULL THEN 'ephemeral_port'
            WHEN fan_side IS NOT NULL THEN 'fan_in'
            WHEN low_side IS NOT NULL THEN 'lower_port'
            ELSE 'first_packet'
        END AS decided_by,
        CASE
            WHEN flag_side IS NOT NULL OR peer_side IS NOT NULL OR hist_side IS NOT NULL THEN 'high'
            WHEN rnr_side IS NOT NULL OR listen_side IS NOT NULL OR eph_side IS NOT NULL THEN 'medium'
            ELSE 'low'
        END AS confidence,
        CASE WHEN lo_local AND NOT hi_local THEN 'lo' WHEN hi_local AND NOT lo_local THEN 'hi' END AS local_side
    FROM d3
), roles AS (
    SELECT
        decided.*,
        CASE
            WHEN in_inventory AND NOT has_sgs THEN 'transit'
            WHEN local_side IS NULL THEN 'transit'
            WHEN local_side = init_side THEN 'initiator'
            ELSE 'responder'
        END AS eni_role
    FROM decided
)
SELECT
    eni_id, family, protocol, lo_addr, lo_port, hi_addr, hi_port, lo_key, hi_key,
    init_side, local_side, in_inventory, has_sgs, eni_role, decided_by, confidence,
    CASE WHEN init_side = 'lo' THEN lo_addr ELSE hi_addr END AS initiator_addr,
    CASE WHEN init_side = 'lo' THEN lo_port ELSE hi_port END AS initiator_port,
    CASE WHEN init_side = 'lo' THEN hi_addr ELSE lo_addr END AS responder_addr,
    CASE WHEN init_side = 'lo' THEN hi_port ELSE lo_port END AS responder_port,
    CASE eni_role WHEN 'responder' THEN 'ingress' WHEN 'initiator' THEN 'egress' END AS rule_direction,
    CASE
        WHEN eni_role = 'responder' THEN CASE WHEN init_side = 'lo' THEN lo_addr ELSE hi_addr END
        WHEN eni_role = 'initiator' THEN CASE WHEN init_side = 'lo' THEN hi_addr ELSE lo_addr END
    END AS peer_addr,
    CASE
        WHEN eni_role = 'responder' THEN CASE WHEN init_side = 'lo' THEN lo_key ELSE hi_key END
        WHEN eni_role = 'initiator' THEN CASE WHEN init_side = 'lo' THEN hi_key ELSE lo_key END
    END AS peer_key,
    CASE WHEN init_side = 'lo' THEN hi_port ELSE lo_port END AS service_port,
    CASE WHEN init_side = 'lo' THEN f_acc ELSE r_acc END AS flows,
    CASE WHEN init_side = 'lo' THEN f_acc_packets ELSE r_acc_packets END AS packets,
    CASE WHEN init_side = 'lo' THEN f_acc_bytes ELSE r_acc_bytes END AS bytes,
    CASE WHEN init_side = 'lo' THEN r_acc + r_rej ELSE f_acc + f_rej END AS reply_flows,
    CASE WHEN init_side = 'lo' THEN r_packets ELSE f_packets END AS reply_packets,
    CASE WHEN init_side = 'lo' THEN r_bytes ELSE f_bytes END AS reply_bytes,
    CASE WHEN init_side = 'lo' THEN f_rej ELSE r_rej END AS init_rejected,
    CASE WHEN init_side = 'lo' THEN r_rej ELSE f_rej END AS reply_rejected,
    f_rej + r_rej AS rejected_flows,
    f_acc + r_acc AS accepted_records,
    first_start, last_end, first_accept
FROM roles
