"""Screening: facts, declarative rule sets, three-valued evaluation.

A candidate's :class:`Facts` are checked against the fact catalogue
(``data/facts.toml``). A :class:`RuleSet` (TOML or JSON, see the rule-set
format reference) is checked and compiled once to closures. :func:`screen`
evaluates it by three-valued logic (a test on an unknown fact is unknown) and
decides: ``ELIGIBLE``, ``INELIGIBLE``, ``REVIEW`` or ``INCOMPLETE``, never
``ELIGIBLE`` while an absolute or relative rule cannot be decided.
:func:`screen_many` is the cohort path.

Example:
    >>> from kapproto.screening import Facts, screen, get_ruleset
    >>> facts = Facts({
    ...     "sex": "male",
    ...     "vitals": {"systolic": "150 mmHg", "diastolic": "85 mmHg"},
    ...     "history": {"aneurysmal_vascular_disease": False, "arteriovenous_malformation": False,
    ...                 "intracerebral_hemorrhage": False, "psychosis": False, "mania": False,
    ...                 "substance_use_disorder": False},
    ...     "hepatic": {"impairment": False},
    ...     "allergies": {"ketamine": False},
    ...     "scores": {"phq9": {"item9": 0}, "cssrs_screener": {"high_risk": False}},
    ... })
    >>> report = screen(facts, get_ruleset("ketamine-contraindications"))
    >>> report.decision
    <Decision.REVIEW: 'review'>
    >>> [(f.rule_id, f.outcome.value) for f in report.findings]
    [('bp-elevated', 'matched'), ('benzodiazepine', 'unknown'), ('maoi', 'unknown'), ('stimulant', 'unknown'), ('theophylline', 'unknown')]
"""

from kapproto.screening._catalogue import FactSpec, FactType, FactValue, fact_catalogue
from kapproto.screening._facts import Facts, ScoreLike
from kapproto.screening._model import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    Not,
    OneOf,
    Present,
    Rule,
    RuleSeverity,
)
from kapproto.screening._report import (
    Decision,
    Outcome,
    RuleSetRef,
    ScreeningFinding,
    ScreeningReport,
)
from kapproto.screening._ruleset import RuleSet, builtin_rulesets, get_ruleset, load_ruleset
from kapproto.screening._screen import ScreeningRun, screen, screen_many

__all__ = [
    # facts
    "FactSpec",
    "FactType",
    "FactValue",
    "Facts",
    "ScoreLike",
    "fact_catalogue",
    # rule sets
    "AllOf",
    "AnyOf",
    "Comparison",
    "Condition",
    "Not",
    "OneOf",
    "Present",
    "Rule",
    "RuleSeverity",
    "RuleSet",
    "builtin_rulesets",
    "get_ruleset",
    "load_ruleset",
    # screening
    "Decision",
    "Outcome",
    "RuleSetRef",
    "ScreeningFinding",
    "ScreeningReport",
    "ScreeningRun",
    "screen",
    "screen_many",
]
