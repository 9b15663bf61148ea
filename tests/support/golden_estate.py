"""A fixed, demo-like estate run through the real pipeline, for golden files and the browser test.

Two snapshots of the same account: `previous` (what the baseline report.json was made from) and
`current`, where web moved to a new task-definition revision (web:42 -> web:43, same problems: they
must stay "unchanged"), worker gained a privileged container (new FAIL), and payments stopped using
the latest tag (resolved). Names and tag values carry hostile text (HTML, script, Markdown,
spreadsheet formulas, terminal escapes) that every format must show as inert text.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from ecs_audit.answers import load_answers
from ecs_audit.report.diff import Baseline
from ecs_audit.catalogue import Catalogue, load_catalogue
from ecs_audit.inventory.snapshot import Inventory
from ecs_audit.pipeline import Outcome, ReportOptions, finish
from ecs_audit.report.model import BaselineInfo
from ecs_audit.waivers import load_waivers
from tests.support.estate import ACCOUNT, REGION, build_inventory

GENERATED_AT = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
PREVIOUS_AT = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)
HOSTILE_HTML = "<script>alert(1)</script>"
HOSTILE_IMG = '"><img src=x onerror=alert(2)>'
HOSTILE_FORMULA = '=HYPERLINK("http://evil.example","click")'
HOSTILE_MD = "| pipe | **bold** [link](http://evil.example)"
HOSTILE_TERMINAL = "\x1b[31mred\x1b[0m"
TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/"
# Names no real ECS resource can have, to prove that every format shows them as text.
STAGING = "staging" + HOSTILE_IMG
PAYMENTS = "payments" + HOSTILE_HTML
FORMULA_CONTAINER = HOSTILE_FORMULA

_NET = {"awsvpcConfiguration": {"subnets": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"], "assignPublicIp": "DISABLED"}}


def _container(name: str, image: str, **extra: Any) -> dict[str, Any]:
    base = {
        "name": name,
        "image": image,
        "essential": True,
        "cpu": 256,
        "memory": 512,
        "readonlyRootFilesystem": True,
        "user": "1000",
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": f"/ecs/{name}", "mode": "non-blocking"}},
        "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 30},
    }
    base.update(extra)
    return base


def estate(kind: str) -> dict[str, Any]:
    """`previous` or `current`."""
    current = kind == "current"
    web_rev = 43 if current else 42
    worker_containers = [_container("worker", "123456789012.dkr.ecr.us-east-1.amazonaws.com/worker:2.1.0", readonlyRootFilesystem=False)]
    if current:
        worker_containers.append(
            _container("debug", "123456789012.dkr.ecr.us-east-1.amazonaws.com/debug:1.0.0", privileged=True, essential=False)
        )
    payments_image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/payments:" + ("3.0.1" if current else "latest")
    tags_prod = [{"key": "Environment", "value": "prod"}]
    hostile_tags = [
        {"key": "Team", "value": HOSTILE_HTML + HOSTILE_IMG},
        {"key": "CostCentre", "value": HOSTILE_FORMULA},
        {"key": "Notes", "value": HOSTILE_MD + " " + HOSTILE_TERMINAL},
    ]
    return {
        "clusters": [
            {"clusterName": "prod", "tags": tags_prod, "settings": [{"name": "containerInsights", "value": "enhanced"}]},
            {"clusterName": STAGING, "tags": hostile_tags},
        ],
        "services": [
            {
                "serviceName": "web",
                "cluster": "prod",
                "taskDefinition": f"web:{web_rev}",
                "desiredCount": 3,
                "launchType": "FARGATE",
                "platformVersion": "LATEST",
                "networkConfiguration": _NET,
                "enableECSManagedTags": True,
                "propagateTags": "SERVICE",
                "deploymentConfiguration": {
                    "minimumHealthyPercent": 50,
                    "maximumPercent": 200,
                    "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                },
                "tags": tags_prod,
            },
            {
                "serviceName": "worker",
                "cluster": "prod",
                "taskDefinition": "worker:7",
                "desiredCount": 1,
                "launchType": "EC2",
                "tags": tags_prod,
            },
            {
                "serviceName": PAYMENTS,
                "cluster": STAGING,
                "taskDefinition": "payments:3",
                "desiredCount": 2,
                "launchType": "FARGATE",
                "platformVersion": "1.3.0",
                "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-0a1b2c3d"], "assignPublicIp": "ENABLED"}},
                "tags": hostile_tags,
            },
        ],
        "task_definitions": [
            {
                "family": "web",
                "revision": web_rev,
                "cpu": "512",
                "memory": "1024",
                "networkMode": "awsvpc",
                "requiresCompatibilities": ["FARGATE"],
                "containerDefinitions": [
                    _container("app", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2", readonlyRootFilesystem=False),
                ],
                "tags": tags_prod,
            },
            {
                "family": "worker",
                "revision": 7,
                "networkMode": "bridge",
                "containerDefinitions": worker_containers,
                "tags": tags_prod,
            },
            {
                "family": "payments",
                "revision": 3,
                "cpu": "256",
                "memory": "512",
                "networkMode": "awsvpc",
                "requiresCompatibilities": ["FARGATE"],
                "containerDefinitions": [
                    _container(
                        FORMULA_CONTAINER,
                        payments_image,
                        environment=[
                            {"name": "DB_PASSWORD", "value": "hunter2"},
                            {"name": "STRIPE_API_KEY" + HOSTILE_TERMINAL, "value": "sk_live_x"},
                            {"name": "LOG_LEVEL", "value": "info"},
                        ],
                    )
                ],
                "tags": hostile_tags,
            },
        ],
        "errors": [
            {
                "service": "iam",
                "operation": "ListAttachedRolePolicies",
                "resources": [f"arn:aws:iam::{ACCOUNT}:role/web-task-role"],
            }
        ],
    }


def inventory(kind: str) -> Inventory:
    return build_inventory(copy.deepcopy(estate(kind)))


WAIVERS = [
    {
        "check": "SECURITY-001",
        "resource": TD + "worker:*",
        "reason": "legacy worker writes to /tmp; fix tracked in OPS-1234 " + HOSTILE_HTML,
        "owner": "platform-team@example.com",
        "expires": date(2027, 3, 31),
    },
    {
        "check": "SECURITY-001",
        "resource": TD + "web:*",
        "reason": "was accepted until the base image moved to a non-root user",
        "owner": "web-team@example.com",
        "expires": date(2026, 10, 15),
    },
    {
        "check": "NETWORK-001",
        "resource": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/retired/*",
        "reason": "the retired cluster is being decommissioned",
        "owner": "ops@example.com",
        "expires": date(2027, 1, 31),
    },
]

ANSWERS = [
    {"id": "MANUAL-004", "answer": True, "who": "jane.doe@example.com", "when": date(2026, 10, 20),
     "note": "task sizes come from the k6 load test of 2026-10-12"},
    {"id": "MANUAL-010", "answer": False, "who": "ops-lead@example.com", "when": date(2026, 10, 21),
     "note": "rollback is not written down " + HOSTILE_HTML},
    {"id": "MANUAL-005", "answer": "n.a.", "who": "jane.doe@example.com", "when": date(2026, 10, 20),
     "note": "no task uses persistent storage"},
]


def write_inputs(directory: Path) -> tuple[Path, Path]:
    """waivers.yaml and answers.yaml in `directory`."""
    waivers = directory / "waivers.yaml"
    answers = directory / "answers.yaml"
    waivers.write_text(yaml.safe_dump(WAIVERS, sort_keys=False, allow_unicode=True), encoding="utf-8")
    answers.write_text(yaml.safe_dump(ANSWERS, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return waivers, answers


# The checks the golden files pin (with the whole MANUAL questionnaire): every status occurs, and
# checks added to the catalogue later do not change the golden files.
GOLDEN_CHECKS = frozenset({
    "CICD-001", "CICD-005", "IMAGE-001", "IMAGE-002", "NETWORK-001", "OBSERVABILITY-001", "SECURITY-001",
    "SECURITY-002", "SECURITY-006", "SECURITY-011", "STORAGE-001", "TAGGING-002", "TASKDEF-001", "TASKDEF-006",
})


def golden_catalogue() -> Catalogue:
    """The real catalogue cut down to GOLDEN_CHECKS and the MANUAL questions."""
    full = load_catalogue()
    areas = []
    for area in full.areas:
        checks = [c for c in area.checks if c.id in GOLDEN_CHECKS or not c.automated]
        if checks:
            areas.append(area.model_copy(update={"checks": checks}))
    return Catalogue(areas=areas)


def run(directory: Path, formats: tuple[str, ...] = ("html", "md", "json"), catalogue: Catalogue | None = None) -> Outcome:
    """The previous run (no inputs), then the current one with waivers, answers and that baseline.

    Reports go to `directory / "previous"` and `directory / "current"`. By default only the golden
    checks run (golden_catalogue()); pass load_catalogue() for every check."""
    catalogue = catalogue or golden_catalogue()
    previous = finish(
        inventory("previous"),
        ReportOptions(output_dir=directory / "previous", formats=("json",)),
        catalogue=catalogue,
        generated_at=PREVIOUS_AT,
    )
    waivers_path, answers_path = write_inputs(directory)
    options = ReportOptions(
        output_dir=directory / "current",
        formats=formats,
        waivers=load_waivers(waivers_path, catalogue),
        answers=load_answers(answers_path, catalogue),
        baseline=Baseline(
            info=BaselineInfo(source="previous/report.json", generated_at=PREVIOUS_AT, tool_version=previous.report.tool.version),
            findings=list(previous.report.findings),
        ),
    )
    return finish(inventory("current"), options, catalogue=catalogue, generated_at=GENERATED_AT)
