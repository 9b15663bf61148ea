"""Base classes for inventory models."""

from __future__ import annotations

from functools import cached_property
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self is 3.11+; the package supports 3.10


class AwsShape(BaseModel):
    """A model that mirrors an AWS API shape.

    Fields are snake_case in Python and camelCase (the API's own names) in JSON, so a model validates
    straight from a boto3 response and a snapshot reads like the API. Fields we do not need are
    ignored; fields that could hold secret material are never declared (see ecs_audit.redact).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
        frozen=True,
    )


class Record(BaseModel):
    """A model of our own (not an AWS shape): snake_case everywhere, unknown fields rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy without the cached indexes (cached_property values live in the instance's __dict__,
        which pydantic copies): they would still describe the original's fields after `update`."""
        copied = super().model_copy(update=update, deep=deep)
        for name in _cached_properties(type(self)):
            copied.__dict__.pop(name, None)
        return copied


def _cached_properties(cls: type) -> list[str]:
    return [name for klass in cls.__mro__ for name, value in vars(klass).items() if isinstance(value, cached_property)]


def _tags_to_dict(value: Any) -> Any:
    """Accept AWS tag lists ([{key, value}] or [{Key, Value}]) as well as a plain mapping."""
    if isinstance(value, list):
        out: dict[str, str] = {}
        for item in value:
            if isinstance(item, dict):
                key = item.get("key", item.get("Key"))
                if key is not None:
                    out[str(key)] = str(item.get("value", item.get("Value", "")) or "")
        return out
    return value


Tags = Annotated[dict[str, str], BeforeValidator(_tags_to_dict)]
