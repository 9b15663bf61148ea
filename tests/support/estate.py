"""Build inventories from small, AWS-shaped fragments for check test cases.

Fragments are written the way the ECS API returns them (camelCase), with shorthands so that a case
only says what matters: names instead of ARNs, `cluster: name` on services and tasks,
`taskDefinition: family:rev`. Everything goes through the same pydantic models the collectors use,
so environment values are redacted exactly as in a real scan.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

from ecs_audit.inventory.ecs import EcsInventory
from ecs_audit.inventory.errors import ApiError
from ecs_audit.inventory.snapshot import AccountInventory, CallerIdentity, Inventory, RegionInventory

ACCOUNT = "123456789012"
REGION = "us-east-1"
ECS_PREFIX = f"arn:aws:ecs:{REGION}:{ACCOUNT}:"


def cluster_arn(name: str) -> str:
    return name if name.startswith("arn:") else f"{ECS_PREFIX}cluster/{name}"


def task_definition_arn(ref: str) -> str:
    if ref.startswith("arn:"):
        return ref
    family, _, revision = ref.partition(":")
    return f"{ECS_PREFIX}task-definition/{family}:{revision or 1}"


def _cluster_of(item: dict[str, Any], default: str) -> str:
    if "clusterArn" in item:
        return item["clusterArn"]
    return cluster_arn(item.pop("cluster", default))


def build_ecs(estate: dict[str, Any]) -> EcsInventory:
    estate = copy.deepcopy(estate)
    clusters = estate.get("clusters", [])
    names = [c.get("clusterName") for c in clusters]
    default_cluster = names[0] if names else "default"
    for c in clusters:
        c.setdefault("clusterArn", cluster_arn(c["clusterName"]))
        c.setdefault("status", "ACTIVE")
    services = estate.get("services", [])
    for s in services:
        s["clusterArn"] = _cluster_of(s, default_cluster)
        cname = s["clusterArn"].rsplit("/", 1)[-1]
        s.setdefault("serviceArn", f"{ECS_PREFIX}service/{cname}/{s['serviceName']}")
        s.setdefault("status", "ACTIVE")
        if "taskDefinition" in s:
            s["taskDefinition"] = task_definition_arn(s["taskDefinition"])
        for d in s.get("deployments", []):
            if "taskDefinition" in d:
                d["taskDefinition"] = task_definition_arn(d["taskDefinition"])
        for t in s.get("taskSets", []):
            if "taskDefinition" in t:
                t["taskDefinition"] = task_definition_arn(t["taskDefinition"])
    tds = estate.get("task_definitions", [])
    for td in tds:
        td.setdefault("revision", 1)
        td.setdefault("taskDefinitionArn", task_definition_arn(f"{td['family']}:{td['revision']}"))
        td.setdefault("status", "ACTIVE")
    tasks = estate.get("tasks", [])
    for i, t in enumerate(tasks):
        t["clusterArn"] = _cluster_of(t, default_cluster)
        cname = t["clusterArn"].rsplit("/", 1)[-1]
        t.setdefault("taskArn", f"{ECS_PREFIX}task/{cname}/{i:032x}")
        if "taskDefinition" in t:
            t["taskDefinitionArn"] = task_definition_arn(t.pop("taskDefinition"))
        if "service" in t:
            t["group"] = f"service:{t.pop('service')}"
        t.setdefault("lastStatus", "RUNNING")
    # Referenced clusters exist unless the case says otherwise.
    known = {c["clusterArn"] for c in clusters}
    if estate.get("auto_clusters", True):
        referenced = {s["clusterArn"] for s in services} | {t["clusterArn"] for t in tasks}
        # A region without clusters is "empty" and not evaluated: give cluster-less cases one.
        if not clusters and not referenced:
            referenced = {cluster_arn(default_cluster)}
        for arn in sorted(referenced):
            if arn not in known:
                clusters.append({"clusterArn": arn, "clusterName": arn.rsplit("/", 1)[-1], "status": "ACTIVE"})
    return EcsInventory.model_validate(
        {
            "clusters": clusters,
            "services": services,
            "task_definitions": tds,
            "tasks": tasks,
            "container_instances": {cluster_arn(k): v for k, v in estate.get("container_instances", {}).items()},
            "capacity_providers": estate.get("capacity_providers", []),
            "account_settings": estate.get("account_settings", []),
            "families": estate.get("families", []),
            "daemons": estate.get("daemons", []),
        }
    )


def build_errors(estate: dict[str, Any]) -> list[ApiError]:
    errors = []
    for e in estate.get("errors", []):
        e = dict(e)
        e.setdefault("account_id", ACCOUNT)
        e.setdefault("region", REGION)
        e.setdefault("message", "User is not authorized to perform this operation")
        e.setdefault("error_code", "AccessDeniedException")
        e["resources"] = [r if r.startswith("arn:") else ECS_PREFIX + r for r in e.get("resources", [])]
        errors.append(ApiError.model_validate(e))
    return errors


# Other services' parts of a region (RegionInventory fields), given in a case as-is.
REGION_PARTS = tuple(
    name for name in RegionInventory.model_fields if name not in ("account_id", "region", "ecs", "errors")
)


def build_inventory(estate: dict[str, Any]) -> Inventory:
    """One account, one region, from a case's `estate` mapping.

    Besides the ECS keys above, a case may give any other part of the region by its field name
    (e.g. `ecr: {repositories: [...]}`, `elbv2: {...}`) and the account-wide `iam: {...}`, in the
    shapes of ecs_audit.inventory.<part>. A part that is not given was "not collected"."""
    region = RegionInventory.model_validate(
        {
            "account_id": ACCOUNT,
            "region": REGION,
            "ecs": None if estate.get("ecs_missing") else build_ecs(estate),
            "errors": build_errors(estate),
            **{part: estate[part] for part in REGION_PARTS if part in estate},
        }
    )
    account = AccountInventory.model_validate(
        {"account_id": ACCOUNT, "regions": [region], **({"iam": estate["iam"]} if "iam" in estate else {})}
    )
    return Inventory(
        tool_version="test",
        collected_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
        caller=CallerIdentity(account_id=ACCOUNT, arn=f"arn:aws:iam::{ACCOUNT}:role/audit"),
        accounts=[account],
    )


def result_key(finding) -> str:
    """How a case names a result: account, cluster, cluster/service, family:rev[/container]."""
    ref = finding.resource
    if ref.type == "AWS::::Account":
        return "account"
    if ref.type == "AWS::ECS::Service":
        return ref.arn.split(":service/", 1)[1]
    if ref.type == "AWS::ECS::TaskDefinition" and finding.container:
        return f"{ref.name}/{finding.container}"
    return ref.name
