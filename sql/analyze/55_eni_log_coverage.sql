-- name: 55_eni_log_coverage
-- returns: one row per inventory ENI: whether flow logs covered all its traffic for the whole window (covered), SKIPDATA count, and gap_reason (why not, in words)
-- params: $day, $window_start
-- Covered = an ALL-traffic flow log (or an ACCEPT and a REJECT one together) that existed at the
-- window start, is not failing delivery and whose records were ingested for the day, and no
-- SKIPDATA record on the ENI that day.
WITH cov AS (
    SELECT
        c.eni_id, c.flow_log_id, c.traffic_type, c.creation_time,
        (c.creation_time IS NULL OR c.creation_time <= $window_start) AS whole_window,
        UPPER(COALESCE(fl.deliver_logs_status, 'SUCCESS')) = 'SUCCESS' AS delivering,
        EXISTS (SELECT 1 FROM eni_day_stats s WHERE s.flow_log_id = c.flow_log_id OR s.eni_id = c.eni_id) AS ingested
    FROM eni_coverage c
    LEFT JOIN flow_logs fl ON fl.flow_log_id = c.flow_log_id
), per_eni AS (
    SELECT
        e.eni_id, e.vpc_id, e.subnet_id, e.has_sgs, e.interface_type,
        COUNT(cov.flow_log_id) AS n_logs,
        MAX(CASE WHEN cov.traffic_type = 'ALL' THEN 1 ELSE 0 END) AS any_all,
        MAX(CASE WHEN cov.traffic_type = 'ACCEPT' THEN 1 ELSE 0 END) AS any_accept,
        MAX(CASE WHEN cov.traffic_type = 'REJECT' THEN 1 ELSE 0 END) AS any_reject,
        MAX(CASE WHEN cov.whole_window AND cov.delivering AND cov.ingested AND cov.traffic_type = 'ALL' THEN 1 ELSE 0 END) AS ok_all,
        MAX(CASE WHEN cov.whole_window AND cov.delivering AND cov.ingested AND cov.traffic_type = 'ACCEPT' THEN 1 ELSE 0 END) AS ok_accept,
        MAX(CASE WHEN cov.whole_window AND cov.delivering AND cov.ingested AND cov.traffic_type = 'REJECT' THEN 1 ELSE 0 END) AS ok_reject,
        MIN(CASE WHEN NOT cov.whole_window THEN cov.flow_log_id END) AS late_log,
        MIN(CASE WHEN NOT cov.delivering THEN cov.flow_log_id END) AS failing_log,
        MIN(CASE WHEN NOT cov.ingested THEN cov.flow_log_id END) AS missing_log
    FROM eni_info e
    LEFT JOIN cov ON cov.eni_id = e.eni_id
    GROUP BY e.eni_id, e.vpc_id, e.subnet_id, e.has_sgs, e.interface_type
), skips AS (
    SELECT eni_id, SUM(skipdata) AS skipdata FROM eni_day_stats GROUP BY eni_id
), judged AS (
    SELECT
        p.*,
        COALESCE(s.skipdata, 0) AS skipdata,
        (p.ok_all = 1 OR (p.ok_accept = 1 AND p.ok_reject = 1)) AS logged
    FROM per_eni p
    LEFT JOIN skips s ON s.eni_id = p.eni_id
)
SELECT
    eni_id, vpc_id, subnet_id, has_sgs, interface_type, n_logs, any_all, any_accept, any_reject, skipdata,
    logged AND skipdata = 0 AS covered,
    CASE
        WHEN logged AND skipdata = 0 THEN NULL
        WHEN n_logs = 0 THEN eni_id || ' has no flow log'
        WHEN logged THEN eni_id || ' had ' || CAST(skipdata AS VARCHAR) || ' SKIPDATA records on ' || CAST($day AS VARCHAR)
        WHEN any_all = 0 AND any_accept = 1 AND any_reject = 0 THEN eni_id || ' has only an ACCEPT flow log'
        WHEN any_all = 0 AND any_reject = 1 AND any_accept = 0 THEN eni_id || ' has only a REJECT flow log'
        WHEN late_log IS NOT NULL THEN 'flow log ' || late_log || ' of ' || eni_id || ' was created after the window start'
        WHEN failing_log IS NOT NULL THEN 'flow log ' || failing_log || ' of ' || eni_id || ' is failing delivery'
        WHEN missing_log IS NOT NULL THEN 'no records of flow log ' || missing_log || ' (' || eni_id || ') were ingested for ' || CAST($day AS VARCHAR)
        ELSE eni_id || ' lacks an ALL-traffic flow log'
    END AS gap_reason
FROM judged
