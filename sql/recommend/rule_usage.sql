-- name: rule_usage
-- returns: the rule_usage rows of the analysed days in the window, with the part of each day the
--     rule existed in its latest content and how it changed inside the day (exists_from,
--     exists_to, change, change_at)
-- params: $first_day, $last_day
SELECT
    rule_id, group_id, direction, status, status_reason, flows, connections, sole_flows,
    first_seen, last_seen, window_start, window_end, exists_from, exists_to, change, change_at
FROM rule_usage
WHERE date BETWEEN $first_day AND $last_day
ORDER BY rule_id, window_start
