-- name: traffic_bins
-- returns: one row per time bin × action (ACCEPT/REJECT): bin_start (epoch s), flows (records),
--     packets, bytes
-- params: $start_date, $end_date, $bin_seconds
SELECT
    CAST(FLOOR("start" / $bin_seconds) * $bin_seconds AS BIGINT) AS bin_start,
    action,
    COUNT(*) AS flows,
    CAST(COALESCE(SUM(packets), 0) AS BIGINT) AS packets,
    CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS bytes
FROM flows
WHERE
    date BETWEEN $start_date AND $end_date
    AND action IN ('ACCEPT', 'REJECT')
    AND "start" IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
