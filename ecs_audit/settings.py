"""One run's options from three places, first found wins: the command line, ECS_AUDIT_* environment
variables, the settings file's `run:` section; then the built-in default."""

from __future__ import annotations

import os
import string
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from ecs_audit.config import RunSettings
from ecs_audit.errors import UsageError

T = TypeVar("T")

# Environment variables that stand in for options (documented in docs/configuration.md).
ENVIRONMENT = {
    "ECS_AUDIT_CONFIG": "--config",
    "ECS_AUDIT_OUTPUT_DIR": "--output-dir",
    "ECS_AUDIT_HISTORY": "--history",
    "ECS_AUDIT_NOTIFY": "--notify (keeps the webhook's token out of the command line and the settings file)",
    "ECS_AUDIT_FAIL_ON": "--fail-on",
}


def env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def choose(cli: T | None, env_name: str | None, from_file: T | None, default: T) -> T:
    if cli is not None and cli != [] and cli != ():
        return cli
    if env_name is not None:
        value = env(env_name)
        if value is not None:
            return value  # type: ignore[return-value]
    if from_file is not None and from_file != [] and from_file != ():
        return from_file
    return default


def file_path(config: Path | None, value: str | None) -> Path | None:
    """A path from the settings file, relative to the file's directory (s3:// locations are kept as they are)."""
    if value is None:
        return None
    path = Path(os.path.expanduser(value))
    if config is not None and not path.is_absolute():
        path = config.parent / path
    return path


def file_location(config: Path | None, value: str | None) -> str | None:
    if value is None or value.startswith("s3://"):
        return value
    return str(file_path(config, value))


def fill_template(template: str, now: datetime, what: str = "--output-dir") -> str:
    """`reports/{date}` -> `reports/2026-12-04`; `{time}` is HHMMSS (UTC)."""
    values = {"date": now.strftime("%Y-%m-%d"), "time": now.strftime("%H%M%S")}
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError:
        raise UsageError(f"{what} {template!r}: unbalanced braces; use {{date}} or {{time}}") from None
    unknown = sorted(set(fields) - set(values))
    if unknown:
        raise UsageError(f"{what} {template!r}: unknown placeholder {{{unknown[0]}}}; use {{date}} or {{time}}")
    return template.format(**values)


def run_settings_or_empty(settings: RunSettings | None) -> RunSettings:
    return settings or RunSettings()
