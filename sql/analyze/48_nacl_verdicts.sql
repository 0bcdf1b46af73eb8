-- name: 48_nacl_verdicts
-- returns: per rejected key on a subnet with a known NACL, the first NACL entry (lowest rule
--     number) that matches it: rule_number, rule_action allow|deny, cidr (NACLs are ordered and
--     stateless, docs/flow-logs.md#network-acls; ICMP entries match on protocol, the type/code
--     being unobservable)
WITH nacl_keys AS (
    SELECT DISTINCT
        eni_info.nacl_id,
        reject_keys.direction,
        reject_keys.protocol,
        reject_keys.family,
        reject_keys.remote_key,
        reject_keys.port
    FROM reject_keys
    INNER JOIN eni_info ON reject_keys.eni_id = eni_info.eni_id
    WHERE eni_info.nacl_id IS NOT NULL
), matching_entries AS (
    SELECT
        nacl_keys.*,
        entries.rule_number,
        entries.rule_action,
        entries.cidr,
        ROW_NUMBER() OVER (
            PARTITION BY
                nacl_keys.nacl_id, nacl_keys.direction, nacl_keys.protocol, nacl_keys.family,
                nacl_keys.remote_key, nacl_keys.port
            ORDER BY entries.rule_number
        ) AS entry_rank
    FROM nacl_keys
    INNER JOIN nacl_entries AS entries
        ON
            nacl_keys.nacl_id = entries.nacl_id
            AND nacl_keys.direction = entries.direction
            AND nacl_keys.family = entries.family
            AND nacl_keys.remote_key BETWEEN entries.lo AND entries.hi
            AND (
                entries.protocol = -1
                OR (
                    entries.protocol = nacl_keys.protocol
                    AND (
                        nacl_keys.protocol NOT IN (6, 17)
                        OR entries.from_port IS NULL
                        OR nacl_keys.port BETWEEN entries.from_port AND entries.to_port
                    )
                )
            )
)
SELECT nacl_id, direction, protocol, family, remote_key, port, rule_number, rule_action, cidr
FROM matching_entries
WHERE entry_rank = 1
