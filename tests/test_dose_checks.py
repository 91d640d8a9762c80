"""Tests of kapproto._dose_checks: the dose.* findings of check_doses."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto import (
    Administration,
    DoseBound,
    DoseLimits,
    Formulation,
    Medication,
    Route,
    Severity,
    UnitError,
    ValidationError,
    check_dose_limits,
    check_doses,
    quantity,
)
from kapproto._data import load_data
from kapproto._dose_checks import NotEvaluable, first_session_unknown
from kapproto._params import Parameter
from kapproto.cli import main
from kapproto.testing import administrations, dose_limits

EXAMPLES = Path(__file__).parent.parent / "examples" / "sessions"
T0 = dt.datetime.fromisoformat("2026-03-02T09:10:00-07:00")
KG = quantity("80 kg")

# the built-in protocol's entry (Spravato PI §2: 28 mg devices, 3 at most, 5 min apart,
# 84 mg per session, 56 mg on day 1)
ESKETAMINE_TRD = DoseLimits.from_dict(
    load_data("protocols", "esketamine-trd.toml")["doses"][0], path="$.doses[0]"
)
IV = DoseLimits.from_dict(
    {
        "route": "intravenous",
        "per_administration_max": ["60 mg", "0.5 mg/kg"],
        "session_max": "1 mg/kg",
        "min": "0.1 mg/kg",
        "max_rate": {"value": "1.2 mg/kg/h", "source": "clinic SOP", "confidence": "design"},
    }
)


def given_(amount: Any, minutes: float = 0, **fields: Any) -> Administration:
    base: dict[str, Any] = {
        "id": f"a{minutes:g}",
        "medication": Medication.KETAMINE,
        "route": Route.INTRAVENOUS,
        "formulation": Formulation.SOLUTION_FOR_INJECTION,
        "amount": quantity(amount) if isinstance(amount, str) else amount,
        "start": T0 + dt.timedelta(minutes=minutes),
    }
    base.update(fields)
    return Administration(**base)


def device(minutes: float, amount: str = "28 mg") -> Administration:
    return given_(
        amount,
        minutes,
        medication=Medication.ESKETAMINE,
        route=Route.INTRANASAL,
        formulation=Formulation.NASAL_SPRAY_DEVICE,
    )


def codes(findings: Any) -> list[tuple[str, str]]:
    return [(f.code, f.path) for f in findings]


# --------------------------------------------------------------------------
# Esketamine devices
# --------------------------------------------------------------------------


def test_esketamine_56_mg_first_session_passes() -> None:
    """Two 28 mg devices 5 min apart on day 1 give no finding."""
    result = check_dose_limits(
        [device(0), device(5)], ESKETAMINE_TRD, weight=None, first_session=True
    )
    assert [] == codes(result.findings)
    assert () == result.not_evaluable


def test_esketamine_84_mg_first_session() -> None:
    """84 mg on day 1 is above the 56 mg first-session maximum, at the third device."""
    findings = check_doses(
        [device(0), device(5), device(10)], ESKETAMINE_TRD, weight=None, first_session=True
    )
    assert [("dose.above_first_session_max", "$.administrations[2]")] == codes(findings)
    assert findings[0].source.startswith("first_session_max (Spravato PI §2")
    assert "session total 84 mg is above first_session_max 56 mg" == findings[0].message


def test_esketamine_84_mg_later_session_passes() -> None:
    """84 mg in a later session is within the limits."""
    assert [] == check_doses(
        [device(0), device(5), device(10)], ESKETAMINE_TRD, weight=None, first_session=False
    )


def test_first_session_unknown_is_skipped() -> None:
    """Without a course (first_session=None) the first-session limit is not part of the check."""
    result = check_dose_limits(
        [device(0), device(5), device(10)], ESKETAMINE_TRD, weight=None, first_session=None
    )
    assert [] == codes(result.findings)
    assert () == result.not_evaluable


def test_four_devices() -> None:
    """112 mg is above the session maximum and over the three-device count."""
    findings = check_doses([device(5 * k) for k in range(4)], ESKETAMINE_TRD, weight=None)
    assert [
        ("dose.cumulative_above_max", "$.administrations[3]"),
        ("dose.device_multiple", "$.administrations[3]"),
    ] == codes(findings)


def test_70_mg_from_devices() -> None:
    """70 mg recorded from nasal devices is kept and reported as not whole devices."""
    findings = check_doses([device(0, "70 mg")], ESKETAMINE_TRD, weight=None)
    assert [("dose.device_multiple", "$.administrations[0]")] == codes(findings)
    assert "70 mg is not a whole number of 28 mg devices" == findings[0].message
    assert Severity.ERROR == findings[0].severity


def test_56_mg_as_one_record_is_whole() -> None:
    """Two devices recorded as one 56 mg administration are whole devices."""
    assert [] == check_doses([device(0, "56 mg")], ESKETAMINE_TRD, weight=None)


def test_device_spacing() -> None:
    """Devices 4 min apart are a warning at the later one; 5 min apart pass."""
    findings = check_doses([device(0), device(4), device(9)], ESKETAMINE_TRD, weight=None)
    assert [("dose.device_spacing", "$.administrations[1]")] == codes(findings)
    assert Severity.WARNING == findings[0].severity


def test_device_spacing_uses_time_order() -> None:
    """Spacing is measured in time order, whatever order the records are in."""
    assert [] == check_doses([device(10), device(0), device(5)], ESKETAMINE_TRD, weight=None)


def test_device_amount_defaults_from_formulation() -> None:
    """Without device_amount in the protocol the formulation's 28 mg applies."""
    limits = DoseLimits(medication=Medication.ESKETAMINE, route=Route.INTRANASAL)
    result = check_dose_limits([device(0, "30 mg")], limits, weight=None)
    assert [("dose.device_multiple", "$.administrations[0]")] == codes(result.findings)
    assert {"dose.max_devices", "dose.device_spacing"} <= set(result.not_configured)


# --------------------------------------------------------------------------
# Weight-based limits
# --------------------------------------------------------------------------


def test_per_kg_limit_at_limit_passes() -> None:
    """40 mg at 80 kg is exactly 0.5 mg/kg: no finding."""
    assert [] == check_doses([given_("40 mg")], IV, weight=KG)


def test_per_kg_limit_one_step_above_fails() -> None:
    """40.1 mg at 80 kg is above 0.5 mg/kg (40 mg)."""
    findings = check_doses([given_("40.1 mg")], IV, weight=KG)
    assert [("dose.above_max", "$.administrations[0]")] == codes(findings)
    assert "60 mg or 0.5 mg/kg (40 mg at 80 kg)" in findings[0].message


def test_design_rounding_example() -> None:
    """0.15 mg/kg x 41 kg is 6.15 mg, not above a 6.15 mg limit (DESIGN.md)."""
    limits = DoseLimits.from_dict({"route": "intramuscular", "per_administration_max": "6.15 mg"})
    amount = quantity(0.15 * 41, "mg")
    assert [] == check_doses([given_(amount, route=Route.INTRAMUSCULAR)], limits, weight=None)


def test_fixed_part_lower_at_high_weight() -> None:
    """At 150 kg, 0.5 mg/kg is 75 mg, so the 60 mg part applies."""
    assert ["dose.above_max"] == [
        f.code for f in check_doses([given_("61 mg")], IV, weight="150 kg")
    ]
    assert [] == check_doses([given_("60 mg")], IV, weight="150 kg")


def test_per_kg_without_weight_is_not_evaluable() -> None:
    """Without a weight a per-kg limit is not evaluable, never passed."""
    result = check_dose_limits([given_("30 mg")], IV, weight=None)
    assert [] == list(result.findings)
    checks = {(n.check, n.path) for n in result.not_evaluable}
    assert {
        ("dose.above_max", "$.weight"),
        ("dose.below_min", "$.weight"),
        ("dose.cumulative_above_max", "$.weight"),
        ("dose.rate_above_max", "$.administrations[0].end"),
    } == checks
    assert all(isinstance(n, NotEvaluable) and n.reason for n in result.not_evaluable)


def test_fixed_part_fails_without_weight() -> None:
    """Without a weight, a dose above the fixed part still fails."""
    result = check_dose_limits([given_("61 mg")], IV, weight=None)
    assert ["dose.above_max"] == [f.code for f in result.findings]


def test_below_min() -> None:
    """7.9 mg at 80 kg is below 0.1 mg/kg (8 mg); 8 mg passes."""
    assert ["dose.below_min"] == [f.code for f in check_doses([given_("7.9 mg")], IV, weight=KG)]
    assert [] == check_doses([given_("8 mg")], IV, weight=KG)


def test_cumulative() -> None:
    """Three 30 mg doses at 80 kg pass 0.5 mg/kg each but exceed 1 mg/kg (80 mg) in total."""
    findings = check_doses([given_("30 mg", k * 20) for k in range(3)], IV, weight=KG)
    assert [("dose.cumulative_above_max", "$.administrations[2]")] == codes(findings)


# --------------------------------------------------------------------------
# Infusion rate
# --------------------------------------------------------------------------


def test_rate_at_limit_passes() -> None:
    """40 mg over 25 min at 80 kg is 1.6 mg/min, exactly 1.2 mg/kg/h: no finding."""
    record = given_("40 mg", end=T0 + dt.timedelta(minutes=25))
    assert [] == check_doses([record], IV, weight=KG)


def test_rate_above_max() -> None:
    """40 mg over 20 min (2 mg/min) is above 1.2 mg/kg/h at 80 kg (1.6 mg/min)."""
    record = given_("40 mg", end=T0 + dt.timedelta(minutes=20))
    findings = check_doses([record], IV, weight=KG)
    assert [("dose.rate_above_max", "$.administrations[0]")] == codes(findings)
    assert "max_rate (clinic SOP)" == findings[0].source


def test_rate_without_end_is_not_evaluable() -> None:
    """An IV administration without an end has no rate: the rate check is not evaluable."""
    result = check_dose_limits([given_("40 mg")], IV, weight=KG)
    assert (("dose.rate_above_max", "$.administrations[0].end"),) == tuple(
        (n.check, n.path) for n in result.not_evaluable
    )


# --------------------------------------------------------------------------
# Routes, formulations, duplicates, basis
# --------------------------------------------------------------------------


def test_troche_by_iv() -> None:
    """A troche recorded by the IV route is a formulation/route mismatch and not allowed."""
    findings = check_doses([given_("40 mg", formulation=Formulation.TROCHE)], IV, weight=KG)
    assert {"dose.formulation_route_mismatch"} <= {f.code for f in findings}


def test_route_not_allowed() -> None:
    """An IM administration under an IV-only protocol is not allowed."""
    findings = check_doses([given_("40 mg", route=Route.INTRAMUSCULAR)], IV, weight=KG)
    assert [("dose.route_not_allowed", "$.administrations[0]")] == codes(findings)


def test_medication_not_allowed() -> None:
    """Esketamine under a racemic IV protocol is not allowed."""
    findings = check_doses([given_("40 mg", medication=Medication.ESKETAMINE)], IV, weight=KG)
    assert ["dose.route_not_allowed"] == [f.code for f in findings]


def test_formulation_not_allowed() -> None:
    """A formulation the entry does not list is reported."""
    limits = DoseLimits.from_dict({"route": "sublingual", "formulations": ["troche"]})
    record = given_("100 mg", route=Route.SUBLINGUAL, formulation=Formulation.RAPID_DISSOLVE_TABLET)
    assert ["dose.formulation_not_allowed"] == [
        f.code for f in check_doses([record], limits, weight=None)
    ]


def test_several_entries() -> None:
    """Each administration is checked against the entry for its route."""
    im = DoseLimits.from_dict({"route": "intramuscular", "per_administration_max": "0.75 mg/kg"})
    records = [
        given_("40 mg", end=T0 + dt.timedelta(minutes=40)),
        given_("61 mg", 50, route=Route.INTRAMUSCULAR),
    ]
    findings = check_doses(records, [IV, im], weight=KG)
    assert [("dose.above_max", "$.administrations[1]")] == codes(findings)


def test_duplicate_administration() -> None:
    """Two records with the same time, route and amount are a warning on the second."""
    records = [given_("40 mg", id="a"), given_("40 mg", id="b")]
    findings = check_doses(records, IV, weight=KG)
    assert ("dose.duplicate_administration", "$.administrations[1]") in codes(findings)
    assert Severity.WARNING == next(f.severity for f in findings if f.code.startswith("dose.dup"))


def test_same_instant_other_offset_is_duplicate() -> None:
    """The same instant written with another UTC offset is still the same time."""
    other = (T0).astimezone(dt.UTC)
    records = [given_("40 mg", id="a"), given_("40 mg", id="b", start=other)]
    assert "dose.duplicate_administration" in [f.code for f in check_doses(records, IV, weight=KG)]


def test_an_hour_apart_in_the_repeated_autumn_hour_is_not_duplicate() -> None:
    """01:20 MDT and 01:20 MST share a wall clock in one ZoneInfo but are an hour apart."""
    import zoneinfo

    denver = zoneinfo.ZoneInfo("America/Denver")
    first = dt.datetime(2026, 11, 1, 1, 20, tzinfo=denver)
    second = first.replace(fold=1)
    records = [given_("40 mg", id="a", start=first), given_("40 mg", id="b", start=second)]
    assert "dose.duplicate_administration" not in [
        f.code for f in check_doses(records, IV, weight=KG)
    ]


def test_hydrochloride_converted_to_base() -> None:
    """46.1 mg ketamine HCl is 40 mg base: at an injection's base-labelled 40 mg limit it passes."""
    limits = DoseLimits.from_dict({"route": "intramuscular", "per_administration_max": "40 mg"})
    salt = given_("46.1 mg", route=Route.INTRAMUSCULAR, basis="hydrochloride")
    assert [] == check_doses([salt], limits, weight=None)
    over = given_("46.3 mg", route=Route.INTRAMUSCULAR, basis="hydrochloride")
    assert ["dose.above_max"] == [f.code for f in check_doses([over], limits, weight=None)]


def test_limits_basis_overrides_label() -> None:
    """An entry stated in HCl compares a base-labelled dose converted to HCl."""
    limits = DoseLimits.from_dict(
        {"route": "intramuscular", "basis": "hydrochloride", "per_administration_max": "46 mg"}
    )
    base = given_("40 mg", route=Route.INTRAMUSCULAR)  # 46.1 mg HCl
    assert ["dose.above_max"] == [f.code for f in check_doses([base], limits, weight=None)]


def test_not_configured() -> None:
    """Limits an entry leaves unset are listed as not configured."""
    limits = DoseLimits.from_dict({"route": "intramuscular", "session_max": "100 mg"})
    result = check_dose_limits([given_("40 mg", route=Route.INTRAMUSCULAR)], limits, weight=KG)
    assert ("dose.per_administration_max", "dose.min") == result.not_configured


def test_no_administrations() -> None:
    """No administrations, nothing to find."""
    result = check_dose_limits([], IV, weight=None)
    assert ((), (), ()) == (result.findings, result.not_evaluable, result.not_configured)


@pytest.mark.parametrize(("weight", "error"), [("800 kg", ValidationError), (80, UnitError)])
def test_bad_weight(weight: object, error: type[Exception]) -> None:
    """An impossible weight or a bare number is refused before any check."""
    with pytest.raises(error):
        check_doses([given_("40 mg")], IV, weight=weight)


def test_check_doses_is_the_findings_of_check_dose_limits() -> None:
    """check_doses returns exactly DoseCheck.findings as a list."""
    records = [device(5 * k) for k in range(4)]
    assert list(check_dose_limits(records, ESKETAMINE_TRD, weight=None).findings) == check_doses(
        records, ESKETAMINE_TRD, weight=None
    )


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

bounds = st.one_of(
    st.floats(min_value=1, max_value=500).map(lambda v: DoseBound.of(quantity(round(v, 1), "mg"))),
    st.floats(min_value=0.01, max_value=5).map(lambda v: DoseBound.of(quantity(v, "mg/kg"))),
    st.tuples(st.floats(min_value=1, max_value=500), st.floats(min_value=0.01, max_value=5)).map(
        lambda p: DoseBound.of(quantity(p[0], "mg"), quantity(p[1], "mg/kg"))
    ),
)
weights = st.floats(min_value=1, max_value=700).map(lambda v: quantity(round(v, 1), "kg"))


def at_limit(bound: DoseBound, weight: Any, *, upper: bool) -> Decimal:
    found = bound.limits(weight=weight.magnitude)
    assert found is not None
    return min(found) if upper else max(found)


@given(bounds, weights, st.sampled_from(["per_administration_max", "session_max"]))
def test_dose_at_limit_passes_one_step_above_fails(
    bound: DoseBound, weight: Any, name: str
) -> None:
    """A dose exactly at a generated maximum never fails; one 0.1 mg step above always does."""
    limits = DoseLimits(route=Route.INTRAVENOUS, **{name: Parameter(bound)})
    limit = at_limit(bound, weight, upper=True)
    code = "dose.above_max" if name == "per_administration_max" else "dose.cumulative_above_max"
    if limit > 0:
        at = given_(quantity(float(limit), "mg"))
        assert code not in [f.code for f in check_doses([at], limits, weight=weight)]
    above = given_(quantity(float(limit + Decimal("0.1")), "mg"))
    assert code in [f.code for f in check_doses([above], limits, weight=weight)]


@given(bounds, weights)
def test_dose_at_min_passes_one_step_below_fails(bound: DoseBound, weight: Any) -> None:
    """A dose exactly at a generated minimum passes; one 0.1 mg step below fails."""
    limits = DoseLimits(route=Route.INTRAVENOUS, min=Parameter(bound))
    limit = at_limit(bound, weight, upper=False)
    at = given_(quantity(max(float(limit), 0.1), "mg"))
    assert "dose.below_min" not in [f.code for f in check_doses([at], limits, weight=weight)]
    if limit > Decimal("0.1"):
        below = given_(quantity(float(limit - Decimal("0.1")), "mg"))
        assert "dose.below_min" in [f.code for f in check_doses([below], limits, weight=weight)]


@given(
    st.lists(administrations(), max_size=5),
    st.lists(dose_limits(), max_size=3),
    st.none() | weights,
    st.sampled_from([True, False, None]),
)
def test_any_records_any_limits(
    records: list[Administration], entries: list[DoseLimits], weight: Any, first: bool | None
) -> None:
    """Any generated records and limits give catalogued dose findings with valid paths, never an error."""
    result = check_dose_limits(records, entries, weight=weight, first_session=first)
    for f in result.findings:
        assert f.code.startswith("dose.")
        assert f.path.startswith("$.administrations[")
    for n in result.not_evaluable:
        assert n.path == "$.weight" or n.path.endswith(".end")
    if weight is not None:
        assert all(n.path != "$.weight" for n in result.not_evaluable)


@given(st.lists(administrations(), min_size=1, max_size=4), weights)
def test_findings_do_not_depend_on_record_order(records: list[Administration], weight: Any) -> None:
    """Reversing the records changes paths, not which findings there are."""
    entries = [DoseLimits(route=r, session_max=Parameter(DoseBound.of("100 mg"))) for r in Route]
    forward = sorted(
        f.code
        for f in check_doses(records, entries, weight=weight)
        if f.code != "dose.duplicate_administration"
    )
    backward = sorted(
        f.code
        for f in check_doses(records[::-1], entries, weight=weight)
        if f.code != "dose.duplicate_administration"
    )
    assert forward == backward


# --------------------------------------------------------------------------
# Huge but finite magnitudes: a finding, never a decimal error
# --------------------------------------------------------------------------

IM = DoseLimits.from_dict({"route": "intramuscular", "per_administration_max": "0.75 mg/kg"})
FLOAT_MAX = sys.float_info.max


def mg(text: str) -> str:
    """A whole number of mg written out, as messages show it: ``mg("1e30")`` is 1 and 30 zeros."""
    return f"{Decimal(text):f}"


@pytest.mark.parametrize("amount", [1e27, 1e30, 1e308, FLOAT_MAX])
def test_huge_dose_is_above_max(amount: float) -> None:
    """1e27 mg and more (up to the largest float) is simply above 0.75 mg/kg at 80 kg."""
    findings = check_doses(
        [given_(quantity(amount, "mg"), route=Route.INTRAMUSCULAR)], IM, weight=KG
    )
    assert [("dose.above_max", "$.administrations[0]")] == codes(findings)
    shown = mg(format(amount, ".12g"))
    assert f"dose {shown} mg is above per_administration_max 0.75 mg/kg (60 mg at 80 kg)" == (
        findings[0].message
    )


def test_huge_dose_converted_beyond_the_float_range() -> None:
    """The largest float in mg base is above a limit stated in HCl, once converted (x 1.153...)."""
    limits = DoseLimits.from_dict(
        {"route": "intramuscular", "basis": "hydrochloride", "per_administration_max": "1e308 mg"}
    )
    findings = check_doses(
        [given_(quantity(FLOAT_MAX, "mg"), route=Route.INTRAMUSCULAR)], limits, weight=None
    )
    assert ["dose.above_max"] == [f.code for f in findings]
    assert findings[0].message.startswith("dose 207")  # 1.797e308 x 1.153 = 2.07e308 mg


def test_huge_session_total_is_exact() -> None:
    """1e30 mg then 0.1 mg is above a 1e30 mg session maximum: the 0.1 mg is not lost."""
    limits = DoseLimits.from_dict({"route": "intravenous", "session_max": "1e30 mg"})
    records = [given_("1e30 mg"), given_("0.1 mg", 5)]
    findings = check_doses(records, limits, weight=None)
    assert [("dose.cumulative_above_max", "$.administrations[1]")] == codes(findings)
    assert f"session total {mg('1e30')}.1 mg is above session_max {mg('1e30')} mg" == (
        findings[0].message
    )


def test_session_total_beyond_the_float_range() -> None:
    """Two doses of 1e308 mg total 2e308 mg, beyond any float, above a 1.5e308 mg maximum."""
    limits = DoseLimits.from_dict({"route": "intravenous", "session_max": "1.5e308 mg"})
    findings = check_doses([given_("1e308 mg"), given_("1e308 mg", 5)], limits, weight=None)
    assert [("dose.cumulative_above_max", "$.administrations[1]")] == codes(findings)
    assert findings[0].message.startswith(f"session total {mg('2e308')} mg is above")


def test_huge_rate_is_above_max_rate() -> None:
    """1e308 mg in one second is a rate beyond the float range: above max_rate, not an error."""
    record = given_("1e308 mg", end=T0 + dt.timedelta(seconds=1))
    findings = check_doses([record], IV, weight=KG)
    assert ("dose.rate_above_max", "$.administrations[0]") in codes(findings)
    rate = next(f for f in findings if f.code == "dose.rate_above_max")
    assert rate.message.startswith(f"rate {mg('6e309')} mg/min is above max_rate")


def test_rate_with_end_equal_to_start_is_not_evaluable() -> None:
    """An infusion whose end equals its start has no duration: the rate check says so."""
    result = check_dose_limits([given_("40 mg", end=T0)], IV, weight=KG)
    assert [
        NotEvaluable(
            "dose.rate_above_max",
            "$.administrations[0].end",
            "end equals start, so no infusion rate",
        )
    ] == [n for n in result.not_evaluable if n.check == "dose.rate_above_max"]


@pytest.mark.parametrize(
    ("amount", "whole"),
    [("1e30 mg", False), ("2.8e31 mg", True), ("28 mg", True), ("42 mg", False)],
)
def test_whole_devices_for_huge_amounts(amount: str, whole: bool) -> None:
    """1e30 mg is not a whole number of 28 mg devices (it has no factor 7); 2.8e31 mg is."""
    findings = check_doses([device(0, amount)], ESKETAMINE_TRD, weight=None)
    not_whole = [f for f in findings if "is not a whole number" in f.message]
    assert (not whole) == bool(not_whole)
    count = [f.message for f in findings if f.message.endswith("max_devices is 3")]
    huge = Decimal(amount.split()[0]) > 84
    assert huge == bool(count)
    if amount == "2.8e31 mg":
        assert [f"{mg('1e30')} devices in the session; max_devices is 3"] == count


@given(st.floats(min_value=0, exclude_min=True, allow_infinity=False) | st.integers(min_value=1))
def test_any_positive_amount_is_checked(magnitude: float) -> None:
    """Any finite positive amount is checked against 0.75 mg/kg (60 mg at 80 kg): a finding or none.

    Only an integer beyond the float range is refused, as a UnitError when the
    amount is built; nothing raises a decimal, overflow or other non-kapproto error.
    """
    try:
        amount = quantity(magnitude, "mg")
    except UnitError:
        assert isinstance(magnitude, int)
        assert magnitude > FLOAT_MAX
        return
    record = given_(amount, route=Route.INTRAMUSCULAR)
    for entries in (IM, ESKETAMINE_TRD, IV):
        result = check_dose_limits([record, record], entries, weight=KG, first_session=True)
        assert all(f.code.startswith("dose.") for f in result.findings)
    found = [f.code for f in check_doses([record], IM, weight=KG)]
    # above 60.05 mg it rounds (half-even, 0.1 mg) above 60 mg
    assert ("dose.above_max" in found) == (
        Decimal(format(amount.magnitude, ".12g")) > Decimal("60.05")
    )


def test_kapproto_check_on_a_huge_dose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`kapproto check` of a session with 1e308 mg reports dose.above_max and exits 1."""
    data = json.loads((EXAMPLES / "im-session.json").read_text())
    data["administrations"][0]["amount"] = {"value": 1e308, "unit": "mg"}
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(data))
    code = main(["check", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert (1, "") == (code, err)
    assert ["dose.above_max"] == [f["code"] for f in json.loads(out)["findings"]]


# --------------------------------------------------------------------------
# First session unknown
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("devices", "expected"),
    [
        (2, ()),
        (
            3,
            (
                NotEvaluable(
                    "dose.first_session_max",
                    "$.administrations",
                    "session total 84 mg is above first_session_max 56 mg; nobody said",
                ),
            ),
        ),
    ],
)
def test_first_session_unknown(devices: int, expected: tuple[NotEvaluable, ...]) -> None:
    """56 mg is within the first-session limit either way; 84 mg cannot be judged without knowing."""
    records = [device(5 * k) for k in range(devices)]
    assert expected == first_session_unknown(
        records, ESKETAMINE_TRD, weight=None, why="nobody said"
    )


def test_first_session_unknown_without_the_limit() -> None:
    """An entry without first_session_max leaves nothing unknown."""
    limits = DoseLimits.from_dict(
        {"medication": "esketamine", "route": "intranasal", "session_max": "84 mg"}
    )
    records = [device(5 * k) for k in range(3)]
    assert () == first_session_unknown(records, limits, weight=None, why="nobody said")
