"""Tests of screen() and screen_many(): the built-in rule set on candidates, and the properties."""

from __future__ import annotations

import collections
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto.exceptions import UnknownReferenceError, ValidationError
from kapproto.instruments import score
from kapproto.screening import Decision, Facts, Outcome, RuleSet, get_ruleset, screen, screen_many
from kapproto.testing import facts, rulesets

RULES = get_ruleset("ketamine-contraindications")

# A healthy candidate who answered every question (also used by the docs).
EXAMPLE = Path(__file__).parent.parent / "examples" / "screening" / "healthy-candidate.json"
HEALTHY: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
HEALTHY_FACTS = Facts(HEALTHY)


def decision(f: Facts) -> Decision:
    return screen(f, RULES).decision


def matched(f: Facts) -> list[str]:
    return [x.rule_id for x in screen(f, RULES).findings if x.outcome is Outcome.MATCHED]


def test_fully_answered_healthy_candidate_is_eligible() -> None:
    """A healthy candidate who answered every question is eligible, with no findings."""
    report = screen(HEALTHY_FACTS, RULES)
    assert (Decision.ELIGIBLE, (), ()) == (report.decision, report.findings, report.missing)


def test_male_need_not_answer_pregnancy_questions() -> None:
    """A recorded male without pregnancy or breastfeeding answers is eligible, not incomplete."""
    f = HEALTHY_FACTS.with_values({"sex": "male", "pregnant": None, "breastfeeding": None})
    assert Decision.ELIGIBLE == decision(f)


def test_sex_other_is_asked_about_pregnancy() -> None:
    """A sex of other is not excused from the pregnancy question: unanswered, it is incomplete."""
    f = HEALTHY_FACTS.with_values({"sex": "other", "pregnant": None})
    assert (Decision.INCOMPLETE, ("pregnant",)) == (decision(f), screen(f, RULES).missing)


REQUIRED = [
    "pregnant",
    "breastfeeding",
    "vitals.systolic",
    "vitals.diastolic",
    "history.aneurysmal_vascular_disease",
    "history.arteriovenous_malformation",
    "history.intracerebral_hemorrhage",
    "history.psychosis",
    "history.mania",
    "history.substance_use_disorder",
    "hepatic.impairment",
    "allergies.ketamine",
    "scores.phq9.item9",
    "scores.cssrs_screener.high_risk",
]


@pytest.mark.parametrize("path", REQUIRED)
def test_missing_required_fact_is_incomplete(path: str) -> None:
    """Leaving out any fact an absolute or relative rule needs makes the report incomplete, naming it."""
    report = screen(HEALTHY_FACTS.without(path), RULES)
    assert (Decision.INCOMPLETE, path) == (report.decision, report.missing[0])


def test_missing_sex_is_incomplete_for_a_pregnant_answer_only() -> None:
    """Without sex, a non-pregnant, non-breastfeeding candidate is still decided; without both it is not."""
    assert (Decision.ELIGIBLE, Decision.INCOMPLETE) == (
        decision(HEALTHY_FACTS.without("sex")),
        decision(HEALTHY_FACTS.without("sex", "pregnant")),
    )


def test_unknown_medications_are_unknown_cautions_but_decide_nothing() -> None:
    """Caution rules that cannot be decided are listed but do not make the report incomplete."""
    report = screen(HEALTHY_FACTS.without("medications.maoi"), RULES)
    assert (Decision.ELIGIBLE, [("maoi", Outcome.UNKNOWN, ("medications.maoi",))], ()) == (
        report.decision,
        [(x.rule_id, x.outcome, x.missing) for x in report.findings],
        report.missing,
    )


@pytest.mark.parametrize(
    ("change", "expected_decision", "expected_rule"),
    [
        (
            {"history.aneurysmal_vascular_disease": True},
            Decision.INELIGIBLE,
            "aneurysmal-vascular-disease",
        ),
        (
            {"history.arteriovenous_malformation": True},
            Decision.INELIGIBLE,
            "aneurysmal-vascular-disease",
        ),
        (
            {"history.intracerebral_hemorrhage": True},
            Decision.INELIGIBLE,
            "intracerebral-hemorrhage",
        ),
        ({"allergies.ketamine": True}, Decision.INELIGIBLE, "hypersensitivity"),
        ({"vitals.systolic": "141 mmHg"}, Decision.REVIEW, "bp-elevated"),
        ({"vitals.diastolic": "91 mmHg"}, Decision.REVIEW, "bp-elevated"),
        ({"history.psychosis": True}, Decision.REVIEW, "psychosis"),
        ({"history.mania": True}, Decision.REVIEW, "mania"),
        ({"history.substance_use_disorder": True}, Decision.REVIEW, "substance-use-disorder"),
        ({"pregnant": True}, Decision.REVIEW, "pregnancy"),
        ({"breastfeeding": True}, Decision.REVIEW, "breastfeeding"),
        (
            {"hepatic.impairment": True, "hepatic.child_pugh": "C"},
            Decision.REVIEW,
            "hepatic-child-pugh-c",
        ),
        ({"scores.phq9.item9": 1}, Decision.REVIEW, "phq9-item9"),
        ({"scores.cssrs_screener.high_risk": True}, Decision.REVIEW, "cssrs-high-risk"),
        ({"medications.benzodiazepine": True}, Decision.ELIGIBLE, "benzodiazepine"),
        ({"medications.maoi": True}, Decision.ELIGIBLE, "maoi"),
        ({"medications.stimulant": True}, Decision.ELIGIBLE, "stimulant"),
        ({"medications.theophylline": True}, Decision.ELIGIBLE, "theophylline"),
    ],
)
def test_each_builtin_rule_fires_with_its_decision(
    change: dict[str, object], expected_decision: Decision, expected_rule: str
) -> None:
    """One contraindication at a time: absolute -> ineligible, relative -> review, caution -> still eligible."""
    f = HEALTHY_FACTS.with_values(change)
    assert (expected_decision, [expected_rule]) == (decision(f), matched(f))


def test_bp_at_the_guide_is_not_elevated() -> None:
    """140/90 exactly is not above the 140/90 general guide."""
    f = HEALTHY_FACTS.with_values({"vitals.systolic": "140 mmHg", "vitals.diastolic": "90 mmHg"})
    assert Decision.ELIGIBLE == decision(f)


@pytest.mark.parametrize(
    ("hepatic", "expected"),
    [
        ({"impairment": True}, Decision.INCOMPLETE),
        ({"impairment": True, "child_pugh": "B"}, Decision.ELIGIBLE),
    ],
)
def test_hepatic_class_needed_only_with_impairment(
    hepatic: dict[str, object], expected: Decision
) -> None:
    """A known hepatic impairment needs its Child-Pugh class; class B is not a rule here."""
    assert expected == decision(Facts({**HEALTHY, "hepatic": hepatic}))


def test_absolute_beats_unknown() -> None:
    """An absolute match decides ineligible even when other facts are unknown."""
    assert Decision.INELIGIBLE == decision(Facts({"allergies": {"ketamine": True}}))


def test_scores_fill_the_suicide_risk_facts() -> None:
    """Facts.with_scores with a PHQ-9 whose item 9 is 1 leads to review by phq9-item9."""
    f = HEALTHY_FACTS.without("scores.phq9.item9").with_scores(
        score("phq9", [1, 1, 1, 1, 1, 1, 1, 1, 1])
    )
    assert (Decision.REVIEW, ["phq9-item9"]) == (decision(f), matched(f))


def test_deciding_values_are_reported() -> None:
    """A matched BP rule reports the BP values it read."""
    f = HEALTHY_FACTS.with_values({"vitals.systolic": "150 mmHg"})
    [bp] = screen(f, RULES).findings
    assert {
        "vitals.systolic": f["vitals.systolic"],
        "vitals.diastolic": f["vitals.diastolic"],
    } == dict(bp.values)


def test_screen_accepts_a_mapping_and_an_id() -> None:
    """The screen function takes a plain nested mapping and a built-in rule-set id too."""
    assert screen(HEALTHY_FACTS, RULES) == screen(HEALTHY, "ketamine-contraindications")


def test_screen_records_time() -> None:
    """The screening time is kept in the report."""
    t = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    assert t == screen(HEALTHY_FACTS, RULES, time=t).time


@pytest.mark.parametrize(
    ("kwargs", "error", "path"),
    [
        ({"time": dt.datetime(2026, 3, 1)}, ValidationError, "$.time"),
        ({"ruleset": 3}, ValidationError, "$"),
        ({"ruleset": "nope"}, UnknownReferenceError, "$"),
    ],
)
def test_screen_bad_arguments(kwargs: dict[str, Any], error: type[Exception], path: str) -> None:
    """A naive time, a non-rule-set and an unknown id raise kapproto errors."""
    args: dict[str, Any] = {"ruleset": RULES, **kwargs}
    with pytest.raises(error) as info:
        screen(HEALTHY_FACTS, **args)
    assert path == info.value.problems[0].path  # type: ignore[attr-defined]


def test_screen_many_in_order_with_summary() -> None:
    """screen_many yields one report per input, in order, and counts them by decision."""
    cohort = [HEALTHY_FACTS, Facts({"allergies": {"ketamine": True}}), Facts(), HEALTHY_FACTS]
    run = screen_many(cohort, RULES)
    first = next(run)
    partial = run.summary
    rest = list(run)
    assert (
        [Decision.ELIGIBLE, Decision.INELIGIBLE, Decision.INCOMPLETE, Decision.ELIGIBLE],
        {Decision.ELIGIBLE: 1, Decision.INELIGIBLE: 0, Decision.REVIEW: 0, Decision.INCOMPLETE: 0},
        {Decision.ELIGIBLE: 2, Decision.INELIGIBLE: 1, Decision.REVIEW: 0, Decision.INCOMPLETE: 1},
        True,
    ) == ([r.decision for r in [first, *rest]], partial, run.summary, run.done)


def test_screen_many_refuses_unbuilt_facts() -> None:
    """screen_many takes built Facts only; a plain mapping is reported with its position."""
    run = screen_many([HEALTHY_FACTS, HEALTHY], RULES)  # type: ignore[list-item]
    next(run)
    with pytest.raises(ValidationError) as info:
        next(run)
    assert "$[1]" == info.value.problems[0].path


def test_screen_many_reads_lazily() -> None:
    """screen_many reads its input as it goes (a generator is fine)."""
    seen: list[int] = []

    def cohort() -> Any:
        for i in range(3):
            seen.append(i)
            yield HEALTHY_FACTS

    run = screen_many(cohort(), RULES)
    next(run)
    assert [0] == seen


@settings(max_examples=50)
@given(st.lists(facts(RULES), max_size=20))
def test_screen_many_equals_screen(cohort: list[Facts]) -> None:
    """screen_many gives the same reports as screen, in order, and a matching summary."""
    run = screen_many(cohort, RULES)
    reports = list(run)
    counts = collections.Counter(r.decision for r in reports)
    assert ([screen(f, RULES) for f in cohort], {d: counts[d] for d in Decision}) == (
        reports,
        run.summary,
    )


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------


def subset(data: st.DataObject, f: Facts) -> Facts:
    """The facts with an arbitrary subset of them removed."""
    removed = data.draw(st.lists(st.sampled_from(sorted(f)), unique=True)) if len(f) else []
    return f.without(*removed)


@given(rulesets(allow_present=False), st.data())
def test_monotone_adding_facts_only_decides(rs: RuleSet, data: st.DataObject) -> None:
    """Without present: adding facts moves a report only out of incomplete, never changes a decided one."""
    more = data.draw(facts(rs))
    fewer = subset(data, more)
    before, after = screen(fewer, rs), screen(more, rs)
    rule_before = {x.rule_id: x.outcome for x in before.findings}
    rule_after = {x.rule_id: x.outcome for x in after.findings}
    changed_rules = [
        r.id
        for r in rs.rules
        if rule_before.get(r.id) is not Outcome.UNKNOWN
        and rule_before.get(r.id) != rule_after.get(r.id)
    ]
    assert ([], True) == (
        changed_rules,
        before.decision is Decision.INCOMPLETE or before.decision is after.decision,
    )


@given(rulesets(allow_present=False), st.data())
def test_removing_facts_never_makes_ineligible_eligible(rs: RuleSet, data: st.DataObject) -> None:
    """Without present: removing facts from an ineligible candidate leaves ineligible or incomplete."""
    more = data.draw(facts(rs))
    fewer = subset(data, more)
    if screen(more, rs).decision is Decision.INELIGIBLE:
        assert screen(fewer, rs).decision in (Decision.INELIGIBLE, Decision.INCOMPLETE)


@given(st.data())
def test_builtin_removing_facts_never_makes_ineligible_eligible(data: st.DataObject) -> None:
    """The built-in rule set: removing facts never turns ineligible (or review) into eligible."""
    more = data.draw(facts(RULES))
    fewer = subset(data, more)
    if screen(more, RULES).decision is not Decision.ELIGIBLE:
        assert screen(fewer, RULES).decision is not Decision.ELIGIBLE


@given(st.data())
def test_builtin_complete_facts_are_decided(data: st.DataObject) -> None:
    """Every fact of the built-in rule set known: never incomplete, nothing missing."""
    report = screen(data.draw(facts(RULES, complete=True)), RULES)
    assert (False, ()) == (report.decision is Decision.INCOMPLETE, report.missing)


@given(rulesets(), facts())
def test_missing_is_exactly_the_unknown_required_facts(rs: RuleSet, f: Facts) -> None:
    """The missing list holds the absent facts of undecidable absolute/relative rules; incomplete implies non-empty."""
    report = screen(f, rs)
    expected = list(
        dict.fromkeys(
            p
            for x in report.findings
            if x.outcome is Outcome.UNKNOWN and x.severity.decides
            for p in x.missing
        )
    )
    assert (expected, False, []) == (
        list(report.missing),
        report.decision is Decision.INCOMPLETE and not report.missing,
        [p for p in report.missing if p in f],
    )
