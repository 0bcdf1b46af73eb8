-- name: 30_conversation_sides
-- returns: one row per ENI conversation of the day with its initiator decided (init_side lo|hi,
--     decided_by, confidence), the ENI's own side (local_side), its role, the rule key it
--     exercises (rule_direction, peer_addr/peer_key, service_port) and the epochs its records
--     span (ep_lo..ep_hi: from its first record's start to its last record's end)
-- The decision ladder over 28_conversation_evidence: the strongest evidence that points at a side
-- decides (docs/flow-logs.md#who-initiated-a-connection); the first packet's time always points
-- at one, so every conversation gets an initiator. Then each lo/hi column is renamed once for
-- what it is in this conversation:
-- the initiator's and the responder's address, port and key, the request records (sent by the
-- initiator: f_* when lo initiated, r_* otherwise) and the reply records.
WITH decided AS (
    SELECT
        conversation_evidence.*,
        COALESCE(
            flag_side, peer_side, hist_side, rnr_side, listen_side, eph_side,
            fan_side, low_side, first_side
        ) AS init_side,
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
            WHEN
                rnr_side IS NOT NULL OR listen_side IS NOT NULL OR eph_side IS NOT NULL
                THEN 'medium'
            ELSE 'low'
        END AS confidence
    FROM conversation_evidence
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
), oriented AS (
    -- lo initiated: lo is the initiator, the lo→hi records (f_*) are the requests
    SELECT
        eni_id, family, protocol, lo_addr, lo_port, hi_addr, hi_port, lo_key, hi_key,
        init_side, local_side, in_inventory, has_sgs, eni_role, decided_by, confidence,
        lo_addr AS initiator_addr,
        lo_port AS initiator_port,
        lo_key AS initiator_key,
        hi_addr AS responder_addr,
        hi_port AS responder_port,
        hi_key AS responder_key,
        f_acc AS flows,
        f_acc_packets AS packets,
        f_acc_bytes AS bytes,
        r_acc + r_rej AS reply_flows,
        r_packets AS reply_packets,
        r_bytes AS reply_bytes,
        f_rej AS init_rejected,
        r_rej AS reply_rejected,
        f_rej + r_rej AS rejected_flows,
        f_acc + r_acc AS accepted_records,
        first_start, last_end, first_accept
    FROM roles
    WHERE init_side = 'lo'
    UNION ALL
    -- hi initiated: hi is the initiator, the hi→lo records (r_*) are the requests
    SELECT
        eni_id, family, protocol, lo_addr, lo_port, hi_addr, hi_port, lo_key, hi_key,
        init_side, local_side, in_inventory, has_sgs, eni_role, decided_by, confidence,
        hi_addr AS initiator_addr,
        hi_port AS initiator_port,
        hi_key AS initiator_key,
        lo_addr AS responder_addr,
        lo_port AS responder_port,
        lo_key AS responder_key,
        r_acc AS flows,
        r_acc_packets AS packets,
        r_acc_bytes AS bytes,
        f_acc + f_rej AS reply_flows,
        f_packets AS reply_packets,
        f_bytes AS reply_bytes,
        r_rej AS init_rejected,
        f_rej AS reply_rejected,
        f_rej + r_rej AS rejected_flows,
        f_acc + r_acc AS accepted_records,
        first_start, last_end, first_accept
    FROM roles
    WHERE init_side = 'hi'
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
    eni_id, family, protocol, lo_addr, lo_port, hi_addr, hi_port, lo_key, hi_key,
    init_side, local_side, in_inventory, has_sgs, eni_role, decided_by, confidence,
    initiator_addr, initiator_port, responder_addr, responder_port,
    -- the rule key: a responder's rule is ingress from its initiator, an initiator's egress to its
    -- responder; a transit ENI's traffic exercises no rule of its own
    CASE eni_role WHEN 'responder' THEN 'ingress' WHEN 'initiator' THEN 'egress' END
    AS rule_direction,
    CASE eni_role WHEN 'responder' THEN initiator_addr WHEN 'initiator' THEN responder_addr END
    AS peer_addr,
    CASE eni_role WHEN 'responder' THEN initiator_key WHEN 'initiator' THEN responder_key END
    AS peer_key,
    responder_port AS service_port,
    flows, packets, bytes, reply_flows, reply_packets, reply_bytes,
    init_rejected, reply_rejected, rejected_flows, accepted_records,
    first_start, last_end, first_accept, ep_lo, ep_hi
FROM with_epochs
