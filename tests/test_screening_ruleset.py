"""Tests of RuleSet: loading TOML/JSON, every bad input at once, round trips, the built-in sets."""

from __future__ import annotations

import contextlib
import json
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto import from_json, quantity, to_json
from kapproto.exceptions import KapprotoError, RuleError, UnknownReferenceError
from kapproto.screening import (
    Comparison,
    Rule,
    RuleSet,
    RuleSeverity,
    builtin_rulesets,
    fact_catalogue,
    get_ruleset,
    load_ruleset,
)
from kapproto.testing import json_values, rulesets

DESIGN_EXAMPLE = """
id = "clinic-x"
version = "3"
title = "Clinic X eligibility"
source = "Clinic X SOP 2026-01"

[[rules]]
id = "bp-elevated"
title = "Blood pressure above 140/90 before dosing"
severity = "relative"          # absolute | relative | caution | info
source = "Spravato PI §5.6"
when = { any = [ { fact = "vitals.systolic", gt = "140 mm[Hg]" },
                 { fact = "vitals.diastolic", gt = "90 mm[Hg]" } ] }

[[rules]]
id = "pregnancy"
title = "Pregnant"
severity = "relative"
source = "Spravato PI §8.1"
when = { all = [ { fact = "sex", eq = "female" }, { fact = "pregnant", eq = true } ] }
"""


def rule(id: str, when: dict[str, object], severity: str = "relative") -> dict[str, object]:
    return {"id": id, "title": id.title(), "severity": severity, "source": "test", "when": when}


def ruleset(*rules: dict[str, object]) -> dict[str, object]:
    return {"id": "t", "version": "1", "title": "T", "source": "test", "rules": list(rules)}


def test_design_example_loads_and_round_trips() -> None:
    """The DESIGN.md example reads, and its JSON shape is the TOML it came from."""
    data = tomllib.loads(DESIGN_EXAMPLE)
    rs = RuleSet.from_dict(data)
    assert (data, quantity("140 mmHg")) == (rs.to_dict(), rs.rules[0].when.parts[0].value)  # type: ignore[union-attr]


def test_issue_bad_inputs_all_reported_at_once_with_rule_and_path() -> None:
    """Every bad input the issue lists is reported in one RuleError, each with rule id and path."""
    data = ruleset(
        rule("unknown-op", {"fact": "vitals.systolic", "gte": "140 mm[Hg]"}),
        rule("no-such-fact", {"fact": "vitals.pulse_pressure", "gt": "40 mm[Hg]"}),
        rule("no-unit", {"fact": "vitals.systolic", "gt": "140"}),
        rule("wrong-kind", {"fact": "vitals.systolic", "gt": "140 kg"}),
        rule("dup", {"fact": "pregnant", "eq": True}),
        rule("dup", {"fact": "breastfeeding", "eq": True}),
        rule("empty-any", {"any": []}),
        rule("not-bool", {"fact": "pregnant", "eq": "yes"}),
    )
    with pytest.raises(RuleError) as info:
        RuleSet.from_dict(data)
    actual = [(p, m.split(":")[0]) for p, m in info.value.problems]
    assert [
        ("$.rules[0].when.gte", "rule 'unknown-op'"),
        ("$.rules[1].when.fact", "rule 'no-such-fact'"),
        ("$.rules[2].when.gt", "rule 'no-unit'"),
        ("$.rules[3].when.gt", "rule 'wrong-kind'"),
        ("$.rules[5].id", "rule 'dup'"),
        ("$.rules[6].when.any", "rule 'empty-any'"),
        ("$.rules[7].when.eq", "rule 'not-bool'"),
    ] == actual


@pytest.mark.parametrize(
    ("when", "path", "message"),
    [
        (
            {"fact": "vitals.systolic", "gte": "140 mm[Hg]"},
            "$.rules[0].when.gte",
            "unknown operator 'gte'",
        ),
        ({"fact": "vitals.pulse", "gt": 1}, "$.rules[0].when.fact", "unknown fact 'vitals.pulse'"),
        ({"fact": "vitals.systolic", "gt": "140"}, "$.rules[0].when.gt", "'140' has no unit"),
        ({"fact": "vitals.systolic", "gt": 140}, "$.rules[0].when.gt", "140 is a bare number"),
        (
            {"fact": "vitals.systolic", "gt": "140 kg"},
            "$.rules[0].when.gt",
            "140 kg must be a PRESSURE",
        ),
        ({"any": []}, "$.rules[0].when.any", "'any' needs a non-empty list"),
        (
            {"fact": "pregnant", "eq": "yes"},
            "$.rules[0].when.eq",
            "expected true or false, got 'yes'",
        ),
        ({"fact": "pregnant", "eq": 1}, "$.rules[0].when.eq", "expected true or false, got 1"),
        ({"fact": "sex", "in": ["female", "f"]}, "$.rules[0].when.in[1]", "got 'f'"),
        ({"fact": "scores.phq9.item9", "gt": 0.5}, "$.rules[0].when.gt", "whole number"),
        ({"fact": "pregnant", "le": True}, "$.rules[0].when.le", "needs a number or quantity fact"),
        ({"fact": "extra.visits", "lt": 3}, "$.rules[0].when.fact", "is not declared"),
    ],
)
def test_each_bad_input_names_rule_path_and_problem(
    when: dict[str, object], path: str, message: str
) -> None:
    """Each bad condition gives one problem at its path, naming the rule and what is wrong."""
    with pytest.raises(RuleError) as info:
        RuleSet.from_dict(ruleset(rule("r1", when)))
    [(actual_path, actual_message)] = info.value.problems
    assert (path, True, True) == (
        actual_path,
        actual_message.startswith("rule 'r1': "),
        message in actual_message,
    )


def test_rule_fields_are_checked() -> None:
    """Missing and mistyped rule fields, unknown keys, a bad severity and confidence are all reported."""
    data = ruleset(
        {
            "id": "a",
            "severity": "fatal",
            "source": "",
            "when": {"fact": "pregnant", "eq": True},
            "confidence": "X",
            "note": 1,
        }
    )
    data["version"] = 1
    data["extra_key"] = True
    with pytest.raises(RuleError) as info:
        RuleSet.from_dict(data)
    assert [
        "$.extra_key",
        "$.rules[0].confidence",
        "$.rules[0].note",
        "$.rules[0].severity",
        "$.rules[0].source",
        "$.rules[0].title",
        "$.version",
    ] == sorted(p for p, _ in info.value.problems)


def test_version_must_be_a_string() -> None:
    """A version of 1 (a TOML integer) is refused with a hint to quote it."""
    data = ruleset(rule("a", {"fact": "pregnant", "eq": True}))
    data["version"] = 1
    with pytest.raises(RuleError, match="such as '1'"):
        RuleSet.from_dict(data)


def test_empty_rule_set_is_refused() -> None:
    """A rule set with no rules would pass everyone, and is refused."""
    with pytest.raises(RuleError) as info:
        RuleSet.from_dict(ruleset())
    assert "$.rules" == info.value.problems[0].path


def test_fact_declarations_are_checked() -> None:
    """Declarations outside extra., duplicates, bad types, kinds and enum values are reported."""
    data = ruleset(rule("a", {"fact": "pregnant", "eq": True}))
    data["facts"] = [
        {"path": "age", "type": "int"},
        {"path": "extra.a", "type": "quantity"},
        {"path": "extra.b", "type": "enum"},
        {"path": "extra.c", "type": "float"},
        {"path": "extra.d", "type": "bool"},
        {"path": "extra.d", "type": "bool"},
    ]
    with pytest.raises(RuleError) as info:
        RuleSet.from_dict(data)
    assert [
        "$.facts[0].path",
        "$.facts[1].kind",
        "$.facts[2].values",
        "$.facts[3].type",
        "$.facts[5].path",
    ] == [p for p, _ in info.value.problems]


def test_python_built_rule_set_is_checked_and_canonicalised() -> None:
    """A RuleSet built in Python is checked like a file, and its values made canonical."""
    rs = RuleSet(
        "p",
        "1",
        "P",
        "test",
        [Rule("w", "Light", RuleSeverity.INFO, "test", Comparison("weight", "lt", "99.208 lb"))],
    )
    assert {"fact": "weight", "lt": "45 kg"} == rs.to_dict()["rules"][0]["when"]
    with pytest.raises(RuleError) as info:
        RuleSet(
            "p",
            "1",
            "P",
            "test",
            [Rule("w", "W", RuleSeverity.INFO, "test", Comparison("weight", "lt", "45 mL"))],
        )
    assert "$.rules[0].when.lt" == info.value.problems[0].path


@given(rulesets())
def test_generated_rule_sets_round_trip_json_unchanged(rs: RuleSet) -> None:
    """A model to JSON to model to JSON gives the same model and the same JSON."""
    text = json.dumps(rs.to_dict())
    again = RuleSet.from_dict(json.loads(text))
    assert (rs, text) == (again, json.dumps(again.to_dict()))


@given(rulesets())
def test_converter_round_trip(rs: RuleSet) -> None:
    """kapproto.to_json / from_json round-trip a rule set."""
    assert rs == from_json(to_json(rs), RuleSet)


@given(json_values())
def test_arbitrary_input_raises_only_rule_errors(data: object) -> None:
    """Any JSON-like input either builds a RuleSet or raises a RuleError."""
    with contextlib.suppress(RuleError):
        RuleSet.from_dict(data)


@given(st.data())
def test_mutated_rule_sets_raise_only_rule_errors(data: st.DataObject) -> None:
    """Replacing any part of a valid rule set with arbitrary JSON raises only RuleError."""
    doc = get_ruleset("ketamine-contraindications").to_dict()
    node: object = doc
    while isinstance(node, dict | list) and node:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = data.draw(st.sampled_from(keys))
        if data.draw(st.booleans()):
            node[key] = data.draw(json_values(max_leaves=4))
            break
        node = node[key]
    with contextlib.suppress(RuleError):
        RuleSet.from_dict(doc)


def test_load_toml_and_json_files(tmp_path: Path) -> None:
    """load_ruleset reads .toml and .json files into the same rule set."""
    toml_file = tmp_path / "clinic.toml"
    toml_file.write_text(DESIGN_EXAMPLE, encoding="utf-8")
    json_file = tmp_path / "clinic.json"
    json_file.write_text(json.dumps(tomllib.loads(DESIGN_EXAMPLE)), encoding="utf-8")
    assert load_ruleset(toml_file) == load_ruleset(str(json_file))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.toml", "id = ", "not valid TOML"),
        ("bad.json", "{", "not valid JSON"),
        ("bad.yaml", "id: x", "not valid TOML"),
        ("list.json", "[]", "a rule set is a table"),
    ],
)
def test_unreadable_files_raise_rule_error(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    """Invalid TOML or JSON (any other extension is read as TOML), or a non-table is a RuleError."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleError, match=message):
        load_ruleset(path)


def test_builtin_rule_sets_are_listed_by_id_and_version() -> None:
    """builtin_rulesets lists ketamine-contraindications version 1."""
    assert [("ketamine-contraindications", "1")] == list(builtin_rulesets())


def test_get_ruleset_latest_and_exact_version() -> None:
    """get_ruleset finds the built-in by id, with or without a version."""
    assert get_ruleset("ketamine-contraindications") is get_ruleset(
        "ketamine-contraindications", "1"
    )


@pytest.mark.parametrize(("id", "version"), [("nope", None), ("ketamine-contraindications", "2")])
def test_get_ruleset_unknown(id: str, version: str | None) -> None:
    """An unknown id or version raises UnknownReferenceError listing the known sets."""
    with pytest.raises(UnknownReferenceError, match="known: ketamine-contraindications@1"):
        get_ruleset(id, version)


def test_builtin_file_is_written_in_canonical_form() -> None:
    """The shipped TOML is exactly the rule set's JSON shape (TOML -> model -> JSON unchanged)."""
    text = (
        resources.files("kapproto")
        .joinpath("data", "rulesets", "ketamine-contraindications.toml")
        .read_text("utf-8")
    )
    assert tomllib.loads(text) == get_ruleset("ketamine-contraindications").to_dict()


EXPECTED_BUILTIN = {
    "aneurysmal-vascular-disease": "absolute",
    "intracerebral-hemorrhage": "absolute",
    "hypersensitivity": "absolute",
    "bp-elevated": "relative",
    "psychosis": "relative",
    "mania": "relative",
    "substance-use-disorder": "relative",
    "pregnancy": "relative",
    "breastfeeding": "relative",
    "hepatic-child-pugh-c": "relative",
    "phq9-item9": "relative",
    "cssrs-high-risk": "relative",
    "benzodiazepine": "caution",
    "maoi": "caution",
    "stimulant": "caution",
    "theophylline": "caution",
}


def test_builtin_rules_and_severities_follow_clinical_section_3() -> None:
    """The built-in rules are CLINICAL.md §3's absolute, relative and interaction items."""
    rs = get_ruleset("ketamine-contraindications")
    assert EXPECTED_BUILTIN == {r.id: r.severity.value for r in rs.rules}


def test_every_builtin_rule_is_sourced_and_confirmed() -> None:
    """Every built-in rule has a source and confidence C (nothing unconfirmed is a rule)."""
    rs = get_ruleset("ketamine-contraindications")
    assert [] == [
        r.id for r in rs.rules if not r.source or r.confidence is None or r.confidence.value != "C"
    ]


def test_builtin_bp_rule_is_140_over_90() -> None:
    """The BP rule is the label's general guide: systolic above 140 or diastolic above 90 mm[Hg]."""
    bp = next(r for r in get_ruleset("ketamine-contraindications").rules if r.id == "bp-elevated")
    assert {
        "any": [
            {"fact": "vitals.systolic", "gt": "140 mm[Hg]"},
            {"fact": "vitals.diastolic", "gt": "90 mm[Hg]"},
        ]
    } == RuleSet("x", "1", "x", "x", [bp]).to_dict()["rules"][0]["when"]


def test_builtin_reads_only_catalogue_facts() -> None:
    """The built-in rule set reads only catalogue facts."""
    paths = set(get_ruleset("ketamine-contraindications").fact_paths)
    assert set() == paths - set(fact_catalogue())


def test_builtin_load_errors_are_kapproto_errors() -> None:
    """RuleError is a KapprotoError and a ValueError."""
    assert (True, True) == (issubclass(RuleError, KapprotoError), issubclass(RuleError, ValueError))
