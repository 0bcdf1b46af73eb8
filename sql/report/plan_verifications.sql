-- name: plan_verifications
-- returns: per plan file, its latest verification ('flowlens verify') whose last replayed day is
--   at most the window's last day: the plan's status as of the window, blocked plans first
-- params: $end_date
WITH verified_by_then AS (
    SELECT *
    FROM plan_verifications
    WHERE last_day <= $end_date
),
latest_per_plan AS (
    SELECT
        *,
        ROW_NUMBER() OVER (PARTITION BY plan_path ORDER BY verified_at DESC) AS recency
    FROM verified_by_then
)
SELECT
    plan_path, plan_id, verified_at, first_day, last_day, days_verified, clean_days,
    flows_checked, flows_cut, flows_unattributed, flows_unattributed_protected, status,
    blocking_rules, examples, record_path
FROM latest_per_plan
WHERE recency = 1
ORDER BY
    CASE status WHEN 'blocked' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END,
    plan_path
