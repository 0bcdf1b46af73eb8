-- name: peer_addresses
-- returns: one row per (SG or prefix-list id, CIDR): the addresses an SG reference or prefix list stands for
-- params:
SELECT g.group_id AS peer, i.address AS cidr
FROM eni_groups AS g
JOIN eni_ips AS i ON i.eni_id = g.eni_id
WHERE i.kind <> 'public4' AND i.address IS NOT NULL
UNION
SELECT prefix_list_id AS peer, cidr
FROM prefix_list_entries
WHERE cidr IS NOT NULL
ORDER BY peer, cidr
