-- name: match_current
-- returns: one row per observed tuple (rec_obs) x current rule of its ENI's SGs that allows it
--     (rec_allowed: the rule-match join of sql/shared/keys_allowed.sql over rec_obs, the current
--     rules by ENI and their peer ranges rec_ranges, the rules as the Python replay sees them)
-- Same semantics as rules.Rule.allows: same direction; protocol -1 matches all; port bounds
-- (rec_spec.port_lo/hi, set only for TCP/UDP rules with ports) need a port inside them; the
-- peer's family and key fall in one of the rule's ranges (a CIDR, a prefix list's entries,
-- the member addresses and delegated prefixes of a referenced SG).
SELECT DISTINCT
    obs_id,
    rule_id
FROM rec_allowed
