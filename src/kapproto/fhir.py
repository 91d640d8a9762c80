"""FHIR R4 (4.0.1) export and import: plain JSON-ready dicts, no FHIR library needed.

:func:`to_fhir` turns an ``Administration`` into a
``MedicationAdministration`` and a ``VitalSigns`` into
vital-sign ``Observation`` s (LOINC codes, UCUM units, category
``vital-signs``); :func:`from_fhir` reads them back, so
``from_fhir(to_fhir(x)) == x``. Fields FHIR has no element for travel as
extensions under ``EXTENSION_BASE``. :func:`validate` checks what the FHIR
model libraries do not: UCUM codes, invariant mad-1 and required status codes.
A ``Course`` gives one Bundle of its sessions, an ``IntegrationPlan`` a
``CarePlan``, a ``Protocol`` a ``PlanDefinition`` and a ``ScreeningReport`` a
list of CDS Hooks cards.

Example:
    >>> import datetime as dt
    >>> from kapproto import Administration, quantity
    >>> from kapproto.fhir import from_fhir, to_fhir
    >>> a = Administration(
    ...     id="a1", medication="ketamine", route="intramuscular",
    ...     formulation="solution_for_injection", amount=quantity("40 mg"),
    ...     start=dt.datetime.fromisoformat("2026-03-02T09:10:00-07:00"),
    ... )
    >>> resource = to_fhir(a)
    >>> resource["dosage"]["route"]["coding"][0]["code"]
    '78421000'
    >>> resource["dosage"]["dose"]
    {'value': 40, 'unit': 'mg', 'system': 'http://unitsofmeasure.org', 'code': 'mg'}
    >>> from_fhir(resource) == a
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from kapproto._administration import Administration
from kapproto._courses import Course
from kapproto._fhir_cds import SUMMARY_LIMIT, report_to_cards
from kapproto._fhir_common import EXTENSION_BASE, validate
from kapproto._fhir_plan import plan_to_fhir
from kapproto._fhir_protocol import protocol_to_fhir
from kapproto._fhir_records import (
    administration_from_fhir,
    administration_to_fhir,
    vitals_from_fhir,
    vitals_to_fhir,
)
from kapproto._fhir_session import NAMESPACE, course_to_fhir, session_to_fhir
from kapproto._plans import IntegrationPlan
from kapproto._protocols import Protocol
from kapproto._sessions import Session
from kapproto._vitals import VitalSigns
from kapproto.exceptions import ValidationError
from kapproto.screening import ScreeningReport

__all__ = [
    "EXTENSION_BASE",
    "NAMESPACE",
    "SUMMARY_LIMIT",
    "dumps",
    "from_fhir",
    "to_fhir",
    "validate",
]

_SUPPORTED = (
    "Administration, VitalSigns, Session, Course, IntegrationPlan, Protocol, ScreeningReport"
)


def to_fhir(obj: object, *, patient: str | None = None) -> Any:
    """Export a kapproto record as FHIR R4 JSON-ready data.

    Args:
        obj: An ``Administration`` (gives one
            ``MedicationAdministration`` dict) or a ``VitalSigns``
            (gives a list of ``Observation`` dicts: BP panel, heart rate,
            respiratory rate, SpO2, each only when recorded) or a
            ``Session`` (gives a ``collection`` ``Bundle`` dict:
            ``Encounter``, ``MedicationAdministration`` s, vital-sign and
            body-weight ``Observation`` s, a ``QuestionnaireResponse`` and a
            score ``Observation`` per assessment, ``AdverseEvent`` s; entries
            refer to each other by ``urn:uuid:`` full URLs, uuid5 of
            ``NAMESPACE`` and the record ids, stable for the same input) or a
            ``Course`` (one ``collection`` Bundle of every effective session's
            entries, each with the ``fullUrl`` of its session's bundle) or an
            ``IntegrationPlan`` (a ``CarePlan``: one ``activity.detail`` per
            planned activity with its window as ``scheduledPeriod``, then one
            per dosing session) or a ``Protocol`` (a ``PlanDefinition``: one
            ``action`` per ``[[doses]]`` entry and per configured monitoring
            or schedule parameter, each parameter's source and confidence in
            the text and a ``parameter`` extension) or a ``ScreeningReport``
            (a list of CDS Hooks cards: the decision, then one per finding).
        patient: The patient id a ``CarePlan``'s ``subject`` refers to
            (``Patient/<id>``); a plan names no patient, so without it the
            subject is a display-only reference. Other records ignore it.

    Raises:
        TypeError: ``obj`` is of a type kapproto does not export.
    """
    if isinstance(obj, Administration):
        return administration_to_fhir(obj)
    if isinstance(obj, VitalSigns):
        return vitals_to_fhir(obj)
    if isinstance(obj, Session):
        return session_to_fhir(obj)
    if isinstance(obj, Course):
        return course_to_fhir(obj)
    if isinstance(obj, IntegrationPlan):
        subject = None if patient is None else {"reference": f"Patient/{patient}"}
        return plan_to_fhir(obj, subject=subject)
    if isinstance(obj, Protocol):
        return protocol_to_fhir(obj)
    if isinstance(obj, ScreeningReport):
        return report_to_cards(obj)
    raise TypeError(f"to_fhir() supports {_SUPPORTED}; got {type(obj).__name__}")


def from_fhir(resource: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Any:
    """Import a FHIR R4 resource back into a kapproto record.

    Args:
        resource: A ``MedicationAdministration`` (gives an
            ``Administration``), or one vital-sign
            ``Observation`` or a list of them taken at one time (gives a
            ``VitalSigns``).

    Raises:
        ValidationError: A wrong ``resourceType``, a non-UCUM unit, a missing
            route, an unknown route code, ...; the path is the FHIR element's
            (``$.dosage.route.coding[0].code``).
    """
    if isinstance(resource, Mapping):
        kind = resource.get("resourceType")
        if kind == "MedicationAdministration":
            return administration_from_fhir(resource)
        if kind == "Observation":
            return vitals_from_fhir(resource)
        raise ValidationError(
            f"resourceType={kind!r}; expected 'MedicationAdministration' or 'Observation'",
            path="$.resourceType",
        )
    if isinstance(resource, list | tuple):
        return vitals_from_fhir(resource)
    raise ValidationError(f"expected a FHIR resource (a JSON object), got {resource!r}", path="$")


def dumps(data: Any) -> str:
    """Deterministic JSON text of FHIR data (sorted keys, UTF-8, two-space indent)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
