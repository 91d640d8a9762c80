"""Tests of the fact catalogue (data/facts.toml) and FactSpec's checking of one value."""

from __future__ import annotations

import pytest

from kapproto import quantity
from kapproto._vitals import vital_ranges
from kapproto.exceptions import ValidationError
from kapproto.screening import FactSpec, FactType, fact_catalogue
from kapproto.units import PRESSURE

DESIGN_PATHS = [
    "age",
    "sex",
    "pregnant",
    "breastfeeding",
    "weight",
    "vitals.systolic",
    "vitals.diastolic",
    "history.intracerebral_hemorrhage",
    "history.aneurysmal_vascular_disease",
    "history.psychosis",
    "history.mania",
    "history.substance_use_disorder",
    "hepatic.child_pugh",
    "medications.benzodiazepine",
    "medications.maoi",
    "medications.stimulant",
    "medications.theophylline",
    "allergies.ketamine",
    "scores.phq9.total",
    "scores.phq9.item9",
    "scores.cssrs_screener.high_risk",
]


def test_catalogue_has_every_path_design_names() -> None:
    """Every fact path DESIGN.md lists is in the catalogue."""
    assert [] == [p for p in DESIGN_PATHS if p not in fact_catalogue()]


def test_catalogue_entries_are_typed_and_sourced() -> None:
    """Every entry has a description and a source; quantities a kind, enums their values."""
    bad = [
        s.path
        for s in fact_catalogue().values()
        if not s.description
        or not s.source
        or (s.type is FactType.QUANTITY) != (s.kind is not None)
        or (s.type is FactType.ENUM) != bool(s.values)
    ]
    assert [] == bad


def test_catalogue_types_of_key_facts() -> None:
    """Sex and Child-Pugh are enums with the DESIGN values; BP is a PRESSURE."""
    cat = fact_catalogue()
    actual = (cat["sex"].values, cat["hepatic.child_pugh"].values, cat["vitals.systolic"].kind)
    assert (("female", "male", "other"), ("A", "B", "C"), PRESSURE) == actual


def test_vital_bounds_come_from_the_vital_sign_ranges() -> None:
    """BP facts use the physically possible ranges of data/vitals.toml."""
    spec = fact_catalogue()["vitals.systolic"]
    low, high, _source = vital_ranges()["systolic"]
    assert (low, True, high) == (spec.low, spec.low_exclusive, spec.high)


def test_score_bounds_are_the_scale_ranges() -> None:
    """Score facts are bounded by the scale's range from CLINICAL.md §4."""
    cat = fact_catalogue()
    actual = {
        p: (cat[p].low, cat[p].high)
        for p in ("scores.phq9.total", "scores.phq9.item9", "scores.gad7.total")
    }
    assert {
        "scores.phq9.total": (0, 27),
        "scores.phq9.item9": (0, 3),
        "scores.gad7.total": (0, 21),
    } == actual


def test_every_score_fact_names_its_instrument() -> None:
    """Facts under scores. say which instrument and which part of its score fill them."""
    bad = [
        s.path
        for s in fact_catalogue().values()
        if s.path.startswith("scores.")
        and (s.instrument != s.path.split(".")[1] or not s.from_score)
    ]
    assert [] == bad


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("vitals.systolic", "140.5 mmHg", 140.0),
        ("vitals.systolic", "141.5 mmHg", 142.0),
        ("vitals.systolic", {"value": 128, "unit": "mm[Hg]"}, 128.0),
        ("vitals.systolic", quantity("128 mmHg"), 128.0),
        ("weight", "154 lb", 69.9),
        ("age", 40.0, 40),
        ("sex", "other", "other"),
        ("pregnant", False, False),
    ],
)
def test_parse_gives_canonical_primitives(path: str, value: object, expected: object) -> None:
    """A value is checked and returned as its canonical primitive (quantities: magnitude at resolution)."""
    actual = fact_catalogue()[path].parse(value)
    assert (expected, type(expected)) == (actual, type(actual))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "vitals.systolic",
            140,
            "140 is a bare number; a PRESSURE needs a unit, e.g. '140 mm[Hg]'",
        ),
        ("vitals.systolic", "140", "'140' has no unit; a bare number is never a quantity"),
        ("vitals.systolic", "140 kg", "140 kg must be a PRESSURE (mm[Hg])"),
        (
            "vitals.systolic",
            {"value": 140},
            "expected a quantity {'value': ..., 'unit': ...}, got keys ['value']",
        ),
        ("vitals.systolic", True, "expected a PRESSURE such as '120 mm[Hg]', got True"),
        ("pregnant", 1, "expected true or false, got 1"),
        ("age", True, "expected a whole number, got True"),
        ("age", float("nan"), "expected a finite number, got nan"),
        ("hepatic.child_pugh", "D", "expected one of 'A', 'B', 'C', got 'D'"),
    ],
)
def test_parse_refuses_with_a_message(path: str, value: object, message: str) -> None:
    """A value that does not fit its fact is refused with a message naming value and expectation."""
    with pytest.raises(ValidationError) as info:
        fact_catalogue()[path].parse(value)
    assert [message] == [m for _p, m in info.value.problems]


def test_bounds_can_be_skipped() -> None:
    """Rule operands are typed without the physical range (a limit may lie outside it)."""
    spec = fact_catalogue()["scores.phq9.item9"]
    assert 9 == spec.parse(9, bounds=False)
    with pytest.raises(ValidationError, match=r"not possible for scores\.phq9\.item9"):
        spec.parse(9)


def test_expected_describes_each_type() -> None:
    """FactSpec.expected words each type for messages."""
    specs = [
        FactSpec("x", t) for t in (FactType.BOOL, FactType.INT, FactType.NUMBER, FactType.STRING)
    ]
    assert ["true or false", "a whole number", "a number", "a string"] == [
        s.expected() for s in specs
    ]
