-- name: sg_members
-- returns: one row per SG x private address (or delegated prefix) of an ENI carrying it; an SG
--     reference matches these
SELECT
    eni_groups.group_id,
    eni_ips.address,
    eni_ips.kind
FROM eni_groups
INNER JOIN eni_ips ON eni_groups.eni_id = eni_ips.eni_id
WHERE eni_ips.kind IN ('primary4', 'secondary4', 'ipv6', 'prefix4', 'prefix6')
ORDER BY eni_groups.group_id, eni_ips.address
