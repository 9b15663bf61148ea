"""AWS Systems Manager Parameter Store: metadata (type, key) of parameters referenced by container secrets; never values."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ecs_audit.inventory.base import Record
from ecs_audit.inventory.pascal import PascalShape


class Parameter(PascalShape):
    """DescribeParameters' ParameterMetadata (no value: DescribeParameters never returns one)."""

    name: str
    arn: str | None = Field(default=None, alias="ARN")
    type: str | None = None
    key_id: str | None = None
    last_modified_date: datetime | None = None


class SsmInventory(Record):
    """The parameters this region's audited containers reference by name or ARN."""

    parameters: list[Parameter] = []
    # Referenced names DescribeParameters did not return: the parameter does not exist.
    missing: list[str] = []

    def parameter(self, name: str) -> Parameter | None:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        return None
