-- name: finding_rule
-- returns: the rule a finding names (newest analysed day first; rule_id NULL for group findings)
-- params: $finding_id
SELECT rule_id
FROM findings
WHERE finding_id = $finding_id
ORDER BY date DESC
LIMIT 1
