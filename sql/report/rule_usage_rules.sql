-- name: rule_usage_rules
-- returns: one row per SG rule over the window: status ('used' if used on any day, else the latest day's), summed counters, rule text
-- params: $start_date, $end_date
WITH u AS (
    SELECT
        rule_id,
        MIN(group_id) AS group_id,
        MIN(direction) AS direction,
        CASE WHEN BOOL_OR(status = 'used') THEN 'used' ELSE MAX_BY(status, date) END AS status,
        CAST(COALESCE(SUM(flows), 0) AS BIGINT) AS flows,
        CAST(COALESCE(SUM(connections), 0) AS BIGINT) AS connections,
        CAST(COALESCE(SUM(sole_flows), 0) AS BIGINT) AS sole_flows,
        COALESCE(MAX(peers), 0) AS peers,
        COALESCE(MAX(ports), 0) AS ports,
        MAX_BY(status_reason, date) AS status_reason
    FROM rule_usage
    WHERE date BETWEEN $start_date AND $end_date
    GROUP BY rule_id
),
r AS (
    SELECT
        rule_id,
        MIN(ip_protocol) AS ip_protocol,
        MIN(from_port) AS from_port,
        MIN(to_port) AS to_port,
        MIN(peer) AS peer,
        COUNT(*) AS peer_rows,
        MIN(description) AS description
    FROM sg_rules
    GROUP BY rule_id
)
SELECT
    u.rule_id,
    u.group_id,
    sg.group_name,
    u.direction,
    u.status,
    u.flows,
    u.connections,
    u.sole_flows,
    u.peers,
    u.ports,
    u.status_reason,
    r.ip_protocol,
    r.from_port,
    r.to_port,
    r.peer,
    r.peer_rows,
    r.description
FROM u
LEFT JOIN r ON r.rule_id = u.rule_id
LEFT JOIN security_groups AS sg ON sg.group_id = u.group_id
ORDER BY u.group_id, u.direction, u.flows DESC, u.rule_id
