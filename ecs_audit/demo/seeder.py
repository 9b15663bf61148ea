"""Apply the demo's data fragments to an account: each step is one AWS request, written as boto3 takes it.

A fragment (ecs_audit/demo/data/*.yaml) is a list of steps. A step is a mapping with one request,
`service.operation: {parameters}` (boto3's client method and keyword arguments, as the AWS API reference
shapes them), or one builder, `demo.<name>: {...}` (ecs_audit.demo.builders: what takes several calls or
a computed series). `each: [{name: value}...]` repeats a step (or a group, `steps: [...]`) once per
item, with those names bound. Optional keys beside it: `as: name` to name what the step made, `running: n` for
ecs.create_service (moto's running count: MOTO-NOTES 2c).

Values may refer to what earlier steps made or to variables: `((name))` alone is replaced by the value
(a list stays a list; a value of null drops the parameter or list item), inside a longer string by its text.
Filters follow a bar: `((sha/web-api | short))`. Names are looked up in the step's `each` item, the
region's variables, what this region made, what was made account-wide (IAM), then the account's variables.

Two shorthands follow the service model, so the data reads like the API without its ceremony: a mapping
where the API takes a list of two-member structures (tags: Key/Value, key/value, TagKey/TagValue) becomes
that list, and a mapping or list where the API takes a string (policy documents, manifests) becomes JSON.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any

import boto3
from botocore import xform_name

# What a request makes, by default: (name it is known by, path to it in the response).
OUTPUTS: dict[str, tuple[str | None, str | None]] = {
    "iam.create_role": ("role/{RoleName}", "Role.Arn"),
    "iam.create_open_id_connect_provider": (None, "OpenIDConnectProviderArn"),
    "kms.create_key": (None, "KeyMetadata.Arn"),
    "ec2.create_security_group": ("sg/{GroupName}", "GroupId"),
    "ec2.run_instances": (None, "Instances.0"),
    "ec2.create_image": (None, "ImageId"),
    "ecr.create_repository": ("repository/{repositoryName}", "repository.repositoryUri"),
    "secretsmanager.create_secret": ("secret/{Name}", "ARN"),
    "elbv2.create_load_balancer": ("lb/{Name}", "LoadBalancers.0.LoadBalancerArn"),
    "elbv2.create_target_group": ("tg/{Name}", "TargetGroups.0.TargetGroupArn"),
    "elbv2.create_listener": (None, "Listeners.0.ListenerArn"),
    "acm.request_certificate": ("certificate/{DomainName}", "CertificateArn"),
    "wafv2.create_web_acl": ("web-acl/{Name}", "Summary.ARN"),
    "sns.create_topic": ("topic/{Name}", "TopicArn"),
    "efs.create_file_system": ("efs/{CreationToken}", "FileSystemId"),
    "efs.create_access_point": (None, "AccessPointId"),
    "servicediscovery.create_service": ("cloud-map/{Name}", "Service.Arn"),
    "ecs.create_cluster": ("cluster/{clusterName}", "cluster.clusterArn"),
    "ecs.register_task_definition": ("task-definition/{family}", "taskDefinition.taskDefinitionArn"),
    "ecs.create_service": ("service/{cluster}/{serviceName}", "service.serviceArn"),
    "ecs.run_task": (None, "tasks"),
}

# What a request makes that only a read tells: (name, read).
FOLLOW_UPS: dict[str, tuple[str, Callable[[Any, Mapping[str, Any]], Any]]] = {
    "servicediscovery.create_private_dns_namespace": (
        "namespace/{Name}", lambda client, params: next(n["Id"] for n in client.list_namespaces()["Namespaces"] if n["Name"] == params["Name"])),
    "autoscaling.create_auto_scaling_group": (
        "asg/{AutoScalingGroupName}",
        lambda client, params: client.describe_auto_scaling_groups(AutoScalingGroupNames=[params["AutoScalingGroupName"]])["AutoScalingGroups"][0]),
}

_REFERENCE = re.compile(r"\(\(\s*([^()|]+?)\s*(?:\|\s*([a-z-]+)\s*)?\)\)")


def _lb_dimension(arn: str) -> str:
    """The CloudWatch dimension of a load balancer or target group ARN (app/name/id, targetgroup/name/id)."""
    return arn.split(":", 5)[5].split("/", 1)[1] if ":loadbalancer/" in arn else arn.split(":", 5)[5]


FILTERS: dict[str, Callable[[Any], Any]] = {
    "short": lambda value: value[:12],  # a git SHA as image tags and Version tags abbreviate it
    "first": lambda value: value[0],
    "lower": str.lower,
    "first-only": lambda value: value[:1],
    "first-two": lambda value: value[:2],
    "second": lambda value: value[1],
    "third": lambda value: value[2],
    "join": ",".join,
    "dimension": _lb_dimension,
    "arn": lambda group: group["AutoScalingGroupARN"],
    "first-instance": lambda group: group["Instances"][0]["InstanceId"],
}


class Seeder:
    """boto3 clients for one account, against moto in-process (`endpoint_url=None`) or a moto server."""

    def __init__(self, session: boto3.Session, *, home_region: str, endpoint_url: str | None = None):
        self.session = session
        self.endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str], Any] = {}
        self.account_id = self.client("sts", home_region).get_caller_identity()["Account"]

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.session.client(service, region_name=region, endpoint_url=self.endpoint_url)
        return self._clients[key]

    def moto_post(self, path: str, **kwargs: Any) -> None:
        """POST to moto's own API (/moto-api/...): intercepted in-process, or the server's."""
        import requests  # a dependency of moto; in-process, mock_aws() intercepts motoapi.amazonaws.com

        base = (self.endpoint_url or "http://motoapi.amazonaws.com").rstrip("/")
        response = requests.post(f"{base}{path}", timeout=10, **kwargs)
        response.raise_for_status()

    def ecr_host(self, region: str) -> str:
        return f"{self.account_id}.dkr.ecr.{region}.amazonaws.com"


@contextmanager
def moto_service_running(count: int) -> Iterator[None]:
    """moto reads MOTO_ECS_SERVICE_RUNNING when a service is created: its runningCount and whether the
    first deployment's rollout is COMPLETED. The server must run in this process (in-process mock or
    ThreadedMotoServer) for this to reach it."""
    previous = os.environ.get("MOTO_ECS_SERVICE_RUNNING")
    os.environ["MOTO_ECS_SERVICE_RUNNING"] = str(count)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("MOTO_ECS_SERVICE_RUNNING", None)
        else:
            os.environ["MOTO_ECS_SERVICE_RUNNING"] = previous


class Names(Mapping[str, Any]):
    """What a `((name))` can mean: `variables` first (resolved when used, by `resolve`: they may name what
    was made), then each of `then` in turn."""

    def __init__(self, variables: Mapping[str, Any], *then: Mapping[str, Any], resolve: Callable[[Any], Any]):
        self.variables, self.then, self.resolve = variables, then, resolve

    def __getitem__(self, name: str) -> Any:
        if name in self.variables:
            return self.resolve(self.variables[name])
        for names in self.then:
            if name in names:
                return names[name]
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self.variables or any(name in names for names in self.then)

    def __iter__(self) -> Iterator[str]:
        return iter({**{key: None for names in reversed(self.then) for key in names}, **dict.fromkeys(self.variables)})

    def __len__(self) -> int:
        return len(list(iter(self)))


class Region:
    """One region being seeded: its clients, what was made there (`made`, by name), the names the data may
    use, and the estate the builders record into. `variables` are the region's; `names` follow `made`."""

    def __init__(self, seeder: Seeder, name: str, made: MutableMapping[str, Any], estate: Any, *,
                 variables: Mapping[str, Any], names: Sequence[Mapping[str, Any]]):
        self.seeder, self.name, self.made, self.estate = seeder, name, made, estate
        self.lookup: Mapping[str, Any] = Names(variables, made, *names, resolve=self.resolve)

    def client(self, service: str) -> Any:
        return self.seeder.client(service, self.name)

    def bound(self, bindings: Mapping[str, Any]) -> Region:
        """This region, with `bindings` (a step's `each` item, resolved here) looked up first."""
        if not bindings:
            return self
        inner = Region(self.seeder, self.name, self.made, self.estate, variables={}, names=())
        inner.lookup = Names(bindings, self.lookup, resolve=self.resolve)
        return inner

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            while True:  # innermost references first: ((tg/((name))))
                whole = _REFERENCE.fullmatch(value.strip())
                if whole:
                    return self._value(*whole.groups())
                replaced = _REFERENCE.sub(lambda m: str(self._value(*m.groups())), value)
                if replaced == value:
                    return value
                value = replaced
        if isinstance(value, Mapping):
            resolved = {self.resolve(key): self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not None}
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not None]
        return value

    def _value(self, name: str, filter_name: str | None) -> Any:
        if name not in self.lookup:
            raise KeyError(f"demo data: nothing is named {name!r} in {self.name}")
        value = self.lookup[name]
        return FILTERS[filter_name](value) if filter_name else value


Builder = Callable[..., None]


Observer = Callable[[Region, str, Mapping[str, Any], Any], None]


def run_steps(region: Region, steps: Sequence[Mapping[str, Any]], *, builders: Mapping[str, Builder],
              hooks: Mapping[str, Callable[..., Any]], observe: Observer) -> None:
    """Run `steps` in order. `hooks` may rewrite a request's parameters just before it is sent;
    `observe` sees every request made, with its response."""
    for step in steps:
        items = step.get("each", [{}])
        for bindings in region.resolve(items) if isinstance(items, str) else items:
            if "steps" in step:  # a group: its steps, in order, once per binding
                run_steps(region.bound(bindings), step["steps"], builders=builders, hooks=hooks, observe=observe)
            else:
                _run_step(region.bound(bindings), step, builders, hooks, observe)


def _run_step(region: Region, step: Mapping[str, Any], builders: Mapping[str, Builder], hooks: Mapping[str, Callable[..., Any]], observe: Observer) -> None:
    options = {key: step[key] for key in ("as", "running") if key in step}
    ((call, params),) = [(key, value) for key, value in step.items() if key not in options and key != "each"]
    params = region.resolve(params or {})
    if call.startswith("demo."):
        builders[call[5:]](region, **params)
        return
    service, operation = call.split(".", 1)
    response = _request(region, service, operation, params, options, hooks)
    _remember(region, call, params, response, region.resolve(options.get("as")))
    observe(region, call, params, response)


def _request(region: Region, service: str, operation: str, params: dict[str, Any], options: Mapping[str, Any],
             hooks: Mapping[str, Callable[..., Any]]) -> Any:
    client = region.client(service)
    params = _shaped(client, operation, params)
    call = f"{service}.{operation}"
    if call in hooks:
        params = hooks[call](region, params)
    if call == "ecs.create_service":
        with moto_service_running(options.get("running", params["desiredCount"])):
            return client.create_service(**params)
    return getattr(client, operation)(**params)


def _remember(region: Region, call: str, params: Mapping[str, Any], response: Any, name: str | None) -> None:
    if call in FOLLOW_UPS:
        template, read = FOLLOW_UPS[call]
        region.made[name or template.format(**params)] = read(region.client(call.split(".")[0]), params)
        return
    template, path = OUTPUTS.get(call, (None, None))
    name = name or (template.format(**params) if template else None)
    if not name:
        return
    value = response
    for part in (path or "").split(".") if path else ():
        value = value[int(part)] if part.isdigit() else value[part]
    region.made[name] = value


def _shaped(client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """Apply the two shorthands (tag mappings, JSON documents) by the operation's input shape."""
    model = client.meta.service_model.operation_model(_operation_name(client, operation))
    if model.input_shape is None:
        return params
    return {key: _as_shape(model.input_shape.members[key], value) if key in model.input_shape.members else value for key, value in params.items()}


def _operation_name(client: Any, operation: str) -> str:
    for name in client.meta.service_model.operation_names:
        if xform_name(name) == operation:
            return name
    raise KeyError(f"demo data: {client.meta.service_model.service_name} has no operation {operation}")


def _as_shape(shape: Any, value: Any) -> Any:
    if shape.type_name == "string" and isinstance(value, (Mapping, list)):
        return json.dumps(value)
    if shape.type_name == "list" and isinstance(value, Mapping):
        members = list(shape.member.members)
        if len(members) != 2:
            raise ValueError(f"demo data: a mapping given for {shape.name}, whose items are not pairs")
        key, item = members
        return [{key: k, item: v} for k, v in value.items()]
    if shape.type_name == "list" and isinstance(value, list):
        return [_as_shape(shape.member, item) for item in value]
    if shape.type_name == "structure" and isinstance(value, Mapping):
        return {k: _as_shape(shape.members[k], v) if k in shape.members else v for k, v in value.items()}
    return value
