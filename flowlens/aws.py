"""The one place flowlens creates AWS sessions and clients, and turns botocore's errors into exit 3.

Every command that talks to AWS (ingest and run for S3, inventory and run for EC2, analyze for
Athena, apply for EC2) builds its clients from :class:`AwsOptions`: profile, region, endpoint
(``--endpoint-url``, else ``$AWS_ENDPOINT_URL``) and botocore's retry mode. A missing profile or
credentials and an unreachable endpoint become an :class:`AwsAccessError` with one line of advice;
:func:`access_error` does the same for any botocore exception that escapes a stage.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from flowlens.errors import AwsAccessError

DEFAULT_MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class AwsOptions:
    """How to reach AWS, as the command line gave it."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    retry_mode: str = "standard"  # botocore's: standard | adaptive | legacy

    @property
    def endpoint(self) -> str | None:
        return self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None


def session(opts: AwsOptions) -> Any:
    """A boto3 session for the options' profile and region; a profile that
    does not exist is exit 3."""
    import boto3
    from botocore.exceptions import BotoCoreError, ProfileNotFound

    try:
        return boto3.Session(profile_name=opts.profile, region_name=opts.region)
    except ProfileNotFound:
        raise AwsAccessError(
            f"--profile {opts.profile}: no such profile in the AWS config (~/.aws/config, "
            f"$AWS_CONFIG_FILE); run 'aws configure list-profiles'"
        ) from None
    except BotoCoreError as exc:
        raise access_error(exc) from None


def client(
    opts: AwsOptions,
    service: str,
    *,
    region: str | None = None,
    max_pool: int | None = None,
    sess: Any = None,
) -> Any:
    """A client of ``service`` with the options' endpoint and retry mode
    (``$AWS_MAX_ATTEMPTS`` overrides 10)."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
    config = Config(retries={"mode": opts.retry_mode, "max_attempts": attempts})  # type: ignore[arg-type]
    if max_pool:
        config = config.merge(Config(max_pool_connections=max_pool))
    try:
        return (sess or session(opts)).client(
            service, region_name=region or opts.region, endpoint_url=opts.endpoint, config=config
        )
    except BotoCoreError as exc:
        raise access_error(exc) from None


#: The role session name flowlens uses in every account (CloudTrail shows it as the caller).
ROLE_SESSION_NAME = "flowlens"


@dataclass(frozen=True)
class CallerIdentity:
    """sts get-caller-identity: which account the credentials belong to, and the partition."""

    account: str
    arn: str

    @property
    def partition(self) -> str:
        """``aws``, ``aws-cn``, ``aws-us-gov``… from the ARN (role ARNs must use the same)."""
        parts = self.arn.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else "aws"


def caller_identity(opts: AwsOptions, sess: Any = None) -> CallerIdentity:
    """Who the credentials are (no IAM permission is needed for this call)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        found = client(opts, "sts", sess=sess).get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        raise access_error(exc) from None
    return CallerIdentity(str(found["Account"]), str(found.get("Arn") or ""))


def assume_role(
    opts: AwsOptions,
    role_arn: str,
    *,
    external_id: str | None = None,
    sess: Any = None,
) -> Any:
    """A boto3 session holding the credentials of ``role_arn`` (session name ``flowlens``).

    A refusal is an :class:`AwsAccessError` naming the role and AWS's answer; botocore does not
    refresh these credentials, so callers assume again for work longer than an hour.
    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": ROLE_SESSION_NAME}
    if external_id:
        params["ExternalId"] = external_id
    try:
        creds = client(opts, "sts", sess=sess).assume_role(**params)["Credentials"]
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise AwsAccessError(
            f"cannot assume {role_arn} ({err.get('Code', '?')}: {err.get('Message', exc)}); "
            "check the role exists, trusts this principal (and its external id), and that "
            "this principal may call sts:AssumeRole on it"
        ) from None
    except BotoCoreError as exc:
        raise access_error(exc) from None
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=opts.region or (sess.region_name if sess is not None else None),
    )


def organization_accounts(opts: AwsOptions, sess: Any = None) -> list[str]:
    """The ids of the organization's ACTIVE accounts (organizations:ListAccounts, which only the
    management account or a delegated administrator may call)."""
    from botocore.exceptions import BotoCoreError, ClientError

    found: list[str] = []
    try:
        pages = client(opts, "organizations", sess=sess).get_paginator("list_accounts").paginate()
        for page in pages:
            found += [
                str(a["Id"])
                for a in page.get("Accounts") or []
                if (a.get("State") or a.get("Status")) == "ACTIVE"
            ]
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise AwsAccessError(
            f"--accounts-from-organizations: organizations:ListAccounts was refused "
            f"({err.get('Code', '?')}: {err.get('Message', exc)}); run it with the management "
            "account or a delegated administrator, or name the accounts with --accounts"
        ) from None
    except BotoCoreError as exc:
        raise access_error(exc) from None
    return sorted(found)


def is_botocore_error(exc: BaseException) -> bool:
    """True for botocore's and boto3's exceptions (checked by module, so the
    CLI need not import them)."""
    return any(t.__module__.split(".")[0] in ("botocore", "boto3") for t in type(exc).__mro__)


def access_error(exc: BaseException) -> AwsAccessError:
    """One line for a botocore exception that no stage translated: what failed and what to check."""
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return AwsAccessError(
            "no AWS credentials found; set AWS_PROFILE / --profile, or AWS_ACCESS_KEY_ID"
        )
    if name == "ProfileNotFound":
        return AwsAccessError(f"{exc}; check --profile and ~/.aws/config")
    if name in (
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ConnectionClosedError",
        "ReadTimeoutError",
    ):
        return AwsAccessError(
            f"cannot reach AWS: {exc}; check --endpoint-url, --region and the network"
        )
    if name == "NoRegionError":
        return AwsAccessError("no AWS region: pass --region (or --regions), or set AWS_REGION")
    if name == "ClientError":
        err = getattr(exc, "response", {}).get("Error", {})
        return AwsAccessError(
            f"AWS refused the call ({err.get('Code', '?')}: {err.get('Message', exc)})"
        )
    return AwsAccessError(f"AWS call failed ({name}): {exc}")
