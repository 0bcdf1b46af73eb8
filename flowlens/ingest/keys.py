"""S3 key layouts of VPC flow logs (docs/flow-logs.md#s3-key-layouts): parse keys, and name the
prefixes a window needs.

Pure: no I/O. Four layouts are recognised, all under ``<optional prefix>/AWSLogs/``::

    default      AWSLogs/<acct>/vpcflowlogs/<region>/YYYY/MM/DD/<file>
    hourly       AWSLogs/<acct>/vpcflowlogs/<region>/YYYY/MM/DD/HH/<file>
    Hive         AWSLogs/aws-account-id=<acct>/aws-service=vpcflowlogs/aws-region=<r>/
                 year=YYYY/month=MM/day=DD/<file>
    Hive+hourly  ... day=DD/hour=HH/<file>

The file name ``<acct>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`` is what
counts; it is anchored on ``_vpcflowlogs_`` and split from the right (regions and flow-log ids
contain ``-``, hashes never contain ``_``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum

from flowlens.model.window import Window

AWSLOGS = "AWSLogs/"


class FileFormat(Enum):
    TEXT_GZ = "log.gz"
    PARQUET = "log.parquet"


@dataclass(frozen=True)
class FlowKey:
    """What an object's key says about its contents."""

    key: str
    account_id: str
    region: str
    flow_log_id: str
    timestamp: datetime  # the file's 5-minute bin of record end times (UTC)
    format: FileFormat
    hive: bool
    hourly: bool


_NAME_RE = re.compile(
    r"^(?P<acct>[^_/]+)_vpcflowlogs_(?P<rest>.+)_(?P<ts>\d{8}T\d{4}Z)_(?P<hash>[^_/]+)\.(?P<ext>log\.gz|log\.parquet)$"
)
_PLAIN_DIR_RE = re.compile(
    r"^(?P<acct>[^/]+)/vpcflowlogs/(?P<region>[^/]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})(?:/(?P<h>\d{2}))?$"
)
_HIVE_DIR_RE = re.compile(
    r"^aws-account-id=(?P<acct>[^/]+)/aws-service=vpcflowlogs/aws-region=(?P<region>[^/]+)/"
    r"year=(?P<y>\d{4})/month=(?P<m>\d{2})/day=(?P<d>\d{2})(?:/hour=(?P<h>\d{2}))?$"
)


def parse_key(key: str) -> FlowKey | None:
    """The parts of a flow-log object key, or None when the key is not a flow-log object.

    >>> k = parse_key("x/AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/"
    ...     "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz")
    >>> (k.account_id, k.region, k.flow_log_id, k.timestamp.isoformat(), k.hive)
    ('123456789012', 'us-east-1', 'fl-1234abcd', '2018-06-20T16:20:00+00:00', False)
    >>> parse_key("AWSLogs/test_file.log.gz") is None
    True
    """
    at = key.rfind(AWSLOGS)
    if at < 0 or (at > 0 and key[at - 1] != "/"):
        return None
    folder, _, name = key[at + len(AWSLOGS) :].rpartition("/")
    m = _NAME_RE.match(name)
    if not m:
        return None
    region, sep, flow_log_id = m["rest"].rpartition("_")
    if not sep or not region or not flow_log_id:
        return None
    d = _PLAIN_DIR_RE.match(folder) or _HIVE_DIR_RE.match(folder)
    if not d or d["acct"] != m["acct"] or d["region"] != region:
        return None
    try:
        ts = datetime.strptime(m["ts"], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    fmt = FileFormat(m["ext"])
    return FlowKey(
        key, m["acct"], region, flow_log_id, ts, fmt, d.re is _HIVE_DIR_RE, d["h"] is not None
    )


def day_prefixes(root: str, account_dir: str, region_dir: str, day: date, hive: bool) -> str:
    """The prefix holding one day of one account/region, in the layout its directories show."""
    if hive:
        return f"{root}{account_dir}{region_dir}year={day:%Y}/month={day:%m}/day={day:%d}/"
    return f"{root}{account_dir}{region_dir}{day:%Y}/{day:%m}/{day:%d}/"


def listing_days(window: Window, slack: timedelta) -> list[date]:
    """UTC days whose prefixes can hold records of ``window``, given delivery ``slack``."""
    first = (window.start - slack).date()
    last = (window.end + slack - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def in_listing_range(key: FlowKey, window: Window, slack: timedelta) -> bool:
    """Whether a file's time bin is close enough to the window to hold some of its records."""
    return window.start - slack <= key.timestamp < window.end + slack


@dataclass(frozen=True)
class AccountDir:
    """One ``AWSLogs/<account>/`` child, as listed: its account id and layout."""

    account_id: str
    hive: bool

    @property
    def path(self) -> str:
        return (
            f"aws-account-id={self.account_id}/aws-service=vpcflowlogs/"
            if self.hive
            else f"{self.account_id}/vpcflowlogs/"
        )

    def region_dir(self, region: str) -> str:
        return f"aws-region={region}/" if self.hive else f"{region}/"


def account_dir(child: str) -> AccountDir | None:
    """Interpret one child folder name of ``AWSLogs/`` (``123456789012`` or
    ``aws-account-id=...``)."""
    name = child.rstrip("/")
    if name.startswith("aws-account-id="):
        return AccountDir(name.removeprefix("aws-account-id="), True)
    if name and "=" not in name and "/" not in name:
        return AccountDir(name, False)
    return None


def region_name(child: str, hive: bool) -> str | None:
    """Interpret one child folder name of ``.../vpcflowlogs/`` as a region."""
    name = child.rstrip("/")
    if hive:
        return name.removeprefix("aws-region=") if name.startswith("aws-region=") else None
    return name if name and "=" not in name else None


def root_prefix(prefix: str) -> str:
    """``<prefix>/AWSLogs/`` for the optional destination prefix given by the user."""
    p = prefix.strip("/")
    return f"{p}/{AWSLOGS}" if p else AWSLOGS
