-- name: 20_eni_info
-- returns: one row per ENI of the inventory snapshot: its subnet, NACL, interface type and how many SGs it has (0 = not SG-filtered: NAT gateway, TGW, GWLB ENIs are transit)
SELECT
    e.eni_id, e.vpc_id, e.subnet_id, s.nacl_id, e.interface_type, e.instance_id, e.status,
    COALESCE(g.n_groups, 0) AS n_groups,
    COALESCE(g.n_groups, 0) > 0 AS has_sgs
FROM enis e
LEFT JOIN subnets s ON s.subnet_id = e.subnet_id
LEFT JOIN (SELECT eni_id, COUNT(DISTINCT group_id) AS n_groups FROM eni_groups GROUP BY eni_id) g
    ON g.eni_id = e.eni_id
