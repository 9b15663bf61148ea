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
    ],
)
def test_bad_settings_are_one_line_usage_errors(tmp_path: Path, text: str, fragment: str):
    with pytest.raises(UsageError) as raised:
        load_config(_write(tmp_path, text), load_catalogue())
    assert fragment in str(raised.value) and "\n" not in str(raised.value)


def test_a_missing_file_is_a_usage_error(tmp_path: Path):
    with pytest.raises(UsageError, match="no such file"):
        load_config(tmp_path / "absent.yaml")
