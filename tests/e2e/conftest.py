"""Fixtures and helpers for the end-to-end tests: the installed CLI, run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.moto_server import MotoServer

REPO = Path(__file__).resolve().parents[2]


def cli_path() -> Path:
    """The console script installed next to the interpreter running the tests."""
    script = Path(sys.executable).parent / "ecs-audit"
    if not script.exists():
        pytest.fail(f"the ecs-audit console script is not installed next to {sys.executable}: pip install -e '.[test]'")
    return script


def base_env(home: Path, **extra: str) -> dict[str, str]:
    """The parent environment without any AWS or moto setting, with HOME in a temporary directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), AWS_EC2_METADATA_DISABLED="true", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def aws_env(home: Path, endpoint: str, **extra: str) -> dict[str, str]:
    """Static test credentials, one region, every AWS call sent to `endpoint`."""
    settings = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    settings.update(extra)
    return base_env(home, **settings)


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"ecs-audit {' '.join(self.args)} -> {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def run_cli(args: list[str], env: Mapping[str, str], cwd: Path, timeout: float = 120) -> Run:
    done = subprocess.run(
        [str(cli_path()), *args], env=dict(env), cwd=str(cwd), capture_output=True, text=True, timeout=timeout
    )
    return Run(args, done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server
