"""Tests of kapproto._dosing: administrations, dose specs and dose arithmetic."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import sys
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kapproto import (
    Administration,
    Basis,
    DoseBound,
    DoseSpec,
    ExposureEstimate,
    Formulation,
    KapprotoError,
    Medication,
    Route,
    UnitError,
    UnknownReferenceError,
    ValidationError,
    format_quantity,
    from_dict,
    from_json,
    infusion_rate,
    iv_equivalent,
    quantity,
    to_dict,
    to_json,
    volume_for,
)
from kapproto.testing import administrations, dose_specs, json_values
from kapproto.units import DOSE_PER_BODY_MASS, MASS, VOLUME

START = dt.datetime.fromisoformat("2026-03-02T09:10:00-07:00")

DESIGN_JSON: dict[str, Any] = {
    "id": "a1",
    "medication": "ketamine",
    "route": "intramuscular",
    "formulation": "solution_for_injection",
    "basis": "base",
    "amount": {"value": 40, "unit": "mg"},
    "start": "2026-03-02T09:10:00-07:00",
    "concentration": {"value": 100, "unit": "mg/mL"},
}


def im(**changes: Any) -> Administration:
    fields: dict[str, Any] = {
        "id": "a1",
        "medication": Medication.KETAMINE,
        "route": Route.INTRAMUSCULAR,
        "formulation": Formulation.SOLUTION_FOR_INJECTION,
        "amount": quantity("40 mg"),
        "start": START,
        "concentration": quantity("100 mg/mL"),
    }
    fields.update(changes)
    return Administration(**fields)


def problem(exc: pytest.ExceptionInfo[KapprotoError]) -> tuple[str, str]:
    (found,) = exc.value.problems
    return found.path, found.message


# --------------------------------------------------------------------------
# Administration
# --------------------------------------------------------------------------


def test_administration_json_is_design_shape() -> None:
    """An administration serializes exactly in DESIGN.md's shape, optional fields left out."""
    assert DESIGN_JSON == to_dict(im())


def test_administration_from_design_json() -> None:
    """DESIGN.md's administration JSON reads back as the same record."""
    assert im() == from_json(json.dumps(DESIGN_JSON), Administration)


def test_basis_defaults_from_formulation() -> None:
    """Without a basis, the record takes the basis its formulation is labelled as."""
    data = {k: v for k, v in DESIGN_JSON.items() if k != "basis"}
    data["formulation"] = "troche"
    data["route"] = "sublingual"
    del data["concentration"]
    assert Basis.HYDROCHLORIDE == from_dict(data, Administration).basis
    assert Basis.BASE == im().basis


def test_explicit_basis_is_kept() -> None:
    """A basis given explicitly overrides the formulation's label."""
    assert Basis.HYDROCHLORIDE == im(basis="hydrochloride").basis


def test_all_optional_fields_round_trip() -> None:
    """Every optional field survives a JSON round trip."""
    record = im(
        route=Route.INTRAVENOUS,
        end=START + dt.timedelta(minutes=40),
        volume=quantity("0.4 mL"),
        site="left antecubital",
        lot="L123",
        administered_by="nurse",
    )
    assert record == from_json(to_json(record), Administration)
    assert {"end", "volume", "site", "lot", "administered_by"} <= set(to_dict(record))


def test_rate_is_derived_not_stored() -> None:
    """An infusion's rate is amount / duration in mg/min and is not part of the JSON."""
    record = im(route=Route.INTRAVENOUS, end=START + dt.timedelta(minutes=40))
    assert record.rate is not None
    assert 1.0 == pytest.approx(record.rate.magnitude)
    assert "milligram / minute" == str(record.rate.units)
    assert 40.0 == pytest.approx(record.duration.magnitude)  # type: ignore[union-attr]
    assert "rate" not in to_dict(record)


def test_rate_is_none_without_duration() -> None:
    """Without an end, or with end equal to start, there is no rate."""
    assert im().rate is None
    assert im().duration is None
    assert im(end=START).rate is None


def test_enum_strings_accepted_from_python() -> None:
    """Enum fields take the member's value string as well as the member."""
    assert im() == im(medication="ketamine", route="intramuscular")


def test_clinically_wrong_is_kept() -> None:
    """A troche by the IV route and 70 mg from nasal devices are stored as recorded."""
    troche = im(formulation=Formulation.TROCHE, route=Route.INTRAVENOUS, concentration=None)
    assert Route.INTRAVENOUS == troche.route
    nasal = im(
        medication=Medication.ESKETAMINE,
        route=Route.INTRANASAL,
        formulation=Formulation.NASAL_SPRAY_DEVICE,
        amount=quantity("70 mg"),
        concentration=None,
    )
    assert "70 mg" == f"{nasal.amount.magnitude:g} mg"


def test_end_before_start_refused() -> None:
    """An infusion ending before it starts is a ValidationError at $.end."""
    with pytest.raises(ValidationError) as info:
        im(end=START - dt.timedelta(minutes=1))
    path, message = problem(info)
    assert "$.end" == path
    assert "is before start" in message


def test_a_rate_beyond_the_float_range_is_none_not_infinity() -> None:
    """A rate a float cannot hold is None, so it never reaches JSON or FHIR as Infinity."""
    huge = im(amount=quantity(1.7e308, "mg"), end=START + dt.timedelta(seconds=1))
    assert huge.rate is None
    finite = im(amount=quantity(1e300, "mg"), end=START + dt.timedelta(seconds=1))
    assert finite.rate is not None
    assert finite.rate.magnitude == pytest.approx(6e301)


@pytest.mark.parametrize("field", ["start", "end"])
def test_naive_time_refused(field: str) -> None:
    """A naive start or end is a ValidationError naming the field."""
    with pytest.raises(ValidationError) as info:
        im(**{field: START.replace(tzinfo=None)})
    path, message = problem(info)
    assert f"$.{field}" == path
    assert "naive" in message


def test_naive_time_refused_from_json() -> None:
    """A naive start in JSON is a ValidationError at $.start."""
    with pytest.raises(ValidationError) as info:
        from_dict({**DESIGN_JSON, "start": "2026-03-02T09:10:00"}, Administration)
    assert "$.start" == problem(info)[0]


@pytest.mark.parametrize("amount", ["0 mg", "-40 mg"])
def test_non_positive_amount_refused(amount: str) -> None:
    """A zero or negative amount is a ValidationError at $.amount."""
    with pytest.raises(ValidationError) as info:
        im(amount=quantity(amount))
    path, message = problem(info)
    assert "$.amount" == path
    assert "greater than zero" in message


@pytest.mark.parametrize("amount", [math.nan, math.inf, -math.inf])
def test_non_finite_amount_refused(amount: float) -> None:
    """A NaN or infinite amount is a UnitError at $.amount."""
    with pytest.raises(UnitError) as info:
        im(amount=quantity(1, "mg") * amount)
    assert "$.amount" == problem(info)[0]


@pytest.mark.parametrize("amount", [40, "40", "0.5 mg/kg", "40 mL"])
def test_amount_must_be_a_mass(amount: object) -> None:
    """A bare number, a string without unit, a dose per body mass or a volume is refused."""
    with pytest.raises(UnitError) as info:
        im(amount=amount)
    assert info.value.problems[0].path in {"$", "$.amount"}


@pytest.mark.parametrize(
    "amount", [40, "40", {"value": 0.5, "unit": "mg/kg"}, {"value": "NaN", "unit": "mg"}]
)
def test_amount_must_be_a_mass_from_json(amount: object) -> None:
    """In JSON too, an amount that is not a finite MASS is refused with its path."""
    with pytest.raises(ValidationError) as info:
        from_dict({**DESIGN_JSON, "amount": amount}, Administration)
    assert info.value.problems[0].path.startswith("$.amount")


def test_nan_json_refused() -> None:
    """NaN in JSON text is refused before any record is built."""
    text = json.dumps(DESIGN_JSON).replace('"value": 40', '"value": NaN')
    with pytest.raises(ValidationError):
        from_json(text, Administration)


def test_volume_inconsistent_refused() -> None:
    """4 mL of 100 mg/mL is not 40 mg: a ValidationError at $.volume naming the values."""
    with pytest.raises(ValidationError) as info:
        im(volume=quantity("4 mL"))
    path, message = problem(info)
    assert "$.volume" == path
    assert "volume=4 mL does not match amount=40 mg at concentration=100 mg/mL" in message
    assert "0.4 mL" in message


def test_volume_within_tolerance_kept() -> None:
    """A volume within 5 % of amount / concentration is accepted (syringe graduations)."""
    assert 0.42 == im(volume=quantity("0.42 mL")).volume.magnitude  # type: ignore[union-attr]
    with pytest.raises(ValidationError):
        im(volume=quantity("0.43 mL"))


def test_volume_absolute_tolerance() -> None:
    """For a tiny volume the 0.01 mL absolute tolerance applies."""
    record = im(amount=quantity("1 mg"), volume=quantity("0.02 mL"))
    assert 0.02 == record.volume.magnitude  # type: ignore[union-attr]
    with pytest.raises(ValidationError):
        im(amount=quantity("1 mg"), volume=quantity("0.03 mL"))


@pytest.mark.parametrize("field", ["volume", "concentration"])
def test_non_positive_volume_or_concentration_refused(field: str) -> None:
    """A zero volume or concentration is a ValidationError naming the field."""
    unit = "mL" if field == "volume" else "mg/mL"
    with pytest.raises(ValidationError) as info:
        im(**{field: quantity(0, unit)})
    assert f"$.{field}" == problem(info)[0]


@pytest.mark.parametrize(("field", "value"), [("id", ""), ("id", 3), ("site", 5), ("lot", b"x")])
def test_text_fields_checked(field: str, value: object) -> None:
    """The id must be a non-empty string; site, lot and role strings or None."""
    with pytest.raises(ValidationError) as info:
        im(**{field: value})
    assert f"$.{field}" == problem(info)[0]


def test_unknown_key_refused() -> None:
    """An unknown key in JSON is a ValidationError naming it."""
    with pytest.raises(ValidationError) as info:
        from_dict({**DESIGN_JSON, "rate": {"value": 1, "unit": "mg/min"}}, Administration)
    assert "$.rate" == problem(info)[0]


def test_several_problems_reported_at_once() -> None:
    """A naive end and a negative volume are both reported."""
    with pytest.raises(ValidationError) as info:
        im(end=START.replace(tzinfo=None), volume=quantity("-1 mL"))
    assert {"$.end", "$.volume"} == {p for p, _ in info.value.problems}


# --------------------------------------------------------------------------
# DoseSpec and dose arithmetic
# --------------------------------------------------------------------------

KG = quantity("80 kg")


def test_dose_for_weight_based() -> None:
    """0.5 mg/kg at 80 kg is 40 mg."""
    assert "40 mg" == format_quantity(DoseSpec(quantity("0.5 mg/kg"), "intravenous").dose_for(KG))


def test_dose_for_rounds_half_even_to_tenth() -> None:
    """0.15 mg/kg at 41 kg is 6.15 mg, which rounds half-even to 6.2 mg."""
    spec = DoseSpec(quantity("0.15 mg/kg"), Route.INTRAMUSCULAR)
    assert 6.2 == spec.dose_for(quantity("41 kg")).magnitude
    assert 0.2 == DoseSpec(quantity("0.25 mg"), Route.ORAL).dose_for().magnitude


def test_dose_for_fixed_ignores_weight() -> None:
    """A fixed 200 mg spec gives 200 mg with or without a weight."""
    spec = DoseSpec(quantity("200 mg"), Route.SUBLINGUAL)
    assert not spec.weight_based
    assert 200.0 == spec.dose_for().magnitude
    assert 200.0 == spec.dose_for(KG).magnitude


def test_dose_for_accepts_weight_text() -> None:
    """A weight may be given as text with a unit."""
    assert 40.0 == DoseSpec("0.5 mg/kg", "intravenous").dose_for("80 kg").magnitude


def test_weight_based_spec_without_weight_raises() -> None:
    """A weight-based spec without a weight is a ValidationError at $.weight."""
    with pytest.raises(ValidationError) as info:
        DoseSpec(quantity("0.5 mg/kg"), Route.INTRAVENOUS).dose_for()
    path, message = problem(info)
    assert "$.weight" == path
    assert "needs the patient's weight" in message


@pytest.mark.parametrize("weight", [80, "80", quantity("0.5 mg/kg"), quantity("80 mL")])
def test_dose_for_refuses_non_weight(weight: object) -> None:
    """A bare number, a dose per body mass or a volume is not a weight: a UnitError."""
    with pytest.raises(UnitError) as info:
        DoseSpec(quantity("0.5 mg/kg"), Route.INTRAVENOUS).dose_for(weight)  # type: ignore[arg-type]
    assert info.value.problems[0].path in {"$", "$.weight"}


def test_dose_for_refuses_weight_in_mg() -> None:
    """80 mg is a mass, but as a body weight it is 0.00008 kg: refused at $.weight."""
    with pytest.raises(ValidationError) as info:
        DoseSpec(quantity("0.5 mg/kg"), Route.INTRAVENOUS).dose_for(quantity("80 mg"))
    assert "$.weight" == problem(info)[0]


@pytest.mark.parametrize("weight", ["800 kg", "0.5 kg"])
def test_dose_for_refuses_impossible_weight(weight: str) -> None:
    """800 kg and 0.5 kg are refused with the weight's path."""
    with pytest.raises(ValidationError) as info:
        DoseSpec(quantity("0.5 mg/kg"), Route.INTRAVENOUS).dose_for(quantity(weight))
    assert "$.weight" == problem(info)[0]


def test_dose_rounding_to_zero_refused() -> None:
    """A dose that would round to 0 mg is refused, never silently given as zero."""
    with pytest.raises(ValidationError) as info:
        DoseSpec(quantity("0.5 ug/kg"), Route.INTRAVENOUS).dose_for(quantity("70 kg"))
    assert "rounds to 0" in problem(info)[1]


@pytest.mark.parametrize("amount", [0.5, "0.5", quantity("40 mL"), quantity("1 mg/min"), None])
def test_spec_amount_must_be_mass_or_per_kg(amount: object) -> None:
    """A bare number, a string without unit or another kind is a UnitError at $.amount."""
    with pytest.raises(UnitError) as info:
        DoseSpec(amount, Route.INTRAVENOUS)  # type: ignore[arg-type]
    assert "$.amount" == info.value.problems[0].path


@pytest.mark.parametrize("amount", ["0 mg", "-0.5 mg/kg"])
def test_spec_amount_must_be_positive(amount: str) -> None:
    """A zero or negative amount is a ValidationError at $.amount."""
    with pytest.raises(ValidationError) as info:
        DoseSpec(quantity(amount), Route.INTRAVENOUS)
    assert "$.amount" == problem(info)[0]


@pytest.mark.parametrize("amount", [math.nan, math.inf])
def test_spec_amount_must_be_finite(amount: float) -> None:
    """NaN and infinite amounts are UnitErrors at $.amount."""
    with pytest.raises(UnitError) as info:
        DoseSpec(quantity(1, "mg/kg") * amount, Route.INTRAVENOUS)
    assert "$.amount" == info.value.problems[0].path


def test_spec_json_round_trip_and_shape() -> None:
    """A DoseSpec serializes as amount, route and medication, and reads back."""
    spec = DoseSpec(quantity("500 ug/kg"), Route.INTRAMUSCULAR)
    assert {
        "amount": {"value": 0.5, "unit": "mg/kg"},
        "route": "intramuscular",
        "medication": "ketamine",
    } == to_dict(spec)
    assert spec == from_json(to_json(spec), DoseSpec)
    assert spec == from_dict({"amount": "0.5 mg/kg", "route": "intramuscular"}, DoseSpec)


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"amount": 0.5, "route": "oral"}, "$.amount"),
        ({"amount": {"value": 0.5}, "route": "oral"}, "$.amount"),
        ({"amount": {"value": "x", "unit": "mg"}, "route": "oral"}, "$.amount.value"),
        ({"amount": "5 mg", "route": "by mouth"}, "$.route"),
        ({"amount": "5 mg"}, "$.route"),
        ({"amount": "5 mg", "route": "oral", "rate": 1}, "$.rate"),
        ([1, 2], "$"),
    ],
)
def test_spec_bad_json(data: object, path: str) -> None:
    """Bad dose-spec JSON is a ValidationError with the offending path."""
    with pytest.raises(ValidationError) as info:
        from_dict(data, DoseSpec)
    assert path == info.value.problems[0].path


def test_volume_for() -> None:
    """40 mg at 100 mg/mL is 0.4 mL; 35 mg at 50 mg/mL is 0.7 mL."""
    assert 0.4 == volume_for(quantity("40 mg"), quantity("100 mg/mL")).magnitude
    assert 0.7 == volume_for("35 mg", "50 mg/mL").magnitude


def test_volume_for_refuses_per_kg() -> None:
    """volume_for needs a mass: a dose per body mass is a UnitError."""
    with pytest.raises(UnitError) as info:
        volume_for(quantity("0.5 mg/kg"), quantity("100 mg/mL"))
    assert "$.amount" == info.value.problems[0].path


@pytest.mark.parametrize(
    ("amount", "conc", "path"),
    [("0 mg", "10 mg/mL", "$.amount"), ("5 mg", "0 mg/mL", "$.concentration")],
)
def test_volume_for_refuses_zero(amount: str, conc: str, path: str) -> None:
    """A zero amount or concentration is a ValidationError naming it."""
    with pytest.raises(ValidationError) as info:
        volume_for(quantity(amount), quantity(conc))
    assert path == problem(info)[0]


def test_infusion_rate() -> None:
    """40 mg over 40 min is 1 mg/min; 35 mg over 40 min is 0.88 mg/min (half-even)."""
    assert 1.0 == infusion_rate(quantity("40 mg"), quantity("40 min")).magnitude
    assert 0.88 == infusion_rate(quantity("35 mg"), quantity("40 min")).magnitude
    assert 0.5 == infusion_rate(quantity("30 mg"), quantity("1 h")).magnitude


@pytest.mark.parametrize("duration", ["0 min", "-5 min"])
def test_infusion_rate_refuses_non_positive_duration(duration: str) -> None:
    """A zero or negative duration is a ValidationError at $.duration."""
    with pytest.raises(ValidationError) as info:
        infusion_rate(quantity("40 mg"), quantity(duration))
    assert "$.duration" == problem(info)[0]


def test_iv_equivalent_sublingual() -> None:
    """200 mg sublingual is an estimated 54-64 mg IV-equivalent, with its source."""
    est = iv_equivalent(quantity("200 mg"), Route.SUBLINGUAL)
    assert (54.0, 64.0) == (est.low.magnitude, est.high.magnitude)
    assert "Rolan 2014" in est.source
    assert "not a dose conversion" in str(est)


def test_iv_equivalent_esketamine() -> None:
    """84 mg esketamine intranasal is an estimated 40.3 mg at the PI's 48 %."""
    est = iv_equivalent(quantity("84 mg"), Route.INTRANASAL, Medication.ESKETAMINE)
    assert (40.3, 40.3) == (est.low.magnitude, est.high.magnitude)


def test_iv_equivalent_unknown_bioavailability() -> None:
    """Subcutaneous has no sourced bioavailability: no estimate, an UnknownReferenceError."""
    with pytest.raises(UnknownReferenceError) as info:
        iv_equivalent(quantity("40 mg"), Route.SUBCUTANEOUS)
    assert "$.route" == info.value.problems[0].path


def test_iv_equivalent_needs_mass() -> None:
    """A dose per body mass is refused: the estimate is of an amount given."""
    with pytest.raises(UnitError):
        iv_equivalent(quantity("0.5 mg/kg"), Route.INTRAMUSCULAR)


def test_exposure_estimate_round_trip() -> None:
    """An ExposureEstimate survives a JSON round trip."""
    est = iv_equivalent(quantity("100 mg"), Route.ORAL)
    assert est == from_json(to_json(est), ExposureEstimate)


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

# (dose unit, factor to mg/kg, weight unit, factor to kg)
SPELLINGS = [
    ("mg/kg", 1.0, "kg", 1.0),
    ("ug/kg", 1e-3, "g", 1e-3),
    ("mcg/kg", 1e-3, "kg", 1.0),
    ("mg/lb", 1 / 0.45359237, "lb", 0.45359237),
]


@given(
    st.sampled_from(SPELLINGS),
    st.floats(min_value=0.05, max_value=5),
    st.floats(min_value=3, max_value=300),
)
def test_dose_for_is_amount_times_weight_in_any_spelling(
    spelling: tuple[str, float, str, float], per_kg: float, kg: float
) -> None:
    """dose_for(w) equals amount x weight rounded to 0.1 mg, whatever units spell them."""
    dose_unit, dose_factor, weight_unit, weight_factor = spelling
    spec = DoseSpec(quantity(per_kg / dose_factor, dose_unit), Route.INTRAMUSCULAR)
    weight = quantity(kg / weight_factor, weight_unit)
    expected = MASS.round(quantity(per_kg * kg, "mg"))
    assert expected == MASS.round(spec.dose_for(weight))


@given(dose_specs(weight_based=True), st.floats(min_value=1, max_value=700))
def test_dose_for_matches_pint(spec: DoseSpec, kg: float) -> None:
    """dose_for equals pint's own (amount x weight).to(mg), rounded half-even to 0.1 mg."""
    weight = quantity(kg, "kg")
    expected = MASS.round((spec.amount * weight).to("mg"))
    assume(expected > 0)
    assert float(expected) == spec.dose_for(weight).magnitude


@given(dose_specs(weight_based=True))
def test_weight_based_without_weight_always_raises(spec: DoseSpec) -> None:
    """Every weight-based spec refuses to give a dose without a weight."""
    with pytest.raises(ValidationError):
        spec.dose_for()


@given(st.floats(min_value=0.001, max_value=1000, allow_subnormal=False))
def test_wrong_kind_always_raises(value: float) -> None:
    """A mass where a dose per body mass is required, the reverse, and a bare number all raise."""
    mass, per_kg = quantity(value, "mg"), quantity(value, "mg/kg")
    with pytest.raises(UnitError):
        DOSE_PER_BODY_MASS.check(mass)
    with pytest.raises(UnitError):
        DoseBound(per_body_mass=mass)
    with pytest.raises(UnitError):
        volume_for(per_kg, quantity("10 mg/mL"))
    with pytest.raises(UnitError):
        im(amount=per_kg)
    with pytest.raises(UnitError):
        iv_equivalent(per_kg, Route.ORAL)
    for bare in (value, str(value)):
        with pytest.raises(UnitError):
            DoseSpec(bare, Route.ORAL)  # type: ignore[arg-type]
        with pytest.raises(UnitError):
            volume_for(bare, quantity("10 mg/mL"))  # type: ignore[arg-type]
        with pytest.raises(UnitError):
            DoseSpec(per_kg, Route.ORAL).dose_for(bare)  # type: ignore[arg-type]


@given(
    st.floats(min_value=0.5, max_value=2000),
    st.floats(min_value=0.5, max_value=200),
)
def test_volume_times_concentration_is_dose(mg: float, mg_per_ml: float) -> None:
    """volume_for(dose, c) x c equals dose within half a 0.01 mL step times c."""
    dose, conc = quantity(mg, "mg"), quantity(mg_per_ml, "mg/mL")
    assume(mg / mg_per_ml >= 0.01)
    volume = volume_for(dose, conc)
    assert abs((volume * conc).to("mg").magnitude - mg) <= 0.005 * mg_per_ml + 1e-9
    assert VOLUME.round(volume) == Decimal(str(volume.magnitude)).quantize(Decimal("0.01"))


@given(administrations())
def test_administration_round_trip(record: Administration) -> None:
    """from_json(to_json(x)) == x for every generated administration."""
    assert record == from_json(to_json(record), Administration)


@given(dose_specs())
def test_dose_spec_round_trip(spec: DoseSpec) -> None:
    """from_json(to_json(x)) == x for every generated dose spec."""
    assert spec == from_json(to_json(spec), DoseSpec)


@given(json_values())
def test_arbitrary_json_raises_only_kapproto_errors(data: object) -> None:
    """Arbitrary JSON either builds an administration or raises a ValidationError."""
    for cls in (Administration, DoseSpec):
        with contextlib.suppress(KapprotoError):
            from_dict(data, cls)


@given(st.dictionaries(st.sampled_from(sorted(DESIGN_JSON)), json_values(max_leaves=3)))
def test_mutated_administration_json_raises_only_kapproto_errors(changes: dict[str, Any]) -> None:
    """DESIGN.md's administration with any fields replaced by junk raises only ValidationError."""
    with contextlib.suppress(KapprotoError):
        from_dict({**DESIGN_JSON, **changes}, Administration)


# --------------------------------------------------------------------------
# Any finite positive magnitude: a result, or a ValidationError saying why not
# --------------------------------------------------------------------------

FLOAT_MAX = sys.float_info.max
POSITIVE = st.floats(min_value=0, exclude_min=True, allow_infinity=False) | st.integers(min_value=1)


def built(magnitude: float, unit: str) -> Any:
    """``quantity(magnitude, unit)``, or ``None`` for an integer beyond the float range."""
    try:
        return quantity(magnitude, unit)
    except UnitError:
        assert isinstance(magnitude, int)
        assert magnitude > FLOAT_MAX
        return None


def exactly(x: float, y: float, *, divide: bool = False) -> Decimal:
    """``x * y`` or ``x / y`` of the floats' exact values, with ample precision."""
    with localcontext(prec=2000, Emax=MAX_EMAX, Emin=MIN_EMIN):
        a, b = Decimal(x), Decimal(y)
        return a / b if divide else a * b


def agrees(compute: Any, exact: Decimal, step: str) -> None:
    """``compute()`` is ``exact`` within 12 digits and half a step, or a ValidationError saying why."""
    half = Decimal(step) / 2
    try:
        got = compute()
    except ValidationError as exc:
        (found,) = exc.problems
        if "rounds to 0" in found.message:
            assert exact <= half * (1 + Decimal("1e-11"))
        else:
            assert "beyond the largest magnitude a quantity can hold" in found.message
            assert exact >= Decimal(FLOAT_MAX) * (1 - Decimal("1e-11"))
        return
    assert math.isfinite(got.magnitude)
    assert got.magnitude > 0
    assert abs(Decimal(repr(got.magnitude)) - exact) <= exact * Decimal("1e-11") + half


@given(POSITIVE, st.floats(min_value=1, max_value=700))
def test_dose_for_any_magnitude(magnitude: float, kg: float) -> None:
    """Any mg/kg x any possible weight is the product to 0.1 mg, or a ValidationError."""
    amount = built(magnitude, "mg/kg")
    if amount is not None:
        spec = DoseSpec(amount, Route.INTRAVENOUS)
        agrees(lambda: spec.dose_for(quantity(kg, "kg")), exactly(amount.magnitude, kg), "0.1")


@given(POSITIVE)
def test_fixed_dose_for_any_magnitude(magnitude: float) -> None:
    """Any fixed amount is itself to 0.1 mg (up to the largest float), or rounds to 0 mg."""
    amount = built(magnitude, "mg")
    if amount is not None:
        spec = DoseSpec(amount, Route.INTRAVENOUS)
        agrees(lambda: spec.dose_for(None), exactly(amount.magnitude, 1.0), "0.1")


@pytest.mark.parametrize(
    ("compute", "units", "step"),
    [(volume_for, ("mg", "mg/mL"), "0.01"), (infusion_rate, ("mg", "min"), "0.01")],
    ids=["volume_for", "infusion_rate"],
)
@given(POSITIVE, POSITIVE)
def test_quotients_any_magnitudes(
    compute: Any, units: tuple[str, str], step: str, mg: float, per: float
) -> None:
    """Any amount over any concentration or duration is the quotient to 0.01, or a ValidationError."""
    amount, divisor = built(mg, units[0]), built(per, units[1])
    if amount is not None and divisor is not None:
        exact = exactly(amount.magnitude, divisor.magnitude, divide=True)
        agrees(lambda: compute(amount, divisor), exact, step)


@given(POSITIVE, st.sampled_from([Route.INTRAVENOUS, Route.INTRAMUSCULAR, Route.SUBLINGUAL]))
def test_iv_equivalent_any_magnitude(mg: float, route: Route) -> None:
    """An exposure estimate of any amount is at most the amount, however large."""
    amount = built(mg, "mg")
    if amount is not None:
        est = iv_equivalent(amount, route)
        assert est.low.magnitude <= est.high.magnitude
        # each end is amount x bioavailability (at most 100 %), to 12 digits and 0.1 mg
        most = Decimal(amount.magnitude) * (1 + Decimal("1e-11")) + Decimal("0.05")
        assert Decimal(est.high.magnitude) <= most


@pytest.mark.parametrize(
    ("compute", "message"),
    [
        (
            lambda: DoseSpec(quantity("1e308 mg/kg"), Route.INTRAVENOUS).dose_for(
                quantity("80 kg")
            ),
            "dose=1e+308 mg/kg x 80 kg is 8.000e+309 mg, beyond the largest magnitude a "
            "quantity can hold (1.798e+308); it cannot be given as computed",
        ),
        (
            lambda: volume_for(quantity("1e308 mg"), quantity("0.5 mg/mL")),
            "volume=1e+308 mg / 0.5 mg/mL is 2.000e+308 mL, beyond the largest magnitude a "
            "quantity can hold (1.798e+308); it cannot be given as computed",
        ),
        (
            lambda: infusion_rate(quantity("40 mg"), quantity("1e-307 min")),
            "rate=40 mg / 1e-307 min is 4.000e+308 mg/min, beyond the largest magnitude a "
            "quantity can hold (1.798e+308); it cannot be given as computed",
        ),
    ],
)
def test_results_beyond_the_float_range_refused(compute: Any, message: str) -> None:
    """A computed dose, volume or rate too large for a float is a ValidationError that says so."""
    with pytest.raises(ValidationError) as info:
        compute()
    assert ("$", message) == problem(info)


def test_largest_fixed_dose_is_kept() -> None:
    """1e308 mg as a fixed dose is 1e308 mg (a record of it is then checked, and flagged)."""
    spec = DoseSpec(quantity("1e308 mg"), Route.INTRAVENOUS)
    assert 1e308 == spec.dose_for(quantity("80 kg")).magnitude
