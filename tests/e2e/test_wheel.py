"""End to end: the wheel carries everything the tool needs (the check catalogue and the report templates
live outside the package in the source tree and are force-included under ecs_audit/_data).

The wheel is built from this checkout, installed into a fresh virtual environment and run from another
directory, so nothing can come from the source tree. Its dependencies are by default taken from the
environment running the tests (a .pth file placed after the new environment's own site-packages, so the
installed ecs_audit wins); set ECS_AUDIT_WHEEL_TEST_INSTALL_DEPS=1 to have pip install them too (slower,
and needs the package index).
"""

from __future__ import annotations

from tests.support.report_json import read_report

import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecs_audit.inventory.snapshot import save_snapshot
from tests.e2e.conftest import REPO, base_env
from tests.support.estate import build_inventory

pytestmark = pytest.mark.e2e


@dataclass
class Installed:
    venv: Path
    python: Path
    script: Path
    env: dict[str, str]
    work: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.script), *args], env=self.env, cwd=str(self.work), capture_output=True, text=True, timeout=120)


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    tmp = tmp_path_factory.mktemp("wheel")
    built = _pip("wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp / "dist"), str(REPO))
    assert built.returncode == 0, built.stderr
    wheels = sorted((tmp / "dist").glob("ecs_audit-*.whl"))
    assert len(wheels) == 1, wheels

    venv = tmp / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], capture_output=True, text=True, timeout=120)
    if made.returncode != 0:
        pytest.skip(f"cannot create a virtual environment here: {made.stderr.strip() or made.stdout.strip()}")
    python = venv / "bin" / "python"

    # pip of this environment installs into the new one (pip >= 22.3), which then needs no pip of its own.
    done = _pip("--python", str(python), "install", "-q", "--no-deps", str(wheels[0]))
    assert done.returncode == 0, done.stderr
    if os.environ.get("ECS_AUDIT_WHEEL_TEST_INSTALL_DEPS") == "1":
        done = _pip("--python", str(python), "install", "-q", str(wheels[0]))
        assert done.returncode == 0, done.stderr
    else:
        site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True)
        Path(site.stdout.strip(), "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp / "elsewhere"
    work.mkdir()
    yield Installed(venv, python, venv / "bin" / "ecs-audit", base_env(tmp / "home"), work)


def test_the_installed_package_is_the_wheel(installed: Installed) -> None:
    probe = subprocess.run(
        [str(installed.python), "-c", "import ecs_audit, ecs_audit.package_data as r; print(ecs_audit.__file__); print(r.data_dir('checks')); print(r.data_dir('templates'))"],
        env=installed.env, cwd=str(installed.work), capture_output=True, text=True,
    )
    assert probe.returncode == 0, probe.stderr
    package, checks, templates = probe.stdout.split()
    for path in (package, checks, templates):
        assert Path(path).resolve().is_relative_to(installed.venv.resolve()), path
    assert Path(checks).parts[-2:] == ("_data", "checks")


def test_checks_lists_the_catalogue(installed: Installed) -> None:
    done = installed.run("checks", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    ids = {row["id"] for row in rows}
    areas = {row["area"] for row in rows}
    assert {"CICD", "TASKDEF", "IMAGE", "SECURITY", "NETWORK", "STORAGE", "OBSERVABILITY", "RESILIENCE", "CLUSTER", "TAGGING"} <= areas, areas
    assert {"SECURITY-002", "NETWORK-001", "CICD-001", "MANUAL-001"} <= ids
    assert len(rows) >= 60, len(rows)


def test_evaluate_renders_every_report_format(installed: Installed) -> None:
    inventory = build_inventory(
        {
            "clusters": [{"clusterName": "tiny", "settings": [{"name": "containerInsights", "value": "enabled"}]}],
            "services": [{"serviceName": "api", "cluster": "tiny", "taskDefinition": "api:1", "desiredCount": 2, "runningCount": 2, "launchType": "FARGATE"}],
            "task_definitions": [
                {
                    "family": "api",
                    "revision": 1,
                    "networkMode": "awsvpc",
                    "cpu": "256",
                    "memory": "512",
                    "containerDefinitions": [{"name": "app", "image": "public.ecr.aws/nginx/nginx:1.27", "cpu": 256, "memory": 512, "privileged": True}],
                }
            ],
        }
    )
    snapshot = installed.work / "tiny.json"
    save_snapshot(inventory, snapshot)
    out = installed.work / "report"
    done = installed.run("evaluate", str(snapshot), "-o", str(out))
    assert done.returncode == 0, done.stderr
    html = (out / "report.html").read_text()
    assert "<html" in html.lower() and "SECURITY-002" in html
    assert "SECURITY-002" in (out / "report.md").read_text()
    report = read_report(out / "report.json")
    assert any(f["check_id"] == "SECURITY-002" and f["status"] == "FAIL" for f in report["findings"])
