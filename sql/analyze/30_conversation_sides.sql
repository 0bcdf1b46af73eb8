-- name: 30_conversation_sides
-- returns: one row per ENI conversation of the day (eni_flows) with its address keys, the ENI's
--     own side (local_side), its initiator decided (init_side lo|hi, decided_by, confidence), its
--     role, the rule key it exercises (rule_direction, peer_addr/peer_kid, service_port), its
--     request and reply counts and the epochs its records span (ep_lo..ep_hi: from its first
--     record's start to its last record's end). Its address keys are addr_keys' integer key_id
--     (lo_kid, hi_kid, peer_kid: equal keys, equal ids, in key order), so the steps that group
--     and join conversations by rule key hash integers, not 32-character strings; 35_match_keys
--     turns the ids back into keys for the rule-match join's range tests
-- params: $day, $lookback_start
-- Initiator evidence, strongest first (docs/flow-logs.md#who-initiated-a-connection): tcp_flags
-- on this ENI, then on another ENI that saw the same packet-level 5-tuple the same day, then the
-- same 5-tuple's earlier analysed days (history), then REJECT without any reply, then listening
-- ports (SYN-confirmed responder ports and inbound SG rule ports of the address's ENI), then
-- ephemeral ranges, then fan-in, then the lower port, then the first packet's time, which always
-- points at a side, so every conversation gets an initiator.
-- The evidence a conversation carries on its own (flag_side, rnr_side, eph_side) comes with it
-- from 10_eni_flows; what other conversations say is first reduced to small tables keyed by
-- integers (addr_keys' addr_id and key_id: equal address texts, equal keys), then one pipeline
-- over the conversations looks each piece up by equality, decides by a COALESCE over them and
-- renames each lo/hi column once for what it is in this conversation (the initiator's and the
-- responder's address, port and key; the request records, sent by the initiator: f_* when lo
-- initiated, r_* otherwise). Nothing the width of a conversation is materialised before the
-- result: the wide rows were the cost here (bench/README.md).
WITH own_addrs AS (
    -- the day's addresses each ENI held: the side of a conversation that is the ENI's own. Most
    -- rows of eni_ips are one address, found by equality; a range join of every address over
    -- every ENI's rows cost more than the whole step on a day of many addresses
    SELECT eni_ips.eni_id, addr_keys.addr
    FROM eni_ips
    INNER JOIN addr_keys ON eni_ips.family = addr_keys.family AND eni_ips.lo = addr_keys.key
    WHERE eni_ips.lo = eni_ips.hi
    UNION
    SELECT eni_ips.eni_id, addr_keys.addr
    FROM eni_ips
    INNER JOIN addr_keys
        ON addr_keys.family = eni_ips.family AND addr_keys.key BETWEEN eni_ips.lo AND eni_ips.hi
    WHERE eni_ips.lo < eni_ips.hi
), flagged AS (
    -- the conversations tcp-flags decide on their own ENI, as ids
    SELECT
        eni_flows.protocol, lo_keys.addr_id AS lo_id, eni_flows.lo_port,
        hi_keys.addr_id AS hi_id, eni_flows.hi_port, eni_flows.flag_side,
        CASE WHEN eni_flows.flag_side = 'lo' THEN hi_keys.key_id ELSE lo_keys.key_id END
        AS responder_kid,
        CASE WHEN eni_flows.flag_side = 'lo' THEN eni_flows.hi_port ELSE eni_flows.lo_port END
        AS responder_port
    FROM eni_flows
    INNER JOIN addr_keys AS lo_keys ON eni_flows.lo_addr = lo_keys.addr
    INNER JOIN addr_keys AS hi_keys ON eni_flows.hi_addr = hi_keys.addr
    WHERE eni_flows.flag_side IS NOT NULL
), shared_flagged AS (
    -- the flagged conversations whose 5-tuple a conversation without flags of its own (on
    -- another ENI) also has: the only ones flags_elsewhere is read for. Grouping every flagged
    -- conversation and probing that table with every conversation cost more than the rest of
    -- the lookups together, for a 5-tuple seen on one ENI, which most are
    SELECT
        eni_flows.protocol, lo_keys.addr_id AS lo_id, eni_flows.lo_port,
        hi_keys.addr_id AS hi_id, eni_flows.hi_port, eni_flows.flag_side
    FROM eni_flows
    INNER JOIN addr_keys AS lo_keys ON eni_flows.lo_addr = lo_keys.addr
    INNER JOIN addr_keys AS hi_keys ON eni_flows.hi_addr = hi_keys.addr
    WHERE
        eni_flows.flag_side IS NOT NULL
        AND EXISTS (
            SELECT 1
            FROM eni_flows AS silent
            WHERE
                silent.flag_side IS NULL
                AND silent.protocol = eni_flows.protocol
                AND silent.lo_addr = eni_flows.lo_addr
                AND silent.lo_port = eni_flows.lo_port
                AND silent.hi_addr = eni_flows.hi_addr
                AND silent.hi_port = eni_flows.hi_port
        )
), flags_elsewhere AS (
    -- the tcp-flags of every ENI that saw the 5-tuple, when they agree; aggregated as 0 (lo) / 1
    -- (hi), not as text: Spark hash-aggregates only fixed-width buffers (a MIN over text sorts)
    SELECT
        protocol, lo_id, lo_port, hi_id, hi_port,
        CASE WHEN MAX(CASE WHEN flag_side = 'hi' THEN 1 ELSE 0 END) = 1 THEN 'hi' ELSE 'lo' END
        AS side
    FROM shared_flagged
    GROUP BY protocol, lo_id, lo_port, hi_id, hi_port
    HAVING MIN(CASE WHEN flag_side = 'hi' THEN 1 ELSE 0 END)
        = MAX(CASE WHEN flag_side = 'hi' THEN 1 ELSE 0 END)
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
        CASE WHEN initiator_is_lo THEN 0 ELSE 1 END AS side_hi
    FROM prior_decided
), prior_agreed AS (
    -- the side as 0 (lo) / 1 (hi): an integer aggregate, hashable on Spark
    SELECT
        protocol, lo_addr, lo_port, hi_addr, hi_port,
        CASE WHEN MAX(side_hi) = 1 THEN 'hi' ELSE 'lo' END AS side
    FROM prior_sides
    GROUP BY protocol, lo_addr, lo_port, hi_addr, hi_port
    HAVING MIN(side_hi) = MAX(side_hi)
), history AS (
    -- as ids: a 5-tuple of an address the day does not see matches no conversation of the day
    SELECT
        prior_agreed.protocol, lo_keys.addr_id AS lo_id, prior_agreed.lo_port,
        hi_keys.addr_id AS hi_id, prior_agreed.hi_port, prior_agreed.side
    FROM prior_agreed
    INNER JOIN addr_keys AS lo_keys ON prior_agreed.lo_addr = lo_keys.addr
    INNER JOIN addr_keys AS hi_keys ON prior_agreed.hi_addr = hi_keys.addr
), listeners AS (
    -- listening endpoints, one row per port: a SYN-confirmed responder's port, and each port of
    -- an inbound SG rule of <= 256 ports on its ENI's address (expanded by port_offsets, so the
    -- conversations probe them by equality; a range join fanned out every conversation of a
    -- busy address over all of its listeners)
    SELECT responder_kid AS key_id, protocol, responder_port AS port
    FROM flagged
    UNION
    SELECT
        addr_keys.key_id,
        sg_rules.ip_protocol AS protocol,
        sg_rules.from_port + port_offsets.port_offset AS port
    FROM sg_rules
    INNER JOIN eni_groups ON sg_rules.group_id = eni_groups.group_id
    INNER JOIN eni_ips
        ON
            eni_groups.eni_id = eni_ips.eni_id
            AND eni_ips.lo = eni_ips.hi
            AND eni_ips.kind <> 'public4'
    INNER JOIN addr_keys ON eni_ips.lo = addr_keys.key
    INNER JOIN port_offsets ON port_offsets.port_offset <= sg_rules.to_port - sg_rules.from_port
    WHERE
        sg_rules.direction = 'ingress' AND sg_rules.ip_protocol IN (6, 17)
        AND sg_rules.from_port IS NOT NULL AND sg_rules.to_port IS NOT NULL
        AND sg_rules.from_port >= 0 AND sg_rules.to_port - sg_rules.from_port < 256
), conversation_ids AS (
    -- every conversation's endpoints as ids, and whether its own evidence leaves it open
    SELECT
        eni_flows.protocol, lo_keys.key_id AS lo_kid, eni_flows.lo_port,
        hi_keys.key_id AS hi_kid, eni_flows.hi_port,
        COALESCE(eni_flows.flag_side, eni_flows.rnr_side, eni_flows.eph_side) IS NULL AS open
    FROM eni_flows
    INNER JOIN addr_keys AS lo_keys ON eni_flows.lo_addr = lo_keys.addr
    INNER JOIN addr_keys AS hi_keys ON eni_flows.hi_addr = hi_keys.addr
), endpoint_peers AS (
    SELECT lo_kid AS key_id, protocol, lo_port AS port, hi_kid AS peer, open
    FROM conversation_ids
    UNION ALL
    SELECT hi_kid AS key_id, protocol, hi_port AS port, lo_kid AS peer, open
    FROM conversation_ids
), open_endpoints AS (
    -- the endpoints of the conversations their own evidence leaves open: a superset of those no
    -- strong evidence decides, the only ones fan-in is read for (usually few)
    SELECT DISTINCT key_id, protocol, port FROM endpoint_peers WHERE open
), fan_in AS (
    -- distinct peers per (address, protocol, port) of those endpoints
    SELECT
        endpoint_peers.key_id,
        endpoint_peers.protocol,
        endpoint_peers.port,
        COUNT(DISTINCT endpoint_peers.peer) AS peers
    FROM endpoint_peers
    INNER JOIN open_endpoints
        ON
            endpoint_peers.key_id = open_endpoints.key_id
            AND endpoint_peers.protocol = open_endpoints.protocol
            AND endpoint_peers.port = open_endpoints.port
    GROUP BY endpoint_peers.key_id, endpoint_peers.protocol, endpoint_peers.port
), evidence AS (
    SELECT
        eni_flows.eni_id, eni_flows.protocol,
        eni_flows.lo_addr, eni_flows.lo_port, eni_flows.hi_addr, eni_flows.hi_port,
        eni_flows.f_acc, eni_flows.f_rej, eni_flows.r_acc, eni_flows.r_rej,
        eni_flows.f_acc_packets, eni_flows.f_acc_bytes,
        eni_flows.r_acc_packets, eni_flows.r_acc_bytes,
        eni_flows.f_packets, eni_flows.f_bytes, eni_flows.r_packets, eni_flows.r_bytes,
        eni_flows.f_first, eni_flows.r_first,
        eni_flows.first_start, eni_flows.first_accept, eni_flows.last_end,
        eni_flows.flag_side, eni_flows.rnr_side, eni_flows.eph_side,
        lo_keys.family,
        lo_keys.key_id AS lo_kid,
        hi_keys.key_id AS hi_kid,
        eni_info.eni_id IS NOT NULL AS in_inventory,
        COALESCE(eni_info.has_sgs, FALSE) AS has_sgs,
        CASE
            WHEN
                (lo_own.addr IS NOT NULL OR eni_flows.lo_dir_local = 1)
                AND NOT (hi_own.addr IS NOT NULL OR eni_flows.hi_dir_local = 1)
                THEN 'lo'
            WHEN
                (hi_own.addr IS NOT NULL OR eni_flows.hi_dir_local = 1)
                AND NOT (lo_own.addr IS NOT NULL OR eni_flows.lo_dir_local = 1)
                THEN 'hi'
        END AS local_side,
        flags_elsewhere.side AS peer_side,
        history.side AS hist_side,
        CASE
            WHEN eni_flows.protocol NOT IN (6, 17) THEN NULL
            WHEN lo_listening.key_id IS NOT NULL AND hi_listening.key_id IS NULL THEN 'hi'
            WHEN hi_listening.key_id IS NOT NULL AND lo_listening.key_id IS NULL THEN 'lo'
        END AS listen_side,
        CASE
            WHEN eni_flows.lo_port = eni_flows.hi_port THEN NULL
            WHEN
                COALESCE(lo_fan_in.peers, 1) >= 2
                AND COALESCE(hi_fan_in.peers, 1) < COALESCE(lo_fan_in.peers, 1)
                THEN 'hi'
            WHEN
                COALESCE(hi_fan_in.peers, 1) >= 2
                AND COALESCE(lo_fan_in.peers, 1) < COALESCE(hi_fan_in.peers, 1)
                THEN 'lo'
        END AS fan_side
    FROM eni_flows
    INNER JOIN addr_keys AS lo_keys ON eni_flows.lo_addr = lo_keys.addr
    INNER JOIN addr_keys AS hi_keys ON eni_flows.hi_addr = hi_keys.addr
    LEFT JOIN eni_info ON eni_flows.eni_id = eni_info.eni_id
    LEFT JOIN own_addrs AS lo_own
        ON eni_flows.eni_id = lo_own.eni_id AND eni_flows.lo_raw = lo_own.addr
    LEFT JOIN own_addrs AS hi_own
        ON eni_flows.eni_id = hi_own.eni_id AND eni_flows.hi_raw = hi_own.addr
    LEFT JOIN flags_elsewhere
        ON
            eni_flows.protocol = flags_elsewhere.protocol
            AND lo_keys.addr_id = flags_elsewhere.lo_id
            AND eni_flows.lo_port = flags_elsewhere.lo_port
            AND hi_keys.addr_id = flags_elsewhere.hi_id
            AND eni_flows.hi_port = flags_elsewhere.hi_port
    LEFT JOIN history
        ON
            eni_flows.protocol = history.protocol
            AND lo_keys.addr_id = history.lo_id
            AND eni_flows.lo_port = history.lo_port
            AND hi_keys.addr_id = history.hi_id
            AND eni_flows.hi_port = history.hi_port
    LEFT JOIN listeners AS lo_listening
        ON
            lo_keys.key_id = lo_listening.key_id
            AND eni_flows.protocol = lo_listening.protocol
            AND eni_flows.lo_port = lo_listening.port
    LEFT JOIN listeners AS hi_listening
        ON
            hi_keys.key_id = hi_listening.key_id
            AND eni_flows.protocol = hi_listening.protocol
            AND eni_flows.hi_port = hi_listening.port
    LEFT JOIN fan_in AS lo_fan_in
        ON
            lo_keys.key_id = lo_fan_in.key_id
            AND eni_flows.protocol = lo_fan_in.protocol
            AND eni_flows.lo_port = lo_fan_in.port
    LEFT JOIN fan_in AS hi_fan_in
        ON
            hi_keys.key_id = hi_fan_in.key_id
            AND eni_flows.protocol = hi_fan_in.protocol
            AND eni_flows.hi_port = hi_fan_in.port
), decided AS (
    SELECT
        evidence.*,
        COALESCE(
            flag_side, peer_side, hist_side, rnr_side, listen_side, eph_side, fan_side,
            CASE WHEN lo_port < hi_port THEN 'hi' WHEN hi_port < lo_port THEN 'lo' END,
            CASE
                WHEN f_first IS NOT NULL AND (r_first IS NULL OR f_first < r_first) THEN 'lo'
                WHEN r_first IS NOT NULL AND (f_first IS NULL OR r_first < f_first) THEN 'hi'
                WHEN f_acc > 0 AND r_acc = 0 AND r_rej > 0 THEN 'lo'
                WHEN r_acc > 0 AND f_acc = 0 AND f_rej > 0 THEN 'hi'
                ELSE 'lo'
            END
        ) AS init_side,
        CASE
            WHEN flag_side IS NOT NULL OR peer_side IS NOT NULL THEN 'tcp_flags'
            WHEN hist_side IS NOT NULL THEN 'history'
            WHEN rnr_side IS NOT NULL THEN 'reject_no_reply'
            WHEN listen_side IS NOT NULL THEN 'listening_port'
            WHEN eph_side IS NOT NULL THEN 'ephemeral_port'
            WHEN fan_side IS NOT NULL THEN 'fan_in'
            WHEN lo_port <> hi_port THEN 'lower_port'
            ELSE 'first_packet'
        END AS decided_by,
        CASE
            WHEN flag_side IS NOT NULL OR peer_side IS NOT NULL OR hist_side IS NOT NULL THEN 'high'
            WHEN
                rnr_side IS NOT NULL OR listen_side IS NOT NULL OR eph_side IS NOT NULL
                THEN 'medium'
            ELSE 'low'
        END AS confidence
    FROM evidence
), roles AS (
    SELECT
        decided.*,
        CASE
            WHEN in_inventory AND NOT has_sgs THEN 'transit'
            WHEN local_side IS NULL THEN 'transit'
            WHEN local_side = init_side THEN 'initiator'
            ELSE 'responder'
        END AS eni_role,
        init_side = 'lo' AS lo_init
    FROM decided
), oriented AS (
    -- lo initiated: lo is the initiator, the lo→hi records (f_*) are the requests; else the
    -- other way round
    SELECT
        eni_id, family, protocol, lo_addr, lo_port, hi_addr, hi_port, lo_kid, hi_kid,
        init_side, local_side, in_inventory, has_sgs, eni_role, decided_by, confidence,
        CASE WHEN lo_init THEN lo_addr ELSE hi_addr END AS initiator_addr,
        CASE WHEN lo_init THEN lo_port ELSE hi_port END AS initiator_port,
        CASE WHEN lo_init THEN lo_kid ELSE hi_kid END AS initiator_kid,
        CASE WHEN lo_init THEN hi_addr ELSE lo_addr END AS responder_addr,
        CASE WHEN lo_init THEN hi_port ELSE lo_port END AS responder_port,
        CASE WHEN lo_init THEN hi_kid ELSE lo_kid END AS responder_kid,
        CASE WHEN lo_init THEN f_acc ELSE r_acc END AS flows,
        CASE WHEN lo_init THEN f_acc_packets ELSE r_acc_packets END AS packets,
        CASE WHEN lo_init THEN f_acc_bytes ELSE r_acc_bytes END AS bytes,
        CASE WHEN lo_init THEN r_acc + r_rej ELSE f_acc + f_rej END AS reply_flows,
        CASE WHEN lo_init THEN r_packets ELSE f_packets END AS reply_packets,
        CASE WHEN lo_init THEN r_bytes ELSE f_bytes END AS reply_bytes,
        CASE WHEN lo_init THEN f_rej ELSE r_rej END AS init_rejected,
        CASE WHEN lo_init THEN r_rej ELSE f_rej END AS reply_rejected,
        f_rej + r_rej AS rejected_flows,
        f_acc + r_acc AS accepted_records,
        first_start, last_end, first_accept
    FROM roles
), with_epochs AS (
    -- the epochs of its first and last record: a few a day, so a small nested-loop join
    SELECT
        oriented.*,
        COALESCE(first_epoch.epoch, 0) AS ep_lo,
        COALESCE(last_epoch.epoch, first_epoch.epoch, 0) AS ep_hi
    FROM oriented
    LEFT JOIN epochs AS first_epoch
        ON oriented.first_start >= first_epoch.from_s AND oriented.first_start < first_epoch.to_s
    LEFT JOIN epochs AS last_epoch
        ON oriented.last_end >= last_epoch.from_s AND oriented.last_end < last_epoch.to_s
)
SELECT
    eni_id, family, protocol, lo_addr, lo_port, hi_addr, hi_port, lo_kid, hi_kid,
    init_side, local_side, in_inventory, has_sgs, eni_role, decided_by, confidence,
    initiator_addr, initiator_port, responder_addr, responder_port,
    -- the rule key: a responder's rule is ingress from its initiator, an initiator's egress to its
    -- responder; a transit ENI's traffic exercises no rule of its own
    CASE eni_role WHEN 'responder' THEN 'ingress' WHEN 'initiator' THEN 'egress' END
    AS rule_direction,
    CASE eni_role WHEN 'responder' THEN initiator_addr WHEN 'initiator' THEN responder_addr END
    AS peer_addr,
    CASE eni_role WHEN 'responder' THEN initiator_kid WHEN 'initiator' THEN responder_kid END
    AS peer_kid,
    responder_port AS service_port,
    flows, packets, bytes, reply_flows, reply_packets, reply_bytes,
    init_rejected, reply_rejected, rejected_flows, accepted_records,
    first_start, last_end, first_accept, ep_lo, ep_hi
FROM with_epochs
