-- name: 82_findings_coverage
-- returns: logging-gap findings (what makes "unused" unknowable): subnet_without_flow_log,
--     eni_without_flow_log, eni_partial_flow_log (only ACCEPT or only REJECT), skipdata,
--     eni_not_in_inventory
-- params: $day
WITH subnet_gaps AS (
    SELECT subnet_id, vpc_id, COUNT(*) AS enis, MIN(eni_id) AS sample_eni
    FROM eni_log_coverage
    GROUP BY subnet_id, vpc_id
    HAVING MAX(n_logs) = 0
), unknown_enis AS (
    SELECT eni_id, SUM(records) AS records
    FROM eni_day_stats
    WHERE NOT EXISTS (SELECT 1 FROM eni_info WHERE eni_info.eni_id = eni_day_stats.eni_id)
    GROUP BY eni_id
)
SELECT
    'subnet_without_flow_log' AS kind,
    'medium' AS severity,
    subnet_id AS resource_id,
    CAST(NULL AS VARCHAR) AS group_id,
    CAST(NULL AS VARCHAR) AS rule_id,
    'Subnet without flow logs' AS title,
    'none of the ' || CAST(enis AS VARCHAR) || ' ENIs of ' || subnet_id || ' ('
    || COALESCE(vpc_id, '?')
    || ') is covered by a flow log: rules on them can never be shown unused' AS detail,
    CAST(JSON_OBJECT('vpc_id', vpc_id, 'enis', enis, 'sample_eni', sample_eni) AS VARCHAR)
    AS evidence
FROM subnet_gaps
UNION ALL
SELECT
    CASE WHEN n_logs = 0 THEN 'eni_without_flow_log' ELSE 'eni_partial_flow_log' END,
    CASE WHEN has_sgs THEN 'medium' ELSE 'low' END,
    eni_id,
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    CASE
        WHEN n_logs = 0 THEN 'Network interface without flow log'
        ELSE 'Network interface without an ALL-traffic flow log'
    END,
    gap_reason,
    CAST(JSON_OBJECT(
        'subnet_id', subnet_id, 'interface_type', interface_type, 'flow_logs', n_logs,
        'accept_only', (any_accept = 1 AND any_reject = 0),
        'reject_only', (any_reject = 1 AND any_accept = 0)
    ) AS VARCHAR)
FROM eni_log_coverage
WHERE any_all = 0 AND NOT (any_accept = 1 AND any_reject = 1)
UNION ALL
SELECT
    'skipdata',
    'low',
    eni_id,
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    'Flow-log records skipped',
    eni_id || ' had ' || CAST(skipdata AS VARCHAR) || ' SKIPDATA records on '
    || CAST($day AS VARCHAR)
    || ': some flows were not logged, so its rules cannot be called unused',
    CAST(JSON_OBJECT('skipdata', skipdata) AS VARCHAR)
FROM eni_log_coverage
WHERE skipdata > 0
UNION ALL
SELECT
    'eni_not_in_inventory',
    'low',
    eni_id,
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    'Flow-log records of an unknown network interface',
    CAST(records AS VARCHAR) || ' records of ' || eni_id || ' on ' || CAST($day AS VARCHAR)
    || ' but the ENI is not in the inventory snapshot; its traffic is not attributed to rules',
    CAST(JSON_OBJECT('records', records) AS VARCHAR)
FROM unknown_enis
