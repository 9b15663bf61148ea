"""The critical path of a scan, from its recorded calls: the longest chain of round trips in which
each call sends something only an earlier answer told it.

A call depends on another when it sends an identifier that first appeared in that other call's
answer, answered before it was sent. Identifiers are the string values of its parameters and their
pieces split at ':', '/', '@', ',' or '=' (an ARN's resource name, an image URI's repository), but
not short numbers cut from a longer value (a page token's offset) nor enumerated values (ACTIVE,
ENABLED: constants of the API). A value sent before any answer held it (a region, a prefix) was known
beforehand and makes no dependency. The depth of a call is one more than the deepest call it
depends on; the deepest call's chain is the critical path: the round trips no concurrency can
overlap, so `depth x latency` is the least time the calls can take. Control dependencies (a call
made only because an answer was empty, or said ENABLED) are not seen, so the path can be too short;
an identifier the audit could have known beforehand but first sent after an answer held it makes it
too long.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

_PIECES = re.compile(r"[/:@,=\s]+")
_ENUM = re.compile(r"[A-Z][A-Z_]*")
_SHORTEST = 3


@dataclass(frozen=True)
class Exchange:
    start: float
    end: float
    action: str
    sent: frozenset[str]
    answered: frozenset[str]


def leaves(value: Any) -> Iterator[str]:
    """The string values in a parsed request or answer (not its keys)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from leaves(item)


def identifiers(value: Any) -> frozenset[str]:
    found: set[str] = set()
    for text in leaves(value):
        if _ENUM.fullmatch(text):
            continue
        if len(text) >= _SHORTEST:
            found.add(text)
        # A short number cut out of a longer value (a page token's offset, a port) names nothing; an
        # account id (12 digits) does.
        found.update(piece for piece in _PIECES.split(text) if len(piece) >= _SHORTEST and not (piece.isdigit() and len(piece) < 12))
    return frozenset(found)


def critical_path(exchanges: Iterable[Exchange]) -> list[Exchange]:
    """The longest chain of dependent calls (see the module docstring), first call first."""
    calls = sorted(exchanges, key=lambda e: e.start)
    if not calls:
        return []
    first_sent: dict[str, float] = {}
    first_answered: dict[str, float] = {}
    for call in calls:
        for token in call.sent:
            first_sent[token] = min(first_sent.get(token, call.start), call.start)
        for token in call.answered:
            first_answered[token] = min(first_answered.get(token, call.end), call.end)
    known_before = {t for t, sent in first_sent.items() if sent < first_answered.get(t, float("inf"))}

    by_end = sorted(range(len(calls)), key=lambda i: calls[i].end)
    producer: dict[str, int] = {}  # token -> the call that answered it first
    depth = [0] * len(calls)
    parent: list[int | None] = [None] * len(calls)
    done = 0
    for i, call in enumerate(calls):
        # Every call answered by the time this one was sent has its depth already: it started earlier.
        while done < len(by_end) and calls[by_end[done]].end <= call.start:
            j = by_end[done]
            for token in calls[j].answered:
                producer.setdefault(token, j)
            done += 1
        depth[i] = 1
        for token in sorted(call.sent):
            j = producer.get(token)
            if j is None or token in known_before:
                continue
            # Between producers of equal depth, the one answered last is the one this call waited for
            # (and the choice no longer depends on the order of a set).
            if depth[j] + 1 > depth[i] or (parent[i] is not None and depth[j] + 1 == depth[i] and calls[j].end > calls[parent[i]].end):
                depth[i], parent[i] = depth[j] + 1, j
    deepest = max(range(len(calls)), key=lambda i: (depth[i], -calls[i].end))
    chain = []
    at: int | None = deepest
    while at is not None:
        chain.append(calls[at])
        at = parent[at]
    return chain[::-1]
