-- name: 35_match_keys
-- returns: the keys the rule-match join (sql/shared/keys_allowed.sql) matches, one per distinct
--     key (ENI, rule direction, protocol, family, peer key id peer_kid, port, epoch span
--     ep_lo..ep_hi) and epoch of its span, with the peer's key itself (peer_key, which the join
--     tests against the rules' ranges): eni_id is the scope 36_match_rules gives the rules of,
--     the ENI in that epoch ('<eni>/<epoch>') or, for an ENI no inventory row places, its VPC
--     then ('vpc:<vpc>/<epoch>', 'vpc:*/<epoch>' when unknown); key_eni_id is the ENI itself.
--     attributed: every conversation's rule key on an SG-filtered ENI and every rejected key,
--     judged by the rules of the ENI's groups; not attributed: the keys an accepted initiating
--     conversation on an ENI no inventory row places may have exercised, judged by every rule of
--     its VPC, with an example peer_addr for the reasons
-- An unattributed ENI's own side is the one its records name (local_side), else the only side
-- inside a subnet of the inventory; where neither tells, the ENI may have been either end, and
-- both keys count: ingress from the initiator (it responded) and egress to the responder.
-- Its rules are every rule of its VPC (36_match_rules), any of its groups may have held it.
WITH attributed_keys AS (
    -- one row per key already (34_service_keys groups by it)
    SELECT eni_id, rule_direction, protocol, family, peer_kid, service_port AS port, ep_lo, ep_hi
    FROM service_keys
    UNION
    SELECT eni_id, direction, protocol, family, remote_kid, port, ep_lo, ep_hi
    FROM reject_keys
), subnet_keys AS (
    SELECT DISTINCT addr_keys.key_id
    FROM addr_keys
    INNER JOIN subnet_ranges
        ON
            addr_keys.family = subnet_ranges.family
            AND addr_keys.key BETWEEN subnet_ranges.lo AND subnet_ranges.hi
), unattributed_conversations AS (
    SELECT
        conversation_sides.eni_id, conversation_sides.protocol, conversation_sides.family,
        conversation_sides.ep_lo, conversation_sides.ep_hi, conversation_sides.service_port,
        conversation_sides.initiator_addr, conversation_sides.responder_addr,
        unattributed_enis.vpc_id,
        CASE WHEN conversation_sides.init_side = 'lo' THEN conversation_sides.lo_kid
            ELSE conversation_sides.hi_kid END AS initiator_kid,
        CASE WHEN conversation_sides.init_side = 'lo' THEN conversation_sides.hi_kid
            ELSE conversation_sides.lo_kid END AS responder_kid,
        CASE
            WHEN conversation_sides.local_side IS NOT NULL
                THEN conversation_sides.local_side = conversation_sides.init_side
            WHEN lo_subnet.key_id IS NOT NULL AND hi_subnet.key_id IS NULL
                THEN conversation_sides.init_side = 'lo'
            WHEN hi_subnet.key_id IS NOT NULL AND lo_subnet.key_id IS NULL
                THEN conversation_sides.init_side = 'hi'
        END AS eni_initiated
    FROM conversation_sides
    INNER JOIN unattributed_enis ON conversation_sides.eni_id = unattributed_enis.eni_id
    LEFT JOIN subnet_keys AS lo_subnet ON conversation_sides.lo_kid = lo_subnet.key_id
    LEFT JOIN subnet_keys AS hi_subnet ON conversation_sides.hi_kid = hi_subnet.key_id
    WHERE conversation_sides.flows > 0
), span_keys AS (
    SELECT
        eni_id, rule_direction, protocol, family, peer_kid, port, ep_lo, ep_hi,
        TRUE AS attributed, CAST(NULL AS VARCHAR) AS peer_addr,
        eni_id AS scope
    FROM attributed_keys
    UNION ALL
    SELECT
        eni_id, 'ingress' AS rule_direction, protocol, family, initiator_kid AS peer_kid,
        service_port AS port, ep_lo, ep_hi, FALSE AS attributed,
        MIN(initiator_addr) AS peer_addr,
        'vpc:' || COALESCE(vpc_id, '*') AS scope
    FROM unattributed_conversations
    WHERE eni_initiated IS NULL OR NOT eni_initiated
    GROUP BY eni_id, protocol, family, initiator_kid, service_port, ep_lo, ep_hi, vpc_id
    UNION ALL
    SELECT
        eni_id, 'egress' AS rule_direction, protocol, family, responder_kid AS peer_kid,
        service_port AS port, ep_lo, ep_hi, FALSE AS attributed,
        MIN(responder_addr) AS peer_addr,
        'vpc:' || COALESCE(vpc_id, '*') AS scope
    FROM unattributed_conversations
    WHERE eni_initiated IS NULL OR eni_initiated
    GROUP BY eni_id, protocol, family, responder_kid, service_port, ep_lo, ep_hi, vpc_id
), key_names AS (
    -- one key per key id
    SELECT DISTINCT key_id, key FROM addr_keys
)
SELECT
    span_keys.scope || '/' || CAST(epochs.epoch AS VARCHAR) AS eni_id,
    span_keys.eni_id AS key_eni_id,
    span_keys.rule_direction, span_keys.protocol, span_keys.family, span_keys.peer_kid,
    key_names.key AS peer_key, span_keys.port, span_keys.ep_lo, span_keys.ep_hi, epochs.epoch,
    span_keys.attributed, span_keys.peer_addr
FROM span_keys
INNER JOIN epochs ON epochs.epoch BETWEEN span_keys.ep_lo AND span_keys.ep_hi
INNER JOIN key_names ON span_keys.peer_kid = key_names.key_id
