-- name: rule_days
-- returns: one row per rule × analysed day of the window: the day's status and accepted
--   initiating flows (the usage over time a security-group section draws), and when the rule
--   was first/last seen that day
-- params: $start_date, $end_date
SELECT
    rule_id, group_id, date, status, CAST(COALESCE(flows, 0) AS BIGINT) AS flows, first_seen,
    last_seen
FROM rule_usage
WHERE date BETWEEN $start_date AND $end_date
ORDER BY rule_id, date
