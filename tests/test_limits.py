"""Tests of kapproto._limits: dose bounds, [[doses]] entries and physical limits."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto import (
    DoseBound,
    DoseLimits,
    Formulation,
    KapprotoError,
    Medication,
    ProtocolError,
    Route,
    UnitError,
    ValidationError,
    from_dict,
    from_json,
    quantity,
    to_dict,
    to_json,
)
from kapproto._data import load_data
from kapproto._limits import check_weight, physical_limits, round_to
from kapproto._params import Confidence
from kapproto.testing import dose_limits, json_values, quantities
from kapproto.units import KINDS, MASS

ESKETAMINE_TRD: dict[str, Any] = {
    "medication": "esketamine",
    "route": "intranasal",
    "formulations": ["nasal_spray_device"],
    "device_amount": "28 mg",
    "max_devices": 3,
    "device_spacing": {"value": "5 min", "source": "Spravato PI §2", "confidence": "C"},
    "session_max": {"value": "84 mg", "source": "Spravato PI §2", "confidence": "C"},
    "first_session_max": {"value": "56 mg", "source": "Spravato PI §2", "confidence": "C"},
}


def problem(exc: pytest.ExceptionInfo[KapprotoError]) -> tuple[str, str]:
    (found,) = exc.value.problems
    return found.path, found.message


# --------------------------------------------------------------------------
# DoseBound
# --------------------------------------------------------------------------


def test_bound_of_tells_parts_apart() -> None:
    """DoseBound.of puts a mass in `fixed` and a dose per body mass in `per_body_mass`."""
    bound = DoseBound.of("0.5 mg/kg", "40 mg")
    assert (40.0, 0.5) == (bound.fixed.magnitude, bound.per_body_mass.magnitude)  # type: ignore[union-attr]
    assert not bound.is_rate
    assert MASS == bound.kind


def test_bound_lower_applies_for_max() -> None:
    """With 40 mg and 0.5 mg/kg, 70 kg gives 35 mg and 100 kg gives 40 mg as the maximum."""
    bound = DoseBound.of("40 mg", "0.5 mg/kg")
    assert (Decimal("40.0"), Decimal("35.0")) == bound.limits(weight=70.0)
    assert bound.verdict(Decimal("35.1"), weight=70.0, upper=True)
    assert not bound.verdict(Decimal("35.0"), weight=70.0, upper=True)
    assert not bound.verdict(Decimal("40.0"), weight=100.0, upper=True)
    assert bound.verdict(Decimal("40.1"), weight=100.0, upper=True)


def test_bound_higher_applies_for_min() -> None:
    """For a minimum every part must hold: the higher of 10 mg and 0.25 mg/kg at 80 kg (20 mg)."""
    bound = DoseBound.of("10 mg", "0.25 mg/kg")
    assert bound.verdict(Decimal("19.9"), weight=80.0, upper=False)
    assert not bound.verdict(Decimal("20.0"), weight=80.0, upper=False)


def test_bound_without_weight() -> None:
    """Without a weight a per-kg part is unknown, unless the fixed part already fails."""
    bound = DoseBound.of("40 mg", "0.5 mg/kg")
    assert bound.limits(weight=None) is None
    assert bound.verdict(Decimal("30"), weight=None, upper=True) is None
    assert bound.verdict(Decimal("40.1"), weight=None, upper=True) is True
    assert DoseBound.of("40 mg").verdict(Decimal("30"), weight=None, upper=True) is False


def test_rate_bound_per_kg() -> None:
    """0.6 mg/kg/h at 50 kg is 30 mg/h, i.e. 0.5 mg/min."""
    bound = DoseBound.of("0.6 mg/kg/h")
    assert bound.is_rate
    assert (Decimal("0.50"),) == bound.limits(weight=50.0)
    assert "0.6 mg/kg/h (0.5 mg/min at 50 kg)" == bound.describe(weight=50.0)


def test_bound_describe() -> None:
    """A bound reads as its parts, with the per-kg part resolved at the weight."""
    assert "40 mg or 0.5 mg/kg (35 mg at 70 kg)" == DoseBound.of("40 mg", "0.5 mg/kg").describe(
        weight=70.0
    )


@pytest.mark.parametrize(
    ("parts", "error"),
    [
        (("40 mg", "50 mg"), UnitError),
        (("40 mL",), UnitError),
        (("0.5 mg/kg", "1 mg/kg"), UnitError),
        ((), ValidationError),
    ],
)
def test_bound_of_refuses(parts: tuple[str, ...], error: type[KapprotoError]) -> None:
    """Two parts of one kind, a volume, or no part at all are refused."""
    with pytest.raises(error):
        DoseBound.of(*parts)


def test_bound_refuses_mixed_dose_and_rate() -> None:
    """A dose part and a rate part do not make one bound."""
    with pytest.raises(UnitError) as info:
        DoseBound(quantity("40 mg"), quantity("0.5 mg/kg/h"))
    assert "$.fixed" == info.value.problems[0].path


def test_bound_refuses_non_positive() -> None:
    """A zero or negative part is a ValidationError naming it."""
    with pytest.raises(ValidationError) as info:
        DoseBound(per_body_mass=quantity("0 mg/kg"))
    assert "$.per_body_mass" == problem(info)[0]


@given(st.sampled_from(KINDS).flatmap(lambda k: st.tuples(st.just(k), quantities(k))))
def test_round_to_equals_kind_round(pair: tuple[Any, Any]) -> None:
    """The fast round_to gives exactly what Kind.round gives."""
    kind, q = pair
    assert kind.round(q) == round_to(q.magnitude, kind)


# --------------------------------------------------------------------------
# DoseLimits.from_dict
# --------------------------------------------------------------------------


def test_from_dict_design_example() -> None:
    """DESIGN.md's esketamine entry reads with every value and source."""
    limits = DoseLimits.from_dict(ESKETAMINE_TRD, path="$.doses[0]")
    assert (Medication.ESKETAMINE, Route.INTRANASAL) == (limits.medication, limits.route)
    assert frozenset({Formulation.NASAL_SPRAY_DEVICE}) == limits.formulations
    assert limits.session_max is not None
    assert 84.0 == limits.session_max.value.fixed.magnitude  # type: ignore[union-attr]
    assert "Spravato PI §2" == limits.session_max.source
    assert Confidence.C == limits.session_max.confidence
    assert "session_max (Spravato PI §2)" == limits.session_max.cite("session_max")
    assert 3 == limits.max_devices.value  # type: ignore[union-attr]
    assert 5.0 == limits.device_spacing.value.magnitude  # type: ignore[union-attr]
    assert "" == limits.device_amount.source  # type: ignore[union-attr]
    assert limits.per_administration_max is None


def test_from_dict_both_forms() -> None:
    """A racemic bound may give a mass and a dose per body mass together."""
    limits = DoseLimits.from_dict(
        {
            "route": "intravenous",
            "per_administration_max": ["40 mg", "0.5 mg/kg"],
            "max_rate": "1 mg/min",
            "min": "0.1 mg/kg",
        }
    )
    assert Medication.KETAMINE == limits.medication
    assert DoseBound.of("40 mg", "0.5 mg/kg") == limits.per_administration_max.value  # type: ignore[union-attr]
    assert limits.max_rate.value.is_rate  # type: ignore[union-attr]


def test_from_dict_reports_every_problem() -> None:
    """Every problem of an entry is reported at once, each with its path."""
    with pytest.raises(ProtocolError) as info:
        DoseLimits.from_dict(
            {
                "route": "intravenenous",
                "session_max": "5 mL",
                "max_devices": 0,
                "device_spacing": {"value": "5 mg", "confidence": "X"},
                "formulations": ["lozenge"],
                "colour": "red",
            },
            path="$.doses[1]",
        )
    assert {
        "$.doses[1].colour",
        "$.doses[1].route",
        "$.doses[1].session_max",
        "$.doses[1].max_devices",
        "$.doses[1].device_spacing.value",
        "$.doses[1].device_spacing.confidence",
        "$.doses[1].formulations[0]",
    } == {p for p, _ in info.value.problems}


def test_from_dict_missing_route() -> None:
    """An entry without a route is refused."""
    with pytest.raises(ProtocolError) as info:
        DoseLimits.from_dict({"medication": "ketamine"})
    assert ("$.route", "required key is missing") == problem(info)


@pytest.mark.parametrize(
    ("entry", "path", "text"),
    [
        (
            {"route": "intravenous", "formulations": ["troche"]},
            "$.formulations",
            "cannot go by the intravenous route",
        ),
        (
            {"route": "intramuscular", "min": "50 mg", "per_administration_max": "40 mg"},
            "$.min",
            "above per_administration_max",
        ),
        ({"route": "intramuscular", "max_devices": 3}, "$.max_devices", "no device amount"),
        (
            {"route": "oral", "session_max": ["1 mg/kg", "2 mg/kg"]},
            "$.session_max[1]",
            "at most one",
        ),
        ({"route": "oral", "session_max": []}, "$.session_max", "one or two"),
        ({"route": "oral", "session_max": 84}, "$.session_max", "expected a quantity"),
        ({"route": "oral", "max_rate": "84 mg"}, "$.max_rate", "MASS_RATE"),
        ({"route": "oral", "device_amount": "0 mg"}, "$.device_amount", "greater than zero"),
        ({"route": "oral", "session_max": "84"}, "$.session_max", "no unit"),
    ],
)
def test_from_dict_inconsistent(entry: dict[str, Any], path: str, text: str) -> None:
    """Inconsistent or malformed entries are ProtocolErrors naming the key."""
    with pytest.raises(ProtocolError) as info:
        DoseLimits.from_dict(entry)
    found_path, message = info.value.problems[0]
    assert path == found_path
    assert text in message


@pytest.mark.parametrize("entry", [None, [], "doses", 3])
def test_from_dict_not_a_table(entry: object) -> None:
    """An entry that is not a table is a ProtocolError at its path."""
    with pytest.raises(ProtocolError) as info:
        DoseLimits.from_dict(entry, path="$.doses[0]")
    assert "$.doses[0]" == problem(info)[0]


def test_to_data_is_protocol_shape() -> None:
    """to_data writes the entry back in the protocol-file shape it was read from."""
    assert ESKETAMINE_TRD == DoseLimits.from_dict(ESKETAMINE_TRD).to_data()


def test_json_round_trip() -> None:
    """DoseLimits go through the serialization converter in protocol-file shape."""
    limits = DoseLimits.from_dict(ESKETAMINE_TRD)
    assert ESKETAMINE_TRD == to_dict(limits)
    assert limits == from_json(to_json(limits), DoseLimits)


def test_bad_json_is_validation_error() -> None:
    """Through from_dict, a bad entry is a ValidationError with the entry's paths."""
    with pytest.raises(ValidationError) as info:
        from_dict({"route": "oral", "session_max": "5 mL"}, DoseLimits)
    assert "$.session_max" == info.value.problems[0].path


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in resources.files("kapproto").joinpath("data", "protocols").iterdir()),
)
def test_builtin_protocol_entries_read(name: str) -> None:
    """Every [[doses]] entry of every built-in protocol reads and writes back unchanged."""
    entries = load_data("protocols", name)["doses"]
    for i, entry in enumerate(entries):
        limits = DoseLimits.from_dict(entry, path=f"$.doses[{i}]")
        assert limits == DoseLimits.from_dict(limits.to_data())


def test_device_amount_for_falls_back_to_data() -> None:
    """Without device_amount, the formulation's own 28 mg applies; non-devices have none."""
    limits = DoseLimits(medication=Medication.ESKETAMINE, route=Route.INTRANASAL)
    device = limits.device_amount_for(Formulation.NASAL_SPRAY_DEVICE)
    assert device is not None
    assert 28.0 == device.value.magnitude
    assert limits.device_amount_for(Formulation.SOLUTION_FOR_INJECTION) is None


@given(dose_limits())
def test_generated_limits_round_trip(limits: DoseLimits) -> None:
    """from_json(to_json(x)) == x, and from_dict(to_data()) == x, for generated entries."""
    assert limits == from_json(to_json(limits), DoseLimits)
    assert limits == DoseLimits.from_dict(limits.to_data())


@given(json_values())
def test_arbitrary_entries_raise_only_protocol_errors(entry: object) -> None:
    """Arbitrary JSON either reads as an entry or raises a ProtocolError."""
    with contextlib.suppress(ProtocolError):
        DoseLimits.from_dict(entry)


@given(
    st.fixed_dictionaries(
        {"route": st.just("oral")},
        optional={
            key: json_values(max_leaves=3)
            for key in ("session_max", "min", "max_devices", "device_spacing", "max_rate")
        },
    )
)
def test_junk_values_raise_only_protocol_errors(entry: dict[str, Any]) -> None:
    """Junk in any limit raises a ProtocolError, never another exception."""
    with contextlib.suppress(ProtocolError):
        DoseLimits.from_dict(entry)


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
