"""Runs every check's data cases (tests/cases/<AREA>/<CHECK-ID>.yaml) through the real engine.

A case file:
    check: SECURITY-002
    cases:
      - name: a privileged container fails
        estate: {task_definitions: [...], services: [...], clusters: [...], tasks: [...], errors: [...]}
        config: {...}                 # optional AuditConfig overrides
        expect: {"app:1/web": FAIL}   # every result of the check, by key (see support.estate.result_key)
        messages: {"app:1/web": "privileged"}   # optional: substrings the message must contain
        severity: {"app:1/web": high}           # optional: expected finding severity
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ecs_audit.config import AuditConfig
from ecs_audit.evaluation.engine import evaluate
from tests.support.estate import build_inventory, result_key

CASES_DIR = Path(__file__).resolve().parent.parent / "cases"


def _case_files() -> list[Path]:
    return sorted(CASES_DIR.glob("*/*.yaml"))


def _cases():
    for path in _case_files():
        doc = yaml.safe_load(path.read_text())
        for index, case in enumerate(doc["cases"]):
            yield pytest.param(doc["check"], case, id=f"{doc['check']}[{index}] {case['name']}")


@pytest.mark.parametrize(("check_id", "case"), list(_cases()))
def test_case(check_id, case, catalogue, registry):
    assert check_id in registry, f"{check_id} has cases but no registered function"
    inventory = build_inventory(case.get("estate", {}))
    config = AuditConfig.model_validate(case.get("config", {}))
    findings = evaluate(inventory, catalogue, registry, config, selected={check_id})
    got = {result_key(f): f for f in findings}
    expected = case["expect"]
    assert {k: got[k].status.value for k in got} == expected, "\n".join(
        f"{k}: {f.status.value} - {f.message}" for k, f in got.items()
    )
    for key, fragment in (case.get("messages") or {}).items():
        assert fragment.lower() in got[key].message.lower(), f"{key}: {got[key].message!r} lacks {fragment!r}"
    for key, severity in (case.get("severity") or {}).items():
        assert got[key].severity.value == severity


def test_every_case_file_is_named_for_its_check():
    for path in _case_files():
        doc = yaml.safe_load(path.read_text())
        assert path.stem == doc["check"], path
        assert path.parent.name == doc["check"].split("-")[0], path


def test_every_registered_check_has_passing_and_failing_cases(registry):
    statuses: dict[str, set[str]] = {}
    for path in _case_files():
        doc = yaml.safe_load(path.read_text())
        for case in doc["cases"]:
            statuses.setdefault(doc["check"], set()).update(case["expect"].values())
    missing = []
    for check_id in sorted(registry):
        seen = statuses.get(check_id, set())
        if "PASS" not in seen or not seen & {"FAIL", "WARN"}:
            missing.append(f"{check_id}: {sorted(seen) or 'no cases'}")
    assert not missing, "checks without PASS and FAIL/WARN cases:\n" + "\n".join(missing)
