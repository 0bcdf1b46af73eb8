-- name: 12_eni_day_stats
-- returns: one row per ENI × flow log of the day: records, NODATA and SKIPDATA counts (the proof
--     that a flow log delivered, and its gaps), and the VPC and subnet the records name (vpc-id,
--     subnet-id fields; NULL in formats without them): where an ENI no inventory row places lives
-- params: $day
SELECT
    interface_id AS eni_id,
    flow_log_id,
    COUNT(*) AS records,
    SUM(CASE WHEN log_status = 'NODATA' THEN 1 ELSE 0 END) AS nodata,
    SUM(CASE WHEN log_status = 'SKIPDATA' THEN 1 ELSE 0 END) AS skipdata,
    MIN(vpc_id) AS vpc_id,
    MIN(subnet_id) AS subnet_id
FROM flows
WHERE date = $day
GROUP BY interface_id, flow_log_id
