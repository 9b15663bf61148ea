"""Secret-looking names: which values are settings (never a critical FAIL), which names are secrets."""

from __future__ import annotations

import pytest

from ecs_audit.redact import FLAG_BOOLEAN, FLAG_DURATION, FLAG_NUMBER, FLAG_URL_CREDENTIALS, classify_value, name_allowed, name_looks_secret


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


@pytest.mark.parametrize(
    ("name", "allowed"),
    [("FEATURE_SEARCH_TOKEN_TTL", True), ("FEATURE__TOKEN_TTL", True), ("DB_PASSWORD", True), ("DB_PASSWORD_2", False),
     ("FEATURE_SEARCH_TOKEN", False), ("feature_search_token_ttl", False), ("SESSION_KEY_1", True), ("SESSION_KEY_12", False)],
)
def test_allowlist_entries_are_exact_names_or_case_sensitive_globs(name, allowed):
    assert name_allowed(name, ["FEATURE_*_TOKEN_TTL", "DB_PASSWORD", "SESSION_KEY_?"]) is allowed


def test_an_empty_allowlist_allows_nothing():
    assert not name_allowed("ANYTHING", [])
