-- name: flow_totals
-- returns: one row: flow records in the window by outcome, bytes, packets, distinct ENIs
-- params: $start_date, $end_date
SELECT
    COUNT(*) AS records,
    COUNT(CASE WHEN action = 'ACCEPT' THEN 1 END) AS accepted,
    COUNT(CASE WHEN action = 'REJECT' THEN 1 END) AS rejected,
    COUNT(CASE WHEN log_status = 'NODATA' THEN 1 END) AS nodata,
    COUNT(CASE WHEN log_status = 'SKIPDATA' THEN 1 END) AS skipdata,
    CAST(COALESCE(SUM(packets), 0) AS BIGINT) AS packets,
    CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS bytes,
    COUNT(DISTINCT interface_id) AS enis
FROM flows
WHERE date BETWEEN $start_date AND $end_date
