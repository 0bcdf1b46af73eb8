-- name: subnets
-- returns: one row per subnet of the snapshot: id, VPC, AZ, CIDR, tags
-- params:
SELECT subnet_id, vpc_id, availability_zone, cidr_block, tags
FROM subnets
ORDER BY subnet_id
