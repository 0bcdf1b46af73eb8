-- name: rule_stats
-- returns: per current rule, over the observed tuples it allows (rec_match): flows, connections, distinct peers and (protocol, port) pairs, first and last seen
SELECT m.rule_id, SUM(o.flows) AS flows, SUM(o.connections) AS connections,
       COUNT(DISTINCT o.peer_addr) AS peers,
       COUNT(
           DISTINCT CONCAT(CAST(o.protocol AS VARCHAR), '/', COALESCE(CAST(o.port AS VARCHAR), '-'))
       ) AS ports,
       MIN(o.first_seen) AS first_seen, MAX(o.last_seen) AS last_seen
FROM rec_match AS m
JOIN rec_obs AS o ON o.obs_id = m.obs_id
GROUP BY m.rule_id
