"""Which boto3 client(s) fill each part of a RegionInventory."""

from __future__ import annotations

# Inventory parts whose boto3 client name differs from the part's name.
_CLIENTS_OF_PART = {"autoscaling": ("application-autoscaling",), "compute_optimizer": ("compute-optimizer",), "inspector": ("inspector2",)}


def clients_of_part(part: str) -> tuple[str, ...]:
    """The boto3 client names whose calls fill inventory part `part` (e.g. "inspector" -> inspector2)."""
    return _CLIENTS_OF_PART.get(part, (part,))
