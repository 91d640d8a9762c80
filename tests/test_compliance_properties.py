"""Property tests of the compliance check over generated sessions (kapproto.testing)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto import Catalog, Session, Status, check_session, get_protocol
from kapproto.exceptions import KapprotoError, UnknownReferenceError, ValidationError
from kapproto.serialization import from_json, to_json
from kapproto.testing import (
    sessions,
    sessions_missing_a_record,
    violation_codes,
    violations,
)

BUILTIN = sorted({pid for pid, _ in Catalog.builtin().protocols.entries})
FEW = settings(max_examples=50, deadline=None)
CASES = [(pid, code) for pid in BUILTIN for code in violation_codes(pid)]


def expected_codes(protocol_id: str, code: str) -> list[str]:
    """The findings a violation gives: its code, and for a mismatch the entry's formulation list too."""
    if code == "dose.formulation_route_mismatch" and all(
        e.formulations for e in get_protocol(protocol_id).doses
    ):
        return [code, "dose.formulation_not_allowed"]
    return [code]


def test_every_builtin_protocol_is_covered() -> None:
    """The six built-in protocols of DESIGN.md are the ones generated for."""
    expected = [
        "esketamine-mdsi",
        "esketamine-trd",
        "im-kap",
        "iv-racemic-standard",
        "sc-racemic",
        "sl-kap",
    ]
    assert expected == BUILTIN


@pytest.mark.parametrize("protocol_id", BUILTIN)
def test_generated_sessions_comply(protocol_id: str) -> None:
    """Every session from sessions(protocol=p) is COMPLIANT under p, with no finding."""
    protocol = get_protocol(protocol_id)

    @FEW
    @given(sessions(protocol))
    def check(session: Session) -> None:
        report = check_session(session, protocol)
        assert (Status.COMPLIANT, [], ()) == (report.status, report.codes(), report.not_evaluable)

    check()


@FEW
@given(sessions())
def test_sessions_without_protocol_comply_with_their_own(session: Session) -> None:
    """sessions() with no protocol draws a built-in one and complies with the one it names."""
    assert session.protocol is not None
    protocol = get_protocol(session.protocol.id, session.protocol.version)
    assert Status.COMPLIANT == check_session(session, protocol).status


@pytest.mark.parametrize("protocol_id", BUILTIN)
def test_sessions_accept_a_protocol_id(protocol_id: str) -> None:
    """A built-in protocol id works as well as the Protocol object."""

    @settings(max_examples=5, deadline=None)
    @given(sessions(protocol_id))
    def check(session: Session) -> None:
        assert check_session(session, get_protocol(protocol_id)).ok

    check()


@pytest.mark.parametrize(("protocol_id", "code"), CASES)
def test_each_violation_gives_exactly_its_code(protocol_id: str, code: str) -> None:
    """violations(p, code) gives that finding code and no other."""
    protocol = get_protocol(protocol_id)

    @settings(max_examples=15, deadline=None)
    @given(violations(protocol, code))
    def check(session: Session) -> None:
        assert expected_codes(protocol_id, code) == check_session(session, protocol).codes()

    check()


@pytest.mark.parametrize(("protocol_id", "code"), CASES)
def test_error_violations_are_noncompliant(protocol_id: str, code: str) -> None:
    """A violation whose finding is an error makes the report NONCOMPLIANT; a warning does not."""
    protocol = get_protocol(protocol_id)

    @settings(max_examples=5, deadline=None)
    @given(violations(protocol, code))
    def check(session: Session) -> None:
        report = check_session(session, protocol)
        errors = [f for f in report.findings if f.severity.value == "error"]
        assert (Status.NONCOMPLIANT if errors else Status.COMPLIANT) == report.status

    check()


@pytest.mark.parametrize("protocol_id", BUILTIN)
def test_removing_a_needed_record_is_never_compliant(protocol_id: str) -> None:
    """Removing any one record a check needs never leaves the report COMPLIANT."""
    protocol = get_protocol(protocol_id)

    @FEW
    @given(sessions_missing_a_record(protocol))
    def check(pair: tuple[str, Session]) -> None:
        what, session = pair
        report = check_session(session, protocol)
        assert report.status is not Status.COMPLIANT, what
        if report.status is Status.INCOMPLETE:
            assert report.not_evaluable, what

    check()


@pytest.mark.parametrize("protocol_id", BUILTIN)
def test_session_json_round_trips(protocol_id: str) -> None:
    """A generated session survives to_json/from_json unchanged, and so does its JSON."""

    @FEW
    @given(sessions(protocol_id))
    def check(session: Session) -> None:
        text = to_json(session)
        again = from_json(text, Session)
        assert (session, text) == (again, to_json(again))

    check()


@settings(max_examples=20, deadline=None)
@given(sessions(), st.integers(min_value=2, max_value=99))
def test_newer_session_schema_is_refused(session: Session, version: int) -> None:
    """A session document of a newer schema version is refused, naming the version."""
    data = json.loads(to_json(session))
    data["schema"] = f"kapproto.session/{version}"
    with pytest.raises(KapprotoError) as caught:
        from_json(json.dumps(data), Session)
    assert f"kapproto.session/{version}" in str(caught.value)


@pytest.mark.parametrize("schema", ["kapproto.sesion/1", "kapproto.session/0", "session/1"])
def test_unknown_session_schema_is_refused(schema: str) -> None:
    """A document naming an unknown schema is refused with a kapproto error at $.schema."""
    with open("examples/sessions/im-session.json", encoding="utf-8") as f:
        data = json.load(f)
    data["schema"] = schema
    with pytest.raises(KapprotoError) as caught:
        from_json(json.dumps(data), Session)
    assert "$.schema" in [p for p, _ in caught.value.problems]


def test_violation_of_unknown_code_is_refused() -> None:
    """violations() with a code it cannot generate raises UnknownReferenceError listing the known ones."""
    with pytest.raises(UnknownReferenceError, match=re.escape("dose.above_max")):
        violations("im-kap", "dose.nonsense")


def test_violation_the_protocol_does_not_configure_is_refused() -> None:
    """im-kap sets no pulse oximetry, so it cannot be broken by a missing SpO2."""
    with pytest.raises(
        ValidationError, match=re.escape("does not configure what monitoring.spo2_missing")
    ):
        violations("im-kap", "monitoring.spo2_missing")


def test_violation_codes_follow_the_protocol() -> None:
    """Device codes only for esketamine, the recheck only where configured, SpO2 only where required."""
    assert "dose.device_spacing" in violation_codes("esketamine-trd")
    assert "dose.device_spacing" not in violation_codes("im-kap")
    assert "monitoring.recheck_missing" not in violation_codes("sl-kap")
    assert "monitoring.spo2_missing" in violation_codes(get_protocol("esketamine-mdsi"))
