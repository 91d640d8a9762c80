"""Sessions and courses: what happened, kept as recorded.

A :class:`Session` is refused only when it is malformed or physically
impossible (naive or disordered times, records outside the session, a dosing
session with neither a dose nor a withheld reason). What is clinically wrong
but possible is stored as recorded and reported by the checks.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
import cattrs

from kapproto._administration import Administration
from kapproto._findings import finding_catalogue
from kapproto._limits import check_weight
from kapproto._routes import coerce_enum
from kapproto._validators import aware, instant, text
from kapproto._vitals import VitalSigns
from kapproto.exceptions import ValidationError
from kapproto.instruments import (
    InstrumentResponse,
    Score,
)
from kapproto.screening import Facts
from kapproto.serialization import register_document, register_hooks
from kapproto.units import BODY_MASS, BodyMass, kind_field

__all__ = [
    "Acknowledgement",
    "AdverseEvent",
    "AdverseEventOutcome",
    "AdverseEventSeverity",
    "Reference",
    "Session",
    "SessionKind",
    "SessionStatus",
    "Seriousness",
    "facts_from_session",
]


class SessionKind(enum.Enum):
    """What a session was for.

    Example:
        >>> from kapproto import Course, from_json
        >>> course = from_json(open("examples/sessions/course.json").read(), Course)
        >>> [s.kind.value for s in course.sessions][:4]
        ['preparation', 'dosing', 'integration', 'dosing']
    """

    PREPARATION = "preparation"
    DOSING = "dosing"
    INTEGRATION = "integration"
    FOLLOW_UP = "follow_up"


class SessionStatus(enum.Enum):
    """Status of a session record; corrections are new records, never edits.

    Example:
        >>> from kapproto import Session, SessionStatus, from_json
        >>> from_json(open("examples/sessions/im-session.json").read(), Session).status
        <SessionStatus.FINAL: 'final'>
        >>> SessionStatus("entered_in_error")
        <SessionStatus.ENTERED_IN_ERROR: 'entered_in_error'>
    """

    FINAL = "final"
    AMENDED = "amended"
    ENTERED_IN_ERROR = "entered_in_error"


class AdverseEventSeverity(enum.Enum):
    """Severity of an adverse event (FHIR R4 AdverseEvent.severity).

    Example:
        >>> from kapproto import AdverseEventSeverity
        >>> [s.value for s in AdverseEventSeverity]
        ['mild', 'moderate', 'severe']
    """

    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class Seriousness(enum.Enum):
    """Whether an adverse event was serious (FHIR R4 AdverseEvent.seriousness).

    Example:
        >>> from kapproto import Seriousness
        >>> Seriousness("serious")
        <Seriousness.SERIOUS: 'serious'>
    """

    SERIOUS = "serious"
    NON_SERIOUS = "non_serious"


class AdverseEventOutcome(enum.Enum):
    """Outcome of an adverse event (FHIR R4 AdverseEvent.outcome).

    Example:
        >>> from kapproto import AdverseEventOutcome
        >>> AdverseEventOutcome("resolved_with_sequelae")
        <AdverseEventOutcome.RESOLVED_WITH_SEQUELAE: 'resolved_with_sequelae'>
    """

    RESOLVED = "resolved"
    RECOVERING = "recovering"
    ONGOING = "ongoing"
    RESOLVED_WITH_SEQUELAE = "resolved_with_sequelae"
    FATAL = "fatal"
    UNKNOWN = "unknown"


@attrs.frozen
class Reference:
    """A reference to a versioned catalogue entry (protocol, rule set, template).

    Attributes:
        id: The entry's id, e.g. ``"im-kap"``.
        version: Its version, e.g. ``"1"``.

    Example:
        >>> from kapproto import Reference, get_protocol
        >>> get_protocol("im-kap").ref
        Reference(id='im-kap', version='1')
        >>> str(Reference("im-kap", "1"))
        'im-kap@1'
    """

    id: str = attrs.field(validator=text)
    version: str = attrs.field(validator=text)

    def __str__(self) -> str:
        return f"{self.id}@{self.version}"


@attrs.frozen
class AdverseEvent:
    """An adverse event during or after a session.

    Attributes:
        term: What happened, in the clinician's words (e.g. ``"nausea"``).
        onset: When it began (timezone-aware).
        severity: Mild, moderate or severe.
        seriousness: Serious or not.
        action_taken: What was done, if anything.
        outcome: How it ended, if known.

    Example:
        >>> import datetime as dt
        >>> from kapproto import AdverseEvent, AdverseEventSeverity
        >>> onset = dt.datetime(2026, 3, 2, 9, 40, tzinfo=dt.timezone.utc)
        >>> event = AdverseEvent(term="nausea", onset=onset, severity=AdverseEventSeverity.MILD)
        >>> event.seriousness
        <Seriousness.NON_SERIOUS: 'non_serious'>
    """

    term: str = attrs.field(validator=text)
    onset: dt.datetime = attrs.field(validator=aware)
    severity: AdverseEventSeverity
    seriousness: Seriousness = Seriousness.NON_SERIOUS
    action_taken: str | None = None
    outcome: AdverseEventOutcome = AdverseEventOutcome.UNKNOWN


def _known_code(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in finding_catalogue():
        raise ValidationError(
            f"code={value!r} is not a finding code; see `kapproto list findings`",
            path=f"$.{attribute.name}",
        )


@attrs.frozen
class Acknowledgement:
    """A clinician's record that they weighed a warning (e.g. pre-dose BP above 140/90).

    The finding stays in the report, marked acknowledged; an acknowledgement
    never turns an error into compliance.

    Attributes:
        code: The finding code acknowledged, e.g. ``"monitoring.bp_elevated_predose"``.
        role: Who acknowledged it (a role, not a name), e.g. ``"prescriber"``.
        reason: Why dosing went ahead.
        time: When (timezone-aware).

    Example:
        >>> import datetime as dt
        >>> from kapproto import Acknowledgement
        >>> at = dt.datetime(2026, 3, 2, 9, 5, tzinfo=dt.timezone.utc)
        >>> code = "monitoring.bp_elevated_predose"
        >>> ack = Acknowledgement(code, "physician", "BP 142/88, rechecked before dosing", at)
        >>> ack.code, ack.role
        ('monitoring.bp_elevated_predose', 'physician')
    """

    code: str = attrs.field(validator=_known_code)
    role: str = attrs.field(validator=text)
    reason: str = attrs.field(validator=text)
    time: dt.datetime = attrs.field(validator=aware)


def _to_kind(value: object) -> SessionKind:
    """Convert, as an attrs converter, a session's ``kind`` (a member or its value)."""
    return coerce_enum(SessionKind, value, "kind")


def _to_status(value: object) -> SessionStatus:
    """Convert, as an attrs converter, a session's ``status`` (a member or its value)."""
    return coerce_enum(SessionStatus, value, "status")


def _weight(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_weight(value, path="$.weight")


@register_document("session", 1)
@attrs.frozen(kw_only=True)
class Session:
    """One session of a KAP course, as recorded.

    Attributes:
        id: The session's id.
        patient: Opaque patient id (kapproto stores no names).
        kind: Preparation, dosing, integration or follow-up.
        start: When the session began (timezone-aware).
        end: When it ended; not before ``start``.
        status: ``final``, ``amended`` (then ``supersedes`` is required) or
            ``entered_in_error``.
        supersedes: Id of the session record this one corrects.
        protocol: The protocol it ran under.
        weight: Body weight recorded for the session, a BODY_MASS in kg.
        administrations: Doses given, each inside ``start``..``end``.
        withheld_reason: Why no dose was given in a dosing session.
        vitals: Vital-sign readings, each inside ``start``..``end``.
        assessments: Instrument responses, each inside ``start``..``end``.
        adverse_events: Adverse events.
        acknowledgements: Warnings a clinician weighed.
        discharged_at: When the patient was discharged, inside ``start``..``end``.
        notes: Free text.

    Example:
        >>> from kapproto import Session, from_json
        >>> session = from_json(open("examples/sessions/im-session.json").read(), Session)
        >>> session.id, session.kind, str(session.weight)
        ('s-001', <SessionKind.DOSING: 'dosing'>, '80.0 kilogram')
        >>> [str(a.amount) for a in session.administrations]
        ['40.0 milligram']
    """

    id: str = attrs.field(validator=text)
    patient: str = attrs.field(validator=text)
    kind: SessionKind = attrs.field(converter=_to_kind)
    status: SessionStatus = attrs.field(default=SessionStatus.FINAL, converter=_to_status)
    supersedes: str | None = None
    protocol: Reference | None = None
    start: dt.datetime = attrs.field(validator=aware)
    end: dt.datetime = attrs.field(validator=aware)
    weight: BodyMass | None = kind_field(BODY_MASS, optional=True, default=None, validator=_weight)
    administrations: tuple[Administration, ...] = ()
    withheld_reason: str | None = None
    vitals: tuple[VitalSigns, ...] = ()
    assessments: tuple[InstrumentResponse, ...] = ()
    adverse_events: tuple[AdverseEvent, ...] = ()
    acknowledgements: tuple[Acknowledgement, ...] = ()
    discharged_at: dt.datetime | None = attrs.field(default=None, validator=aware)
    notes: str = ""

    def __attrs_post_init__(self) -> None:
        try:
            valid = self._plainly_valid()
        except (AttributeError, TypeError):  # a record built from Python with odd values
            valid = False
        if not valid:
            self._refuse_types()
            self._refuse(instant(self.start), instant(self.end))

    def _refuse_types(self) -> None:
        """Raise, naming each, for values of the wrong type (possible only from Python)."""
        problems: list[tuple[str, str]] = []
        for name, tp in _RECORD_TUPLES:
            items = getattr(self, name)
            if type(items) is not tuple:
                problems.append((f"$.{name}", f"expected a tuple of {tp.__name__}, got {items!r}"))
                continue
            for i, item in enumerate(items):
                if not isinstance(item, tp):
                    problems.append((f"$.{name}[{i}]", f"expected a {tp.__name__}, got {item!r}"))
        for name in ("supersedes", "withheld_reason", "notes"):
            value = getattr(self, name)
            if not (isinstance(value, str) or (value is None and name != "notes")):
                problems.append((f"$.{name}", f"{name}={value!r} must be a string"))
        protocol: object = self.protocol
        if protocol is not None and not isinstance(protocol, Reference):
            problems.append(("$.protocol", f"expected a Reference, got {protocol!r}"))
        if problems:
            raise ValidationError(problems=problems)

    def _plainly_valid(self) -> bool:
        """The common case, checked without building messages; :meth:`_refuse` says the rest.

        ``start`` is taken at a fixed offset (:func:`instant`), so subtracting
        it from any aware time measures real time, whatever zone that time is in.
        """
        if not (
            type(self.administrations) is tuple
            and type(self.vitals) is tuple
            and type(self.assessments) is tuple
            and type(self.adverse_events) is tuple
            and type(self.acknowledgements) is tuple
            and type(self.notes) is str
            and (self.supersedes is None or type(self.supersedes) is str)
            and (self.withheld_reason is None or type(self.withheld_reason) is str)
            and (self.protocol is None or type(self.protocol) is Reference)
        ):
            return False  # only from Python: a list for a tuple, a value of another type
        start = instant(self.start)
        span = instant(self.end) - start
        zero = _ZERO
        if span < zero:
            return False
        adms = self.administrations
        for adm in adms:
            if not zero <= adm.start - start <= span:
                return False
            if adm.end is not None and not zero <= adm.end - start <= span:
                return False
        for reading in self.vitals:
            if not zero <= reading.time - start <= span:
                return False
        for response in self.assessments:
            if not zero <= response.time - start <= span:
                return False
        if self.discharged_at is not None and not zero <= self.discharged_at - start <= span:
            return False
        if len(adms) > 1 and len({a.id for a in adms}) != len(adms):
            return False
        if self.kind is SessionKind.DOSING:
            if not adms and not (self.withheld_reason or "").strip():
                return False
        elif adms:
            return False
        if self.status is SessionStatus.AMENDED and not self.supersedes:
            return False
        return self.supersedes is None or self.supersedes != self.id

    def _refuse(self, start: dt.datetime, end: dt.datetime) -> None:
        """Raise every problem of a record that failed a check of ``__attrs_post_init__``."""
        problems: list[tuple[str, str]] = []
        if end < start:
            problems.append(
                ("$.end", f"end {self.end.isoformat()} is before start {self.start.isoformat()}")
            )

        def inside(moment: dt.datetime) -> bool:
            return start <= instant(moment) <= end

        for i, adm in enumerate(self.administrations):
            if not inside(adm.start) or (adm.end is not None and not inside(adm.end)):
                problems.append(
                    (
                        f"$.administrations[{i}].start",
                        "administration lies outside the session's start..end",
                    )
                )
        times = (
            ("vitals", [v.time for v in self.vitals]),
            ("assessments", [a.time for a in self.assessments]),
        )
        for where, moments in times:
            for i, moment in enumerate(moments):
                if not inside(moment):
                    problems.append(
                        (
                            f"$.{where}[{i}].time",
                            f"{moment.isoformat()} lies outside the session's start..end",
                        )
                    )
        if self.discharged_at is not None and not inside(self.discharged_at):
            problems.append(
                (
                    "$.discharged_at",
                    f"{self.discharged_at.isoformat()} lies outside the session's start..end",
                )
            )
        ids = [a.id for a in self.administrations]
        for i, adm_id in enumerate(ids if len(set(ids)) != len(ids) else ()):
            if ids.index(adm_id) != i:
                problems.append(
                    (f"$.administrations[{i}].id", f"duplicate administration id {adm_id!r}")
                )
        if self.kind is SessionKind.DOSING:
            if not self.administrations and not (self.withheld_reason or "").strip():
                problems.append(
                    (
                        "$.withheld_reason",
                        "a dosing session with no administration must give a withheld_reason",
                    )
                )
        elif self.administrations:
            problems.append(
                (
                    "$.kind",
                    f"administrations are recorded but kind is {self.kind.value!r}; a session with a dose is 'dosing'",
                )
            )
        if self.status is SessionStatus.AMENDED and not self.supersedes:
            problems.append(
                ("$.supersedes", "an amended session must name the session id it supersedes")
            )
        if self.supersedes is not None and self.supersedes == self.id:
            problems.append(("$.supersedes", "a session cannot supersede itself"))
        if problems:
            raise ValidationError(problems=problems)

    @property
    def first_administration(self) -> Administration | None:
        """The earliest administration, if any."""
        return min(self.administrations, key=lambda a: instant(a.start), default=None)

    @property
    def last_administration(self) -> Administration | None:
        """The latest-starting administration, if any."""
        return max(self.administrations, key=lambda a: instant(a.start), default=None)

    def scores(self) -> Iterator[tuple[InstrumentResponse, Score]]:
        """Each assessment with its score."""
        for response in self.assessments:
            yield response, response.score()


_ZERO = dt.timedelta(0)

# the record tuples of a session and the type of their items
_RECORD_TUPLES: tuple[tuple[str, type], ...] = (
    ("administrations", Administration),
    ("vitals", VitalSigns),
    ("assessments", InstrumentResponse),
    ("adverse_events", AdverseEvent),
    ("acknowledgements", Acknowledgement),
)


def _fill_administration_ids(conv: cattrs.Converter) -> None:
    """On input, an administration without ``id`` gets ``a<position>`` (``a1``, ``a2``, ...)."""
    base = conv.get_structure_hook(Session)

    def structure(value: object, cls: Any) -> Session:
        if type(value) is dict:  # the common case: nothing to fill
            adms = value.get("administrations")
            if adms is None or (
                type(adms) is list and all(type(a) is dict and "id" in a for a in adms)
            ):
                return base(value, cls)  # type: ignore[no-any-return]
        if isinstance(value, Mapping) and isinstance(value.get("administrations"), Sequence):
            adms = value["administrations"]
            if any(isinstance(a, Mapping) and "id" not in a for a in adms):
                value = {
                    **value,
                    "administrations": [
                        {**a, "id": f"a{i + 1}"} if isinstance(a, Mapping) and "id" not in a else a
                        for i, a in enumerate(adms)
                    ],
                }
        result: Session = base(value, cls)
        return result

    conv.register_structure_hook(Session, structure)


register_hooks(_fill_administration_ids)


def facts_from_session(session: Session, known: Facts | Mapping[str, Any] | None = None) -> Facts:
    """Screening facts that a session record provides, over facts already known.

    From the record: ``weight``; ``vitals.systolic``, ``vitals.diastolic``,
    ``vitals.heart_rate`` and ``vitals.spo2`` from the last reading before the
    first administration (or the last reading of the session if nothing was
    given); and ``scores.<instrument>.*`` from the latest assessment of each
    instrument. A fact the record does not hold stays as ``known`` has it, or
    absent (unknown, never false).

    Args:
        session: The session record.
        known: Facts from elsewhere (history, medications, ...), as
            :class:`~kapproto.screening.Facts` or a nested mapping.

    Returns:
        The combined :class:`~kapproto.screening.Facts`.

    Example:
        >>> import json
        >>> from kapproto import from_json
        >>> s = from_json(open("examples/sessions/im-session.json").read(), Session)
        >>> facts = facts_from_session(s, {"sex": "male"})
        >>> facts["vitals.systolic"], facts["scores.phq9.total"], facts["sex"]
        (<Quantity(128.0, 'millimeter_Hg')>, 12, 'male')
    """
    base = known if isinstance(known, Facts) else Facts(known or {})
    paths: dict[str, Any] = {}
    if session.weight is not None:
        paths["weight"] = session.weight
    first = session.first_administration
    before = None if first is None else instant(first.start)
    readings = sorted(
        (v for v in session.vitals if before is None or instant(v.time) <= before),
        key=lambda v: instant(v.time),
    )
    for field, path in (
        ("systolic", "vitals.systolic"),
        ("diastolic", "vitals.diastolic"),
        ("heart_rate", "vitals.heart_rate"),
        ("spo2", "vitals.spo2"),
    ):
        values = [getattr(v, field) for v in readings if getattr(v, field) is not None]
        if values:
            paths[path] = values[-1]
    facts = base.with_values(paths) if paths else base
    latest: dict[str, tuple[dt.datetime, Score]] = {}
    for response, score in session.scores():
        when = instant(response.time)
        if response.instrument not in latest or latest[response.instrument][0] <= when:
            latest[response.instrument] = (when, score)
    if latest:
        facts = facts.with_scores(*(score for _, score in latest.values()))
    return facts
