"""Tests of kapproto._bounds: dose bounds, limit rounding and physically possible weights."""

from __future__ import annotations

import sys
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto import DoseBound, KapprotoError, UnitError, ValidationError, quantity
from kapproto._bounds import EXACT, check_weight, format_decimal, physical_limits, round_to
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


finite_floats = st.floats(allow_nan=False, allow_infinity=False)


@given(st.sampled_from(KINDS), finite_floats)
def test_round_to_any_finite_float(kind: Any, magnitude: float) -> None:
    """Every finite float rounds, to what Decimal arithmetic with ample precision gives."""
    with localcontext(prec=2000, Emax=MAX_EMAX, Emin=MIN_EMIN):
        expected = Decimal(format(magnitude, ".12g")).quantize(
            Decimal(kind.resolution), rounding=ROUND_HALF_EVEN
        )
    assert expected == round_to(magnitude, kind)


@pytest.mark.parametrize(
    ("magnitude", "digits"),
    [(1e27, 28), (1e30, 31), (1e308, 309), (sys.float_info.max, 309)],
)
def test_round_to_huge_magnitudes(magnitude: float, digits: int) -> None:
    """1e27 mg and above (where the default decimal context failed) round to whole 0.1 mg steps."""
    rounded = round_to(magnitude, MASS)
    assert -1 == rounded.as_tuple().exponent
    assert digits == len(format_decimal(rounded))
    assert Decimal(format(magnitude, ".12g")) == rounded


@given(finite_floats, finite_floats.filter(lambda f: f != 0), st.sampled_from(KINDS))
def test_round_to_product_and_quotient_beyond_floats(x: float, y: float, kind: Any) -> None:
    """Products x * y and quotients x / y round to within 12 digits and half a step of exact.

    Products and quotients beyond the float range are rounded too, exactly enough
    to compare with any limit.
    """
    step = Decimal(kind.resolution)
    with localcontext(prec=2000, Emax=MAX_EMAX, Emin=MIN_EMIN):
        exact_product = Decimal(x) * Decimal(y)
        exact_quotient = Decimal(x) / Decimal(y)
        for exact, got in (
            (exact_product, round_to(x, kind, y)),
            (exact_quotient, round_to(x, kind, per=y)),
        ):
            assert got.as_tuple().exponent == step.as_tuple().exponent
            assert abs(got - exact) <= abs(exact) * Decimal("1e-11") + step / 2


def test_round_to_product_beyond_floats_is_exact_to_12_digits() -> None:
    """1e308 mg/kg x 700 kg is 7e310 mg, beyond the float range, and rounds to exactly that."""
    assert Decimal("7e310") == round_to(1e308, MASS, 700.0)
    # 5e-324 is the smallest float, 4.94065645841e-324 exactly: not its repr
    assert Decimal("2.02402253307e623") == round_to(1e300, MASS, per=5e-324)


@pytest.mark.parametrize(
    ("magnitude", "factors", "per"),
    [
        (float("inf"), (), 1.0),
        (float("nan"), (), 1.0),
        (1.0, (float("inf"),), 1.0),
        (1.0, (), float("nan")),
        (1.0, (), 0.0),
    ],
)
def test_round_to_refuses_non_finite(
    magnitude: float, factors: tuple[float, ...], per: float
) -> None:
    """A NaN or infinite magnitude, factor or divisor, or a zero divisor, is a UnitError."""
    with pytest.raises(UnitError, match=r"must be finite|by zero"):
        round_to(magnitude, MASS, *factors, per=per)


def test_sums_of_rounded_doses_are_exact() -> None:
    """In EXACT, 1e30 mg + 0.1 mg keeps its 0.1 mg (the default 28-digit context drops it)."""
    total = EXACT.add(round_to(1e30, MASS), round_to(0.1, MASS))
    assert "1000000000000000000000000000000.1" == format_decimal(total)
    assert total > round_to(1e30, MASS)


def test_bound_of_huge_parts() -> None:
    """A 1e308 mg limit builds; a 1e308 mg/kg part resolves beyond the float range, exactly."""
    bound = DoseBound.of("1e308 mg", "1e308 mg/kg")
    assert (Decimal("1e308"), Decimal("7e310")) == bound.limits(weight=700.0)
    assert bound.verdict(round_to(sys.float_info.max, MASS), weight=700.0, upper=True)
    assert not bound.verdict(Decimal("1e308"), weight=700.0, upper=True)
    assert bound.describe(weight=700.0).endswith(f"(7{'0' * 310} mg at 700 kg)")


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
