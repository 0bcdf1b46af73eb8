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
