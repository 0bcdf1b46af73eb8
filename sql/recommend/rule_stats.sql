-- name: rule_stats
-- returns: per current rule, over the observed tuples it allows (rec_match): flows, connections,
--     distinct peers and (protocol, port) pairs, first and last seen
SELECT
    rec_match.rule_id,
    SUM(rec_obs.flows) AS flows,
    SUM(rec_obs.connections) AS connections,
    COUNT(DISTINCT rec_obs.peer_addr) AS peers,
    COUNT(
        DISTINCT CONCAT(
            CAST(rec_obs.protocol AS VARCHAR), '/', COALESCE(CAST(rec_obs.port AS VARCHAR), '-')
        )
    ) AS ports,
    MIN(rec_obs.first_seen) AS first_seen,
    MAX(rec_obs.last_seen) AS last_seen
FROM rec_match
INNER JOIN rec_obs ON rec_match.obs_id = rec_obs.obs_id
GROUP BY rec_match.rule_id
