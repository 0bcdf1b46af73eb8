-- name: 37_match_peers
-- returns: the address-key ranges each SG rule's peer stands for (rule_id, family, lo, hi,
--     matched_via cidr|prefix_list|sg), as the rule-match join reads them
-- An IPv4/IPv6 CIDR is its range; a prefix list, the entries of its newest version; a referenced
-- SG, the day's flow addresses that are private addresses of its members (22_addr_groups).
WITH newest_versions AS (
    SELECT prefix_list_id, MAX(version) AS version
    FROM prefix_list_entries
    GROUP BY prefix_list_id
), current_entries AS (
    SELECT prefix_list_entries.prefix_list_id, prefix_list_entries.family,
        prefix_list_entries.lo, prefix_list_entries.hi
    FROM prefix_list_entries
    INNER JOIN newest_versions
        ON
            prefix_list_entries.prefix_list_id = newest_versions.prefix_list_id
            AND (
                prefix_list_entries.version = newest_versions.version
                OR newest_versions.version IS NULL
            )
)
SELECT rule_id, peer_family AS family, peer_lo AS lo, peer_hi AS hi, 'cidr' AS matched_via
FROM sg_rules
WHERE peer_type IN ('cidr4', 'cidr6')
UNION ALL
SELECT
    sg_rules.rule_id,
    current_entries.family,
    current_entries.lo,
    current_entries.hi,
    'prefix_list' AS matched_via
FROM sg_rules
INNER JOIN current_entries ON sg_rules.peer = current_entries.prefix_list_id
WHERE sg_rules.peer_type = 'prefix_list'
UNION ALL
SELECT
    sg_rules.rule_id,
    addr_groups.family,
    addr_groups.key AS lo,
    addr_groups.key AS hi,
    'sg' AS matched_via
FROM sg_rules
INNER JOIN addr_groups ON sg_rules.peer = addr_groups.group_id
WHERE sg_rules.peer_type = 'sg'
