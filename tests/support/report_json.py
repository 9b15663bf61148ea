"""report.json as the tests read it: schema 2 expanded into the full report model's shape (each finding
with its check's fields and its resource), so assertions need not know how the file is compacted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecs_audit.report.model import report_from_json


def read_report(path: Path) -> dict[str, Any]:
    return report_from_json(path.read_text(encoding="utf-8")).model_dump(mode="json")
