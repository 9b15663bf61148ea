"""From normalised definition documents to the inventory models `scan` builds from the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from ecs_audit.inventory.ecs import EnvironmentVariable, Service, TaskDefinition
from ecs_audit.review.formats import Doc, ServiceDoc, TaskDefDoc
from ecs_audit.review.locate import KeyPath, Unresolved, template_actions
from ecs_audit.review.placeholders import Placeholder
from ecs_audit.text import one_line

# Names that identify a resource: an unresolved one is kept as its text (it decides nothing).
_IDENTITY = frozenset({"family", "name", "serviceName", "cluster", "containerName", "taskDefinition", "status", "taskDefinitionArn", "serviceArn"})


@dataclass
class Built:
    doc: Doc
    model: TaskDefinition | Service
    placeholders: list[Placeholder] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The same definition without the values the file does not fix: what --live may look up.
    plain: TaskDefinition | Service | None = None


def label_of(value: Unresolved, path: KeyPath) -> str:
    if path and path[-1] == "value" and "environment" in path:
        return "an environment value set at deploy time"  # never the value's text
    actions = template_actions(value.text)
    return " ".join(actions) if actions else value.text


def _dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _lift(data: Any, path: KeyPath, poisons: dict[KeyPath, str]) -> Any:
    """Copy `data` without its Unresolved values (recorded in `poisons` by path); identity names keep
    their text; a list with an unresolved item becomes unresolved as a whole."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if isinstance(value, Unresolved):
                if key in _IDENTITY:
                    out[key] = one_line(value.text)
                else:
                    poisons[(*path, key)] = label_of(value, (*path, key))
                continue
            lifted = _lift(value, (*path, key), poisons)
            if lifted is not _WHOLE:
                out[key] = lifted
        return out
    if isinstance(data, list):
        bad = [item for item in data if isinstance(item, Unresolved)]
        if bad:
            poisons[path] = label_of(bad[0], path)
            return _WHOLE
        return [_lift(item, (*path, i), poisons) for i, item in enumerate(data)]
    return data


_WHOLE = object()


def _field_name(model: BaseModel, key: str) -> str | None:
    if isinstance(model, EnvironmentVariable) and key == "value":
        return "value_flags"
    for name, info in type(model).model_fields.items():
        if info.alias == key or name == key:
            return name
    return None


def _poison(model: BaseModel, path: KeyPath, placeholder: Placeholder) -> bool:
    target: Any = model
    for part in path[:-1]:
        if isinstance(part, int):
            if not isinstance(target, list) or part >= len(target):
                return False
            target = target[part]
        else:
            name = _field_name(target, part) if isinstance(target, BaseModel) else None
            if name is None:
                return False
            target = getattr(target, name)
        if target is None or isinstance(target, Placeholder):
            return False
    last = path[-1]
    if isinstance(last, int) or not isinstance(target, BaseModel):
        return False
    name = _field_name(target, last)
    if name is None:
        return False  # a field no check reads (command, dockerLabels...)
    object.__setattr__(target, name, placeholder)
    return True


def build(doc: Doc, *, account_id: str, region: str, partition: str, cluster: str, revision: int = 1, force_revision: bool = False, suffix: str = "") -> Built:
    poisons: dict[KeyPath, str] = {}
    notes: list[str] = []
    data = _lift(doc.data, (), poisons)
    if isinstance(doc, TaskDefDoc):
        if ("containerDefinitions",) in poisons:
            notes.append(f"containerDefinitions is not fixed by the file ({poisons.pop(('containerDefinitions',))}): container checks were not run")
            data["containerDefinitions"] = []
        family = str(data.get("family") or doc.name)
        data["family"] = family
        rev = data.get("revision") if isinstance(data.get("revision"), int) and not force_revision else revision
        data["revision"] = rev
        if force_revision:
            data.pop("taskDefinitionArn", None)
        data.setdefault("taskDefinitionArn", f"arn:{partition}:ecs:{region}:{account_id}:task-definition/{family}:{rev}")
        data.setdefault("status", "ACTIVE")
        model_type: type[BaseModel] = TaskDefinition
    else:
        name = str(data.get("serviceName") or doc.name) + suffix
        data["serviceName"] = name
        if suffix:
            data.pop("serviceArn", None)
        cluster_name = str(data.get("cluster") or cluster).rsplit("/", 1)[-1]
        data.setdefault("serviceArn", f"arn:{partition}:ecs:{region}:{account_id}:service/{cluster_name}/{name}")
        data["clusterArn"] = f"arn:{partition}:ecs:{region}:{account_id}:cluster/{cluster_name}"
        data.setdefault("status", "ACTIVE")
        model_type = Service
    try:
        model = model_type.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{doc.name}: invalid at {where}: {one_line(first['msg'])}") from None
    plain = model_type.model_validate(data)
    placeholders = []
    for path, label in sorted(poisons.items(), key=lambda kv: len(kv[0])):
        placeholder = Placeholder(label, _dotted(path))
        if _poison(model, path, placeholder):
            placeholders.append(placeholder)
    return Built(doc, model, placeholders, notes, plain)  # type: ignore[arg-type]
