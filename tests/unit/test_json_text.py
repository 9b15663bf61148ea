"""compact_encoder writes what json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode writes."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

import pytest
from pydantic_core import to_jsonable_python

from ecs_audit.report.json_text import compact_encoder

VALUES = [
    {"b": 1, "a": [1, 2.5, None, True, False], "c": {"z": "ü ✓ \u202e", "y": "quote \" back \\ tab \t nl \n"}},
    {"nested": [{"k": [[], {}]}], "": "", "0": -0.0, "big": 10**30, "small": 1e-300},
    [3, "x", {"d": math.inf, "e": -math.inf}],
    "just a string \x00",
    42,
    1.1,
    None,
    {},
]


@pytest.mark.parametrize("value", VALUES)
def test_the_text_is_json_encoders(value):
    expected = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(value)
    assert compact_encoder()(value) == expected


def test_values_json_cannot_hold_go_through_default_or_fail_as_before():
    value = {"when": datetime(2026, 1, 2, tzinfo=timezone.utc), "ids": {"set"}}
    expected = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=to_jsonable_python).encode(value)
    assert compact_encoder(to_jsonable_python)(value) == expected
    with pytest.raises(TypeError):
        compact_encoder()(value)


def test_nan_is_written_as_json_module_writes_it():
    assert compact_encoder()([math.nan]) == "[NaN]"
