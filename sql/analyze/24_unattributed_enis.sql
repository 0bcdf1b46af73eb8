-- name: 24_unattributed_enis
-- returns: one row per ENI with flow records on the day that no inventory row (snapshot or AWS
--     Config history) places at any time of the day: its VPC (the records' vpc-id, else the VPC
--     of their subnet-id, else NULL: unknown) and its record count. Its flows cannot be
--     attributed to security groups, so no rule they may have used can be called unused.
SELECT
    eni_day_stats.eni_id,
    COALESCE(MIN(eni_day_stats.vpc_id), MIN(subnet_vpcs.vpc_id)) AS vpc_id,
    SUM(eni_day_stats.records) AS records
FROM eni_day_stats
LEFT JOIN (SELECT DISTINCT subnet_id, vpc_id FROM subnets) AS subnet_vpcs
    ON eni_day_stats.subnet_id = subnet_vpcs.subnet_id
LEFT JOIN eni_info ON eni_day_stats.eni_id = eni_info.eni_id
WHERE eni_info.eni_id IS NULL
GROUP BY eni_day_stats.eni_id
