"""Tests of ScreeningReport: the decision procedure, validation, and the JSON document."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto import from_dict, from_json, quantity, to_dict, to_json
from kapproto.exceptions import ValidationError
from kapproto.screening import (
    Decision,
    Facts,
    Outcome,
    RuleSet,
    RuleSetRef,
    RuleSeverity,
    ScreeningFinding,
    ScreeningReport,
    get_ruleset,
    screen,
)
from kapproto.screening._report import decide
from kapproto.testing import aware_datetimes, facts, rulesets

REF = RuleSetRef("ketamine-contraindications", "1")
TIME = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7)))


def finding(severity: RuleSeverity, outcome: Outcome, rule_id: str = "r") -> ScreeningFinding:
    return ScreeningFinding(rule_id, severity, "title", "source", outcome)


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([], Decision.ELIGIBLE),
        ([("caution", "matched"), ("info", "unknown")], Decision.ELIGIBLE),
        ([("relative", "matched")], Decision.REVIEW),
        ([("relative", "matched"), ("caution", "unknown")], Decision.REVIEW),
        ([("relative", "unknown")], Decision.INCOMPLETE),
        ([("absolute", "unknown"), ("relative", "matched")], Decision.INCOMPLETE),
        ([("absolute", "matched"), ("relative", "unknown")], Decision.INELIGIBLE),
        ([("absolute", "matched")], Decision.INELIGIBLE),
    ],
)
def test_decision_procedure(findings: list[tuple[str, str]], expected: Decision) -> None:
    """Absolute match -> ineligible; else absolute/relative unknown -> incomplete; else relative match -> review."""
    assert expected == decide(finding(RuleSeverity(s), Outcome(o)) for s, o in findings)


def test_decision_procedure_exhaustively_never_eligible_with_unknown_required() -> None:
    """Over every pair of findings: an unknown absolute or relative rule never gives eligible or review."""
    kinds = list(itertools.product(RuleSeverity, Outcome))
    bad = []
    for pair in itertools.product(kinds, repeat=2):
        decision = decide(finding(s, o) for s, o in pair)
        unknown_required = any(s.decides and o is Outcome.UNKNOWN for s, o in pair)
        absolute = any(s is RuleSeverity.ABSOLUTE and o is Outcome.MATCHED for s, o in pair)
        if unknown_required and decision is not (
            Decision.INELIGIBLE if absolute else Decision.INCOMPLETE
        ):
            bad.append(pair)
    assert [] == bad


def test_inconsistent_decision_is_refused() -> None:
    """A report whose decision the findings do not call for is malformed."""
    with pytest.raises(ValidationError) as info:
        ScreeningReport(
            Decision.ELIGIBLE, [finding(RuleSeverity.ABSOLUTE, Outcome.MATCHED)], [], REF
        )
    assert ("$.decision", True) == (
        info.value.problems[0].path,
        "'ineligible'" in info.value.problems[0].message,
    )


def test_naive_time_is_refused() -> None:
    """A screening time must be timezone-aware."""
    with pytest.raises(ValidationError) as info:
        ScreeningReport(Decision.ELIGIBLE, [], [], REF, dt.datetime(2026, 3, 1, 9, 0))
    assert "$.time" == info.value.problems[0].path


def test_json_document_shape() -> None:
    """A report is a kapproto.screening_report/1 document with snake-case enums and canonical quantities."""
    report = screen(
        Facts({"vitals": {"systolic": "150 mmHg"}, "allergies": {"ketamine": True}}),
        get_ruleset("ketamine-contraindications"),
        time=TIME,
    )
    data = to_dict(report)
    first = next(f for f in data["findings"] if f["rule_id"] == "hypersensitivity")
    bp = next(f for f in data["findings"] if f["rule_id"] == "bp-elevated")
    assert (
        "kapproto.screening_report/1",
        "ineligible",
        {"id": "ketamine-contraindications", "version": "1"},
        "2026-03-01T09:00:00-07:00",
        ("hypersensitivity", "absolute", "matched", {"allergies.ketamine": True}, []),
        {"vitals.systolic": {"value": 150, "unit": "mm[Hg]"}},
        [],
    ) == (
        data["schema"],
        data["decision"],
        data["ruleset"],
        data["time"],
        (first["rule_id"], first["severity"], first["outcome"], first["values"], first["missing"]),
        bp["values"],
        bp["missing"],
    )


def test_report_from_stored_json() -> None:
    """A stored report document reads back, quantities included."""
    text = json.dumps(
        {
            "schema": "kapproto.screening_report/1",
            "decision": "review",
            "findings": [
                {
                    "rule_id": "bp-elevated",
                    "severity": "relative",
                    "title": "BP",
                    "source": "Spravato PI §5.6",
                    "outcome": "matched",
                    "values": {"vitals.systolic": {"value": 150, "unit": "mm[Hg]"}},
                    "missing": [],
                }
            ],
            "missing": [],
            "ruleset": {"id": "x", "version": "1"},
            "time": None,
        }
    )
    report = from_json(text, ScreeningReport)
    assert (quantity("150 mmHg"), Decision.REVIEW) == (
        report.findings[0].values["vitals.systolic"],
        report.decision,
    )


def test_bad_report_json_paths() -> None:
    """Bad report JSON is a ValidationError with the path of each problem."""
    data = {
        "decision": "maybe",
        "findings": [
            {
                "rule_id": "r",
                "severity": "absolute",
                "title": "t",
                "source": "s",
                "outcome": "matched",
                "values": {"a": [1]},
            }
        ],
        "missing": [],
        "ruleset": {"id": "x", "version": "1"},
    }
    with pytest.raises(ValidationError) as info:
        from_dict(data, ScreeningReport)
    assert {"$.decision", "$.findings[0].values['a']"} == {p for p, _ in info.value.problems}


@given(rulesets(), facts(), st.none() | aware_datetimes())
def test_reports_round_trip_json(rs: RuleSet, f: Facts, time: dt.datetime | None) -> None:
    """Every report survives to_json/from_json unchanged."""
    report = screen(f, rs, time=time)
    again = from_json(to_json(report), ScreeningReport)
    assert (report, [dict(x.values) for x in report.findings]) == (
        again,
        [dict(x.values) for x in again.findings],
    )


def test_ruleset_ref_reads_as_id_at_version() -> None:
    """str(RuleSetRef) is id@version, for messages."""
    assert "ketamine-contraindications@1" == str(REF)


def test_eligible_property() -> None:
    """report.eligible is True only for an eligible decision."""
    assert (True, False) == (
        ScreeningReport(Decision.ELIGIBLE, [], [], REF).eligible,
        ScreeningReport(
            Decision.REVIEW, [finding(RuleSeverity.RELATIVE, Outcome.MATCHED)], [], REF
        ).eligible,
    )


def test_findings_hash_and_compare() -> None:
    """Findings and reports are hashable values."""
    a = ScreeningFinding("r", RuleSeverity.INFO, "t", "s", Outcome.MATCHED, {"age": 3})
    b = ScreeningFinding("r", RuleSeverity.INFO, "t", "s", Outcome.MATCHED, {"age": 3})
    assert (a, hash(a)) == (b, hash(b))
