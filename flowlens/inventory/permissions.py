"""The IAM actions ``flowlens inventory --aws`` needs, declared next to the code that uses them.

A test records every API operation :mod:`flowlens.inventory.from_aws` (and, for
``--config-history``, :mod:`flowlens.inventory.config_aws`) performs (botocore
``before-call`` events) and checks each one is declared here; the README policy is generated
from this mapping, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import json

#: botocore operation name → IAM action.
API_PERMISSIONS: dict[str, str] = {
    "DescribeVpcs": "ec2:DescribeVpcs",
    "DescribeSubnets": "ec2:DescribeSubnets",
    "DescribeSecurityGroups": "ec2:DescribeSecurityGroups",
    "DescribeSecurityGroupRules": "ec2:DescribeSecurityGroupRules",
    "DescribeStaleSecurityGroups": "ec2:DescribeStaleSecurityGroups",
    "DescribeNetworkInterfaces": "ec2:DescribeNetworkInterfaces",
    "DescribeNetworkAcls": "ec2:DescribeNetworkAcls",
    "DescribeManagedPrefixLists": "ec2:DescribeManagedPrefixLists",
    "GetManagedPrefixListEntries": "ec2:GetManagedPrefixListEntries",
    "DescribeFlowLogs": "ec2:DescribeFlowLogs",
    # --config-history only: AWS Config's record of ENIs and security groups no snapshot holds.
    "GetResourceConfigHistory": "config:GetResourceConfigHistory",
}


def permission_for(operation: str) -> str:
    """The IAM action of a botocore operation name (``ec2:<Operation>`` if undeclared)."""
    return API_PERMISSIONS.get(operation, f"ec2:{operation}")


def iam_policy() -> dict[str, object]:
    """A least-privilege IAM policy document for ``flowlens inventory --aws``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "FlowlensInventoryReadOnly",
                "Effect": "Allow",
                "Action": sorted(set(API_PERMISSIONS.values())),
                "Resource": "*",
            }
        ],
    }


def iam_policy_json() -> str:
    return json.dumps(iam_policy(), indent=2)
