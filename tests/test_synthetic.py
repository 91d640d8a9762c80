"""Tests for kapproto.synthetic, and a run of every researcher example script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto import (
    Course,
    Decision,
    Route,
    SessionKind,
    Status,
    ValidationError,
    check_session,
    from_json,
    get_protocol,
    is_remission,
    is_response,
    to_json,
)
from kapproto.exceptions import KapprotoError, UnknownReferenceError
from kapproto.screening import screen_many
from kapproto.synthetic import NOTE, candidates, cohort

ROOT = Path(__file__).resolve().parents[1]
BUILTIN = [
    "iv-racemic-standard",
    "im-kap",
    "sl-kap",
    "sc-racemic",
    "esketamine-trd",
    "esketamine-mdsi",
]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(-(2**63), 2**63), n=st.integers(0, 3))
def test_same_seed_same_json(seed: int, n: int) -> None:
    """The same seed gives a byte-identical cohort."""
    first = [to_json(c) for c in cohort(n, seed=seed, protocol=BUILTIN)]
    assert first == [to_json(c) for c in cohort(n, seed=seed, protocol=BUILTIN)]


def test_different_seeds_differ() -> None:
    """Another seed gives another cohort."""
    assert to_json(cohort(1, seed=1)[0]) != to_json(cohort(1, seed=2)[0])


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 6))
def test_course_depends_only_on_seed_and_index(seed: int, n: int) -> None:
    """A smaller cohort is a prefix of a larger one with the same seed."""
    small = cohort(n, seed=seed, protocol="sl-kap")
    assert small == cohort(n + 2, seed=seed, protocol="sl-kap")[:n]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), protocol=st.sampled_from(BUILTIN))
def test_every_course_round_trips_through_json(seed: int, protocol: str) -> None:
    """Each generated course comes back equal from its canonical JSON."""
    for course in cohort(2, seed=seed, protocol=protocol):
        text = to_json(course)
        again = from_json(text, Course)
        assert course == again
        assert text == to_json(again)


def test_labelled_synthetic() -> None:
    """Patient ids start with 'synthetic-' and every session carries the synthetic note."""
    for course in cohort(5, seed=3, protocol=BUILTIN):
        assert course.patient.startswith("synthetic-")
        assert {NOTE} == {s.notes for s in course.sessions}


def test_most_dosing_sessions_are_compliant() -> None:
    """Between 80 % and 99 % of dosing sessions comply with their protocol (deviations are injected)."""
    status: Counter[Status] = Counter()
    for course in cohort(120, seed=11, protocol=BUILTIN):
        protocol = get_protocol(course.protocol.id, course.protocol.version)
        for session in course.dosing_sessions:
            status[check_session(session, protocol, course=course).status] += 1
    total = sum(status.values())
    assert 0 == status[Status.INCOMPLETE]
    assert 0.8 <= status[Status.COMPLIANT] / total < 0.99


def test_doses_stay_within_limits() -> None:
    """No generated session has a dose.* finding: doses are clipped to the protocol's limits."""
    for course in cohort(60, seed=4, protocol=BUILTIN):
        protocol = get_protocol(course.protocol.id)
        for session in course.dosing_sessions:
            codes = check_session(session, protocol, course=course).codes()
            assert [] == [c for c in codes if c.startswith("dose.")]


def test_mix_of_routes() -> None:
    """Several protocols are taken in turn, and sl-kap gives both of its routes."""
    routes = Counter(
        c.dosing_sessions[0].administrations[0].route
        for c in cohort(60, seed=5, protocol=["iv-racemic-standard", "sl-kap", "esketamine-trd"])
    )
    assert {Route.INTRAVENOUS, Route.SUBLINGUAL, Route.BUCCAL, Route.INTRANASAL} == set(routes)
    assert 20 == routes[Route.INTRAVENOUS]


def test_accepts_a_protocol_object() -> None:
    """A Protocol object works like its id."""
    protocol = get_protocol("im-kap")
    assert cohort(2, seed=9, protocol=protocol) == cohort(2, seed=9, protocol="im-kap")


def test_esketamine_whole_devices_and_first_session() -> None:
    """Esketamine sessions use 28 mg devices 5 min apart, 56 mg on the first session."""
    for course in cohort(20, seed=6, protocol="esketamine-trd"):
        sessions = course.dosing_sessions
        assert [56.0] == [sum(a.amount.magnitude for a in sessions[0].administrations)]
        for s in sessions:
            assert {28.0} == {a.amount.magnitude for a in s.administrations}
            assert len(s.administrations) in (2, 3)


def test_outcome_spread_is_realistic() -> None:
    """PHQ-9 response at follow-up is 30-60 % and remission 10-35 % over 400 courses."""
    outcomes = [c.outcome("phq9") for c in cohort(400, seed=8, protocol=BUILTIN)]
    assert all(o is not None for o in outcomes)
    response = sum(bool(o.response) for o in outcomes if o) / len(outcomes)
    remission = sum(bool(o.remission) for o in outcomes if o) / len(outcomes)
    assert 0.3 <= response <= 0.6
    assert 0.1 <= remission <= 0.35


def test_follow_up_at_about_four_weeks() -> None:
    """The last PHQ-9 is 26 to 30 days after the first dose, with baseline and follow-up scored."""
    for course in cohort(20, seed=2, protocol=BUILTIN):
        outcome = course.outcome("phq9")
        assert outcome is not None
        days = course.day_of(outcome.latest[0]) - 1
        assert 26 <= days <= 30
        assert SessionKind.FOLLOW_UP is course.sessions[-1].kind
        assert outcome.response == is_response("phq9", outcome.baseline[1], outcome.latest[1])
        assert outcome.remission == is_remission("phq9", outcome.latest[1])


def test_courses_are_screened_before_dosing() -> None:
    """Each course carries one screening report, eligible or review, dated before the first dose."""
    for course in cohort(30, seed=7):
        (report,) = course.screenings
        assert report.decision in (Decision.ELIGIBLE, Decision.REVIEW)
        assert report.time is not None
        assert report.time <= course.dosing_sessions[0].start


def test_candidates_give_every_decision() -> None:
    """Raw candidates screen to all four decisions and are labelled synthetic."""
    facts = candidates(400, seed=1)
    run = screen_many(facts, "ketamine-contraindications")
    assert 400 == len(list(run))
    summary = run.summary
    assert set(Decision) == {d for d, count in summary.items() if count}
    assert all(f["extra.synthetic"] is True for f in facts)
    assert [f.to_dict() for f in facts] == [f.to_dict() for f in candidates(400, seed=1)]


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_bad_n(bad: object) -> None:
    """A count that is not a whole number of at least 0 is a ValidationError at $.n."""
    with pytest.raises(ValidationError, match=r"\$\.n: n=") as info:
        cohort(bad)  # type: ignore[arg-type]
    assert "$.n" == info.value.problems[0].path
    with pytest.raises(ValidationError, match=r"\$\.n: n="):
        candidates(bad)  # type: ignore[arg-type]


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=60, deadline=None)
@given(n=JUNK, seed=JUNK, protocol=JUNK, start=JUNK, catalog=JUNK)
def test_bad_arguments_raise_only_kapproto_errors(
    n: object, seed: object, protocol: object, start: object, catalog: object
) -> None:
    """Junk arguments give a KapprotoError (or a small valid cohort), never another exception."""
    if isinstance(n, int) and n > 2:
        n = 2  # keep the valid cases fast
    try:
        courses = cohort(n, seed=seed, protocol=protocol, start=start, catalog=catalog)  # type: ignore[arg-type]
    except KapprotoError:
        return
    assert all(isinstance(c, Course) for c in courses)


def test_bad_seed_start_catalog_protocol_item() -> None:
    """A non-integer seed, a non-date start, a non-catalog and a non-id protocol name their paths."""
    with pytest.raises(ValidationError, match=r"\$\.seed: seed='x' must be an integer"):
        cohort(1, seed="x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"\$\.start: start='2026-01-01' must be a date"):
        cohort(1, start="2026-01-01")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"\$\.catalog: catalog=\{\} must be"):
        cohort(1, catalog={})  # type: ignore[arg-type]
    with pytest.raises(
        ValidationError, match=r"\$\.protocol\[1\]: protocol=5 must be a protocol id"
    ):
        cohort(1, protocol=["im-kap", 5])  # type: ignore[list-item]


def test_no_protocol_and_unknown_protocol() -> None:
    """An empty protocol list and an unknown id are refused with their reasons."""
    with pytest.raises(ValidationError, match="at least one protocol"):
        cohort(1, protocol=[])
    with pytest.raises(UnknownReferenceError, match="unknown protocol 'nope'"):
        cohort(1, protocol="nope")


EXAMPLES = sorted((ROOT / "examples").rglob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_example_runs(script: Path, tmp_path: Path) -> None:
    """Each script in examples/ runs from another directory and exits 0."""
    env = {**os.environ, "KAPPROTO_EXAMPLE_OUT": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
