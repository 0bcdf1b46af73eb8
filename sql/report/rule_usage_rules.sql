-- name: rule_usage_rules
-- returns: one row per SG rule over the window: status ('used' if used on any day, else the
--     latest day's), summed counters, rule text
-- params: $start_date, $end_date
WITH usage AS (
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
), rule_text AS (
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
    usage.rule_id,
    usage.group_id,
    security_groups.group_name,
    usage.direction,
    usage.status,
    usage.flows,
    usage.connections,
    usage.sole_flows,
    usage.peers,
    usage.ports,
    usage.status_reason,
    rule_text.ip_protocol,
    rule_text.from_port,
    rule_text.to_port,
    rule_text.peer,
    rule_text.peer_rows,
    rule_text.description
FROM usage
LEFT JOIN rule_text ON usage.rule_id = rule_text.rule_id
LEFT JOIN security_groups ON usage.group_id = security_groups.group_id
ORDER BY usage.group_id, usage.direction, usage.flows DESC, usage.rule_id
