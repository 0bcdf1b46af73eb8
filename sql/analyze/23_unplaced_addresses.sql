-- name: 23_unplaced_addresses
-- returns: (epoch, key, family, addr) for every flow address inside a subnet of the day's
--     inventory that no ENI of the inventory held during that epoch: it may belong to an ENI no
--     snapshot shows, in any group, so an SG-reference rule may have matched it
WITH subnet_addresses AS (
    SELECT DISTINCT addr_keys.addr, addr_keys.family, addr_keys.key
    FROM addr_keys
    INNER JOIN subnet_ranges
        ON
            addr_keys.family = subnet_ranges.family
            AND addr_keys.key BETWEEN subnet_ranges.lo AND subnet_ranges.hi
), held AS (
    SELECT DISTINCT epochs.epoch, subnet_addresses.key
    FROM subnet_addresses
    INNER JOIN eni_ips
        ON
            subnet_addresses.family = eni_ips.family
            AND subnet_addresses.key BETWEEN eni_ips.lo AND eni_ips.hi
            AND eni_ips.kind <> 'public4'
    INNER JOIN epochs
        ON eni_ips.valid_from < epochs.epoch_to AND eni_ips.valid_to > epochs.epoch_from
)
SELECT epochs.epoch, subnet_addresses.key, subnet_addresses.family, subnet_addresses.addr
FROM subnet_addresses
CROSS JOIN epochs
LEFT JOIN held ON epochs.epoch = held.epoch AND subnet_addresses.key = held.key
WHERE held.key IS NULL
