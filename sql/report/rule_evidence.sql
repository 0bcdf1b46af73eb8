-- name: rule_evidence
-- returns: per rule, its top peers × ports by accepted initiating flows over the window (from
--   rule_matches): peer address, protocol, service port, ENIs, flows, connections, bytes,
--   first/last seen, days seen, rank
-- params: $start_date, $end_date, $limit
WITH window_matches AS (
    SELECT rule_id, group_id, peer_addr, protocol, service_port, eni_id, flows, connections, bytes,
           first_seen, last_seen, date
    FROM rule_matches
    WHERE date BETWEEN $start_date AND $end_date
),
per_peer_port AS (
    SELECT
        rule_id,
        MIN(group_id) AS group_id,
        peer_addr,
        protocol,
        service_port,
        COUNT(DISTINCT eni_id) AS enis,
        CAST(SUM(flows) AS BIGINT) AS flows,
        CAST(SUM(connections) AS BIGINT) AS connections,
        CAST(SUM(bytes) AS BIGINT) AS bytes,
        MIN(first_seen) AS first_seen,
        MAX(last_seen) AS last_seen,
        COUNT(DISTINCT date) AS days
    FROM window_matches
    GROUP BY rule_id, peer_addr, protocol, service_port
),
ranked AS (
    SELECT
        *,
        ROW_NUMBER() OVER (
            PARTITION BY rule_id ORDER BY flows DESC, peer_addr, service_port
        ) AS rank
    FROM per_peer_port
)
SELECT rule_id, group_id, rank, peer_addr, protocol, service_port, enis, flows, connections, bytes,
       first_seen, last_seen, days
FROM ranked
WHERE rank <= $limit
ORDER BY rule_id, rank
