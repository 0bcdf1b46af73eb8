-- name: replay_blame
-- returns: per changed rule that allowed a cut tuple (rec_cut): the flows and connections it would cut and the first such tuple in replay order
SELECT
    m.rule_id,
    SUM(c.flows) AS flows,
    SUM(c.connections) AS connections,
    MIN(c.obs_id) AS example_obs_id
FROM rec_cut AS c
JOIN rec_match AS m ON m.obs_id = c.obs_id
GROUP BY m.rule_id
