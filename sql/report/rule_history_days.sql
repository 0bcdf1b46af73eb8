-- name: rule_history_days
-- returns: one row per rule x analysed day of its history lookback (rule_history as of the
--     window's last analysed day): the day's initiating flows, the heights of its sparkline
-- params: $start_date, $end_date
WITH latest AS (
    SELECT
        rule_id,
        MAX(date) AS as_of
    FROM rule_history
    WHERE date BETWEEN $start_date AND $end_date
    GROUP BY rule_id
),

lookback AS (
    SELECT
        history.rule_id,
        latest.as_of,
        latest.as_of - CAST(LENGTH(history.pattern) - 1 AS INTEGER) AS first_day
    FROM rule_history AS history
    INNER JOIN latest ON history.rule_id = latest.rule_id AND history.date = latest.as_of
)

SELECT
    usage.rule_id,
    usage.date,
    CAST(COALESCE(SUM(usage.flows), 0) AS BIGINT) AS flows
FROM rule_usage AS usage
INNER JOIN lookback
    ON usage.rule_id = lookback.rule_id AND usage.date BETWEEN lookback.first_day AND lookback.as_of
GROUP BY usage.rule_id, usage.date
ORDER BY usage.rule_id, usage.date
