-- name: 22_addr_groups
-- returns: (epoch, key, family, group_id) for every flow address that is a private address of
--     an ENI in that SG during that epoch: what an SG-reference rule matches then (public and
--     Elastic IPs never match; docs/flow-logs.md#security-group-references-and-prefix-lists).
--     An address that passed to an ENI of another group matches the old group only while the old
--     ENI possibly held it.
SELECT DISTINCT epochs.epoch, addr_keys.key, addr_keys.family, eni_groups.group_id
FROM addr_keys
INNER JOIN eni_ips
    ON
        addr_keys.family = eni_ips.family
        AND addr_keys.key BETWEEN eni_ips.lo AND eni_ips.hi
        AND eni_ips.kind <> 'public4'
INNER JOIN eni_groups ON eni_ips.eni_id = eni_groups.eni_id
INNER JOIN epochs
    ON
        eni_ips.valid_from < epochs.epoch_to AND eni_ips.valid_to > epochs.epoch_from
        AND eni_groups.valid_from < epochs.epoch_to AND eni_groups.valid_to > epochs.epoch_from
