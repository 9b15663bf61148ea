"""The one-way flow, as imports: collect -> inventory -> evaluation (rules) -> findings -> report.

Each package may import only what lies upstream of it (docs/architecture.md, "Rules the layout
keeps"). Imports inside functions count too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ecs_audit

PACKAGE = Path(ecs_audit.__file__).parent

# package -> ecs_audit packages/modules it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "semantics": ("collect", "evaluation", "rules", "report", "session", "pipeline", "cli", "demo"),
    "inventory": ("collect", "evaluation", "rules", "report", "session", "pipeline", "cli", "demo"),
    "collect": ("evaluation", "rules", "report", "pipeline", "cli", "demo"),
    "evaluation": ("collect", "report", "session", "pipeline", "cli", "demo"),
    "rules": ("collect", "report", "session", "pipeline", "cli", "demo"),
    "report": ("collect", "evaluation", "rules", "session", "pipeline", "cli", "demo"),
}
THIRD_PARTY_FORBIDDEN = ("boto3", "botocore")
NO_AWS_SDK = ("semantics", "inventory", "evaluation", "rules", "report")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_only_upstream(package: str):
    bad = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for module in _imports(path):
            parts = module.split(".")
            if parts[0] == "ecs_audit" and len(parts) > 1 and parts[1] in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(PACKAGE)} imports {module}")
            if package in NO_AWS_SDK and parts[0] in THIRD_PARTY_FORBIDDEN:
                bad.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert bad == []


def test_the_layering_test_sees_a_forbidden_import(tmp_path: Path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from ecs_audit.evaluation.view import RegionView\n", encoding="utf-8")
    assert "ecs_audit.evaluation.view" in _imports(sample)
