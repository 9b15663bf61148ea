"""A fixed, realistic report for rendering tests and for looking at the templates.

It uses the real catalogue when it loads and defines every check the sample needs; otherwise a small
catalogue written here. Some names and values are hostile on purpose (HTML, Markdown, spreadsheet
formulas, terminal escapes): every report format must show them as inert text.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ecs_audit.catalogue import Area, Catalogue, CheckEntry, Reference, Scope, Severity, load_catalogue
from ecs_audit.findings import Finding, ResourceRef, Status, Waiver
from ecs_audit.inventory.errors import ApiError
from ecs_audit.report.model import Report, build_report

ACCOUNT = "123456789012"
REGION = "us-east-1"
GENERATED_AT = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
CALLER_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/ecs-audit-readonly/audit-session"
VERSION = "0.1.0"

HOSTILE_HTML = "<script>alert(1)</script>"
HOSTILE_MD = "| pipe | and **bold** [link](http://evil)"
HOSTILE_FORMULA = '=HYPERLINK("http://evil","click")'
HOSTILE_TERMINAL = "\x1b[31m"

PROD = "prod"
# A cluster and a service whose names try to break out of HTML attributes and Markdown tables.
STAGING = f'staging"><{HOSTILE_HTML[1:]}'
PAYMENTS = f"payments{HOSTILE_HTML}{HOSTILE_MD}"

_ECS = f"arn:aws:ecs:{REGION}:{ACCOUNT}:"


def _doc(path: str) -> str:
    return f"https://docs.aws.amazon.com/{path}"


def _ref(source: str, id: str | None = None, url: str | None = None) -> Reference:
    return Reference(source=source, id=id, url=url)


def _entry(id: str, title: str, severity: str, scope: str, rationale: str, remediation: str, **extra: Any) -> CheckEntry:
    return CheckEntry(
        id=id,
        title=title,
        severity=Severity(severity),
        scope=[Scope(scope)],
        rationale=rationale,
        remediation=remediation,
        **extra,
    )


def fallback_catalogue() -> Catalogue:
    """A small catalogue following /work/shared/CHECKLIST.md, for when checks/*.yaml is not there."""
    bp = _doc("AmazonECS/latest/developerguide/")
    sh = _doc("securityhub/latest/userguide/ecs-controls.html")
    areas = [
        Area(area="CICD", title="Deployment and rollback", order=1, checks=[
            _entry("CICD-001", "Rolling services have the deployment circuit breaker with rollback", "high", "SERVICE",
                   "Without the circuit breaker a broken image keeps ECS replacing failing tasks for hours "
                   "while the service runs on fewer healthy tasks; with rollback, ECS returns to the last "
                   "working deployment by itself.",
                   "Enable the deployment circuit breaker with rollback on the service.",
                   remediation_snippet='aws ecs update-service --cluster CLUSTER --service SERVICE \\\n'
                                       '  --deployment-configuration "deploymentCircuitBreaker={enable=true,rollback=true}"',
                   references=[_ref("AWS docs", url=bp + "deployment-circuit-breaker.html")]),
            _entry("CICD-005", "Rolling deployments keep full capacity", "low", "SERVICE",
                   "A minimum healthy percent below 100 lets a deployment stop tasks before their "
                   "replacements are healthy, so every release briefly reduces capacity.",
                   "Set minimumHealthyPercent to 100 and maximumPercent to 200 so new tasks start before old ones stop.",
                   remediation_snippet='"deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 200}'),
        ]),
        Area(area="TASKDEF", title="Task definition and sizing", order=2, checks=[
            _entry("TASKDEF-001", "Task-level CPU and memory are defined", "low", "TASKDEF",
                   "Task-level sizing is what Fargate bills and what the scheduler places; without it, "
                   "tasks can starve each other on EC2.",
                   "Set cpu and memory at the task level of the task definition."),
            _entry("TASKDEF-004", "Essential containers define a health check", "medium", "CONTAINER",
                   "Without a container health check ECS only notices a process that exits; a hung "
                   "application keeps receiving traffic.",
                   "Add a healthCheck to every essential container.",
                   remediation_snippet='"healthCheck": {\n  "command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],\n'
                                       '  "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 60\n}',
                   references=[_ref("AWS docs", url=bp + "task_definition_parameters.html#container_definition_healthcheck")]),
        ]),
        Area(area="IMAGE", title="Images and registry", order=3, checks=[
            _entry("IMAGE-001", "Images are pinned to a version tag or digest, not latest", "high", "CONTAINER",
                   "A floating tag makes deployments unrepeatable: a scale-out can start a different image "
                   "from the one that was tested, and a rollback cannot return to a known state.",
                   "Reference images by an immutable version tag or by digest (image@sha256:...)."),
        ]),
        Area(area="SECURITY", title="Runtime, identity and detection", order=4, checks=[
            _entry("SECURITY-001", "Containers have a read-only root filesystem", "high", "CONTAINER",
                   "A writable root filesystem lets an attacker who gains code execution drop tools and "
                   "persist changes inside the container.",
                   "Set readonlyRootFilesystem to true and mount writable paths as volumes.",
                   remediation_snippet='"readonlyRootFilesystem": true',
                   references=[_ref("Security Hub", "ECS.5", sh + "#ecs-5"),
                               _ref("Config", "ecs-containers-readonly-access"), _ref("Checkov", "CKV_AWS_336")]),
            _entry("SECURITY-002", "No privileged containers", "critical", "CONTAINER",
                   "A privileged container has root access to the host: one compromised container owns the "
                   "instance and every other task on it.",
                   "Remove privileged: true from the container definition.",
                   remediation_snippet='"privileged": false',
                   references=[_ref("Security Hub", "ECS.4", sh + "#ecs-4"), _ref("Checkov", "CKV_AWS_334")]),
            _entry("SECURITY-003", "Containers run as a non-root user", "high", "CONTAINER",
                   "Processes running as root inside a container make any escape or misconfiguration far "
                   "more damaging.",
                   "Set user to a non-root UID in the container definition or the image.",
                   references=[_ref("Security Hub", "ECS.20", sh + "#ecs-20")]),
            _entry("SECURITY-006", "No secrets in plain environment variables", "critical", "CONTAINER",
                   "Environment variables are readable by anyone with ecs:DescribeTaskDefinition and stay "
                   "in every old revision.",
                   "Move the value to Secrets Manager or an SSM SecureString parameter and reference it under secrets.",
                   remediation_snippet='"secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"}]',
                   references=[_ref("Security Hub", "ECS.8", sh + "#ecs-8")]),
            _entry("SECURITY-009", "The task role is not over-privileged", "high", "TASKDEF",
                   "The task role's permissions are what an attacker inherits from a compromised container.",
                   "Replace broad policies with least-privilege statements scoped to the resources the task uses."),
            _entry("SECURITY-011", "Runtime threat detection covers the tasks", "high", "ACCOUNT",
                   "Without runtime monitoring, a compromised container (crypto-miners, reverse shells) "
                   "goes unnoticed.",
                   "Enable GuardDuty Runtime Monitoring with ECS Fargate agent management.",
                   remediation_snippet="aws guardduty update-detector --detector-id DETECTOR \\\n"
                                       "  --features '[{\"Name\":\"RUNTIME_MONITORING\",\"Status\":\"ENABLED\"}]'",
                   references=[_ref("Security Hub", "GuardDuty.11",
                                    _doc("securityhub/latest/userguide/guardduty-controls.html#guardduty-11"))]),
        ]),
        Area(area="NETWORK", title="Exposure and service-to-service traffic", order=5, checks=[
            _entry("NETWORK-001", "Services and task sets do not assign public IPs", "high", "SERVICE",
                   "A public IP puts the task straight on the internet, bypassing the load balancer and WAF.",
                   "Set assignPublicIp to DISABLED and reach the internet through a NAT gateway or VPC endpoints.",
                   references=[_ref("Security Hub", "ECS.2", sh + "#ecs-2")]),
            _entry("NETWORK-010", "Service-to-service traffic uses a private mechanism", "info", "SERVICE",
                   "Services that call each other through public endpoints pay for NAT and expose traffic.",
                   "Use Service Connect, Cloud Map or an internal load balancer."),
        ]),
        Area(area="STORAGE", title="Storage", order=6, checks=[
            _entry("STORAGE-001", "EFS volumes encrypt in transit", "high", "TASKDEF",
                   "NFS traffic is plain text unless TLS is enabled on the mount.",
                   "Set transitEncryption to ENABLED in efsVolumeConfiguration."),
        ]),
        Area(area="OBSERVABILITY", title="Observability", order=7, checks=[
            _entry("OBSERVABILITY-001", "Container Insights is on for each cluster", "medium", "CLUSTER",
                   "Without Container Insights there are no per-task CPU and memory metrics to size or debug with.",
                   "Enable Container Insights on the cluster.",
                   remediation_snippet="aws ecs update-cluster-settings --cluster CLUSTER --settings name=containerInsights,value=enhanced"),
            _entry("OBSERVABILITY-003", "Every container ships its logs", "high", "CONTAINER",
                   "Logs that stay on the task are lost when it stops.",
                   "Configure the awslogs or awsfirelens log driver."),
        ]),
        Area(area="RESILIENCE", title="Availability and scaling", order=8, checks=[
            _entry("RESILIENCE-001", "Service subnets span several AZs", "high", "SERVICE",
                   "A service in one or two Availability Zones loses most of its capacity in an AZ outage.",
                   "Add subnets in at least three Availability Zones to the service's network configuration."),
            _entry("RESILIENCE-002", "Replica services run at least two tasks", "medium", "SERVICE",
                   "A single task is a single point of failure during deployments and host failures.",
                   "Run at least two tasks, or set the scalable target's minimum capacity to 2."),
        ]),
        Area(area="CLUSTER", title="Clusters", order=9, checks=[
            _entry("CLUSTER-004", "Clusters are not idle", "info", "CLUSTER",
                   "Idle clusters cost money when they keep instances and widen the attack surface.",
                   "Delete clusters that run nothing."),
        ]),
        Area(area="TAGGING", title="Tagging", order=10, checks=[
            _entry("TAGGING-002", "Required tags are present", "low", "CLUSTER",
                   "Untagged resources cannot be attributed to a team or environment for cost and incidents.",
                   "Add the required tags (default: Environment).",
                   references=[_ref("Security Hub", "ECS.14", sh + "#ecs-14")]),
        ]),
    ]
    return Catalogue(areas=areas)


def _resources() -> dict[str, ResourceRef]:
    def ref(kind: str, type_: str, name: str, path: str | None = None) -> ResourceRef:
        return ResourceRef(type=type_, arn=f"{_ECS}{kind}/{path or name}", name=name)

    return {
        "account": ResourceRef(type="AWS::::Account", arn=f"arn:aws:iam::{ACCOUNT}:root", name=ACCOUNT),
        "prod": ref("cluster", "AWS::ECS::Cluster", PROD),
        "staging": ref("cluster", "AWS::ECS::Cluster", STAGING),
        "web": ref("service", "AWS::ECS::Service", "web", f"{PROD}/web"),
        "worker": ref("service", "AWS::ECS::Service", "worker", f"{PROD}/worker"),
        "payments": ref("service", "AWS::ECS::Service", PAYMENTS, f"{STAGING}/{PAYMENTS}"),
        "web:42": ref("task-definition", "AWS::ECS::TaskDefinition", "web:42"),
        "worker:7": ref("task-definition", "AWS::ECS::TaskDefinition", "worker:7"),
        "payments:3": ref("task-definition", "AWS::ECS::TaskDefinition", "payments:3"),
    }


# (check, status, resource key, container, cluster, message, evidence)
_PLAN: list[tuple[str, Status, str, str | None, str | None, str, dict[str, Any]]] = [
    ("SECURITY-002", Status.FAIL, "worker:7", "worker", PROD, "container worker runs privileged",
     {"privileged": True, "launchType": "EC2"}),
    ("SECURITY-002", Status.PASS, "web:42", "app", PROD, "container app is not privileged", {"privileged": False}),
    ("SECURITY-006", Status.FAIL, "payments:3", "app", STAGING,
     "environment variables DB_PASSWORD and STRIPE_API_KEY look like secrets (values not shown)",
     {"variables": ["DB_PASSWORD", "STRIPE_API_KEY"],
      "note": f"{HOSTILE_FORMULA} {HOSTILE_TERMINAL}red\x1b[0m {HOSTILE_HTML} {HOSTILE_MD}"}),
    ("SECURITY-001", Status.FAIL, "web:42", "app", PROD, "readonlyRootFilesystem is not set",
     {"readonlyRootFilesystem": None}),
    ("SECURITY-001", Status.PASS, "web:42", "log-router", PROD, "root filesystem is read-only",
     {"readonlyRootFilesystem": True}),
    ("SECURITY-003", Status.WARN, "payments:3", "app", STAGING,
     "no user is set, so the image decides (often root)", {"user": None, "operatingSystemFamily": "LINUX"}),
    ("SECURITY-011", Status.FAIL, "account", None, None,
     "GuardDuty Runtime Monitoring is off and no third-party runtime agent was found",
     {"detector_id": "6ab1c2d3e4f5", "features": {"RUNTIME_MONITORING": "DISABLED"}, "third_party_agents": []}),
    ("SECURITY-009", Status.UNKNOWN, "web:42", None, PROD,
     "evidence could not be read: iam:ListAttachedRolePolicies was denied (AccessDeniedException): "
     "grant iam:ListAttachedRolePolicies to the audit role",
     {"failed_calls": ["iam:ListAttachedRolePolicies"], "error_codes": ["AccessDeniedException"]}),
    ("NETWORK-001", Status.FAIL, "payments", None, STAGING,
     f"service {PAYMENTS} assigns public IPs to its tasks",
     {"assignPublicIp": "ENABLED", "subnets": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]}),
    ("NETWORK-001", Status.PASS, "web", None, PROD, "assignPublicIp is DISABLED", {"assignPublicIp": "DISABLED"}),
    ("NETWORK-010", Status.WARN, "worker", None, PROD,
     "no Service Connect, Cloud Map registry or internal load balancer is visible",
     {"serviceConnect": False, "serviceRegistries": [], "loadBalancers": []}),
    ("CICD-001", Status.FAIL, "worker", None, PROD, "the deployment circuit breaker is off",
     {"deploymentController": "ECS", "deploymentCircuitBreaker": {"enable": False, "rollback": False}}),
    ("CICD-001", Status.PASS, "web", None, PROD, "circuit breaker enabled with rollback",
     {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}),
    ("CICD-001", Status.NOT_APPLICABLE, "payments", None, STAGING,
     "deployments are controlled by CODE_DEPLOY (see CICD-002)", {"deploymentController": "CODE_DEPLOY"}),
    ("CICD-005", Status.WARN, "web", None, PROD, "minimumHealthyPercent is 50: deployments drop capacity",
     {"minimumHealthyPercent": 50, "maximumPercent": 200, "desiredCount": 4}),
    ("TASKDEF-004", Status.FAIL, "worker:7", "worker", PROD, "essential container worker has no health check",
     {"essential": True, "healthCheck": None}),
    ("TASKDEF-004", Status.PASS, "web:42", "app", PROD, "health check defined",
     {"healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"], "interval": 30}}),
    ("TASKDEF-001", Status.PASS, "web:42", None, PROD, "task size 512 CPU units / 1024 MiB", {"cpu": "512", "memory": "1024"}),
    ("TASKDEF-001", Status.PASS, "worker:7", None, PROD, "task size 1024 CPU units / 2048 MiB", {"cpu": "1024", "memory": "2048"}),
    ("IMAGE-001", Status.FAIL, "payments:3", "app", STAGING, "image uses the latest tag",
     {"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/payments:latest"}),
    ("IMAGE-001", Status.PASS, "web:42", "app", PROD, "image pinned by digest",
     {"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}),
    ("OBSERVABILITY-001", Status.FAIL, "staging", None, STAGING, "Container Insights is disabled",
     {"containerInsights": "disabled"}),
    ("OBSERVABILITY-001", Status.PASS, "prod", None, PROD, "Container Insights is enhanced", {"containerInsights": "enhanced"}),
    ("OBSERVABILITY-003", Status.PASS, "web:42", "app", PROD, "logs go to awslogs",
     {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web"}}),
    ("RESILIENCE-001", Status.WARN, "worker", None, PROD, "subnets span 2 Availability Zones",
     {"availabilityZones": ["us-east-1a", "us-east-1b"]}),
    ("RESILIENCE-001", Status.PASS, "web", None, PROD, "subnets span 3 Availability Zones",
     {"availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"]}),
    ("RESILIENCE-002", Status.NOT_APPLICABLE, "payments", None, STAGING, "the service is parked (desiredCount 0)",
     {"desiredCount": 0}),
    ("STORAGE-001", Status.NOT_APPLICABLE, "web:42", None, PROD, "the task definition has no EFS volumes", {"volumes": []}),
    ("CLUSTER-004", Status.UNKNOWN, "staging", None, STAGING,
     "evidence could not be read: ecs:ListContainerInstances failed (ThrottlingException): Rate exceeded",
     {"failed_calls": ["ecs:ListContainerInstances"], "error_codes": ["ThrottlingException"]}),
    ("TAGGING-002", Status.FAIL, "staging", None, STAGING, "required tag Environment is missing",
     {"missing": ["Environment"], "tags": {"Team": HOSTILE_MD, "CostCentre": HOSTILE_FORMULA}}),
]

_WAIVED = (
    "SECURITY-001", "worker:7", "worker", PROD, "readonlyRootFilesystem is not set",
    Waiver(check="SECURITY-001", resource=f"{_ECS}task-definition/worker:7", reason="legacy worker writes to /tmp; fix tracked in OPS-1234",
           owner="platform-team@example.com", expires="2027-03-31"),
)


def _catalogue() -> Catalogue:
    wanted = {plan[0] for plan in _PLAN}
    try:
        catalogue = load_catalogue()
        ids = {entry.id for entry in catalogue.checks}
    except Exception:  # the catalogue is missing or being written: use the sample's own
        return fallback_catalogue()
    return catalogue if wanted <= ids else fallback_catalogue()


def make_finding(
    entry: CheckEntry,
    status: Status,
    resource: ResourceRef,
    *,
    container: str | None = None,
    cluster: str | None = None,
    message: str,
    evidence: dict[str, Any] | None = None,
    waiver: Waiver | None = None,
    account_id: str = ACCOUNT,
    region: str = REGION,
) -> Finding:
    """A finding as the engine makes it: title, area, severity, remediation and references from the catalogue."""
    return Finding(
        check_id=entry.id,
        title=entry.title,
        area=entry.area,
        severity=entry.severity,
        status=status,
        account_id=account_id,
        region=region,
        resource=resource,
        container=container,
        cluster=cluster,
        message=message,
        evidence=evidence or {},
        remediation=entry.remediation,
        references=list(entry.references),
        waiver=waiver,
    )


def sample_errors() -> list[ApiError]:
    return [
        ApiError(
            account_id=ACCOUNT, region=REGION, service="iam", operation="ListAttachedRolePolicies",
            error_code="AccessDeniedException",
            message=f"User: {CALLER_ARN} is not authorized to perform: iam:ListAttachedRolePolicies on resource: "
                    f"role web-task-role because no identity-based policy allows the iam:ListAttachedRolePolicies action",
            resources=[f"arn:aws:iam::{ACCOUNT}:role/web-task-role"],
        ),
        ApiError(
            account_id=ACCOUNT, region=REGION, service="ecs", operation="ListContainerInstances",
            error_code="ThrottlingException", message="Rate exceeded",
            resources=[f"{_ECS}cluster/{STAGING}"],
        ),
    ]


def build(findings: list[Finding], catalogue: Catalogue, errors: list[ApiError] | None = None) -> Report:
    """A report around the given findings, with the sample's fixed scope and time."""
    errors = sample_errors() if errors is None else errors
    return build_report(
        findings,
        catalogue,
        errors,
        version=VERSION,
        generated_at=GENERATED_AT,
        accounts=sorted({f.account_id for f in findings} | {ACCOUNT}),
        regions=sorted({f.region for f in findings} | {REGION}),
        caller_arn=CALLER_ARN,
    )


def sample_report() -> tuple[Report, Catalogue]:
    catalogue = _catalogue()
    resources = _resources()
    findings = [
        make_finding(catalogue.get(check), status, resources[res], container=container, cluster=cluster,
                     message=message, evidence=evidence)
        for check, status, res, container, cluster, message, evidence in _PLAN
    ]
    check, res, container, cluster, message, waiver = _WAIVED
    findings.append(
        make_finding(catalogue.get(check), Status.WAIVED, resources[res], container=container, cluster=cluster,
                     message=message, evidence={"readonlyRootFilesystem": False}, waiver=waiver)
    )
    return build(findings, catalogue), catalogue
