"""service_placements is worked out once per service and kept beside its fields: the same answer,
a fresh one for a copy with other network settings, and nothing in the service's dump or equality."""

from __future__ import annotations

from ecs_audit.inventory.ecs import Service
from ecs_audit.semantics.network_placement import service_placements


def _service(subnets: list[str]) -> Service:
    return Service.model_validate(
        {
            "serviceArn": "arn:aws:ecs:eu-west-1:111122223333:service/c/s",
            "serviceName": "s",
            "clusterArn": "arn:aws:ecs:eu-west-1:111122223333:cluster/c",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": ["sg-1"]}},
            "deployments": [{"id": "ecs-svc/1", "status": "PRIMARY", "networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": ["sg-1"]}}}],
        }
    )


def test_the_kept_placements_are_the_ones_worked_out():
    service = _service(["subnet-a", "subnet-b"])
    first = service_placements(service)
    assert [(p.subnets, p.security_groups) for p in first] == [(("subnet-a", "subnet-b"), ("sg-1",))]
    again = service_placements(service)
    assert again == first and again is not first  # a caller's list is its own
    assert service.model_dump() == _service(["subnet-a", "subnet-b"]).model_dump()
    assert service == _service(["subnet-a", "subnet-b"])


def test_a_copy_with_other_network_settings_works_out_its_own():
    service = _service(["subnet-a"])
    service_placements(service)
    other = _service(["subnet-z"])
    copy = service.model_copy(update={"network_configuration": other.network_configuration, "deployments": other.deployments})
    assert [p.subnets for p in service_placements(copy)] == [("subnet-z",)]
    assert [p.subnets for p in service_placements(service)] == [("subnet-a",)]
