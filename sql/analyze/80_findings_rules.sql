-- name: 80_findings_rules
-- returns: posture findings from single rules: admin_port_open_to_world (remote-admin and database ports open to 0.0.0.0/0 or ::/0), unrestricted_egress (all traffic to anywhere, on SGs in use), stale_reference (a rule referencing a deleted group or a dead peering)
WITH open_world AS (
    SELECT u.rule_id, u.group_id, u.peer, u.ip_protocol, u.from_port, u.to_port, u.flows, u.members, u.status,
           STRING_AGG(a.service || ' ' || CAST(a.port AS VARCHAR), ', ' ORDER BY a.port) AS services
    FROM rule_usage u
    JOIN admin_ports a
        ON u.ip_protocol = -1
        OR (u.ip_protocol = 6 AND a.port BETWEEN COALESCE(u.from_port, 0) AND COALESCE(u.to_port, 65535))
    WHERE u.direction = 'ingress' AND u.peer IN ('0.0.0.0/0', '::/0')
    GROUP BY u.rule_id, u.group_id, u.peer, u.ip_protocol, u.from_port, u.to_port, u.flows, u.members, u.status
)
SELECT
    'admin_port_open_to_world' AS kind, 'high' AS severity, group_id AS resource_id, group_id, rule_id,
    'Admin or database ports open to the internet' AS title,
    'rule ' || rule_id || ' of ' || group_id || ' allows ' || services || ' from ' || peer
        || ' (' || CAST(members AS VARCHAR) || ' attached ENIs, ' || CAST(flows AS VARCHAR) || ' initiating flows today)' AS detail,
    CAST(json_object('peer', peer, 'ip_protocol', ip_protocol, 'from_port', from_port, 'to_port', to_port,
                     'services', services, 'members', members, 'flows', flows, 'status', status) AS VARCHAR) AS evidence
FROM open_world
UNION ALL
SELECT
    'unrestricted_egress', 'low', group_id, group_id, rule_id,
    'Unrestricted egress',
    'rule ' || rule_id || ' of ' || group_id || ' allows all traffic to ' || peer
        || ' (' || CAST(flows AS VARCHAR) || ' initiating flows to ' || CAST(peers AS VARCHAR) || ' peers on '
        || CAST(ports AS VARCHAR) || ' ports today)',
    CAST(json_object('peer', peer, 'members', members, 'flows', flows, 'peers', peers, 'ports', ports, 'status', status) AS VARCHAR)
FROM rule_usage
WHERE direction = 'egress' AND ip_protocol = -1 AND peer IN ('0.0.0.0/0', '::/0') AND members > 0
UNION ALL
SELECT
    'stale_reference', 'medium', r.group_id, r.group_id, r.rule_id,
    'Rule references a deleted or stale security group',
    'rule ' || r.rule_id || ' of ' || r.group_id || ' references ' || r.peer
        || CASE WHEN r.peering_status IS NOT NULL AND LOWER(r.peering_status) <> 'active'
                THEN ' across peering ' || COALESCE(r.peering_connection_id, '?') || ' whose status is ' || r.peering_status
                ELSE ', which is not in the inventory (deleted)' END,
    CAST(json_object('peer', r.peer, 'peer_vpc_id', r.peer_vpc_id, 'peering_connection_id', r.peering_connection_id,
                     'peering_status', r.peering_status) AS VARCHAR)
FROM sg_rules r
WHERE r.peer_type = 'sg'
  AND ((r.peering_status IS NOT NULL AND LOWER(r.peering_status) <> 'active')
       OR (r.peering_connection_id IS NULL AND NOT EXISTS (SELECT 1 FROM security_groups g WHERE g.group_id = r.peer)))
