"""What AWS knows about an account and moto cannot: who did what when, and how busy things are.

The demo's backstory is data (ecs_audit/demo/data/account.yaml, `backstory:`); the classes here give it
a shape and the defaults the tests' own estates use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Who registers revisions and creates services when the backstory does not say (`{account}` is the
# account id).
CI_SESSION = "arn:aws:sts::{account}:assumed-role/github-actions-deploy/GitHubActions"
IAC_ROLE_ARN = "arn:aws:iam::{account}:role/terraform-apply"


@dataclass(frozen=True)
class Utilisation:
    """A service's CPU and memory use as fractions of what its tasks reserve: (typical, peak)."""

    cpu: tuple[float, float]
    memory: tuple[float, float]


@dataclass(frozen=True)
class ManagedInstances:
    """An ECS Managed Instances capacity provider, which moto cannot create: the cluster it serves, the
    services placed on it by their capacity provider strategy, and its managed daemons (name -> images)."""

    cluster: str
    services: tuple[str, ...] = ()
    daemons: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Backstory:
    """`registrations` maps `family:revision` (or `region/family:revision`) to (principal, days ago);
    `services` maps `cluster/service` to (principal, days ago) of its creation; `utilisation` maps
    `cluster/service` to its measured use (seeded as Container Insights metrics where Container
    Insights is on; Compute Optimizer's recommendations follow from it too). Anything not listed was
    done by the default principals, with ages derived from revision numbers, at a moderate utilisation.
    `deployment_groups` maps `application/group` to the CodeDeploy deployment-group fields moto keeps
    but never returns (alarmConfiguration): the seeding sends them, the demo's answers return them.
    `managed_instances` maps `region/provider` to an ECS Managed Instances capacity provider (ManagedInstances)."""

    registrations: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    services: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    utilisation: Mapping[str, Utilisation] = field(default_factory=dict)
    deployment_groups: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    managed_instances: Mapping[str, ManagedInstances] = field(default_factory=dict)
    default_registrar: str = CI_SESSION
    default_service_creator: str = IAC_ROLE_ARN
    default_utilisation: Utilisation = Utilisation(cpu=(0.35, 0.6), memory=(0.5, 0.65))
    # ECS agent version on container instances (moto reports a placeholder 1.0.0).
    ecs_agent_version: str = "1.89.1"
    docker_version: str = "DockerVersion: 25.0.8"

    def utilisation_of(self, cluster: str, service: str) -> Utilisation:
        return self.utilisation.get(f"{cluster}/{service}", self.default_utilisation)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Backstory:
        """From the `backstory:` mapping of the demo's data: principals and ages as [principal, days],
        utilisation as {cpu: [typical, peak], memory: [typical, peak]}."""

        def done(table: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
            return {key: (principal, int(days)) for key, (principal, days) in table.items()}

        def use(value: Mapping[str, Any]) -> Utilisation:
            return Utilisation(cpu=tuple(value["cpu"]), memory=tuple(value["memory"]))  # type: ignore[arg-type]

        def provider(value: Mapping[str, Any]) -> ManagedInstances:
            daemons = {name: tuple(images) for name, images in (value.get("daemons") or {}).items()}
            return ManagedInstances(cluster=value["cluster"], services=tuple(value.get("services") or ()), daemons=daemons)

        known = {"registrations", "services", "utilisation", "deployment_groups", "managed_instances", "ecs_agent_version", "docker_version"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown backstory fields: {sorted(unknown)}")
        extra = {key: data[key] for key in ("ecs_agent_version", "docker_version") if key in data}
        return cls(
            registrations=done(data.get("registrations", {})),
            services=done(data.get("services", {})),
            utilisation={key: use(value) for key, value in data.get("utilisation", {}).items()},
            deployment_groups=dict(data.get("deployment_groups", {})),
            managed_instances={key: provider(value) for key, value in data.get("managed_instances", {}).items()},
            **extra,
        )
