-- name: rules_by_eni
-- returns: every rule of rec_spec on each ENI of its group (rec_eni_groups): the match_rules of
--     the rule-match join (sql/shared/keys_allowed.sql)
-- The replay runs it on the replacement rules too, with rec_spec standing for rec_new_spec.
SELECT
    rec_eni_groups.eni_id,
    rec_spec.*
FROM rec_eni_groups
INNER JOIN rec_spec ON rec_eni_groups.group_id = rec_spec.group_id
