-- name: 58_unattributed_rules
-- returns: per SG rule that a flow the inventory cannot attribute may have used, and per unknown
--     ENI behind it: the reason in words (the ENI, its record count, an example flow, what to do),
--     and rank_in_rule (1: the reason rule_usage gives: an unattributed ENI before an unheld
--     address, then the most records)
-- params: $day
-- Two ways a flow escapes attribution: its ENI is in no snapshot and no Config history at its time
-- (any group of its VPC may have held it), or its peer address was held by no ENI of the inventory
-- at its time (an SG reference may have matched it: the address may belong to a member).
WITH possible AS (
    SELECT *
    FROM span_key_rules
    WHERE NOT attributed OR matched_via = 'unplaced'
), unplaced_names AS (
    -- by key id, as the conversations and the match keys name addresses
    SELECT DISTINCT addr_keys.key_id, unplaced_addresses.addr
    FROM unplaced_addresses
    INNER JOIN addr_keys ON unplaced_addresses.addr = addr_keys.addr
), unknown_conversation_addresses AS (
    SELECT conversation_sides.eni_id, conversation_sides.lo_kid AS key_id
    FROM conversation_sides
    INNER JOIN unattributed_enis ON conversation_sides.eni_id = unattributed_enis.eni_id
    UNION
    SELECT conversation_sides.eni_id, conversation_sides.hi_kid AS key_id
    FROM conversation_sides
    INNER JOIN unattributed_enis ON conversation_sides.eni_id = unattributed_enis.eni_id
), unknown_holders AS (
    -- an unheld address seen on an unattributed ENI is most likely that ENI's own
    SELECT unplaced_names.key_id, MIN(unknown_conversation_addresses.eni_id) AS eni_id
    FROM unplaced_names
    INNER JOIN unknown_conversation_addresses
        ON unplaced_names.key_id = unknown_conversation_addresses.key_id
    GROUP BY unplaced_names.key_id
), described AS (
    SELECT
        possible.*,
        COALESCE(protocol_names.name, 'protocol ' || CAST(possible.protocol AS VARCHAR))
        || CASE
            WHEN possible.protocol IN (6, 17) THEN '/' || CAST(possible.port AS VARCHAR) ELSE ''
        END
        AS service
    FROM possible
    LEFT JOIN protocol_names ON possible.protocol = protocol_names.protocol
), reasons AS (
    SELECT
        described.rule_id, described.group_id, described.eni_id AS unknown_eni,
        1 AS kind_order, unattributed_enis.records,
        described.eni_id || ' (' || CAST(unattributed_enis.records AS VARCHAR) || ' records on '
        || CAST($day AS VARCHAR) || ', ' || COALESCE(unattributed_enis.vpc_id, 'VPC unknown')
        || ') is in no inventory snapshot and no AWS Config history at the time of its flows, so'
        || ' its security groups are unknown: its accepted ' || described.service || ' flow '
        || CASE WHEN described.rule_direction = 'ingress' THEN 'from ' ELSE 'to ' END
        || COALESCE(described.peer_addr, '?') || ' may have used this rule' AS cause
    FROM described
    INNER JOIN unattributed_enis ON described.eni_id = unattributed_enis.eni_id
    WHERE NOT described.attributed
    UNION ALL
    SELECT
        described.rule_id, described.group_id, unknown_holders.eni_id AS unknown_eni,
        2 AS kind_order, COALESCE(unattributed_enis.records, 0) AS records,
        'no ENI of the inventory held ' || unplaced_names.addr || ' at the time of its '
        || described.service || ' flows '
        || CASE WHEN described.rule_direction = 'ingress' THEN 'to ' ELSE 'from ' END
        || described.eni_id
        || COALESCE(
            ' (it is seen on ' || unknown_holders.eni_id || ', '
            || CAST(unattributed_enis.records AS VARCHAR) || ' records on ' || CAST($day AS VARCHAR)
            || ', which no snapshot places)', ''
        )
        || ', so it may have been a member of the group this rule references' AS cause
    FROM described
    INNER JOIN unplaced_names ON described.peer_kid = unplaced_names.key_id
    LEFT JOIN unknown_holders ON described.peer_kid = unknown_holders.key_id
    LEFT JOIN unattributed_enis ON unknown_holders.eni_id = unattributed_enis.eni_id
    WHERE described.attributed AND described.matched_via = 'unplaced'
)
SELECT
    rule_id, group_id, unknown_eni, records,
    cause || '; attribute such flows with ''flowlens inventory --aws --config-history'''
    || ' or take inventory snapshots more often (hourly)' AS reason,
    ROW_NUMBER() OVER (
        PARTITION BY rule_id, group_id ORDER BY kind_order, records DESC, unknown_eni, cause
    ) AS rank_in_rule
FROM reasons
