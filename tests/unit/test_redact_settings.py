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


@pytest.mark.parametrize(
    ("value", "flag"),
    [
        ("redis://:pw-only@cache:6379/0", "url_with_credentials"),
        ("Server=db;User Id=sa;Password=Passw0rd!;", "embedded_password"),
        ("jdbc:mysql://db/app?user=a&password=b", "embedded_password"),
        ('{"username": "app", "password": "hunter2"}', "embedded_password"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "known_token_format"),
        ("/secrets/service-account.json", "file_path"),
    ],
)
def test_hold_out_value_shapes(value, flag):
    assert flag in classify_value(value)


@pytest.mark.parametrize("value", ["Password=${DB_PASSWORD}", "https://user@host/", "/abc", "not a path/secret"])
def test_placeholders_and_plain_text_carry_no_flag(value):
    assert classify_value(value) == []


def test_scrub_text_hides_the_new_shapes():
    from ecs_audit.redact import scrub_text

    text = scrub_text("curl redis://:pw-only@cache && echo ghp_abcdefghijklmnopqrstuvwxyz0123456789 Password=Passw0rd!")
    assert "pw-only" not in text and "ghp_" not in text and "Passw0rd" not in text
    assert "hunter2" not in scrub_text('{"username": "app", "password": "hunter2"}')


@pytest.mark.parametrize("name", ["PASSPHRASE", "LDAP_BIND_PW", "BASIC_AUTH", "S3_KEY"])
def test_more_secret_names(name):
    assert name_looks_secret(name)


@pytest.mark.parametrize("name", ["BASIC_AUTH_USER", "JWT_PUBLIC_KEY", "STRIPE_PUBLISHABLE_KEY", "PARTITION_KEY", "S3_OBJECT_KEY", "TOKEN_AUDIENCE", "PASSWORD_POLICY"])
def test_more_not_secret_names(name):
    assert not name_looks_secret(name)


def test_docker_volume_driver_options_keep_no_password():
    from ecs_audit.inventory.ecs import DockerVolumeConfiguration

    config = DockerVolumeConfiguration.model_validate(
        {"driver": "local", "driverOpts": {"type": "cifs", "o": "username=app,password=hunter2", "device": "//fs/share"}}
    )
    assert "hunter2" not in str(config.driver_opts)
    assert config.bound_host_path is None
    bound = DockerVolumeConfiguration.model_validate({"driver": "local", "driverOpts": {"type": "none", "o": "bind", "device": "/etc"}})
    assert bound.bound_host_path == "/etc"


@pytest.mark.parametrize(
    "options",
    [
        {"type": "cifs", "o": "username=bob,pass=S3cretPw!", "device": "//fs/share"},
        {"type": "cifs", "o": "user=bob%S3cretPw!", "device": "//fs/share"},
        {"type": "cifs", "o": "vers=3.0,S3cretPw!", "device": "//fs/share"},
        {"type": "cifs", "o": "addr=10.0.0.1", "device": "//bob:S3cretPw!@fs/share"},
        {"type": "cifs", "o": "ro", "device": "//fs/share", "extra": "S3cretPw!"},
    ],
)
def test_docker_volume_driver_options_keep_only_option_names(options):
    from ecs_audit.inventory.ecs import DockerVolumeConfiguration

    config = DockerVolumeConfiguration.model_validate({"driver": "local", "driverOpts": options})
    stored = config.model_dump_json()
    assert "S3cretPw" not in stored and "bob" not in stored and "10.0.0.1" not in stored
    assert config.driver_opts["type"] == "cifs"


def test_docker_volume_driver_options_keep_what_checks_need():
    from ecs_audit.redact import REDACTED, redact_driver_opts

    kept = redact_driver_opts({"type": "none", "o": "rbind,ro,uid=1000", "device": "/var/run"})
    assert kept == {"type": "none", "o": f"rbind,ro,uid={REDACTED}", "device": "/var/run"}


@pytest.mark.parametrize("value", ["/JalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "/p4ss/w0rd", "/Zx9q/Tk4w"])
def test_a_leading_slash_makes_no_file_path(value):
    assert "file_path" not in classify_value(value)


@pytest.mark.parametrize("value", ["/run/secrets/db", "/etc/ssl/certs/", "/keys/signing.pem", "/opt/app/config.yaml"])
def test_paths_need_an_extension_or_a_known_directory(value):
    assert classify_value(value) == ["file_path"]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("app --password=abc,def123 --verbose", "def123"),
        ("PASSWORD=ab}cd", "cd"),
        ('TOKEN="ab cd" next', "cd"),
        ('{"username": "app", "password": "hun, ter}2"}', "ter}2"),
        ("{'api_key': 'a,b9z'}", "b9z"),
    ],
)
def test_scrub_text_redacts_the_whole_assigned_value(text, secret):
    from ecs_audit.redact import REDACTED, scrub_text

    scrubbed = scrub_text(text)
    assert secret not in scrubbed and REDACTED in scrubbed


def test_scrub_text_keeps_what_follows_a_quoted_value():
    from ecs_audit.redact import scrub_text

    assert scrub_text('{"password": "x,y", "user": "app"}') == '{"password": "<redacted>", "user": "app"}'
    assert scrub_text("run --password=abc,def next") == "run --password=<redacted> next"


@pytest.mark.parametrize("name", ["AZURE_COSMOS_PRIMARY_KEY", "STORAGE_PRIMARY_KEY", "AZURE_REDIS_CACHE_KEY", "PAGERDUTY_ROUTING_KEY"])
def test_access_keys_named_for_their_role_are_secret(name):
    assert name_looks_secret(name)


def test_an_rbind_local_volume_binds_its_device():
    from ecs_audit.inventory.ecs import DockerVolumeConfiguration

    rbound = DockerVolumeConfiguration.model_validate({"driver": "local", "driverOpts": {"type": "none", "o": "rbind,ro", "device": "/var/run"}})
    assert rbound.bound_host_path == "/var/run"
