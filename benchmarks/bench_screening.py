"""Cohort screening: screen_many against the same rules hand-written in plain Python.

100,000 generated candidates (a seeded mix: most answered everything, some
facts missing, a few contraindications) are screened with the built-in
``ketamine-contraindications`` rule set (16 rules):

* kapproto: ``list(screen_many(facts, ruleset))`` over already-built ``Facts``
  (compiled closures; one immutable ``ScreeningReport`` per candidate);
* ``screen()`` called once per candidate (no cohort path), for comparison;
* the baseline: the same 16 rules hand-written as plain Python comparisons on
  flat dicts of plain numbers, with the same three-valued logic and decision
  procedure, building one small record ``(decision, fired rule ids)`` per
  candidate.

Before timing, the module checks that both give the same decisions and the
same matched rules for every candidate. Building the ``Facts`` from nested
JSON-like dicts is timed separately, on 10,000 candidates (100,000 take about
5 s per repeat on the 2-core machine).
"""

from __future__ import annotations

import random
from typing import Any

from _harness import Group

from kapproto.screening import Facts, Outcome, get_ruleset, screen, screen_many

N = 100_000
N_BUILD = 10_000
RULESET = get_ruleset("ketamine-contraindications")
RULES = len(RULESET.rules)

HISTORY = (
    "aneurysmal_vascular_disease",
    "arteriovenous_malformation",
    "intracerebral_hemorrhage",
    "psychosis",
    "mania",
    "substance_use_disorder",
)
MEDICATIONS = ("benzodiazepine", "maoi", "stimulant", "theophylline")


def _candidate(rng: random.Random) -> dict[str, Any]:
    """One candidate's facts as a JSON file would hold them (some left out)."""

    def often(p: float) -> bool:
        return rng.random() < p

    sex = rng.choices(("female", "male", "other"), (50, 45, 5))[0]
    doc: dict[str, Any] = {
        "sex": sex,
        "vitals": {
            "systolic": f"{round(rng.gauss(125, 14))} mmHg",
            "diastolic": f"{round(rng.gauss(80, 9))} mmHg",
        },
        "history": {k: often(0.02) for k in HISTORY},
        "hepatic": {"impairment": often(0.03)},
        "allergies": {"ketamine": often(0.01)},
        "medications": {k: often(0.1) for k in MEDICATIONS},
        "scores": {
            "phq9": {"item9": rng.choices((0, 1, 2, 3), (85, 9, 4, 2))[0]},
            "cssrs_screener": {"high_risk": often(0.03)},
        },
    }
    if sex != "male":
        doc["pregnant"] = often(0.03)
        doc["breastfeeding"] = often(0.03)
    if doc["hepatic"]["impairment"]:
        doc["hepatic"]["child_pugh"] = rng.choice("ABC")
    for group, key in (("vitals", "diastolic"), ("history", "mania"), ("medications", "maoi")):
        if often(0.03):
            del doc[group][key]
    if often(0.02):
        del doc["scores"]["cssrs_screener"]
    return doc


# --------------------------------------------------------------------------
# The same rules, hand-written
# --------------------------------------------------------------------------


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _gt(value: float | None, limit: float) -> bool | None:
    return None if value is None else value > limit


def plain_screen(c: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The built-in rule set written by hand on a flat dict: (decision, matched rule ids)."""
    g = c.get
    sex = g("sex")
    not_male = None if sex is None else sex != "male"
    pugh = g("hepatic.child_pugh")
    absolute = (
        (
            "aneurysmal-vascular-disease",
            _or(g("history.aneurysmal_vascular_disease"), g("history.arteriovenous_malformation")),
        ),
        ("intracerebral-hemorrhage", g("history.intracerebral_hemorrhage")),
        ("hypersensitivity", g("allergies.ketamine")),
    )
    relative = (
        ("bp-elevated", _or(_gt(g("vitals.systolic"), 140), _gt(g("vitals.diastolic"), 90))),
        ("psychosis", g("history.psychosis")),
        ("mania", g("history.mania")),
        ("substance-use-disorder", g("history.substance_use_disorder")),
        ("pregnancy", _and(not_male, g("pregnant"))),
        ("breastfeeding", _and(not_male, g("breastfeeding"))),
        (
            "hepatic-child-pugh-c",
            _and(g("hepatic.impairment"), None if pugh is None else pugh == "C"),
        ),
        ("phq9-item9", _gt(g("scores.phq9.item9"), 0)),
        ("cssrs-high-risk", g("scores.cssrs_screener.high_risk")),
    )
    caution = tuple((m, g(f"medications.{m}")) for m in MEDICATIONS)
    fired = tuple(rule for rule, value in (*absolute, *relative, *caution) if value is True)
    if any(v is True for _, v in absolute):
        decision = "ineligible"
    elif any(v is None for _, v in (*absolute, *relative)):
        decision = "incomplete"
    elif any(v is True for _, v in relative):
        decision = "review"
    else:
        decision = "eligible"
    return decision, fired


def _plain_dict(facts: Facts) -> dict[str, Any]:
    """The candidate as a hand-written program would hold it: a flat dict of plain numbers."""
    return {p: facts.raw(p) for p in facts}


def _check(facts: list[Facts], dicts: list[dict[str, Any]]) -> None:
    for f, d in zip(facts, dicts, strict=True):
        report = screen(f, RULESET)
        matched = tuple(x.rule_id for x in report.findings if x.outcome is Outcome.MATCHED)
        if (report.decision.value, matched) != plain_screen(d):
            raise AssertionError(f"hand-written rules disagree with screen() on {f!r}")


def groups() -> list[Group]:
    rng = random.Random(20260301)
    raw = [_candidate(rng) for _ in range(N)]
    facts = [Facts(r) for r in raw]
    dicts = [_plain_dict(f) for f in facts]
    _check(facts, dicts)
    build = raw[:N_BUILD]
    return [
        Group(
            title=f"Screen {N:,} candidates with the built-in rule set ({RULES} rules)",
            cases={
                "plain Python on flat dicts (baseline)": lambda: [plain_screen(d) for d in dicts],
                "kapproto screen_many(Facts)": lambda: list(screen_many(facts, RULESET)),
                "kapproto screen() per candidate": lambda: [screen(f, RULESET) for f in facts],
            },
            baseline="plain Python on flat dicts (baseline)",
            unit="rule eval",
            per_call=N * RULES,
        ),
        Group(
            title=f"Build Facts from nested JSON-like dicts ({N_BUILD:,} candidates)",
            cases={"Facts(mapping)": lambda: [Facts(r) for r in build]},
            baseline="Facts(mapping)",
            unit="candidate",
            per_call=N_BUILD,
        ),
    ]
