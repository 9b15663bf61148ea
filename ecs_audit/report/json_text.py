"""Compact JSON text for the many small objects report.json and report.sarif encode one by one
(evidence, findings, locations): sorted keys, no spaces, text as it is (ensure_ascii=False)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def compact_encoder(default: Callable[[Any], Any] | None = None) -> Callable[[Any], str]:
    """json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=default).encode,
    through one C encoder made once: JSONEncoder.encode makes a new one on every call, half the
    cost of encoding a small object. Values are trees (JSON-ready data), so there is no check for
    circular references. JSONEncoder.encode itself where the C encoder is not available."""
    encoder = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=default)
    make = json.encoder.c_make_encoder
    if make is None:
        return encoder.encode
    chunks = make(
        None, encoder.default, json.encoder.encode_basestring, None,
        encoder.key_separator, encoder.item_separator, encoder.sort_keys, encoder.skipkeys, encoder.allow_nan,
    )  # fmt: skip

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode
