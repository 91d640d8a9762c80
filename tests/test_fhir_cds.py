"""Tests for kapproto._fhir_cds: a ScreeningReport as CDS Hooks cards."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from hypothesis import given, settings

from kapproto.fhir import SUMMARY_LIMIT, dumps, to_fhir
from kapproto.screening import (
    Decision,
    Facts,
    Outcome,
    RuleSet,
    RuleSeverity,
    ScreeningReport,
    get_ruleset,
    screen,
)
from kapproto.testing import facts, rulesets

RULES = get_ruleset("ketamine-contraindications")
HEALTHY = Path(__file__).parent.parent / "examples" / "screening" / "healthy-candidate.json"
WHEN = dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=-7)))

# CDS Hooks 2.0 Card: field -> (required, JSON types)
CARD_FIELDS: dict[str, tuple[bool, tuple[type, ...]]] = {
    "uuid": (False, (str,)),
    "summary": (True, (str,)),
    "detail": (False, (str,)),
    "indicator": (True, (str,)),
    "source": (True, (dict,)),
    "suggestions": (False, (list,)),
    "selectionBehavior": (False, (str,)),
    "overrideReasons": (False, (list,)),
    "links": (False, (list,)),
}
SOURCE_FIELDS = {"label": True, "url": False, "icon": False, "topic": False}


def check_card(card: Any) -> None:
    """Fail unless ``card`` has the shape of a CDS Hooks card (JSON-ready, known fields only)."""
    assert isinstance(card, dict)
    assert card == json.loads(json.dumps(card))
    assert set(card) <= set(CARD_FIELDS), set(card) - set(CARD_FIELDS)
    for name, (required, types) in CARD_FIELDS.items():
        if required:
            assert name in card, name
        if name in card:
            assert isinstance(card[name], types), name
    assert card["summary"].strip()
    assert len(card["summary"]) < SUMMARY_LIMIT
    assert card["indicator"] in {"info", "warning", "critical"}
    assert set(card["source"]) <= set(SOURCE_FIELDS)
    assert isinstance(card["source"].get("label"), str)
    assert card["source"]["label"].strip()
    if "uuid" in card:
        uuid.UUID(card["uuid"])
    if "suggestions" in card:
        assert "selectionBehavior" in card


def healthy() -> dict[str, Any]:
    """The example healthy candidate's facts as a dict."""
    data: dict[str, Any] = json.loads(HEALTHY.read_text(encoding="utf-8"))
    return data


def report_for(changes: dict[str, Any]) -> ScreeningReport:
    """The built-in rule set's report on the healthy candidate with ``changes`` applied."""
    data = healthy()
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return screen(Facts(data), RULES, time=WHEN)


def test_eligible_gives_one_info_card() -> None:
    """An eligible candidate gets a single info card naming the rule set and version."""
    report = report_for({})
    cards = to_fhir(report)
    for card in cards:
        check_card(card)
    assert (Decision.ELIGIBLE, "info") == (report.decision, cards[0]["indicator"])
    assert f"{RULES.id} {RULES.version}" in cards[0]["source"]["label"]
    assert 1 + len(report.findings) == len(cards)


def test_absolute_contraindication_is_critical() -> None:
    """A matched absolute contraindication makes the decision card and its rule card critical."""
    report = report_for({"history.intracerebral_hemorrhage": True})
    cards = to_fhir(report)
    for card in cards:
        check_card(card)
    matched = [f for f in report.findings if f.outcome is Outcome.MATCHED]
    assert RuleSeverity.ABSOLUTE in {f.severity for f in matched}
    assert "critical" == cards[0]["indicator"]
    assert any(f.title in cards[0]["summary"] for f in matched) or cards[0]["summary"].endswith("…")


def test_relative_contraindication_is_warning() -> None:
    """A matched relative rule (elevated BP) gives a warning."""
    report = report_for({"vitals.systolic": "150 mmHg"})
    assert (Decision.REVIEW, "warning") == (report.decision, to_fhir(report)[0]["indicator"])


def test_incomplete_is_warning_listing_missing_facts() -> None:
    """An undecidable rule gives a warning whose detail lists the missing fact."""
    report = report_for({"history.mania": None, "vitals.systolic": "150 mmHg"})
    cards = to_fhir(report)
    assert (Decision.INCOMPLETE, "warning") == (report.decision, cards[0]["indicator"])
    assert "Screening incomplete: facts missing: Current mania" == cards[0]["summary"]
    assert "- `history.mania`" in cards[0]["detail"]
    assert "**Undecided rules:**" in cards[0]["detail"]


def test_detail_lists_matched_rules_with_ids() -> None:
    """The decision card's Markdown lists every matched rule by id."""
    report = report_for({"history.psychosis": True, "vitals.systolic": "150 mmHg"})
    detail = to_fhir(report)[0]["detail"]
    assert all(f"`{f.rule_id}`" in detail for f in report.findings)


def test_long_titles_are_cut_below_the_limit() -> None:
    """A summary built from many long rule titles stays under 140 characters."""
    report = report_for(
        {"allergies.ketamine": True, **{f"history.{k}": True for k in healthy()["history"]}}
    )
    cards = to_fhir(report)
    for card in cards:
        check_card(card)
    assert cards[0]["summary"].endswith("…")


def test_card_uuids_are_stable_and_distinct() -> None:
    """The same report gives the same card uuids; the cards' uuids differ from each other."""
    report = report_for({"history.psychosis": True})
    first = [c["uuid"] for c in to_fhir(report)]
    assert first == [c["uuid"] for c in to_fhir(report_for({"history.psychosis": True}))]
    assert len(set(first)) == len(first)


@settings(max_examples=60, deadline=None)
@given(facts(RULES))
def test_generated_facts_give_valid_cards(candidate: Facts) -> None:
    """For generated facts every card has the CDS Hooks shape and the indicator follows the decision."""
    report = screen(candidate, RULES)
    cards = to_fhir(report)
    for card in cards:
        check_card(card)
    expected = {
        Decision.INELIGIBLE: "critical",
        Decision.INCOMPLETE: "warning",
        Decision.REVIEW: "warning",
    }.get(report.decision, "info")
    assert expected == cards[0]["indicator"]
    assert dumps(cards) == dumps(to_fhir(screen(candidate, RULES)))


@settings(max_examples=40, deadline=None)
@given(rulesets(), facts())
def test_generated_rulesets_give_valid_cards(ruleset: RuleSet, candidate: Facts) -> None:
    """Generated rule sets and facts give well-shaped cards, one per finding after the first."""
    report = screen(candidate, ruleset)
    cards = to_fhir(report)
    for card in cards:
        check_card(card)
    assert 1 + len(report.findings) == len(cards)
