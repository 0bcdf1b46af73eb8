-- name: replay_cut
-- returns: the observed tuples the proposed rules cut: every current rule allowing them is changed (rec_changed) and no replacement rule (rec_new_spec, rec_new_ranges) of any SG on the ENI allows them
-- params: $scope_rule
-- $scope_rule (or NULL for all): only the tuples that rule allows now.
WITH per_obs AS (
    SELECT m.obs_id, MIN(CASE WHEN c.rule_id IS NULL THEN 0 ELSE 1 END) AS all_changed
    FROM rec_match AS m
    LEFT JOIN rec_changed AS c ON c.rule_id = m.rule_id
    GROUP BY m.obs_id
), at_risk AS (
    SELECT o.obs_id, o.eni_id, o.direction, o.protocol, o.family, o.peer_key, o.port, o.flows, o.connections
    FROM rec_obs AS o
    JOIN per_obs AS p ON p.obs_id = o.obs_id
    WHERE p.all_changed = 1
      AND ($scope_rule IS NULL OR o.obs_id IN (SELECT obs_id FROM rec_match WHERE rule_id = $scope_rule))
), rescued AS (
    SELECT DISTINCT a.obs_id
    FROM at_risk AS a
    JOIN rec_eni_groups AS g ON g.eni_id = a.eni_id
    JOIN rec_new_spec AS s ON s.group_id = g.group_id AND s.direction = a.direction
    JOIN rec_new_ranges AS r ON r.rule_id = s.rule_id AND r.family = a.family AND a.peer_key BETWEEN r.lo AND r.hi
    WHERE (s.ip_protocol = -1 OR s.ip_protocol = a.protocol)
      AND (s.port_lo IS NULL OR (a.port IS NOT NULL AND a.port BETWEEN s.port_lo AND s.port_hi))
)
SELECT a.obs_id, a.flows, a.connections
FROM at_risk AS a
LEFT JOIN rescued AS r ON r.obs_id = a.obs_id
WHERE r.obs_id IS NULL
