"""Tests of the rule-set model's conditions and their dict (TOML/JSON) shape."""

from __future__ import annotations

import pytest
from hypothesis import given

from kapproto import quantity
from kapproto.screening import AllOf, AnyOf, Comparison, Not, OneOf, Present, RuleSeverity
from kapproto.screening._model import (
    OPERATORS,
    condition_from_dict,
    condition_to_dict,
    facts_of,
    json_value,
)
from kapproto.testing import rulesets


def read(raw: object) -> tuple[object, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    return condition_from_dict(raw, "$.when", "rule 'r': ", problems), problems


def test_every_operator_is_read() -> None:
    """Each operator of the format reads as its model class."""
    raw = {
        "all": [
            {"fact": "a", "eq": 1},
            {"fact": "a", "ne": 1},
            {"fact": "a", "gt": 1},
            {"fact": "a", "ge": 1},
            {"fact": "a", "lt": 1},
            {"fact": "a", "le": 1},
            {"fact": "a", "in": [1, 2]},
            {"fact": "a", "present": False},
            {"any": [{"not": {"fact": "b", "eq": True}}]},
        ]
    }
    cond, problems = read(raw)
    expected = AllOf(
        [
            *(Comparison("a", op, 1) for op in ("eq", "ne", "gt", "ge", "lt", "le")),
            OneOf("a", [1, 2]),
            Present("a", False),
            AnyOf([Not(Comparison("b", "eq", True))]),
        ]
    )
    assert (expected, []) == (cond, problems)


def test_to_dict_inverts_from_dict() -> None:
    """condition_to_dict gives back the shape that was read."""
    raw = {"any": [{"fact": "a", "in": ["x", "y"]}, {"not": {"fact": "b", "present": True}}]}
    cond, _ = read(raw)
    assert raw == condition_to_dict(cond)  # type: ignore[arg-type]


def test_quantities_are_written_as_strings_in_the_canonical_unit() -> None:
    """A quantity value is written as '<number> <UCUM code>' in its canonical unit."""
    assert ["140 mm[Hg]", "0.5 mg", 2, 2.5, True, "C"] == [
        json_value(v) for v in (quantity("140 mmHg"), quantity("500 mcg"), 2, 2.5, True, "C")
    ]


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        ("vitals.systolic", "$.when", "a condition is a table"),
        ({"fact": "a", "gte": 1}, "$.when.gte", "unknown operator 'gte'"),
        ({"fact": "a", "eq": 1, "ne": 2}, "$.when", "exactly one of"),
        ({"fact": "a"}, "$.when", "exactly one of"),
        ({"fact": 3, "eq": 1}, "$.when.fact", "dotted fact path"),
        ({"fact": "a", "in": []}, "$.when.in", "non-empty list"),
        ({"fact": "a", "present": "yes"}, "$.when.present", "true or false"),
        ({"any": []}, "$.when.any", "non-empty list"),
        ({"all": {"fact": "a", "eq": 1}}, "$.when.all", "non-empty list"),
        ({"allof": []}, "$.when.allof", "unknown operator 'allof'"),
        ({"all": [{"fact": "a", "eq": 1}], "any": []}, "$.when", "exactly one of"),
        ({"eq": 1}, "$.when", "add fact"),
        ({}, "$.when", "exactly one of"),
        ({"not": {"fact": "a", "gte": 1}}, "$.when.not.gte", "unknown operator"),
        ({"all": [{"fact": "a", "eq": 1}, 5]}, "$.when.all[1]", "a condition is a table"),
    ],
)
def test_malformed_shapes_are_reported_with_path(raw: object, path: str, message: str) -> None:
    """Each malformed shape is reported at its JSON path, with the rule id, and not read."""
    cond, problems = read(raw)
    assert (None, path, True, True) == (
        cond,
        problems[0][0],
        message in problems[0][1],
        problems[0][1].startswith("rule 'r': "),
    )


def test_operators_list_is_the_format() -> None:
    """The format's operators are exactly all, any, not, the six comparisons, in, present."""
    assert ("all", "any", "not", "eq", "ne", "gt", "ge", "lt", "le", "in", "present") == OPERATORS


def test_facts_of_lists_each_path_once_in_order() -> None:
    """facts_of walks the tree and lists each fact once, in order of appearance."""
    cond = AllOf([Comparison("b", "eq", 1), AnyOf([Present("a"), Not(Comparison("b", "gt", 0))])])
    assert ("b", "a") == facts_of(cond)


def test_severity_decides() -> None:
    """Only absolute and relative rules can change a decision."""
    assert [True, True, False, False] == [s.decides for s in RuleSeverity]


@given(rulesets())
def test_conditions_round_trip_through_dict_shape(rs: object) -> None:
    """Reading the dict shape of any generated condition gives the condition back."""
    for rule in rs.rules:  # type: ignore[attr-defined]
        raw = condition_to_dict(rule.when)
        cond, problems = read(raw)
        assert ([], raw) == (problems, condition_to_dict(cond))  # type: ignore[arg-type]
