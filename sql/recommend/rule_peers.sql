-- name: rule_peers
-- returns: per current rule x protocol x port x peer it allows, aggregated over the ENIs: flows,
--     connections, first/last seen; all peers of a (rule, protocol, port) with at most $max_peers
--     distinct peers, else a sample (truncated = TRUE) of at most $per_block peers per /8 (IPv4)
--     or /16 (IPv6) block plus the rule's 10 lowest peers
-- params: $max_peers, $per_block
WITH per_peer AS (
    SELECT
        rec_match.rule_id,
        rec_obs.protocol,
        rec_obs.port,
        rec_obs.peer_addr,
        rec_obs.family,
        rec_obs.peer_key,
        SUM(rec_obs.flows) AS flows,
        SUM(rec_obs.connections) AS connections,
        MIN(rec_obs.first_seen) AS first_seen,
        MAX(rec_obs.last_seen) AS last_seen
    FROM rec_match
    INNER JOIN rec_obs ON rec_match.obs_id = rec_obs.obs_id
    GROUP BY
        rec_match.rule_id, rec_obs.protocol, rec_obs.port, rec_obs.peer_addr, rec_obs.family,
        rec_obs.peer_key
), ranked AS (
    SELECT
        per_peer.*,
        COUNT(*) OVER (PARTITION BY rule_id, protocol, port) AS group_peers,
        ROW_NUMBER() OVER (
            PARTITION BY
                rule_id, protocol, port, family,
                CASE
                    WHEN family = 4 THEN SUBSTRING(peer_key, 25, 2)
                    ELSE SUBSTRING(peer_key, 1, 4)
                END
            ORDER BY peer_key
        ) AS in_block,
        DENSE_RANK() OVER (PARTITION BY rule_id ORDER BY peer_addr) AS lowest
    FROM per_peer
)
SELECT
    rule_id, protocol, port, peer_addr, flows, connections, first_seen, last_seen,
    group_peers > $max_peers AS truncated
FROM ranked
WHERE group_peers <= $max_peers OR in_block <= $per_block OR lowest <= 10
ORDER BY rule_id, protocol, port, peer_addr
