"""Reading the protocol file format, and the keys of a protocol that contradict each other.

:meth:`kapproto.Protocol.from_dict` reads a parsed TOML or JSON document here:
every problem of every key at once, including :func:`consistency_problems`,
with a key that is wrong set aside so that the keys it would be compared with
are still checked. The records themselves are in :mod:`kapproto._protocols`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from kapproto._bounds import quantity_text, round_to
from kapproto._limits import DoseLimits
from kapproto._params import Parameter, parse_parameter, provenance
from kapproto._protocols import (
    Anchor,
    BpThreshold,
    Monitoring,
    Observation,
    Problems,
    Protocol,
    Recheck,
    Schedule,
    T,
    _collect,
    _dose_value_problems,
    _duration,
    _recheck_problems,
    _threshold,
)
from kapproto._routes import Formulation, Route
from kapproto._sessions import Reference
from kapproto.exceptions import KapprotoError, ProtocolError
from kapproto.units import Duration, kind_of

__all__ = ["ProtocolReader", "consistency_problems", "references"]


# ---------------------------------------------------------------------------
# Consistency between keys
# ---------------------------------------------------------------------------

# (key, other, relation): `key` must not be `relation` `other`, part by part of the same kind.
_ORDER: Final = (
    ("first_session_max", "session_max", "above"),
    ("session_max", "per_administration_max", "below"),
    ("min", "session_max", "above"),
    ("min", "first_session_max", "above"),
)
_DEVICE_KEYS: Final = ("device_amount", "max_devices", "device_spacing")


def _dose_problems(limits: DoseLimits, path: str) -> Problems:
    """Keys of one ``[[doses]]`` entry that contradict each other or the reference data."""
    problems: Problems = []
    for key, other, relation in _ORDER:
        mine, theirs = getattr(limits, key), getattr(limits, other)
        if mine is None or theirs is None:
            continue
        for part in ("fixed", "per_body_mass"):
            a, b = getattr(mine.value, part), getattr(theirs.value, part)
            if a is None or b is None:
                continue
            kind = kind_of(a)
            x, y = round_to(a.magnitude, kind), round_to(b.magnitude, kind)
            if (x > y) if relation == "above" else (x < y):
                problems.append(
                    (
                        f"{path}.{key}",
                        f"{key} {quantity_text(a)} is {relation} {other} {quantity_text(b)}",
                    )
                )
    route, medication = limits.route, limits.medication
    where = f"{medication.value} by the {route.value} route"
    if not any(f.allows(route) for f in Formulation):
        problems.append(
            (
                f"{path}.route",
                f"no formulation in the reference data goes by the {route.value} route",
            )
        )
    allowed = [f for f in limits.formulations or Formulation if f.allows(route)]
    if not any(f.device_amount(medication) is not None for f in allowed):
        problems += [
            (
                f"{path}.{key}",
                f"{key} is set, but no formulation this entry allows is a device for {where} "
                "(devices and their amounts: data/formulations.toml)",
            )
            for key in _DEVICE_KEYS
            if getattr(limits, key) is not None
        ]
    if limits.max_rate is not None and not route.infusion:
        infusions = ", ".join(sorted(r.value for r in Route if r.infusion))
        problems.append(
            (
                f"{path}.max_rate",
                f"max_rate applies to infusions; {route.value} is not an infusion route "
                f"(expected {infusions}; data/routes.toml)",
            )
        )
    return problems


def consistency_problems(
    doses: Sequence[tuple[int, DoseLimits]], monitoring: Monitoring
) -> Problems:
    """Keys of a protocol that contradict each other or the reference data.

    Per ``[[doses]]`` entry (those between ``min``, ``per_administration_max``
    and ``formulations`` are checked by :meth:`DoseLimits.from_dict`):
    ``first_session_max`` above ``session_max``; ``session_max`` below
    ``per_administration_max``; ``min`` above either session limit (each
    compared part by part, a mass with a mass and a dose per body mass with a
    dose per body mass, after rounding); device keys where no formulation the
    entry allows is a device for its medication and route
    (``data/formulations.toml``); ``max_rate`` on a route that is not an
    infusion. For monitoring: a recheck at or after the minimum observation
    measured from the same anchor (the patient could leave before it).

    Args:
        doses: The entries, each with its index in ``[[doses]]``.
        monitoring: The monitoring parameters.

    Returns:
        ``(path, message)`` for each problem, in file order.

    Example:
        >>> from kapproto import DoseLimits
        >>> entry = DoseLimits.from_dict(
        ...     {"route": "intramuscular", "session_max": "50 mg", "first_session_max": "60 mg"}
        ... )
        >>> consistency_problems([(0, entry)], Monitoring())
        [('$.doses[0].first_session_max', 'first_session_max 60 mg is above session_max 50 mg')]
    """
    problems: Problems = []
    for i, limits in doses:
        problems += _dose_problems(limits, f"$.doses[{i}]")
    return problems + _monitoring_problems(monitoring)


def _monitoring_problems(monitoring: Monitoring) -> Problems:
    """Monitoring keys that contradict each other (see :func:`consistency_problems`)."""
    problems: Problems = []
    recheck, observation = monitoring.recheck, monitoring.min_observation
    if recheck is not None and observation is not None:
        r, o = recheck.value, observation.value
        if r.anchor is o.anchor and r.at.magnitude >= o.duration.magnitude:
            problems.append(
                (
                    "$.monitoring.recheck.at",
                    f"the recheck at {quantity_text(r.at)} is not before the end of the minimum "
                    f"observation ({quantity_text(o.duration)}), both from the "
                    f"{r.anchor.value.replace('_', ' ')}: the patient may leave before it",
                )
            )
    return problems


# ---------------------------------------------------------------------------
# The file format
# ---------------------------------------------------------------------------

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
_REFERENCES: Final = ("ruleset", "template")


def _reference(value: object, path: str) -> Reference:
    if (
        not isinstance(value, Mapping)
        or set(value) != {"id", "version"}
        or not all(isinstance(v, str) and v for v in value.values())
    ):
        raise ProtocolError(f'expected {{ id = "...", version = "..." }}, got {value!r}', path=path)
    try:
        return Reference(value["id"], value["version"])
    except KapprotoError as exc:  # a control character, a blank id
        raise ProtocolError(problems=exc.at(path).problems) from None


def references(data: object) -> dict[str, Reference]:
    """The well-formed ``ruleset`` and ``template`` references of a protocol document.

    Read even when the rest of the document is broken, so that a reference the
    catalogue lacks is reported with the document's other problems.

    Example:
        >>> references({"ruleset": {"id": "clinic-x", "version": "1"}, "template": "kap"})
        {'ruleset': Reference(id='clinic-x', version='1')}
    """
    found: dict[str, Reference] = {}
    if isinstance(data, Mapping):
        for name in _REFERENCES:
            if data.get(name) is not None:
                try:
                    found[name] = _reference(data[name], f"$.{name}")
                except ProtocolError:
                    continue
    return found


def _entry_key(problem_path: str, path: str) -> str | None:
    """The key of the entry at ``path`` that ``problem_path`` lies under, if any."""
    if not problem_path.startswith(f"{path}."):
        return None
    return re.split(r"[.\[]", problem_path[len(path) + 1 :])[0]


def _read_entry(entry: object, path: str) -> tuple[DoseLimits | None, Problems]:
    """One ``[[doses]]`` entry and every problem in it.

    Keys that are wrong are set aside and the entry read again, so problems
    between the remaining keys (``min`` above ``per_administration_max``) are
    found in the same pass as an unknown key. ``None`` when the entry cannot
    be read at all (no table, no route, an unknown medication).
    """
    problems: Problems = []
    current = entry
    while True:
        if isinstance(current, Mapping):
            broken = {_entry_key(p, path) for p, _ in problems}
            current = {k: v for k, v in current.items() if k not in broken}
        try:
            return DoseLimits.from_dict(current, path=path), problems
        except KapprotoError as exc:
            found = [p for p in exc.problems if p not in problems]
            problems += found
            keys = {_entry_key(p, path) for p, _ in found}
            if not found or keys & {None, "route", "medication"}:
                return None, problems


class ProtocolReader:
    """Reads the protocol file format, collecting every problem before raising."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.problems: Problems = []

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
        if pid and version:  # as a report names them: no control characters
            _collect(self.problems, lambda: Reference(pid, version))
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
        self.problems += _monitoring_problems(monitoring)
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
            doses=tuple(limits for _, limits in doses),
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
        try:
            return _reference(value, f"$.{key}")
        except ProtocolError as exc:
            self.problems.extend(exc.problems)
            return None

    def _doses(self) -> list[tuple[int, DoseLimits]]:
        raw = self.data.get("doses")
        if raw is None:
            self.problems.append(("$.doses", "a protocol needs at least one [[doses]] entry"))
            return []
        if not isinstance(raw, list) or not raw:
            self.problems.append(
                ("$.doses", f"expected a non-empty list of [[doses]] tables, got {raw!r}")
            )
            return []
        out: list[tuple[int, DoseLimits]] = []
        seen: dict[tuple[Any, Any], int] = {}
        for i, entry in enumerate(raw):
            limits, problems = _read_entry(entry, f"$.doses[{i}]")
            self.problems += problems
            if limits is None:
                continue
            self.problems += _dose_value_problems(limits, f"$.doses[{i}]")
            self.problems += _dose_problems(limits, f"$.doses[{i}]")
            key = (limits.medication, limits.route)
            if key in seen:
                self.problems.append(
                    (
                        f"$.doses[{i}]",
                        f"a second entry for {limits.medication.value} by {limits.route.value} (first at $.doses[{seen[key]}])",
                    )
                )
            seen[key] = i
            out.append((i, limits))
        return out

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
        tolerance = self._duration(raw.get("tolerance", "0 min"), f"{p}.tolerance", zero=True)
        anchor = self._anchor(raw.get("anchor"), f"{p}.anchor")
        try:
            source, confidence = provenance(raw, path=p)
        except KapprotoError as exc:
            self.problems.extend(exc.problems)
            return None
        if at is None or tolerance is None or anchor is None:
            return None
        problems = _recheck_problems(at, tolerance, p)
        if problems:
            self.problems += problems
            return None
        return Parameter(Recheck(at, tolerance, anchor), source, confidence)

    def _observation(self, table: Mapping[str, Any], path: str) -> Parameter[Observation] | None:
        param, extras = self._param(
            table, "min_observation", path, _duration_text, extra=frozenset({"anchor"})
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
        interval, _ = self._param(table, "min_interval", "$.schedule", _duration_text)
        return Schedule(interval)

    def _duration(self, raw: object, path: str, *, zero: bool = False) -> Duration | None:
        try:
            return _duration_text(raw, path, zero=zero)
        except KapprotoError as exc:
            self.problems.extend(exc.problems)
            return None

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


def _duration_text(raw: object, path: str, *, zero: bool = False) -> Duration:
    """A duration as a file writes it: text such as ``"40 min"`` (see :func:`_duration`)."""
    if raw is None:
        raise ProtocolError("required key is missing", path=path)
    if not isinstance(raw, str):
        raise ProtocolError(f"expected a duration such as '40 min', got {raw!r}", path=path)
    return _duration(raw, path, zero=zero)


def _bool(raw: object, path: str) -> bool:
    if not isinstance(raw, bool):
        raise ProtocolError(f"expected true or false, got {raw!r}", path=path)
    return raw


def _bp_threshold(raw: object, path: str) -> BpThreshold:
    if not isinstance(raw, list) or len(raw) != 2 or not all(isinstance(v, str) for v in raw):
        raise ProtocolError(f'expected ["140 mm[Hg]", "90 mm[Hg]"], got {raw!r}', path=path)
    return _threshold(raw[0], raw[1], path)
