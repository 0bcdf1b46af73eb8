-- name: 15_flow_addresses
-- returns: the distinct addresses of the day's conversations; the pipeline turns them into
--     addr_keys (addr, family, key, and the integer ids addr_id and key_id) in Python
SELECT lo_addr AS addr FROM eni_flows
UNION
SELECT hi_addr AS addr FROM eni_flows
UNION
SELECT lo_raw AS addr FROM eni_flows
UNION
SELECT hi_raw AS addr FROM eni_flows
