-- name: 37_match_peers
-- returns: the address-key ranges each rule content stands for in each epoch (rule_id: its
--     match_rule_id of 33_rules_in_force; family, lo, hi; matched_via cidr, prefix_list, sg or
--     unplaced), as the rule-match join reads them
-- An IPv4/IPv6 CIDR is its range; a prefix list, the entries of the versions in force in the
-- epoch (the prefix_lists rows valid then; a list with entries but no such row, at its newest
-- version of the epoch); a referenced SG, the day's flow addresses that are private addresses of
-- its members in the epoch (22_addr_groups), and, as 'unplaced', those no ENI of the inventory
-- held then (23_unplaced_addresses): they may have belonged to a member no snapshot shows.
WITH entries_in_force AS (
    SELECT epochs.epoch, prefix_list_entries.*
    FROM epochs
    INNER JOIN prefix_list_entries
        ON
            prefix_list_entries.valid_from < epochs.epoch_to
            AND prefix_list_entries.valid_to > epochs.epoch_from
), listed_entries AS (
    -- the entries of a version the prefix_lists rows say was in force in that epoch
    SELECT entries_in_force.*
    FROM entries_in_force
    INNER JOIN epochs ON entries_in_force.epoch = epochs.epoch
    INNER JOIN prefix_lists
        ON
            entries_in_force.prefix_list_id = prefix_lists.prefix_list_id
            AND entries_in_force.version = prefix_lists.version
            AND prefix_lists.valid_from < epochs.epoch_to
            AND prefix_lists.valid_to > epochs.epoch_from
), listed AS (
    SELECT DISTINCT epoch, prefix_list_id FROM listed_entries
), newest_versions AS (
    SELECT epoch, prefix_list_id, MAX(version) AS version
    FROM entries_in_force
    GROUP BY epoch, prefix_list_id
), list_entries AS (
    SELECT epoch, prefix_list_id, family, lo, hi FROM listed_entries
    UNION ALL
    SELECT
        entries_in_force.epoch, entries_in_force.prefix_list_id, entries_in_force.family,
        entries_in_force.lo, entries_in_force.hi
    FROM entries_in_force
    INNER JOIN newest_versions
        ON
            entries_in_force.epoch = newest_versions.epoch
            AND entries_in_force.prefix_list_id = newest_versions.prefix_list_id
    LEFT JOIN listed
        ON
            entries_in_force.epoch = listed.epoch
            AND entries_in_force.prefix_list_id = listed.prefix_list_id
    WHERE
        listed.prefix_list_id IS NULL
        AND (
            entries_in_force.version = newest_versions.version
            OR newest_versions.version IS NULL
        )
)
SELECT
    match_rule_id AS rule_id, peer_family AS family, peer_lo AS lo, peer_hi AS hi,
    'cidr' AS matched_via
FROM rules_in_force
WHERE peer_type IN ('cidr4', 'cidr6')
UNION ALL
SELECT
    rules_in_force.match_rule_id AS rule_id,
    list_entries.family,
    list_entries.lo,
    list_entries.hi,
    'prefix_list' AS matched_via
FROM rules_in_force
INNER JOIN list_entries
    ON
        rules_in_force.epoch = list_entries.epoch
        AND rules_in_force.peer = list_entries.prefix_list_id
WHERE rules_in_force.peer_type = 'prefix_list'
UNION ALL
SELECT
    rules_in_force.match_rule_id AS rule_id,
    addr_groups.family,
    addr_groups.key AS lo,
    addr_groups.key AS hi,
    'sg' AS matched_via
FROM rules_in_force
INNER JOIN addr_groups
    ON rules_in_force.epoch = addr_groups.epoch AND rules_in_force.peer = addr_groups.group_id
WHERE rules_in_force.peer_type = 'sg'
UNION ALL
SELECT
    rules_in_force.match_rule_id AS rule_id,
    unplaced_addresses.family,
    unplaced_addresses.key AS lo,
    unplaced_addresses.key AS hi,
    'unplaced' AS matched_via
FROM rules_in_force
INNER JOIN unplaced_addresses ON rules_in_force.epoch = unplaced_addresses.epoch
WHERE rules_in_force.peer_type = 'sg'
