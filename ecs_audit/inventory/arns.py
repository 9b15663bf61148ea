"""The ARN vocabulary: resource type names for reports, and what an ARN's text says (name, kind, family).

Shared by the collectors (which record failures against ARNs), the evaluation (which matches those
failures to subjects) and the answers file (account-level results)."""

from __future__ import annotations

from ecs_audit.findings import ResourceRef

ACCOUNT_TYPE = "AWS::::Account"
CLUSTER_TYPE = "AWS::ECS::Cluster"
SERVICE_TYPE = "AWS::ECS::Service"
TASKDEF_TYPE = "AWS::ECS::TaskDefinition"
REPOSITORY_TYPE = "AWS::ECR::Repository"
LOAD_BALANCER_TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"
TARGET_GROUP_TYPE = "AWS::ElasticLoadBalancingV2::TargetGroup"


def name_from_arn(arn: str) -> str:
    """The last path element of an ARN (cluster name, service name, family:revision)."""
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]


def resource_from_arn(arn: str) -> ResourceRef:
    """A ResourceRef for an ARN known only by its text (e.g. a resource whose describe call failed)."""
    parts = arn.split(":", 5)
    kind = parts[5].split("/", 1)[0] if len(parts) == 6 else ""
    service = parts[2] if len(parts) > 2 else ""
    types = {
        ("ecs", "cluster"): CLUSTER_TYPE,
        ("ecs", "service"): SERVICE_TYPE,
        ("ecs", "task-definition"): TASKDEF_TYPE,
        ("ecs", "task"): "AWS::ECS::Task",
        ("ecs", "capacity-provider"): "AWS::ECS::CapacityProvider",
        ("ecr", "repository"): REPOSITORY_TYPE,
        ("elasticloadbalancing", "loadbalancer"): LOAD_BALANCER_TYPE,
        ("elasticloadbalancing", "targetgroup"): TARGET_GROUP_TYPE,
        ("iam", "role"): "AWS::IAM::Role",
    }
    name = name_from_arn(arn)
    if kind == "task-definition":
        name = arn.split("task-definition/", 1)[1]
    elif service == "elasticloadbalancing" and kind in ("loadbalancer", "targetgroup"):
        name = arn.split("/")[-2]  # .../targetgroup/<name>/<id>, .../loadbalancer/app/<name>/<id>
    return ResourceRef(type=types.get((service, kind), "AWS::Resource"), arn=arn, name=name)


def family_arn(task_definition_arn: str) -> str:
    """The ARN of a task definition family (its revision ARN without `:revision`).

    Calls about a whole family (ListTaskDefinitions) record their errors against this ARN."""
    return task_definition_arn.rsplit(":", 1)[0] if task_definition_arn.count(":") >= 6 else task_definition_arn


def account_resource(partition: str, account_id: str) -> ResourceRef:
    return ResourceRef(type=ACCOUNT_TYPE, arn=f"arn:{partition}:iam::{account_id}:root", name=account_id)
