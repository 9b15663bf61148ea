"""Writing a large report's text a batch of lines at a time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

# Lines joined per write: large enough that writes cost nothing, small enough that the text is never
# held whole (tens of megabytes made and freed at once cost more than writing them: fresh pages).
BATCH = 1000


def write_joined(out: TextIO, parts: Iterable[str], separator: str = "\n") -> bool:
    """out.write(separator.join(parts)), a batch of parts at a time; whether there was any part."""
    batch: list[str] = []
    started = False
    for part in parts:
        batch.append(part)
        if len(batch) == BATCH:
            out.write((separator if started else "") + separator.join(batch))
            started = True
            batch = []
    if batch:
        out.write((separator if started else "") + separator.join(batch))
    return started or bool(batch)
