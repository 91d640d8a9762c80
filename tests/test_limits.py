"""Tests of kapproto._limits: dose bounds, [[doses]] entries and physical limits."""

from __future__ import annotations

import contextlib
import sys
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
    ValidationError,
    from_dict,
    from_json,
    quantity,
    to_dict,
    to_json,
)
from kapproto._data import load_data
from kapproto._params import Confidence, Parameter
from kapproto.testing import dose_limits, json_values

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
# Magnitudes: any finite one reads; a device amount must count at 0.1 mg
# --------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0.04 mg", "0.05 mg", "40 ug"])
def test_device_amount_rounding_to_zero_refused(amount: str) -> None:
    """A device amount that rounds to 0 mg (half-even, 0.1 mg) counts no dose: a ProtocolError."""
    entry = {**ESKETAMINE_TRD, "device_amount": amount}
    with pytest.raises(ProtocolError) as info:
        DoseLimits.from_dict(entry, path="$.doses[0]")
    path, message = problem(info)
    assert "$.doses[0].device_amount" == path
    assert "rounds to 0 mg at the 0.1 mg resolution" in message


def test_device_amount_rounding_to_zero_refused_from_python() -> None:
    """Built directly, a DoseLimits refuses the same device amount with a ValidationError."""
    with pytest.raises(ValidationError) as info:
        DoseLimits(
            medication=Medication.ESKETAMINE,
            route=Route.INTRANASAL,
            device_amount=Parameter(quantity("0.04 mg")),
        )
    assert "$.device_amount" == problem(info)[0]
    smallest = DoseLimits(
        medication=Medication.ESKETAMINE,
        route=Route.INTRANASAL,
        device_amount=Parameter(quantity("0.06 mg")),
    )
    assert 0.06 == smallest.device_amount.value.magnitude  # type: ignore[union-attr]


UNITS = {
    "per_administration_max": "mg/kg",
    "session_max": "mg",
    "first_session_max": "mg",
    "max_rate": "mg/min",
    "device_amount": "mg",
    "device_spacing": "min",
}


@given(
    st.sampled_from(sorted(UNITS)),
    st.floats(min_value=0, exclude_min=True, allow_infinity=False) | st.integers(min_value=1),
)
def test_any_positive_magnitude_reads(key: str, magnitude: float) -> None:
    """Any finite positive limit reads and round-trips, however large (1e308 mg included).

    Refused, as a ProtocolError: an integer beyond the float range, and a device
    amount that rounds to 0 mg.
    """
    entry = {"medication": "esketamine", "route": "intranasal", key: f"{magnitude} {UNITS[key]}"}
    try:
        limits = DoseLimits.from_dict(entry)
    except ProtocolError as exc:
        (found,) = exc.problems
        assert f"$.{key}" == found.path
        if isinstance(magnitude, int) and magnitude > sys.float_info.max:
            return
        assert "device_amount" == key
        assert Decimal(format(float(magnitude), ".12g")) <= Decimal("0.05")  # rounds to 0 mg
        return
    assert limits == DoseLimits.from_dict(limits.to_data())
    assert getattr(limits, key) is not None


def test_limits_built_in_python_hold_canonical_units() -> None:
    """device_spacing in hours is held in minutes; a bare number is refused, naming the field."""
    from kapproto import DoseLimits, Formulation, Medication, Route, UnitError, ValidationError
    from kapproto._params import Parameter
    from kapproto.units import get_registry

    def nasal(**changes: object) -> DoseLimits:
        fields: dict[str, object] = {
            "medication": Medication.ESKETAMINE,
            "route": Route.INTRANASAL,
            "formulations": frozenset({Formulation.NASAL_SPRAY_DEVICE}),
            "device_amount": Parameter(get_registry().Quantity(0.028, "gram")),
            "max_devices": Parameter(3),
        }
        fields.update(changes)
        return DoseLimits(**fields)  # type: ignore[arg-type]

    limits = nasal(device_spacing=Parameter(get_registry().Quantity(1, "hour")))
    assert limits.device_spacing is not None
    assert limits.device_amount is not None
    assert (60.0, "minute") == (
        limits.device_spacing.value.magnitude,
        str(limits.device_spacing.value.units),
    )
    assert (28.0, "milligram") == (
        limits.device_amount.value.magnitude,
        str(limits.device_amount.value.units),
    )
    with pytest.raises(UnitError) as err:
        nasal(device_spacing=Parameter(5))
    assert "$.device_spacing" in str(err.value)
    assert "bare number" in str(err.value)
    for bad in (0, 2.5, True):
        with pytest.raises(ValidationError) as info:
            nasal(max_devices=Parameter(bad))
        assert "$.max_devices" in str(info.value)
