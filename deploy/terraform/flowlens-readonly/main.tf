# flowlens read-only inventory role for one member account. Use it once per account (a provider
# per account, e.g. assuming OrganizationAccountAccessRole), or deploy the CloudFormation
# StackSet in ../../flowlens-readonly.cfn.yaml instead. Its policy holds exactly the actions
# 'flowlens inventory --aws' declares (flowlens/inventory/permissions.py;
# tests/test_role_templates.py keeps them equal).

variable "role_name" {
  type        = string
  default     = "flowlens-readonly"
  description = "the name 'flowlens inventory --role-name' assumes"
}

variable "trusted_principal_arn" {
  type        = string
  description = "the principal flowlens runs as; only it may assume this role"
}

variable "external_id" {
  type        = string
  default     = ""
  sensitive   = true
  description = "an external id the caller must pass (--external-id); empty for none"
}

data "aws_iam_policy_document" "trust" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [var.trusted_principal_arn]
    }
    dynamic "condition" {
      for_each = var.external_id == "" ? [] : [var.external_id]
      content {
        test     = "StringEquals"
        variable = "sts:ExternalId"
        values   = [condition.value]
      }
    }
  }
}

data "aws_iam_policy_document" "inventory" {
  statement {
    sid       = "FlowlensInventoryReadOnly"
    effect    = "Allow"
    resources = ["*"]
    actions = [
      "config:GetResourceConfigHistory",
      "ec2:DescribeFlowLogs",
      "ec2:DescribeManagedPrefixLists",
      "ec2:DescribeNetworkAcls",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSecurityGroupRules",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeStaleSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
      "ec2:GetManagedPrefixListEntries",
    ]
  }
}

resource "aws_iam_role" "flowlens_readonly" {
  name                 = var.role_name
  description          = "flowlens reads security groups, ENIs, NACLs, prefix lists and flow logs"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "inventory" {
  name   = "FlowlensInventoryReadOnly"
  role   = aws_iam_role.flowlens_readonly.id
  policy = data.aws_iam_policy_document.inventory.json
}

output "role_arn" {
  value = aws_iam_role.flowlens_readonly.arn
}
