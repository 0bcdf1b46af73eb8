-- name: 45_rule_matches
-- returns: the full match set (results table rule_matches): per (ENI, rule direction, protocol,
--     peer, service port, part of the day) × allowing rule, the day's accepted initiating flows,
--     connections, packets, bytes, first/last seen, and how many rules allow that key then
-- A rule counts here when the content it had at a flow's time allowed it. A day without inventory
-- changes has one part; otherwise a key seen in different parts of the day (conversations
-- spanning different epochs) has a row for each, so a column summed over a rule's rows is exact.
SELECT
    eni_id, rule_direction, protocol, CAST(family AS TINYINT) AS family, peer_addr, service_port,
    rule_id, group_id, matched_via, rules_matched, flows, connections, packets, bytes,
    TO_TIMESTAMP(first_start) AS first_seen, TO_TIMESTAMP(last_end) AS last_seen
FROM span_rule_matches
