"""Administration <-> MedicationAdministration, VitalSigns <-> vital-sign Observations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kapproto._administration import Administration
from kapproto._codes import SNOMED
from kapproto._fhir_common import (
    VITAL_SIGNS_CATEGORY,
    codeable,
    extension,
    fhir_datetime,
    from_quantity,
    get,
    loinc,
    loinc_text,
    parse_datetime,
    read_extensions,
    to_quantity,
)
from kapproto._routes import Basis, Formulation, Medication, Route, coerce_enum
from kapproto._vitals import VitalSigns
from kapproto.exceptions import KapprotoError, ValidationError
from kapproto.units import CONCENTRATION, FRACTION, FREQUENCY, MASS, PRESSURE, VOLUME, Kind

__all__ = [
    "UNIDENTIFIED_SUBJECT",
    "administration_from_fhir",
    "administration_to_fhir",
    "vitals_from_fhir",
    "vitals_to_fhir",
]

UNIDENTIFIED_SUBJECT: dict[str, Any] = {"display": "patient not identified in the kapproto record"}
"""``subject`` of a resource made from a record that names no patient."""

# kapproto field -> (extension name, value[x] type); strings and codes travel as-is.
_TEXT_EXTENSIONS = (
    ("id", "administration-id", "String"),
    ("formulation", "formulation", "Code"),
    ("basis", "basis", "Code"),
    ("lot", "lot", "String"),
    ("administered_by", "administered-by", "String"),
)
_QUANTITY_EXTENSIONS = (("concentration", CONCENTRATION), ("volume", VOLUME))


def _subject(subject: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(subject) if subject is not None else dict(UNIDENTIFIED_SUBJECT)


def administration_to_fhir(
    a: Administration,
    *,
    subject: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``a`` as a FHIR R4 ``MedicationAdministration`` (status ``completed``)."""
    extensions = []
    for field, name, value_type in _TEXT_EXTENSIONS:
        value = getattr(a, field)
        if value is not None:
            extensions.append(extension(name, value_type, getattr(value, "value", value)))
    for field, _kind in _QUANTITY_EXTENSIONS:
        value = getattr(a, field)
        if value is not None:
            extensions.append(extension(field, "Quantity", to_quantity(value)))
    out: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "extension": extensions,
        "status": "completed",
        "medicationCodeableConcept": codeable(a.medication.codings, a.medication.display),
        "subject": _subject(subject),
    }
    if context is not None:
        out["context"] = dict(context)
    if a.end is None:
        out["effectiveDateTime"] = fhir_datetime(a.start)
    else:
        out["effectivePeriod"] = {"start": fhir_datetime(a.start), "end": fhir_datetime(a.end)}
    dosage: dict[str, Any] = {}
    if a.site is not None:
        dosage["site"] = {"text": a.site}
    dosage["route"] = codeable((a.route.snomed,), a.route.snomed.display)
    dosage["dose"] = to_quantity(a.amount)
    if a.rate is not None:
        dosage["rateQuantity"] = to_quantity(a.rate)
    out["dosage"] = dosage
    return out


def _route(dosage: Mapping[str, Any]) -> Route:
    route = get(dosage, "$.dosage", "route", Mapping)
    codings = get(route, "$.dosage.route", "coding", list)
    for i, coding in enumerate(codings):
        where = f"$.dosage.route.coding[{i}]"
        if not isinstance(coding, Mapping) or coding.get("system") != SNOMED:
            continue
        code = coding.get("code")
        for member in Route:
            if member.snomed.code == code:
                return member
        known = ", ".join(f"{m.snomed.code} ({m.value})" for m in Route)
        raise ValidationError(
            f"code={code!r} is not a SNOMED CT route kapproto knows; expected one of {known}",
            path=f"{where}.code",
        )
    raise ValidationError("route has no SNOMED CT coding", path="$.dosage.route.coding")


def _medication(resource: Mapping[str, Any]) -> Medication:
    concept = get(resource, "$", "medicationCodeableConcept", Mapping)
    for coding in concept.get("coding", []):
        for member in Medication:
            if any(
                c.system == coding.get("system") and c.code == coding.get("code")
                for c in member.codings
            ):
                return member
    for member in Medication:
        if concept.get("text") == member.display:
            return member
    raise ValidationError(
        "no coding or text names a medication kapproto knows "
        f"({', '.join(m.display for m in Medication)})",
        path="$.medicationCodeableConcept",
    )


def administration_from_fhir(resource: Mapping[str, Any]) -> Administration:
    """An :class:`~kapproto.Administration` from a FHIR ``MedicationAdministration``."""
    _expect_type(resource, "MedicationAdministration")
    ext = read_extensions(resource, "$")
    fields: dict[str, Any] = {"medication": _medication(resource)}
    for field, name, _type in _TEXT_EXTENSIONS:
        if name in ext:
            fields[field] = ext[name][1]
    for field, kind in _QUANTITY_EXTENSIONS:
        if field in ext:
            fields[field] = from_quantity(ext[field][1], ext[field][0], kind)
    if "id" not in fields:
        fields["id"] = resource.get("id") or "a1"
    if "formulation" not in fields:
        raise ValidationError(
            "the formulation extension is missing; kapproto needs the dosage form",
            path="$.extension",
        )
    if "effectivePeriod" in resource:
        period = get(resource, "$", "effectivePeriod", Mapping)
        fields["start"] = parse_datetime(period.get("start"), "$.effectivePeriod.start")
        if "end" in period:
            fields["end"] = parse_datetime(period.get("end"), "$.effectivePeriod.end")
    else:
        fields["start"] = parse_datetime(resource.get("effectiveDateTime"), "$.effectiveDateTime")
    dosage = get(resource, "$", "dosage", Mapping)
    fields["route"] = _route(dosage)
    fields["amount"] = from_quantity(
        get(dosage, "$.dosage", "dose", Mapping), "$.dosage.dose", MASS
    )
    if "site" in dosage:
        fields["site"] = get(dosage["site"], "$.dosage.site", "text", str)
    fields["formulation"] = coerce_enum(Formulation, fields["formulation"], "formulation")
    if "basis" in fields:
        fields["basis"] = coerce_enum(Basis, fields["basis"], "basis")
    try:
        return Administration(**fields)
    except KapprotoError as exc:
        raise ValidationError(problems=[(p.path, p.message) for p in exc.problems]) from exc


def _expect_type(resource: object, expected: str) -> None:
    if not isinstance(resource, Mapping) or resource.get("resourceType") != expected:
        got = resource.get("resourceType") if isinstance(resource, Mapping) else resource
        raise ValidationError(f"resourceType={got!r}; expected {expected!r}", path="$.resourceType")


# --------------------------------------------------------------------------
# Vital signs
# --------------------------------------------------------------------------

# field -> (data/fhir.toml name, kind)
_SIMPLE: tuple[tuple[str, Kind], ...] = (
    ("heart_rate", FREQUENCY),
    ("respiratory_rate", FREQUENCY),
    ("spo2", FRACTION),
)


def _observation(
    name: str, when: str, subject: Mapping[str, Any] | None, encounter: Mapping[str, Any] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [VITAL_SIGNS_CATEGORY],
        "code": codeable(loinc(name), loinc_text(name)),
        "subject": _subject(subject),
    }
    if encounter is not None:
        out["encounter"] = dict(encounter)
    out["effectiveDateTime"] = when
    return out


def vitals_to_fhir(
    v: VitalSigns,
    *,
    subject: Mapping[str, Any] | None = None,
    encounter: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """``v`` as vital-sign ``Observation``s: a BP panel (if any BP), then HR, RR, SpO2."""
    when = fhir_datetime(v.time)
    out = []
    if v.systolic is not None or v.diastolic is not None:
        panel = _observation("bp_panel", when, subject, encounter)
        panel["component"] = [
            {"code": codeable(loinc(f), loinc(f)[0].display), "valueQuantity": to_quantity(q)}
            for f, q in (("systolic", v.systolic), ("diastolic", v.diastolic))
            if q is not None
        ]
        out.append(panel)
    for field, _kind in _SIMPLE:
        value = getattr(v, field)
        if value is not None:
            obs = _observation(field, when, subject, encounter)
            obs["valueQuantity"] = to_quantity(value)
            out.append(obs)
    return out


def _codes(concept: object, path: str) -> set[str]:
    codings = get(concept, path, "coding", list)  # type: ignore[arg-type]
    return {str(c.get("code")) for c in codings if isinstance(c, Mapping)}


def _which(codes: set[str], names: Sequence[str]) -> str | None:
    for name in names:
        if codes & {c.code for c in loinc(name)}:
            return name
    return None


def vitals_from_fhir(resources: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> VitalSigns:
    """A :class:`~kapproto.VitalSigns` from vital-sign ``Observation``s taken at one time."""
    many = not isinstance(resources, Mapping)
    items: list[Any] = list(resources) if many else [resources]
    if not items:
        raise ValidationError("no Observation given", path="$")
    fields: dict[str, Any] = {}
    times = []
    for i, obs in enumerate(items):
        base = f"$[{i}]" if many else "$"
        try:
            times.append(_read_observation(obs, fields))
        except ValidationError as exc:
            raise exc.at(base) from None
    if len(set(times)) > 1:
        raise ValidationError(
            "the Observations were taken at different times; one VitalSigns is one time",
            path="$[1].effectiveDateTime",
        )
    try:
        return VitalSigns(times[0], **fields)
    except KapprotoError as exc:
        raise ValidationError(problems=[(p.path, p.message) for p in exc.problems]) from exc


def _read_observation(obs: Mapping[str, Any], fields: dict[str, Any]) -> Any:
    _expect_type(obs, "Observation")
    codes = _codes(get(obs, "$", "code", Mapping), "$.code")
    name = _which(codes, ["bp_panel", *(f for f, _k in _SIMPLE)])
    if name is None:
        raise ValidationError(
            f"codes {sorted(codes)} are not a vital sign kapproto reads", path="$.code.coding"
        )
    if name == "bp_panel":
        for j, comp in enumerate(get(obs, "$", "component", list)):
            where = f"$.component[{j}]"
            part = _which(
                _codes(get(comp, where, "code", Mapping), f"{where}.code"),
                ["systolic", "diastolic"],
            )
            if part is None:
                raise ValidationError("not a systolic or diastolic component", path=f"{where}.code")
            fields[part] = from_quantity(
                get(comp, where, "valueQuantity", Mapping), f"{where}.valueQuantity", PRESSURE
            )
    else:
        kind = dict(_SIMPLE)[name]
        fields[name] = from_quantity(
            get(obs, "$", "valueQuantity", Mapping), "$.valueQuantity", kind
        )
    return parse_datetime(obs.get("effectiveDateTime"), "$.effectiveDateTime")
