-- name: dismissals
-- returns: every reviewer's dismissal of the data dir ('flowlens dismiss'), by group and rule
-- params:
SELECT
    content_key, rule_id, group_id, direction, ip_protocol, from_port, to_port, peer_type, peer,
    finding_id, reason, dismissed_by, dismissed_at, "until"
FROM dismissals
ORDER BY group_id, direction, rule_id
