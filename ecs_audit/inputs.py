"""Reading the user's input files (config, waivers, answers, snapshots, baseline reports): every
problem becomes one UsageError line that names the file, the entry and field at fault, and how to
fix it."""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ecs_audit.errors import UsageError
from ecs_audit.text import one_line, plain

M = TypeVar("M", bound=BaseModel)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{what} {path}: no such file; check the path") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {path}: is a directory; give the file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{what} {path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None


def packaged_yaml(text: str) -> Any:
    """YAML of the package's own files (the catalogue, the demo's data), through libyaml when PyYAML
    has it: the same safe loader, about ten times quicker than the pure-Python one."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_yaml(path: Path, what: str) -> Any:
    """The file's YAML (None for an empty file)."""
    text = read_text(path, what)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise UsageError(f"{what} {path}: invalid YAML{where} ({problem}); fix the syntax") from None


def load_json(path: Path, what: str, fix: str) -> Any:
    """The file's JSON; `fix` says what file to give instead when it is not JSON."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} {path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); {fix}") from None


def model_error(path: Path, what: str, exc: ValidationError, fix: str = "", prefix: str = "") -> UsageError:
    """The first problem of a whole-file model, naming where it is (e.g. accounts.0.account_id);
    `prefix` names the section the model was read from (e.g. "run.")."""
    first = exc.errors()[0]
    where = one_line(prefix + ".".join(str(part) for part in first["loc"]))
    return UsageError(f"{what} {path}: invalid at {where}: {one_line(first['msg'])}" + (f"; {fix}" if fix else ""))


def load_yaml_list(path: Path, what: str, example: str) -> list[Any]:
    """The file's YAML, which must be a list (an empty file is an empty list)."""
    raw = load_yaml(path, what)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise UsageError(f"{what} {path}: expected a YAML list of entries (e.g. {example}), got a {_kind(raw)}")
    return raw


def validate_entries(raw: list[Any], model: type[M], path: Path, what: str, hints: dict[str, str]) -> list[M]:
    """Each list item as `model`; the first problem raises, naming entry (1-based) and field."""
    entries: list[M] = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            fields = ", ".join(model.model_fields)
            raise UsageError(f"{what} {path}: entry {number}: expected a mapping with {fields}, got a {_kind(item)}")
        try:
            entries.append(model.model_validate(item))
        except ValidationError as exc:
            raise UsageError(entry_error(path, what, number, exc, model, hints)) from None
    return entries


def entry_error(path: Path, what: str, number: int, exc: ValidationError, model: type[BaseModel], hints: dict[str, str]) -> str:
    errors = exc.errors()
    # A misspelt field shows up as unknown and as missing: name the misspelling.
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = [str(part) for part in error["loc"]]
    field = loc[0] if loc else ""
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = list(model.model_fields)
        close = difflib.get_close_matches(field, allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{what} {path}: entry {number}: unknown field {plain(field)!r}; {hint}allowed fields: {', '.join(allowed)}"
    if kind == "missing":
        hint = hints.get(field, "add it")
        return f"{what} {path}: entry {number}: field {field!r} is missing; {hint}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if not loc:  # a rule across fields: its message names them
        return f"{what} {path}: entry {number}: {plain(message)}"
    hint = hints.get(field)
    return f"{what} {path}: entry {number}, field {field!r}: {plain(message)}" + (f"; {hint}" if hint else "")


def parse_date(value: Any) -> date:
    """A calendar date from YAML: an unquoted 2027-03-31 (a date) or the same text quoted."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{plain(value)!r} is not a date")


def _kind(value: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def check_writable_dir(directory: Path, what: str, fix: str) -> None:
    """Fail before any work starts when `directory` cannot be created or written to (exit 2), rather
    than after a long scan. Nothing is created: an existing directory gets a probe file, removed at once."""
    probe = directory
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{what} {directory}: {probe} is not a directory; {fix}")
    if probe == directory:
        try:
            handle, name = tempfile.mkstemp(prefix=".ecs-audit-probe-", dir=directory)
            os.close(handle)
            os.unlink(name)
        except OSError as exc:
            raise UsageError(f"{what} {directory}: cannot write there ({exc.strerror or exc}); {fix}") from None
    elif not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {directory}: cannot create it ({probe} is not writable); {fix}")
