"""A value the definition file does not fix, standing in the inventory model where the value goes.

Any use of it by a check (truth value, comparison, iteration, attribute, formatting) raises
EvidenceMissing naming it, so the check becomes UNKNOWN: the value is never guessed."""

from __future__ import annotations

from typing import Any, NoReturn

from ecs_audit.findings import EvidenceMissing


class Placeholder:
    __slots__ = ("label", "field")

    def __init__(self, label: str, field: str):
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "field", field)

    def _refuse(self, *_: Any, **__: Any) -> NoReturn:
        raise EvidenceMissing(f"{self.field} is not fixed by the file ({self.label}), and this check needs it")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__pydantic"):
            raise AttributeError(name)
        self._refuse()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Placeholder):
            return other is self
        self._refuse()

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"<not fixed by the file: {self.label}>"

    __bool__ = __iter__ = __len__ = __contains__ = __getitem__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = __str__ = __format__ = __int__ = __float__ = _refuse
    __add__ = __radd__ = __sub__ = __mul__ = __truediv__ = _refuse

    def describe(self) -> str:
        return f"{self.field}: {self.label}"


def scrub(value: Any) -> Any:
    """Evidence as plain JSON values, placeholders shown by what they stand for."""
    from pydantic import BaseModel

    if isinstance(value, Placeholder):
        return f"(not fixed by the file: {value.label})"
    if isinstance(value, BaseModel):
        return {(info.alias or name): scrub(value.__dict__.get(name)) for name, info in type(value).model_fields.items() if value.__dict__.get(name) is not None}
    if isinstance(value, dict):
        return {str(k): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [scrub(v) for v in value]
    return value
