"""Tests of kapproto._dosing: administrations, dose specs and dose arithmetic."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest

from kapproto import (
    Administration,
    Basis,
    Formulation,
    KapprotoError,
    Medication,
    Route,
    UnitError,
    ValidationError,
    from_dict,
    from_json,
    quantity,
    to_dict,
    to_json,
)
from kapproto._dosing import check_weight, physical_limits

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
# Weight
# --------------------------------------------------------------------------


def test_weight_range_from_data() -> None:
    """The physically possible weight range is 1 kg to 700 kg (data/dosing.toml)."""
    limits = physical_limits()
    assert (1.0, 700.0) == (limits.weight_min.magnitude, limits.weight_max.magnitude)


@pytest.mark.parametrize("weight", ["800 kg", "0.5 kg", "0 kg", "-70 kg", "2000 lb"])
def test_impossible_weight_refused(weight: str) -> None:
    """A weight outside 1-700 kg is a ValidationError at $.weight."""
    with pytest.raises(ValidationError) as info:
        check_weight(quantity(weight))
    path, message = problem(info)
    assert "$.weight" == path
    assert "physically possible range 1 kg to 700 kg" in message


@pytest.mark.parametrize("weight", [80, "80", "80 mg/kg", "80 mL"])
def test_weight_must_be_a_body_mass(weight: object) -> None:
    """A bare number or another kind is a UnitError naming the weight."""
    with pytest.raises(UnitError):
        check_weight(weight)


def test_weight_in_pounds() -> None:
    """176 lb is about 79.8 kg."""
    assert 79.83 == pytest.approx(check_weight(quantity("176 lb")).magnitude, abs=0.01)
