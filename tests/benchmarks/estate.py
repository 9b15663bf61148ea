"""The benchmark's synthetic estate: its shape, the plan derived from it, and the seeding of moto.

`EstateShape` holds the headline numbers (regions, clusters, services, families...). `plan_estate`
turns them into a deterministic plan (which service runs which revision, which have a load balancer
and scaling, which repository holds which image...). Both the seeding and the minimum-call model
(`tests/benchmarks/minimum.py`) read the same plan, so the model describes exactly what was seeded.

Seeding goes straight to moto's backends in this process (moto's in-process mock started with
reset=False while the ThreadedMotoServer serves the same backends), like tests/support/seed.py: about
2 ms a call instead of about 9 ms over HTTP.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "123456789012"  # what moto answers for unknown access keys
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


@dataclass(frozen=True)
class EstateShape:
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1")
    clusters: int = 20
    services: int = 1000
    families: int = 400
    revisions: int = 2  # per family; services run the latest
    repositories: int = 200
    task_roles: int = 40
    execution_roles: int = 20
    # Every `balanced_every`-th service has a target group (and a scalable target with one policy).
    balanced_every: int = 3
    # The last `unused_families` of each region's families run nowhere (their latest revision is audited).
    unused_fraction: float = 0.1
    # Revision 1 of every `inactive_every`-th family is deregistered (INACTIVE).
    inactive_every: int = 4
    secrets_per_region: int = 10
    managed_policies: int = 5  # customer-managed policies shared by the task roles

    @property
    def roles(self) -> int:
        return self.task_roles + self.execution_roles


FULL = EstateShape()
# The smoke run's estate: every kind of resource, a few of each.
SMOKE = EstateShape(
    clusters=4, services=24, families=12, repositories=6, task_roles=4, execution_roles=2, secrets_per_region=2, managed_policies=2
)


@dataclass
class Revision:
    family: str
    revision: int
    active: bool
    repository: str
    tag: str
    task_role: str
    execution_role: str
    log_group: str
    parameter: str
    secret: str | None


@dataclass
class Family:
    name: str
    revisions: list[Revision]
    in_use: bool

    @property
    def latest(self) -> Revision:
        return self.revisions[-1]


@dataclass
class ServicePlan:
    cluster: str
    name: str
    family: str
    revision: int
    balanced: bool  # a target group behind the cluster's load balancer, a scalable target, a policy


@dataclass
class ClusterPlan:
    name: str
    services: list[ServicePlan]
    internet_facing: bool
    insights: bool


@dataclass
class RegionPlan:
    region: str
    enhanced_scanning: bool  # ECR registry scanning ENHANCED (Inspector) or BASIC
    clusters: list[ClusterPlan]
    families: list[Family]
    repositories: list[str]
    lifecycle_policies: set[str] = field(default_factory=set)
    repository_policies: set[str] = field(default_factory=set)

    @property
    def services(self) -> list[ServicePlan]:
        return [s for c in self.clusters for s in c.services]

    @property
    def balanced_clusters(self) -> list[ClusterPlan]:
        return [c for c in self.clusters if any(s.balanced for s in c.services)]


@dataclass
class EstatePlan:
    shape: EstateShape
    regions: list[RegionPlan]
    task_roles: list[str]
    execution_roles: list[str]
    managed_policies: list[str]  # customer-managed policy names

    def task_role_policy(self, role: str) -> str:
        return self.managed_policies[self.task_roles.index(role) % len(self.managed_policies)]


def _split(total: int, parts: int, what: str) -> int:
    if total % parts:
        raise ValueError(f"{what}: {total} does not split evenly over {parts}")
    return total // parts


def plan_estate(shape: EstateShape) -> EstatePlan:
    n = len(shape.regions)
    clusters = _split(shape.clusters, n, "clusters")
    services = _split(shape.services, n, "services")
    families = _split(shape.families, n, "families")
    repositories = _split(shape.repositories, n, "repositories")
    per_cluster = _split(services, clusters, "services per cluster")
    used = max(1, families - int(families * shape.unused_fraction))
    task_roles = [f"bench-task-{i:02d}" for i in range(shape.task_roles)]
    execution_roles = [f"bench-exec-{i:02d}" for i in range(shape.execution_roles)]
    regions = []
    for index, region in enumerate(shape.regions):
        repos = [f"bench/app-{k:03d}" for k in range(repositories)]
        family_plans = []
        for k in range(families):
            name = f"app-{k:03d}"
            revisions = [
                Revision(
                    family=name,
                    revision=r,
                    active=not (r < shape.revisions and k % shape.inactive_every == shape.inactive_every - 1),
                    repository=repos[k % repositories],
                    tag=f"{name}-r{r}",
                    task_role=task_roles[k % len(task_roles)],
                    execution_role=execution_roles[k % len(execution_roles)],
                    log_group=f"/ecs/bench/{name}",
                    parameter=f"/bench/{name}/db-url",
                    secret=f"bench/{name}/api-key" if k < shape.secrets_per_region else None,
                )
                for r in range(1, shape.revisions + 1)
            ]
            family_plans.append(Family(name, revisions, in_use=k < used))
        cluster_plans = []
        j = 0
        for c in range(clusters):
            name = f"bench-{c:02d}"
            plans = []
            for _ in range(per_cluster):
                family = family_plans[j % used]
                plans.append(ServicePlan(name, f"svc-{j:04d}", family.name, family.latest.revision, balanced=j % shape.balanced_every == 0))
                j += 1
            cluster_plans.append(ClusterPlan(name, plans, internet_facing=c % 2 == 0, insights=c % 2 == 1))
        regions.append(
            RegionPlan(
                region=region,
                enhanced_scanning=index == 0,
                clusters=cluster_plans,
                families=family_plans,
                repositories=repos,
                lifecycle_policies={r for i, r in enumerate(repos) if i % 2 == 0},
                repository_policies={r for i, r in enumerate(repos) if i % 5 == 0},
            )
        )
    policies = [f"bench-app-policy-{i}" for i in range(shape.managed_policies)]
    return EstatePlan(shape, regions, task_roles, execution_roles, policies)


# --- seeding ------------------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    return "sha256:" + hashlib.sha256("/".join(parts).encode()).hexdigest()


def _manifest(repository: str, tag: str) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": _digest(repository, tag, "config")},
            "layers": [
                {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 30_000_000, "digest": _digest(repository, tag, "layer")}
            ],
        }
    )


def _trust() -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    )


def _policy(*actions: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]})


class Clients:
    def __init__(self, session: Any):
        self.session = session
        self._clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.session.client(service, region_name=region)
        return self._clients[key]


def seed(plan: EstatePlan, server: Any) -> None:
    """Seed `plan` into the moto backends that `server` (a tests.support MotoServer in this process) serves."""
    from moto import mock_aws

    server.reset()
    mock = mock_aws()
    mock.start(reset=False)
    try:
        clients = Clients(server.session())
        _seed_identity(plan, clients)
        for region in plan.regions:
            _seed_region(plan, region, clients)
    finally:
        mock.stop(remove_data=False)  # keep the state: the server serves it


def _seed_identity(plan: EstatePlan, clients: Clients) -> None:
    iam = clients("iam", plan.shape.regions[0])
    arns = {}
    for name in plan.managed_policies:
        arns[name] = iam.create_policy(PolicyName=name, PolicyDocument=_policy("s3:GetObject", "dynamodb:GetItem"))["Policy"]["Arn"]
    for role in plan.task_roles:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=_trust(), Tags=[{"Key": "Environment", "Value": "bench"}])
        iam.attach_role_policy(RoleName=role, PolicyArn=arns[plan.task_role_policy(role)])
        iam.put_role_policy(RoleName=role, PolicyName="inline", PolicyDocument=_policy("sqs:SendMessage"))
    for role in plan.execution_roles:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=_trust())
        iam.attach_role_policy(RoleName=role, PolicyArn=EXECUTION_POLICY)


def _seed_region(plan: EstatePlan, rp: RegionPlan, clients: Clients) -> None:
    region = rp.region
    ec2, ecs, ecr = clients("ec2", region), clients("ecs", region), clients("ecr", region)
    elbv2, scaling = clients("elbv2", region), clients("application-autoscaling", region)
    logs, ssm, secrets = clients("logs", region), clients("ssm", region), clients("secretsmanager", region)

    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"])[:2]
    lb_group = ec2.create_security_group(GroupName="bench-alb", Description="bench load balancers", VpcId=vpc)["GroupId"]

    # Registry
    if rp.enhanced_scanning:
        ecr.put_registry_scanning_configuration(
            scanType="ENHANCED", rules=[{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}]
        )
        clients("inspector2", region).enable(accountIds=[ACCOUNT_ID], resourceTypes=["ECR"])
    for repository in rp.repositories:
        ecr.create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": True})
        if repository in rp.lifecycle_policies:
            ecr.put_lifecycle_policy(
                repositoryName=repository,
                lifecyclePolicyText=json.dumps(
                    {"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 50}, "action": {"type": "expire"}}]}
                ),
            )
        if repository in rp.repository_policies:
            ecr.set_repository_policy(
                repositoryName=repository,
                policyText=json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "pull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": ["ecr:BatchGetImage"]}]}),
            )
    host = f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com"

    # Task definitions, and what they reference
    for family in rp.families:
        logs.create_log_group(logGroupName=family.latest.log_group)
        logs.put_retention_policy(logGroupName=family.latest.log_group, retentionInDays=30)
        ssm.put_parameter(Name=family.latest.parameter, Value="postgres://db.internal:5432/app", Type="SecureString")
        if family.latest.secret:
            secrets.create_secret(Name=family.latest.secret, SecretString="not-a-real-key")
        for rev in family.revisions:
            ecr.put_image(repositoryName=rev.repository, imageManifest=_manifest(rev.repository, rev.tag), imageTag=rev.tag,
                          imageManifestMediaType="application/vnd.docker.distribution.manifest.v2+json")
            container: dict[str, Any] = {
                "name": "app",
                "image": f"{host}/{rev.repository}:{rev.tag}",
                "essential": True,
                "cpu": 256,
                "memory": 512,
                "readonlyRootFilesystem": True,
                "user": "1000",
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                "environment": [{"name": "LOG_LEVEL", "value": "info"}],
                "secrets": [{"name": "DB_URL", "valueFrom": f"arn:aws:ssm:{region}:{ACCOUNT_ID}:parameter{rev.parameter}"}]
                + ([{"name": "API_KEY", "valueFrom": f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{rev.secret}"}] if rev.secret else []),
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": rev.log_group, "awslogs-region": region, "awslogs-stream-prefix": "app"}},
                "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"], "interval": 30, "retries": 3},
            }
            ecs.register_task_definition(
                family=family.name,
                taskRoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{rev.task_role}",
                executionRoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{rev.execution_role}",
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="256",
                memory="512",
                containerDefinitions=[container],
                tags=[{"key": "Environment", "value": "bench"}, {"key": "Version", "value": rev.tag}],
            )
        for rev in family.revisions:
            if not rev.active:
                ecs.deregister_task_definition(taskDefinition=f"{family.name}:{rev.revision}")

    # Clusters, load balancers, services, scaling
    for cluster in rp.clusters:
        ecs.create_cluster(
            clusterName=cluster.name,
            settings=[{"name": "containerInsights", "value": "enabled" if cluster.insights else "disabled"}],
            tags=[{"key": "Environment", "value": "bench"}],
        )
        group = ec2.create_security_group(GroupName=f"{cluster.name}-tasks", Description="bench tasks", VpcId=vpc)["GroupId"]
        listener = None
        if any(s.balanced for s in cluster.services):
            lb = elbv2.create_load_balancer(
                Name=f"{cluster.name}-alb", Subnets=subnets, SecurityGroups=[lb_group],
                Scheme="internet-facing" if cluster.internet_facing else "internal", Type="application",
            )["LoadBalancers"][0]["LoadBalancerArn"]
            listener = elbv2.create_listener(
                LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
            )["Listeners"][0]["ListenerArn"]
        for priority, service in enumerate(cluster.services, start=1):
            kwargs: dict[str, Any] = {}
            if service.balanced:
                tg = elbv2.create_target_group(
                    Name=f"{cluster.name}-{service.name}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip",
                    HealthCheckPath="/health", HealthCheckIntervalSeconds=10, HealthyThresholdCount=2,
                )["TargetGroups"][0]["TargetGroupArn"]
                elbv2.create_rule(
                    ListenerArn=listener, Priority=priority,
                    Conditions=[{"Field": "path-pattern", "Values": [f"/{service.name}/*"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": tg}],
                )
                kwargs["loadBalancers"] = [{"targetGroupArn": tg, "containerName": "app", "containerPort": 8080}]
            ecs.create_service(
                cluster=cluster.name,
                serviceName=service.name,
                taskDefinition=f"{service.family}:{service.revision}",
                desiredCount=2,
                launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group], "assignPublicIp": "DISABLED"}},
                propagateTags="SERVICE",
                tags=[{"key": "Environment", "value": "bench"}],
                **kwargs,
            )
            if service.balanced:
                resource = f"service/{cluster.name}/{service.name}"
                scaling.register_scalable_target(
                    ServiceNamespace="ecs", ResourceId=resource, ScalableDimension="ecs:service:DesiredCount", MinCapacity=2, MaxCapacity=10
                )
                scaling.put_scaling_policy(
                    PolicyName="cpu60", ServiceNamespace="ecs", ResourceId=resource, ScalableDimension="ecs:service:DesiredCount",
                    PolicyType="TargetTrackingScaling",
                    TargetTrackingScalingPolicyConfiguration={
                        "TargetValue": 60.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                    },
                )
