"""Courses: a patient's sessions under one protocol, with intervals, exposure and outcomes."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from typing import Any

import attrs

from kapproto._bounds import round_to
from kapproto._dose_checks import basis_factor
from kapproto._routes import Basis
from kapproto._sessions import Reference, Session, SessionKind, SessionStatus
from kapproto._validators import instant, text
from kapproto.exceptions import KapprotoError, ValidationError
from kapproto.instruments import (
    Change,
    Score,
    change,
    get_instrument,
    is_remission,
    is_response,
)
from kapproto.screening import ScreeningReport
from kapproto.serialization import register_document
from kapproto.units import MASS, Mass

__all__ = ["Course", "CourseOutcome"]


@attrs.frozen
class CourseOutcome:
    """Change on one instrument from the first to the last score of a course.

    Attributes:
        instrument: Instrument id, e.g. ``"phq9"``.
        baseline: The first score and when it was taken.
        latest: The last score and when it was taken.
        change: Absolute and percent change in total.
        response: Whether the fall meets the instrument's response rule
            (``None`` where the instrument defines none).
        remission: Whether the latest score is in remission (``None`` where
            the instrument defines none).

    Example:
        >>> from kapproto import Course, from_json
        >>> course = from_json(open("examples/sessions/course.json").read(), Course)
        >>> outcome = course.outcome("phq9")
        >>> outcome.baseline[1].total, outcome.latest[1].total, outcome.change.absolute
        (12, 4, -8)
        >>> outcome.response, outcome.remission
        (True, True)
    """

    instrument: str
    baseline: tuple[dt.datetime, Score]
    latest: tuple[dt.datetime, Score]
    change: Change
    response: bool | None
    remission: bool | None


def _maybe(rule: Any, *args: Any) -> bool | None:
    try:
        return bool(rule(*args))
    except KapprotoError:
        return None


@register_document("course", 1)
@attrs.frozen
class Course:
    """A patient's course of KAP sessions under one protocol.

    Attributes:
        id: The course's id.
        patient: Opaque patient id; every session's ``patient`` must match.
        protocol: The protocol the course runs under.
        timezone: IANA zone for windows in days or weeks and for "day 1".
        screenings: Screening reports, in the order done.
        sessions: Sessions ordered by start.

    Example:
        >>> from kapproto import Course, from_json
        >>> course = from_json(open("examples/sessions/course.json").read(), Course)
        >>> course.protocol, len(course.sessions), len(course.dosing_sessions)
        (Reference(id='im-kap', version='1'), 8, 3)
    """

    id: str = attrs.field(validator=text)
    patient: str = attrs.field(validator=text)
    protocol: Reference
    timezone: zoneinfo.ZoneInfo
    screenings: tuple[ScreeningReport, ...] = ()
    sessions: tuple[Session, ...] = ()

    def __attrs_post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        ids: set[str] = set()
        for i, s in enumerate(self.sessions):
            if s.patient != self.patient:
                problems.append(
                    (
                        f"$.sessions[{i}].patient",
                        f"patient {s.patient!r} is not the course's patient {self.patient!r}",
                    )
                )
            if s.id in ids:
                problems.append((f"$.sessions[{i}].id", f"duplicate session id {s.id!r}"))
            ids.add(s.id)
            if i and instant(s.start) < instant(self.sessions[i - 1].start):
                problems.append((f"$.sessions[{i}].start", "sessions must be ordered by start"))
        for i, s in enumerate(self.sessions):
            if s.supersedes is not None and s.supersedes not in ids:
                problems.append(
                    (f"$.sessions[{i}].supersedes", f"no session {s.supersedes!r} in this course")
                )
        if problems:
            raise ValidationError(problems=problems)

    @property
    def effective_sessions(self) -> tuple[Session, ...]:
        """The sessions that count, those neither entered in error nor superseded by a later record."""
        superseded = {s.supersedes for s in self.sessions if s.supersedes}
        return tuple(
            s
            for s in self.sessions
            if s.status is not SessionStatus.ENTERED_IN_ERROR and s.id not in superseded
        )

    @property
    def dosing_sessions(self) -> tuple[Session, ...]:
        """Effective dosing sessions in which a dose was given, in order."""
        return tuple(
            s for s in self.effective_sessions if s.kind is SessionKind.DOSING and s.administrations
        )

    def intervals(self) -> list[dt.timedelta]:
        """Time between the first administrations of consecutive dosing sessions."""
        starts = [
            s.first_administration.start for s in self.dosing_sessions if s.first_administration
        ]
        return [instant(b) - instant(a) for a, b in itertools.pairwise(starts)]

    def cumulative_exposure(self) -> dict[str, Mass]:
        """Total amount given over the course, per medication, in mg of **base**.

        Amounts recorded as hydrochloride salt are converted to base with the
        medication's ``hydrochloride_per_base`` (``data/medications.toml``:
        10 mg ketamine base = 11.53 mg ketamine HCl, Ketalar US PI), so a
        course that mixes bases never adds salt and base milligrams together.
        The total is rounded half-even to the MASS resolution (0.1 mg). Only
        effective dosing sessions count (see :attr:`dosing_sessions`).

        Returns:
            Medication id (``"ketamine"``, ``"esketamine"``) to a MASS in mg of base.

        Example:
            >>> from kapproto import Course, from_json
            >>> course = from_json(open("examples/sessions/course.json").read(), Course)
            >>> str(course.cumulative_exposure()["ketamine"])
            '144.0 milligram'
        """
        totals: dict[str, float] = {}
        for s in self.dosing_sessions:
            for adm in s.administrations:
                mg = float(adm.amount.magnitude) * basis_factor(adm, Basis.BASE)
                key = adm.medication.value
                totals[key] = totals.get(key, 0.0) + mg
        return {key: MASS.quantity(float(round_to(mg, MASS)), "mg") for key, mg in totals.items()}

    def day_of(self, moment: dt.datetime) -> int:
        """Course day of ``moment`` in the course's zone.

        Day 1 is the date of the first effective dosing session in which a dose
        was given or, before any, of the first session. Days count calendar
        dates on the course's IANA zone wall clock, so a DST change never moves
        a day boundary.

        Raises:
            ValidationError: The course has no sessions, so it has no day 1
                (path ``$.sessions``).
        """
        if self.dosing_sessions:
            first = self.dosing_sessions[0].start
        elif self.sessions:
            first = self.sessions[0].start
        else:
            raise ValidationError(
                f"course {self.id!r} has no sessions, so it has no day 1", path="$.sessions"
            )
        start_day = first.astimezone(self.timezone).date()
        return (moment.astimezone(self.timezone).date() - start_day).days + 1

    def scores(self, instrument: str) -> list[tuple[dt.datetime, Score]]:
        """Every score of ``instrument`` over the course, in real-time order.

        Sorted by instant, not wall clock: 01:20 MST after the autumn DST
        change comes after 01:30 MDT. Only effective sessions count.

        Returns:
            ``(time, score)`` pairs; empty when the instrument was never given.

        Raises:
            UnknownReferenceError: ``instrument`` is not a known instrument id
                (the message lists the known ones). A known instrument that
                was never given is not an error: the list is empty.
        """
        get_instrument(instrument)
        found = [
            (r.time, score)
            for s in self.effective_sessions
            for r, score in s.scores()
            if r.instrument == instrument
        ]
        return sorted(found, key=lambda pair: instant(pair[0]))

    def outcome(self, instrument: str) -> CourseOutcome | None:
        """Change, response and remission on ``instrument`` from first to last score.

        Response and remission are ``None`` where the instrument defines no
        such rule (see the instruments reference).

        Returns:
            The outcome, or ``None`` when the course has fewer than two scores
            of a known instrument (for instance one never given).

        Raises:
            UnknownReferenceError: ``instrument`` is not a known instrument id
                (the message lists the known ones).
        """
        series = self.scores(instrument)
        if len(series) < 2:
            return None
        first, last = series[0], series[-1]
        return CourseOutcome(
            instrument=instrument,
            baseline=first,
            latest=last,
            change=change(instrument, first[1], last[1]),
            response=_maybe(is_response, instrument, first[1], last[1]),
            remission=_maybe(is_remission, instrument, last[1]),
        )
