"""RegionView's one answer to "where do these tasks run": launch types, capacity provider strategies
(the cluster's default without one), ECS Managed Instances providers by their described type, and
providers that could not be described."""

from __future__ import annotations

import pytest

from ecs_audit.config import AuditConfig
from ecs_audit.evaluation.view import UNKNOWN, RegionView
from ecs_audit.findings import EvidenceMissing
from tests.support.estate import build_inventory

ESTATE = {
    "clusters": [
        {"clusterName": "mixed", "capacityProviders": ["asg-cp", "mi-cp", "gone-cp"]},
        {"clusterName": "by-default", "capacityProviders": ["mi-cp"], "defaultCapacityProviderStrategy": [{"capacityProvider": "mi-cp"}]},
    ],
    "capacity_providers": [{"name": "asg-cp", "type": "EC2_AUTOSCALING"}, {"name": "mi-cp", "type": "MANAGED_INSTANCES"}],
    "services": [
        {"serviceName": "fargate", "cluster": "mixed", "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT"}]},
        {"serviceName": "asg", "cluster": "mixed", "capacityProviderStrategy": [{"capacityProvider": "asg-cp"}]},
        {"serviceName": "mi", "cluster": "mixed", "capacityProviderStrategy": [{"capacityProvider": "mi-cp"}]},
        {"serviceName": "gone", "cluster": "mixed", "capacityProviderStrategy": [{"capacityProvider": "gone-cp"}]},
        {"serviceName": "default", "cluster": "by-default"},
        {"serviceName": "ec2", "cluster": "mixed", "launchType": "EC2"},
    ],
    "tasks": [
        {"cluster": "mixed", "service": "mi", "taskDefinition": "app:1", "launchType": "MANAGED_INSTANCES", "capacityProviderName": "mi-cp"},
        {"cluster": "mixed", "service": "asg", "taskDefinition": "app:1", "capacityProviderName": "asg-cp"},
    ],
    "container_instances": {
        "mixed": [{"containerInstanceArn": "arn:aws:ecs:us-east-1:123456789012:container-instance/mixed/m1", "ec2InstanceId": "i-m1", "capacityProviderName": "mi-cp"}],
    },
    "errors": [{"service": "ecs", "operation": "DescribeCapacityProviders", "error_code": "AccessDeniedException", "resources": ["cluster/mixed"]}],
}


@pytest.fixture(scope="module")
def view() -> RegionView:
    inventory = build_inventory({**ESTATE, "errors": []})
    account = inventory.accounts[0]
    return RegionView(account.regions[0], AuditConfig(), account=account)


@pytest.fixture(scope="module")
def denied() -> RegionView:
    inventory = build_inventory(ESTATE)
    account = inventory.accounts[0]
    return RegionView(account.regions[0], AuditConfig(), account=account)


def _service(view: RegionView, name: str):
    return next(s for s in view.services if s.service_name == name)


def test_launch_types_come_from_the_described_provider_type(view: RegionView) -> None:
    kinds = {name: view.service_launch_type(_service(view, name)) for name in ("fargate", "asg", "mi", "default", "ec2")}
    assert kinds == {"fargate": "FARGATE", "asg": "EC2", "mi": "MANAGED_INSTANCES", "default": "MANAGED_INSTANCES", "ec2": "EC2"}
    assert view.service_placements(_service(view, "mi"))[0].providers == ("mi-cp",)
    tasks = {view.task_launch_type(task) for task in view.ecs.tasks}
    assert tasks == {"MANAGED_INSTANCES", "EC2"}
    assert view.launch_types_in_use() == {"FARGATE", "EC2", "MANAGED_INSTANCES"}


def test_a_provider_missing_without_a_recorded_failure_counts_as_ec2(view: RegionView) -> None:
    assert view.service_launch_type(_service(view, "gone")) == "EC2"


def test_an_undescribed_provider_is_unknown_or_raises(denied: RegionView) -> None:
    service = _service(denied, "gone")
    assert denied.service_launch_type(service) == UNKNOWN
    with pytest.raises(EvidenceMissing, match="gone-cp"):
        denied.service_placements(service)
    assert UNKNOWN in denied.launch_types_in_use()
    # Described providers and Fargate keep their answer.
    assert denied.service_launch_type(_service(denied, "mi")) == "MANAGED_INSTANCES"
    assert denied.service_launch_type(_service(denied, "fargate")) == "FARGATE"


def test_a_task_on_a_managed_instances_provider_is_there_whatever_its_launch_type_says(view: RegionView) -> None:
    from ecs_audit.inventory.ecs import Task

    arn = "arn:aws:ecs:us-east-1:123456789012:"
    by_provider = Task.model_validate({"taskArn": f"{arn}task/mixed/1", "clusterArn": f"{arn}cluster/mixed", "launchType": "EC2", "capacityProviderName": "mi-cp"})
    by_instance = Task.model_validate({"taskArn": f"{arn}task/mixed/2", "clusterArn": f"{arn}cluster/mixed", "containerInstanceArn": f"{arn}container-instance/mixed/m1"})
    assert [p.kind for p in view.task_placements(by_provider)] == ["MANAGED_INSTANCES"]
    assert view.task_placements(by_instance)[0].providers == ("mi-cp",)
    assert view.is_managed_instance(view.ecs.container_instances[f"{arn}cluster/mixed"][0])
