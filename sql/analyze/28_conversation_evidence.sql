-- name: 28_conversation_evidence
-- returns: one row per ENI conversation of the day (eni_flows) with its address keys, which side
--     is the ENI's own (local_side), and each piece of initiator evidence as the side it points
--     at (lo|hi, NULL when silent): flag_side, peer_side, hist_side, rnr_side, listen_side,
--     eph_side, fan_side, low_side, first_side
-- params: $day, $lookback_start
-- Evidence only; 30_conversation_sides decides with it, strongest first
-- (docs/flow-logs.md#who-initiated-a-connection):
-- tcp_flags on this ENI, then on another ENI that saw the same packet-level 5-tuple the same day,
-- then the same 5-tuple's earlier analysed days (history), then REJECT without any reply, then
-- listening ports (SYN-confirmed responder ports and inbound SG rule ports of the address's ENI),
-- then ephemeral ranges, then fan-in, then the lower port, then the first packet's time.
WITH seen_addresses AS (
    SELECT eni_id, lo_raw AS addr FROM eni_flows
    UNION
    SELECT eni_id, hi_raw AS addr FROM eni_flows
), local_addrs AS (
    SELECT DISTINCT seen_addresses.eni_id, seen_addresses.addr
    FROM seen_addresses
    INNER JOIN addr_keys ON seen_addresses.addr = addr_keys.addr
    INNER JOIN eni_ips
        ON
            seen_addresses.eni_id = eni_ips.eni_id
            AND addr_keys.family = eni_ips.family
            AND addr_keys.key BETWEEN eni_ips.lo AND eni_ips.hi
), pairs AS (
    SELECT
        eni_flows.*,
        lo_keys.family,
        lo_keys.key AS lo_key,
        hi_keys.key AS hi_key,
        eni_info.eni_id IS NOT NULL AS in_inventory,
        COALESCE(eni_info.has_sgs, FALSE) AS has_sgs,
        (lo_own.addr IS NOT NULL OR eni_flows.lo_dir_local = 1) AS lo_local,
        (hi_own.addr IS NOT NULL OR eni_flows.hi_dir_local = 1) AS hi_local,
        CASE
            WHEN
                eni_flows.protocol = 6
                AND (eni_flows.f_syn = 1 OR eni_flows.r_synack = 1)
                AND NOT (eni_flows.r_syn = 1 OR eni_flows.f_synack = 1)
                THEN 'lo'
            WHEN
                eni_flows.protocol = 6
                AND (eni_flows.r_syn = 1 OR eni_flows.f_synack = 1)
                AND NOT (eni_flows.f_syn = 1 OR eni_flows.r_synack = 1)
                THEN 'hi'
        END AS flag_side
    FROM eni_flows
    INNER JOIN addr_keys AS lo_keys ON eni_flows.lo_addr = lo_keys.addr
    INNER JOIN addr_keys AS hi_keys ON eni_flows.hi_addr = hi_keys.addr
    LEFT JOIN eni_info ON eni_flows.eni_id = eni_info.eni_id
    LEFT JOIN local_addrs AS lo_own
        ON eni_flows.eni_id = lo_own.eni_id AND eni_flows.lo_raw = lo_own.addr
    LEFT JOIN local_addrs AS hi_own
        ON eni_flows.eni_id = hi_own.eni_id AND eni_flows.hi_raw = hi_own.addr
), flags_elsewhere AS (
    -- the tcp-flags of every ENI that saw the 5-tuple, when they agree
    SELECT protocol, lo_addr, lo_port, hi_addr, hi_port, MIN(flag_side) AS side
    FROM pairs
    WHERE flag_side IS NOT NULL
    GROUP BY protocol, lo_addr, lo_port, hi_addr, hi_port
    HAVING MIN(flag_side) = MAX(flag_side)
), prior_decided AS (
    SELECT
        protocol,
        initiator_addr,
        initiator_port,
        responder_addr,
        responder_port,
        (
            initiator_addr < responder_addr
            OR (initiator_addr = responder_addr AND initiator_port <= responder_port)
        ) AS initiator_is_lo
    FROM prior_conversations
    WHERE
        date >= $lookback_start AND date < $day
        AND decided_by IN ('tcp_flags', 'history')
), prior_sides AS (
    SELECT
        protocol,
        CASE WHEN initiator_is_lo THEN initiator_addr ELSE responder_addr END AS lo_addr,
        CASE WHEN initiator_is_lo THEN initiator_port ELSE responder_port END AS lo_port,
        CASE WHEN initiator_is_lo THEN responder_addr ELSE initiator_addr END AS hi_addr,
        CASE WHEN initiator_is_lo THEN responder_port ELSE initiator_port END AS hi_port,
        CASE WHEN initiator_is_lo THEN 'lo' ELSE 'hi' END AS side
    FROM prior_decided
), history AS (
    SELECT protocol, lo_addr, lo_port, hi_addr, hi_port, MIN(side) AS side
    FROM prior_sides
    GROUP BY protocol, lo_addr, lo_port, hi_addr, hi_port
    HAVING MIN(side) = MAX(side)
), listeners AS (
    SELECT
        CASE WHEN flag_side = 'lo' THEN hi_key ELSE lo_key END AS key,
        protocol,
        CASE WHEN flag_side = 'lo' THEN hi_port ELSE lo_port END AS from_port,
        CASE WHEN flag_side = 'lo' THEN hi_port ELSE lo_port END AS to_port
    FROM pairs
    WHERE flag_side IS NOT NULL
    UNION
    SELECT
        eni_ips.lo AS key,
        sg_rules.ip_protocol AS protocol,
        sg_rules.from_port,
        sg_rules.to_port
    FROM sg_rules
    INNER JOIN eni_groups ON sg_rules.group_id = eni_groups.group_id
    INNER JOIN eni_ips
        ON
            eni_groups.eni_id = eni_ips.eni_id
            AND eni_ips.lo = eni_ips.hi
            AND eni_ips.kind <> 'public4'
    WHERE
        sg_rules.direction = 'ingress' AND sg_rules.ip_protocol IN (6, 17)
        AND sg_rules.from_port IS NOT NULL AND sg_rules.to_port IS NOT NULL
        AND sg_rules.from_port >= 0 AND sg_rules.to_port - sg_rules.from_port < 256
), listening AS (
    -- the endpoints of the day that some listener covers, joined from the few listeners: collecting
    -- the distinct endpoints first hashed every ephemeral client port of the day
    SELECT
        pairs.lo_key AS key,
        pairs.protocol,
        pairs.lo_port AS port
    FROM pairs
    INNER JOIN listeners
        ON
            pairs.lo_key = listeners.key
            AND pairs.protocol = listeners.protocol
            AND pairs.lo_port BETWEEN listeners.from_port AND listeners.to_port
    WHERE pairs.protocol IN (6, 17)
    UNION
    SELECT
        pairs.hi_key AS key,
        pairs.protocol,
        pairs.hi_port AS port
    FROM pairs
    INNER JOIN listeners
        ON
            pairs.hi_key = listeners.key
            AND pairs.protocol = listeners.protocol
            AND pairs.hi_port BETWEEN listeners.from_port AND listeners.to_port
    WHERE pairs.protocol IN (6, 17)
), with_evidence AS (
    SELECT
        pairs.*,
        flags_elsewhere.side AS peer_side,
        history.side AS hist_side,
        CASE
            WHEN pairs.f_rej > 0 AND pairs.f_acc = 0 AND pairs.r_acc + pairs.r_rej = 0 THEN 'lo'
            WHEN pairs.r_rej > 0 AND pairs.r_acc = 0 AND pairs.f_acc + pairs.f_rej = 0 THEN 'hi'
        END AS rnr_side,
        CASE
            WHEN pairs.protocol NOT IN (6, 17) THEN NULL
            WHEN lo_listening.key IS NOT NULL AND hi_listening.key IS NULL THEN 'hi'
            WHEN hi_listening.key IS NOT NULL AND lo_listening.key IS NULL THEN 'lo'
        END AS listen_side,
        CASE
            WHEN pairs.protocol NOT IN (6, 17) THEN NULL
            WHEN pairs.lo_port >= 32768 AND pairs.hi_port < 32768 THEN 'lo'
            WHEN pairs.hi_port >= 32768 AND pairs.lo_port < 32768 THEN 'hi'
            WHEN pairs.lo_port >= 1024 AND pairs.hi_port < 1024 THEN 'lo'
            WHEN pairs.hi_port >= 1024 AND pairs.lo_port < 1024 THEN 'hi'
        END AS eph_side
    FROM pairs
    LEFT JOIN flags_elsewhere
        ON
            pairs.protocol = flags_elsewhere.protocol
            AND pairs.lo_addr = flags_elsewhere.lo_addr
            AND pairs.lo_port = flags_elsewhere.lo_port
            AND pairs.hi_addr = flags_elsewhere.hi_addr
            AND pairs.hi_port = flags_elsewhere.hi_port
    LEFT JOIN history
        ON
            pairs.protocol = history.protocol
            AND pairs.lo_addr = history.lo_addr
            AND pairs.lo_port = history.lo_port
            AND pairs.hi_addr = history.hi_addr
            AND pairs.hi_port = history.hi_port
    LEFT JOIN listening AS lo_listening
        ON
            pairs.lo_key = lo_listening.key
            AND pairs.protocol = lo_listening.protocol
            AND pairs.lo_port = lo_listening.port
    LEFT JOIN listening AS hi_listening
        ON
            pairs.hi_key = hi_listening.key
            AND pairs.protocol = hi_listening.protocol
            AND pairs.hi_port = hi_listening.port
), with_strong AS (
    SELECT
        with_evidence.*,
        COALESCE(flag_side, peer_side, hist_side, rnr_side, listen_side, eph_side) IS NOT NULL
        AS strong_evidence
    FROM with_evidence
), undecided AS (
    SELECT lo_key AS key, protocol, lo_port AS port FROM with_strong WHERE NOT strong_evidence
    UNION
    SELECT hi_key AS key, protocol, hi_port AS port FROM with_strong WHERE NOT strong_evidence
), endpoint_peers AS (
    SELECT lo_key AS key, protocol, lo_port AS port, hi_key AS peer FROM pairs
    UNION ALL
    SELECT hi_key AS key, protocol, hi_port AS port, lo_key AS peer FROM pairs
), fan_in AS (
    -- distinct peers per (address, protocol, port), only for endpoints still undecided
    SELECT
        endpoint_peers.key,
        endpoint_peers.protocol,
        endpoint_peers.port,
        COUNT(DISTINCT endpoint_peers.peer) AS peers
    FROM endpoint_peers
    INNER JOIN undecided
        ON
            endpoint_peers.key = undecided.key
            AND endpoint_peers.protocol = undecided.protocol
            AND endpoint_peers.port = undecided.port
    GROUP BY endpoint_peers.key, endpoint_peers.protocol, endpoint_peers.port
), with_fan_in AS (
    SELECT
        with_strong.*,
        COALESCE(lo_fan_in.peers, 1) AS lo_peers,
        COALESCE(hi_fan_in.peers, 1) AS hi_peers
    FROM with_strong
    LEFT JOIN fan_in AS lo_fan_in
        ON
            with_strong.lo_key = lo_fan_in.key
            AND with_strong.protocol = lo_fan_in.protocol
            AND with_strong.lo_port = lo_fan_in.port
    LEFT JOIN fan_in AS hi_fan_in
        ON
            with_strong.hi_key = hi_fan_in.key
            AND with_strong.protocol = hi_fan_in.protocol
            AND with_strong.hi_port = hi_fan_in.port
)
SELECT
    with_fan_in.*,
    CASE
        WHEN lo_local AND NOT hi_local THEN 'lo'
        WHEN hi_local AND NOT lo_local THEN 'hi'
    END AS local_side,
    CASE
        WHEN strong_evidence OR lo_port = hi_port THEN NULL
        WHEN lo_peers >= 2 AND hi_peers < lo_peers THEN 'hi'
        WHEN hi_peers >= 2 AND lo_peers < hi_peers THEN 'lo'
    END AS fan_side,
    CASE WHEN lo_port < hi_port THEN 'hi' WHEN hi_port < lo_port THEN 'lo' END AS low_side,
    CASE
        WHEN f_first IS NOT NULL AND (r_first IS NULL OR f_first < r_first) THEN 'lo'
        WHEN r_first IS NOT NULL AND (f_first IS NULL OR r_first < f_first) THEN 'hi'
        WHEN f_acc > 0 AND r_acc = 0 AND r_rej > 0 THEN 'lo'
        WHEN r_acc > 0 AND f_acc = 0 AND f_rej > 0 THEN 'hi'
        ELSE 'lo'
    END AS first_side
FROM with_fan_in
