"""Protocols: dose limits, monitoring and schedule parameters, loaded from TOML or JSON.

Every number may be bare or ``{ value, source, confidence }``; an unset
parameter means *not configured* (the check is listed as such in a report,
never silently passed). Loading reports every problem at once as a
:class:`~kapproto.exceptions.ProtocolError`: malformed values, values the
checks cannot compute with, and keys that contradict each other (see
:func:`kapproto._protocol_reader.consistency_problems`). The file format is
read in :mod:`kapproto._protocol_reader`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Final, TypeVar

import attrs

from kapproto._bounds import quantity_text
from kapproto._data import read_document
from kapproto._limits import DoseLimits
from kapproto._params import Parameter, kind_parameter
from kapproto._sessions import Reference
from kapproto._vitals import vital_ranges
from kapproto.exceptions import KapprotoError, ProtocolError
from kapproto.units import DURATION, PRESSURE, Duration, Kind, Pressure

__all__ = [
    "Anchor",
    "BpThreshold",
    "Monitoring",
    "Observation",
    "Protocol",
    "Recheck",
    "Schedule",
    "read_document",
]

T = TypeVar("T")
Problems = list[tuple[str, str]]

LONGEST_DURATION: Final = "150 a"
"""The longest duration a protocol may give: longer than any human life.

Not a clinical limit. The checks add protocol durations to the times of a
record (a recheck window, the earliest next session), so a duration no patient
could live through (``"1e12 wk"``) is refused as a typo rather than left to
overflow those dates. 150 years is a round number above the longest verified
human lifespan (122 years, Jeanne Calment, 1875-1997).
"""


def _canonical(record: object, kind: Kind, *names: str) -> None:
    """Hold the fields ``names`` of a frozen ``record`` in ``kind``'s canonical unit.

    Raises:
        UnitError: A field is not a quantity of ``kind``, naming the field.
    """
    for name in names:
        value = kind.check(getattr(record, name), name=name, path=f"$.{name}")
        object.__setattr__(record, name, value)


class Anchor(enum.Enum):
    """The moment a monitoring time is measured from.

    Example:
        >>> from kapproto import get_protocol
        >>> get_protocol("im-kap").monitoring.recheck.value.anchor
        <Anchor.LAST_ADMINISTRATION_START: 'last_administration_start'>
    """

    FIRST_ADMINISTRATION_START = "first_administration_start"
    LAST_ADMINISTRATION_START = "last_administration_start"
    LAST_ADMINISTRATION_END = "last_administration_end"


@attrs.frozen
class BpThreshold:
    """A blood-pressure threshold; a reading is above it if either value is above.

    Attributes:
        systolic: PRESSURE in mm[Hg].
        diastolic: PRESSURE in mm[Hg].

    Example:
        >>> from kapproto import get_protocol
        >>> threshold = get_protocol("im-kap").monitoring.bp_threshold.value
        >>> str(threshold.systolic), str(threshold.diastolic)
        ('140.0 millimeter_Hg', '90.0 millimeter_Hg')
    """

    systolic: Pressure
    diastolic: Pressure

    def __attrs_post_init__(self) -> None:
        _canonical(self, PRESSURE, "systolic", "diastolic")

    def exceeded_by(self, systolic: float, diastolic: float) -> bool:
        """Whether a reading (canonical magnitudes, rounded to 1 mm[Hg]) is above the threshold."""
        return bool(
            round(systolic) > round(self.systolic.magnitude)
            or round(diastolic) > round(self.diastolic.magnitude)
        )

    def __str__(self) -> str:
        return f"{self.systolic.magnitude:g}/{self.diastolic.magnitude:g} mmHg"


@attrs.frozen
class Recheck:
    """A blood-pressure recheck window: ``anchor + at ± tolerance``.

    Attributes:
        at: DURATION in min after the anchor.
        tolerance: DURATION in min either side; zero means exactly at ``at``.
        anchor: What ``at`` is measured from.

    Example:
        >>> from kapproto import get_protocol
        >>> recheck = get_protocol("im-kap").monitoring.recheck.value
        >>> str(recheck.at), str(recheck.tolerance), recheck.anchor.value
        ('40.0 minute', '10.0 minute', 'last_administration_start')
    """

    at: Duration
    tolerance: Duration
    anchor: Anchor

    def __attrs_post_init__(self) -> None:
        _canonical(self, DURATION, "at", "tolerance")


@attrs.frozen
class Observation:
    """A minimum observation time before discharge.

    Attributes:
        duration: DURATION in min.
        anchor: What it is measured from.

    Example:
        >>> from kapproto import get_protocol
        >>> observation = get_protocol("im-kap").monitoring.min_observation.value
        >>> str(observation.duration), observation.anchor.value
        ('120.0 minute', 'last_administration_start')
    """

    duration: Duration
    anchor: Anchor

    def __attrs_post_init__(self) -> None:
        _canonical(self, DURATION, "duration")


@attrs.frozen
class Monitoring:
    """A protocol's monitoring parameters; ``None`` means not configured.

    Attributes:
        predose_bp: A BP reading is required before the first administration.
        bp_threshold: Pre-dose and discharge BP threshold (a warning, not a hard stop).
        recheck: BP recheck window after dosing.
        min_observation: Minimum time from the anchor to discharge.
        pulse_oximetry: SpO2 must be recorded.

    Example:
        >>> from kapproto import get_protocol
        >>> monitoring = get_protocol("im-kap").monitoring
        >>> monitoring.predose_bp.value, monitoring.pulse_oximetry
        (True, None)
    """

    predose_bp: Parameter[bool] | None = None
    bp_threshold: Parameter[BpThreshold] | None = None
    recheck: Parameter[Recheck] | None = None
    min_observation: Parameter[Observation] | None = None
    pulse_oximetry: Parameter[bool] | None = None


def _duration_parameter(param: object) -> Parameter[Duration] | None:
    """``min_interval`` in min, whether read from a file or built in Python (an attrs converter)."""
    result: Parameter[Duration] | None = kind_parameter(param, DURATION, "min_interval")
    return result


@attrs.frozen
class Schedule:
    """A protocol's schedule parameters.

    Attributes:
        min_interval: Minimum time between the first administrations of two
            dosing sessions, a DURATION in min.

    Example:
        >>> from kapproto import Schedule, get_protocol
        >>> get_protocol("im-kap").schedule
        Schedule(min_interval=None)
    """

    min_interval: Parameter[Duration] | None = attrs.field(
        default=None, converter=_duration_parameter
    )


@attrs.frozen
class Protocol:
    """A KAP protocol: what may be given, how it is monitored, how sessions are spaced.

    Built from Python or read from a file, a protocol refuses values the checks
    cannot compute with: a duration longer than any human life (``150 a``), a
    recheck tolerance that is negative or not shorter than the recheck time, a
    blood-pressure threshold no reading can reach, an id or version with a
    control character. Durations given in other units are held in minutes.
    Keys that contradict each other (``first_session_max`` above
    ``session_max``, ...) are refused when a file is read (:meth:`from_dict`).

    Attributes:
        id: Protocol id, e.g. ``"im-kap"``.
        version: Version; a changed limit is a new version.
        title: Human-readable title.
        sources: Citations for the protocol as a whole.
        reference_only: A built-in reference protocol, not a clinic's own.
        ruleset: The screening rule set courses under it are screened with.
        template: The integration-plan template courses under it follow.
        doses: One :class:`~kapproto.DoseLimits` per allowed medication and route.
        monitoring: Monitoring parameters.
        schedule: Schedule parameters.

    Raises:
        ProtocolError: Every such value, each at its path in the file format
            (``$.monitoring.min_observation.value``).

    Example:
        >>> from kapproto import get_protocol
        >>> protocol = get_protocol("im-kap")
        >>> protocol.ref, str(protocol.ruleset), str(protocol.template)
        (Reference(id='im-kap', version='1'), 'ketamine-contraindications@1', 'kap-weekly-3@1')
        >>> [limits.route.value for limits in protocol.doses]
        ['intramuscular']
        >>> import attrs
        >>> from kapproto import Anchor, Monitoring, Observation, Parameter
        >>> observation = Observation("1e12 wk", Anchor.LAST_ADMINISTRATION_START)
        >>> attrs.evolve(protocol, monitoring=Monitoring(min_observation=Parameter(observation)))
        Traceback (most recent call last):
        ...
        kapproto.exceptions.ProtocolError: $.monitoring.min_observation.value: ... min is longer than any human life; expected at most 150 a
    """

    id: str
    version: str
    title: str
    sources: tuple[str, ...] = ()
    reference_only: bool = False
    ruleset: Reference | None = None
    template: Reference | None = None
    doses: tuple[DoseLimits, ...] = ()
    monitoring: Monitoring = Monitoring()
    schedule: Schedule = Schedule()

    def __attrs_post_init__(self) -> None:
        problems = _value_problems(self)
        if problems:
            raise ProtocolError(problems=problems)

    @property
    def ref(self) -> Reference:
        """``{"id", "version"}`` of this protocol."""
        return Reference(self.id, self.version)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Protocol:
        """Build a protocol from the file format (a parsed TOML or JSON document).

        Every problem is reported, including keys that contradict each other
        (see "Consistency checks" in the protocols reference): a key that is
        wrong is set aside so that the keys it would be compared with are
        still checked.

        Raises:
            ProtocolError: Every problem found, each with its path.
        """
        from kapproto._protocol_reader import ProtocolReader  # it builds Protocols

        return ProtocolReader(data).read()


# ---------------------------------------------------------------------------
# Values the checks can compute with
# ---------------------------------------------------------------------------


@cache
def _longest() -> float:
    return float(DURATION.check(LONGEST_DURATION).magnitude)


def _duration(value: object, path: str, *, zero: bool = False) -> Duration:
    """``value`` (a quantity or text) as a DURATION the checks can add to a record's times.

    Args:
        value: The duration.
        path: Its path, for errors.
        zero: Whether zero is allowed (a recheck tolerance); negative never is.

    Raises:
        ProtocolError: Not a duration, negative, zero where not allowed, or
            longer than :data:`LONGEST_DURATION`.
    """
    try:
        q = DURATION.check(value)
    except KapprotoError as exc:
        raise ProtocolError(problems=exc.at(path).problems) from None
    shown = repr(value) if isinstance(value, str) else quantity_text(q)
    if q.magnitude < 0 or (q.magnitude == 0 and not zero):
        wanted = "a duration of zero or more" if zero else "a positive duration"
        raise ProtocolError(f"expected {wanted}, got {shown}", path=path)
    if q.magnitude > _longest():
        raise ProtocolError(
            f"{shown} is longer than any human life; expected at most {LONGEST_DURATION}",
            path=path,
        )
    return q


def _threshold(systolic: Any, diastolic: Any, path: str) -> BpThreshold:
    """A BP threshold whose values a reading can reach, the diastolic below the systolic.

    Raises:
        ProtocolError: A value that is not a pressure, outside the physically
            possible range of a reading (``data/vitals.toml``), or a diastolic
            not below the systolic.
    """
    try:
        threshold = BpThreshold(systolic, diastolic)
    except KapprotoError as exc:
        raise ProtocolError(problems=[(path, m) for _, m in exc.problems]) from None
    problems: Problems = []
    ranges = vital_ranges()
    for name in ("systolic", "diastolic"):
        low, high, source = ranges[name]
        value = getattr(threshold, name).magnitude
        if not low < value <= high:
            problems.append(
                (
                    path,
                    f"{name} {value:g} mm[Hg] is not a reading a patient can have "
                    f"(above {low:g}, at most {high:g} mm[Hg]; {source})",
                )
            )
    if not problems and threshold.diastolic.magnitude >= threshold.systolic.magnitude:
        problems.append((path, "the diastolic threshold must be below the systolic one"))
    if problems:
        raise ProtocolError(problems=problems)
    return threshold


def _recheck_problems(at: Duration, tolerance: Duration, path: str) -> Problems:
    if tolerance.magnitude >= at.magnitude:
        return [(f"{path}.tolerance", "the tolerance must be shorter than the recheck time")]
    return []


def _collect(problems: Problems, check: Callable[[], object]) -> None:
    try:
        check()
    except KapprotoError as exc:
        problems.extend(exc.problems)


def _value_problems(protocol: Protocol) -> Problems:
    """Values of a protocol built from Python that the checks cannot compute with."""
    problems: Problems = []
    _collect(problems, lambda: Reference(protocol.id, protocol.version))
    m = protocol.monitoring
    if m.bp_threshold is not None:
        t = m.bp_threshold.value
        path = "$.monitoring.bp_threshold.value"
        _collect(problems, lambda: _threshold(t.systolic, t.diastolic, path))
    if m.recheck is not None:
        r = m.recheck.value
        before = len(problems)
        _collect(problems, lambda: _duration(r.at, "$.monitoring.recheck.at"))
        _collect(
            problems, lambda: _duration(r.tolerance, "$.monitoring.recheck.tolerance", zero=True)
        )
        if len(problems) == before:
            problems += _recheck_problems(r.at, r.tolerance, "$.monitoring.recheck")
    if m.min_observation is not None:
        o = m.min_observation.value
        _collect(problems, lambda: _duration(o.duration, "$.monitoring.min_observation.value"))
    if protocol.schedule.min_interval is not None:
        interval = protocol.schedule.min_interval.value
        _collect(problems, lambda: _duration(interval, "$.schedule.min_interval.value"))
    for i, limits in enumerate(protocol.doses):
        problems += _dose_value_problems(limits, f"$.doses[{i}]")
    return problems


def _dose_value_problems(limits: DoseLimits, path: str) -> Problems:
    """Values of one ``[[doses]]`` entry that the checks cannot compute with."""
    problems: Problems = []
    spacing = limits.device_spacing
    if spacing is not None:
        where = f"{path}.device_spacing"
        _collect(problems, lambda: _duration(spacing.value, where, zero=True))
    return problems
