-- name: match_current
-- returns: one row per observed tuple (rec_obs) x current rule of its ENI's SGs that allows it (rec_spec, rec_ranges: the rules as the Python replay sees them)
-- Same semantics as rules.Rule.allows: same direction; protocol -1 matches all; port bounds
-- (rec_spec.port_lo/hi, set only for TCP/UDP rules with ports) need a port inside them; the
-- peer's family and key fall in one of the rule's ranges (a CIDR, a prefix list's entries,
-- the member addresses and delegated prefixes of a referenced SG).
SELECT DISTINCT o.obs_id, s.rule_id
FROM rec_obs AS o
JOIN rec_eni_groups AS g ON g.eni_id = o.eni_id
JOIN rec_spec AS s ON s.group_id = g.group_id AND s.direction = o.direction
JOIN rec_ranges AS r ON r.rule_id = s.rule_id AND r.family = o.family AND o.peer_key BETWEEN r.lo AND r.hi
WHERE (s.ip_protocol = -1 OR s.ip_protocol = o.protocol)
  AND (s.port_lo IS NULL OR (o.port IS NOT NULL AND o.port BETWEEN s.port_lo AND s.port_hi))
