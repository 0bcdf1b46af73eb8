"""Options and helpers shared by every command."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from types import ModuleType
from typing import Any

from flowlens.datadir import DataDir
from flowlens.errors import UsageError


def load_command(name: str) -> ModuleType:
    """The module ``flowlens.cli.<name>`` (``-`` read as ``_``); a missing one is an
    ImportError, never skipped."""
    return importlib.import_module(f"flowlens.cli.{name.replace('-', '_')}")


def command_parser(
    sub: Any,
    name: str,
    *,
    help: str,
    description: str,
    example: str,
    writes: Callable[[argparse.Namespace], DataDir | None] | None = None,
) -> argparse.ArgumentParser:
    """A subcommand parser with the common options and an example at the end of its help.

    ``writes`` marks a command that writes into a data directory: it returns that directory for
    the parsed arguments (None: this invocation writes none), whose writer lock the command then
    holds while it runs (flowlens/lock.py), and the command gets ``--wait SECONDS``.
    """
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog="Example:\n" + "\n".join("  " + line for line in example.strip().splitlines()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None,
        help="data directory (default: $FLOWLENS_DATA_DIR or ./flowlens-data)",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="only warnings and errors on stderr (no progress line)",
    )
    if writes is not None:
        parser.add_argument(
            "--wait",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="if another command is writing the data directory, wait up to this long "
            "for it (default 0: exit 2 at once, naming it)",
        )
        parser.set_defaults(lock_dir=writes)
    return parser


def add_window_options(parser: argparse.ArgumentParser) -> None:
    """``--date D`` or ``--start D --end D`` (inclusive days, UTC)."""
    parser.add_argument("--date", metavar="YYYY-MM-DD", help="one UTC day")
    parser.add_argument("--start", metavar="YYYY-MM-DD", help="first UTC day of a range")
    parser.add_argument("--end", metavar="YYYY-MM-DD", help="last UTC day of a range (inclusive)")


_SIZE = re.compile(r"^\s*(\d+(\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


def memory_size(value: str) -> str:
    """An argparse type for ``--memory-limit``: a size DuckDB and Spark both
    read (``4GB``, ``512MiB``).

    >>> memory_size("4gb")
    '4GB'
    """
    m = _SIZE.match(value)
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a memory size; use a number and a unit, e.g. 4GB, 512MB or 1.5GiB"
        )
    unit = m.group(3).upper().replace("I", "i")
    return f"{m.group(1)}{unit}"


def parse_day(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{flag} {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-28"
        ) from None


def window_days(args: argparse.Namespace) -> list[date]:
    """The UTC days named by ``--date`` or ``--start/--end``, in order."""
    if args.date and (args.start or args.end):
        raise UsageError("give either --date or --start/--end, not both")
    if args.date:
        return [parse_day(args.date, "--date")]
    if not (args.start and args.end):
        raise UsageError("a window is needed: --date YYYY-MM-DD, or --start and --end")
    first, last = parse_day(args.start, "--start"), parse_day(args.end, "--end")
    if last < first:
        raise UsageError(f"--end {last} is before --start {first}")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def data_dir(args: argparse.Namespace) -> DataDir:
    """The data directory of the command line; ``s3://`` only for the commands that read one
    there (those with ``--results-location``, :func:`add_location_options`)."""
    from flowlens.aws import AwsOptions

    dd = DataDir.resolve(
        args.data_dir,
        results_location=getattr(args, "results_location", None),
        aws=AwsOptions(
            profile=getattr(args, "profile", None), endpoint_url=getattr(args, "endpoint_url", None)
        ),
    )
    if dd.lake and not hasattr(args, "results_location"):
        raise UsageError(
            f"--data-dir {dd.lake}: this command needs a local data directory; analyze, "
            "recommend, report and sql read one in S3"
        )
    return dd


def add_location_options(parser: argparse.ArgumentParser | Any, *, aws: bool = True) -> None:
    """``--results-location`` (and, with ``aws``, ``--endpoint-url``/``--profile`` for S3)."""
    parser.add_argument(
        "--results-location",
        metavar="URI",
        help="where the results tables are: a folder (date=<D>/<table>.parquet) or s3://bucket/"
        "prefix (<table>/date=<D>/, the athena-ddl layout); default: the data dir's results/ "
        "(docs/engines.md)",
    )
    if aws:
        parser.add_argument("--endpoint-url", help="S3 endpoint (default $AWS_ENDPOINT_URL)")
        parser.add_argument("--profile", help="AWS profile for S3")


def configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.INFO if verbose == 0 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("flowlens")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def print_json(obj: Any) -> None:
    """Machine-readable output on stdout."""
    print(json.dumps(obj, indent=2, sort_keys=False, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
