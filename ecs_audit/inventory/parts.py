"""Where each part of the inventory comes from: one declaration per collector.

A declaration names the inventory part a collector fills, the boto3 client it uses, that service's
IAM action prefix, the API operations it may call, and the parts it reads first. Everything else is
derived from these declarations: the client factory's read-only allowlist (`session.py`), the
`iam-policy` command (`policy.py`), the permissions docs (`docs.py`), the IAM action a recorded error
names (`inventory/errors.py`), and the order the collectors run in (`collect/runner.py`).

Plain data, importable without boto3 (the inventory, the evaluation and the docs read it).
"""

from __future__ import annotations

from dataclasses import dataclass


# The ECS collection in steps: a collector that reads a step starts as soon as ECS has read that much,
# and sees only that much of ECS (STEP_FIELDS). "ecs" is all of it, what is in use included.
LISTED = "ecs.listed"  # the region has clusters (ListClusters named some); nothing of them is known yet
CLUSTERS = "ecs.clusters"  # the region's described clusters
SERVICES = "ecs.services"  # also its services, tasks, container instances, capacity providers, settings
# Also the task definitions in use (every one described); nothing else of the task definitions yet.
IN_USE = "ecs.in_use"
# Also the task definitions (in use, and the latest revision of every other ACTIVE family) and the
# in-use families' revision lists, with only their rollback targets' revisions described (the
# previous ACTIVE revision of each service's: ECR describes their images); the rest of the history
# is still being read.
DEFINITIONS = "ecs.definitions"
ECS_STEPS = (LISTED, CLUSTERS, SERVICES, IN_USE, DEFINITIONS, "ecs")
_SERVICES_FIELDS = ("clusters", "services", "tasks", "container_instances", "capacity_providers", "account_settings")
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    LISTED: (),
    CLUSTERS: ("clusters",),
    SERVICES: _SERVICES_FIELDS,
    IN_USE: (*_SERVICES_FIELDS, "task_definitions"),
    DEFINITIONS: (*_SERVICES_FIELDS, "task_definitions", "families", "daemons", "under_review", "in_use_task_definition_arns"),
}


@dataclass(frozen=True)
class PartSource:
    part: str  # the RegionInventory (or, account-wide, AccountInventory) field it fills
    client: str  # boto3 client name; failures are recorded under it
    iam_prefix: str  # the service's IAM action prefix
    operations: tuple[str, ...]  # API operations of `client` it may call
    # What it needs before it starts: other parts, and one step of ECS's collection (ECS_STEPS).
    reads: tuple[str, ...] = ()
    account_wide: bool = False  # collected once per account (IAM), not per region
    # Calls to other services it makes on the way (IAM actions), e.g. ECR's kms:DescribeKey.
    other_actions: tuple[str, ...] = ()
    # IAM actions AWS checks behind the calls it makes, never sent themselves.
    permissions_only: tuple[str, ...] = ()

    @property
    def actions(self) -> tuple[str, ...]:
        """The IAM actions it may send."""
        return tuple(f"{self.iam_prefix}:{operation}" for operation in self.operations) + self.other_actions


SOURCES: tuple[PartSource, ...] = (
    PartSource(
        "ecs", "ecs", "ecs",
        (
            "ListClusters", "DescribeClusters", "ListServices", "DescribeServices", "ListTasks", "DescribeTasks",
            "ListTaskDefinitionFamilies", "ListTaskDefinitions", "DescribeTaskDefinition", "ListContainerInstances",
            "DescribeContainerInstances", "DescribeCapacityProviders", "ListAccountSettings",
            "ListDaemons", "DescribeDaemon", "DescribeDaemonRevisions",
        ),
    ),
    PartSource(
        "ecr", "ecr", "ecr",
        (
            "DescribeRepositories", "GetRegistryScanningConfiguration", "BatchGetRepositoryScanningConfiguration",
            "GetLifecyclePolicy", "GetRepositoryPolicy", "DescribeImages", "DescribeImageScanFindings",
        ),
        reads=(DEFINITIONS,),
        other_actions=("kms:DescribeKey",),  # the customer managed keys repositories are encrypted with
    ),
    PartSource(
        "elbv2", "elbv2", "elasticloadbalancing",
        ("DescribeTargetGroups", "DescribeTargetGroupAttributes", "DescribeLoadBalancers", "DescribeListeners"),
        reads=(SERVICES,),  # the services' target groups
    ),
    PartSource("efs", "efs", "elasticfilesystem", ("DescribeMountTargets", "DescribeMountTargetSecurityGroups"), reads=(DEFINITIONS,)),
    PartSource(
        "autoscaling", "application-autoscaling", "application-autoscaling",
        ("DescribeScalableTargets", "DescribeScalingPolicies"),
        reads=(SERVICES,),
    ),
    PartSource(
        "codedeploy", "codedeploy", "codedeploy",
        ("ListApplications", "BatchGetApplications", "ListDeploymentGroups", "BatchGetDeploymentGroups"),
        reads=(SERVICES,),
    ),
    PartSource("guardduty", "guardduty", "guardduty", ("ListDetectors", "GetDetector", "ListCoverage", "ListFindings", "GetFindings"), reads=(LISTED,)),
    PartSource("compute_optimizer", "compute-optimizer", "compute-optimizer", ("GetECSServiceRecommendations",), reads=(SERVICES,)),
    PartSource("logs", "logs", "logs", ("DescribeLogGroups",), reads=(DEFINITIONS,)),
    PartSource("ssm", "ssm", "ssm", ("DescribeParameters",), reads=(DEFINITIONS,)),
    PartSource("secretsmanager", "secretsmanager", "secretsmanager", ("DescribeSecret",), reads=(DEFINITIONS,)),
    PartSource(
        "inspector", "inspector2", "inspector2", ("BatchGetAccountStatus", "GetConfiguration", "ListFindings"),
        reads=(DEFINITIONS, "ecr"),
    ),
    PartSource(
        "wafv2", "wafv2", "wafv2", ("GetWebACLForResource",),
        reads=(SERVICES, "elbv2"),
        # GetWebACLForResource authorizes the web ACL it finds with wafv2:GetWebACL, so the audit role
        # needs that permission too, although ecs-audit never sends GetWebACL (the guard refuses it).
        permissions_only=("wafv2:GetWebACL",),
    ),
    PartSource(
        "ec2", "ec2", "ec2",
        ("DescribeSubnets", "DescribeRouteTables", "DescribeSecurityGroups", "DescribeFlowLogs", "DescribeImages", "DescribeInstances"),
        reads=(DEFINITIONS, "elbv2", "efs"),
    ),
    PartSource("cloudwatch", "cloudwatch", "cloudwatch", ("DescribeAlarms", "GetMetricData"), reads=(SERVICES, "elbv2")),
    PartSource(
        "iam", "iam", "iam",
        ("GetRole", "ListAttachedRolePolicies", "ListRolePolicies", "GetRolePolicy", "GetPolicy", "GetPolicyVersion"),
        reads=(DEFINITIONS,),  # of every region of the account: the roles its task definitions name
        account_wide=True,
    ),
)

_BY_PART = {source.part: source for source in SOURCES}
_PREFIX_OF_CLIENT = {source.client: source.iam_prefix for source in SOURCES}

# Every IAM action a collector may send.
COLLECTOR_ACTIONS: frozenset[str] = frozenset(action for source in SOURCES for action in source.actions)
# Permissions AWS checks behind those calls; granted in the audit policy, never sent.
PERMISSIONS_ONLY: frozenset[str] = frozenset(action for source in SOURCES for action in source.permissions_only)


def source_of(part: str) -> PartSource:
    """The declaration of the collector that fills inventory part `part`."""
    return _BY_PART[part]


def clients_of_part(part: str) -> tuple[str, ...]:
    """The boto3 client names whose calls fill inventory part `part` (e.g. "inspector" -> inspector2)."""
    source = _BY_PART.get(part)
    return (source.client,) if source is not None else (part,)


def iam_prefix(client: str) -> str:
    """The IAM action prefix of a boto3 client name (e.g. elbv2 -> elasticloadbalancing)."""
    return _PREFIX_OF_CLIENT.get(client, client)
