"""Test configuration: Hypothesis profiles (``ci`` when the ``CI`` environment variable is set)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import settings

# CI machines are slower and noisier: no per-example deadline there.
settings.register_profile("ci", deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def fhir_valid() -> Callable[[dict[str, Any]], None]:
    """A check that a FHIR resource passes fhir.resources (R4B), fhirclient (R4) and kapproto.

    fhir.resources ``model_validate``, fhirclient ``strict=True`` and
    :func:`kapproto.fhir.validate`; a Bundle's entries are checked one by one too.
    """
    import copy
    import importlib

    from kapproto.fhir import validate

    def check(resource: dict[str, Any]) -> None:
        kind = resource["resourceType"]
        r4b = getattr(importlib.import_module(f"fhir.resources.R4B.{kind.lower()}"), kind)
        r4b.model_validate(resource)
        r4 = getattr(importlib.import_module(f"fhirclient.models.{kind.lower()}"), kind)
        r4(copy.deepcopy(resource), strict=True)
        validate(resource)
        for entry in resource.get("entry", []) if kind == "Bundle" else []:
            check(entry["resource"])

    return check
