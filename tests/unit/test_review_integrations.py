"""The pre-commit hook manifest and the GitHub Actions workflow in docs/review.md run real commands."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import typer.main
import yaml

from ecs_audit.cli import app

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "tests" / "data" / "review"


def _review_options() -> set[str]:
    command = typer.main.get_command(app)
    review = command.commands["review"]  # type: ignore[attr-defined]
    return {opt for param in review.params for opt in (*param.opts, *param.secondary_opts)}


def _options_in(args: list[str]) -> list[str]:
    return [a.split("=", 1)[0] for a in args if a.startswith("-")]


def test_pre_commit_hook_manifest_is_valid_and_its_entry_reviews_a_sample() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(hooks, list) and len(hooks) == 1
    hook = hooks[0]
    # pre-commit's required keys, and values of the right kinds.
    assert {"id", "name", "entry", "language"} <= hook.keys()
    assert hook["language"] == "python" and hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    for name in ("deploy/ecs-task-def.json", "ecs-service-def.json", "infra/taskdef.yaml", "cdk.out/App.template.json", "stack.cfn.yaml"):
        assert files.search(name), name
    for name in ("README.md", "package.json", "src/app.py"):
        assert not files.search(name), name
    entry = shlex.split(hook["entry"])
    assert entry[:2] == ["ecs-audit", "review"]
    assert set(_options_in(entry)) <= _review_options()
    script = Path(sys.executable).parent / "ecs-audit"
    # As pre-commit runs it: the entry followed by the staged file names.
    bad = subprocess.run([str(script), *entry[1:], str(SAMPLES / "cli" / "register-input.json")], capture_output=True, text=True)
    assert bad.returncode == 1, bad.stderr  # privileged container: critical FAIL
    assert "SECURITY-002" in bad.stdout
    good = subprocess.run([str(script), *entry[1:], str(SAMPLES / "change" / "before" / "ecs-task-def.json"), str(REPO / "pyproject.toml")],
                          capture_output=True, text=True)
    assert good.returncode == 0, good.stdout + good.stderr


def _workflow() -> dict:
    text = (REPO / "docs" / "review.md").read_text(encoding="utf-8")
    block = text.split("<!-- workflow:", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    return yaml.safe_load(block)


def test_workflow_parses_and_uses_existing_commands_and_options() -> None:
    workflow = _workflow()
    steps = workflow["jobs"]["review"]["steps"]
    runs = [step["run"] for step in steps if "ecs-audit" in step.get("run", "") and "pip install" not in step["run"]]
    assert runs, "the workflow runs ecs-audit"
    known = _review_options()
    for run in runs:
        args = shlex.split(run)
        assert args[:2] == ["ecs-audit", "review"]
        assert set(_options_in(args)) <= known, set(_options_in(args)) - known
        out_dir = args[args.index("--output-dir") + 1]
        formats = args[args.index("--format") + 1].split(",")
        names = {"md": "review.md", "sarif": "review.sarif", "json": "review.json"}
        produced = {f"{out_dir}/{names[f]}" for f in formats}
    # What later steps read is what the review writes.
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif")]
    assert uploads and uploads[0]["with"]["sarif_file"] in produced
    comment = next(s["run"] for s in steps if "gh pr comment" in s.get("run", ""))
    assert shlex.split(comment)[shlex.split(comment).index("--body-file") + 1] in produced
    assert workflow["permissions"]["security-events"] == "write"
    assert workflow["jobs"]["review"]["steps"][0]["with"]["fetch-depth"] == 0  # --base-rev needs the history


def test_workflow_command_runs_on_a_sample_repository(tmp_path: Path) -> None:
    """The workflow's review command, as written (with the base ref filled in), in a git repository."""
    run = next(s["run"] for s in _workflow()["jobs"]["review"]["steps"] if "ecs-audit review" in s.get("run", ""))
    deploy = tmp_path / "deploy"
    deploy.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (deploy / "ecs-task-def.json").write_text((SAMPLES / "change" / "before" / "ecs-task-def.json").read_text())
    git("add", "-A")
    git("commit", "-qm", "base")
    git("update-ref", "refs/remotes/origin/main", "HEAD")
    (deploy / "ecs-task-def.json").write_text((SAMPLES / "change" / "after" / "ecs-task-def.json").read_text())
    args = shlex.split(run.replace("${{ github.base_ref }}", "main"))
    script = Path(sys.executable).parent / "ecs-audit"
    done = subprocess.run([str(script), *args[1:]], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # a new critical FAIL
    assert {p.name for p in (tmp_path / "review").iterdir()} == {"review.md", "review.sarif", "review.json"}
    markdown = (tmp_path / "review" / "review.md").read_text()
    assert "SECURITY-002" in markdown.split("### Fixed by this change")[0]
