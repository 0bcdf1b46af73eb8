-- name: 82_findings_coverage
-- returns: logging-gap findings (what makes "unused" unknowable): subnet_without_flow_log,
--     eni_without_flow_log, eni_partial_flow_log (only ACCEPT or only REJECT), skipdata,
--     eni_not_in_inventory (high when it changed a rule's verdict: its evidence names those rules)
-- params: $day
WITH subnet_gaps AS (
    SELECT subnet_id, vpc_id, COUNT(*) AS enis, MIN(eni_id) AS sample_eni
    FROM eni_log_coverage
    GROUP BY subnet_id, vpc_id
    HAVING MAX(n_logs) = 0
), changed_verdicts AS (
    -- the rules an unattributed ENI's flows made no_coverage that would have been unused or
    -- no_members without them: nothing else (a coverage gap, a change inside the day) made them
    -- no_coverage and no earlier day used them
    SELECT DISTINCT unattributed_rules.unknown_eni, rule_usage.rule_id
    FROM unattributed_rules
    INNER JOIN rule_usage
        ON
            unattributed_rules.rule_id = rule_usage.rule_id
            AND unattributed_rules.group_id = rule_usage.group_id
    WHERE
        rule_usage.status = 'no_coverage' AND rule_usage.flows = 0
        AND rule_usage.last_used_date IS NULL AND rule_usage.change IS NULL
        AND (rule_usage.members = 0 OR rule_usage.covered_members = rule_usage.members)
), affected AS (
    SELECT
        unknown_eni,
        COUNT(*) AS rules,
        STRING_AGG(rule_id, ', ' ORDER BY rule_id) AS rule_ids
    FROM changed_verdicts
    GROUP BY unknown_eni
), unknown_enis AS (
    SELECT
        unattributed_enis.eni_id, unattributed_enis.records, unattributed_enis.vpc_id,
        affected.rules, affected.rule_ids
    FROM unattributed_enis
    LEFT JOIN affected ON unattributed_enis.eni_id = affected.unknown_eni
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
    CASE WHEN rule_ids IS NULL THEN 'low' ELSE 'high' END,
    eni_id,
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    'Flow-log records of an unknown network interface',
    CAST(records AS VARCHAR) || ' records of ' || eni_id || ' on ' || CAST($day AS VARCHAR)
    || ' but the ENI is not in the inventory snapshot; its traffic is not attributed to rules'
    || COALESCE(
        '; ' || CAST(rules AS VARCHAR) || ' rules its flows may have used are no_coverage'
        || ' instead of unused or no_members: ' || rule_ids, ''
    ),
    CAST(JSON_OBJECT('records', records, 'vpc_id', vpc_id, 'affected_rules', rule_ids) AS VARCHAR)
FROM unknown_enis
