-- name: 20_eni_info
-- returns: one row per ENI of the inventory snapshot: its subnet, NACL, interface type and how
--     many SGs it has (0 = not SG-filtered: NAT gateway, TGW, GWLB ENIs are transit)
WITH group_counts AS (
    SELECT eni_id, COUNT(DISTINCT group_id) AS n_groups
    FROM eni_groups
    GROUP BY eni_id
)
SELECT
    enis.eni_id,
    enis.vpc_id,
    enis.subnet_id,
    subnets.nacl_id,
    enis.interface_type,
    enis.instance_id,
    enis.status,
    COALESCE(group_counts.n_groups, 0) AS n_groups,
    COALESCE(group_counts.n_groups, 0) > 0 AS has_sgs
FROM enis
LEFT JOIN subnets ON enis.subnet_id = subnets.subnet_id
LEFT JOIN group_counts ON enis.eni_id = group_counts.eni_id
