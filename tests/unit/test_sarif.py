"""report.sarif: valid SARIF 2.1.0 (the OASIS schema, kept as test data), rules, results, suppressions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from ecs_audit.catalogue import Severity
from ecs_audit.findings import Status
from ecs_audit.report.sarif import LEVELS, render_sarif
from tests.support import golden_estate
from tests.support.sample_report import HOSTILE_HTML, sample_report

# docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json, unmodified
# (as in the oasis-tcs/sarif-spec repository, Schemata/sarif-schema-2.1.0.json).
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


@pytest.fixture(scope="module")
def sample():
    return sample_report()


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    outcome = golden_estate.run(tmp_path_factory.mktemp("sarif"), formats=("sarif",))
    text = next(p for p in outcome.written if p.name == "report.sarif").read_text(encoding="utf-8")
    return outcome.report, json.loads(text)


def _errors(validator: Draft4Validator, document: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_sample_report_validates(validator, sample) -> None:
    document = json.loads(render_sarif(*sample))
    assert _errors(validator, document) == []


def test_golden_run_validates(validator, golden) -> None:
    _, document = golden
    assert _errors(validator, document) == []


def test_the_schema_catches_mistakes(validator, sample) -> None:
    """The validation is real: a broken document fails it."""
    document = json.loads(render_sarif(*sample))
    document["runs"][0]["results"][0]["level"] = "fatal"
    del document["version"]
    assert len(_errors(validator, document)) >= 2


def test_every_catalogue_check_is_a_rule(sample) -> None:
    report, catalogue = sample
    run = json.loads(render_sarif(report, catalogue))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules][: len(catalogue.checks)] == [c.id for c in catalogue.checks]
    for rule, entry in zip(rules, catalogue.checks):
        assert rule["shortDescription"]["text"] == entry.title
        assert rule["defaultConfiguration"]["level"] == LEVELS[entry.severity]
        assert rule["help"]["text"].startswith(entry.remediation)
    assert run["tool"]["driver"]["name"] == "ecs-audit"
    assert run["tool"]["driver"]["version"] == report.tool.version


def test_results_are_fail_warn_and_suppressed_waived(sample) -> None:
    report, catalogue = sample
    run = json.loads(render_sarif(report, catalogue))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    expected = [f for f in report.findings if f.status in (Status.FAIL, Status.WARN, Status.WAIVED)]
    assert len(results) == len(expected)
    for result, finding in zip(results, sorted(expected, key=lambda f: f.sort_key)):
        assert result["ruleId"] == finding.check_id
        assert rules[result["ruleIndex"]]["id"] == finding.check_id
        assert result["level"] == LEVELS[finding.severity]
        assert result["properties"]["status"] == finding.status.value
        location = result["locations"][0]
        logical = location["logicalLocations"][0]
        assert logical["kind"] == "resource"
        assert logical["fullyQualifiedName"].startswith(finding.resource.arn)
        assert location["physicalLocation"]["artifactLocation"]["uri"]
        if finding.status is Status.WAIVED:
            (suppression,) = result["suppressions"]
            assert suppression["kind"] == "external" and suppression["status"] == "accepted"
            assert suppression["justification"] == finding.waiver.reason
            assert suppression["properties"]["owner"] == finding.waiver.owner
            assert suppression["properties"]["expires"] == finding.waiver.expires
        else:
            assert "suppressions" not in result


def test_levels_follow_severity() -> None:
    assert LEVELS[Severity.CRITICAL] == LEVELS[Severity.HIGH] == "error"
    assert LEVELS[Severity.MEDIUM] == "warning"
    assert LEVELS[Severity.LOW] == LEVELS[Severity.INFO] == "note"


def test_golden_run_has_baseline_states_and_waiver_notifications(golden) -> None:
    report, document = golden
    run = document["runs"][0]
    states = {r.get("baselineState") for r in run["results"] if r["properties"]["status"] != "WAIVED"}
    assert states == {"new", "unchanged"}
    config = run["invocations"][0]["toolConfigurationNotifications"]
    texts = " ".join(n["message"]["text"] for n in config)
    assert "expired" in texts and "stale" in texts
    assert len(run["invocations"][0]["toolExecutionNotifications"]) == len(report.errors)
    # The fingerprint ignores the task-definition revision: web:42 and web:43 share it.
    fingerprints = [r["partialFingerprints"]["ecsAuditFinding/v1"] for r in run["results"]]
    assert len(fingerprints) == len(set(fingerprints))


def test_hostile_text_is_inert(sample, golden) -> None:
    for text in (render_sarif(*sample), json.dumps(golden[1], ensure_ascii=False)):
        assert not CONTROL.search(text)
        document = json.loads(text)
        for run in document["runs"]:
            for result in run["results"]:
                # Plain text only: SARIF viewers render `markdown` properties, which we never emit.
                assert "markdown" not in result["message"]
    assert HOSTILE_HTML in render_sarif(*sample)  # as text inside JSON strings


def test_rendering_is_deterministic(sample) -> None:
    assert render_sarif(*sample) == render_sarif(*sample_report())


def test_results_written_directly_are_what_the_general_encoding_writes(sample, golden) -> None:
    """render_sarif writes the common result's text directly; it must be _encode_clean(_result(...))
    byte for byte, hostile text, control characters, containers, clusters and evidence included."""
    from ecs_audit.report import sarif

    for report, catalogue in (sample, (golden[0], sample[1])):
        general = sarif.sarif_document(report, catalogue)["runs"][0]["results"]
        encoded = sarif.sarif_document(report, catalogue, encoded=True)["runs"][0]["results"]
        assert len(encoded) == len(general) > 0
        assert encoded == [sarif._encode_clean(r) for r in general]
    # The sample holds results the direct way writes and ones it leaves to the general way.
    report, catalogue = sample
    assert any(f.status is Status.WAIVED for f in report.findings)
    assert any("\\" not in line and "WAIVED" not in line for line in sarif.sarif_document(report, catalogue, encoded=True)["runs"][0]["results"])
