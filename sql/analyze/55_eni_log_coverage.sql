-- name: 55_eni_log_coverage
-- returns: one row per ENI of the day's inventory: whether flow logs covered all its traffic for
--     all of the day it possibly existed (covered), SKIPDATA count, and gap_reason (why not, in
--     words)
-- params: $day, $window_start, $window_end
-- Covered = an ALL-traffic flow log (or an ACCEPT and a REJECT one together) that covered the ENI
-- from the start of the ENI's part of the day to its end, is not failing delivery and whose
-- records were ingested for the day, and no SKIPDATA record on the ENI that day. A log covers an
-- ENI from its CreationTime; without one, from the first snapshot that showed it covering the ENI,
-- unless it was there as early as the ENI itself (then, as with one snapshot, since ever). It
-- covers until a snapshot shows the ENI without it.
WITH eni_spans AS (
    SELECT
        eni_id,
        MIN(valid_from) AS first_valid_from,
        CASE WHEN MIN(valid_from) > $window_start THEN MIN(valid_from) ELSE $window_start END
        AS need_from,
        CASE WHEN MAX(valid_to) < $window_end THEN MAX(valid_to) ELSE $window_end END AS need_to
    FROM enis
    GROUP BY eni_id
), log_health AS (
    SELECT
        flow_log_id,
        MIN(
            CASE WHEN UPPER(COALESCE(deliver_logs_status, 'SUCCESS')) = 'SUCCESS' THEN 1 ELSE 0 END
        ) AS delivering
    FROM flow_logs
    GROUP BY flow_log_id
), coverage_spans AS (
    SELECT
        eni_coverage.eni_id, eni_coverage.flow_log_id, eni_coverage.traffic_type,
        COALESCE(eni_coverage.creation_time, eni_coverage.seen_from) AS covers_from,
        eni_coverage.creation_time IS NULL
        AND eni_coverage.valid_from <= eni_spans.first_valid_from AS since_ever,
        eni_coverage.valid_to AS covers_to,
        eni_spans.need_from,
        eni_spans.need_to
    FROM eni_coverage
    LEFT JOIN eni_spans ON eni_coverage.eni_id = eni_spans.eni_id
), coverage_checks AS (
    SELECT
        coverage_spans.eni_id, coverage_spans.flow_log_id, coverage_spans.traffic_type,
        coverage_spans.since_ever OR coverage_spans.covers_from <= coverage_spans.need_from
        AS from_the_start,
        coverage_spans.covers_to >= coverage_spans.need_to AS to_the_end,
        COALESCE(log_health.delivering, 1) = 1 AS delivering,
        EXISTS (
            SELECT 1 FROM eni_day_stats
            WHERE
                eni_day_stats.flow_log_id = coverage_spans.flow_log_id
                OR eni_day_stats.eni_id = coverage_spans.eni_id
        ) AS ingested
    FROM coverage_spans
    LEFT JOIN log_health ON coverage_spans.flow_log_id = log_health.flow_log_id
), usable AS (
    SELECT
        coverage_checks.*,
        from_the_start AND to_the_end AND delivering AND ingested AS ok
    FROM coverage_checks
), per_eni AS (
    SELECT
        eni_info.eni_id, eni_info.vpc_id, eni_info.subnet_id, eni_info.has_sgs,
        eni_info.interface_type,
        COUNT(usable.flow_log_id) AS n_logs,
        MAX(CASE WHEN usable.traffic_type = 'ALL' THEN 1 ELSE 0 END) AS any_all,
        MAX(CASE WHEN usable.traffic_type = 'ACCEPT' THEN 1 ELSE 0 END) AS any_accept,
        MAX(CASE WHEN usable.traffic_type = 'REJECT' THEN 1 ELSE 0 END) AS any_reject,
        MAX(CASE WHEN usable.ok AND usable.traffic_type = 'ALL' THEN 1 ELSE 0 END) AS ok_all,
        MAX(CASE WHEN usable.ok AND usable.traffic_type = 'ACCEPT' THEN 1 ELSE 0 END)
        AS ok_accept,
        MAX(CASE WHEN usable.ok AND usable.traffic_type = 'REJECT' THEN 1 ELSE 0 END)
        AS ok_reject,
        MIN(CASE WHEN NOT usable.from_the_start THEN usable.flow_log_id END) AS late_log,
        MIN(CASE WHEN NOT usable.to_the_end THEN usable.flow_log_id END) AS ended_log,
        MIN(CASE WHEN NOT usable.delivering THEN usable.flow_log_id END) AS failing_log,
        MIN(CASE WHEN NOT usable.ingested THEN usable.flow_log_id END) AS missing_log
    FROM eni_info
    LEFT JOIN usable ON eni_info.eni_id = usable.eni_id
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
        WHEN ended_log IS NOT NULL
            THEN 'a snapshot shows ' || eni_id || ' without its flow log ' || ended_log
            || ' before the end of ' || CAST($day AS VARCHAR)
        WHEN failing_log IS NOT NULL
            THEN 'flow log ' || failing_log || ' of ' || eni_id || ' is failing delivery'
        WHEN missing_log IS NOT NULL
            THEN 'no records of flow log ' || missing_log || ' (' || eni_id
            || ') were ingested for ' || CAST($day AS VARCHAR)
        ELSE eni_id || ' lacks an ALL-traffic flow log'
    END AS gap_reason
FROM judged
