"""`ecs-audit --help` stays light: the CLI module loads typer and nothing of the audit's heavy
dependencies; each command imports what it needs. (Its time is a benchmark figure, docs/performance.md.)"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("boto3", "botocore", "pydantic", "jinja2", "yaml", "ecs_audit.pipeline", "ecs_audit.catalogue")


def test_the_cli_module_and_its_help_load_no_heavy_dependency():
    code = (
        "import sys\n"
        "from ecs_audit.cli import main\n"
        "code = main(['--help'])\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m in {HEAVY!r})\n"
        "assert code == 0 and not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "scan" in done.stdout and "demo" in done.stdout
