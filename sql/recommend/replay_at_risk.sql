-- name: replay_at_risk
-- returns: the observed tuples (rec_obs) every current rule allowing which is changed
--     (rec_changed): those the replacement rules must still allow
-- params: $scope_rule
-- $scope_rule (or NULL for all): only the tuples that rule allows now.
WITH per_observed AS (
    SELECT
        rec_match.obs_id,
        MIN(CASE WHEN rec_changed.rule_id IS NULL THEN 0 ELSE 1 END) AS all_changed
    FROM rec_match
    LEFT JOIN rec_changed ON rec_match.rule_id = rec_changed.rule_id
    GROUP BY rec_match.obs_id
), in_scope AS (
    SELECT obs_id FROM rec_match WHERE rule_id = $scope_rule
)
SELECT
    rec_obs.obs_id,
    rec_obs.eni_id,
    rec_obs.rule_direction,
    rec_obs.protocol,
    rec_obs.family,
    rec_obs.peer_key,
    rec_obs.port,
    rec_obs.flows,
    rec_obs.connections
FROM rec_obs
INNER JOIN per_observed ON rec_obs.obs_id = per_observed.obs_id
WHERE
    per_observed.all_changed = 1
    AND ($scope_rule IS NULL OR rec_obs.obs_id IN (SELECT in_scope.obs_id FROM in_scope))
