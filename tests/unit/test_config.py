"""The --config file: validated, one-line errors, check ids checked against the catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecs_audit.catalogue import load_catalogue
from ecs_audit.config import AuditConfig, load_config
from ecs_audit.errors import UsageError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_no_file_means_defaults():
    assert load_config(None) == AuditConfig()


def test_settings_are_read(tmp_path: Path):
    config = load_config(_write(tmp_path, "required_tags: [Environment, Owner]\nimage_size_warn_mib: 300\n"))
    assert config.required_tags == ["Environment", "Owner"] and config.image_size_warn_mib == 300


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("required_tagz: [a]\n", "required_tagz"),
        ("image_size_warn_mib: -1\n", "image_size_warn_mib"),
        ("- a list\n", "expected a mapping"),
        ("a: [\n", "invalid YAML"),
        ("sidecars:\n  - image: 'x*'\n    checks: [SECURITY-999]\n    reason: test\n", "SECURITY-999"),
        ("secret_env_allowlist: ['*']\n", "would allow every variable name"),
    ],
)
def test_bad_settings_are_one_line_usage_errors(tmp_path: Path, text: str, fragment: str):
    with pytest.raises(UsageError) as raised:
        load_config(_write(tmp_path, text), load_catalogue())
    assert fragment in str(raised.value) and "\n" not in str(raised.value)


def test_a_missing_file_is_a_usage_error(tmp_path: Path):
    with pytest.raises(UsageError, match="no such file"):
        load_config(tmp_path / "absent.yaml")


# --- the run: section -------------------------------------------------------------------------------

from ecs_audit.config import RunSettings, config_path, load_run_settings  # noqa: E402
from ecs_audit.settings import choose, fill_template  # noqa: E402


def test_run_settings_sit_beside_the_check_settings(tmp_path: Path):
    path = _write(
        tmp_path,
        "required_tags: [Owner]\n"
        "run:\n  profile: audit\n  regions: [eu-west-1, us-east-1]\n  formats: [json]\n  output_dir: reports/{date}\n"
        "  fail_on: critical\n  history: hist\n  waivers: waivers.yaml\n",
    )
    assert load_config(path).required_tags == ["Owner"]  # the run: section is not a check setting
    run = load_run_settings(path)
    assert run.profile == "audit" and run.regions == ["eu-west-1", "us-east-1"] and run.fail_on == "critical"
    assert load_run_settings(_write(tmp_path, "required_tags: [Owner]\n")) == RunSettings()  # old files still read


@pytest.mark.parametrize(
    "text, where",
    [
        ("run:\n  regoins: [x]\n", "run.regoins"),
        ("run:\n  fail_on: sometimes\n", "run.fail_on"),
        ("run:\n  max_workers: 0\n", "run.max_workers"),
        ("run: [a]\n", "run"),
    ],
)
def test_bad_run_settings_name_the_file_and_key(tmp_path: Path, text: str, where: str):
    path = _write(tmp_path, text)
    with pytest.raises(UsageError) as raised:
        load_run_settings(path)
    message = str(raised.value)
    assert message.startswith(f"config {path}: invalid at {where}") and "\n" not in message


def test_config_path_from_the_environment(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("ECS_AUDIT_CONFIG", str(tmp_path / "c.yaml"))
    assert config_path(None) == tmp_path / "c.yaml"
    assert config_path(Path("given.yaml")) == Path("given.yaml")


def test_command_line_beats_environment_beats_file(monkeypatch):
    monkeypatch.setenv("ECS_AUDIT_FAIL_ON", "high")
    assert choose("low", "ECS_AUDIT_FAIL_ON", "critical", "never") == "low"
    assert choose(None, "ECS_AUDIT_FAIL_ON", "critical", "never") == "high"
    monkeypatch.delenv("ECS_AUDIT_FAIL_ON")
    assert choose(None, "ECS_AUDIT_FAIL_ON", "critical", "never") == "critical"
    assert choose(None, "ECS_AUDIT_FAIL_ON", None, "never") == "never"


def test_output_dir_template():
    from datetime import datetime, timezone

    now = datetime(2026, 12, 4, 6, 15, 9, tzinfo=timezone.utc)
    assert fill_template("reports/{date}", now) == "reports/2026-12-04"
    assert fill_template("r/{date}T{time}", now) == "r/2026-12-04T061509"
    with pytest.raises(UsageError, match="unknown placeholder"):
        fill_template("r/{when}", now)
    with pytest.raises(UsageError, match="unbalanced"):
        fill_template("r/{date", now)


def test_the_cli_takes_run_settings_and_lets_options_override(tmp_path: Path, monkeypatch, capsys):
    from ecs_audit.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796364000")  # 2026-12-04
    from tests.support import golden_estate
    from ecs_audit.inventory.snapshot import save_snapshot

    save_snapshot(golden_estate.inventory("current"), tmp_path / "snap.json")
    config = _write(tmp_path, "run:\n  formats: [json]\n  output_dir: out/{date}\n  fail_on: low\n  history: hist\n")
    assert main(["evaluate", "snap.json", "--config", str(config), "-q"]) == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["2026-12-04"]
    assert [p.name for p in (tmp_path / "out" / "2026-12-04").iterdir()] == ["report.json"]
    assert (tmp_path / "hist" / "latest").is_file()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ecs-audit: --fail-on low: ")
    # options override the file
    assert main(["evaluate", "snap.json", "--config", str(config), "-q", "--fail-on", "never", "-o", "other", "-f", "md"]) == 0
    assert [p.name for p in (tmp_path / "other").iterdir()] == ["report.md"]
    assert capsys.readouterr().err == ""
    bad = _write(tmp_path, "run:\n  formats: [docx]\n")
    assert main(["evaluate", "snap.json", "--config", str(bad)]) == 2
    assert f"config {bad}: invalid at run.formats.0" in capsys.readouterr().err


def test_the_settings_file_knows_every_report_format():
    from typing import get_args

    from ecs_audit.config import ReportFormat
    from ecs_audit.report.render import FILE_NAMES

    assert set(get_args(ReportFormat)) == set(FILE_NAMES)


def test_a_bad_webhook_in_the_file_is_named_but_not_shown(tmp_path: Path):
    path = _write(tmp_path, "run:\n  notify: hooks.example/T0/B0/sekrit\n")
    with pytest.raises(UsageError) as raised:
        load_run_settings(path)
    assert "run.notify" in str(raised.value) and "sekrit" not in str(raised.value)


def test_account_ids_may_be_unquoted_when_they_have_twelve_digits(tmp_path: Path):
    run = load_run_settings(_write(tmp_path, "run:\n  accounts: [111122223333, '012345678901']\n"))
    assert run.accounts == ["111122223333", "012345678901"]
    with pytest.raises(UsageError, match="run.accounts.0"):
        load_run_settings(_write(tmp_path, "run:\n  accounts: [12345]\n"))
