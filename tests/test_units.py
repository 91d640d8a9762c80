"""Tests of kapproto.units: spellings, kinds, normalisation, rounding, formatting, the registry."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import textwrap
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from importlib import resources
from typing import Any

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kapproto import _unit_registry, units
from kapproto.exceptions import UnitError
from kapproto.testing import quantities
from kapproto.units import (
    BODY_MASS,
    CONCENTRATION,
    DOSE_PER_BODY_MASS,
    DOSE_RATE_PER_BODY_MASS,
    DURATION,
    FRACTION,
    FREQUENCY,
    KINDS,
    MASS,
    MASS_RATE,
    PRESSURE,
    UCUM_CODES,
    VOLUME,
    VOLUME_RATE,
    Kind,
    Mass,
    format_quantity,
    get_registry,
    kind_field,
    kind_of,
    parse_unit,
    quantity,
    to_ucum,
    use_registry,
)

LB = "0.45359237"  # kg per avoirdupois pound, exact by definition

# Every accepted spelling: (kind it is read as, UCUM code, exact factor to the kind's
# canonical unit as a decimal string, or None where the factor is not a finite decimal).
SPELLINGS: dict[str, tuple[Kind, str, str | None]] = {
    "ug": (MASS, "ug", "0.001"),
    "mcg": (MASS, "ug", "0.001"),
    "µg": (MASS, "ug", "0.001"),  # micro sign U+00B5
    "μg": (MASS, "ug", "0.001"),  # Greek mu U+03BC
    "mg": (MASS, "mg", "1"),
    "g": (MASS, "g", "1000"),
    "gram": (MASS, "g", "1000"),
    "grams": (MASS, "g", "1000"),
    "kg": (BODY_MASS, "kg", "1"),
    "[lb_av]": (BODY_MASS, "[lb_av]", LB),
    "lb": (BODY_MASS, "[lb_av]", LB),
    "lbs": (BODY_MASS, "[lb_av]", LB),
    "mL": (VOLUME, "mL", "1"),
    "ml": (VOLUME, "mL", "1"),
    "L": (VOLUME, "L", "1000"),
    "l": (VOLUME, "L", "1000"),
    "mg/kg": (DOSE_PER_BODY_MASS, "mg/kg", "1"),
    "ug/kg": (DOSE_PER_BODY_MASS, "ug/kg", "0.001"),
    "mcg/kg": (DOSE_PER_BODY_MASS, "ug/kg", "0.001"),
    "µg/kg": (DOSE_PER_BODY_MASS, "ug/kg", "0.001"),
    "mg/[lb_av]": (DOSE_PER_BODY_MASS, "mg/[lb_av]", None),
    "mg/lb": (DOSE_PER_BODY_MASS, "mg/[lb_av]", None),
    "mg/mL": (CONCENTRATION, "mg/mL", "1"),
    "mg/ml": (CONCENTRATION, "mg/mL", "1"),
    "mg/min": (MASS_RATE, "mg/min", "1"),
    "mg/h": (MASS_RATE, "mg/h", None),
    "mg/hr": (MASS_RATE, "mg/h", None),
    "mg/kg/h": (DOSE_RATE_PER_BODY_MASS, "mg/kg/h", "1"),
    "mg/kg/hr": (DOSE_RATE_PER_BODY_MASS, "mg/kg/h", "1"),
    "mL/h": (VOLUME_RATE, "mL/h", "1"),
    "ml/h": (VOLUME_RATE, "mL/h", "1"),
    "ml/hr": (VOLUME_RATE, "mL/h", "1"),
    "mL/hr": (VOLUME_RATE, "mL/h", "1"),
    "mm[Hg]": (PRESSURE, "mm[Hg]", "1"),
    "mmHg": (PRESSURE, "mm[Hg]", "1"),
    "mmhg": (PRESSURE, "mm[Hg]", "1"),
    "/min": (FREQUENCY, "/min", "1"),
    "bpm": (FREQUENCY, "/min", "1"),
    "1/min": (FREQUENCY, "/min", "1"),
    "min-1": (FREQUENCY, "/min", "1"),
    "/minute": (FREQUENCY, "/min", "1"),
    "%": (FRACTION, "%", "1"),
    "percent": (FRACTION, "%", "1"),
    "s": (DURATION, "s", None),
    "sec": (DURATION, "s", None),
    "min": (DURATION, "min", "1"),
    "mins": (DURATION, "min", "1"),
    "minute": (DURATION, "min", "1"),
    "minutes": (DURATION, "min", "1"),
    "h": (DURATION, "h", "60"),
    "hr": (DURATION, "h", "60"),
    "hrs": (DURATION, "h", "60"),
    "hour": (DURATION, "h", "60"),
    "hours": (DURATION, "h", "60"),
    "d": (DURATION, "d", "1440"),
    "day": (DURATION, "d", "1440"),
    "days": (DURATION, "d", "1440"),
    "wk": (DURATION, "wk", "10080"),
    "week": (DURATION, "wk", "10080"),
    "weeks": (DURATION, "wk", "10080"),
    "mo": (DURATION, "mo", "43830"),  # UCUM mean Julian month, 30.4375 d
    "month": (DURATION, "mo", "43830"),
    "months": (DURATION, "mo", "43830"),
    "a": (DURATION, "a", "525960"),  # UCUM Julian year, 365.25 d
    "year": (DURATION, "a", "525960"),
    "years": (DURATION, "a", "525960"),
}

# Factors that are not finite decimals, as fractions of the canonical unit.
INEXACT = {"mg/[lb_av]": 1 / float(LB), "mg/h": 1 / 60, "s": 1 / 60}

ACCEPTED = {
    # a dose is never in kg or lb: "40 kg" for a dose is a typo, not 40,000,000 mg
    "MASS": ("ug", "mg", "g"),
    "BODY_MASS": ("ug", "mg", "g", "kg", "[lb_av]"),
    "DOSE_PER_BODY_MASS": ("mg/kg", "ug/kg", "mg/[lb_av]"),
    "VOLUME": ("mL", "L"),
    "CONCENTRATION": ("mg/mL",),
    "DURATION": ("s", "min", "h", "d", "wk", "mo", "a"),
    "PRESSURE": ("mm[Hg]",),
    "FREQUENCY": ("/min",),
    "FRACTION": ("%",),
    "MASS_RATE": ("mg/min", "mg/h"),
    "DOSE_RATE_PER_BODY_MASS": ("mg/kg/h",),
    "VOLUME_RATE": ("mL/h",),
}

CANONICAL = {
    "MASS": "mg",
    "BODY_MASS": "kg",
    "DOSE_PER_BODY_MASS": "mg/kg",
    "VOLUME": "mL",
    "CONCENTRATION": "mg/mL",
    "DURATION": "min",
    "PRESSURE": "mm[Hg]",
    "FREQUENCY": "/min",
    "FRACTION": "%",
    "MASS_RATE": "mg/min",
    "DOSE_RATE_PER_BODY_MASS": "mg/kg/h",
    "VOLUME_RATE": "mL/h",
}


def _factor(spelling: str) -> float:
    _, code, exact = SPELLINGS[spelling]
    return float(exact) if exact is not None else INEXACT[code]


def _run(code: str) -> str:
    """Run ``code`` in a fresh interpreter (fresh registry); return stdout, failing on error."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# --------------------------------------------------------------------------
# Spellings and kinds
# --------------------------------------------------------------------------


def test_spelling_table_is_complete() -> None:
    """The accepted spellings are exactly DESIGN.md's UCUM codes plus the listed common ones."""
    get_registry()
    assert set(SPELLINGS) == set(units._UNITS)
    assert set(UCUM_CODES) == {code for _, code, _ in SPELLINGS.values()}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_spelling_gives_canonical_unit(spelling: str) -> None:
    """Every accepted spelling parses to its UCUM code and a quantity in the kind's canonical unit."""
    kind, code, _ = SPELLINGS[spelling]
    q = quantity(2, spelling)
    assert code == parse_unit(spelling).code
    assert kind.unit == q.units
    assert pytest.approx(2 * _factor(spelling), rel=1e-12) == q.magnitude
    assert quantity(f"2 {spelling}") == q


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_kind_accepts_and_canonical(kind: Kind) -> None:
    """Each kind accepts exactly the units of DESIGN.md and holds values in its canonical unit."""
    assert ACCEPTED[kind.name] == kind.accepted
    assert CANONICAL[kind.name] == kind.canonical
    assert parse_unit(kind.canonical).unit == kind.unit


exact_spellings = sorted(s for s, (_, _, exact) in SPELLINGS.items() if exact is not None)
decimals = st.builds(
    lambda digits, exp: Decimal(digits).scaleb(exp),
    st.integers(min_value=1, max_value=999_999),
    st.integers(min_value=-4, max_value=3),
)


@given(decimals, st.sampled_from(exact_spellings))
@example(Decimal("0.04"), "g")
@example(Decimal("0.7"), "mcg")
def test_equal_quantities_compare_and_hash_alike(magnitude: Decimal, spelling: str) -> None:
    """``m <unit>`` equals and hashes like ``m x factor`` in the canonical unit (40 mg == 0.04 g)."""
    kind, _, exact = SPELLINGS[spelling]
    assert exact is not None
    canonical = quantity(f"{magnitude * Decimal(exact)} {kind.canonical}")
    given_ = quantity(f"{magnitude} {spelling}")
    assert canonical == given_
    assert hash(canonical) == hash(given_)
    assert float(magnitude * Decimal(exact)) == given_.magnitude


def test_forty_mg_is_four_hundredths_of_a_gram() -> None:
    """The DESIGN.md example: 40 mg and 0.04 g are equal and hash alike."""
    assert quantity("40 mg") == quantity("0.04 g")
    assert hash(quantity("40 mg")) == hash(quantity(0.04, "g"))
    assert {quantity("40 mg")} == {quantity("0.04 g"), quantity(40000, "mcg")}


def test_kind_checks_unit_not_dimensionality() -> None:
    """mg/kg, % and a bare number are all dimensionless to pint, yet no kind takes another's."""
    reg = get_registry()
    per_kg, percent, bare = quantity("0.5 mg/kg"), quantity("50 %"), reg.Quantity(0.5)
    assert per_kg.dimensionality == percent.dimensionality == bare.dimensionality
    with pytest.raises(UnitError, match=r"0\.5 mg/kg must be a FRACTION"):
        FRACTION.check(per_kg)
    with pytest.raises(UnitError, match=r"50 % must be a DOSE_PER_BODY_MASS"):
        DOSE_PER_BODY_MASS.check(percent)
    for kind in (FRACTION, DOSE_PER_BODY_MASS, MASS):
        with pytest.raises(UnitError, match=f"must be a {kind.name}"):
            kind.check(bare)


def test_frequency_is_not_a_dose_rate() -> None:
    """/min and mg/kg/h share pint's dimensionality 1/[time]; the kinds refuse each other."""
    rate, per_min = quantity("0.5 mg/kg/h"), quantity("72 /min")
    assert rate.dimensionality == per_min.dimensionality
    with pytest.raises(UnitError, match="must be a FREQUENCY"):
        FREQUENCY.check(rate)
    with pytest.raises(UnitError, match="must be a DOSE_RATE_PER_BODY_MASS"):
        DOSE_RATE_PER_BODY_MASS.check(per_min)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
@pytest.mark.parametrize("other", KINDS, ids=lambda k: k.name)
def test_kind_refuses_every_other_kind(kind: Kind, other: Kind) -> None:
    """A kind takes another kind's canonical quantity only if it lists that unit as accepted."""
    q = other.quantity(3, other.canonical)
    if other.canonical in ACCEPTED[kind.name]:
        assert kind.unit == kind.check(q).units
    else:
        with pytest.raises(UnitError, match=f"must be a {kind.name}"):
            kind.check(q)


def test_kind_of_quantity() -> None:
    """kind_of names the kind a quantity's unit belongs to."""
    assert [MASS, BODY_MASS, DOSE_PER_BODY_MASS, PRESSURE, FREQUENCY] == [
        kind_of(quantity(t)) for t in ("1 mg", "80 kg", "0.5 mg/kg", "120 mmHg", "72 bpm")
    ]
    with pytest.raises(UnitError, match="is not a quantity of any kapproto kind"):
        kind_of(5)  # type: ignore[arg-type]


def test_quantity_normalises_a_quantity() -> None:
    """A quantity in another unit of the registry is brought to its kind's canonical unit."""
    reg = get_registry()
    assert (40.0, MASS.unit) == (
        quantity(reg.Quantity(0.04, "gram")).magnitude,
        quantity(reg.Quantity(0.04, "gram")).units,
    )
    assert MASS.quantity(1, "g") == MASS.check(reg.Quantity(1000, "milligram"))
    with pytest.raises(UnitError, match=r"1 kg must be a MASS \(ug, mg, g\)"):
        MASS.check(reg.Quantity(1, "kilogram"))


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

BAD: list[tuple[Any, ...]] = [
    (("0.5",), "'0.5' has no unit"),
    ((0.5,), "0.5 has no unit"),
    (("5 furlongs",), "unknown unit 'furlongs'"),
    (("mg/kg",), "'mg/kg' is not a number followed by a unit"),
    (("nan mg",), "'nan mg'"),
    (("inf mg",), "'inf mg'"),
    (("1e400 mg",), "'1e400 mg' must be finite"),
    ((math.nan, "mg"), "value nan must be finite"),
    ((math.inf, "mg"), "value inf must be finite"),
    ((-math.inf, "mg"), "value -inf must be finite"),
    ((True, "mg"), "value True must be a number"),
    (("forty", "mg"), "value 'forty' must be a number"),
    ((None, "mg"), "value None must be a number"),
    ((10**400, "mg"), "must be finite"),
    (("1e308 g",), "out of range"),
    ((5, "furlong"), "unknown unit 'furlong'"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[repr(a)[:30] for a, _ in BAD])
def test_quantity_refuses_bad_input(args: tuple[Any, ...], message: str) -> None:
    """quantity() refuses a bare number, an unknown unit, NaN, infinities and non-numbers by UnitError."""
    with pytest.raises(UnitError) as info:
        quantity(*args)
    assert isinstance(info.value, ValueError)
    assert message in str(info.value)


def test_wrong_kind_named_with_value() -> None:
    """A dose per body mass where a mass is required names the value and the kind."""
    with pytest.raises(UnitError, match=r"40 mg/kg must be a MASS \(ug, mg, g\)"):
        quantity("40 mg/kg", kind=MASS)
    with pytest.raises(UnitError, match=r"^\$\.amount: amount=40 mg/kg must be a MASS"):
        MASS.check("40 mg/kg", name="amount", path="$.amount")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (40, "amount=40 is a bare number; a MASS needs a unit"),
        (40.5, "amount=40.5 is a bare number"),
        (True, "amount=True is not a quantity"),
        (None, "amount=None is not a quantity"),
        ("0.5", "'0.5' has no unit"),
        ([40, "mg"], "amount=[40, 'mg'] is not a quantity"),
    ],
)
def test_check_refuses_non_quantities(value: object, message: str) -> None:
    """Kind.check refuses bare numbers, booleans and other objects with the value named."""
    with pytest.raises(UnitError) as info:
        MASS.check(value, name="amount", path="$.amount")
    assert message in str(info.value)


@pytest.mark.parametrize("text", ["", "0.5", "5 furlongs", "forty mg"])
def test_check_of_bad_text_keeps_the_path(text: str) -> None:
    """Text that is no quantity at all is refused at the path Kind.check was given."""
    with pytest.raises(UnitError) as info:
        MASS.check(text, name="amount", path="$.administrations[0].amount")
    assert ["$.administrations[0].amount"] == [p for p, _ in info.value.problems]


def test_check_refuses_overflow_and_nan_magnitudes() -> None:
    """A registry quantity with a NaN, huge-int or overflowing magnitude is refused, not passed on."""
    reg = get_registry()
    for bad in (reg.Quantity(math.nan, "gram"), reg.Quantity(10**400, "milligram")):
        with pytest.raises(UnitError, match="must be finite"):
            MASS.check(bad)
    with pytest.raises(UnitError, match="out of range"):
        MASS.check(reg.Quantity(1e308, "gram"))


@given(st.text(max_size=30))
@example("1e999 mg")
@example("-0 mg")
@example("1 µg")
def test_quantity_of_any_text_raises_only_unit_error(text: str) -> None:
    """Any text either gives a finite quantity in a canonical unit or raises UnitError."""
    try:
        q = quantity(text)
    except UnitError:
        return
    assert math.isfinite(q.magnitude)
    assert kind_of(q).unit == q.units


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.binary()))
def test_check_of_any_value_raises_only_unit_error(value: object) -> None:
    """Kind.check of an arbitrary non-quantity raises UnitError, never anything else."""
    with pytest.raises(UnitError):
        MASS.check(value)


def test_parse_unit_refuses_non_strings() -> None:
    """parse_unit of a non-string (even unhashable) is a UnitError naming the value."""
    with pytest.raises(UnitError, match=r"unknown unit \['mg'\]"):
        parse_unit(["mg"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Rounding
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        (MASS, "0.25 mg", "0.2"),
        (MASS, "0.35 mg", "0.4"),
        (MASS, "0.05 mg", "0.0"),
        (MASS, "6.15 mg", "6.2"),
        (MASS, "6.25 mg", "6.2"),
        (MASS, "0.04 g", "40.0"),
        (VOLUME, "0.125 mL", "0.12"),
        (VOLUME, "0.135 mL", "0.14"),
        (DOSE_PER_BODY_MASS, "0.0005 mg/kg", "0.000"),
        (DOSE_PER_BODY_MASS, "0.0015 mg/kg", "0.002"),
        (PRESSURE, "120.5 mmHg", "120"),
        (PRESSURE, "121.5 mmHg", "122"),
        (BODY_MASS, "80.05 kg", "80.0"),
        (MASS_RATE, "1 mg/h", "0.02"),
    ],
)
def test_round_half_even_at_resolution(kind: Kind, text: str, expected: str) -> None:
    """Kind.round rounds half-even to the kind's resolution, in the canonical unit."""
    result = kind.round(quantity(text))
    assert Decimal(expected) == result
    assert Decimal(expected).as_tuple().exponent == result.as_tuple().exponent


def test_weight_based_dose_equal_to_its_limit() -> None:
    """0.15 mg/kg x 41 kg is 6.15 mg: rounded, it equals (is not above) a 6.15 mg limit."""
    dose = quantity("0.15 mg/kg") * quantity("41 kg")
    limit = quantity("6.15 mg")
    assert dose.magnitude != limit.magnitude  # float noise: 6.1499999999999995
    assert MASS.round(limit) == MASS.round(dose)
    noisy = quantity("0.1 mg/kg") * quantity("3 kg")
    assert noisy.magnitude > 0.3  # 0.30000000000000004
    assert not MASS.round(noisy) > MASS.round(quantity("0.3 mg"))


@given(st.sampled_from(KINDS).flatmap(lambda k: st.tuples(st.just(k), quantities(k))))
def test_round_is_nearest_step(case: tuple[Kind, Any]) -> None:
    """A rounded value is a whole number of steps, within half a step, and rounds to itself."""
    kind, q = case
    step = Decimal(kind.resolution)
    rounded = kind.round(q)
    assert rounded % step == 0
    assert abs(rounded - Decimal(format(q.magnitude, ".12g"))) <= step / 2
    assert rounded == kind.round(kind.quantity(float(rounded), kind.canonical))


# --------------------------------------------------------------------------
# Formatting and UCUM
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "unit", "expected"),
    [
        ("0.5 mg", None, "0.5 mg"),
        (".5 mg", None, "0.5 mg"),
        ("5.0 mg", None, "5 mg"),
        ("5.50 mg", None, "5.5 mg"),
        ("500 mcg", None, "0.5 mg"),
        ("0.5 mg", "ug", "500 mcg"),
        ("0.5 mg", "µg", "500 mcg"),
        ("0.04 g", None, "40 mg"),
        ("120 mm[Hg]", None, "120 mmHg"),
        ("1.50 mL", None, "1.5 mL"),
        ("72 bpm", None, "72 /min"),
        ("98 percent", None, "98 %"),
        ("1e-7 mg", None, "0.0000001 mg"),
        ("100000 mg", None, "100000 mg"),
        ("0 mg", None, "0 mg"),
        ("-0 mg", None, "0 mg"),
        ("80 kg", "lb", "176.369809748 lb"),
        ("0.5 mg/kg", "mcg/kg", "500 mcg/kg"),
        ("2 h", None, "120 min"),
        ("2 h", "h", "2 h"),
    ],
)
def test_format_quantity_ismp(q: str, unit: str | None, expected: str) -> None:
    """format_quantity: leading zero, no trailing zero, no exponent, mcg, mmHg, one space."""
    assert expected == format_quantity(quantity(q), unit)


def test_format_quantity_refuses_unit_of_another_kind() -> None:
    """Showing a mass in mL is a UnitError naming the kind and the unit."""
    with pytest.raises(UnitError, match="cannot show a MASS in 'mL'"):
        format_quantity(quantity("5 mg"), "mL")


ISMP = re.compile(r"^-?(0|[1-9]\d*)(\.\d*[1-9])? (\S+)$")


@given(st.sampled_from(KINDS).flatmap(lambda k: st.tuples(st.just(k), quantities(k))))
def test_format_quantity_reparses(case: tuple[Kind, Any]) -> None:
    """The ISMP text has the ISMP shape and parses back to the same quantity."""
    kind, q = case
    text = format_quantity(q)
    match = ISMP.match(text)
    assert match is not None, text
    assert match.group(3) not in {"ug", "µg", "μg", "mm[Hg]"}
    assert q == kind.check(quantity(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("40 mg", (40, "mg")),
        ("0.04 g", (40, "mg")),
        ("40.5 mg", (40.5, "mg")),
        ("1 lb", (0.45359237, "kg")),
        ("120 mmHg", (120, "mm[Hg]")),
        ("72 bpm", (72, "/min")),
        ("98 %", (98, "%")),
        ("2 h", (120, "min")),
        ("500 mcg/kg", (0.5, "mg/kg")),
    ],
)
def test_to_ucum(text: str, expected: tuple[float, str]) -> None:
    """to_ucum gives the canonical UCUM code and an int magnitude when integral."""
    result = to_ucum(quantity(text))
    assert expected == result
    assert type(expected[0]) is type(result[0])


def test_to_ucum_of_a_registry_quantity() -> None:
    """A quantity built on the registry in a non-canonical unit is converted first."""
    assert (1000, "mg") == to_ucum(get_registry().Quantity(1.0, "gram"))


@given(st.sampled_from(KINDS).flatmap(lambda k: st.tuples(st.just(k), quantities(k))))
def test_to_ucum_round_trips(case: tuple[Kind, Any]) -> None:
    """(magnitude, code) from to_ucum rebuilds the same quantity; the magnitude is int iff integral."""
    kind, q = case
    magnitude, code = to_ucum(q)
    assert kind.canonical == code
    assert float(q.magnitude).is_integer() == isinstance(magnitude, int)
    assert q == kind.quantity(magnitude, code)


# --------------------------------------------------------------------------
# kind_field
# --------------------------------------------------------------------------


@attrs.frozen
class _Dose:
    amount: Mass = kind_field(MASS)
    per_kg: Any = kind_field(DOSE_PER_BODY_MASS, optional=True, default=None)


def test_kind_field_normalises_and_names_the_field() -> None:
    """A kind_field converts to the canonical unit and refuses other kinds naming the field path."""
    assert quantity("40 mg") == _Dose(quantity("0.04 g")).amount
    assert quantity("40 mg") == _Dose("40 mg").amount  # type: ignore[arg-type]
    assert _Dose(quantity("1 mg")).per_kg is None
    with pytest.raises(UnitError) as info:
        _Dose(quantity("1 mg/kg"))
    assert "$.amount" == info.value.problems[0].path
    assert "amount=1 mg/kg must be a MASS" in info.value.problems[0].message
    with pytest.raises(UnitError, match=r"\$\.per_kg: per_kg=1 mg must be a DOSE_PER_BODY_MASS"):
        _Dose(quantity("1 mg"), quantity("1 mg"))


# --------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------


def test_registry_is_built_from_units_txt() -> None:
    """The registry defines the units of data/units.txt and nothing of pint's defaults."""
    reg = get_registry()
    text = resources.files("kapproto").joinpath("data", "units.txt").read_text(encoding="utf-8")
    names = [line.split("=")[0].strip() for line in text.splitlines() if line and line[0] != "#"]
    assert "millimeter_Hg" in names
    for name in names:
        assert name == reg.get_name(name)
    assert {"[pressure]": 1} == dict(reg.get_dimensionality("mmHg"))
    assert "furlong" not in reg
    assert "pascal" not in reg


def test_registry_is_one_object() -> None:
    """get_registry returns one registry, and every quantity is built on it."""
    reg = get_registry()
    assert reg is get_registry()
    assert isinstance(quantity("1 mg"), reg.Quantity)


def test_use_registry_after_first_use_is_an_error() -> None:
    """use_registry once kapproto has built quantities raises UnitError and changes nothing."""
    reg = get_registry()
    quantity("1 mg")
    with pytest.raises(UnitError, match=r"use_registry\(\) must be called before"):
        use_registry(_unit_registry._build_registry())
    assert reg is get_registry()


def test_registry_is_lazy_and_built_once_under_threads() -> None:
    """Nothing is built at import; threads racing on first use build one registry and share it."""
    out = _run(
        """
        import sys, threading, time
        import kapproto.units
        import kapproto._unit_registry as u
        assert "pint" not in sys.modules and u._registry is None
        calls = []
        real = u._build_registry
        def slow():
            calls.append(1)
            time.sleep(0.05)  # widen the race window
            return real()
        u._build_registry = slow
        barrier = threading.Barrier(16)
        seen = []
        def worker():
            barrier.wait()
            seen.append(id(kapproto.units.quantity("1 mg")._REGISTRY))
        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(len(calls), len(seen), len(set(seen)), set(seen) == {id(u.get_registry())})
        """
    )
    assert "1 16 1 True" == out.strip()


def test_use_registry_with_pints_default_registry() -> None:
    """An application's full pint registry can be shared before first use; kinds still check units."""
    out = _run(
        """
        import pint
        from kapproto import units as u
        from kapproto.exceptions import UnitError
        reg = pint.UnitRegistry()
        u.use_registry(reg)
        q = u.quantity("0.04 g")
        assert u.get_registry() is reg and isinstance(q, reg.Quantity)
        assert q == reg.Quantity(40.0, "milligram")
        assert u.MASS.check(reg.Quantity(1, "gram")) == reg.Quantity(1e3, "milligram")
        try:
            u.MASS.check(reg.Quantity(1, "milligram / kilogram"))
        except UnitError as exc:
            print("refused:", exc)
        print(u.format_quantity(u.quantity("120 mmHg")), u.to_ucum(u.quantity("500 mcg")))
        """
    )
    assert "refused: $: 1 mg/kg must be a MASS (ug, mg, g)\n120 mmHg (0.5, 'mg')\n" == out


def test_use_registry_lacking_a_unit() -> None:
    """A registry without the units kapproto needs is refused, naming the missing unit."""
    out = _run(
        """
        import pint
        from kapproto import units as u
        from kapproto import _unit_registry
        from kapproto.exceptions import UnitError
        try:
            u.use_registry(pint.UnitRegistry(None))
        except UnitError as exc:
            print(exc)
        print(_unit_registry._registry is None)
        """
    )
    assert (
        "$: the registry does not define 'microgram', which kapproto needs for UCUM 'ug'\nTrue\n"
        == out
    )


def test_quantity_kind_must_be_a_kind() -> None:
    """A kind given by name instead of as a Kind is a UnitError, not an AttributeError."""
    with pytest.raises(UnitError, match="is not a kind"):
        quantity("40 mg", kind="BODY_MASS")  # type: ignore[arg-type]


@given(
    kind=st.sampled_from(KINDS), mag=st.floats(min_value=0, allow_nan=False, allow_infinity=False)
)
def test_kind_round_handles_every_finite_magnitude(kind: units.Kind, mag: float) -> None:
    """Kind.round rounds any finite magnitude half-even at its resolution, however large."""
    value = kind.quantity(mag, kind.canonical)
    got = kind.round(value)
    exact = Decimal(format(value.magnitude, ".12g"))
    wide = Context(prec=400, Emax=MAX_EMAX, Emin=MIN_EMIN)  # exact for these operands
    assert wide.abs(wide.subtract(got, exact)) <= Decimal(kind.resolution) / 2
    assert got.as_tuple().exponent == Decimal(kind.resolution).as_tuple().exponent
