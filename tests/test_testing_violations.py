"""Which finding codes kapproto.testing's violation generators produce, per protocol, and the refusals."""

from __future__ import annotations

import re

import attrs
import pytest
from hypothesis import given, settings

from kapproto import (
    Catalog,
    DoseLimits,
    Parameter,
    Protocol,
    Schedule,
    Session,
    Status,
    check_session,
    finding_catalogue,
    get_protocol,
    quantity,
)
from kapproto.exceptions import KapprotoError, UnknownReferenceError, ValidationError
from kapproto.testing import (
    course_violation_codes,
    course_violations,
    violation_codes,
    violations,
)

BUILTIN = sorted({pid for pid, _ in Catalog.builtin().protocols.entries})

MONITORING = (
    "monitoring.bp_elevated_predose",
    "monitoring.bp_not_settled_at_discharge",
    "monitoring.observation_too_short",
    "monitoring.predose_vitals_missing",
)
SCREENING = ("screening.ineligible", "screening.not_done", "screening.review")
KAP_WEEKLY = ("assessment.missing", "integration.late", "integration.missing")

# Every code each built-in protocol can be made to show, by the session alone
# (violations) or only in a course (course_violations). Pinned, so that a code
# dropped or added is a deliberate change.
# A session naming another protocol: every protocol.
EVERYWHERE = ("protocol.mismatch",)
RACEMIC = (
    *EVERYWHERE,
    "assessment.suicidal_ideation",
    "dose.duplicate_administration",
    "dose.formulation_route_mismatch",
    "dose.route_not_allowed",
    "dose.withheld",
    *MONITORING,
)
SESSION_CODES = {
    "esketamine-mdsi": (
        *EVERYWHERE,
        "assessment.suicidal_ideation",
        "dose.device_multiple",
        "dose.device_spacing",
        "dose.formulation_not_allowed",
        "dose.formulation_route_mismatch",
        "dose.route_not_allowed",
        "dose.withheld",
        *MONITORING,
        "monitoring.recheck_missing",
        "monitoring.spo2_missing",
    ),
    "im-kap": (*RACEMIC, "dose.above_max", "monitoring.recheck_missing"),
    "iv-racemic-standard": (
        *RACEMIC,
        "dose.above_max",
        "dose.rate_above_max",
        "monitoring.recheck_missing",
    ),
    "sc-racemic": (*RACEMIC, "dose.above_max"),
    "sl-kap": (*RACEMIC, "dose.cumulative_above_max"),
}
SESSION_CODES["esketamine-trd"] = SESSION_CODES["esketamine-mdsi"]
COURSE_CODES = {
    "esketamine-mdsi": SCREENING,
    "esketamine-trd": (
        "assessment.missing",
        "dose.above_first_session_max",
        "integration.late",
        *SCREENING,
    ),
    "im-kap": (*KAP_WEEKLY, *SCREENING),
    "iv-racemic-standard": ("assessment.missing", "integration.late", *SCREENING),
    "sc-racemic": SCREENING,
    "sl-kap": (*KAP_WEEKLY, *SCREENING),
}


def clinic_protocol() -> Protocol:
    """im-kap as a clinic might set it: a minimum dose and a minimum interval."""
    protocol = get_protocol("im-kap")
    entry = DoseLimits.from_dict(
        {
            "route": "intramuscular",
            "formulations": ["solution_for_injection"],
            "min": "0.1 mg/kg",
            "per_administration_max": "0.75 mg/kg",
        }
    )
    return attrs.evolve(
        protocol,
        id="clinic-im",
        doses=(entry,),
        schedule=Schedule(Parameter(quantity("6 d"))),
    )


def test_every_builtin_protocol_is_pinned() -> None:
    """The tables above cover the six built-in protocols."""
    assert BUILTIN == sorted(SESSION_CODES) == sorted(COURSE_CODES)


@pytest.mark.parametrize("protocol_id", BUILTIN)
def test_codes_each_builtin_protocol_supports(protocol_id: str) -> None:
    """violation_codes and course_violation_codes give the pinned codes, sorted."""
    assert tuple(sorted(SESSION_CODES[protocol_id])) == violation_codes(protocol_id)
    assert tuple(sorted(COURSE_CODES[protocol_id])) == course_violation_codes(protocol_id)


@pytest.mark.parametrize("protocol_id", BUILTIN)
def test_every_catalogue_code_is_produced_or_refused_by_name(protocol_id: str) -> None:
    """For each code of data/findings.toml: one generator draws it, or both say why not, naming code and protocol."""
    protocol = get_protocol(protocol_id)
    named = f"{protocol.id}@{protocol.version}"
    for code in finding_catalogue():
        if code in violation_codes(protocol):
            violations(protocol, code)
            with pytest.raises(ValidationError, match=re.escape("violations(protocol, ")):
                course_violations(protocol, code)
        elif code in course_violation_codes(protocol):
            course_violations(protocol, code)
            with pytest.raises(ValidationError, match=re.escape("course_violations(protocol, ")):
                violations(protocol, code)
        else:
            for generator in (violations, course_violations):
                with pytest.raises(ValidationError) as caught:
                    generator(protocol, code)
                assert code in str(caught.value), (generator, code)
                assert named in str(caught.value), (generator, code)


def test_codes_no_builtin_protocol_can_produce() -> None:
    """dose.below_min and schedule.interval_too_short: no built-in sets min or min_interval."""
    for protocol_id in BUILTIN:
        produced = {*violation_codes(protocol_id), *course_violation_codes(protocol_id)}
        assert not produced & {"dose.below_min", "schedule.interval_too_short"}
        protocol = get_protocol(protocol_id)
        assert protocol.schedule.min_interval is None
        assert all(entry.min is None for entry in protocol.doses)


def test_every_catalogue_code_has_a_generator() -> None:
    """Over the built-in protocols and a clinic's (min, min_interval), every finding code is drawn."""
    produced = {
        code
        for protocol in (*BUILTIN, clinic_protocol())
        for code in (*violation_codes(protocol), *course_violation_codes(protocol))
    }
    assert set(finding_catalogue()) == produced


def test_below_min_under_a_clinic_protocol() -> None:
    """A dose under the clinic's min is exactly dose.below_min, and an ERROR."""
    protocol = clinic_protocol()

    @settings(max_examples=20, deadline=None)
    @given(violations(protocol, "dose.below_min"))
    def check(session: Session) -> None:
        report = check_session(session, protocol)
        assert (Status.NONCOMPLIANT, ["dose.below_min"]) == (report.status, report.codes())

    check()


def test_a_withheld_dose_is_reported_and_compliant() -> None:
    """A dosing session with no dose gives the INFO finding dose.withheld, nothing else."""
    protocol = get_protocol("esketamine-trd")

    @settings(max_examples=20, deadline=None)
    @given(violations(protocol, "dose.withheld"))
    def check(session: Session) -> None:
        assert (session.administrations, bool(session.withheld_reason)) == ((), True)
        report = check_session(session, protocol)
        assert (Status.COMPLIANT, ["dose.withheld"]) == (report.status, report.codes())

    check()


def test_violations_refuse_a_course_code() -> None:
    """violations() says a course code needs course_violations(), naming the protocol."""
    with pytest.raises(
        ValidationError, match=r"course_violations\(protocol, 'screening\.review'\)"
    ):
        violations("im-kap", "screening.review")
    with pytest.raises(ValidationError, match=re.escape("esketamine-trd@1")):
        violations("esketamine-trd", "dose.above_first_session_max")


def test_course_violations_refuse_a_session_code() -> None:
    """course_violations() sends a code a session shows alone to violations()."""
    with pytest.raises(ValidationError, match=r"violations\(protocol, 'dose\.above_max'\)"):
        course_violations("im-kap", "dose.above_max")


def test_unknown_codes_are_refused_by_both() -> None:
    """A code that is no finding is an UnknownReferenceError (a LookupError) from either generator."""
    for generator in (violations, course_violations):
        with pytest.raises(UnknownReferenceError) as caught:
            generator("im-kap", "dose.nonsense")
        assert isinstance(caught.value, LookupError)
        assert isinstance(caught.value, KapprotoError)
        assert "dose.nonsense" in str(caught.value)
