-- name: 22_addr_groups
-- returns: (key, group_id) for every flow address that is a private address of an ENI in that SG: what an SG-reference rule matches (docs/flow-logs.md#security-group-references-and-prefix-lists; public and Elastic IPs never match)
SELECT DISTINCT a.key, g.group_id
FROM addr_keys a
JOIN eni_ips i ON i.family = a.family AND a.key BETWEEN i.lo AND i.hi AND i.kind <> 'public4'
JOIN eni_groups g ON g.eni_id = i.eni_id
