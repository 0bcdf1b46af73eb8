-- name: sg_members
-- returns: one row per SG x private address (or delegated prefix) of an ENI carrying it; an SG reference matches these
SELECT g.group_id, i.address, i.kind
FROM eni_groups AS g
JOIN eni_ips AS i ON i.eni_id = g.eni_id
WHERE i.kind IN ('primary4', 'secondary4', 'ipv6', 'prefix4', 'prefix6')
ORDER BY g.group_id, i.address
