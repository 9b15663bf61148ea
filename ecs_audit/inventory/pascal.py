"""A base for models of AWS APIs whose members are PascalCase (EC2, Elastic Load Balancing, EFS, WAFv2)."""

from __future__ import annotations

from pydantic import ConfigDict
from pydantic.alias_generators import to_pascal

from ecs_audit.inventory.base import AwsShape


class PascalShape(AwsShape):
    """An AwsShape whose JSON names are the API's PascalCase members (VpcId, SslPolicy, ...).

    Members that to_pascal spells differently from the API (e.g. WAF's `ARN`) need an explicit alias."""

    model_config = ConfigDict(alias_generator=to_pascal)
