-- name: 80_findings_rules
-- returns: posture findings from single rules: admin_port_open_to_world (remote-admin and
--     database ports open to 0.0.0.0/0 or ::/0), unrestricted_egress (all traffic to anywhere, on
--     SGs in use), stale_reference (a rule referencing a deleted group or a dead peering)
WITH open_world AS (
    SELECT
        usage.rule_id, usage.group_id, usage.peer, usage.ip_protocol, usage.from_port,
        usage.to_port, usage.flows, usage.members, usage.status,
        STRING_AGG(
            admin_ports.service || ' ' || CAST(admin_ports.port AS VARCHAR), ', '
            ORDER BY admin_ports.port
        ) AS services
    FROM rule_usage AS usage
    INNER JOIN admin_ports
        ON
            usage.ip_protocol = -1
            OR (
                usage.ip_protocol = 6
                AND admin_ports.port
                BETWEEN COALESCE(usage.from_port, 0) AND COALESCE(usage.to_port, 65535)
            )
    WHERE usage.direction = 'ingress' AND usage.peer IN ('0.0.0.0/0', '::/0')
    GROUP BY
        usage.rule_id, usage.group_id, usage.peer, usage.ip_protocol, usage.from_port,
        usage.to_port, usage.flows, usage.members, usage.status
), stale_references AS (
    -- each rule in its latest content of the day (32_rule_versions), as rule_usage reports it
    SELECT rule_versions.*
    FROM rule_versions
    WHERE
        rule_versions.latest_content = 1
        AND rule_versions.peer_type = 'sg'
        AND (
            (
                rule_versions.peering_status IS NOT NULL
                AND LOWER(rule_versions.peering_status) <> 'active'
            )
            OR (
                rule_versions.peering_connection_id IS NULL
                AND NOT EXISTS (
                    SELECT 1 FROM security_groups
                    WHERE security_groups.group_id = rule_versions.peer
                )
            )
        )
)
SELECT
    'admin_port_open_to_world' AS kind,
    'high' AS severity,
    group_id AS resource_id,
    group_id,
    rule_id,
    'Admin or database ports open to the internet' AS title,
    'rule ' || rule_id || ' of ' || group_id || ' allows ' || services || ' from ' || peer
    || ' (' || CAST(members AS VARCHAR) || ' attached ENIs, ' || CAST(flows AS VARCHAR)
    || ' initiating flows today)' AS detail,
    CAST(JSON_OBJECT(
        'peer', peer, 'ip_protocol', ip_protocol, 'from_port', from_port, 'to_port', to_port,
        'services', services, 'members', members, 'flows', flows, 'status', status
    ) AS VARCHAR) AS evidence
FROM open_world
UNION ALL
SELECT
    'unrestricted_egress',
    'low',
    group_id,
    group_id,
    rule_id,
    'Unrestricted egress',
    'rule ' || rule_id || ' of ' || group_id || ' allows all traffic to ' || peer
    || ' (' || CAST(flows AS VARCHAR) || ' initiating flows to ' || CAST(peers AS VARCHAR)
    || ' peers on ' || CAST(ports AS VARCHAR) || ' ports today)',
    CAST(JSON_OBJECT(
        'peer', peer, 'members', members, 'flows', flows, 'peers', peers, 'ports', ports,
        'status', status
    ) AS VARCHAR)
FROM rule_usage
WHERE direction = 'egress' AND ip_protocol = -1 AND peer IN ('0.0.0.0/0', '::/0') AND members > 0
UNION ALL
SELECT
    'stale_reference',
    'medium',
    group_id,
    group_id,
    rule_id,
    'Rule references a deleted or stale security group',
    'rule ' || rule_id || ' of ' || group_id || ' references ' || peer
    || CASE
        WHEN peering_status IS NOT NULL AND LOWER(peering_status) <> 'active'
            THEN ' across peering ' || COALESCE(peering_connection_id, '?')
            || ' whose status is ' || peering_status
        ELSE ', which is not in the inventory (deleted)'
    END,
    CAST(JSON_OBJECT(
        'peer', peer, 'peer_vpc_id', peer_vpc_id, 'peering_connection_id', peering_connection_id,
        'peering_status', peering_status
    ) AS VARCHAR)
FROM stale_references
