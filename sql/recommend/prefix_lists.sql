-- name: prefix_lists
-- returns: one row per prefix-list entry of the list's current version, with the list's name,
--     family, size and owner kind
SELECT
    entries.prefix_list_id,
    entries.cidr,
    lists.prefix_list_name,
    lists.address_family,
    lists.max_entries,
    lists.aws_managed
FROM prefix_list_entries AS entries
LEFT JOIN prefix_lists AS lists ON entries.prefix_list_id = lists.prefix_list_id
WHERE lists.version IS NULL OR entries.version IS NULL OR entries.version = lists.version
ORDER BY entries.prefix_list_id, entries.cidr
