"""A JSON schema for one ASFF finding, derived from the AwsSecurityFinding shape of botocore's
Security Hub service model (the API's own definition of what BatchImportFindings accepts): required
members, member names (no others), types, enums and patterns, recursively."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import botocore


def _model() -> dict[str, Any]:
    root = Path(botocore.__file__).parent / "data" / "securityhub"
    version = sorted(p.name for p in root.iterdir() if p.is_dir())[-1]
    path = root / version / "service-2.json"
    if path.exists():
        return json.loads(path.read_text())
    return json.loads(gzip.decompress((root / version / "service-2.json.gz").read_bytes()))


def _schema(shapes: dict[str, Any], name: str, defs: dict[str, Any]) -> dict[str, Any]:
    if name in defs:
        return {"$ref": f"#/$defs/{name}"}
    shape = shapes[name]
    kind = shape["type"]
    if kind == "structure":
        defs[name] = {}  # recursion guard
        out: dict[str, Any] = {
            "type": "object",
            "additionalProperties": False,
            "properties": {m: _schema(shapes, spec["shape"], defs) for m, spec in shape["members"].items()},
        }
        if shape.get("required"):
            out["required"] = list(shape["required"])
        defs[name] = out
        return {"$ref": f"#/$defs/{name}"}
    if kind == "list":
        return {"type": "array", "items": _schema(shapes, shape["member"]["shape"], defs)}
    if kind == "map":
        return {"type": "object", "additionalProperties": _schema(shapes, shape["value"]["shape"], defs)}
    if kind == "string":
        out = {"type": "string"}
        if "enum" in shape:
            out["enum"] = shape["enum"]
        if "pattern" in shape:
            out["pattern"] = shape["pattern"]
        return out
    if kind in ("integer", "long"):
        return {"type": "integer"}
    if kind in ("double", "float"):
        return {"type": "number"}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "timestamp":
        return {"type": "string"}
    return {}


def asff_finding_schema() -> dict[str, Any]:
    shapes = _model()["shapes"]
    defs: dict[str, Any] = {}
    root = _schema(shapes, "AwsSecurityFinding", defs)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **root, "$defs": defs}
