"""What a container's secret references point at: SSM parameters or Secrets Manager secrets.

ECS takes, in `secrets[].valueFrom` and `logConfiguration.secretOptions[].valueFrom`, either the full
ARN of a Secrets Manager secret (optionally followed by `:json-key:version-stage:version-id`), the
ARN of an SSM parameter, or the bare name of an SSM parameter in the task's own region.
`repositoryCredentials.credentialsParameter` names a Secrets Manager secret (ARN, or name in the
same region). Collectors and checks both resolve references here, so they agree on the keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecs_audit.inventory.ecs import ContainerDefinition

SSM = "ssm"
SECRETS_MANAGER = "secretsmanager"
OTHER = "other"


@dataclass(frozen=True)
class SecretRef:
    kind: str  # SSM, SECRETS_MANAGER or OTHER
    # SSM: the parameter name; Secrets Manager: the secret's (full or partial) ARN without the JSON
    # key suffix; OTHER: the reference as written.
    key: str
    # The ARN the reference resolves to (a partial ARN for secrets named without their suffix).
    arn: str
    region: str
    account_id: str
    # Where the container names it: "secrets", "secretOptions" or "repositoryCredentials".
    field: str
    # The environment variable (or log option) it fills; None for repository credentials.
    name: str | None
    value_from: str

    def is_local(self, region: str, account_id: str) -> bool:
        """In the audited account and region: the only references the collectors read."""
        return self.region == region and self.account_id == account_id


def parameter_name_from_arn(resource: str) -> str:
    """`parameter/prod/db` -> `/prod/db`; `parameter/db` -> `db` (hierarchical names start with /)."""
    rest = resource.split("/", 1)[1] if "/" in resource else ""
    return "/" + rest if "/" in rest else rest


def parameter_arn(name: str, partition: str, region: str, account_id: str) -> str:
    return f"arn:{partition}:ssm:{region}:{account_id}:parameter/{name.lstrip('/')}"


def resolve(value_from: str, field: str, name: str | None, partition: str, region: str, account_id: str) -> SecretRef:
    """A reference from secrets/secretOptions (field given) as ECS interprets it."""
    value = value_from.strip()
    if value.startswith("arn:"):
        parts = value.split(":")
        service = parts[2] if len(parts) > 2 else ""
        ref_region = parts[3] if len(parts) > 3 else ""
        ref_account = parts[4] if len(parts) > 4 else ""
        if service == "secretsmanager" and len(parts) >= 7 and parts[5] == "secret":
            arn = ":".join(parts[:7])
            return SecretRef(SECRETS_MANAGER, arn, arn, ref_region, ref_account, field, name, value_from)
        if service == "ssm" and len(parts) >= 6 and parts[5].startswith("parameter/"):
            parameter = parameter_name_from_arn(parts[5])
            arn = parameter_arn(parameter, parts[1], ref_region, ref_account)
            return SecretRef(SSM, parameter, arn, ref_region, ref_account, field, name, value_from)
        return SecretRef(OTHER, value, value, ref_region, ref_account, field, name, value_from)
    # A bare name is an SSM parameter in the task's region (a version selector `name:3` is dropped).
    parameter = value.split(":", 1)[0]
    return SecretRef(SSM, parameter, parameter_arn(parameter, partition, region, account_id), region, account_id, field, name, value_from)


def resolve_secret(reference: str, field: str, partition: str, region: str, account_id: str) -> SecretRef:
    """A Secrets Manager reference (repository credentials): an ARN, or a name in the task's region."""
    value = reference.strip()
    if value.startswith("arn:"):
        return resolve(value, field, None, partition, region, account_id)
    arn = f"arn:{partition}:secretsmanager:{region}:{account_id}:secret:{value}"
    return SecretRef(SECRETS_MANAGER, arn, arn, region, account_id, field, None, reference)


def container_secret_refs(container: ContainerDefinition, partition: str, region: str, account_id: str) -> list[SecretRef]:
    """Every secret a container injects: `secrets`, log-driver `secretOptions`, repository credentials."""
    refs = [resolve(s.value_from, "secrets", s.name, partition, region, account_id) for s in container.secrets]
    if container.log_configuration is not None:
        refs.extend(
            resolve(s.value_from, "secretOptions", s.name, partition, region, account_id)
            for s in container.log_configuration.secret_options
        )
    credentials = container.repository_credentials.credentials_parameter if container.repository_credentials else None
    if credentials:
        refs.append(resolve_secret(credentials, "repositoryCredentials", partition, region, account_id))
    return refs
