"""Protocols: dose limits, monitoring and schedule parameters, loaded from TOML or JSON.

Every number may be bare or ``{ value, source, confidence }``; an unset
parameter means *not configured* (the check is listed as such in a report,
never silently passed). Loading reports every problem at once as a
:class:`~kapproto.exceptions.ProtocolError`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from kapproto._data import read_document
from kapproto._limits import DoseLimits
from kapproto._params import Parameter, parse_parameter, provenance
from kapproto._sessions import Reference
from kapproto.exceptions import KapprotoError, ProtocolError
from kapproto.units import DURATION, PRESSURE, Duration, Pressure

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
        tolerance: DURATION in min either side.
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

    min_interval: Parameter[Duration] | None = None


@attrs.frozen
class Protocol:
    """A KAP protocol: what may be given, how it is monitored, how sessions are spaced.

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

    Example:
        >>> from kapproto import get_protocol
        >>> protocol = get_protocol("im-kap")
        >>> protocol.ref, str(protocol.ruleset), str(protocol.template)
        (Reference(id='im-kap', version='1'), 'ketamine-contraindications@1', 'kap-weekly-3@1')
        >>> [limits.route.value for limits in protocol.doses]
        ['intramuscular']
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

    @property
    def ref(self) -> Reference:
        """``{"id", "version"}`` of this protocol."""
        return Reference(self.id, self.version)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Protocol:
        """Build a protocol from the file format (a parsed TOML or JSON document).

        Raises:
            ProtocolError: Every problem found, each with its path.
        """
        return _ProtocolReader(data).read()


_TOP_KEYS = frozenset(
    {
        "id",
        "version",
        "title",
        "sources",
        "reference_only",
        "ruleset",
        "template",
        "doses",
        "monitoring",
        "schedule",
    }
)
_MONITORING_KEYS = frozenset(
    {"predose_bp", "bp_threshold", "recheck", "min_observation", "pulse_oximetry"}
)


class _ProtocolReader:
    """Reads the protocol file format, collecting every problem before raising."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.problems: list[tuple[str, str]] = []

    def read(self) -> Protocol:
        data = self.data
        if not isinstance(data, Mapping):
            raise ProtocolError(f"a protocol must be a table/object, got {data!r}")
        for key in sorted(set(data) - _TOP_KEYS):
            self.problems.append(
                (f"$.{key}", f"unknown key {key!r}; expected one of {', '.join(sorted(_TOP_KEYS))}")
            )
        pid = self._text("id", required=True)
        version = self._text("version", required=True)
        title = self._text("title", required=True)
        sources = data.get("sources", [])
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            self.problems.append(("$.sources", f"expected a list of strings, got {sources!r}"))
            sources = []
        reference_only = data.get("reference_only", False)
        if not isinstance(reference_only, bool):
            self.problems.append(
                ("$.reference_only", f"expected true or false, got {reference_only!r}")
            )
            reference_only = False
        ruleset = self._ref("ruleset")
        template = self._ref("template")
        doses = self._doses()
        monitoring = self._monitoring()
        schedule = self._schedule()
        if self.problems:
            raise ProtocolError(problems=self.problems)
        return Protocol(
            id=pid,
            version=version,
            title=title,
            sources=tuple(sources),
            reference_only=reference_only,
            ruleset=ruleset,
            template=template,
            doses=doses,
            monitoring=monitoring,
            schedule=schedule,
        )

    # -- pieces ---------------------------------------------------------------

    def _text(self, key: str, *, required: bool) -> str:
        value = self.data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problems.append(
                (
                    f"$.{key}",
                    f"expected a non-empty string, got {value!r}"
                    if value is not None
                    else "required key is missing",
                )
            )
            return ""
        return value

    def _ref(self, key: str) -> Reference | None:
        value = self.data.get(key)
        if value is None:
            return None
        if (
            not isinstance(value, Mapping)
            or set(value) != {"id", "version"}
            or not all(isinstance(v, str) and v for v in value.values())
        ):
            self.problems.append(
                (f"$.{key}", f'expected {{ id = "...", version = "..." }}, got {value!r}')
            )
            return None
        return Reference(value["id"], value["version"])

    def _doses(self) -> tuple[DoseLimits, ...]:
        raw = self.data.get("doses")
        if raw is None:
            self.problems.append(("$.doses", "a protocol needs at least one [[doses]] entry"))
            return ()
        if not isinstance(raw, list) or not raw:
            self.problems.append(
                ("$.doses", f"expected a non-empty list of [[doses]] tables, got {raw!r}")
            )
            return ()
        out: list[DoseLimits] = []
        seen: dict[tuple[Any, Any], int] = {}
        for i, entry in enumerate(raw):
            try:
                limits = DoseLimits.from_dict(entry, path=f"$.doses[{i}]")
            except KapprotoError as exc:
                self.problems.extend(exc.problems)
                continue
            key = (limits.medication, limits.route)
            if key in seen:
                self.problems.append(
                    (
                        f"$.doses[{i}]",
                        f"a second entry for {limits.medication.value} by {limits.route.value} (first at $.doses[{seen[key]}])",
                    )
                )
            seen[key] = i
            out.append(limits)
        return tuple(out)

    def _param(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        parse: Callable[[object, str], T],
        *,
        extra: frozenset[str] = frozenset(),
    ) -> tuple[Parameter[T] | None, dict[str, Any]]:
        if key not in table:
            return None, {}
        try:
            return parse_parameter(table[key], parse, path=f"{path}.{key}", extra_keys=extra)
        except KapprotoError as exc:
            self.problems.extend(exc.problems)
            return None, {}

    def _monitoring(self) -> Monitoring:
        table = self.data.get("monitoring", {})
        if not isinstance(table, Mapping):
            self.problems.append(("$.monitoring", f"expected a table, got {table!r}"))
            return Monitoring()
        path = "$.monitoring"
        for key in sorted(set(table) - _MONITORING_KEYS):
            self.problems.append(
                (
                    f"{path}.{key}",
                    f"unknown key {key!r}; expected one of {', '.join(sorted(_MONITORING_KEYS))}",
                )
            )
        predose, _ = self._param(table, "predose_bp", path, _bool)
        threshold, _ = self._param(table, "bp_threshold", path, _bp_threshold)
        recheck = self._recheck(table, path)
        observation = self._observation(table, path)
        oximetry, _ = self._param(table, "pulse_oximetry", path, _bool)
        return Monitoring(predose, threshold, recheck, observation, oximetry)

    def _recheck(self, table: Mapping[str, Any], path: str) -> Parameter[Recheck] | None:
        raw = table.get("recheck")
        if raw is None:
            return None
        p = f"{path}.recheck"
        if not isinstance(raw, Mapping):
            self.problems.append((p, f"expected {{ at, tolerance, anchor }}, got {raw!r}"))
            return None
        allowed = {"at", "tolerance", "anchor", "source", "confidence"}
        for key in sorted(set(raw) - allowed):
            self.problems.append(
                (f"{p}.{key}", f"unknown key {key!r}; expected one of {', '.join(sorted(allowed))}")
            )
        at = self._duration(raw.get("at"), f"{p}.at")
        tolerance = self._duration(raw.get("tolerance", "0 min"), f"{p}.tolerance")
        anchor = self._anchor(raw.get("anchor"), f"{p}.anchor")
        try:
            source, confidence = provenance(raw, path=p)
        except KapprotoError as exc:
            self.problems.extend(exc.problems)
            return None
        if at is None or tolerance is None or anchor is None:
            return None
        if tolerance.magnitude >= at.magnitude:
            self.problems.append(
                (f"{p}.tolerance", "the tolerance must be shorter than the recheck time")
            )
            return None
        return Parameter(Recheck(at, tolerance, anchor), source, confidence)

    def _observation(self, table: Mapping[str, Any], path: str) -> Parameter[Observation] | None:
        param, extras = self._param(
            table, "min_observation", path, self._duration_or_raise, extra=frozenset({"anchor"})
        )
        if param is None:
            return None
        anchor = self._anchor(extras.get("anchor"), f"{path}.min_observation.anchor")
        if anchor is None:
            return None
        return Parameter(Observation(param.value, anchor), param.source, param.confidence)

    def _schedule(self) -> Schedule:
        table = self.data.get("schedule", {})
        if not isinstance(table, Mapping):
            self.problems.append(("$.schedule", f"expected a table, got {table!r}"))
            return Schedule()
        for key in sorted(set(table) - {"min_interval"}):
            self.problems.append(
                (f"$.schedule.{key}", f"unknown key {key!r}; expected min_interval")
            )
        interval, _ = self._param(table, "min_interval", "$.schedule", self._duration_or_raise)
        return Schedule(interval)

    def _duration(self, raw: object, path: str) -> Any:
        try:
            return self._duration_or_raise(raw, path)
        except KapprotoError as exc:
            self.problems.extend(exc.problems)
            return None

    @staticmethod
    def _duration_or_raise(raw: object, path: str) -> Any:
        if raw is None:
            raise ProtocolError("required key is missing", path=path)
        if not isinstance(raw, str):
            raise ProtocolError(f"expected a duration such as '40 min', got {raw!r}", path=path)
        try:
            value = DURATION.check(raw)
        except KapprotoError as exc:
            raise ProtocolError(problems=exc.at(path).problems) from None
        if value.magnitude <= 0:
            raise ProtocolError(f"expected a positive duration, got {raw!r}", path=path)
        return value

    def _anchor(self, raw: object, path: str) -> Anchor | None:
        try:
            return Anchor(raw)
        except ValueError:
            allowed = ", ".join(a.value for a in Anchor)
            self.problems.append(
                (
                    path,
                    f"{raw!r} is not an anchor; expected one of {allowed}"
                    if raw is not None
                    else f"required key is missing; one of {allowed}",
                )
            )
            return None


def _bool(raw: object, path: str) -> bool:
    if not isinstance(raw, bool):
        raise ProtocolError(f"expected true or false, got {raw!r}", path=path)
    return raw


def _bp_threshold(raw: object, path: str) -> BpThreshold:
    if not isinstance(raw, list) or len(raw) != 2 or not all(isinstance(v, str) for v in raw):
        raise ProtocolError(f'expected ["140 mm[Hg]", "90 mm[Hg]"], got {raw!r}', path=path)
    try:
        systolic, diastolic = PRESSURE.check(raw[0]), PRESSURE.check(raw[1])
    except KapprotoError as exc:
        raise ProtocolError(problems=exc.at(path).problems) from None
    if diastolic.magnitude >= systolic.magnitude:
        raise ProtocolError("the diastolic threshold must be below the systolic one", path=path)
    return BpThreshold(systolic, diastolic)
