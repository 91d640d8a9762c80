"""Tests of the rule compiler: Kleene three-valued logic, and agreement with a plain interpreter."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto import quantity
from kapproto.exceptions import RuleError, ValidationError
from kapproto.screening import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    Decision,
    Facts,
    Not,
    OneOf,
    Outcome,
    Present,
    Rule,
    RuleSet,
    RuleSeverity,
    screen,
)
from kapproto.testing import facts, rulesets

T, F, U = True, False, None
BOOL_FACTS = ["pregnant", "breastfeeding", "history.mania"]


def one_rule(cond: Condition, severity: RuleSeverity = RuleSeverity.INFO, **kw: Any) -> RuleSet:
    rule = Rule("r", "R", severity, "test", cond)
    return RuleSet(id="t", version="1", title="T", source="test", rules=[rule], **kw)


def evaluate(cond: Condition, f: Facts) -> bool | None:
    """The rule's value as screen reports it: matched, unknown, or absent (false)."""
    report = screen(f, one_rule(cond))
    if not report.findings:
        return False
    return True if report.findings[0].outcome is Outcome.MATCHED else None


def setting(values: tuple[bool | None, ...]) -> Facts:
    """Facts giving each of BOOL_FACTS the value (None: absent)."""
    return Facts.from_paths(dict(zip(BOOL_FACTS, values, strict=False)))


def is_true(i: int) -> Condition:
    return Comparison(BOOL_FACTS[i], "eq", True)


RANK = {F: 0, U: 1, T: 2}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (T, T, T),
        (T, F, F),
        (T, U, U),
        (F, T, F),
        (F, F, F),
        (F, U, F),
        (U, T, U),
        (U, F, F),
        (U, U, U),
    ],
)
def test_all_truth_table(a: bool | None, b: bool | None, expected: bool | None) -> None:
    """all: false if any part is false, else unknown if any is unknown, else true."""
    assert expected == evaluate(AllOf([is_true(0), is_true(1)]), setting((a, b)))


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (T, T, T),
        (T, F, T),
        (T, U, T),
        (F, T, T),
        (F, F, F),
        (F, U, U),
        (U, T, T),
        (U, F, U),
        (U, U, U),
    ],
)
def test_any_truth_table(a: bool | None, b: bool | None, expected: bool | None) -> None:
    """any: true if any part is true, else unknown if any is unknown, else false."""
    assert expected == evaluate(AnyOf([is_true(0), is_true(1)]), setting((a, b)))


@pytest.mark.parametrize(("a", "expected"), [(T, F), (F, T), (U, U)])
def test_not_truth_table(a: bool | None, expected: bool | None) -> None:
    """Negation keeps unknown."""
    assert expected == evaluate(Not(is_true(0)), setting((a,)))


def test_three_part_all_and_any_are_min_and_max() -> None:
    """For three parts, all is the minimum and any the maximum in the order false < unknown < true."""
    cases = list(itertools.product((T, F, U), repeat=3))
    parts = [is_true(i) for i in range(3)]
    actual = [
        (evaluate(AllOf(parts), setting(c)), evaluate(AnyOf(parts), setting(c))) for c in cases
    ]
    expected = [(min(c, key=RANK.__getitem__), max(c, key=RANK.__getitem__)) for c in cases]
    assert expected == actual


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("eq", [F, T, F, U]),
        ("ne", [T, F, T, U]),
        ("gt", [F, F, T, U]),
        ("ge", [F, T, T, U]),
        ("lt", [T, F, F, U]),
        ("le", [T, T, F, U]),
    ],
)
def test_comparisons_on_a_quantity(op: str, expected: list[bool | None]) -> None:
    """Each comparison against 140 mm[Hg], for 130, 140, 150 and an unknown systolic."""
    cond = Comparison("vitals.systolic", op, quantity("140 mmHg"))  # type: ignore[arg-type]
    values = ["130 mmHg", "140 mmHg", "150 mmHg", None]
    actual = [evaluate(cond, Facts.from_paths({"vitals.systolic": v})) for v in values]
    assert expected == actual


def test_limit_compared_at_the_kinds_resolution() -> None:
    """140.4 mm[Hg] rounds to 140 and is not above a 140 mm[Hg] limit; 140.6 is."""
    cond = Comparison("vitals.systolic", "gt", "140 mm[Hg]")
    actual = [
        evaluate(cond, Facts({"vitals": {"systolic": f"{v} mmHg"}})) for v in ("140.4", "140.6")
    ]
    assert [F, T] == actual


def test_units_convert_at_load_time() -> None:
    """A limit written in another unit of the kind is converted when the rule set is built."""
    rs = one_rule(Comparison("weight", "lt", "99.208 lb"))
    assert quantity("45 kg") == rs.rules[0].when.value  # type: ignore[union-attr]


def test_in_and_present() -> None:
    """The in operator is unknown on an absent fact; present is never unknown."""
    one_of = OneOf("hepatic.child_pugh", ["B", "C"])
    facts_c, facts_a, none = (
        Facts({"hepatic": {"child_pugh": "C"}}),
        Facts({"hepatic": {"child_pugh": "A"}}),
        Facts(),
    )
    actual = [
        evaluate(c, f)
        for c in (one_of, Present("hepatic.child_pugh"), Present("hepatic.child_pugh", False))
        for f in (facts_c, facts_a, none)
    ]
    assert [T, F, U, T, T, F, F, F, T] == actual


def test_present_needs_no_declaration_for_clinic_facts() -> None:
    """The present operator works on any extra. fact without declaring its type."""
    assert T == evaluate(Present("extra.anything"), Facts({"extra": {"anything": 1}}))


def test_declared_clinic_fact_is_typed() -> None:
    """A declared extra. fact is compared by its declared type; a wrong type is an input error."""
    rs = RuleSet.from_dict(
        {
            "id": "c",
            "version": "1",
            "title": "C",
            "source": "SOP",
            "facts": [{"path": "extra.visits", "type": "int"}],
            "rules": [
                {
                    "id": "few",
                    "title": "Few visits",
                    "severity": "relative",
                    "source": "SOP",
                    "when": {"fact": "extra.visits", "lt": 3},
                }
            ],
        }
    )
    assert Decision.REVIEW == screen(Facts({"extra": {"visits": 2}}), rs).decision
    with pytest.raises(ValidationError) as info:
        screen(Facts({"extra": {"visits": "two"}}), rs)
    assert ("$.extra.visits", True) == (
        info.value.problems[0].path,
        "declares 'extra.visits' as a whole number" in info.value.problems[0].message,
    )


def test_declared_quantity_clinic_fact_checks_kind() -> None:
    """A clinic quantity fact must have the declared kind."""
    rs = RuleSet.from_dict(
        {
            "id": "c",
            "version": "1",
            "title": "C",
            "source": "SOP",
            "facts": [{"path": "extra.last_dose", "type": "quantity", "kind": "MASS"}],
            "rules": [
                {
                    "id": "big",
                    "title": "Big",
                    "severity": "info",
                    "source": "SOP",
                    "when": {"fact": "extra.last_dose", "gt": "100 mg"},
                }
            ],
        }
    )
    assert (
        Outcome.MATCHED
        == screen(Facts({"extra": {"last_dose": {"value": 0.2, "unit": "g"}}}), rs)
        .findings[0]
        .outcome
    )
    with pytest.raises(ValidationError, match=r"MASS"):
        screen(Facts({"extra": {"last_dose": {"value": 2, "unit": "mL"}}}), rs)


def test_ordering_on_a_boolean_is_refused() -> None:
    """An ordering on a boolean fact is a RuleError naming the fact's type."""
    with pytest.raises(RuleError, match="'gt' needs a number or quantity fact"):
        one_rule(Comparison("pregnant", "gt", True))


# --------------------------------------------------------------------------
# A plain reference interpreter, written from the format's definition
# --------------------------------------------------------------------------

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def interpret(cond: Condition, f: Facts) -> bool | None:
    """Evaluate a condition by walking the model, on the user-facing values (pint quantities)."""
    if isinstance(cond, Present):
        return (cond.fact in f) == cond.present
    if isinstance(cond, Comparison | OneOf):
        if cond.fact not in f:
            return None
        value = f[cond.fact]
        if isinstance(cond, OneOf):
            return any(bool(value == v) for v in cond.values)
        return bool(OPS[cond.op](value, cond.value))
    if isinstance(cond, Not):
        inner = interpret(cond.part, f)
        return None if inner is None else not inner
    results = [interpret(p, f) for p in cond.parts]
    if isinstance(cond, AllOf):
        return False if False in results else None if None in results else True
    return True if True in results else None if None in results else False


def reference_decision(rs: RuleSet, f: Facts) -> tuple[Decision, list[tuple[str, bool | None]]]:
    outcomes = [(r, interpret(r.when, f)) for r in rs.rules]
    shown: list[tuple[str, bool | None]] = [(r.id, v) for r, v in outcomes if v is not False]
    sev = RuleSeverity
    if any(v is True and r.severity is sev.ABSOLUTE for r, v in outcomes):
        return Decision.INELIGIBLE, shown
    if any(v is None and r.severity in (sev.ABSOLUTE, sev.RELATIVE) for r, v in outcomes):
        return Decision.INCOMPLETE, shown
    if any(v is True and r.severity is sev.RELATIVE for r, v in outcomes):
        return Decision.REVIEW, shown
    return Decision.ELIGIBLE, shown


SMALL = [
    "sex",
    "pregnant",
    "vitals.systolic",
    "vitals.diastolic",
    "hepatic.child_pugh",
    "scores.phq9.item9",
    "age",
    "weight",
]


@settings(max_examples=300)
@given(rulesets(paths=SMALL), facts(paths=SMALL))
def test_compiled_agrees_with_the_reference_interpreter(rs: RuleSet, f: Facts) -> None:
    """screen() and the plain interpreter agree on every rule's value and the decision."""
    report = screen(f, rs)
    actual = (
        report.decision,
        [(x.rule_id, True if x.outcome is Outcome.MATCHED else None) for x in report.findings],
    )
    assert reference_decision(rs, f) == actual


@given(rulesets(), st.data())
def test_all_facts_present_never_unknown(rs: RuleSet, data: st.DataObject) -> None:
    """With every fact a rule set reads present, no rule is unknown and nothing is missing."""
    f = data.draw(facts(rs, complete=True))
    report = screen(f, rs)
    assert ([], (), False) == (
        [x.rule_id for x in report.findings if x.outcome is Outcome.UNKNOWN],
        report.missing,
        report.decision is Decision.INCOMPLETE,
    )
