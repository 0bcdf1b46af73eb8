-- name: rule_usage
-- returns: the rule_usage rows of the analysed days in the window
-- params: $first_day, $last_day
SELECT
    rule_id, group_id, direction, status, status_reason, flows, connections, sole_flows,
    first_seen, last_seen, window_start, window_end
FROM rule_usage
WHERE date BETWEEN $first_day AND $last_day
ORDER BY rule_id, window_start
