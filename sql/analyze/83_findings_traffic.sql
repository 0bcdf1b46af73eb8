-- name: 83_findings_traffic
-- returns: findings from traffic: accepted_without_rule (accepted initiating traffic that no
--     current rule allows: a removed rule or tracked state), scanner (a source rejected on 10 or
--     more ports or ENIs)
WITH rejected_sources AS (
    SELECT COALESCE(pkt_srcaddr, srcaddr) AS src, dstport, interface_id FROM rejected
)
SELECT
    'accepted_without_rule' AS kind,
    'medium' AS severity,
    eni_id AS resource_id,
    CAST(NULL AS VARCHAR) AS group_id,
    CAST(NULL AS VARCHAR) AS rule_id,
    'Accepted traffic that no current rule allows' AS title,
    CAST(COUNT(*) AS VARCHAR) || ' accepted ' || MIN(rule_direction) || ' conversations on '
    || eni_id || ' match no current rule (e.g. ' || MIN(peer_addr) || ' port '
    || CAST(MIN(service_port) AS VARCHAR)
    || '): allowed by a rule removed since, or by tracked state' AS detail,
    CAST(JSON_OBJECT(
        'conversations', COUNT(*), 'flows', SUM(flows), 'peers', COUNT(DISTINCT peer_addr),
        'ports', COUNT(DISTINCT service_port)
    ) AS VARCHAR) AS evidence
FROM conversations
WHERE status = 'no_rule'
GROUP BY eni_id
UNION ALL
SELECT
    'scanner',
    'info',
    src,
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    'Scanning source',
    src || ' was rejected ' || CAST(COUNT(*) AS VARCHAR) || ' times on '
    || CAST(COUNT(DISTINCT dstport) AS VARCHAR) || ' ports of '
    || CAST(COUNT(DISTINCT interface_id) AS VARCHAR) || ' ENIs',
    CAST(JSON_OBJECT(
        'records', COUNT(*), 'ports', COUNT(DISTINCT dstport),
        'enis', COUNT(DISTINCT interface_id)
    ) AS VARCHAR)
FROM rejected_sources
GROUP BY src
HAVING COUNT(DISTINCT dstport) >= 10 OR COUNT(DISTINCT interface_id) >= 10
