"""Tests of kapproto.screening Facts and the fact catalogue (data/facts.toml)."""

from __future__ import annotations

import contextlib
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto import from_json, quantity, to_json
from kapproto.exceptions import KapprotoError, ValidationError
from kapproto.instruments import score
from kapproto.screening import Facts, fact_catalogue
from kapproto.testing import facts, json_values


def test_nested_mapping_becomes_flat_paths() -> None:
    """A nested mapping is read as dotted paths with typed values."""
    f = Facts(
        {"sex": "female", "vitals": {"systolic": "128 mmHg"}, "scores": {"phq9": {"item9": 1}}}
    )
    assert {
        "sex": "female",
        "vitals.systolic": quantity("128 mm[Hg]"),
        "scores.phq9.item9": 1,
    } == dict(f)


def test_quantity_forms_are_equal() -> None:
    """A quantity may be a string, a {value, unit} mapping or a pint quantity."""
    forms = ["80 kg", {"value": 80000, "unit": "g"}, quantity("176.37 lb")]
    assert {quantity("80 kg")} == {Facts({"weight": w})["weight"] for w in forms}


def test_quantities_are_held_at_the_kinds_resolution() -> None:
    """A pressure is held to 1 mm[Hg], half-even: 140.5 is 140, 141.5 is 142."""
    actual = [
        Facts({"vitals": {"systolic": f"{v} mmHg"}}).raw("vitals.systolic")
        for v in ("140.5", "141.5", "140.4")
    ]
    assert [140.0, 142.0, 140.0] == actual


def test_null_and_absent_are_unknown() -> None:
    """A null means not recorded: the fact is unknown, as if absent."""
    assert Facts({"sex": "male"}) == Facts(
        {"sex": "male", "pregnant": None, "vitals": {"systolic": None}}
    )


def test_false_is_kept() -> None:
    """A false is a recorded answer, distinct from unknown."""
    f = Facts({"pregnant": False})
    assert (True, False) == ("pregnant" in f, f["pregnant"])


def test_every_problem_is_reported_with_its_path() -> None:
    """Unknown paths, bare numbers, wrong units, out-of-range and wrong types: all at once."""
    with pytest.raises(ValidationError) as info:
        Facts(
            {
                "vitals": {"sys": 1, "systolic": 120, "diastolic": "80 kg"},
                "age": -1,
                "sex": "x",
                "pregnant": "no",
                "scores": {"phq9": {"item9": 4}},
                "history": True,
            }
        )
    paths = [p for p, _ in info.value.problems]
    assert [
        "$.vitals.sys",
        "$.vitals.systolic",
        "$.vitals.diastolic",
        "$.age",
        "$.sex",
        "$.pregnant",
        "$.scores.phq9.item9",
        "$.history",
    ] == paths


def test_unknown_path_suggests_close_names() -> None:
    """An unknown path's message names close catalogue paths and the extra. namespace."""
    with pytest.raises(ValidationError, match=r"did you mean 'vitals.systolic'.*extra\."):
        Facts({"vitals": {"systolc": "120 mmHg"}})


def test_bare_number_for_a_pressure_names_the_unit() -> None:
    """A bare number for a quantity fact is refused with an example including the unit."""
    with pytest.raises(ValidationError) as info:
        Facts({"vitals": {"systolic": 140}})
    assert [
        ("$.vitals.systolic", "140 is a bare number; a PRESSURE needs a unit, e.g. '140 mm[Hg]'")
    ] == list(info.value.problems)


def test_physically_impossible_vitals_are_refused() -> None:
    """A systolic of 1200 mm[Hg] is refused, using the vital-sign ranges of data/vitals.toml."""
    with pytest.raises(ValidationError, match=r"\$\.vitals\.systolic.*not possible"):
        Facts({"vitals": {"systolic": "1200 mmHg"}})


def test_integral_float_is_an_int_fact() -> None:
    """2.0 for an int fact is 2; 2.5 is refused."""
    assert 2 == Facts({"age": 2.0})["age"]
    with pytest.raises(ValidationError, match="whole number"):
        Facts({"age": 2.5})


def test_extra_facts_are_free_form() -> None:
    """Clinic facts under extra. may be booleans, numbers, strings or quantities."""
    f = Facts(
        {
            "extra": {
                "consent": True,
                "clinic": {"site": "north", "visits": 3},
                "dose": {"value": 5, "unit": "mg"},
            }
        }
    )
    assert {
        "extra.consent": True,
        "extra.clinic.site": "north",
        "extra.clinic.visits": 3,
        "extra.dose": quantity("5 mg"),
    } == dict(f)


def test_extra_lists_are_refused() -> None:
    """A list is not a fact value, even under extra."""
    with pytest.raises(ValidationError, match=r"clinic fact"):
        Facts({"extra": {"drugs": ["a", "b"]}})


def test_keys_with_dots_are_refused() -> None:
    """A dotted key inside the nested mapping is ambiguous and refused."""
    with pytest.raises(ValidationError) as info:
        Facts({"vitals.systolic": "120 mmHg"})
    assert "$" == info.value.problems[0].path


def test_from_paths_equals_nested() -> None:
    """Facts.from_paths builds the same facts from dotted paths."""
    assert Facts({"history": {"mania": False}}) == Facts.from_paths({"history.mania": False})


def test_with_values_sets_and_removes() -> None:
    """with_values sets facts and removes those given None; the original is unchanged."""
    f = Facts({"sex": "male", "age": 40})
    g = f.with_values({"age": None, "pregnant": False})
    assert ({"sex": "male", "age": 40}, {"sex": "male", "pregnant": False}) == (dict(f), dict(g))


def test_with_values_checks_values() -> None:
    """with_values refuses bad paths and values with their paths."""
    with pytest.raises(ValidationError) as info:
        Facts().with_values({"nope": 1, "age": "x"})
    assert ["$.nope", "$.age"] == [p for p, _ in info.value.problems]


def test_without_removes() -> None:
    """Facts.without makes the named facts unknown."""
    assert Facts({"sex": "male"}) == Facts({"sex": "male", "age": 3}).without("age")


def test_with_scores_fills_totals_items_and_flags() -> None:
    """with_scores fills scores.phq9.total and item9 and the C-SSRS high-risk flag."""
    phq9 = score("phq9", [2, 2, 1, 2, 1, 1, 2, 1, 2])
    cssrs = score("cssrs_screener", {"q1": False, "q2": False, "q6": False})
    f = Facts().with_scores(phq9, cssrs)
    assert {
        "scores.phq9.total": 14,
        "scores.phq9.item9": 2,
        "scores.cssrs_screener.high_risk": False,
    } == dict(f)


def test_with_scores_high_risk_true() -> None:
    """A C-SSRS screener triaged high risk sets scores.cssrs_screener.high_risk."""
    cssrs = score(
        "cssrs_screener", {"q1": True, "q2": True, "q3": True, "q4": True, "q5": True, "q6": False}
    )
    assert Facts().with_scores(cssrs)["scores.cssrs_screener.high_risk"] is True


def test_with_scores_refuses_two_scores_of_one_instrument() -> None:
    """Two PHQ-9 scores are ambiguous and refused."""
    s = score("phq9", [0] * 9)
    with pytest.raises(ValidationError) as info:
        Facts().with_scores(s, s)
    assert "$.scores.phq9" == info.value.problems[0].path


def test_to_dict_is_canonical_json() -> None:
    """to_dict nests paths and writes quantities as {value, unit} in the canonical unit."""
    f = Facts({"weight": "80000 g", "vitals": {"systolic": "128 mmHg"}})
    assert {
        "weight": {"value": 80, "unit": "kg"},
        "vitals": {"systolic": {"value": 128, "unit": "mm[Hg]"}},
    } == f.to_dict()


def test_repr_is_readable() -> None:
    """The repr shows dotted paths, quantities with their unit."""
    assert "Facts.from_paths({'vitals.systolic': '128 mm[Hg]'})" == repr(
        Facts({"vitals": {"systolic": "128 mmHg"}})
    )


@given(facts())
def test_round_trip_through_to_dict(f: Facts) -> None:
    """Facts(f.to_dict()) == f for any valid facts."""
    assert f == Facts(f.to_dict())


@given(facts())
def test_json_round_trip_through_converter(f: Facts) -> None:
    """from_json(to_json(f), Facts) == f, through kapproto's converter."""
    assert f == from_json(to_json(f), Facts)


@given(facts())
def test_pickle_and_hash(f: Facts) -> None:
    """Facts pickle and hash by value."""
    g = pickle.loads(pickle.dumps(f))
    assert (f, hash(f)) == (g, hash(g))


@given(json_values())
def test_arbitrary_input_raises_only_kapproto_errors(data: object) -> None:
    """Any JSON-like input either builds Facts or raises a KapprotoError."""
    with contextlib.suppress(KapprotoError):
        Facts(data)  # type: ignore[arg-type]


@given(st.dictionaries(st.sampled_from(list(fact_catalogue())), json_values(max_leaves=3)))
def test_arbitrary_leaves_raise_only_kapproto_errors(paths: dict[str, object]) -> None:
    """Arbitrary values at real fact paths either build Facts or raise a ValidationError."""
    with contextlib.suppress(ValidationError):
        Facts.from_paths(paths)


def test_with_values_sets_a_branch() -> None:
    """Facts.with_values given a mapping at a branch sets the facts under it."""
    f = Facts({"sex": "male"}).with_values(
        {"vitals": {"systolic": "150 mmHg"}, "extra": {"site": "north"}}
    )
    assert (
        Facts({"sex": "male", "vitals": {"systolic": "150 mmHg"}, "extra": {"site": "north"}}) == f
    )
