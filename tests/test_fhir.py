"""Tests for kapproto.fhir: records to FHIR R4 and back, checked by two FHIR libraries."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import importlib
import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto import Administration, VitalSigns, quantity
from kapproto._routes import Formulation, Medication, Route
from kapproto._sessions import (
    AdverseEvent,
    AdverseEventOutcome,
    AdverseEventSeverity,
    Seriousness,
    Session,
    SessionKind,
)
from kapproto.exceptions import ValidationError
from kapproto.fhir import EXTENSION_BASE, dumps, from_fhir, to_fhir, validate
from kapproto.instruments import INSTRUMENTS
from kapproto.serialization import from_json, to_json
from kapproto.testing import instrument_responses, json_values

EXAMPLE_DIR = Path(__file__).parent.parent / "examples" / "sessions"
EXAMPLES = [
    p
    for p in sorted(EXAMPLE_DIR.glob("*.json"))
    if '"kapproto.session/' in p.read_text(encoding="utf-8")[:200]
]
IM_SESSION = EXAMPLE_DIR / "im-session.json"

T0 = dt.datetime.fromisoformat("2026-03-02T09:10:00-07:00")


def check_with_libraries(resource: dict[str, Any]) -> None:
    """Validate ``resource`` with fhir.resources (R4B) and fhirclient (R4), strictly."""
    module = resource["resourceType"].lower()
    r4b = getattr(importlib.import_module(f"fhir.resources.R4B.{module}"), resource["resourceType"])
    r4b.model_validate(resource)
    r4 = getattr(importlib.import_module(f"fhirclient.models.{module}"), resource["resourceType"])
    r4(copy.deepcopy(resource), strict=True)
    validate(resource)


def check_all(resources: dict[str, Any] | list[dict[str, Any]]) -> None:
    """Validate one resource or each of a list."""
    for r in resources if isinstance(resources, list) else [resources]:
        check_with_libraries(r)


def infusion(**changes: Any) -> Administration:
    """A 40-minute IV ketamine infusion with every optional field set."""
    fields: dict[str, Any] = {
        "id": "a1",
        "medication": "ketamine",
        "route": "intravenous",
        "formulation": "solution_for_injection",
        "amount": quantity("40 mg"),
        "start": T0,
        "end": T0 + dt.timedelta(minutes=40),
        "concentration": quantity("10 mg/mL"),
        "volume": quantity("4 mL"),
        "site": "left antecubital",
        "lot": "L123",
        "administered_by": "nurse",
    }
    fields.update(changes)
    return Administration(**fields)


def vitals() -> VitalSigns:
    """A full set of vital signs."""
    return VitalSigns(
        T0,
        systolic=quantity("128 mmHg"),
        diastolic=quantity("82 mmHg"),
        heart_rate=quantity("72 /min"),
        respiratory_rate=quantity("14 /min"),
        spo2=quantity("97 %"),
    )


# --------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------

fixed_zones = st.integers(min_value=-48, max_value=56).map(
    lambda q: dt.timezone(dt.timedelta(minutes=15 * q))
)
moments = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 1, 1), timezones=fixed_zones
).map(lambda d: d.replace(microsecond=0))
magnitudes = st.floats(min_value=0.1, max_value=1000, allow_nan=False)
# ids and free text as people type them: letters, digits, punctuation, spaces
printable = st.characters(categories=["L", "N", "P", "Zs"])
ids = st.text(printable, min_size=1, max_size=8).filter(str.strip)
texts = st.none() | st.text(printable, min_size=1, max_size=12).filter(str.strip)


@st.composite
def administrations(draw: st.DrawFn) -> Administration:
    """Administrations of every medication, route and formulation, bolus or infusion."""
    start = draw(moments)
    amount = draw(magnitudes)
    concentration = draw(st.none() | magnitudes)
    volume = None
    if concentration is not None and draw(st.booleans()):
        volume = quantity(amount / concentration, "mL")
    minutes = draw(st.none() | st.integers(min_value=0, max_value=240))
    return Administration(
        id=draw(ids),
        medication=draw(st.sampled_from(Medication)),
        route=draw(st.sampled_from(Route)),
        formulation=draw(st.sampled_from(Formulation)),
        amount=quantity(amount, "mg"),
        start=start,
        end=None if minutes is None else start + dt.timedelta(minutes=minutes),
        concentration=None if concentration is None else quantity(concentration, "mg/mL"),
        volume=volume,
        site=draw(texts),
        lot=draw(texts),
        administered_by=draw(texts),
    )


@st.composite
def vital_signs(draw: st.DrawFn) -> VitalSigns:
    """Vital signs with any non-empty subset of readings."""
    diastolic = draw(st.none() | st.integers(min_value=30, max_value=150))
    systolic = draw(st.none() | st.integers(min_value=max(diastolic or 40, 40), max_value=250))
    readings = {
        "systolic": None if systolic is None else quantity(systolic, "mm[Hg]"),
        "diastolic": None if diastolic is None else quantity(diastolic, "mm[Hg]"),
        "heart_rate": draw(st.none() | st.integers(20, 220).map(lambda n: quantity(n, "/min"))),
        "respiratory_rate": draw(st.none() | st.integers(4, 60).map(lambda n: quantity(n, "/min"))),
        "spo2": draw(st.none() | st.integers(50, 100).map(lambda n: quantity(n, "%"))),
    }
    if all(v is None for v in readings.values()):
        readings["heart_rate"] = quantity(70, "/min")
    return VitalSigns(draw(moments), **readings)


# --------------------------------------------------------------------------
# MedicationAdministration
# --------------------------------------------------------------------------


def test_infusion_has_period_rate_and_snomed_codes() -> None:
    """An infusion gives effectivePeriod, a mg/min rate and SNOMED route and drug codes."""
    r = to_fhir(infusion())
    assert {"start": "2026-03-02T09:10:00-07:00", "end": "2026-03-02T09:50:00-07:00"} == r[
        "effectivePeriod"
    ]
    assert {
        "value": 1,
        "unit": "mg/min",
        "system": "http://unitsofmeasure.org",
        "code": "mg/min",
    } == r["dosage"]["rateQuantity"]
    assert "47625008" == r["dosage"]["route"]["coding"][0]["code"]
    assert [("http://snomed.info/sct", "373464007")] == [
        (c["system"], c["code"]) for c in r["medicationCodeableConcept"]["coding"]
    ]


def test_bolus_has_effective_datetime_and_no_rate() -> None:
    """An administration without an end gives effectiveDateTime and no rateQuantity."""
    r = to_fhir(infusion(end=None, route="intramuscular"))
    assert ("2026-03-02T09:10:00-07:00", None, None) == (
        r.get("effectiveDateTime"),
        r.get("effectivePeriod"),
        r["dosage"].get("rateQuantity"),
    )


def test_esketamine_has_no_guessed_code() -> None:
    """Esketamine carries text only: no RxNorm or SNOMED code is confirmed for it."""
    r = to_fhir(
        infusion(
            medication="esketamine",
            route="intranasal",
            formulation="nasal_spray_device",
            end=None,
            concentration=None,
            volume=None,
        )
    )
    assert {"text": "Esketamine"} == r["medicationCodeableConcept"]


def test_extensions_carry_what_fhir_has_no_element_for() -> None:
    """Formulation, basis, concentration and the id travel as kapproto extensions."""
    urls = [e["url"] for e in to_fhir(infusion())["extension"]]
    names = [u.removeprefix(EXTENSION_BASE) for u in urls]
    assert [
        "administration-id",
        "formulation",
        "basis",
        "lot",
        "administered-by",
        "concentration",
        "volume",
    ] == names


def test_administration_validates_with_both_libraries() -> None:
    """An infusion validates with fhir.resources and fhirclient."""
    check_all(to_fhir(infusion()))


@settings(max_examples=60)
@given(administrations())
def test_administration_round_trip(a: Administration) -> None:
    """from_fhir(to_fhir(a)) == a through JSON text, and every resource validates."""
    resource = to_fhir(a)
    check_all(resource)
    assert a == from_fhir(json.loads(dumps(resource)))


@settings(max_examples=30)
@given(administrations())
def test_output_is_deterministic(a: Administration) -> None:
    """The same administration gives byte-identical JSON."""
    assert dumps(to_fhir(a)) == dumps(to_fhir(copy.deepcopy(a)))


# --------------------------------------------------------------------------
# Vital signs
# --------------------------------------------------------------------------


def test_vital_sign_codes_and_units() -> None:
    """BP panel components, HR, RR and SpO2 carry their LOINC codes and UCUM units."""
    obs = to_fhir(vitals())
    codes = [[c["code"] for c in o["code"]["coding"]] for o in obs]
    assert [["85354-9"], ["8867-4"], ["9279-1"], ["2708-6", "59408-5"]] == codes
    bp = obs[0]["component"]
    assert [("8480-6", "mm[Hg]", 128), ("8462-4", "mm[Hg]", 82)] == [
        (c["code"]["coding"][0]["code"], c["valueQuantity"]["code"], c["valueQuantity"]["value"])
        for c in bp
    ]
    assert ["/min", "/min", "%"] == [o["valueQuantity"]["code"] for o in obs[1:]]
    assert {"vital-signs"} == {o["category"][0]["coding"][0]["code"] for o in obs}


@settings(max_examples=60)
@given(vital_signs())
def test_vitals_round_trip(v: VitalSigns) -> None:
    """from_fhir(to_fhir(v)) == v through JSON text, and every Observation validates."""
    obs = to_fhir(v)
    check_all(obs)
    assert v == from_fhir(json.loads(dumps(obs)))


def test_single_observation_reads_back() -> None:
    """One heart-rate Observation alone gives a VitalSigns with only the heart rate."""
    obs = to_fhir(VitalSigns(T0, heart_rate=quantity("72 /min")))
    assert VitalSigns(T0, heart_rate=quantity("72 /min")) == from_fhir(obs[0])


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


def test_to_fhir_unsupported_type() -> None:
    """to_fhir of an unsupported object raises TypeError naming the supported types."""
    with pytest.raises(
        TypeError,
        match="Administration, VitalSigns, Session, Course, IntegrationPlan, Protocol, "
        "ScreeningReport; got object",
    ):
        to_fhir(object())


def _error(resource: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        from_fhir(resource)
    return info.value


def test_wrong_resource_type() -> None:
    """A Patient is refused at $.resourceType."""
    assert "$.resourceType" == _error({"resourceType": "Patient"}).problems[0].path


def test_non_ucum_unit() -> None:
    """A dose in 'milligrams' is refused at the dose's code."""
    r = to_fhir(infusion())
    r["dosage"]["dose"]["code"] = "milligrams"
    err = _error(r)
    assert ("$.dosage.dose.code", True) == (err.problems[0].path, "UCUM" in err.problems[0].message)


def test_non_ucum_system() -> None:
    """A dose whose system is not UCUM is refused at the dose's system."""
    r = to_fhir(infusion())
    r["dosage"]["dose"]["system"] = "http://example.org/units"
    assert "$.dosage.dose.system" == _error(r).problems[0].path


def test_missing_route() -> None:
    """A dosage without a route is refused at $.dosage.route."""
    r = to_fhir(infusion())
    del r["dosage"]["route"]
    assert "$.dosage.route" == _error(r).problems[0].path


def test_unknown_route_code() -> None:
    """An unknown SNOMED route code is refused at the coding's code."""
    r = to_fhir(infusion())
    r["dosage"]["route"]["coding"][0]["code"] = "999999"
    err = _error(r)
    assert ("$.dosage.route.coding[0].code", True) == (
        err.problems[0].path,
        "999999" in err.problems[0].message,
    )


def test_observation_unit_error_names_list_index() -> None:
    """A non-UCUM unit in the second Observation of a list is reported under $[1]."""
    obs = to_fhir(vitals())
    obs[1]["valueQuantity"]["code"] = "bpm"
    assert "$[1].valueQuantity.code" == _error(obs).problems[0].path


@settings(max_examples=100)
@given(json_values())
def test_arbitrary_json_raises_only_validation_error(data: Any) -> None:
    """from_fhir of arbitrary JSON gives a record or a ValidationError, nothing else."""
    with contextlib.suppress(ValidationError):
        from_fhir(data)


@settings(max_examples=50)
@given(administrations(), st.data())
def test_mutated_resource_raises_only_validation_error(
    a: Administration, data: st.DataObject
) -> None:
    """Replacing any top-level element with junk gives a record or a ValidationError."""
    r = to_fhir(a)
    key = data.draw(st.sampled_from(sorted(r)))
    r[key] = data.draw(json_values(max_leaves=3))
    with contextlib.suppress(ValidationError):
        from_fhir(r)


# --------------------------------------------------------------------------
# kapproto's own checks
# --------------------------------------------------------------------------


def test_validate_flags_ucum_mad1_and_status() -> None:
    """validate() lists a non-UCUM code, a dosage without dose or rate, and a bad status."""
    r = to_fhir(infusion())
    r["status"] = "done"
    r["extension"][5]["valueQuantity"]["code"] = "mg/ml"
    del r["dosage"]["dose"], r["dosage"]["rateQuantity"]
    with pytest.raises(ValidationError) as info:
        validate(r)
    assert ["$.status", "$.dosage", "$.extension[5].valueQuantity.code"] == [
        p.path for p in info.value.problems
    ]


# --------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------


def check_bundle(bundle: dict[str, Any]) -> None:
    """Validate a Bundle and every entry with both libraries and kapproto's checks."""
    check_with_libraries(bundle)
    for entry in bundle["entry"]:
        check_with_libraries(entry["resource"])
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    assert all(u.startswith("urn:uuid:") for u in urls)


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    """Dosing sessions with administrations, vitals, assessments and adverse events inside them."""
    start = draw(moments)
    end = start + dt.timedelta(hours=4)
    inside = st.integers(min_value=0, max_value=120).map(lambda m: start + dt.timedelta(minutes=m))
    admins = draw(st.lists(administrations(), max_size=3))
    admins = [
        attrs.evolve(
            a,
            id=f"a{i}",
            start=start + dt.timedelta(minutes=i),
            end=None if a.end is None else start + dt.timedelta(minutes=i + 40),
        )
        for i, a in enumerate(admins)
    ]
    vitals_list = [
        attrs.evolve(v, time=draw(inside)) for v in draw(st.lists(vital_signs(), max_size=3))
    ]
    names = draw(st.lists(st.sampled_from(sorted(INSTRUMENTS.keys())), max_size=3))
    assessments = [draw(instrument_responses(n, times=inside)) for n in names]
    events = draw(
        st.lists(
            st.builds(
                AdverseEvent,
                term=st.sampled_from(["nausea", "dissociation", "hypertension"]),
                onset=inside,
                severity=st.sampled_from(AdverseEventSeverity),
                seriousness=st.sampled_from(Seriousness),
                action_taken=st.none() | st.just("observed"),
                outcome=st.sampled_from(AdverseEventOutcome),
            ),
            max_size=2,
        )
    )
    return Session(
        id=draw(ids),
        patient="p-001",
        kind=SessionKind.DOSING,
        start=start,
        end=end,
        weight=draw(st.none() | st.integers(40, 150).map(lambda n: quantity(n, "kg"))),
        administrations=tuple(admins),
        withheld_reason=None if admins else "blood pressure above limit",
        vitals=tuple(vitals_list),
        assessments=tuple(assessments),
        adverse_events=tuple(events),
    )


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_sessions_validate(path: Path) -> None:
    """Every example session exports to a Bundle that both libraries accept."""
    check_bundle(to_fhir(from_json(path.read_text(encoding="utf-8"), Session)))


def test_example_session_contents() -> None:
    """The IM example holds its Encounter, dose, weight, PHQ-9 total and references."""
    session = from_json(IM_SESSION.read_text(encoding="utf-8"), Session)
    bundle = to_fhir(session)
    resources = [e["resource"] for e in bundle["entry"]]
    encounter = resources[0]
    assert ("collection", "Encounter", "finished", "AMB") == (
        bundle["type"],
        encounter["resourceType"],
        encounter["status"],
        encounter["class"]["code"],
    )
    mad = next(r for r in resources if r["resourceType"] == "MedicationAdministration")
    assert ("Patient/p-001", bundle["entry"][0]["fullUrl"]) == (
        mad["subject"]["reference"],
        mad["context"]["reference"],
    )
    codes = {
        r["code"]["coding"][0]["code"]: r
        for r in resources
        if r["resourceType"] == "Observation" and "coding" in r["code"]
    }
    assert {
        "value": 80,
        "unit": "kg",
        "system": "http://unitsofmeasure.org",
        "code": "kg",
    } == codes["29463-7"]["valueQuantity"]
    assert 12 == codes["44261-6"]["valueInteger"]
    assert "44249-1" not in codes


@settings(max_examples=5, deadline=None)
@given(instrument_responses("madrs", times=st.just(T0)))
def test_score_without_confirmed_code_is_text_only(madrs: Any) -> None:
    """A MADRS total (no confirmed LOINC code) carries a text-only code, never a panel code."""
    session = from_json(IM_SESSION.read_text(encoding="utf-8"), Session)
    bundle = to_fhir(attrs.evolve(session, assessments=(madrs,)))
    scores = [e["resource"]["code"] for e in bundle["entry"] if "derivedFrom" in e["resource"]]
    assert [{"text": "Montgomery-Åsberg Depression Rating Scale total score"}] == scores


@settings(max_examples=40, deadline=None)
@given(sessions())
def test_generated_sessions_validate(session: Session) -> None:
    """Every entry of a generated session's Bundle validates under both libraries and kapproto."""
    check_bundle(to_fhir(session))


@settings(max_examples=20, deadline=None)
@given(sessions())
def test_session_bundle_is_deterministic(session: Session) -> None:
    """The same session, rebuilt from its JSON, gives byte-identical FHIR JSON."""
    rebuilt = from_json(to_json(session), Session)
    assert dumps(to_fhir(session)) == dumps(to_fhir(rebuilt))
