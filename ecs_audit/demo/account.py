"""The demo account: seeded from data (ecs_audit/demo/data), into moto, with boto3.

ecs_audit/demo/data/account.yaml says what goes where: its variables (image tags, managed policies, the
planted secrets), the fragments seeded account-wide and in each region (the same fragment may serve
several regions, with the region's variables), and the backstory (what AWS would know and moto
cannot: ecs_audit.demo.backstory). The fragments are lists of AWS requests (ecs_audit.demo.seeder).

Everything goes through the AWS APIs, worked around moto's gaps as MOTO-NOTES.md describes: create_service
drops fields (re-sent with update_service, in the data), running counts are read from
MOTO_ECS_SERVICE_RUNNING at creation (`running:` in the data), services never start tasks (started with
run_task by `demo.service_tasks`, as the scheduler would). What no AWS API can create goes through moto's
own API (/moto-api): its random seed (the same ids every run), task states (pinned RUNNING) and ECR scan
results (`demo.scan_result`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from typing import Any

import boto3


from ecs_audit.demo.backstory import Backstory
from ecs_audit.demo.builders import BUILDERS
from ecs_audit.demo.seeder import Region, Seeder, run_steps
from ecs_audit.inputs import packaged_yaml

HOME_REGION = "us-east-1"
SECOND_REGION = "eu-west-1"
DR_REGION = "us-west-2"
DEMO_REGIONS = (HOME_REGION, SECOND_REGION, DR_REGION)
DEMO_ACCOUNT_ID = "111122223333"
AUDIT_ROLE = "ecs-audit-readonly"

# Planted secrets. They are fake, but the audit must treat them as real: none of them may appear in
# any report or snapshot (the tests grep every file written for them). The data plants them as
# ((planted/db-password)) and so on.
FAKE_DB_PASSWORD = "demo-not-a-real-password"
FAKE_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
FAKE_API_TOKEN = "demo-not-a-real-token-9f3b"
PLANTED_SECRET_VALUES = (FAKE_DB_PASSWORD, FAKE_ACCESS_KEY_ID, FAKE_API_TOKEN)
_PLANTED = {"planted/db-password": FAKE_DB_PASSWORD, "planted/access-key-id": FAKE_ACCESS_KEY_ID, "planted/api-token": FAKE_API_TOKEN}


def _load(name: str) -> Any:
    return packaged_yaml(resources.files("ecs_audit.demo").joinpath("data", name).read_text(encoding="utf-8"))


@functools.cache
def account_data() -> dict[str, Any]:
    return _load("account.yaml")


@functools.cache
def demo_backstory() -> Backstory:
    return Backstory.from_data(account_data()["backstory"])


@dataclass
class DemoEstate:
    """Handles to what was seeded, for tests to assert against."""

    account_id: str
    clusters: dict[str, str] = field(default_factory=dict)  # "region/name" -> ARN
    services: dict[str, str] = field(default_factory=dict)  # "cluster/name" -> ARN
    task_definitions: dict[str, str] = field(default_factory=dict)  # "family:rev" (other regions: "region/family:rev") -> ARN
    tasks: dict[str, list[str]] = field(default_factory=dict)  # "cluster/service" or "cluster/family" -> ARNs
    images: dict[str, str] = field(default_factory=dict)  # image reference -> digest
    made: dict[str, dict[str, Any]] = field(default_factory=dict)  # region ("global" for IAM) -> name -> what the data calls it
    backstory: Backstory = field(default_factory=Backstory)
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0))


def _observe(region: Region, call: str, params: Mapping[str, Any], response: Any) -> None:
    """Keep the handles tests look resources up by."""
    estate: DemoEstate = region.estate
    prefix = "" if region.name == HOME_REGION else f"{region.name}/"
    if call == "ecs.create_cluster":
        estate.clusters[f"{region.name}/{params['clusterName']}"] = response["cluster"]["clusterArn"]
    elif call == "ecs.create_service":
        estate.services[f"{params['cluster']}/{params['serviceName']}"] = response["service"]["serviceArn"]
    elif call == "ecs.register_task_definition":
        definition = response["taskDefinition"]
        estate.task_definitions[f"{prefix}{definition['family']}:{definition['revision']}"] = definition["taskDefinitionArn"]
    elif call == "ecs.run_task" and params.get("startedBy", "").startswith("events-rule/"):
        estate.tasks[f"{params['cluster']}/{params['taskDefinition'].split(':')[0]}"] = [t["taskArn"] for t in response["tasks"]]


def _hooks(backstory: Backstory) -> dict[str, Any]:
    def deployment_group(region: Region, params: dict[str, Any]) -> dict[str, Any]:
        # Sent as AWS takes them; moto keeps them but never returns them, so the backstory holds them.
        return {**params, **backstory.deployment_groups.get(f"{params['applicationName']}/{params['deploymentGroupName']}", {})}

    return {"codedeploy.create_deployment_group": deployment_group}


def prepare_moto(seeder: Seeder, *, seed: int = 20261101) -> None:
    """Make moto deterministic (its random ids) and keep tasks RUNNING (moto advances them on every
    describe otherwise)."""
    seeder.moto_post(f"/moto-api/seed?a={seed}")
    seeder.moto_post(
        "/moto-api/state-manager/set-transition",
        json={"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}},
    )


def seed_estate(
    session: boto3.Session,
    *,
    endpoint_url: str | None = None,
    regions: Sequence[str] = DEMO_REGIONS,
    backstory: Backstory | None = None,
    now: datetime | None = None,
) -> DemoEstate:
    """Seed the demo account (the regions asked for, and the account-wide fragments). `endpoint_url`
    targets a moto server instead of the in-process mock."""
    data = account_data()
    seeder = Seeder(session, home_region=HOME_REGION, endpoint_url=endpoint_url)
    prepare_moto(seeder)
    estate = DemoEstate(account_id=seeder.account_id, backstory=backstory or demo_backstory(),
                        now=now or datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0))
    account_vars = {**data["variables"], **_PLANTED, "account": seeder.account_id}
    hooks = _hooks(estate.backstory)
    made_globally = estate.made.setdefault("global", {})
    plan = [("global", HOME_REGION, {"fragments": data["account_wide"]})]
    plan += [(name, name, data["regions"][name]) for name in DEMO_REGIONS if name in regions]
    for scope, region_name, spec in plan:
        made = made_globally if scope == "global" else estate.made.setdefault(scope, {})
        builtins = {"region": region_name, "ecr-host": seeder.ecr_host(region_name), "home-ecr-host": seeder.ecr_host(HOME_REGION)}
        region = Region(seeder, region_name, made, estate, variables=spec.get("variables", {}), names=(made_globally, builtins, account_vars))
        for fragment in spec["fragments"]:
            run_steps(region, _load(fragment), builders=BUILDERS, hooks=hooks, observe=_observe)
    return estate
