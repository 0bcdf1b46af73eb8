-- name: rule_history
-- returns: one row per rule: its rule_history as of the last day of the window it was analysed
--     on (history_class: its class; days used, first/last used, gaps, the pattern over the
--     history lookback); as_of is that day
-- params: $start_date, $end_date
WITH latest AS (
    SELECT
        rule_id,
        MAX(date) AS as_of
    FROM rule_history
    WHERE date BETWEEN $start_date AND $end_date
    GROUP BY rule_id
)
SELECT
    history.rule_id,
    history.group_id,
    latest.as_of,
    history.class AS history_class,
    history.analysed_days,
    history.days_used,
    history.first_used,
    history.last_used,
    history.mean_flows,
    history.longest_gap,
    history.silent_days,
    history.period,
    history.pattern
FROM rule_history AS history
INNER JOIN latest ON history.rule_id = latest.rule_id AND history.date = latest.as_of
ORDER BY history.rule_id
