"""Fixtures the unit tests share: the shipped check catalogue and the registered check functions."""

from __future__ import annotations

import pytest

from ecs_audit.catalogue import Catalogue, load_catalogue
from ecs_audit.rules.registry import load_registry


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    return load_registry()
