-- name: 55_eni_log_coverage
-- returns: one row per inventory ENI: whether flow logs covered all its traffic for the whole
--     window (covered), SKIPDATA count, and gap_reason (why not, in words)
-- params: $day, $window_start
-- Covered = an ALL-traffic flow log (or an ACCEPT and a REJECT one together) that existed at the
-- window start, is not failing delivery and whose records were ingested for the day, and no
-- SKIPDATA record on the ENI that day.
WITH eni_logs AS (
    SELECT
        eni_coverage.eni_id,
        eni_coverage.flow_log_id,
        eni_coverage.traffic_type,
        eni_coverage.creation_time,
        (
            eni_coverage.creation_time IS NULL OR eni_coverage.creation_time <= $window_start
        ) AS whole_window,
        UPPER(COALESCE(flow_logs.deliver_logs_status, 'SUCCESS')) = 'SUCCESS' AS delivering,
        EXISTS (
            SELECT 1
            FROM eni_day_stats AS stats
            WHERE stats.flow_log_id = eni_coverage.flow_log_id OR stats.eni_id = eni_coverage.eni_id
        ) AS ingested
    FROM eni_coverage
    LEFT JOIN flow_logs ON eni_coverage.flow_log_id = flow_logs.flow_log_id
), usable_logs AS (
    SELECT
        eni_logs.*,
        whole_window AND delivering AND ingested AS usable
    FROM eni_logs
), per_eni AS (
    SELECT
        eni_info.eni_id,
        eni_info.vpc_id,
        eni_info.subnet_id,
        eni_info.has_sgs,
        eni_info.interface_type,
        COUNT(logs.flow_log_id) AS n_logs,
        MAX(CASE WHEN logs.traffic_type = 'ALL' THEN 1 ELSE 0 END) AS any_all,
        MAX(CASE WHEN logs.traffic_type = 'ACCEPT' THEN 1 ELSE 0 END) AS any_accept,
        MAX(CASE WHEN logs.traffic_type = 'REJECT' THEN 1 ELSE 0 END) AS any_reject,
        MAX(CASE WHEN logs.usable AND logs.traffic_type = 'ALL' THEN 1 ELSE 0 END) AS ok_all,
        MAX(CASE WHEN logs.usable AND logs.traffic_type = 'ACCEPT' THEN 1 ELSE 0 END) AS ok_accept,
        MAX(CASE WHEN logs.usable AND logs.traffic_type = 'REJECT' THEN 1 ELSE 0 END) AS ok_reject,
        MIN(CASE WHEN NOT logs.whole_window THEN logs.flow_log_id END) AS late_log,
        MIN(CASE WHEN NOT logs.delivering THEN logs.flow_log_id END) AS failing_log,
        MIN(CASE WHEN NOT logs.ingested THEN logs.flow_log_id END) AS missing_log
    FROM eni_info
    LEFT JOIN usable_logs AS logs ON eni_info.eni_id = logs.eni_id
    GROUP BY
        eni_info.eni_id, eni_info.vpc_id, eni_info.subnet_id, eni_info.has_sgs,
        eni_info.interface_type
), skips AS (
    SELECT eni_id, SUM(skipdata) AS skipdata FROM eni_day_stats GROUP BY eni_id
), judged AS (
    SELECT
        per_eni.*,
        COALESCE(skips.skipdata, 0) AS skipdata,
        (per_eni.ok_all = 1 OR (per_eni.ok_accept = 1 AND per_eni.ok_reject = 1)) AS logged
    FROM per_eni
    LEFT JOIN skips ON per_eni.eni_id = skips.eni_id
)
SELECT
    eni_id, vpc_id, subnet_id, has_sgs, interface_type, n_logs, any_all, any_accept, any_reject,
    skipdata,
    logged AND skipdata = 0 AS covered,
    CASE
        WHEN logged AND skipdata = 0 THEN NULL
        WHEN n_logs = 0 THEN eni_id || ' has no flow log'
        WHEN logged
            THEN eni_id || ' had ' || CAST(skipdata AS VARCHAR) || ' SKIPDATA records on '
            || CAST($day AS VARCHAR)
        WHEN any_all = 0 AND any_accept = 1 AND any_reject = 0
            THEN eni_id || ' has only an ACCEPT flow log'
        WHEN any_all = 0 AND any_reject = 1 AND any_accept = 0
            THEN eni_id || ' has only a REJECT flow log'
        WHEN late_log IS NOT NULL
            THEN 'flow log ' || late_log || ' of ' || eni_id
            || ' was created after the window start'
        WHEN failing_log IS NOT NULL
            THEN 'flow log ' || failing_log || ' of ' || eni_id || ' is failing delivery'
        WHEN missing_log IS NOT NULL
            THEN 'no records of flow log ' || missing_log || ' (' || eni_id
            || ') were ingested for ' || CAST($day AS VARCHAR)
        ELSE eni_id || ' lacks an ALL-traffic flow log'
    END AS gap_reason
FROM judged
