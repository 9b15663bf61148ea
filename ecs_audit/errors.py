"""Exceptions that map to the CLI's documented exit codes."""

from __future__ import annotations

# --fail-on: exit 1 when an unwaived FAIL has this severity or worse ("never": exit 0 regardless).
FAIL_ON_CHOICES = ("critical", "high", "medium", "low", "never")


class EcsAuditError(Exception):
    """Base class: carries the exit code the CLI should return."""

    exit_code = 3


class UsageError(EcsAuditError):
    """Bad input from the user (options, files): exit code 2."""

    exit_code = 2


class AuditFailed(EcsAuditError):
    """The audit could not run at all (no credentials, every call failed): exit code 3."""

    exit_code = 3


class ReadOnlyViolation(EcsAuditError):
    """A client was asked to send an operation that is not on the read-only allowlist."""

    exit_code = 3
