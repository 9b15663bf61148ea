"""report.ocsf.json (OCSF 1.5.0 Detection Finding) and report.asff.json (ASFF 2018-10-08): every event
validates; resolved results are marked resolved; ids are stable across runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ecs_audit.report.diff import load_baseline
from ecs_audit.pipeline import ReportOptions, finish
from tests.support import golden_estate
from tests.support.asff_schema import asff_finding_schema


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any]:
    tmp = tmp_path_factory.mktemp("formats")
    finish(golden_estate.inventory("previous"), ReportOptions(output_dir=tmp / "one", formats=("json",)), generated_at=golden_estate.PREVIOUS_AT)
    options = ReportOptions(output_dir=tmp / "two", formats=("ocsf", "asff"), baseline=load_baseline(tmp / "one" / "report.json"))
    outcome = finish(golden_estate.inventory("current"), options, generated_at=golden_estate.GENERATED_AT)
    ocsf = json.loads((tmp / "two" / "report.ocsf.json").read_text())
    asff = json.loads((tmp / "two" / "report.asff.json").read_text())
    assert outcome.report.resolved, "the golden estate's second run resolves something"
    return ocsf, asff, outcome.report


def _unknown_keys(given: Any, parsed: Any, path: str = "") -> list[str]:
    """Keys in `given` that the OCSF model does not know (pydantic ignores them silently)."""
    if isinstance(given, dict) and isinstance(parsed, dict):
        out = []
        for key, value in given.items():
            if key == "unmapped":
                continue
            if key not in parsed:
                out.append(path + key)
            else:
                out += _unknown_keys(value, parsed[key], f"{path}{key}.")
        return out
    if isinstance(given, list) and isinstance(parsed, list):
        return [k for g, p in zip(given, parsed) for k in _unknown_keys(g, p, path)]
    return []


def test_ocsf_events_are_detection_findings(outputs):
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding

    ocsf, _, report = outputs
    open_results = [f for f in report.findings if f.status.value in ("FAIL", "WARN")]
    assert len(ocsf) == len(open_results) + len(report.resolved)
    for event in ocsf:
        parsed = DetectionFinding.model_validate(event)
        assert _unknown_keys(event, parsed.model_dump(mode="json")) == []
        assert event["class_uid"] == 2004 and event["category_uid"] == 2
        assert event["type_uid"] == 2004 * 100 + event["activity_id"]
    closed = [e for e in ocsf if e["activity_id"] == 3]
    assert len(closed) == len(report.resolved) and {e["status_id"] for e in closed} == {4}
    assert {e["status_id"] for e in ocsf if e["activity_id"] == 1} == {1}
    # the same problem keeps its id: a resolved one has the id its open event had in the baseline run
    assert len({e["finding_info"]["uid"] for e in ocsf if e["activity_id"] == 1}) == len(open_results)


def test_asff_findings_validate_against_the_security_hub_model(outputs):
    _, asff, report = outputs
    schema = asff_finding_schema()
    validator = jsonschema.Draft202012Validator(schema)
    for finding in asff:
        errors = sorted(validator.iter_errors(finding), key=lambda e: list(e.path))
        assert not errors, f"{finding['Id']}: {errors[0].message} at {list(errors[0].path)}"
        assert len(finding["Title"]) <= 256 and len(finding["Description"]) <= 1024
        assert len(finding["Remediation"]["Recommendation"]["Text"]) <= 512
    resolved = [f for f in asff if f["Workflow"]["Status"] == "RESOLVED"]
    assert len(resolved) == len(report.resolved)
    assert {(f["RecordState"], f["Compliance"]["Status"]) for f in resolved} == {("ARCHIVED", "PASSED")}
    assert {f["RecordState"] for f in asff if f["Workflow"]["Status"] == "NEW"} == {"ACTIVE"}


def test_the_asff_schema_check_can_fail():
    validator = jsonschema.Draft202012Validator(asff_finding_schema())
    assert list(validator.iter_errors({"SchemaVersion": "2018-10-08"}))  # required members missing
    bad = {"Severity": {"Label": "SEVERE"}}
    assert any("SEVERE" in e.message for e in validator.iter_errors(bad))
    assert any("Nope" in e.message for e in validator.iter_errors({"Nope": 1}))


def test_hostile_text_stays_data(outputs):
    ocsf, asff, _ = outputs
    text = json.dumps(ocsf) + json.dumps(asff)
    assert "\x1b" not in text
