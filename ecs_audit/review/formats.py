"""Recognising definition files and normalising them to the ECS API's camelCase shapes.

Every format yields `TaskDefDoc` / `ServiceDoc` objects: the definition as the ECS API would take it
(values the file does not fix are `Unresolved`), and for each normalised key path the position of
the field in the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecs_audit.review.locate import (
    KeyPath,
    Parsed,
    ParseError,
    Position,
    Unresolved,
    has_control_actions,
    parse_json,
    parse_yaml,
    position_of,
    template_actions,
)

SUFFIXES = (".json", ".yaml", ".yml", ".template", ".jsonnet", ".libsonnet")


@dataclass
class Doc:
    path: str  # as given / relative, for reports
    format: str  # ecspresso, ecs-cli-input, describe-task-definition, cloudformation, terraform-plan
    name: str  # family / service name / logical id
    data: dict[str, Any]
    locations: dict[KeyPath, Position] = field(default_factory=dict)
    logical_id: str | None = None

    def position(self, path: KeyPath) -> Position | None:
        return position_of(self.locations, path)


@dataclass
class TaskDefDoc(Doc):
    pass


@dataclass
class ServiceDoc(Doc):
    # Which task definition of the same review it runs: a family or a CloudFormation logical id.
    task_definition_ref: str | None = None


@dataclass
class FileResult:
    path: str
    format: str | None
    docs: list[Doc] = field(default_factory=list)
    note: str | None = None  # why the file was skipped, or what could not be read


class Mapper:
    """Copies a tree while recording, for each copied key path, the original path's position."""

    def __init__(self, parsed: Parsed):
        self.positions = parsed.positions
        self.locations: dict[KeyPath, Position] = {}

    def mark(self, new: KeyPath, old: KeyPath) -> None:
        position = position_of(self.positions, old)
        if position is not None:
            self.locations[new] = position

    def copy(self, value: Any, new: KeyPath, old: KeyPath, rename: Any = None, keep_keys: frozenset[str] = frozenset()) -> Any:
        self.mark(new, old)
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                target = rename(key) if rename else key
                if key in keep_keys:
                    out[target] = self.copy(item, (*new, target), (*old, key))
                else:
                    out[target] = self.copy(item, (*new, target), (*old, key), rename, keep_keys)
            return out
        if isinstance(value, list):
            return [self.copy(item, (*new, i), (*old, i), rename, keep_keys) for i, item in enumerate(value)]
        return value


def _camel(key: str) -> str:
    if key in ("Ref", "Condition") or "::" in key:
        return key  # intrinsic functions keep their names
    return key[:1].lower() + key[1:] if key[:1].isupper() else key


# Maps whose keys are the user's own, never renamed.
_FREE_MAPS = frozenset({"Options", "DockerLabels", "Labels", "DriverOpts", "options", "dockerLabels"})


def read_file(path: Path, shown: str) -> FileResult:
    suffix = path.suffix.lower()
    if suffix in (".jsonnet", ".libsonnet"):
        return FileResult(shown, "jsonnet", note="Jsonnet is not evaluated: render it first (e.g. `ecspresso render taskdef > ecs-task-def.json`) and review the JSON")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return FileResult(shown, None, note=f"cannot read it ({getattr(exc, 'strerror', None) or exc})")
    if has_control_actions(text):
        return FileResult(shown, "ecspresso", note="uses Go template control actions ({{ if }}, {{ range }}...): render it first (`ecspresso render`) and review the output")
    try:
        parsed = parse_yaml(text) if suffix in (".yaml", ".yml") or (suffix == ".template" and not text.lstrip().startswith("{")) else parse_json(text)
    except ParseError as exc:
        return FileResult(shown, None, note=f"not valid {'YAML' if suffix in ('.yaml', '.yml') else 'JSON'}: {exc}")
    return recognise(parsed, shown, templated=bool(template_actions(text)))


def recognise(parsed: Parsed, shown: str, *, templated: bool = False) -> FileResult:
    data = parsed.value
    if not isinstance(data, dict):
        return FileResult(shown, None, note="not an ECS task or service definition (the document is not an object)")
    mapper = Mapper(parsed)
    name = Path(shown).name
    if isinstance(data.get("Resources"), dict) and any(
        isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::ECS::") for r in data["Resources"].values()
    ):
        return FileResult(shown, "cloudformation", _cloudformation(data, shown, mapper))
    if "resource_changes" in data or "planned_values" in data:
        return FileResult(shown, "terraform-plan", _terraform(data, shown, parsed))
    if isinstance(data.get("taskDefinition"), dict) and "containerDefinitions" in data["taskDefinition"]:
        body = mapper.copy(data["taskDefinition"], (), ("taskDefinition",))
        if "tags" in data and "tags" not in body:
            body["tags"] = mapper.copy(data["tags"], ("tags",), ("tags",))
        return FileResult(shown, "describe-task-definition", [TaskDefDoc(shown, "describe-task-definition", _family(body, name), body, mapper.locations)])
    kind = "ecspresso" if templated or name.startswith("ecs-") else None
    if "containerDefinitions" in data:
        body = mapper.copy(data, (), ())
        fmt = kind or "ecs-cli-input"
        return FileResult(shown, fmt, [TaskDefDoc(shown, fmt, _family(body, name), body, mapper.locations)])
    if isinstance(data.get("services"), list):
        docs = [ServiceDoc(shown, "describe-services", str(s.get("serviceName", f"service-{i}")), mapper.copy(s, (), ("services", i)), dict(mapper.locations), task_definition_ref=_td_ref(s.get("taskDefinition")))
                for i, s in enumerate(data["services"]) if isinstance(s, dict)]
        return FileResult(shown, "describe-services", docs)
    if "serviceName" in data or {"desiredCount", "launchType", "deploymentConfiguration", "networkConfiguration", "schedulingStrategy"} & data.keys():
        body = mapper.copy(data, (), ())
        fmt = kind or "ecs-cli-input"
        service = str(body.get("serviceName") or Path(shown).stem)
        return FileResult(shown, fmt, [ServiceDoc(shown, fmt, service, body, mapper.locations, task_definition_ref=_td_ref(body.get("taskDefinition")))])
    return FileResult(shown, None, note="not an ECS task or service definition (no containerDefinitions, service fields, CloudFormation ECS resources or Terraform plan)")


def _family(body: dict[str, Any], fallback: str) -> str:
    family = body.get("family")
    return family if isinstance(family, str) else (str(family) if family is not None else Path(fallback).stem)


def _td_ref(value: Any) -> str | None:
    """A service's taskDefinition as a family (ARN, family:revision or family)."""
    if not isinstance(value, str):
        return None
    tail = value.split("task-definition/", 1)[-1]
    return tail.split(":", 1)[0]


# --- CloudFormation / CDK -------------------------------------------------------------------


def _intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("Ref", "Condition") or (
        isinstance(value, dict) and len(value) == 1 and str(next(iter(value))).startswith("Fn::")
    )


def _resolve_cfn(value: Any) -> Any:
    """Intrinsic functions (long form) become Unresolved; short tags already are."""
    if _intrinsic(value):
        key = next(iter(value))
        return Unresolved(f"{key} {json.dumps(value[key], default=str)}")
    if isinstance(value, dict):
        return {k: _resolve_cfn(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_cfn(v) for v in value]
    return value


def _ref_target(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return str(value["Ref"])
    if isinstance(value, Unresolved) and value.text.startswith("!Ref "):
        return value.text[5:].strip()
    return None


def _cloudformation(data: dict[str, Any], shown: str, mapper: Mapper) -> list[Doc]:
    docs: list[Doc] = []
    resources = data["Resources"]
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            continue
        kind = resource.get("Type")
        props = resource.get("Properties") or {}
        if kind not in ("AWS::ECS::TaskDefinition", "AWS::ECS::Service") or not isinstance(props, dict):
            continue
        mapper.locations = {}
        origin = ("Resources", logical_id, "Properties")
        target = _ref_target(props.get("TaskDefinition")) if kind == "AWS::ECS::Service" else None
        body = _resolve_cfn(mapper.copy(props, (), origin, _camel, _FREE_MAPS))
        mapper.mark((), ("Resources", logical_id))
        if kind == "AWS::ECS::TaskDefinition":
            family = body.get("family")
            name = family if isinstance(family, str) else logical_id
            docs.append(TaskDefDoc(shown, "cloudformation", name, body, dict(mapper.locations), logical_id=logical_id))
        else:
            if target and isinstance(resources.get(target), dict) and resources[target].get("Type") == "AWS::ECS::TaskDefinition":
                body.pop("taskDefinition", None)  # a reference to a definition reviewed alongside: fixed
            name = body.get("serviceName")
            docs.append(ServiceDoc(shown, "cloudformation", name if isinstance(name, str) else logical_id, body, dict(mapper.locations), logical_id=logical_id, task_definition_ref=target))
    return docs


# --- Terraform plans (`terraform show -json plan`) ---------------------------------------------


def _tf_unknowns(after: Any, unknown: Any) -> Any:
    """Overlay after_unknown on after: every `true` becomes Unresolved (known after apply)."""
    if unknown is True:
        return Unresolved("(known after apply)")
    if isinstance(unknown, dict):
        base = dict(after) if isinstance(after, dict) else {}
        for key, flag in unknown.items():
            base[key] = _tf_unknowns(base.get(key), flag)
        return base
    if isinstance(unknown, list) and isinstance(after, list):
        return [_tf_unknowns(a, u) for a, u in zip(after, unknown + [False] * (len(after) - len(unknown)))]
    return after


def _first(block: Any) -> dict[str, Any]:
    return block[0] if isinstance(block, list) and block and isinstance(block[0], dict) else {}


def _terraform(data: dict[str, Any], shown: str, parsed: Parsed) -> list[Doc]:
    docs: list[Doc] = []
    changes = data.get("resource_changes") or []
    for index, change in enumerate(changes):
        if not isinstance(change, dict) or change.get("type") not in ("aws_ecs_task_definition", "aws_ecs_service"):
            continue
        detail = change.get("change") or {}
        if "delete" in (detail.get("actions") or []) and detail.get("after") is None:
            continue
        after = _tf_unknowns(detail.get("after") or {}, detail.get("after_unknown") or {})
        origin: KeyPath = ("resource_changes", index)
        locations = {(): position_of(parsed.positions, origin) or Position(1, 1)}
        address = str(change.get("address", change.get("name", "")))
        if change["type"] == "aws_ecs_task_definition":
            body = _tf_task_definition(after)
            docs.append(TaskDefDoc(shown, "terraform-plan", body.get("family") if isinstance(body.get("family"), str) else address, body, locations, logical_id=address))
        else:
            body = _tf_service(after)
            ref = after.get("task_definition")
            docs.append(ServiceDoc(shown, "terraform-plan", str(body.get("serviceName") or address), body, locations, logical_id=address, task_definition_ref=_td_ref(ref) if isinstance(ref, str) else None))
    return docs


def _tf_task_definition(after: dict[str, Any]) -> dict[str, Any]:
    raw = after.get("container_definitions")
    if isinstance(raw, str):
        try:
            containers: Any = json.loads(raw)
        except json.JSONDecodeError:
            containers = Unresolved("container_definitions (not valid JSON)")
    else:
        containers = raw if isinstance(raw, Unresolved) else []
    body: dict[str, Any] = {
        "family": after.get("family"),
        "containerDefinitions": containers,
        "taskRoleArn": after.get("task_role_arn"),
        "executionRoleArn": after.get("execution_role_arn"),
        "networkMode": after.get("network_mode"),
        "requiresCompatibilities": after.get("requires_compatibilities") or [],
        "cpu": after.get("cpu"),
        "memory": after.get("memory"),
        "pidMode": after.get("pid_mode"),
        "ipcMode": after.get("ipc_mode"),
        "tags": after.get("tags") or {},
    }
    platform = _first(after.get("runtime_platform"))
    if platform:
        body["runtimePlatform"] = {"cpuArchitecture": platform.get("cpu_architecture"), "operatingSystemFamily": platform.get("operating_system_family")}
    volumes = []
    for volume in after.get("volume") or []:
        if not isinstance(volume, dict):
            continue
        item: dict[str, Any] = {"name": volume.get("name")}
        if volume.get("host_path"):
            item["host"] = {"sourcePath": volume["host_path"]}
        efs = _first(volume.get("efs_volume_configuration"))
        if efs:
            auth = _first(efs.get("authorization_config"))
            item["efsVolumeConfiguration"] = {
                "fileSystemId": efs.get("file_system_id"),
                "rootDirectory": efs.get("root_directory"),
                "transitEncryption": efs.get("transit_encryption"),
                "authorizationConfig": {"accessPointId": auth.get("access_point_id"), "iam": auth.get("iam")} if auth else None,
            }
        volumes.append(item)
    body["volumes"] = volumes
    return {k: v for k, v in body.items() if v is not None}


def _tf_service(after: dict[str, Any]) -> dict[str, Any]:
    network = _first(after.get("network_configuration"))
    breaker = _first(after.get("deployment_circuit_breaker"))
    controller = _first(after.get("deployment_controller"))
    public = network.get("assign_public_ip")
    body: dict[str, Any] = {
        "serviceName": after.get("name"),
        "cluster": after.get("cluster"),
        "desiredCount": after.get("desired_count"),
        "launchType": after.get("launch_type") or None,
        "platformVersion": after.get("platform_version") or None,
        "schedulingStrategy": after.get("scheduling_strategy"),
        "healthCheckGracePeriodSeconds": after.get("health_check_grace_period_seconds"),
        "enableECSManagedTags": after.get("enable_ecs_managed_tags"),
        "enableExecuteCommand": after.get("enable_execute_command"),
        "propagateTags": after.get("propagate_tags"),
        "tags": after.get("tags") or {},
        "capacityProviderStrategy": [
            {"capacityProvider": s.get("capacity_provider"), "weight": s.get("weight"), "base": s.get("base")}
            for s in after.get("capacity_provider_strategy") or [] if isinstance(s, dict)
        ],
        "loadBalancers": [
            {"targetGroupArn": lb.get("target_group_arn"), "containerName": lb.get("container_name"), "containerPort": lb.get("container_port")}
            for lb in after.get("load_balancer") or [] if isinstance(lb, dict)
        ],
        "deploymentConfiguration": {
            "maximumPercent": after.get("deployment_maximum_percent"),
            "minimumHealthyPercent": after.get("deployment_minimum_healthy_percent"),
            **({"deploymentCircuitBreaker": {"enable": breaker.get("enable"), "rollback": breaker.get("rollback")}} if breaker else {}),
        },
    }
    if controller:
        body["deploymentController"] = {"type": controller.get("type")}
    if network:
        body["networkConfiguration"] = {"awsvpcConfiguration": {
            "subnets": network.get("subnets"),
            "securityGroups": network.get("security_groups"),
            "assignPublicIp": public if isinstance(public, Unresolved) else ("ENABLED" if public else "DISABLED"),
        }}
    return {k: v for k, v in body.items() if v is not None}
