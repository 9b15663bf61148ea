"""--no-pacing and the settings file's run.pacing reach the scan's access options (the factory's
side is in test_pacing.py); the default stays paced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecs_audit.cli import main


class _Stop(Exception):
    pass


@pytest.mark.parametrize(
    ("args", "settings", "pacing"),
    [
        ([], None, True),
        (["--no-pacing"], None, False),
        ([], "run:\n  pacing: false\n", False),
        (["--no-pacing"], "run:\n  pacing: true\n", False),
        ([], "run:\n  max_workers: 2\n", True),
    ],
    ids=["default", "flag", "settings-file", "flag-wins", "file-without-it"],
)
def test_pacing_is_chosen_from_the_flag_and_the_settings_file(tmp_path: Path, monkeypatch, args, settings, pacing) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # a closed port: nothing can be sent
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    seen: list[Any] = []

    def fake_scan(session: Any, access: Any, *_: Any, **__: Any) -> None:
        seen.append(access)
        raise _Stop

    monkeypatch.setattr("ecs_audit.pipeline.scan", fake_scan)
    if settings is not None:
        (tmp_path / "c.yaml").write_text(settings)
        args = [*args, "--config", str(tmp_path / "c.yaml")]
    main(["scan", "--region", "us-east-1", "-o", str(tmp_path / "out"), *args])  # stops in fake_scan
    assert [a.pacing for a in seen] == [pacing]
    assert seen[0].api_share == 0.5  # unchanged either way
