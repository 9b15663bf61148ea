"""Locate the data that ships with the tool: the check catalogue and the report templates."""

from __future__ import annotations

from pathlib import Path


def data_dir(name: str) -> Path:
    """Return the directory `checks` or `templates`.

    An installed wheel carries them under ecs_audit/_data; a source checkout (editable install,
    tests run from the repository) has them at the repository root.
    """
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir / "_data" / name, package_dir.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"ecs-audit installation is incomplete: no '{name}' directory found")
