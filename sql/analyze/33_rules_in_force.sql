-- name: 33_rules_in_force
-- returns: per epoch, every rule content (32_rule_versions) possibly in force in it, named for the
--     rule-match join as match_rule_id '<version_no>/<epoch>': the rule in that part of the day
--     (a content valid in an epoch is valid throughout it: epochs split at every validity edge)
SELECT
    CAST(rule_versions.version_no AS VARCHAR) || '/' || CAST(epochs.epoch AS VARCHAR)
    AS match_rule_id,
    epochs.epoch, epochs.epoch_from, epochs.epoch_to,
    rule_versions.rule_id, rule_versions.group_id, rule_versions.vpc_id, rule_versions.direction,
    rule_versions.ip_protocol, rule_versions.from_port, rule_versions.to_port,
    rule_versions.peer_type, rule_versions.peer, rule_versions.peer_family, rule_versions.peer_lo,
    rule_versions.peer_hi, rule_versions.latest_content
FROM epochs
INNER JOIN rule_versions
    ON rule_versions.valid_from < epochs.epoch_to AND rule_versions.valid_to > epochs.epoch_from
