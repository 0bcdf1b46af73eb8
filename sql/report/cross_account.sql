-- name: cross_account
-- returns: one row per security-group rule of the inventory snapshot whose peer is a group of
--     another account (UserIdGroupPairs with another UserId: peering, Transit Gateway, a VPC
--     shared through AWS RAM), with its latest status of the window; by account, group, rule
-- params: $start_date, $end_date
-- The rule's account is its row's (else its group's owner); the peer is inventoried when the
-- snapshot holds the peer group.
WITH foreign_rules AS (
    SELECT
        COALESCE(account_id, group_owner_id, 'unknown') AS account_id,
        group_id, rule_id, direction, peer, peer_owner_id AS peer_account_id
    FROM sg_rules
    WHERE peer_type = 'sg'
        AND peer_owner_id IS NOT NULL
        AND peer_owner_id <> COALESCE(account_id, group_owner_id, '')
), inventoried_groups AS (
    SELECT DISTINCT group_id FROM security_groups
), latest_usage AS (
    SELECT
        rule_id, group_id, status, flows, status_reason,
        ROW_NUMBER() OVER (PARTITION BY rule_id, group_id ORDER BY date DESC) AS newness
    FROM rule_usage
    WHERE date BETWEEN $start_date AND $end_date
)
SELECT DISTINCT
    foreign_rules.account_id,
    foreign_rules.group_id,
    foreign_rules.rule_id,
    foreign_rules.direction,
    foreign_rules.peer,
    foreign_rules.peer_account_id,
    inventoried_groups.group_id IS NOT NULL AS peer_inventoried,
    latest_usage.status,
    latest_usage.flows,
    latest_usage.status_reason
FROM foreign_rules
LEFT JOIN inventoried_groups ON foreign_rules.peer = inventoried_groups.group_id
LEFT JOIN latest_usage
    ON foreign_rules.rule_id = latest_usage.rule_id
    AND foreign_rules.group_id = latest_usage.group_id
    AND latest_usage.newness = 1
ORDER BY foreign_rules.account_id, foreign_rules.group_id, foreign_rules.rule_id
