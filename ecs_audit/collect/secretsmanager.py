"""Secrets Manager: metadata of the secrets audited containers inject or pull images with.

DescribeSecret once per distinct referenced secret (there is no batch describe; ListSecrets would
list the whole account). Values are never read: GetSecretValue is not on the allowlist.
ResourceNotFoundException means the secret was deleted: recorded as missing, not as an error.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ecs_audit.collect.base import ABSENT, CollectContext
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.inventory.secretsmanager import Secret, SecretsInventory
from ecs_audit.inventory.snapshot import RegionInventory
from ecs_audit.semantics.secret_reference import SECRETS_MANAGER, container_secret_refs

SOURCE = source_of("secretsmanager")
SERVICE = SOURCE.client


def referenced_secrets(ctx: CollectContext, region: RegionInventory) -> list[str]:
    """The (full or partial) ARNs of secrets in this account and region that audited containers reference."""
    out: set[str] = set()
    if region.ecs is None:
        return []
    for td in region.ecs.task_definitions:
        for container in td.container_definitions:
            for ref in container_secret_refs(container, ctx.partition, ctx.region, ctx.account_id):
                if ref.kind == SECRETS_MANAGER and ref.is_local(ctx.region, ctx.account_id):
                    out.add(ref.key)
    return sorted(out)


def _describe(ctx: CollectContext, reference: str) -> Any:
    """The secret, ABSENT if it does not exist, or None after recording a failure."""
    response = ctx.call(
        SERVICE, "DescribeSecret", resources=[reference], absent_codes=("ResourceNotFoundException",), SecretId=reference
    )
    if response is ABSENT or not isinstance(response, dict):
        return response
    try:
        return Secret.model_validate(response)
    except ValidationError as exc:
        ctx.record(SERVICE, "DescribeSecret", "MalformedResponse", f"unexpected response shape: {exc.errors()[0]['msg']}", [reference])
        return None


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> SecretsInventory | None:
    references = referenced_secrets(ctx, region)
    results = ctx.parallel(lambda reference: _describe(ctx, reference), references)
    secrets = {ref: result for ref, result in zip(references, results) if isinstance(result, Secret)}
    missing = [ref for ref, result in zip(references, results) if result is ABSENT]
    return SecretsInventory(secrets=secrets, missing=missing)
