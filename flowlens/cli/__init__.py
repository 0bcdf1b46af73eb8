"""The ``flowlens`` command: a thin layer that parses options, calls the library, prints.

Each command lives in its own module exposing ``register(subparsers)``; the module adds its
parser (with an example at the end of its help) and sets ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from flowlens import __version__
from flowlens.aws import access_error, is_botocore_error
from flowlens.cli import _common
from flowlens.errors import ExitCode, FlowlensError

log = logging.getLogger("flowlens")

#: Command modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "ingest",
    "inventory",
    "analyze",
    "athena-ddl",
    "recommend",
    "verify",
    "apply",
    "explain",
    "dismiss",
    "dismissals",
    "report",
    "run",
    "sql",
    "catalog",
    "demo",
)


def build_parser(commands: Sequence[str] = COMMANDS) -> argparse.ArgumentParser:
    """The whole command line, or only ``commands``' parsers (the one being run: each command
    module imports what its options need, ~0.1 s for all fifteen)."""
    parser = argparse.ArgumentParser(
        prog="flowlens",
        description="Turn AWS VPC Flow Logs into least-privilege security groups, with evidence.",
        epilog="Example:\n  flowlens demo --out reports/demo\n\n"
        "Run 'flowlens COMMAND --help' for a command's options and an example.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"flowlens {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in commands:
        _common.load_command(name).register(sub)
    return parser


def _unknown_command(words: Sequence[str]) -> str:
    """An error with a "did you mean" for a first word that is no command, or ""
    (argparse handles the rest)."""
    first = next((w for w in words if not w.startswith("-")), None)
    if first is None or first in COMMANDS or words[0].startswith("-"):
        return ""
    close = difflib.get_close_matches(first, COMMANDS, n=2, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"unknown command {first!r}{hint} (commands: {', '.join(COMMANDS)}; see 'flowlens --help')"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    # `flowlens COMMAND ...` builds that command's parser alone; anything else (`--help`,
    # `--version`, a mistyped command) the whole one, so its help and errors list every command.
    chosen = words[:1] if words and words[0] in COMMANDS else COMMANDS
    parser = build_parser(chosen)
    unknown = _unknown_command(words)
    if unknown:  # exits 2 like every other usage error argparse reports
        parser.exit(int(ExitCode.BAD_INPUT), f"flowlens: error: {unknown}\n")
    args = parser.parse_args(words)
    if hasattr(signal, "SIGXFSZ") and threading.current_thread() is threading.main_thread():
        # Past a file size limit (ulimit -f) a write fails with EFBIG, reported as such, instead of
        # the signal killing the process mid-command.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _common.configure_logging(getattr(args, "verbose", 0), getattr(args, "quiet", False))
    try:
        code = int(_run_command(args, argv))
    except FlowlensError as exc:
        print(f"flowlens {args.command}: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("flowlens: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (`flowlens sql ... | head`): stop quietly, as the
        # Python docs advise, so the interpreter does not print a second error at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if is_botocore_error(exc):
            # An AWS error no stage translated: one line and exit 3, like every other AWS failure.
            err = access_error(exc)
            print(f"flowlens {args.command}: error: {err}", file=sys.stderr)
            return int(err.exit_code)
        failure = _environment_failure(exc, args)
        if failure is None:
            raise
        print(f"flowlens {args.command}: error: {failure}", file=sys.stderr)
        return int(failure.exit_code)
    return code if code is not None else int(ExitCode.OK)


def _environment_failure(exc: Exception, args: argparse.Namespace) -> FlowlensError | None:
    """An OS refusal (disk full, read-only, permissions) as a one-line
    error; None for anything else."""
    from flowlens.envfail import classify

    duckdb = sys.modules.get("duckdb")
    if isinstance(exc, OSError) or (
        duckdb is not None and isinstance(exc, duckdb.IOException | duckdb.PermissionException)
    ):
        return classify(
            exc, f"working in the data directory {_common.data_dir(args).root.absolute()}"
        )
    return None


def _run_command(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    """Run the command, under its data directory's writer lock when it writes one."""
    lock_dir = getattr(args, "lock_dir", None)
    dd = lock_dir(args) if lock_dir is not None else None
    if dd is None:
        return int(args.func(args))
    from flowlens.lock import writer_lock

    words = list(sys.argv[1:] if argv is None else argv)
    with writer_lock(dd, " ".join(["flowlens", *words])[:200], wait=args.wait):
        return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
