-- name: 12_eni_day_stats
-- returns: one row per ENI × flow log of the day: records, NODATA and SKIPDATA counts (the proof
--     that a flow log delivered, and its gaps), and the VPC and subnet the records name (vpc-id,
--     subnet-id fields; NULL in formats without them): where an ENI no inventory row places lives
-- params: $day
-- variants: spark
-- Spark runs its own form (after "-- variant: spark"): it hash-aggregates only fixed-width buffers,
-- so the MINs over text would sort every record there; DuckDB keeps the one pass.
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
GROUP BY interface_id, flow_log_id;
-- variant: spark
-- The records are grouped with their vpc-id and subnet-id as keys (an ENI's records name one or
-- few), and those few groups per ENI are then summed and their MINs taken: Spark hash-aggregates
-- only fixed-width buffers, so a MIN over text in the pass over every record would sort them all.
WITH per_location AS (
    SELECT
        interface_id, flow_log_id, vpc_id, subnet_id,
        COUNT(*) AS records,
        SUM(CASE WHEN log_status = 'NODATA' THEN 1 ELSE 0 END) AS nodata,
        SUM(CASE WHEN log_status = 'SKIPDATA' THEN 1 ELSE 0 END) AS skipdata
    FROM flows
    WHERE date = $day
    GROUP BY interface_id, flow_log_id, vpc_id, subnet_id
)
SELECT
    interface_id AS eni_id,
    flow_log_id,
    CAST(SUM(records) AS BIGINT) AS records,
    SUM(nodata) AS nodata,
    SUM(skipdata) AS skipdata,
    MIN(vpc_id) AS vpc_id,
    MIN(subnet_id) AS subnet_id
FROM per_location
GROUP BY interface_id, flow_log_id
