"""The recipes in docs/scheduling.md work as written: the settings file loads, the cron line is a
valid crontab entry, the launchd plist parses (plistlib), the systemd units pass `systemd-analyze
verify` (where it exists), and the GitHub Actions workflow has the structure the recipe promises and
passes options the CLI accepts."""

from __future__ import annotations

import os
import plistlib
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ecs_audit.cli import main
from ecs_audit.config import load_config, load_run_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "scheduling.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def _scan_args(command: str) -> list[str]:
    """The arguments after `ecs-audit` in a shell command line, with shell variables replaced."""
    words = shlex.split(command.replace("\\\n", " "))
    start = next(i for i, w in enumerate(words) if w.endswith("ecs-audit") and i + 1 < len(words) and words[i + 1] == "scan")
    return words[start + 1:]


def test_the_settings_file_loads(tmp_path: Path):
    settings = _blocks("yaml")[0]
    path = tmp_path / "ecs-audit.yaml"
    path.write_text(settings)
    load_config(path)
    run = load_run_settings(path)
    assert run.history == "history" and run.output_dir == "reports/{date}" and run.fail_on == "critical"


def test_the_cron_line(tmp_path: Path):
    (block,) = _blocks("cron")
    lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    minute, hour, dom, month, dow, command = fields
    assert minute.isdigit() and hour.isdigit() and (dom, month, dow) == ("*", "*", "*")
    assert not re.search(r"(?<!\\)%", command), "an unescaped % ends a crontab command"
    args = _scan_args(command)
    assert "--config" in args and "--quiet" in args


def test_the_launchd_plist():
    (block,) = _blocks("xml")
    plist = plistlib.loads(block.encode("utf-8"))
    assert plist["Label"] == "dev.ecs-audit.nightly"
    assert plist["StartCalendarInterval"] == {"Hour": 6, "Minute": 15}
    shell, flag, command = plist["ProgramArguments"]
    assert (shell, flag) == ("/bin/sh", "-c")
    assert "--config" in _scan_args(command) and plist["StandardErrorPath"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_verify(tmp_path: Path):
    service, timer = _blocks("ini")
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    program = home / ".local" / "bin" / "ecs-audit"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    (units / "ecs-audit.service").write_text(service)
    (units / "ecs-audit.timer").write_text(timer)
    env = {**os.environ, "HOME": str(home)}
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", "ecs-audit.service", "ecs-audit.timer"],
        cwd=units, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "ExecStart=%h/.local/bin/ecs-audit scan --config" in service


def test_the_github_actions_workflow(tmp_path: Path, monkeypatch, capsys):
    workflow = yaml.safe_load(_blocks("yaml")[-1])
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"].count(" ") == 4
    assert workflow["permissions"]["id-token"] == "write" and workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["audit"]["steps"]
    uses = {s.get("uses", "").split("@")[0]: s for s in steps}
    assert uses["aws-actions/configure-aws-credentials"]["with"]["role-to-assume"].startswith("arn:aws:iam::")
    sarif = uses["github/codeql-action/upload-sarif"]
    assert sarif["if"] == "always()"
    audit = next(s for s in steps if s.get("id") == "audit")
    command = next(line for line in audit["run"].splitlines() if "ecs-audit scan" in line)
    args = _scan_args(command)
    out = args[args.index("--output-dir") + 1]
    formats = args[args.index("--format") + 1].split(",")
    assert "md" in formats and "sarif" in formats
    assert sarif["with"]["sarif_file"] == f"{out}/report.sarif"
    summary = next(s for s in steps if "GITHUB_STEP_SUMMARY" in s.get("run", ""))
    assert f"{out}/report.md" in summary["run"] and summary["if"] == "always()"
    assert steps[-1]["if"] == "steps.audit.outputs.exit != '0'"
    # the options are ones the CLI accepts: without credentials the run stops at exit 3, not 2 (usage)
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.chdir(tmp_path)
    assert main(args) == 3
    assert "credentials" in capsys.readouterr().err
