"""Plain text for terminals and logs: nothing from an account can drive the terminal."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(value: object) -> str:
    """The text with control characters (terminal escapes included) removed."""
    return _CONTROL.sub("", str(value))


def one_line(value: object) -> str:
    """Plain text on one line: control characters removed, line breaks and runs of spaces made one space."""
    return " ".join(plain(value).split())
