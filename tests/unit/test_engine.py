"""Engine semantics: missing data is never a PASS, crashes become UNKNOWN, gaps are reported."""

from __future__ import annotations

from ecs_audit.catalogue import Area, Catalogue, CheckEntry, Scope, Severity
from ecs_audit.config import AuditConfig, SidecarExcuse
from ecs_audit.evaluation.engine import evaluate
from ecs_audit.evaluation.subjects import ContainerSubject, ServiceSubject
from ecs_audit.findings import EvidenceMissing, Status, ok
from ecs_audit.rules.registry import RegisteredCheck
from tests.support.estate import build_inventory, result_key


def _catalogue(scope: Scope, needs=(), pass_needs=()) -> Catalogue:
    entry = CheckEntry(
        id="TEST-001",
        title="A test check",
        severity=Severity.HIGH,
        scope=[scope],
        needs=list(needs),
        pass_needs=list(pass_needs),
        rationale="because tests need one",
        remediation="fix the test estate",
    )
    return Catalogue(areas=[Area(area="TEST", title="Test", order=1, checks=[entry])])


ESTATE = {
    "clusters": [{"clusterName": "c1"}, {"clusterName": "c2"}],
    "services": [
        {"serviceName": "a", "cluster": "c1", "taskDefinition": "app:1"},
        {"serviceName": "b", "cluster": "c2", "taskDefinition": "app:1"},
    ],
    "task_definitions": [{"family": "app", "containerDefinitions": [{"name": "web", "image": "web:1"}, {"name": "otel", "image": "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"}]}],
}


def _run(scope: Scope, function, estate=ESTATE, needs=(), config=None):
    registry = {"TEST-001": RegisteredCheck("TEST-001", function)}
    findings = evaluate(build_inventory(estate), _catalogue(scope, needs), registry, config or AuditConfig())
    return {result_key(f): f for f in findings}


def test_a_needed_call_that_failed_makes_the_covered_resources_unknown():
    estate = dict(ESTATE, errors=[{"service": "ecs", "operation": "ListTasks", "resources": ["cluster/c1"]}])
    got = _run(Scope.SERVICE, lambda s: ok("fine"), estate, needs=("ecs:ListTasks",))
    assert got["c1/a"].status is Status.UNKNOWN
    assert "ecs:ListTasks" in got["c1/a"].message and "AccessDeniedException" in got["c1/a"].message
    assert got["c2/b"].status is Status.PASS


def test_a_failure_the_check_does_not_need_changes_nothing():
    estate = dict(ESTATE, errors=[{"service": "ecs", "operation": "ListTasks", "resources": ["cluster/c1"]}])
    got = _run(Scope.SERVICE, lambda s: ok("fine"), estate)
    assert {k: f.status for k, f in got.items()} == {"c1/a": Status.PASS, "c2/b": Status.PASS}


def test_resources_that_could_not_be_listed_become_unknown_on_their_parent():
    estate = dict(ESTATE, errors=[{"service": "ecs", "operation": "ListServices", "resources": ["cluster/c2"]}])
    got = _run(Scope.SERVICE, lambda s: ok("fine"), estate)
    assert got["c2"].status is Status.UNKNOWN
    assert "could not be listed" in got["c2"].message


def test_a_region_wide_listing_failure_is_reported_on_the_account():
    estate = {"errors": [{"service": "ecs", "operation": "ListClusters"}], "auto_clusters": False}
    got = _run(Scope.CLUSTER, lambda s: ok("fine"), estate)
    assert list(got) == ["account"] and got["account"].status is Status.UNKNOWN


def test_missing_inventory_is_unknown_not_pass():
    got = _run(Scope.CLUSTER, lambda s: ok("fine"), {"ecs_missing": True})
    assert got["account"].status is Status.UNKNOWN


def test_a_crashing_check_becomes_unknown_and_the_run_goes_on():
    def crash(s: ServiceSubject):
        if s.service.service_name == "a":
            raise KeyError("boom")
        return ok("fine")

    got = _run(Scope.SERVICE, crash)
    assert got["c1/a"].status is Status.UNKNOWN and "crashed" in got["c1/a"].message
    assert got["c2/b"].status is Status.PASS


def test_evidence_missing_becomes_unknown_with_its_reason():
    def needs_more(s: ServiceSubject):
        raise EvidenceMissing("registeredBy not returned")

    got = _run(Scope.SERVICE, needs_more)
    assert all(f.status is Status.UNKNOWN and f.message == "registeredBy not returned" for f in got.values())


def test_configured_sidecars_are_excused_and_say_so():
    config = AuditConfig(sidecars=[SidecarExcuse(image="*aws-otel-collector*", checks=["TEST-001"], reason="vendor image")])
    got = _run(Scope.CONTAINER, lambda c: ok("fine"), config=config)
    assert got["app:1/otel"].status is Status.NOT_APPLICABLE and "vendor image" in got["app:1/otel"].message
    assert got["app:1/web"].status is Status.PASS


def test_a_task_definition_that_could_not_be_read_is_unknown_for_service_checks_that_use_it():
    estate = dict(ESTATE)
    estate["task_definitions"] = []
    estate["errors"] = [{"service": "ecs", "operation": "DescribeTaskDefinition", "resources": ["task-definition/app:1"]}]

    def uses_td(s: ServiceSubject):
        return ok(f"network mode {s.task_definition.network_mode}")

    got = _run(Scope.SERVICE, uses_td, estate)
    assert all(f.status is Status.UNKNOWN for f in got.values())
    assert "ecs:DescribeTaskDefinition" in got["c1/a"].message


def test_findings_are_sorted_and_deterministic():
    a = _run(Scope.CONTAINER, lambda c: ok("fine"))
    b = _run(Scope.CONTAINER, lambda c: ok("fine"))
    assert [f.model_dump() for f in a.values()] == [f.model_dump() for f in b.values()]


def test_container_subject_reaches_its_task_definition():
    def check(c: ContainerSubject):
        return ok(c.task_definition.family_revision)

    got = _run(Scope.CONTAINER, check)
    assert got["app:1/web"].message == "app:1"


def test_a_scope_whose_service_was_not_collected_is_unknown_on_the_account():
    got = _run(Scope.REPO, lambda r: ok("fine"))
    assert list(got) == ["account"] and got["account"].status is Status.UNKNOWN
    assert "ecr" in got["account"].message


def test_a_region_without_clusters_yields_no_findings_at_all():
    got = _run(Scope.ACCOUNT, lambda a: ok("fine"), {"auto_clusters": False})
    assert got == {}


def test_a_failure_that_hides_task_definitions_leaves_cluster_results_of_a_multi_scope_check_alone():
    entry = CheckEntry(
        id="TEST-001", title="A test check", severity=Severity.LOW, scope=[Scope.CLUSTER, Scope.TASKDEF],
        rationale="because tests need one", remediation="fix the test estate",
    )  # fmt: skip
    catalogue = Catalogue(areas=[Area(area="TEST", title="Test", order=1, checks=[entry])])
    registry = {"TEST-001": RegisteredCheck("TEST-001", lambda s: ok("fine"))}
    estate = dict(ESTATE, errors=[{"service": "ecs", "operation": "ListTasks", "resources": ["cluster/c1"]}])
    got = {result_key(f): f for f in evaluate(build_inventory(estate), catalogue, registry, AuditConfig())}
    assert got["c1"].status is Status.PASS and got["app:1"].status is Status.PASS


def _run_partial(function, needs, pass_needs, errors):
    estate = dict(ESTATE, errors=errors)
    registry = {"TEST-001": RegisteredCheck("TEST-001", function)}
    findings = evaluate(build_inventory(estate), _catalogue(Scope.SERVICE, needs, pass_needs), registry, AuditConfig())
    return {result_key(f): f for f in findings}


_DENIED_EXTRA = [{"service": "ecs", "operation": "DescribeCapacityProviders"}]


def test_partial_evidence_a_fail_reached_without_a_pass_only_call_stands_and_names_it():
    from ecs_audit.findings import fail

    got = _run_partial(lambda s: fail("broken"), ("ecs:DescribeCapacityProviders",), ("ecs:DescribeCapacityProviders",), _DENIED_EXTRA)
    assert got["c1/a"].status is Status.FAIL
    assert "decided without: ecs:DescribeCapacityProviders" in got["c1/a"].message
    assert got["c1/a"].evidence["failed_calls"] == ["ecs:DescribeCapacityProviders"]


def test_partial_evidence_never_passes():
    got = _run_partial(lambda s: ok("fine"), ("ecs:DescribeCapacityProviders",), ("ecs:DescribeCapacityProviders",), _DENIED_EXTRA)
    assert {f.status for f in got.values()} == {Status.UNKNOWN}
    assert "ecs:DescribeCapacityProviders" in got["c1/a"].message


def test_partial_evidence_the_check_asking_for_the_missing_data_is_unknown_naming_the_call():
    def asks(s):
        raise EvidenceMissing("capacity providers not read")

    got = _run_partial(asks, ("ecs:DescribeCapacityProviders",), ("ecs:DescribeCapacityProviders",), _DENIED_EXTRA)
    assert got["c1/a"].status is Status.UNKNOWN and "ecs:DescribeCapacityProviders" in got["c1/a"].message


def test_partial_evidence_a_failed_call_needed_for_any_verdict_still_blocks_a_fail():
    from ecs_audit.findings import fail

    errors = [*_DENIED_EXTRA, {"service": "ecs", "operation": "ListTasks"}]
    got = _run_partial(lambda s: fail("broken"), ("ecs:DescribeCapacityProviders", "ecs:ListTasks"), ("ecs:DescribeCapacityProviders",), errors)
    assert {f.status for f in got.values()} == {Status.UNKNOWN}


def test_pass_needs_must_be_among_needs():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="pass_needs"):
        CheckEntry(id="TEST-999", title="A test check", severity=Severity.HIGH, scope=[Scope.ACCOUNT], needs=["ecs:DescribeServices"], pass_needs=["ecs:DescribeTasks"],
                   rationale="because tests need one", remediation="fix the test estate")


def test_findings_are_the_instances_model_construct_makes():
    """The engine builds findings without model_construct (for speed): the same field values in the
    same order, the same fields set, and equal to model_construct's, evidence made plain and sorted."""
    from enum import Enum

    from ecs_audit.evaluation.engine import to_jsonable
    from ecs_audit.findings import Finding, trusted_finding

    class Colour(str, Enum):
        RED = "red"

    def check(subject):
        return ok("fine", {"z": 1, "a": [Colour.RED, {"y": True, "b": None}], "m": {3: "x"}})

    findings = list(_run(Scope.SERVICE, check).values())
    assert findings
    for made in findings:
        values = {name: value for name, value in made.__dict__.items() if name in made.model_fields_set}
        expected = Finding.model_construct(**values)
        assert made == expected and made.model_fields_set == expected.model_fields_set
        assert list(made.__dict__) == list(expected.__dict__) == list(Finding.model_fields)
        assert trusted_finding(**values).__dict__ == expected.__dict__
        assert made.model_fields_set == {"check_id", "title", "area", "severity", "status", "account_id", "region", "resource",
                                          "container", "cluster", "message", "evidence", "remediation", "references", "owner"}  # fmt: skip
        assert list(made.evidence) == ["a", "m", "z"] and made.evidence["a"] == ["red", {"b": None, "y": True}]
        assert made.evidence["m"] == {"3": "x"}
    assert to_jsonable({"b": 1, "a": {10: 1, 9: 2}}) == {"a": {"10": 1, "9": 2}, "b": 1}
    assert list(to_jsonable({10: 1, 9: 2})) == ["10", "9"]


def test_the_garbage_collector_is_as_it_was_after_evaluating():
    import gc

    seen = []

    def check(subject):
        seen.append(gc.isenabled())
        return ok("fine")

    assert gc.isenabled()
    _run(Scope.SERVICE, check)
    assert gc.isenabled() and seen and not any(seen)
    gc.disable()
    try:
        _run(Scope.SERVICE, check)
        assert not gc.isenabled()
    finally:
        gc.enable()
