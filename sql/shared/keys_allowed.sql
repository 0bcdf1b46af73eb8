-- name: keys_allowed
-- returns: one row per key of match_keys × rule of match_rules on the key's ENI that allows it:
--     the key's columns, rule_id, group_id and matched_via (how the peer matched)
-- The one rule-match join, run by the analysis (40_key_rules: the day's rule keys against the
-- snapshot's rules) and by the recommender (its observed tuples against the current rules, and
-- the tuples a change would cut against the replacement rules). Each caller names its inputs:
--   match_keys (eni_id, rule_direction, protocol, family, peer_key, port, any columns of its own);
--   match_rules (eni_id, rule_id, group_id, rule_direction, ip_protocol, port_lo, port_hi): the
--     rules of each ENI's groups, port_lo/port_hi NULL where that bound does not apply;
--   match_peers (rule_id, family, lo, hi, matched_via): the address-key ranges of each rule's peer.
-- A rule allows a key when the direction is the same, the protocol matches (-1 = all), the port
-- is within the bounds, and the peer's key falls in one of the rule's ranges of its family.
SELECT DISTINCT
    match_keys.*,
    match_rules.rule_id,
    match_rules.group_id,
    match_peers.matched_via
FROM match_keys
INNER JOIN match_rules
    ON
        match_keys.eni_id = match_rules.eni_id
        AND match_keys.rule_direction = match_rules.rule_direction
INNER JOIN match_peers
    ON
        match_rules.rule_id = match_peers.rule_id
        AND match_keys.family = match_peers.family
        AND match_keys.peer_key BETWEEN match_peers.lo AND match_peers.hi
WHERE
    (match_rules.ip_protocol = -1 OR match_rules.ip_protocol = match_keys.protocol)
    AND (match_rules.port_lo IS NULL OR match_keys.port >= match_rules.port_lo)
    AND (match_rules.port_hi IS NULL OR match_keys.port <= match_rules.port_hi)
