"""Checking sessions and courses against protocols: the example records and what each check needs."""

from __future__ import annotations

import copy
import datetime as dt
import json
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto import (
    ComplianceReport,
    Course,
    KapprotoError,
    Session,
    Status,
    check_course,
    check_session,
    from_dict,
    from_json,
    get_protocol,
    to_dict,
    to_json,
)
from kapproto._findings import Severity
from kapproto.exceptions import ValidationError
from kapproto.screening import screen

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "sessions"
CLINIC = Path(__file__).resolve().parent / "fixtures" / "clinic"

Data = dict[str, Any]


def example(name: str) -> Data:
    """The parsed JSON of an example record."""
    data: Data = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def check(data: Data, protocol: str | None = None) -> ComplianceReport:
    """Check a session document under its own protocol (or the one named)."""
    session = from_dict(data, Session)
    assert session.protocol is not None
    return check_session(session, get_protocol(protocol or session.protocol.id))


def check_course_doc(data: Data, protocol: Any = None) -> ComplianceReport:
    """Check a course document under its own protocol (or the one given)."""
    course = from_dict(data, Course)
    return check_course(course, protocol or get_protocol(course.protocol.id))


# ---------------------------------------------------------------------------
# The example records
# ---------------------------------------------------------------------------

SESSION_EXAMPLES = [
    ("im-session.json", Status.COMPLIANT, []),
    ("esketamine-session.json", Status.COMPLIANT, []),
    ("early-discharge.json", Status.NONCOMPLIANT, ["monitoring.observation_too_short"]),
    ("missing-recheck.json", Status.NONCOMPLIANT, ["monitoring.recheck_missing"]),
    ("dose-above-limit.json", Status.NONCOMPLIANT, ["dose.above_max"]),
    (
        "troche-by-im.json",
        Status.NONCOMPLIANT,
        ["dose.formulation_route_mismatch", "dose.formulation_not_allowed"],
    ),
    ("no-discharge-time.json", Status.INCOMPLETE, []),
]


@pytest.mark.parametrize(("name", "status", "codes"), SESSION_EXAMPLES)
def test_session_example_status_and_codes(name: str, status: Status, codes: list[str]) -> None:
    """Each example session gets exactly its documented status and finding codes."""
    report = check(example(name))
    assert (status, codes) == (report.status, report.codes())
    assert (status is Status.COMPLIANT) == report.ok


def test_every_example_is_covered() -> None:
    """Every file in examples/sessions/ is checked by a test here."""
    covered = {name for name, _, _ in SESSION_EXAMPLES} | {"course.json"}
    assert covered == {p.name for p in EXAMPLES.glob("*.json")}


def test_esketamine_example_is_two_devices_of_28_mg() -> None:
    """The esketamine example records 56 mg as one administration per device, 5 min apart."""
    session = from_dict(example("esketamine-session.json"), Session)
    assert ["28 mg", "28 mg"] == [f"{a.amount.magnitude:g} mg" for a in session.administrations]
    first, second = session.administrations
    assert dt.timedelta(minutes=5) == second.start - first.start
    assert session.discharged_at is not None
    assert session.discharged_at - second.start >= dt.timedelta(hours=2)


def test_early_discharge_names_the_parameter_and_path() -> None:
    """The observation finding points at the discharge time and cites the protocol parameter."""
    (found,) = check(example("early-discharge.json")).findings
    assert ("$.discharged_at", Severity.ERROR) == (found.path, found.severity)
    assert "monitoring.min_observation" in found.source
    assert "60 min" in found.message
    assert "120 min" in found.message


def test_dose_above_limit_says_the_limit_for_the_weight() -> None:
    """The dose finding names the administration and the per-kg limit at the recorded weight."""
    (found,) = check(example("dose-above-limit.json")).findings
    assert "$.administrations[0]" == found.path
    assert "0.75 mg/kg" in found.message
    assert "60 mg at 80 kg" in found.message


def test_no_discharge_time_is_incomplete_with_its_path() -> None:
    """Without a discharge time the observation check is not evaluable at $.discharged_at."""
    report = check(example("no-discharge-time.json"))
    assert Status.INCOMPLETE is report.status
    assert not report.ok
    by_check = {n.check: n.path for n in report.not_evaluable}
    assert "$.discharged_at" == by_check["monitoring.min_observation"]


def test_not_configured_lists_what_the_protocol_leaves_unset() -> None:
    """im-kap sets no pulse oximetry, so it is reported as not configured, not as passed."""
    report = check(example("im-session.json"))
    assert "monitoring.pulse_oximetry" in report.not_configured
    assert (
        "monitoring.pulse_oximetry" not in check(example("esketamine-session.json")).not_configured
    )


def test_report_names_protocol_subject_and_version() -> None:
    """A report says which protocol and version it applied, to which record, by which kapproto."""
    report = check(example("esketamine-session.json"))
    assert ("esketamine-trd", "1", "esk-001") == (
        report.protocol.id,
        report.protocol.version,
        report.subject,
    )
    assert report.kapproto_version


def test_check_session_script_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """examples/check_session.py exits 0 and prints each example's status and codes."""
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(ROOT / "examples" / "check_session.py"), run_name="__main__")
    assert 0 == info.value.code
    lines = {line.split()[0]: line.split()[2:] for line in capsys.readouterr().out.splitlines()}
    for name, status, codes in SESSION_EXAMPLES:
        expected = [c + "," for c in codes[:-1]] + codes[-1:] if codes else ["-"]
        assert [status.value, *expected] == lines[name][: 1 + len(expected)]
    assert ["compliant", "-"] == lines["course.json"]


# ---------------------------------------------------------------------------
# Removing a record a check needs never leaves the report COMPLIANT
# ---------------------------------------------------------------------------


def _vitals_except(data: Data, keep: Callable[[Data], bool]) -> Data:
    out = copy.deepcopy(data)
    out["vitals"] = [v for v in out["vitals"] if keep(v)]
    return out


def drop_predose_bp(data: Data) -> Data:
    """Remove every vital-sign reading at or before the first administration."""
    first = min(dt.datetime.fromisoformat(a["start"]) for a in data["administrations"])
    return _vitals_except(data, lambda v: dt.datetime.fromisoformat(v["time"]) > first)


def drop_recheck_bp(data: Data) -> Data:
    """Remove the readings 30 to 50 min after the last administration (the recheck window)."""
    last = max(dt.datetime.fromisoformat(a["start"]) for a in data["administrations"])
    low, high = last + dt.timedelta(minutes=30), last + dt.timedelta(minutes=50)
    return _vitals_except(data, lambda v: not low <= dt.datetime.fromisoformat(v["time"]) <= high)


def drop_spo2(data: Data) -> Data:
    """Remove SpO2 from every reading."""
    out = copy.deepcopy(data)
    for v in out["vitals"]:
        v.pop("spo2", None)
    return out


def drop_discharge(data: Data) -> Data:
    """Remove the discharge time."""
    return {**copy.deepcopy(data), "discharged_at": None}


def drop_weight(data: Data) -> Data:
    """Remove the body weight (im-kap's limit is per kg)."""
    return {**copy.deepcopy(data), "weight": None}


REMOVALS = [
    ("im-session.json", drop_predose_bp, Status.NONCOMPLIANT),
    ("im-session.json", drop_recheck_bp, Status.NONCOMPLIANT),
    ("im-session.json", drop_discharge, Status.INCOMPLETE),
    ("im-session.json", drop_weight, Status.INCOMPLETE),
    ("esketamine-session.json", drop_predose_bp, Status.NONCOMPLIANT),
    ("esketamine-session.json", drop_recheck_bp, Status.NONCOMPLIANT),
    ("esketamine-session.json", drop_spo2, Status.NONCOMPLIANT),
    ("esketamine-session.json", drop_discharge, Status.INCOMPLETE),
]


@pytest.mark.parametrize(
    ("name", "remove", "status"),
    REMOVALS,
    ids=[f"{n}-{r.__name__}" for n, r, _ in REMOVALS],
)
def test_removing_a_needed_record_is_never_compliant(
    name: str, remove: Callable[[Data], Data], status: Status
) -> None:
    """A compliant record missing what a check needs is noncompliant or incomplete, never compliant."""
    data = example(name)
    assert Status.COMPLIANT is check(data).status
    assert status is check(remove(data)).status


def test_missing_weight_is_not_evaluable_at_weight() -> None:
    """A per-kg limit without a weight is not evaluable, with the path $.weight."""
    report = check(drop_weight(example("im-session.json")))
    assert [] == report.codes()
    assert ["$.weight"] == [n.path for n in report.not_evaluable]


def test_missing_predose_bp_names_what_is_missing() -> None:
    """No pre-dose BP is an error at $.vitals, and the threshold check is not evaluable."""
    report = check(drop_predose_bp(example("esketamine-session.json")))
    assert ["monitoring.predose_vitals_missing"] == report.codes()
    assert ["monitoring.bp_threshold"] == [n.check for n in report.not_evaluable]


@given(
    name=st.sampled_from(["im-session.json", "esketamine-session.json"]),
    removals=st.lists(
        st.sampled_from([drop_predose_bp, drop_recheck_bp, drop_discharge, drop_weight, drop_spo2]),
        min_size=1,
        max_size=5,
        unique=True,
    ),
)
def test_removing_records_never_makes_a_check_pass(
    name: str, removals: list[Callable[[Data], Data]]
) -> None:
    """Removing any combination of needed records leaves a compliant session no better than before.

    im-kap sets no pulse oximetry, so removing SpO2 alone may leave it compliant; every other
    combination must not.
    """
    data = example(name)
    for remove in removals:
        data = remove(data)
    report = check(data)
    if removals == [drop_spo2] and name == "im-session.json":
        assert Status.COMPLIANT is report.status
    elif removals == [drop_weight] and name == "esketamine-session.json":
        assert Status.COMPLIANT is report.status  # esketamine limits are fixed amounts, not per kg
    else:
        assert Status.COMPLIANT is not report.status


# ---------------------------------------------------------------------------
# Acknowledgements, withheld doses, assessments
# ---------------------------------------------------------------------------


def _acknowledge(data: Data, code: str) -> Data:
    out = copy.deepcopy(data)
    out["acknowledgements"] = [
        {
            "code": code,
            "role": "prescriber",
            "reason": "benefit outweighs risk; discussed with the patient",
            "time": out["start"],
        }
    ]
    return out


def _high_predose_bp(data: Data) -> Data:
    out = copy.deepcopy(data)
    out["vitals"][0]["systolic"] = {"value": 152, "unit": "mm[Hg]"}
    out["vitals"][0]["diastolic"] = {"value": 94, "unit": "mm[Hg]"}
    return out


def test_elevated_predose_bp_is_a_warning() -> None:
    """Pre-dose BP above 140/90 is a warning (not a hard stop): the session stays compliant."""
    report = check(_high_predose_bp(example("esketamine-session.json")))
    (found,) = report.findings
    assert ("monitoring.bp_elevated_predose", Severity.WARNING, "$.vitals[0]", False) == (
        found.code,
        found.severity,
        found.path,
        found.acknowledged,
    )
    assert Status.COMPLIANT is report.status


def test_acknowledgement_marks_a_warning_and_keeps_it() -> None:
    """An acknowledged warning stays in the report, marked acknowledged."""
    data = _acknowledge(
        _high_predose_bp(example("esketamine-session.json")), "monitoring.bp_elevated_predose"
    )
    report = check(data)
    assert [("monitoring.bp_elevated_predose", True)] == [
        (f.code, f.acknowledged) for f in report.findings
    ]


def test_acknowledgement_never_clears_an_error() -> None:
    """Acknowledging an error leaves it unacknowledged and the session noncompliant."""
    report = check(_acknowledge(example("dose-above-limit.json"), "dose.above_max"))
    assert Status.NONCOMPLIANT is report.status
    assert [("dose.above_max", False)] == [(f.code, f.acknowledged) for f in report.findings]


def test_acknowledgement_of_another_code_marks_nothing() -> None:
    """An acknowledgement applies to its own code only."""
    data = _acknowledge(
        _high_predose_bp(example("esketamine-session.json")),
        "monitoring.bp_not_settled_at_discharge",
    )
    assert [False] == [f.acknowledged for f in check(data).findings]


def test_withheld_dose_is_info() -> None:
    """A dosing session whose dose was held back gives `dose.withheld` (info) and no dose checks."""
    data = copy.deepcopy(example("im-session.json"))
    data["administrations"] = []
    data["withheld_reason"] = "pre-dose BP 182/104 on two readings"
    report = check(data)
    (found,) = report.findings
    assert ("dose.withheld", Severity.INFO, "$.withheld_reason") == (
        found.code,
        found.severity,
        found.path,
    )
    assert "182/104" in found.message
    assert Status.COMPLIANT is report.status
    assert () == report.not_evaluable


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_raises_suicidal_ideation(item9: int) -> None:
    """A PHQ-9 item 9 answer above 0 gives `assessment.suicidal_ideation` at that assessment."""
    data = copy.deepcopy(example("im-session.json"))
    data["assessments"][0]["answers"][8] = item9
    (found,) = check(data).findings
    assert ("assessment.suicidal_ideation", Severity.WARNING, "$.assessments[0]") == (
        found.code,
        found.severity,
        found.path,
    )
    assert "phq9" in found.message


def test_suicidal_ideation_is_raised_outside_dosing_sessions_too() -> None:
    """An integration session's PHQ-9 with item 9 above 0 is reported as well."""
    course = example("course.json")
    integration = copy.deepcopy(course["sessions"][2])
    integration["assessments"] = [
        {"instrument": "phq9", "time": integration["start"], "answers": [1] * 9}
    ]
    assert ["assessment.suicidal_ideation"] == check(integration).codes()


# ---------------------------------------------------------------------------
# Report JSON
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", [name for name, _, _ in SESSION_EXAMPLES])
def test_report_json_round_trips(name: str) -> None:
    """A compliance report's JSON reads back equal, under the compliance_report/1 schema."""
    report = check(example(name))
    text = to_json(report)
    assert report == from_json(text, ComplianceReport)
    assert "kapproto.compliance_report/1" == json.loads(text)["schema"]


def test_report_json_shape() -> None:
    """Status, findings and not-evaluable entries come out as plain JSON values."""
    out = to_dict(check(example("no-discharge-time.json")))
    assert "incomplete" == out["status"]
    assert {"id": "im-kap", "version": "1"} == out["protocol"]
    assert "$.discharged_at" == out["not_evaluable"][0]["path"]


# ---------------------------------------------------------------------------
# Courses
# ---------------------------------------------------------------------------


def eligible_facts() -> Data:
    """Facts that pass the built-in contraindication rule set."""
    return {
        "sex": "female",
        "pregnant": False,
        "breastfeeding": False,
        "vitals": {"systolic": "126 mmHg", "diastolic": "80 mmHg"},
        "history": {
            "aneurysmal_vascular_disease": False,
            "arteriovenous_malformation": False,
            "intracerebral_hemorrhage": False,
            "psychosis": False,
            "mania": False,
            "substance_use_disorder": False,
        },
        "hepatic": {"impairment": False},
        "allergies": {"ketamine": False},
        "scores": {"phq9": {"item9": 0}, "cssrs_screener": {"high_risk": False}},
    }


def with_screening(course: Data, facts: Data, time: str = "2026-02-16T10:00:00-07:00") -> Data:
    """The course with its screening replaced by one of ``facts``."""
    report = screen(facts, "ketamine-contraindications", time=dt.datetime.fromisoformat(time))
    return {**copy.deepcopy(course), "screenings": [to_dict(report)]}


def test_course_example_is_compliant() -> None:
    """The example course (eligible screening, preparation, 3 weekly doses, integration) complies."""
    data = example("course.json")
    course = from_dict(data, Course)
    report = check_course(course, get_protocol("im-kap"))
    assert (Status.COMPLIANT, []) == (report.status, report.codes())
    assert "c-001" == report.subject
    assert 3 == len(course.dosing_sessions)
    assert ["preparation", "dosing", "integration"] == [s.kind.value for s in course.sessions[:3]]
    assert course.screenings[0].eligible


def test_course_example_follows_its_integration_template() -> None:
    """The example course meets every activity of im-kap's template (kap-weekly-3)."""
    from kapproto._catalog import Catalog

    course = from_dict(example("course.json"), Course)
    ref = get_protocol("im-kap").template
    assert ref is not None
    template = Catalog.builtin().template(ref.id, ref.version)
    assert [] == template.for_course(course).adherence(course)


def test_course_round_trips() -> None:
    """The example course reads back equal from its canonical JSON."""
    course = from_dict(example("course.json"), Course)
    assert course == from_json(to_json(course), Course)


def test_course_without_screening_is_noncompliant() -> None:
    """No screening report before the first dose is `screening.not_done` at $.screenings."""
    data = {**example("course.json"), "screenings": []}
    report = check_course_doc(data)
    assert ["screening.not_done"] == report.codes()
    assert "$.screenings" == report.findings[0].path
    assert Status.NONCOMPLIANT is report.status


def test_screening_after_the_first_dose_does_not_count() -> None:
    """A screening dated after the first dose is not a screening before dosing."""
    data = with_screening(example("course.json"), eligible_facts(), "2026-03-05T10:00:00-07:00")
    assert ["screening.not_done"] == check_course_doc(data).codes()


def test_ineligible_screening_is_an_error() -> None:
    """A screening that decided ineligible is `screening.ineligible` at that report."""
    facts = eligible_facts()
    facts["history"]["intracerebral_hemorrhage"] = True
    report = check_course_doc(with_screening(example("course.json"), facts))
    assert ["screening.ineligible"] == report.codes()
    assert ("$.screenings[0]", Severity.ERROR) == (
        report.findings[0].path,
        report.findings[0].severity,
    )
    assert Status.NONCOMPLIANT is report.status


def test_review_screening_is_a_warning() -> None:
    """A screening that needs review is `screening.review`, a warning."""
    facts = eligible_facts()
    facts["history"]["psychosis"] = True
    report = check_course_doc(with_screening(example("course.json"), facts))
    assert ["screening.review"] == report.codes()
    assert Severity.WARNING is report.findings[0].severity
    assert Status.COMPLIANT is report.status


def test_incomplete_screening_makes_the_course_incomplete() -> None:
    """A screening that could not decide leaves the course not evaluable at that report."""
    facts = eligible_facts()
    del facts["history"]
    report = check_course_doc(with_screening(example("course.json"), facts))
    assert Status.INCOMPLETE is report.status
    assert [("screening", "$.screenings[0]")] == [(n.check, n.path) for n in report.not_evaluable]


def clinic_protocol() -> Any:
    """The clinic fixture protocol: weekly at most (`[schedule] min_interval = "7 d"`)."""
    from kapproto._catalog import Catalog

    catalog = Catalog.builtin().with_files(CLINIC)
    return catalog.protocol("clinic-im")


def under(data: Data, protocol: Any) -> Data:
    """The course document with the course and each session naming ``protocol``."""
    ref = {"id": protocol.id, "version": protocol.version}
    out = copy.deepcopy(data)
    out["protocol"] = ref
    for session in out["sessions"]:
        session["protocol"] = dict(ref)
    return out


def test_weekly_course_meets_a_7_day_interval_across_dst() -> None:
    """Weekly doses at 09:10 local are 7 d apart in the course's zone even across the DST change."""
    course = from_dict(under(example("course.json"), clinic_protocol()), Course)
    assert dt.timedelta(days=7) - dt.timedelta(hours=1) == course.intervals()[0]
    report = check_course(course, clinic_protocol())
    assert (Status.COMPLIANT, []) == (report.status, report.codes())


def dose_2_on_friday(course: Data) -> Data:
    """The course's second dosing session (sessions[3]) moved from Mon 9 March (MDT) to Fri 6 March (MST)."""
    moved = json.dumps(course["sessions"][3]).replace("2026-03-09T", "2026-03-06T")
    result: Data = json.loads(moved.replace("-06:00", "-07:00"))
    return result


def test_doses_closer_than_min_interval() -> None:
    """A second dose 4 days after the first is `schedule.interval_too_short` at its administration."""
    data = under(example("course.json"), clinic_protocol())
    data["sessions"][3] = dose_2_on_friday(data)
    report = check_course_doc(data, clinic_protocol())
    assert ["schedule.interval_too_short"] == report.codes()
    found = report.findings[0]
    assert "$.sessions[3].administrations[0].start" == found.path
    assert "schedule.min_interval" in found.source
    assert "96 h" in found.message
    assert Status.NONCOMPLIANT is report.status


def test_interval_finding_points_at_the_earliest_administration() -> None:
    """With administrations listed out of time order, the path names the earliest one."""
    data = under(example("course.json"), clinic_protocol())
    dose = dose_2_on_friday(data)
    booster = {**dose["administrations"][0], "id": "a2", "amount": {"value": 20, "unit": "mg"}}
    booster["start"] = "2026-03-06T09:12:00-07:00"
    dose["administrations"].insert(0, booster)
    data["sessions"][3] = dose
    report = check_course_doc(data, clinic_protocol())
    assert ["schedule.interval_too_short"] == report.codes()
    assert "$.sessions[3].administrations[1].start" == report.findings[0].path


def test_schedule_is_not_configured_in_builtin_protocols() -> None:
    """im-kap sets no minimum interval, so the course report lists it as not configured."""
    report = check_course_doc(example("course.json"))
    assert "schedule.min_interval" in report.not_configured


def test_course_paths_are_prefixed_by_session() -> None:
    """A session finding inside a course carries the session's index in its path."""
    data = example("course.json")
    data["sessions"][5]["discharged_at"] = None
    report = check_course_doc(data)
    assert Status.INCOMPLETE is report.status
    assert "$.sessions[5].discharged_at" in {n.path for n in report.not_evaluable}


def test_superseded_session_is_not_checked() -> None:
    """A session corrected by an amended record is not checked; the correction is."""
    data = example("course.json")
    wrong = copy.deepcopy(data["sessions"][5])
    wrong["discharged_at"] = wrong["vitals"][1]["time"]  # discharged at the recheck: too early
    corrected = copy.deepcopy(data["sessions"][5])
    corrected.update(id="dose-3b", status="amended", supersedes="dose-3")
    data["sessions"][5] = wrong
    assert ["monitoring.observation_too_short", "monitoring.bp_not_settled_at_discharge"] == (
        check_course_doc(data).codes()
    )
    data["sessions"].insert(6, corrected)
    assert (Status.COMPLIANT, []) == (
        check_course_doc(data).status,
        check_course_doc(data).codes(),
    )


def test_course_check_includes_the_integration_plan() -> None:
    """Dropping one integration session from the course gives exactly one integration.missing."""
    data = example("course.json")
    data["sessions"] = [s for s in data["sessions"] if s["id"] != "int-2"]
    report = check_course_doc(data)
    assert Status.NONCOMPLIANT == report.status
    assert ["integration.missing"] == [c for c in report.codes() if c.startswith("integration.")]


def test_course_with_required_activities_still_open_is_incomplete() -> None:
    """A course recorded only up to its last dose cannot be judged on the integration after it."""
    data = example("course.json")
    cut = [s["id"] for s in data["sessions"]].index("dose-3")
    data["sessions"] = data["sessions"][: cut + 1]
    report = check_course_doc(data)
    assert Status.INCOMPLETE == report.status
    assert {"integration.integration", "integration.follow-up-1wk"} <= {
        n.check for n in report.not_evaluable
    }
    assert "integration.missing" not in report.codes()


def test_first_session_limit_without_a_course_is_never_passed() -> None:
    """84 mg of esketamine checked without its course is not evaluable, not compliant."""
    data = example("esketamine-session.json")
    third = dict(data["administrations"][-1])
    last = dt.datetime.fromisoformat(third["start"])
    third.update(id="a3", start=(last + dt.timedelta(minutes=5)).isoformat())
    data["administrations"].append(third)
    report = check(data)
    assert Status.INCOMPLETE == report.status
    assert ["dose.first_session_max"] == [n.check for n in report.not_evaluable]
    assert [] == [f for f in report.codes() if f.startswith("dose.")]
    assert Status.COMPLIANT == check(example("esketamine-session.json")).status


# ---------------------------------------------------------------------------
# Screening reports without a time
# ---------------------------------------------------------------------------

BEFORE, AFTER = "2026-02-16T10:00:00-07:00", "2026-03-05T10:00:00-07:00"


def _facts(decision: str) -> Data:
    facts = eligible_facts()
    if decision == "ineligible":
        facts["history"]["intracerebral_hemorrhage"] = True
    elif decision == "review":
        facts["history"]["psychosis"] = True
    return facts


def with_screenings(course: Data, *reports: tuple[str, str | None]) -> Data:
    """The course with screenings of the given decisions, each at a time or with none."""
    docs = []
    for decision, time in reports:
        doc = to_dict(screen(_facts(decision), "ketamine-contraindications", time=None))
        assert decision == doc["decision"]
        doc.pop("time", None)
        if time is not None:
            doc["time"] = time
        docs.append(doc)
    return {**copy.deepcopy(course), "screenings": docs}


def outcome(report: ComplianceReport) -> tuple[Status, list[str], list[tuple[str, str]]]:
    """Status, finding codes and (check, path) of each not-evaluable check."""
    return report.status, report.codes(), [(n.check, n.path) for n in report.not_evaluable]


def test_screening_without_time_is_not_evaluable() -> None:
    """The example course with its only screening's time removed is incomplete, not compliant."""
    data = example("course.json")
    del data["screenings"][0]["time"]
    report = check_course_doc(data)
    assert (Status.INCOMPLETE, [], [("screening", "$.screenings[0].time")]) == outcome(report)
    assert "unknown whether it was done before the first dose" in report.not_evaluable[0].reason


@pytest.mark.parametrize(
    ("screenings", "expected"),
    [
        # a timed report after the untimed one, before the dose: the untimed one was done earlier
        ([("ineligible", None), ("eligible", BEFORE)], (Status.COMPLIANT, [], [])),
        # an untimed report after the deciding one, with the same decision: settled either way
        ([("eligible", BEFORE), ("eligible", None)], (Status.COMPLIANT, [], [])),
        (
            [("ineligible", BEFORE), ("ineligible", None)],
            (Status.NONCOMPLIANT, ["screening.ineligible"], []),
        ),
        # with another decision, either could be the last before dosing
        (
            [("eligible", BEFORE), ("ineligible", None)],
            (Status.INCOMPLETE, [], [("screening", "$.screenings[1].time")]),
        ),
        (
            [("ineligible", BEFORE), ("eligible", None)],
            (Status.INCOMPLETE, [], [("screening", "$.screenings[1].time")]),
        ),
        # a timed report after the dose settles nothing about an untimed one before it in the list
        (
            [("eligible", None), ("eligible", AFTER)],
            (Status.INCOMPLETE, [], [("screening", "$.screenings[0].time")]),
        ),
        # timed reports only: the last one before the dose decides, as before
        ([("review", BEFORE), ("eligible", BEFORE)], (Status.COMPLIANT, [], [])),
        (
            [("eligible", BEFORE), ("ineligible", AFTER)],
            (Status.COMPLIANT, [], []),
        ),
    ],
)
def test_untimed_screening_decides_only_when_the_order_settles_it(
    screenings: list[tuple[str, str | None]],
    expected: tuple[Status, list[str], list[tuple[str, str]]],
) -> None:
    """An untimed report counts as unknown in time; a later timed report before the dose settles it."""
    report = check_course_doc(with_screenings(example("course.json"), *screenings))
    assert expected == outcome(report)


def test_settled_decision_points_at_the_timed_report() -> None:
    """When the untimed report agrees, the finding names the report known to be before the dose."""
    data = with_screenings(example("course.json"), ("ineligible", BEFORE), ("ineligible", None))
    assert ["$.screenings[0]"] == [f.path for f in check_course_doc(data).findings]


_SCREENING_CASES = st.lists(
    st.tuples(
        st.sampled_from(["eligible", "ineligible", "review"]),
        st.sampled_from([BEFORE, AFTER, "2026-03-02T09:10:00-07:00"]),
    ),
    min_size=1,
    max_size=4,
)


@given(screenings=_SCREENING_CASES, data=st.data())
def test_removing_a_screening_time_never_changes_a_decided_outcome(
    screenings: list[tuple[str, str]], data: st.DataObject
) -> None:
    """Without one report's time the course is judged the same, or it is not evaluable at that gap.

    Less information never gives another verdict, and never a compliant one that was not.
    """
    course = example("course.json")
    full = check_course_doc(with_screenings(course, *screenings))
    j = data.draw(st.integers(0, len(screenings) - 1))
    gapped = list(screenings)
    gapped[j] = (screenings[j][0], None)  # type: ignore[assignment]
    partial = check_course_doc(with_screenings(course, *gapped))
    if partial.status is Status.INCOMPLETE and partial.not_evaluable:
        assert [("screening", f"$.screenings[{j}].time")] == [
            (n.check, n.path) for n in partial.not_evaluable
        ]
        assert [] == partial.codes()
    else:
        assert (full.status, full.codes()) == (partial.status, partial.codes())


# ---------------------------------------------------------------------------
# Which sessions check_session accepts, and under which protocol
# ---------------------------------------------------------------------------


def example_course() -> Course:
    """The example course, parsed."""
    return from_dict(example("course.json"), Course)


def test_session_of_another_id_is_not_checked_against_the_course() -> None:
    """A dose 4 days after dose 1, under an id the course lacks, is an error, not a silently skipped schedule."""
    protocol = clinic_protocol()
    data = under(example("course.json"), protocol)
    data["sessions"][3] = dose_2_on_friday(data)
    course = from_dict(data, Course)
    assert ["schedule.interval_too_short"] == check_session(
        course.sessions[3], protocol, course=course
    ).codes()
    stranger = attrs.evolve(course.sessions[3], id="dose-x")
    with pytest.raises(ValidationError) as info:
        check_session(stranger, protocol, course=course)
    assert [
        (
            "$.id",
            "session 'dose-x' is not an effective session of course 'c-001': "
            "the course has no session with that id",
        )
    ] == [tuple(p) for p in info.value.problems]
    assert isinstance(info.value, KapprotoError)


def superseded_course() -> Course:
    """The example course with dose-3 corrected by an amended record dose-3b."""
    data = example("course.json")
    corrected = copy.deepcopy(data["sessions"][5])
    corrected.update(id="dose-3b", status="amended", supersedes="dose-3")
    data["sessions"].insert(6, corrected)
    return from_dict(data, Course)


def test_superseded_session_is_refused_and_its_correction_checked() -> None:
    """The superseded record is not an effective session of the course; the amended one is."""
    course = superseded_course()
    original, corrected = course.sessions[5], course.sessions[6]
    with pytest.raises(ValidationError, match="superseded by 'dose-3b'") as info:
        check_session(original, get_protocol("im-kap"), course=course)
    assert ["$.id"] == [p.path for p in info.value.problems]
    assert (
        Status.COMPLIANT is check_session(corrected, get_protocol("im-kap"), course=course).status
    )


def test_a_changed_copy_of_a_course_session_is_refused() -> None:
    """A session with a course session's id but other content is not that course's record."""
    course = example_course()
    changed = attrs.evolve(course.sessions[3], discharged_at=None)
    with pytest.raises(ValidationError, match="differs from the course's record") as info:
        check_session(changed, get_protocol("im-kap"), course=course)
    assert ["$.id"] == [p.path for p in info.value.problems]


@pytest.mark.parametrize("with_course", [False, True])
def test_session_entered_in_error_is_refused(with_course: bool) -> None:
    """A record entered in error is no record of what happened: check_session raises at $.status."""
    data = example("course.json")
    data["sessions"][3]["status"] = "entered_in_error"
    course = from_dict(data, Course)
    session = course.sessions[3]
    with pytest.raises(ValidationError) as info:
        check_session(session, get_protocol("im-kap"), course=course if with_course else None)
    assert [
        (
            "$.status",
            "session 'dose-2' was entered in error: it is no record of what happened, "
            "so there is nothing to check",
        )
    ] == [tuple(p) for p in info.value.problems]
    # the course check leaves it out, as before
    assert Status.COMPLIANT is check_course(course, get_protocol("im-kap")).status


def test_session_checked_against_another_protocol_says_so() -> None:
    """An im-kap session checked against sl-kap gets a protocol.mismatch warning at $.protocol, last."""
    report = check(example("im-session.json"), "sl-kap")
    assert ["dose.route_not_allowed", "protocol.mismatch"] == report.codes()
    found = report.findings[-1]
    assert ("$.protocol", Severity.WARNING) == (found.path, found.severity)
    assert "names protocol im-kap@1, but was checked against sl-kap@1" in found.message


def test_another_version_of_the_protocol_is_a_mismatch_too() -> None:
    """The same id at another version is a mismatch; alone it is a warning and keeps the status."""
    other = attrs.evolve(get_protocol("im-kap"), version="2")
    report = check_session(from_dict(example("im-session.json"), Session), other)
    assert (Status.COMPLIANT, ["protocol.mismatch"]) == (report.status, report.codes())
    assert "im-kap@1" in report.findings[0].message
    assert "im-kap@2" in report.findings[0].message


def test_session_naming_no_protocol_has_no_mismatch() -> None:
    """A session that names no protocol has nothing to contradict."""
    data = {**example("im-session.json"), "protocol": None}
    report = check_session(from_dict(data, Session), get_protocol("im-kap"))
    assert (Status.COMPLIANT, []) == (report.status, report.codes())


def test_course_under_another_protocol_has_one_mismatch_at_its_root() -> None:
    """A course checked against another protocol is flagged once, not once per session."""
    report = check_course(example_course(), clinic_protocol())
    assert ["protocol.mismatch"] == report.codes()
    assert "$.protocol" == report.findings[0].path
    assert "course 'c-001' names protocol im-kap@1, but was checked against clinic-im@2" in (
        report.findings[0].message
    )


def test_course_session_naming_a_third_protocol_is_flagged_at_its_path() -> None:
    """A session naming neither the course's protocol nor the one applied is flagged at its own path."""
    data = example("course.json")
    data["sessions"][3]["protocol"] = {"id": "sl-kap", "version": "1"}
    report = check_course_doc(data)
    assert [("protocol.mismatch", "$.sessions[3].protocol")] == [
        (f.code, f.path) for f in report.findings
    ]
    assert Status.COMPLIANT is report.status


def test_per_kg_first_session_limit_without_weight_or_course_is_not_evaluable() -> None:
    """A per-kg first-session limit with no weight and no course is never passed."""
    from kapproto import Protocol

    protocol = Protocol.from_dict(
        {
            "id": "clinic-fs",
            "version": "1",
            "title": "per-kg first session",
            "doses": [
                {
                    "route": "intramuscular",
                    "formulations": ["solution_for_injection"],
                    "session_max": "100 mg",
                    "first_session_max": "0.25 mg/kg",
                }
            ],
        }
    )
    data = {**example("im-session.json"), "protocol": {"id": "clinic-fs", "version": "1"}}
    no_weight = check_session(from_dict({**data, "weight": None}, Session), protocol)
    assert (Status.INCOMPLETE, []) == (no_weight.status, no_weight.codes())
    assert [("dose.first_session_max", "$.weight")] == [
        (n.check, n.path) for n in no_weight.not_evaluable
    ]
    weighed = check_session(from_dict(data, Session), protocol)  # 40 mg > 0.25 mg/kg x 80 kg
    assert [("dose.first_session_max", "$.administrations")] == [
        (n.check, n.path) for n in weighed.not_evaluable
    ]
    light = check_session(
        from_dict({**data, "weight": {"value": 200, "unit": "kg"}}, Session), protocol
    )
    assert (Status.COMPLIANT, ()) == (light.status, tuple(light.not_evaluable))


def test_a_window_past_year_9999_is_a_validation_error() -> None:
    """A dose at 9999-12-31T23:30Z has a recheck window past the datetime range: bad input."""
    text = json.dumps(example("im-session.json"))
    for old, new in (("2026-03-02T09:", "9999-12-31T22:"), ("2026-03-02T11:", "9999-12-31T23:")):
        text = text.replace(old, new)
    data = json.loads(text.replace("-07:00", "+00:00"))
    data.update(end="9999-12-31T23:59:00+00:00", discharged_at="9999-12-31T23:59:00+00:00")
    data["administrations"][0]["start"] = "9999-12-31T23:30:00+00:00"
    data["vitals"] = [v for v in data["vitals"] if v["time"] < "9999-12-31T23:30"]
    session = from_dict(data, Session)
    with pytest.raises(ValidationError) as info:
        check_session(session, get_protocol("im-kap"))
    assert "outside the dates a datetime can hold" in str(info.value)
