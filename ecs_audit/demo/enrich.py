"""Fill in what AWS returns and moto does not, as plain functions over ECS response dicts.

moto 5.2.5 leaves out fields the auditor reads (see /work/shared/MOTO-NOTES.md):
- DescribeTaskDefinition: `registeredAt`, `registeredBy` (and `deregisteredAt` of INACTIVE revisions);
- DescribeTasks: `availabilityZone`, `cpu`, `memory`, `platformFamily`, `createdAt`, `startedAt`,
  `enableExecuteCommand`, `connectivity`; it lists only the first container (with the task definition's
  ARN as its taskArn, PENDING while the task is RUNNING, no imageDigest); a task started through a
  capacity provider has no launchType;
- DescribeServices: `createdAt`, `createdBy`, `platformFamily`, the default `deploymentConfiguration`
  and the booleans AWS always returns; no service events; deployments say platformFamily FARGATE/EC2;
  tasks moto never started count as pending (ECS: tasks it cannot place are not pending, just absent);
- DescribeClusters: `activeServicesCount` stays 0, task counts follow services' desired counts rather
  than tasks, no `statistics`;
- ListAccountSettings(effectiveSettings=True): only settings that were put, without `principalArn` or
  `type`, where AWS returns every setting with its default.

- inspector2 BatchGetAccountStatus: nothing for an account that never activated Inspector (AWS: DISABLED).
- ecr DescribeImages: `imageSizeInBytes` is the size of the image's config, not of its layers; no
  `imageScanStatus` (ACTIVE under enhanced scanning) or `imageScanFindingsSummary`.
- ec2 DescribeRouteTables: a filter with several `association.subnet-id` values keeps only the tables
  whose subnets are all among them (or that have all of them); AWS keeps every table associated with
  any of them, so tables moto drops are added back.

- ECS Managed Instances: moto cannot create their capacity providers (DescribeCapacityProviders
  answers MISSING) and gives a service placed there by its capacity provider strategy the EC2 launch
  type without the strategy (AWS omits launchType then); the backstory's `managed_instances` says
  which providers, services and managed daemons there are.

Some operations have no handler in moto at all (GuardDuty ListCoverage, Compute Optimizer
GetECSServiceRecommendations, Inspector GetConfiguration, CodeDeploy BatchGetDeploymentGroups, ECS
ListDaemons, DescribeDaemon and DescribeDaemonRevisions):
`STUBS` answer them instead, from the same facts (deployment groups as moto's GetDeploymentGroup
describes them, with what moto drops from the backstory).

Each enricher takes the request parameters, the response dict, the region, the `EstateFacts` and a
timestamp encoder, and edits the response in place. The demo's botocore hooks call them on parsed
responses (timestamps are datetimes); the tests' HTTP proxy calls them on the JSON wire body (timestamps
are epoch seconds). Facts are read once from the seeded moto (`collect_facts`), never from the audit's
own calls.
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from fnmatch import fnmatchcase
from typing import Any

from ecs_audit.demo.backstory import Backstory, ManagedInstances

Timestamp = Callable[[datetime], Any]
Enricher = Callable[[Mapping[str, Any], dict[str, Any], str, "EstateFacts", Timestamp], None]

# Latest Fargate platform versions (what LATEST resolves to on a task).
FARGATE_LATEST = {"LINUX": "1.4.0", "WINDOWS": "1.0.0"}
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")

# Account settings and their AWS defaults, as ListAccountSettings(effectiveSettings=True) returns them.
ACCOUNT_SETTING_DEFAULTS = {
    "serviceLongArnFormat": "enabled",
    "taskLongArnFormat": "enabled",
    "containerInstanceLongArnFormat": "enabled",
    "awsvpcTrunking": "disabled",
    "containerInsights": "disabled",
    "dualStackIPv6": "disabled",
    "fargateFIPSMode": "disabled",
    "tagResourceAuthorization": "on",
    "fargateTaskRetirementWaitPeriod": "7",
    "guardDutyActivate": "on",
    "defaultLogDriverMode": "non-blocking",
}

_NAMESPACE = uuid.UUID("6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b")


def as_datetime(value: datetime) -> datetime:
    """Timestamp encoder for botocore-parsed responses."""
    return value


def as_epoch(value: datetime) -> float:
    """Timestamp encoder for JSON-protocol wire bodies."""
    return round(value.timestamp(), 3)


@dataclass
class RegionFacts:
    subnet_az: dict[str, str] = field(default_factory=dict)
    container_instance_az: dict[str, str] = field(default_factory=dict)
    image_digests: dict[str, str] = field(default_factory=dict)  # "host/repo:tag" -> digest
    # task definition ARN -> {"cpu", "memory", "os", "containers": [{"name", "image", ...}]}
    task_definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    # "cluster ARN|service name" -> the service as moto describes it
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    # cluster ARN -> counts and statistics
    clusters: dict[str, dict[str, int]] = field(default_factory=dict)
    # the region's GuardDuty detector: {"id", "runtime", "fargate_agent", "ec2_agent"}; None without one
    guardduty: dict[str, Any] | None = None
    # "service/<cluster>/<service>" -> the predefined metrics of its target-tracking policies
    scaling: dict[str, list[str]] = field(default_factory=dict)
    # Amazon Inspector was activated in this region (for any resource type)
    inspector: bool = False
    # every route table of the region, as DescribeRouteTables describes it
    route_tables: list[dict[str, Any]] = field(default_factory=list)
    # "repository@digest" -> the compressed size of the image's layers (what ECR reports)
    image_sizes: dict[str, int] = field(default_factory=dict)
    # the repository filters (wildcards) of the registry's enhanced scanning rules; empty under BASIC
    enhanced_scanning: list[str] = field(default_factory=list)
    # "application/group" -> the deployment group as BatchGetDeploymentGroups describes it
    deployment_groups: dict[str, dict[str, Any]] = field(default_factory=dict)

    def service(self, arn: str) -> dict[str, Any] | None:
        for service in self.services.values():
            if service.get("serviceArn") == arn:
                return service
        return None


@dataclass
class EstateFacts:
    account_id: str
    now: datetime
    backstory: Backstory = field(default_factory=Backstory)
    regions: dict[str, RegionFacts] = field(default_factory=dict)

    def region(self, name: str) -> RegionFacts:
        return self.regions.get(name) or RegionFacts()

    def principal(self, template: str) -> str:
        return template.format(account=self.account_id)

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)


# --- reading the facts from the seeded moto ---------------------------------------------------


def collect_facts(
    client_for: Callable[[str, str], Any],
    regions: Sequence[str],
    *,
    backstory: Backstory | None = None,
    now: datetime | None = None,
) -> EstateFacts:
    """Read what the enrichers need from moto, with clients from `client_for(service, region)` (a
    session of the seeding side, never the audited one)."""
    account = client_for("sts", regions[0]).get_caller_identity()["Account"]
    now = now or datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    facts = EstateFacts(account_id=account, now=now, backstory=backstory or Backstory())
    for region in regions:
        facts.regions[region] = _region_facts(client_for, region, account, facts.backstory)
    return facts


def _region_facts(client_for: Callable[[str, str], Any], region: str, account_id: str, backstory: Backstory) -> RegionFacts:
    ecs = client_for("ecs", region)
    ecr = client_for("ecr", region)
    out = RegionFacts()
    scanning = ecr.get_registry_scanning_configuration().get("scanningConfiguration") or {}
    if scanning.get("scanType") == "ENHANCED":
        out.enhanced_scanning = [f["filter"] for rule in scanning.get("rules", []) for f in rule.get("repositoryFilters", [])]
    for repository in ecr.describe_repositories().get("repositories", []):
        host, _, name = repository["repositoryUri"].partition("/")
        images = ecr.describe_images(repositoryName=repository["repositoryName"]).get("imageDetails", [])
        for image in images:
            for tag in image.get("imageTags", []):
                out.image_digests[f"{host}/{name}:{tag}"] = image["imageDigest"]
        if images:
            ids = [{"imageDigest": image["imageDigest"]} for image in images]
            for image in ecr.batch_get_image(repositoryName=repository["repositoryName"], imageIds=ids).get("images", []):
                out.image_sizes[f"{repository['repositoryName']}@{image['imageId']['imageDigest']}"] = _layers_size(image.get("imageManifest", ""))
    for cluster_arn in ecs.list_clusters()["clusterArns"]:
        instances = ecs.list_container_instances(cluster=cluster_arn).get("containerInstanceArns", [])
        if instances:
            for instance in ecs.describe_container_instances(cluster=cluster_arn, containerInstances=instances)["containerInstances"]:
                zone = next((a.get("value") for a in instance.get("attributes", []) if a["name"] == "ecs.availability-zone"), None)
                if zone:
                    out.container_instance_az[instance["containerInstanceArn"]] = zone
        service_arns = ecs.list_services(cluster=cluster_arn).get("serviceArns", [])
        services = []
        for start in range(0, len(service_arns), 10):
            services += ecs.describe_services(cluster=cluster_arn, services=service_arns[start : start + 10])["services"]
        for service in services:
            out.services[f"{cluster_arn}|{service['serviceName']}"] = service
        task_arns = ecs.list_tasks(cluster=cluster_arn, desiredStatus="RUNNING").get("taskArns", [])
        tasks = ecs.describe_tasks(cluster=cluster_arn, tasks=task_arns)["tasks"] if task_arns else []
        out.clusters[cluster_arn] = _cluster_counts(services, tasks, len(instances))
    if out.services or out.container_instance_az or any(c["runningTasksCount"] or c["pendingTasksCount"] for c in out.clusters.values()):
        # Only where something runs does the audit ask EC2 (moto's EC2 of a region costs a tenth of
        # a second to start: it loads its catalogue of AMIs).
        ec2 = client_for("ec2", region)
        for subnet in ec2.describe_subnets()["Subnets"]:
            out.subnet_az[subnet["SubnetId"]] = subnet["AvailabilityZone"]
        out.route_tables = ec2.describe_route_tables()["RouteTables"]
    guardduty = client_for("guardduty", region)
    for detector_id in guardduty.list_detectors().get("DetectorIds", [])[:1]:
        detector = guardduty.get_detector(DetectorId=detector_id)
        runtime = next((f for f in detector.get("Features", []) if f.get("Name") in ("RUNTIME_MONITORING", "EKS_RUNTIME_MONITORING")), None)
        extra = {c.get("Name"): c.get("Status") for c in (runtime or {}).get("AdditionalConfiguration", [])}
        out.guardduty = {
            "id": detector_id,
            "runtime": bool(runtime and runtime.get("Status") == "ENABLED"),
            "fargate_agent": extra.get("ECS_FARGATE_AGENT_MANAGEMENT") == "ENABLED",
            "ec2_agent": extra.get("EC2_AGENT_MANAGEMENT") == "ENABLED",
        }
    out.deployment_groups = _deployment_groups(client_for("codedeploy", region), backstory)
    status = client_for("inspector2", region).batch_get_account_status(accountIds=[account_id])
    out.inspector = any((a.get("state") or {}).get("status") == "ENABLED" for a in status.get("accounts", []))
    scaling = client_for("application-autoscaling", region)
    for policy in scaling.describe_scaling_policies(ServiceNamespace="ecs").get("ScalingPolicies", []):
        spec = (policy.get("TargetTrackingScalingPolicyConfiguration") or {}).get("PredefinedMetricSpecification") or {}
        if spec.get("PredefinedMetricType"):
            out.scaling.setdefault(policy["ResourceId"], []).append(spec["PredefinedMetricType"])
    for status in ("ACTIVE", "INACTIVE"):
        for arn in ecs.list_task_definitions(status=status).get("taskDefinitionArns", []):
            td = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
            os_family = ((td.get("runtimePlatform") or {}).get("operatingSystemFamily") or "LINUX").upper()
            out.task_definitions[arn] = {
                "cpu": td.get("cpu"),
                "memory": td.get("memory"),
                "os": "WINDOWS" if os_family.startswith("WINDOWS") else "LINUX",
                "containers": [
                    {k: c[k] for k in ("name", "image", "cpu", "memory", "memoryReservation", "healthCheck", "essential") if k in c}
                    for c in td.get("containerDefinitions", [])
                ],
            }
    return out


def _layers_size(manifest: str) -> int:
    """The compressed size of an image manifest's layers: what ECR's imageSizeInBytes reports."""
    return sum(layer.get("size", 0) for layer in json.loads(manifest).get("layers", []))


def _deployment_groups(codedeploy: Any, backstory: Backstory) -> dict[str, dict[str, Any]]:
    """ECS deployment groups as BatchGetDeploymentGroups returns them: moto's GetDeploymentGroup
    without its empty placeholders, with what moto drops (alarmConfiguration) from the backstory."""
    out: dict[str, dict[str, Any]] = {}
    for application in codedeploy.list_applications().get("applications", []):
        for name in codedeploy.list_deployment_groups(applicationName=application).get("deploymentGroups", []):
            info = codedeploy.get_deployment_group(applicationName=application, deploymentGroupName=name)["deploymentGroupInfo"]
            info = {k: v for k, v in info.items() if v not in ({}, None, "None")}
            key = f"{application}/{name}"
            info["deploymentGroupId"] = str(uuid.uuid5(_NAMESPACE, key))  # moto's is random on every run
            info["alarmConfiguration"] = {"enabled": False, "ignorePollAlarmFailure": False, "alarms": []}
            info.update(copy.deepcopy(dict(backstory.deployment_groups.get(key, {}))))
            out[key] = info
    return out


def _launch_kind(item: Mapping[str, Any]) -> str:
    if item.get("launchType"):
        return "FARGATE" if item["launchType"] == "FARGATE" else "EC2"
    providers = [s.get("capacityProvider") for s in item.get("capacityProviderStrategy", [])]
    if item.get("capacityProviderName"):
        providers.append(item["capacityProviderName"])
    return "FARGATE" if providers and all(p in FARGATE_PROVIDERS for p in providers) else "EC2"


def _cluster_counts(services: list[dict[str, Any]], tasks: list[dict[str, Any]], instances: int) -> dict[str, int]:
    active = [s for s in services if s.get("status") == "ACTIVE"]
    running = [t for t in tasks if t.get("lastStatus") == "RUNNING"]
    pending = [t for t in tasks if t.get("lastStatus") == "PENDING"]
    kind = _launch_kind
    return {
        "activeServicesCount": len(active),
        "runningTasksCount": len(running),
        "pendingTasksCount": len(pending),
        "registeredContainerInstancesCount": instances,
        "runningEC2TasksCount": sum(kind(t) == "EC2" for t in running),
        "runningFargateTasksCount": sum(kind(t) == "FARGATE" for t in running),
        "pendingEC2TasksCount": sum(kind(t) == "EC2" for t in pending),
        "pendingFargateTasksCount": sum(kind(t) == "FARGATE" for t in pending),
        "activeEC2ServiceCount": sum(kind(s) == "EC2" for s in active),
        "activeFargateServiceCount": sum(kind(s) == "FARGATE" for s in active),
        "drainingEC2ServiceCount": 0,
        "drainingFargateServiceCount": 0,
    }


# --- helpers ---------------------------------------------------------------------------------


def _region_of(arn: str | None, default: str) -> str:
    parts = (arn or "").split(":")
    return parts[3] if len(parts) > 3 and parts[3] else default


def _stable_fraction(*parts: str) -> float:
    """A deterministic number in [0, 1) from strings (spreads timestamps without randomness)."""
    return uuid.uuid5(_NAMESPACE, "|".join(parts)).int % 10_000 / 10_000


def _family_revision(arn: str) -> tuple[str, int]:
    name = arn.rsplit("/", 1)[-1]
    family, _, revision = name.rpartition(":")
    return family, int(revision) if revision.isdigit() else 0


# --- enrichers -------------------------------------------------------------------------------


def enrich_describe_task_definition(params: Mapping[str, Any], response: dict[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> None:
    td = response.get("taskDefinition")
    if not isinstance(td, dict) or not td.get("taskDefinitionArn"):
        return
    family, revision = _family_revision(td["taskDefinitionArn"])
    region = _region_of(td["taskDefinitionArn"], region)
    table = facts.backstory.registrations
    known = table.get(f"{region}/{family}:{revision}") or (table.get(f"{family}:{revision}") if region == _home(facts) else None)
    if known:
        principal, days = known
    else:
        # Unknown revisions: registered by the CI role, a week apart, the newest two days ago.
        latest = max([_family_revision(a)[1] for a in facts.region(region).task_definitions if _family_revision(a)[0] == family] or [revision])
        principal, days = facts.backstory.default_registrar, 2 + 7 * (latest - revision)
    registered = facts.ago(days) + timedelta(hours=10 + 8 * _stable_fraction(td["taskDefinitionArn"]))
    td.setdefault("registeredBy", facts.principal(principal))
    td.setdefault("registeredAt", ts(registered))
    if td.get("status") == "INACTIVE":
        td.setdefault("deregisteredAt", ts(registered + timedelta(days=1, minutes=17)))


def _home(facts: EstateFacts) -> str:
    return next(iter(facts.regions), "us-east-1")


def enrich_describe_tasks(params: Mapping[str, Any], response: dict[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> None:
    for task in response.get("tasks", []):
        if isinstance(task, dict) and task.get("taskArn"):
            _enrich_task(task, facts.region(_region_of(task["taskArn"], region)), facts, ts)


def _enrich_task(task: dict[str, Any], rf: RegionFacts, facts: EstateFacts, ts: Timestamp) -> None:
    arn = task["taskArn"]
    td = rf.task_definitions.get(task.get("taskDefinitionArn", ""), {})
    if not task.get("launchType") and task.get("capacityProviderName"):
        task["launchType"] = "FARGATE" if task["capacityProviderName"] in FARGATE_PROVIDERS else "EC2"
    fargate = task.get("launchType") == "FARGATE"
    if "availabilityZone" not in task:
        zone = None
        for attachment in task.get("attachments", []):
            for detail in attachment.get("details", []):
                if detail.get("name") == "subnetId":
                    zone = rf.subnet_az.get(detail.get("value", ""))
        if zone is None and task.get("containerInstanceArn"):
            zone = rf.container_instance_az.get(task["containerInstanceArn"])
        if zone:
            task["availabilityZone"] = zone
    if td.get("cpu") and "cpu" not in task:
        task["cpu"] = td["cpu"]
    if td.get("memory") and "memory" not in task:
        task["memory"] = td["memory"]
    if fargate:
        os_family = td.get("os", "LINUX")
        task.setdefault("platformFamily", "Linux" if os_family == "LINUX" else "Windows")
        if task.get("platformVersion") in (None, "", "LATEST"):
            task["platformVersion"] = FARGATE_LATEST[os_family]
    service = None
    group = task.get("group") or ""
    if group.startswith("service:"):
        service = rf.services.get(f"{task.get('clusterArn')}|{group.split(':', 1)[1]}")
    task.setdefault("enableExecuteCommand", bool(service and service.get("enableExecuteCommand")))
    created = facts.ago(1 + 3 * _stable_fraction(arn))
    task.setdefault("createdAt", ts(created))
    if task.get("lastStatus") == "RUNNING":
        task.setdefault("pullStartedAt", ts(created + timedelta(seconds=4)))
        task.setdefault("pullStoppedAt", ts(created + timedelta(seconds=19)))
        task.setdefault("startedAt", ts(created + timedelta(seconds=31)))
        task.setdefault("connectivity", "CONNECTED")
        task.setdefault("connectivityAt", ts(created + timedelta(seconds=2)))
    task.setdefault("version", 3)
    if td.get("containers"):
        task["containers"] = [_task_container(task, c, rf) for c in td["containers"]]
        with_checks = [c for c in td["containers"] if c.get("healthCheck") and c.get("essential", True)]
        if task.get("lastStatus") == "RUNNING":
            task["healthStatus"] = "HEALTHY" if with_checks else "UNKNOWN"


def _task_container(task: dict[str, Any], container: Mapping[str, Any], rf: RegionFacts) -> dict[str, Any]:
    cluster = (task.get("clusterArn") or "").rsplit("/", 1)[-1]
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    container_id = uuid.uuid5(_NAMESPACE, f"{task['taskArn']}/{container['name']}")
    prefix = task["taskArn"].split(":task/", 1)[0]
    out: dict[str, Any] = {
        "containerArn": f"{prefix}:container/{cluster}/{task_id}/{container_id}",
        "taskArn": task["taskArn"],
        "name": container["name"],
        "image": container.get("image", ""),
        "lastStatus": task.get("lastStatus", "PENDING"),
        "networkInterfaces": [],
        "healthStatus": ("HEALTHY" if task.get("lastStatus") == "RUNNING" else "UNKNOWN") if container.get("healthCheck") else "UNKNOWN",
    }
    image = container.get("image", "")
    # ECR images resolve to the pushed digest; others (public registries) to a stable stand-in.
    out["imageDigest"] = rf.image_digests.get(image) or "sha256:" + hashlib.sha256(image.encode()).hexdigest()
    if task.get("lastStatus") == "RUNNING":
        out["runtimeId"] = f"{task_id}-{uuid.uuid5(_NAMESPACE, out['containerArn']).int % 10**10:010d}"
    for attachment in task.get("attachments", []):
        details = {d.get("name"): d.get("value") for d in attachment.get("details", [])}
        if details.get("privateIPv4Address"):
            out["networkInterfaces"] = [{"attachmentId": attachment.get("id"), "privateIpv4Address": details["privateIPv4Address"]}]
    for key in ("cpu", "memory", "memoryReservation"):
        if container.get(key) is not None:
            out[key] = str(container[key])
    return out


def enrich_describe_services(params: Mapping[str, Any], response: dict[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> None:
    for service in response.get("services", []):
        if isinstance(service, dict) and service.get("serviceArn"):
            _place_on_managed_instances(service, _region_of(service["serviceArn"], region), facts)
            _enrich_service(service, facts, ts)


def _enrich_service(service: dict[str, Any], facts: EstateFacts, ts: Timestamp) -> None:
    cluster = (service.get("clusterArn") or "").rsplit("/", 1)[-1]
    name = service["serviceName"]
    principal, days = facts.backstory.services.get(f"{cluster}/{name}", (facts.backstory.default_service_creator, 30))
    created = facts.ago(days) + timedelta(hours=9 + 8 * _stable_fraction(service["serviceArn"]))
    service.setdefault("createdAt", ts(created))
    service.setdefault("createdBy", facts.principal(principal))
    fargate = _launch_kind(service) == "FARGATE"
    if fargate:
        service.setdefault("platformFamily", "Linux")
        service.setdefault("platformVersion", "LATEST")
    controller = (service.get("deploymentController") or {}).get("type", "ECS")
    if controller == "ECS":
        config = service.setdefault("deploymentConfiguration", {})
        config.setdefault("deploymentCircuitBreaker", {"enable": False, "rollback": False})
        config.setdefault("maximumPercent", 200)
        config.setdefault("minimumHealthyPercent", 100)
    service.setdefault("enableECSManagedTags", False)
    service.setdefault("enableExecuteCommand", False)
    service.setdefault("propagateTags", "NONE")
    service.setdefault("placementConstraints", [])
    service.setdefault("placementStrategy", [])
    if service.get("loadBalancers"):
        service.setdefault("healthCheckGracePeriodSeconds", 0)
    if service.get("runningCount", 0) < service.get("desiredCount", 0):
        # moto counts every task it did not start as pending; ECS has none: they cannot be placed.
        service["pendingCount"] = 0
        for deployment in service.get("deployments", []):
            deployment["pendingCount"] = 0
    for deployment in service.get("deployments", []):
        if fargate:
            deployment["platformFamily"] = "Linux"
        else:
            deployment.pop("platformFamily", None)
        if deployment.get("platformVersion") in (None, "LATEST") and fargate:
            deployment["platformVersion"] = service.get("platformVersion") or "LATEST"
    if not service.get("events"):
        steady = facts.now - timedelta(minutes=12 + 40 * _stable_fraction(service["serviceArn"], "event"))
        events = [{"id": str(uuid.uuid5(_NAMESPACE, f"{service['serviceArn']}/steady")), "createdAt": ts(steady),
                   "message": f"(service {name}) has reached a steady state."}]
        if service.get("desiredCount", 0) and service.get("runningCount", 0) < service.get("desiredCount", 0):
            events.insert(0, {"id": str(uuid.uuid5(_NAMESPACE, f"{service['serviceArn']}/placement")),
                              "createdAt": ts(steady + timedelta(minutes=5)),
                              "message": f"(service {name}) was unable to place a task because no container instance met all of its requirements."})
        service["events"] = events


def _managed_instances_of(region: str, facts: EstateFacts) -> dict[str, ManagedInstances]:
    """The region's ECS Managed Instances capacity providers by name (the backstory's `region/provider`)."""
    prefix = f"{region}/"
    return {key[len(prefix):]: value for key, value in facts.backstory.managed_instances.items() if key.startswith(prefix)}


def _capacity_provider_arn(region: str, facts: EstateFacts, name: str) -> str:
    return f"arn:aws:ecs:{region}:{facts.account_id}:capacity-provider/{name}"


def enrich_describe_capacity_providers(params: Mapping[str, Any], response: dict[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> None:
    """A Managed Instances provider moto reports MISSING, described as AWS describes it: only when asked
    with its cluster (API_DescribeCapacityProviders.html, `cluster`: "only capacity providers associated
    with this cluster are returned, including Amazon ECS Managed Instances capacity providers")."""
    managed = _managed_instances_of(region, facts)
    asked_with = (params.get("cluster") or "").rsplit("/", 1)[-1]
    if not managed or not asked_with:
        return
    found = response.setdefault("capacityProviders", [])
    failures = []
    for failure in response.get("failures", []):
        name = (failure.get("arn") or "").rsplit("/", 1)[-1]
        if failure.get("reason") != "MISSING" or name not in managed or managed[name].cluster.rsplit("/", 1)[-1] != asked_with:
            failures.append(failure)
            continue
        cluster = managed[name].cluster
        found.append({
            "capacityProviderArn": _capacity_provider_arn(region, facts, name),
            "name": name,
            "status": "ACTIVE",
            "type": "MANAGED_INSTANCES",
            "cluster": cluster,
            "managedInstancesProvider": {
                "infrastructureRoleArn": f"arn:aws:iam::{facts.account_id}:role/ecsInfrastructureRole",
                "instanceLaunchTemplate": {"ec2InstanceProfileArn": f"arn:aws:iam::{facts.account_id}:instance-profile/ecsInstanceRole"},
                "propagateTags": "CAPACITY_PROVIDER",
            },
            "tags": [],
        })
    response["failures"] = failures


def _place_on_managed_instances(service: dict[str, Any], region: str, facts: EstateFacts) -> None:
    """moto keeps launchType EC2 and drops the strategy of a service placed on Managed Instances."""
    cluster = (service.get("clusterArn") or "").rsplit("/", 1)[-1]
    for name, provider in _managed_instances_of(region, facts).items():
        if provider.cluster == cluster and service.get("serviceName") in provider.services:
            service.pop("launchType", None)
            service["capacityProviderStrategy"] = [{"capacityProvider": name, "weight": 1, "base": 0}]
            for deployment in service.get("deployments", []):
                deployment.pop("launchType", None)
                deployment["capacityProviderStrategy"] = service["capacityProviderStrategy"]


def enrich_describe_clusters(params: Mapping[str, Any], response: dict[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> None:
    include = set(params.get("include") or [])
    for cluster in response.get("clusters", []):
        if not isinstance(cluster, dict) or not cluster.get("clusterArn"):
            continue
        counts = facts.region(_region_of(cluster["clusterArn"], region)).clusters.get(cluster["clusterArn"])
        if counts is None:
            continue
        for key in ("activeServicesCount", "runningTasksCount", "pendingTasksCount", "registeredContainerInstancesCount"):
            cluster[key] = counts[key]
        cluster.setdefault("capacityProviders", [])
        cluster.setdefault("defaultCapacityProviderStrategy", [])
        if "STATISTICS" in include:
            stats = [k for k in counts if k not in ("activeServicesCount", "runningTasksCount", "pendingTasksCount", "registeredContainerInstancesCount")]
            cluster["statistics"] = [{"name": k, "value": str(counts[k])} for k in stats]
        if "SETTINGS" in include:
            cluster.setdefault("settings", [{"name": "containerInsights", "value": "disabled"}])
        if "ATTACHMENTS" in include:
            cluster.setdefault("attachments", [])


def enrich_list_account_settings(params: Mapping[str, Any], response: dict[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> None:
    if not params.get("effectiveSettings") or params.get("name") or params.get("value"):
        return
    root = f"arn:aws:iam::{facts.account_id}:root"
    settings = response.setdefault("settings", [])
    present = set()
    for setting in settings:
        setting.setdefault("principalArn", params.get("principalArn") or root)
        setting.setdefault("type", "user")
        present.add(setting.get("name"))
    for name, value in ACCOUNT_SETTING_DEFAULTS.items():
        if name not in present and not params.get("nextToken"):
            settings.append({"name": name, "value": value, "principalArn": root, "type": "aws_managed"})


def enrich_describe_container_instances(params: Mapping[str, Any], response: dict[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> None:
    """moto ignores the versionInfo given at registration and reports agent 1.0.0 / Docker 1.5.0."""
    for instance in response.get("containerInstances", []):
        info = instance.get("versionInfo") or {}
        if info.get("agentVersion") in (None, "1.0.0"):
            instance["versionInfo"] = {
                "agentVersion": facts.backstory.ecs_agent_version,
                "agentHash": hashlib.sha1(facts.backstory.ecs_agent_version.encode()).hexdigest()[:8],
                "dockerVersion": facts.backstory.docker_version,
            }


def enrich_inspector_account_status(params: Mapping[str, Any], response: dict[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> None:
    """moto answers nothing for an account that never activated Inspector; AWS says DISABLED."""
    answered = {a.get("accountId") for a in response.get("accounts", [])} | {a.get("accountId") for a in response.get("failedAccounts", [])}
    disabled = {"status": "DISABLED"}
    for account in params.get("accountIds") or [facts.account_id]:
        if account not in answered:
            response.setdefault("accounts", []).append(
                {
                    "accountId": account,
                    "state": dict(disabled),
                    "resourceState": {kind: dict(disabled) for kind in ("ec2", "ecr", "lambda", "lambdaCode", "codeRepository")},
                }
            )


def enrich_describe_images(params: Mapping[str, Any], response: dict[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> None:
    """moto reports the size of an image's config as its imageSizeInBytes; ECR reports its layers'.
    Under enhanced scanning ECR reports each image ACTIVE (Inspector rescans it continuously) with a
    summary of its findings (the demo's Inspector has none)."""
    rf = facts.region(region)
    for image in response.get("imageDetails", []):
        size = rf.image_sizes.get(f"{image.get('repositoryName')}@{image.get('imageDigest')}")
        if size:
            image["imageSizeInBytes"] = size
        if "imageScanStatus" not in image and any(fnmatchcase(image.get("repositoryName", ""), f) for f in rf.enhanced_scanning):
            image["imageScanStatus"] = {"status": "ACTIVE", "description": "Continuous scan is selected for image."}
            scanned = facts.now - timedelta(hours=3)
            image["imageScanFindingsSummary"] = {"imageScanCompletedAt": ts(scanned), "vulnerabilitySourceUpdatedAt": ts(scanned - timedelta(hours=1)),
                                                 "findingSeverityCounts": {}}


def enrich_describe_route_tables(params: Mapping[str, Any], response: dict[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> None:
    """AWS keeps every route table associated with any of the subnets an `association.subnet-id` filter
    names; moto only those whose subnets are all among them, or that have all of them. Add the others
    (on the last page, when that is the only filter)."""
    filters = params.get("Filters") or []
    if len(filters) != 1 or filters[0].get("Name") != "association.subnet-id" or params.get("RouteTableIds") or response.get("NextToken"):
        return
    subnets = set(filters[0].get("Values") or [])
    tables = response.setdefault("RouteTables", [])
    returned = {t.get("RouteTableId") for t in tables}
    for table in facts.region(region).route_tables:
        if table["RouteTableId"] not in returned and any(a.get("SubnetId") in subnets for a in table.get("Associations", [])):
            tables.append(copy.deepcopy(table))


# Keyed "<botocore service name>.<Operation>".
ENRICHERS: dict[str, Enricher] = {
    "ec2.DescribeRouteTables": enrich_describe_route_tables,
    "ecr.DescribeImages": enrich_describe_images,
    "inspector2.BatchGetAccountStatus": enrich_inspector_account_status,
    "ecs.DescribeTaskDefinition": enrich_describe_task_definition,
    "ecs.DescribeTasks": enrich_describe_tasks,
    "ecs.DescribeServices": enrich_describe_services,
    "ecs.DescribeClusters": enrich_describe_clusters,
    "ecs.DescribeCapacityProviders": enrich_describe_capacity_providers,
    "ecs.DescribeContainerInstances": enrich_describe_container_instances,
    "ecs.ListAccountSettings": enrich_list_account_settings,
}


# --- stubs: operations moto has no handler for ---------------------------------------------------

Stub = Callable[[Mapping[str, Any], str, EstateFacts, Timestamp], dict[str, Any]]


class StubError(Exception):
    """A stub's answer is an API error."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def stub_guardduty_list_coverage(params: Mapping[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> dict[str, Any]:
    """ECS runtime coverage per cluster with running work, as GuardDuty reports it."""
    rf = facts.region(region)
    detector = rf.guardduty
    if detector is None or params.get("DetectorId") != detector["id"]:
        raise StubError("BadRequestException", "The request is rejected because the input detectorId is not owned by the current account.")
    if not detector["runtime"] or params.get("NextToken"):
        return {"Resources": []}
    criteria = (params.get("FilterCriteria") or {}).get("FilterCriterion", [])
    wanted = {v for c in criteria if c.get("CriterionKey") == "RESOURCE_TYPE" for v in (c.get("FilterCondition") or {}).get("Equals", [])}
    if wanted and "ECS" not in wanted:
        return {"Resources": []}
    resources = []
    for arn, counts in sorted(rf.clusters.items()):
        fargate = counts["runningFargateTasksCount"]
        instances = counts["registeredContainerInstancesCount"]
        if not fargate and not instances:
            continue  # nothing runs there: GuardDuty has nothing to cover
        details: dict[str, Any] = {"ClusterName": arn.rsplit("/", 1)[-1]}
        issues = []
        if fargate:
            details["FargateDetails"] = {"ManagementType": "AUTO_MANAGED" if detector["fargate_agent"] else "DISABLED", "Issues": []}
            if not detector["fargate_agent"]:
                issues.append("Fargate agent management is disabled")
        if instances:
            covered = instances if detector["ec2_agent"] else 0
            details["ContainerInstanceDetails"] = {"CoveredContainerInstances": covered, "CompatibleContainerInstances": instances}
            if covered < instances:
                issues.append("No agent reporting")
        resource: dict[str, Any] = {
            "ResourceId": arn,
            "DetectorId": detector["id"],
            "AccountId": facts.account_id,
            "ResourceDetails": {"ResourceType": "ECS", "EcsClusterDetails": details},
            "CoverageStatus": "UNHEALTHY" if issues else "HEALTHY",
            "UpdatedAt": ts(facts.now - timedelta(minutes=20 + 30 * _stable_fraction(arn, "coverage"))),
        }
        if issues:
            resource["Issue"] = "; ".join(issues)
        resources.append(resource)
    return {"Resources": resources}


# Fargate task sizes: CPU units -> allowed memory (MiB).
_FARGATE_SIZES = {256: (512, 1024, 2048), 512: tuple(range(1024, 4097, 1024)), 1024: tuple(range(2048, 8193, 1024)),
                  2048: tuple(range(4096, 16385, 1024)), 4096: tuple(range(8192, 30721, 1024))}


def _fargate_size(cpu: int, memory: int) -> tuple[int, int]:
    """The smallest valid Fargate size with at least `cpu` units and `memory` MiB."""
    for units in sorted(_FARGATE_SIZES):
        if units >= cpu:
            fits = [m for m in _FARGATE_SIZES[units] if m >= memory]
            if fits:
                return units, fits[0]
    return 4096, 30720


def _monthly_cost(cpu: int, memory: int, tasks: int) -> float:
    """Fargate on-demand Linux/x86 in us-east-1: $0.04048 per vCPU-hour and $0.004445 per GB-hour."""
    return round((cpu / 1024 * 0.04048 + memory / 1024 * 0.004445) * 730 * max(tasks, 1), 2)


def stub_compute_optimizer_ecs_recommendations(params: Mapping[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> dict[str, Any]:
    """Rightsizing recommendations for Fargate services, from the backstory's utilisation."""
    rf = facts.region(region)
    recommendations, errors = [], []
    for arn in params.get("serviceArns") or []:
        service = rf.service(arn)
        if service is None:
            errors.append({"identifier": arn, "code": "ResourceNotFoundException", "message": "The service was not found."})
            continue
        if _launch_kind(service) != "FARGATE":
            errors.append({"identifier": arn, "code": "InvalidParameterValueException", "message": "Only Amazon ECS services on Fargate are supported."})
            continue
        td = rf.task_definitions.get(service.get("taskDefinition", ""))
        if not td or not service.get("desiredCount") or not td.get("cpu") or not td.get("memory"):
            errors.append({"identifier": arn, "code": "InsufficientDataException",
                           "message": "Not enough utilization data: the service ran no tasks in the lookback period."})
            continue
        recommendations.append(_recommendation(service, td, rf, facts, ts))
    return {"ecsServiceRecommendations": recommendations, "errors": errors}


def _recommendation(service: dict[str, Any], td: dict[str, Any], rf: RegionFacts, facts: EstateFacts, ts: Timestamp) -> dict[str, Any]:
    cluster = service["clusterArn"].rsplit("/", 1)[-1]
    use = facts.backstory.utilisation_of(cluster, service["serviceName"])
    cpu, memory = int(td["cpu"]), int(td["memory"])
    reasons = []
    if use.cpu[1] < 0.2:
        reasons.append("CPUOverprovisioned")
    if use.memory[1] < 0.3:
        reasons.append("MemoryOverprovisioned")
    if use.cpu[1] > 0.9:
        reasons.append("CPUUnderprovisioned")
    if use.memory[1] > 0.9:
        reasons.append("MemoryUnderprovisioned")
    if any(r.endswith("Underprovisioned") for r in reasons):
        finding, risk = "Underprovisioned", "High"
        reasons = [r for r in reasons if r.endswith("Underprovisioned")]
    elif reasons:
        finding, risk = "Overprovisioned", "VeryLow"
    else:
        finding, risk = "Optimized", "Low"
    # Size for the peak with 30 % headroom.
    want_cpu = max(256, int(cpu * use.cpu[1] * 1.3))
    want_memory = max(512, int(memory * use.memory[1] * 1.3))
    new_cpu, new_memory = _fargate_size(want_cpu, want_memory) if finding != "Optimized" else (cpu, memory)
    tasks = int(service.get("desiredCount") or 1)
    saving = _monthly_cost(cpu, memory, tasks) - _monthly_cost(new_cpu, new_memory, tasks)

    def projected(name: str, used: float, reserved: int, new: int) -> dict[str, Any]:
        value = round(100 * used * reserved / new, 1)
        return {"name": name, "statistic": "Maximum", "lowerBoundValue": round(value * 0.9, 1), "upperBoundValue": value}

    containers = []
    for container in td.get("containers", []):
        size = {k: container[k] for k in ("memory", "memoryReservation") if container.get(k) is not None}
        containers.append({"containerName": container["name"], "memorySizeConfiguration": size, "cpu": container.get("cpu", 0)})
    policies = rf.scaling.get(f"service/{cluster}/{service['serviceName']}", [])
    current: dict[str, Any] = {"memory": memory, "cpu": cpu, "containerConfigurations": containers, "taskDefinitionArn": service["taskDefinition"]}
    if "ECSServiceAverageCPUUtilization" in policies:
        current["autoScalingConfiguration"] = "TargetTrackingScalingCpu"
    elif "ECSServiceAverageMemoryUtilization" in policies:
        current["autoScalingConfiguration"] = "TargetTrackingScalingMemory"
    option: dict[str, Any] = {
        "memory": new_memory,
        "cpu": new_cpu,
        "projectedUtilizationMetrics": [projected("Cpu", use.cpu[1], cpu, new_cpu), projected("Memory", use.memory[1], memory, new_memory)],
        "containerRecommendations": containers,
    }
    if saving > 0:
        savings = {"savingsOpportunityPercentage": round(100 * saving / _monthly_cost(cpu, memory, tasks), 1),
                   "estimatedMonthlySavings": {"currency": "USD", "value": round(saving, 2)}}
        option["savingsOpportunity"] = savings
        option["savingsOpportunityAfterDiscounts"] = savings
    return {
        "serviceArn": service["serviceArn"],
        "accountId": facts.account_id,
        "currentServiceConfiguration": current,
        "utilizationMetrics": [
            {"name": "Cpu", "statistic": "Maximum", "value": round(100 * use.cpu[1], 1)},
            {"name": "Cpu", "statistic": "Average", "value": round(100 * use.cpu[0], 1)},
            {"name": "Memory", "statistic": "Maximum", "value": round(100 * use.memory[1], 1)},
            {"name": "Memory", "statistic": "Average", "value": round(100 * use.memory[0], 1)},
        ],
        "lookbackPeriodInDays": 14.0,
        "launchType": "Fargate",
        "lastRefreshTimestamp": ts(facts.now - timedelta(hours=6)),
        "finding": finding,
        "findingReasonCodes": reasons,
        "serviceRecommendationOptions": [option],
        "currentPerformanceRisk": risk,
        "effectiveRecommendationPreferences": {"savingsEstimationMode": {"source": "PublicPricing"}, "lookBackPeriod": "DAYS_14"},
        "tags": [{"key": t["key"], "value": t["value"]} for t in service.get("tags", [])],
    }


def stub_inspector_get_configuration(params: Mapping[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> dict[str, Any]:
    """Inspector's scan settings: the defaults, where Inspector was ever activated."""
    if not facts.region(region).inspector:
        raise StubError("ResourceNotFoundException", "Inspector has not been enabled for this account in this Region.", 404)
    updated = ts(facts.ago(200))
    return {
        "ecrConfiguration": {
            "rescanDurationState": {
                "rescanDuration": "LIFETIME",
                "status": "SUCCESS",
                "updatedAt": updated,
                "pullDateRescanDuration": "DAYS_90",
                "pullDateRescanMode": "LAST_PULL_DATE",
            }
        },
        "ec2Configuration": {"scanModeState": {"scanMode": "EC2_HYBRID", "scanModeStatus": "SUCCESS"}},
    }


def stub_codedeploy_batch_get_deployment_groups(params: Mapping[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> dict[str, Any]:
    """The named deployment groups of one application; those that do not exist are named in errorMessage."""
    application = params.get("applicationName", "")
    groups = facts.region(region).deployment_groups
    found, missing = [], []
    for name in params.get("deploymentGroupNames") or []:
        group = groups.get(f"{application}/{name}")
        if group is None:
            missing.append(name)
        else:
            found.append(copy.deepcopy(group))
    reply: dict[str, Any] = {"deploymentGroupsInfo": found}
    if missing:
        reply["errorMessage"] = f"Deployment groups {', '.join(missing)} do not exist for application {application}."
    return reply


def _demo_findings(region: str, facts: EstateFacts, ts: Timestamp) -> list[dict[str, Any]]:
    """Where runtime monitoring is on, it has caught a reverse shell in the first cluster with
    running work (SECURITY-019 FAIL); a region without it has no runtime findings (PASS)."""
    rf = facts.region(region)
    detector = rf.guardduty
    if detector is None or not detector["runtime"]:
        return []
    busy = [arn for arn, counts in sorted(rf.clusters.items()) if counts.get("runningTasksCount")]
    if not busy:
        return []
    cluster_arn = busy[0]
    seen = ts(facts.now - timedelta(hours=3))
    return [
        {
            "AccountId": facts.account_id,
            "Arn": f"arn:aws:guardduty:{region}:{facts.account_id}:detector/{detector['id']}/finding/demo-reverse-shell",
            "Id": "demo-reverse-shell",
            "Region": region,
            "Partition": "aws",
            "SchemaVersion": "2.0",
            "Type": "Execution:Runtime/ReverseShell",
            "Title": "A process in a container has created a reverse shell.",
            "Description": "A process in a container of an ECS task has created a reverse shell.",
            "Severity": 8.0,
            "Confidence": 8.0,
            "CreatedAt": seen,
            "UpdatedAt": seen,
            "Resource": {
                "ResourceType": "ECSCluster",
                "EcsClusterDetails": {"Name": cluster_arn.rsplit("/", 1)[-1], "Arn": cluster_arn},
            },
            "Service": {"ServiceName": "guardduty", "DetectorId": detector["id"], "Archived": False, "Count": 1, "FeatureName": "RuntimeMonitoring"},
        }
    ]


def _require_detector(params: Mapping[str, Any], region: str, facts: EstateFacts) -> None:
    detector = facts.region(region).guardduty
    if detector is None or params.get("DetectorId") != detector["id"]:
        raise StubError("BadRequestException", "The request is rejected because the input detectorId is not owned by the current account.")


def stub_guardduty_list_findings(params: Mapping[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> dict[str, Any]:
    """The ids of the region's open ECS findings (moto has no GuardDuty findings)."""
    _require_detector(params, region, facts)
    if params.get("NextToken"):
        return {"FindingIds": []}
    return {"FindingIds": [f["Id"] for f in _demo_findings(region, facts, ts)]}


def stub_guardduty_get_findings(params: Mapping[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> dict[str, Any]:
    _require_detector(params, region, facts)
    wanted = set(params.get("FindingIds") or [])
    return {"Findings": [f for f in _demo_findings(region, facts, ts) if f["Id"] in wanted]}


def _daemons(region: str, facts: EstateFacts) -> dict[str, tuple[str, ManagedInstances, tuple[str, ...]]]:
    """The region's managed daemons: ARN -> (capacity provider name, provider, images)."""
    out = {}
    for name, provider in _managed_instances_of(region, facts).items():
        for daemon, images in provider.daemons.items():
            out[f"arn:aws:ecs:{region}:{facts.account_id}:daemon/{provider.cluster}/{daemon}"] = (name, provider, images)
    return out


def stub_ecs_list_daemons(params: Mapping[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> dict[str, Any]:
    cluster = (params.get("clusterArn") or "default").rsplit("/", 1)[-1]
    arns = sorted(arn for arn, (_, provider, _) in _daemons(region, facts).items() if provider.cluster == cluster)
    return {"daemonSummariesList": [{"daemonArn": arn, "status": "ACTIVE", "createdAt": ts(facts.ago(20))} for arn in arns]}


def stub_ecs_describe_daemon(params: Mapping[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> dict[str, Any]:
    arn = params.get("daemonArn") or ""
    daemon = _daemons(region, facts).get(arn)
    if daemon is None:
        raise StubError("DaemonNotFoundException", f"The daemon {arn} was not found.")
    name, provider, _ = daemon
    return {"daemon": {
        "daemonArn": arn,
        "clusterArn": f"arn:aws:ecs:{region}:{facts.account_id}:cluster/{provider.cluster}",
        "status": "ACTIVE",
        "currentRevisions": [{"arn": f"{arn.replace(':daemon/', ':daemon-revision/')}/1",
                              "capacityProviders": [{"arn": _capacity_provider_arn(region, facts, name), "runningCount": 2, "withoutDaemonCount": 0}],
                              "totalRunningCount": 2, "totalWithoutDaemonCount": 0}],
        "createdAt": ts(facts.ago(20)),
        "updatedAt": ts(facts.ago(6)),
    }}


def stub_ecs_describe_daemon_revisions(params: Mapping[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> dict[str, Any]:
    revisions, failures = [], []
    daemons = _daemons(region, facts)
    for arn in params.get("daemonRevisionArns") or []:
        daemon_arn = arn.replace(":daemon-revision/", ":daemon/").rsplit("/", 1)[0]
        if daemon_arn not in daemons:
            failures.append({"arn": arn, "reason": "MISSING"})
            continue
        _, provider, images = daemons[daemon_arn]
        revisions.append({
            "daemonRevisionArn": arn,
            "clusterArn": f"arn:aws:ecs:{region}:{facts.account_id}:cluster/{provider.cluster}",
            "daemonArn": daemon_arn,
            "createdAt": ts(facts.ago(6)),
            "containerImages": [{"containerName": image.rsplit("/", 1)[-1].split(":", 1)[0], "image": image} for image in images],
        })
    return {"daemonRevisions": revisions, "failures": failures}


STUBS: dict[str, Stub] = {
    "ecs.ListDaemons": stub_ecs_list_daemons,
    "ecs.DescribeDaemon": stub_ecs_describe_daemon,
    "ecs.DescribeDaemonRevisions": stub_ecs_describe_daemon_revisions,
    "guardduty.ListFindings": stub_guardduty_list_findings,
    "guardduty.GetFindings": stub_guardduty_get_findings,
    "codedeploy.BatchGetDeploymentGroups": stub_codedeploy_batch_get_deployment_groups,
    "inspector2.GetConfiguration": stub_inspector_get_configuration,
    "guardduty.ListCoverage": stub_guardduty_list_coverage,
    "compute-optimizer.GetECSServiceRecommendations": stub_compute_optimizer_ecs_recommendations,
}


def answer(operation: str, params: Mapping[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> dict[str, Any] | None:
    """The stub's answer for `operation`, None if moto handles it; raises StubError for an API error."""
    stub = STUBS.get(operation)
    return None if stub is None else stub(params, region, facts, ts)


def enrich(operation: str, params: Mapping[str, Any], response: dict[str, Any], region: str, facts: EstateFacts, ts: Timestamp) -> bool:
    """Apply the enricher for `operation` ("ecs.DescribeTasks"); False if there is none."""
    enricher = ENRICHERS.get(operation)
    if enricher is None:
        return False
    enricher(params, response, region, facts, ts)
    return True
