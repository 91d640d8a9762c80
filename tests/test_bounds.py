"""Tests of kapproto._bounds: dose bounds, limit rounding and physically possible weights."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto import DoseBound, KapprotoError, UnitError, ValidationError, quantity
from kapproto._bounds import check_weight, physical_limits, round_to
from kapproto.testing import quantities
from kapproto.units import KINDS, MASS


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


@pytest.mark.parametrize("magnitude", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weight_refused(magnitude: float) -> None:
    """A NaN or infinite weight is a UnitError at $.weight."""
    with pytest.raises(UnitError) as info:
        check_weight(quantity(1, "kg") * magnitude)
    assert "$.weight" == info.value.problems[0].path


@given(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["kg", "lb", "g", "mg"]))
def test_any_weight_checked_or_refused(magnitude: float, unit: str) -> None:
    """Any weight either lies in 1-700 kg or raises a KapprotoError; nothing is clamped."""
    try:
        checked = check_weight(quantity(1, unit) * magnitude)
    except KapprotoError:
        return
    assert 1 <= checked.magnitude <= 700
