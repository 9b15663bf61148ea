"""scan, evaluate, demo and merge share their report options: each command takes every one of them
(evaluate all but --save-snapshot) and hands them on, as given, to the same option checks."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from ecs_audit import cli
from ecs_audit.errors import UsageError

GIVEN = {
    "--format": ("formats", ["json"]),
    "--output-dir": ("output_dir", Path("out")),
    "--save-snapshot": ("save_snapshot", Path("snap.json")),
    "--fail-on": ("fail_on", "high"),
    "--config": ("config", Path("settings.yaml")),
    "--waivers": ("waivers", Path("waivers.yaml")),
    "--answers": ("answers", Path("answers.yaml")),
    "--baseline": ("baseline", Path("old.json")),
    "--checks": ("checks", ["SECURITY"]),
    "--skip-checks": ("skip_checks", ["SECURITY-001"]),
    "--history": ("history", "runs"),
    "--notify": ("notify", "https://hooks.example.com/x"),
    "--notify-on": ("notify_on", "medium"),
    "--min-severity": ("min_severity", "high"),
    "--status": ("status", ["FAIL"]),
}
COMMANDS = {"scan": [], "evaluate": ["snapshot.json"], "demo": [], "merge": ["shard-1.json"]}


def _option_names(command: str) -> list[str]:
    click_command = typer.main.get_command(cli.app).commands[command]  # type: ignore[attr-defined]
    return [name for param in click_command.params for name in param.opts if name.startswith("--")]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_report_command_lists_the_shared_options_in_one_order(command: str):
    names = _option_names(command)
    expected = [o for o in GIVEN if command != "evaluate" or o != "--save-snapshot"]
    assert [n for n in names if n in GIVEN] == expected
    # the shared options stand together, where the command's `report` parameter stands
    start = names.index("--format")
    assert names[start:start + len(expected)] == expected
    assert names[-2:] == ["--quiet", "--verbose"]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_report_command_hands_on_every_option_as_given(command: str, monkeypatch, tmp_path: Path):
    monkeypatch.delenv("ECS_AUDIT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    seen: list[cli.ReportArgs] = []

    def stop(given: cli.ReportArgs, settings=None):  # type: ignore[no-untyped-def]
        seen.append(given)
        raise UsageError("stopped before any work")

    monkeypatch.setattr(cli, "_options", stop)
    monkeypatch.setattr(cli, "_run_settings", lambda config: (config, None))
    options = {o: v for o, v in GIVEN.items() if command != "evaluate" or o != "--save-snapshot"}
    argv = [command, *COMMANDS[command]]
    for option, (_, value) in options.items():
        argv += [option, ",".join(value) if isinstance(value, list) else str(value)]
    assert cli.main(argv) == 2
    [given] = seen
    assert {field: getattr(given, field) for field, _ in options.values()} == dict(options.values())
    if command == "evaluate":
        assert given.save_snapshot is None
