"""Generated docs must match the code; refresh them with `python -m ecs_audit.docs`."""

from pathlib import Path

import pytest

from ecs_audit.docs import generated_docs

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path,text", sorted(generated_docs(ROOT).items()), ids=lambda v: getattr(v, "name", ""))
def test_generated_doc_is_current(path: Path, text: str):
    assert path.exists(), f"{path} missing: run python -m ecs_audit.docs"
    assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run python -m ecs_audit.docs"
