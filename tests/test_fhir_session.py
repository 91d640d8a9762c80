"""Tests for kapproto._fhir_session's course export: a Course as one FHIR R4 Bundle."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto import Course
from kapproto._sessions import Reference, SessionStatus
from kapproto.fhir import dumps, to_fhir
from kapproto.serialization import from_json
from kapproto.testing import sessions

Check = Callable[[dict[str, Any]], None]
COURSE = Path(__file__).parent.parent / "examples" / "sessions" / "course.json"


def example_course() -> Course:
    """The example three-dose IM course."""
    return from_json(COURSE.read_text(encoding="utf-8"), Course)


def test_example_course_validates(fhir_valid: Check) -> None:
    """The example course's Bundle and every entry validate with both libraries and kapproto."""
    fhir_valid(to_fhir(example_course()))


def test_course_bundle_is_its_sessions_bundles_joined() -> None:
    """The course Bundle holds each effective session's entries, same fullUrls, in order."""
    course = example_course()
    bundle = to_fhir(course)
    expected = [e["fullUrl"] for s in course.effective_sessions for e in to_fhir(s)["entry"]]
    assert ("collection", expected) == (bundle["type"], [e["fullUrl"] for e in bundle["entry"]])
    assert len(expected) == len(set(expected))


def test_entered_in_error_and_superseded_sessions_are_left_out() -> None:
    """A session entered in error and one superseded by a correction give no entries."""
    course = example_course()
    first, second = course.sessions[1], course.sessions[3]
    wrong = attrs.evolve(second, status=SessionStatus.ENTERED_IN_ERROR)
    fixed = attrs.evolve(first, id="dose-1-corrected", supersedes=first.id)
    changed = attrs.evolve(
        course,
        sessions=[*course.sessions[:2], fixed, course.sessions[2], wrong, *course.sessions[4:]],
    )
    urls = {e["fullUrl"] for e in to_fhir(changed)["entry"]}
    gone = {e["fullUrl"] for s in (first, wrong) for e in to_fhir(s)["entry"]}
    kept = {e["fullUrl"] for e in to_fhir(fixed)["entry"]}
    assert (set(), kept) == (urls & gone, urls & kept)


def test_course_bundle_id_is_stable() -> None:
    """Two exports of the same course are byte-identical."""
    assert dumps(to_fhir(example_course())) == dumps(to_fhir(example_course()))


def test_empty_course_has_no_entry_array() -> None:
    """A course without sessions gives a Bundle without entries (FHIR JSON has no empty arrays)."""
    course = attrs.evolve(example_course(), sessions=())
    assert "entry" not in to_fhir(course)


@st.composite
def courses(draw: st.DrawFn) -> Course:
    """Courses of generated im-kap sessions for one patient, some entered in error."""
    drawn = draw(st.lists(sessions("im-kap"), min_size=1, max_size=3))
    drawn.sort(key=lambda s: s.start.timestamp())
    records = []
    for i, s in enumerate(drawn):
        status = draw(st.sampled_from([SessionStatus.FINAL, SessionStatus.ENTERED_IN_ERROR]))
        records.append(attrs.evolve(s, id=f"s{i}", patient="p1", status=status, supersedes=None))
    return Course(
        id="c1",
        patient="p1",
        protocol=Reference("im-kap", "1"),
        timezone=zoneinfo.ZoneInfo("America/Denver"),
        sessions=tuple(records),
    )


@settings(max_examples=10, deadline=None)
@given(courses())
def test_generated_courses_validate(fhir_valid: Check, course: Course) -> None:
    """Every generated course's Bundle validates, has unique fullUrls and is deterministic."""
    bundle = to_fhir(course)
    fhir_valid(bundle)
    urls = [e["fullUrl"] for e in bundle.get("entry", [])]
    assert len(urls) == len(set(urls))
    assert sum(len(to_fhir(s)["entry"]) for s in course.effective_sessions) == len(urls)
    assert dumps(bundle) == dumps(to_fhir(course))
