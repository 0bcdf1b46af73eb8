-- name: 22_addr_groups
-- returns: (key, family, group_id) for every flow address that is a private address of an ENI in
--     that SG: what an SG-reference rule matches (domain.md §3.4; public and Elastic IPs never
--     match)
SELECT DISTINCT addr_keys.key, addr_keys.family, eni_groups.group_id
FROM addr_keys
INNER JOIN eni_ips
    ON
        addr_keys.family = eni_ips.family
        AND addr_keys.key BETWEEN eni_ips.lo AND eni_ips.hi
        AND eni_ips.kind <> 'public4'
INNER JOIN eni_groups ON eni_ips.eni_id = eni_groups.eni_id
