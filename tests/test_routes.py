"""Tests of kapproto._routes: the route, formulation and medication vocabulary."""

from __future__ import annotations

import pytest

from kapproto import Basis, Formulation, Medication, Route, ValidationError, from_json, to_json
from kapproto._codes import RXNORM, SNOMED
from kapproto._data import load_data
from kapproto._params import Confidence
from kapproto._routes import _tables, coerce_enum
from kapproto.units import format_quantity

SNOMED_ROUTES = {
    Route.INTRAVENOUS: "47625008",
    Route.INTRAMUSCULAR: "78421000",
    Route.SUBCUTANEOUS: "34206005",
    Route.SUBLINGUAL: "37839007",
    Route.BUCCAL: "54471007",
    Route.ORAL: "26643006",
    Route.INTRANASAL: "46713006",
}


@pytest.mark.parametrize(("route", "code"), SNOMED_ROUTES.items())
def test_route_snomed_code(route: Route, code: str) -> None:
    """Each route carries the SNOMED CT code confirmed in CLINICAL.md §5.2."""
    assert (SNOMED, code) == (route.snomed.system, route.snomed.code)


def test_enum_values_are_snake_case_names() -> None:
    """Every enum value is the lower snake-case member name (the JSON form)."""
    for tp in (Route, Formulation, Medication, Basis):
        assert [m.name.lower() for m in tp] == [m.value for m in tp]


@pytest.mark.parametrize("member", [*Route, *Formulation, *Medication, *Basis])
def test_enum_json_round_trip(member: Route) -> None:
    """An enum member serializes as its value and reads back as itself."""
    assert f'"{member.value}"' == to_json(member)
    assert member == from_json(to_json(member), type(member))


def test_every_route_fact_has_a_source() -> None:
    """Every bioavailability, onset, weight_based and infusion entry names a source and confidence."""
    for route in Route:
        info = route.info
        for param in (info.onset, info.weight_based, info.infusion):
            assert param.source
            assert isinstance(param.confidence, Confidence)
        for bio in (info.bioavailability, *info.by_medication.values()):
            if bio is not None:
                assert bio.source
                assert isinstance(bio.confidence, Confidence)


def test_bioavailability_ranges_from_clinical() -> None:
    """Bioavailability ranges are those of CLINICAL.md §1 (IV 100 %, oral 20-25 %, ...)."""
    found = {
        r: (format_quantity(b.low), format_quantity(b.high))
        for r in Route
        if (b := r.bioavailability) is not None
    }
    assert {
        Route.INTRAVENOUS: ("100 %", "100 %"),
        Route.INTRAMUSCULAR: ("93 %", "93 %"),
        Route.SUBLINGUAL: ("27 %", "32 %"),
        Route.BUCCAL: ("27 %", "32 %"),
        Route.ORAL: ("20 %", "25 %"),
        Route.INTRANASAL: ("35 %", "50 %"),
    } == found


def test_subcutaneous_bioavailability_is_unknown() -> None:
    """Subcutaneous bioavailability is not established in the sources, so none is given."""
    assert Route.SUBCUTANEOUS.bioavailability_for(Medication.KETAMINE) is None


def test_esketamine_intranasal_bioavailability() -> None:
    """Esketamine intranasal uses the Spravato PI's 48 %, racemic ketamine the route's range."""
    esk = Route.INTRANASAL.bioavailability_for(Medication.ESKETAMINE)
    assert esk is not None
    assert ("48 %", "48 %") == (format_quantity(esk.low), format_quantity(esk.high))
    assert Route.INTRANASAL.bioavailability == Route.INTRANASAL.bioavailability_for(
        Medication.KETAMINE
    )


def test_weight_based_defaults() -> None:
    """IV, IM and SC are weight-based by default; oral, SL, buccal and intranasal are not."""
    assert {Route.INTRAVENOUS, Route.INTRAMUSCULAR, Route.SUBCUTANEOUS} == {
        r for r in Route if r.weight_based
    }


def test_only_intravenous_is_an_infusion() -> None:
    """The reference data gives IV as the one route whose doses run from start to end."""
    assert {Route.INTRAVENOUS} == {r for r in Route if r.infusion}


def test_formulation_routes() -> None:
    """Troches and RDTs go sublingually or buccally, the nasal device only intranasally."""
    assert frozenset({Route.SUBLINGUAL, Route.BUCCAL}) == Formulation.TROCHE.routes
    assert Formulation.RAPID_DISSOLVE_TABLET.routes == Formulation.TROCHE.routes
    assert frozenset({Route.INTRANASAL}) == Formulation.NASAL_SPRAY_DEVICE.routes
    assert frozenset({Route.ORAL}) == Formulation.ORAL_SOLUTION.routes
    assert not Formulation.TROCHE.allows(Route.INTRAVENOUS)
    assert Formulation.SOLUTION_FOR_INJECTION.allows(Route.INTRAVENOUS)


def test_every_formulation_has_a_route_and_a_basis_source() -> None:
    """Each formulation lists its routes with a source and its labelled basis with a source."""
    for formulation in Formulation:
        assert formulation.routes
        assert formulation.info.routes_source
        assert formulation.info.basis.source


def test_labelled_basis() -> None:
    """Injection strengths are labelled as base (Ketalar PI); compounded forms default to HCl."""
    assert Basis.BASE == Formulation.SOLUTION_FOR_INJECTION.basis
    assert Basis.HYDROCHLORIDE == Formulation.TROCHE.basis
    assert Confidence.DESIGN == Formulation.TROCHE.info.basis.confidence


def test_device_amount() -> None:
    """An esketamine nasal device holds 28 mg (Spravato PI §2); other forms are not devices."""
    device = Formulation.NASAL_SPRAY_DEVICE.device_amount(Medication.ESKETAMINE)
    assert device is not None
    assert "28 mg" == format_quantity(device.value)
    assert Confidence.C == device.confidence
    assert Formulation.NASAL_SPRAY_DEVICE.device_amount(Medication.KETAMINE) is None
    assert Formulation.TROCHE.device_amount(Medication.ESKETAMINE) is None


def test_medication_codes_only_confirmed() -> None:
    """Ketamine has SNOMED 373464007; no RxNorm code is listed, since none is confirmed."""
    assert Medication.KETAMINE.snomed is not None
    assert "373464007" == Medication.KETAMINE.snomed.code
    assert Medication.KETAMINE.rxnorm is None
    assert Medication.ESKETAMINE.rxnorm is None
    assert () == Medication.ESKETAMINE.codings
    assert all(c.system != RXNORM for m in Medication for c in m.codings)


def test_medication_display() -> None:
    """Each medication has a display name."""
    assert "Ketamine (racemic)" == Medication.KETAMINE.display
    assert "Esketamine" == Medication.ESKETAMINE.display


def test_data_files_cover_every_member_and_nothing_else() -> None:
    """The data files have exactly one entry per enum member."""
    assert {r.value for r in Route} == set(load_data("routes.toml")["routes"])
    assert {f.value for f in Formulation} == set(load_data("formulations.toml")["formulations"])
    assert {m.value for m in Medication} == set(load_data("medications.toml")["medications"])


def test_broken_data_reports_every_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    """A data file with a missing entry, an unsourced number and a guessed code lists all three."""
    import kapproto._route_data as routes

    real = routes.load_data

    def fake(name: str) -> dict[str, object]:
        data = real(name)
        if name == "routes.toml":
            entries = dict(data["routes"])
            del entries["oral"]
            entries["buccal"] = {**entries["buccal"], "onset": {"value": "x", "confidence": "C"}}
            entries["intravenous"] = {
                **entries["intravenous"],
                "snomed": {"code": "1", "display": "x", "source": "guess", "confidence": "S"},
            }
            return {"routes": entries}
        return data

    monkeypatch.setattr(routes, "load_data", fake)
    _tables.cache_clear()
    try:
        with pytest.raises(ValidationError) as info:
            _tables()
    finally:
        _tables.cache_clear()
    paths = [p for p, _ in info.value.problems]
    assert ["$.routes.oral", "$.routes.intravenous.snomed", "$.routes.buccal.onset"] == paths


def test_coerce_enum_accepts_value_string() -> None:
    """A member's value string is accepted where a member is expected."""
    assert Route.ORAL == coerce_enum(Route, "oral", "route")
    assert Route.ORAL == coerce_enum(Route, Route.ORAL, "route")


@pytest.mark.parametrize("bad", ["iv", "ORAL", 3, None, Formulation.TROCHE])
def test_coerce_enum_refuses_others(bad: object) -> None:
    """Anything but a member or a member's value is a ValidationError naming the field."""
    with pytest.raises(ValidationError) as info:
        coerce_enum(Route, bad, "route")
    assert "$.route" == info.value.problems[0].path
    assert "is not a Route" in info.value.problems[0].message
