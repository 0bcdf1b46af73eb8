-- name: accounts
-- returns: one row per AWS account of the inventory snapshot, worst first (most high or critical
--     findings, then most unused rules, then most rules without coverage): its security groups,
--     its rules by their latest status of the window, and its findings
-- params: $start_date, $end_date
-- A rule belongs to its security group's account (security_groups.account_id, else the
-- group's owner); a finding to the account the catalog gives it (its group's, else that of the
-- ENI, subnet or group it is about), as each account's own report counts it.
WITH group_accounts AS (
    SELECT group_id, MIN(COALESCE(account_id, owner_id, 'unknown')) AS account_id
    FROM security_groups
    GROUP BY group_id
), latest_usage AS (
    SELECT
        rule_id, group_id, status,
        ROW_NUMBER() OVER (PARTITION BY rule_id, group_id ORDER BY date DESC) AS newness
    FROM rule_usage
    WHERE date BETWEEN $start_date AND $end_date
), rule_counts AS (
    SELECT
        group_accounts.account_id,
        COUNT(*) AS rules,
        COUNT(*) FILTER (WHERE latest_usage.status = 'used') AS used,
        COUNT(*) FILTER (WHERE latest_usage.status = 'unused') AS unused,
        COUNT(*) FILTER (WHERE latest_usage.status = 'no_coverage') AS no_coverage,
        COUNT(*) FILTER (WHERE latest_usage.status = 'unobservable') AS unobservable,
        COUNT(*) FILTER (WHERE latest_usage.status = 'no_members') AS no_members
    FROM latest_usage
    INNER JOIN group_accounts ON latest_usage.group_id = group_accounts.group_id
    WHERE latest_usage.newness = 1
    GROUP BY group_accounts.account_id
), finding_accounts AS (
    SELECT DISTINCT
        findings.finding_id,
        LOWER(findings.severity) AS severity,
        COALESCE(findings.account_id, 'unknown') AS account_id
    FROM findings
    WHERE findings.date BETWEEN $start_date AND $end_date
), finding_counts AS (
    SELECT
        account_id,
        COUNT(DISTINCT finding_id) AS findings,
        COUNT(DISTINCT CASE WHEN severity IN ('critical', 'high') THEN finding_id END) AS severe
    FROM finding_accounts
    GROUP BY account_id
), group_counts AS (
    SELECT account_id, COUNT(*) AS security_groups
    FROM group_accounts
    GROUP BY account_id
)
SELECT
    group_counts.account_id,
    group_counts.security_groups,
    COALESCE(rule_counts.rules, 0) AS rules,
    COALESCE(rule_counts.used, 0) AS used,
    COALESCE(rule_counts.unused, 0) AS unused,
    COALESCE(rule_counts.no_coverage, 0) AS no_coverage,
    COALESCE(rule_counts.unobservable, 0) AS unobservable,
    COALESCE(rule_counts.no_members, 0) AS no_members,
    COALESCE(finding_counts.findings, 0) AS findings,
    COALESCE(finding_counts.severe, 0) AS severe_findings
FROM group_counts
LEFT JOIN rule_counts ON group_counts.account_id = rule_counts.account_id
LEFT JOIN finding_counts ON group_counts.account_id = finding_counts.account_id
ORDER BY severe_findings DESC, unused DESC, no_coverage DESC, group_counts.account_id
