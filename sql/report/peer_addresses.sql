-- name: peer_addresses
-- returns: one row per (SG or prefix-list id, CIDR): the addresses an SG reference or prefix
--     list stands for
-- params:
SELECT
    eni_groups.group_id AS peer,
    eni_ips.address AS cidr
FROM eni_groups
INNER JOIN eni_ips ON eni_groups.eni_id = eni_ips.eni_id
WHERE eni_ips.kind <> 'public4' AND eni_ips.address IS NOT NULL
UNION
SELECT
    prefix_list_id AS peer,
    cidr
FROM prefix_list_entries
WHERE cidr IS NOT NULL
ORDER BY peer, cidr
