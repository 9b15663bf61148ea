"""Secret-looking names: which values are settings (never a critical FAIL), which names are secrets."""

from __future__ import annotations

import pytest

from ecs_audit.redact import FLAG_BOOLEAN, FLAG_DURATION, FLAG_NUMBER, FLAG_URL_CREDENTIALS, classify_value, name_looks_secret


@pytest.mark.parametrize(
    ("value", "flag"),
    [("true", FLAG_BOOLEAN), ("Disabled", FLAG_BOOLEAN), ("3600", FLAG_NUMBER), ("0.5", FLAG_NUMBER), ("15m", FLAG_DURATION), ("30 seconds", FLAG_DURATION)],
)
def test_settings_are_flagged(value, flag):
    assert classify_value(value) == [flag]


def test_long_digit_runs_and_words_are_not_settings():
    assert classify_value("12345678901234567890") == []
    assert classify_value("hunter2") == []
    assert classify_value("postgres://app:pw@db:5432/app") == [FLAG_URL_CREDENTIALS]


@pytest.mark.parametrize("name", ["DB_PASS", "PASS", "SMTP_PASS_WORD", "STRIPE_KEY", "MASTER_KEY"])
def test_secret_names(name):
    assert name_looks_secret(name)


@pytest.mark.parametrize("name", ["PASSENGER_COUNT", "BYPASS_CACHE", "KEYBOARD_LAYOUT", "DB_PASS_FILE"])
def test_not_secret_names(name):
    assert not name_looks_secret(name)
