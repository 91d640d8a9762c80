"""Findings: what a check reports, with a stable code from ``data/findings.toml``."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

import attrs

from kapproto._data import load_data
from kapproto.exceptions import UnknownReferenceError

__all__ = ["Finding", "FindingSpec", "Severity", "finding", "finding_catalogue"]


class Severity(enum.Enum):
    """How much a finding matters.

    ``ERROR`` makes a report non-compliant; ``WARNING`` asks a clinician to
    weigh it (and may be acknowledged); ``INFO`` only records.

    Example:
        >>> from kapproto import Severity, finding_catalogue
        >>> finding_catalogue()["dose.above_max"].severity
        <Severity.ERROR: 'error'>
        >>> Severity("warning")
        <Severity.WARNING: 'warning'>
    """

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@attrs.frozen
class FindingSpec:
    """One entry of the finding catalogue.

    Attributes:
        code: Stable dotted code, e.g. ``"dose.above_max"``.
        severity: Default severity.
        owner: The part of kapproto that reports it.
        description: What it means.
        source: Where the rule comes from (``design`` for kapproto defaults).
    """

    code: str
    severity: Severity
    owner: str
    description: str
    source: str


@attrs.frozen
class Finding:
    """Something a check found in a record.

    Attributes:
        code: Stable dotted code listed in the finding catalogue.
        severity: How much it matters.
        message: What was found, with the values involved.
        path: JSON path of the record element concerned.
        source: The protocol parameter or clinical source that applied.
        acknowledged: A clinician recorded that they weighed this warning.

    Example:
        >>> f = finding("dose.above_max", "60 mg above the 56 mg limit", path="$.administrations[0]")
        >>> f.severity
        <Severity.ERROR: 'error'>
    """

    code: str
    severity: Severity
    message: str
    path: str = "$"
    source: str = ""
    acknowledged: bool = False


@cache
def finding_catalogue() -> Mapping[str, FindingSpec]:
    """Every finding code kapproto reports, from ``data/findings.toml`` (read-only, cached).

    Example:
        >>> from kapproto import finding_catalogue
        >>> spec = finding_catalogue()["dose.above_max"]
        >>> spec.severity.value, spec.owner
        ('error', 'dosing')
        >>> spec.description
        "One administration is above the protocol's per-administration maximum."
    """
    data = load_data("findings.toml")
    return MappingProxyType(
        {
            entry["code"]: FindingSpec(
                code=entry["code"],
                severity=Severity(entry["severity"]),
                owner=entry["owner"],
                description=entry["description"],
                source=entry["source"],
            )
            for entry in data["findings"]
        }
    )


def finding(
    code: str,
    message: str,
    *,
    path: str = "$",
    source: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    """Build a :class:`Finding` for a catalogued code, with its default severity.

    Args:
        code: A code from the catalogue.
        message: What was found.
        path: JSON path of the record element.
        source: The parameter or source that applied; the catalogue's by default.
        severity: Override the default severity.

    Raises:
        UnknownReferenceError: ``code`` is not in the catalogue.
    """
    spec = finding_catalogue().get(code)
    if spec is None:
        raise UnknownReferenceError(
            f"unknown finding code {code!r}; known: {', '.join(sorted(finding_catalogue()))}"
        )
    return Finding(
        code=code,
        severity=severity or spec.severity,
        message=message,
        path=path,
        source=spec.source if source is None else source,
    )
