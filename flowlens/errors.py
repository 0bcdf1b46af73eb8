"""One error hierarchy for flowlens; the CLI maps each class to an exit code.

Every message names the thing that is wrong (file, key, line, flag) and what to do about it.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes (docs/architecture.md#commands-and-exit-codes)."""

    OK = 0
    FAILURE = 1  # analysis or query failure, or a batch that finished with failed inputs
    BAD_INPUT = 2  # usage errors and bad input files
    AWS_ACCESS = 3  # AWS credentials, permissions, endpoints
    ENVIRONMENT = 4  # the machine refused: disk full, file size limit, read-only or unwritable path


class FlowlensError(Exception):
    """Base class: every error flowlens raises on purpose."""

    exit_code: ExitCode = ExitCode.FAILURE


class UsageError(FlowlensError):
    """A flag, argument or option value that cannot work."""

    exit_code = ExitCode.BAD_INPUT


class InputError(FlowlensError):
    """An input file, object or record that cannot be read as what it claims to be."""

    exit_code = ExitCode.BAD_INPUT


class AwsAccessError(FlowlensError):
    """AWS refused us: missing credentials, a missing permission, an unreachable endpoint."""

    exit_code = ExitCode.AWS_ACCESS


class EnvironmentFailure(FlowlensError):
    """The machine refused a read or write flowlens had every right to make (disk full, a file size
    limit, a read-only mount, a permission): nothing is wrong with the input;
    fix the place and re-run."""

    exit_code = ExitCode.ENVIRONMENT


class AnalysisError(FlowlensError):
    """A query or analysis step failed, or its preconditions (data to analyse) are missing."""

    exit_code = ExitCode.FAILURE


class PartialFailure(FlowlensError):
    """The batch finished but some inputs failed; the summary says which."""

    exit_code = ExitCode.FAILURE


class NothingToDo(FlowlensError):
    """A stage found no input at all for the window (an empty listing, no analysis results)."""

    exit_code = ExitCode.FAILURE
