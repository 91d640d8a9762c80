"""Hypothesis strategies for property-testing code that uses kapproto.

Install the extra: ``pip install kapproto[testing]``. Every strategy produces
valid kapproto values (records that build without error), so your own tests
can assert invariants of your code over them.

Example:
    >>> from hypothesis import given
    >>> from kapproto.testing import quantities
    >>> from kapproto.units import MASS
    >>> @given(quantities(MASS, max_value=100))
    ... def test_mass(q):
    ...     assert q.units == MASS.unit
    >>> test_mass()
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import hypothesis
from hypothesis import strategies as st

from kapproto import units as _units
from kapproto.exceptions import UnknownReferenceError, ValidationError

__all__ = [
    "administrations",
    "aware_datetimes",
    "dose_limits",
    "dose_specs",
    "facts",
    "instrument_answers",
    "instrument_responses",
    "json_values",
    "plan_templates",
    "quantities",
    "rulesets",
    "step_windows",
    "sessions",
    "sessions_missing_a_record",
    "timezones",
    "unit_spellings",
    "violation_codes",
    "violations",
]

_ZONES = (
    "UTC",
    "America/Denver",
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Asia/Kolkata",
)


def timezones() -> st.SearchStrategy[dt.tzinfo]:
    """Fixed UTC offsets (whole quarter hours, -12 h to +14 h) and a few IANA zones."""
    fixed = st.integers(min_value=-48, max_value=56).map(
        lambda q: dt.timezone(dt.timedelta(minutes=15 * q))
    )
    return st.one_of(fixed, st.sampled_from(_ZONES).map(zoneinfo.ZoneInfo))


def aware_datetimes(
    min_value: dt.datetime = dt.datetime(2000, 1, 1),
    max_value: dt.datetime = dt.datetime(2099, 12, 31),
) -> st.SearchStrategy[dt.datetime]:
    """Timezone-aware datetimes, whole seconds, never naive."""
    return st.datetimes(min_value=min_value, max_value=max_value, timezones=timezones()).map(
        lambda d: d.replace(microsecond=0)
    )


def unit_spellings(kind: _units.Kind) -> st.SearchStrategy[str]:
    """Every unit spelling (UCUM code or common spelling) that ``kind`` accepts."""
    _units.get_registry()
    accepted = set(kind.accepted)
    spellings = sorted(s for s, info in _units._UNITS.items() if info.code in accepted)
    return st.sampled_from(spellings)


def quantities(
    kind: _units.Kind,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    allow_zero: bool = False,
) -> st.SearchStrategy[Any]:
    """Finite quantities of ``kind`` in its canonical unit.

    Args:
        kind: The kind, e.g. :data:`kapproto.units.MASS`.
        min_value: Smallest magnitude in the canonical unit (default: one
            resolution step, or 0 with ``allow_zero``).
        max_value: Largest magnitude in the canonical unit (default 1e6).
        allow_zero: Allow a zero magnitude.
    """
    step = float(kind.resolution)
    low = min_value if min_value is not None else (0.0 if allow_zero else step)
    high = max_value if max_value is not None else 1e6
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False).map(
        lambda v: kind.quantity(float(format(v, ".10g")), kind.canonical)
    )


def json_values(max_leaves: int = 30) -> st.SearchStrategy[Any]:
    """Arbitrary JSON-like values (for fuzzing parsers: they must raise only kapproto errors)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=5),
            st.dictionaries(st.text(max_size=12), inner, max_size=6),
        ),
        max_leaves=max_leaves,
    )


def instrument_answers(
    instrument: str | Any, *, keyed: bool | None = None
) -> st.SearchStrategy[Any]:
    """Valid answer sets for an instrument, honouring its skip logic.

    Args:
        instrument: A built-in instrument id (``"phq9"``) or an
            :class:`~kapproto.instruments.Instrument`.
        keyed: ``False`` for a list in item order (``None`` for items the
            form skipped), ``True`` for a mapping of item id to answer (skipped
            items omitted), ``None`` for either.

    Example:
        >>> from hypothesis import given
        >>> from kapproto.instruments import score
        >>> @given(instrument_answers("phq9"))
        ... def test_total_in_range(answers):
        ...     assert 0 <= score("phq9", answers).total <= 27
        >>> test_total_in_range()
    """
    from kapproto.instruments import AnswerKind
    from kapproto.instruments._catalogue import resolve

    inst = resolve(instrument)

    def answer(item: Any) -> st.SearchStrategy[Any]:
        if item.kind is AnswerKind.BOOLEAN:
            return st.booleans()
        if item.kind is AnswerKind.OPTIONS:
            labels = list(item.options)
            return st.one_of(
                st.sampled_from(labels), st.lists(st.sampled_from(labels), min_size=1, max_size=3)
            )
        return st.integers(min_value=item.min, max_value=item.max)

    @st.composite
    def answers(draw: st.DrawFn) -> Any:
        given: dict[str, Any] = {}
        for item in inst.items:
            if item.asked_if is not None:
                on, expected = item.asked_if
                if on not in given or given[on] is not expected:
                    continue
            given[item.id] = draw(answer(item))
        as_mapping = draw(st.booleans()) if keyed is None else keyed
        if as_mapping:
            return given
        return [given.get(i) for i in inst.item_ids]

    return answers()


def instrument_responses(
    instrument: str, *, times: st.SearchStrategy[dt.datetime] | None = None
) -> st.SearchStrategy[Any]:
    """Valid :class:`~kapproto.instruments.InstrumentResponse` records for a built-in instrument.

    Args:
        instrument: A built-in instrument id, e.g. ``"qids_sr16"``.
        times: Strategy for the completion time (default :func:`aware_datetimes`).
    """
    from kapproto.instruments import InstrumentResponse

    return st.builds(
        InstrumentResponse,
        st.just(instrument),
        times if times is not None else aware_datetimes(),
        instrument_answers(instrument),
    )


# --------------------------------------------------------------------------
# Routes and dosing
# --------------------------------------------------------------------------


def _ids() -> st.SearchStrategy[str]:
    return st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)


def administrations(
    *,
    medication: Any = None,
    route: Any = None,
    formulation: Any = None,
    start: st.SearchStrategy[dt.datetime] | None = None,
) -> st.SearchStrategy[Any]:
    """Valid :class:`~kapproto.Administration` records.

    Any formulation by any route (a mismatch is a valid record, reported by
    :func:`~kapproto.check_doses`); amounts 0.1 mg to 1000 mg; optional end
    (0 to 4 h after start), concentration and a volume consistent with them.
    Times carry a fixed UTC offset, as their JSON does, so records round-trip
    exactly.

    Args:
        medication: Fix the medication (a :class:`~kapproto.Medication`).
        route: Fix the route.
        formulation: Fix the formulation.
        start: Strategy for the start time (default ``aware_datetimes()``).
    """
    from kapproto._dosing import Administration
    from kapproto._routes import Basis, Formulation, Medication, Route

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        begin = draw(start if start is not None else aware_datetimes())
        # a fixed offset, as JSON keeps it: an IANA zone's ambiguous wall time
        # (DST fold) compares unequal to the same instant in any other zone
        begin = begin.astimezone(dt.timezone(begin.utcoffset() or dt.timedelta(0)))
        amount = draw(quantities(_units.MASS, min_value=0.1, max_value=1000))
        concentration = draw(
            st.none() | quantities(_units.CONCENTRATION, min_value=1, max_value=100)
        )
        volume = None
        if concentration is not None and draw(st.booleans()):
            mL = float(_units.VOLUME.round(amount / concentration))
            if mL > 0:
                volume = _units.VOLUME.quantity(mL, "mL")
        minutes = draw(st.none() | st.integers(min_value=0, max_value=240))
        text = st.none() | st.text(max_size=12)
        fields: dict[str, Any] = {
            "id": draw(_ids()),
            "medication": medication or draw(st.sampled_from(Medication)),
            "route": route or draw(st.sampled_from(Route)),
            "formulation": formulation or draw(st.sampled_from(Formulation)),
            "amount": amount,
            "start": begin,
            "end": None if minutes is None else begin + dt.timedelta(minutes=minutes),
            "concentration": concentration,
            "volume": volume,
            "site": draw(text),
            "lot": draw(text),
            "administered_by": draw(text),
        }
        basis = draw(st.none() | st.sampled_from(Basis))
        if basis is not None:
            fields["basis"] = basis
        return Administration(**fields)

    return build()


def dose_specs(*, weight_based: bool | None = None) -> st.SearchStrategy[Any]:
    """Valid :class:`~kapproto.DoseSpec` values: 0.1-1000 mg or 0.001-10 mg/kg.

    Args:
        weight_based: Only per-kg specs (``True``), only fixed ones (``False``), or both.
    """
    from kapproto._dosing import DoseSpec
    from kapproto._routes import Medication, Route

    fixed = quantities(_units.MASS, min_value=0.1, max_value=1000)
    per_kg = quantities(_units.DOSE_PER_BODY_MASS, min_value=0.001, max_value=10)
    amounts = {True: per_kg, False: fixed, None: fixed | per_kg}[weight_based]
    return st.builds(DoseSpec, amounts, st.sampled_from(Route), st.sampled_from(Medication))


def _parameters(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    from kapproto._params import Confidence, Parameter

    return st.builds(
        Parameter,
        values,
        st.sampled_from(["", "Spravato PI §2", "clinic SOP 2026-01"]),
        st.none() | st.sampled_from(Confidence),
    )


def _bounds(*, rate: bool = False) -> st.SearchStrategy[Any]:
    from kapproto._bounds import DoseBound

    fixed_kind, per_kind = (
        (_units.MASS_RATE, _units.DOSE_RATE_PER_BODY_MASS)
        if rate
        else (_units.MASS, _units.DOSE_PER_BODY_MASS)
    )
    fixed = quantities(fixed_kind, min_value=1, max_value=1000)
    per_kg = quantities(per_kind, min_value=0.01, max_value=10)
    return st.one_of(
        st.builds(DoseBound, fixed, st.none()),
        st.builds(DoseBound, st.none(), per_kg),
        st.builds(DoseBound, fixed, per_kg),
    )


def dose_limits(*, medication: Any = None, route: Any = None) -> st.SearchStrategy[Any]:
    """Valid :class:`~kapproto.DoseLimits` (one ``[[doses]]`` entry), every limit optional.

    ``min`` is never above ``per_administration_max``; device limits appear
    only where a device amount is known.

    Args:
        medication: Fix the medication.
        route: Fix the route.
    """
    from kapproto._limits import DoseLimits
    from kapproto._routes import Basis, Formulation, Medication, Route

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        med = medication or draw(st.sampled_from(Medication))
        way = route or draw(st.sampled_from(Route))
        usable = sorted((f for f in Formulation if f.allows(way)), key=lambda f: f.value)
        chosen = (
            frozenset(draw(st.lists(st.sampled_from(usable), unique=True)))
            if usable
            else frozenset()
        )
        fields: dict[str, Any] = {"medication": med, "route": way, "formulations": chosen}
        fields["basis"] = draw(st.none() | st.sampled_from(Basis))
        for name in ("per_administration_max", "session_max", "first_session_max"):
            fields[name] = draw(st.none() | _parameters(_bounds()))
        high = fields["per_administration_max"]
        low = draw(st.none() | _parameters(_bounds()))
        if low is not None and high is not None:
            for part in ("fixed", "per_body_mass"):
                a, b = getattr(low.value, part), getattr(high.value, part)
                if a is not None and b is not None and a.magnitude > b.magnitude:
                    low = None
                    break
        fields["min"] = low
        fields["max_rate"] = draw(st.none() | _parameters(_bounds(rate=True)))
        if any(f.device_amount(med) is not None for f in (chosen or usable)):
            fields["device_amount"] = draw(
                st.none() | _parameters(quantities(_units.MASS, min_value=1, max_value=100))
            )
            fields["max_devices"] = draw(st.none() | _parameters(st.integers(1, 10)))
            fields["device_spacing"] = draw(
                st.none() | _parameters(quantities(_units.DURATION, min_value=0, max_value=60))
            )
        return DoseLimits(**fields)

    return build()


# --------------------------------------------------------------------------
# Sessions that comply with a protocol, and sessions that break it
# --------------------------------------------------------------------------

# Not clinical limits: ranges a generated record is drawn from when the
# protocol leaves a value unset (a generated session must still look plausible).
_PLAUSIBLE_DOSE_TENTHS = 1000  # 100 mg per administration
_PLAUSIBLE_BP = (139, 89)  # mm[Hg], below the usual 140/90 guide
_PLAUSIBLE_DEVICES = 3


def _protocol(protocol: Any) -> Any:
    from kapproto._catalog import get_protocol

    return get_protocol(protocol) if isinstance(protocol, str) else protocol


def _tenths(value: Any) -> int:
    return int(value * 10)


def _cap(param: Any, kg: float) -> int | None:
    """A maximum (Parameter[DoseBound]) at ``kg`` in tenths of its unit; ``None`` if unset."""
    return None if param is None else _tenths(min(param.value.limits(weight=kg)))


def _minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def _record_ids() -> st.SearchStrategy[str]:
    return st.from_regex(r"[a-z][a-z0-9-]{0,7}", fullmatch=True)


@attrs.define
class _Dose:
    """One planned administration: amount in tenths of a mg, minutes after the previous one."""

    tenths: int
    offset: int
    minutes: int | None = None
    formulation: Any = None
    route: Any = None


@attrs.define
class _Plan:
    """A session being drawn; violations edit it before it is built."""

    protocol: Any
    entry: Any
    kg: float
    formulation: Any
    start: dt.datetime
    per: int | None = None
    total: int | None = None
    low: int = 1
    device: int | None = None
    rate: int | None = None  # max_rate in hundredths of a mg/min
    administrations: list[Any] = attrs.Factory(list)
    vitals: dict[str, Any] = attrs.Factory(dict)
    assessments: list[Any] = attrs.Factory(list)
    discharged_at: dt.datetime | None = None
    end: dt.datetime | None = None
    ids: tuple[str, str] = ("s-1", "p-1")
    extras: dict[str, Any] = attrs.Factory(dict)  # fields no check reads

    def anchor(self, anchor: Any) -> dt.datetime:
        from kapproto._protocols import Anchor

        times: list[dt.datetime] = [
            a.start if anchor is not Anchor.LAST_ADMINISTRATION_END else a.end or a.start
            for a in self.administrations
        ]
        return min(times) if anchor is Anchor.FIRST_ADMINISTRATION_START else max(times)

    def session(self) -> Any:
        from kapproto._sessions import Session, SessionKind

        assert self.end is not None
        return Session(
            id=self.ids[0],
            patient=self.ids[1],
            kind=SessionKind.DOSING,
            protocol=self.protocol.ref,
            start=self.start,
            end=self.end,
            weight=_units.BODY_MASS.quantity(self.kg, "kg"),
            administrations=tuple(self.administrations),
            vitals=tuple(sorted(self.vitals.values(), key=lambda v: v.time)),
            assessments=tuple(self.assessments),
            discharged_at=self.discharged_at,
            **self.extras,
        )


def _threshold(protocol: Any) -> tuple[int, int]:
    param = protocol.monitoring.bp_threshold
    if param is None:
        return _PLAUSIBLE_BP
    return int(param.value.systolic.magnitude), int(param.value.diastolic.magnitude)


def _bp(draw: st.DrawFn, time: dt.datetime, plan: _Plan, *, systolic: int | None = None) -> Any:
    """A reading at or below the protocol's BP threshold (unless ``systolic`` is given)."""
    from kapproto._vitals import VitalSigns

    high_s, high_d = _threshold(plan.protocol)
    s = systolic if systolic is not None else draw(st.integers(95, high_s))
    d = draw(st.integers(55, min(high_d, s - 15)))
    oximetry = plan.protocol.monitoring.pulse_oximetry
    required = oximetry is not None and oximetry.value
    spo2 = draw(st.integers(92, 100) if required else st.none() | st.integers(92, 100))
    rate = draw(st.none() | st.integers(50, 110))
    q = _units.quantity
    return VitalSigns(
        time,
        systolic=q(s, "mm[Hg]"),
        diastolic=q(d, "mm[Hg]"),
        heart_rate=None if rate is None else q(rate, "/min"),
        spo2=None if spo2 is None else q(spo2, "%"),
    )


def _phq9(draw: st.DrawFn, time: dt.datetime, *, item9: int = 0) -> Any:
    from kapproto.instruments import InstrumentResponse

    answers = draw(st.lists(st.integers(0, 3), min_size=8, max_size=8))
    return InstrumentResponse("phq9", time, [*answers, item9])


def _entry_context(draw: st.DrawFn, protocol: Any, entry: Any) -> _Plan:
    """Weight, formulation, start and the limits of ``entry`` at that weight."""
    from kapproto._routes import Formulation

    allowed = sorted(entry.formulations or Formulation, key=lambda f: f.value)
    formulation = draw(st.sampled_from([f for f in allowed if f.allows(entry.route)]))
    kg = draw(st.integers(450, 1200)) / 10
    offset = draw(st.integers(-48, 56))
    start = draw(
        st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2035, 12, 31)).map(
            lambda d: d.replace(second=0, microsecond=0)
        )
    ).replace(tzinfo=dt.timezone(dt.timedelta(minutes=15 * offset)))
    device = entry.device_amount_for(formulation)
    rate = None if entry.max_rate is None else min(entry.max_rate.value.limits(weight=kg))
    caps = [c for c in (_cap(entry.session_max, kg), _cap(entry.first_session_max, kg)) if c]
    low = entry.min
    return _Plan(
        protocol=protocol,
        entry=entry,
        kg=kg,
        formulation=formulation,
        start=start,
        per=_cap(entry.per_administration_max, kg),
        total=min(caps) if caps else None,
        low=max(1, max(_tenths(v) for v in low.value.limits(weight=kg))) if low else 1,
        device=None if device is None else _tenths(_units.MASS.round(device.value)),
        rate=None if rate is None else int(rate * 100),
        ids=(draw(_record_ids()), draw(_record_ids())),
    )


def _spacing(entry: Any) -> int:
    param = entry.device_spacing
    return 1 if param is None else max(1, math.ceil(param.value.magnitude))


def _compliant_doses(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    """Amounts within every limit (per administration, session, first session, devices)."""
    entry = plan.entry
    if plan.device is not None:
        most = entry.max_devices.value if entry.max_devices else _PLAUSIBLE_DEVICES
        if plan.total is not None:
            most = min(most, plan.total // plan.device)
        fewest = max(1, -(-plan.low // plan.device))  # whole devices reaching `min`
        each = most if plan.per is None else min(most, plan.per // plan.device)
        if each < fewest:
            raise ValidationError(
                f"no whole device fits the limits of {entry.medication.value} by {entry.route.value}"
            )
        counts: list[int] = []
        for _ in range(draw(st.integers(1, 3))):
            n = draw(st.integers(fewest, each))
            if sum(counts) + n > most:
                break
            counts.append(n)
        return [
            _Dose(
                n * plan.device,
                _spacing(entry) + draw(st.integers(0, 5)) if i else draw(st.integers(5, 20)),
            )
            for i, n in enumerate(counts)
        ]
    per = plan.per or _PLAUSIBLE_DOSE_TENTHS
    total = plan.total if plan.total is not None else 3 * per
    if min(per, total) < plan.low:
        raise ValidationError(
            f"no dose fits the limits of {entry.medication.value} by {entry.route.value} "
            f"at {plan.kg:g} kg"
        )
    infusion = _is_infusion(entry)
    count = 1 if infusion else draw(st.integers(1, min(3, total // plan.low)))
    doses: list[_Dose] = []
    for i in range(count):
        high = min(per, total - sum(d.tenths for d in doses) - plan.low * (count - i - 1))
        if high < plan.low:
            break
        gap = draw(st.integers(5, 20) if not doses else st.integers(10, 40))
        doses.append(_Dose(draw(st.integers(plan.low, high)), gap))
    return doses


def _is_infusion(entry: Any) -> bool:
    from kapproto._routes import Route

    return entry.max_rate is not None or entry.route is Route.INTRAVENOUS


def _administer(draw: st.DrawFn, plan: _Plan, doses: list[_Dose]) -> None:
    """Administrations from planned doses; an infusion lasts long enough to keep under max_rate."""
    from kapproto._dosing import Administration

    entry = plan.entry
    at = plan.start
    for i, dose in enumerate(doses):
        at += _minutes(dose.offset)
        minutes = dose.minutes
        if minutes is None and _is_infusion(entry):
            needed = math.ceil(dose.tenths * 10 / plan.rate) if plan.rate else 40
            minutes = max(1, needed) + draw(st.integers(0, 20))
        fields: dict[str, Any] = {
            "site": draw(st.none() | st.sampled_from(["left deltoid", "right nostril"])),
            "lot": draw(st.none() | st.from_regex(r"[A-Z][0-9]{4}", fullmatch=True)),
        }
        if entry.basis is not None:
            fields["basis"] = entry.basis
        if (dose.formulation or plan.formulation).value == "solution_for_injection":
            fields["concentration"] = draw(
                st.none()
                | st.sampled_from([10, 50, 100]).map(lambda c: _units.quantity(c, "mg/mL"))
            )
        plan.administrations.append(
            Administration(
                id=f"a{i + 1}",
                medication=entry.medication,
                route=dose.route or entry.route,
                formulation=dose.formulation or plan.formulation,
                amount=_units.MASS.quantity(dose.tenths / 10, "mg"),
                start=at,
                end=None if minutes is None else at + _minutes(minutes),
                **fields,
            )
        )


def _recheck_time(draw: st.DrawFn, plan: _Plan) -> dt.datetime | None:
    param = plan.protocol.monitoring.recheck
    if param is None:
        return None
    r = param.value
    low = math.ceil(r.at.magnitude - r.tolerance.magnitude)
    high = math.floor(r.at.magnitude + r.tolerance.magnitude)
    return plan.anchor(r.anchor) + _minutes(draw(st.integers(low, high)))


def _floor_for_discharge(plan: _Plan) -> dt.datetime:
    """The earliest discharge that leaves room for a discharge reading after every other event."""
    events: list[dt.datetime] = [a.end or a.start for a in plan.administrations]
    if "recheck" in plan.vitals:
        events.append(plan.vitals["recheck"].time)
    return max(events) + _minutes(11)


def _discharge(draw: st.DrawFn, plan: _Plan, at: dt.datetime) -> None:
    """Discharge at ``at`` with a BP reading in the ten minutes before it, after everything else."""
    plan.discharged_at = at
    earliest = _floor_for_discharge(plan) - _minutes(10)
    room = int((at - earliest).total_seconds() // 60)
    plan.vitals["discharge"] = _bp(draw, at - _minutes(draw(st.integers(0, min(10, room)))), plan)
    plan.end = max(plan.end or at, at + _minutes(draw(st.integers(0, 15))))


def _draw_plan(
    draw: st.DrawFn,
    protocol: Any,
    *,
    entries: Any = None,
    doses: Any = None,
) -> _Plan:
    """A compliant plan; ``doses`` (``(draw, plan) -> [_Dose]``) replaces the compliant amounts."""
    candidates = list(entries if entries is not None else protocol.doses)
    entry = draw(st.sampled_from(candidates))
    plan = _entry_context(draw, protocol, entry)
    _administer(draw, plan, (doses or _compliant_doses)(draw, plan))
    first = min(a.start for a in plan.administrations)
    plan.vitals["predose"] = _bp(
        draw, first - _minutes(draw(st.integers(1, int((first - plan.start) / _minutes(1))))), plan
    )
    if draw(st.booleans()):
        plan.assessments.append(_phq9(draw, plan.start))
    recheck = _recheck_time(draw, plan)
    if recheck is not None:
        plan.vitals["recheck"] = _bp(draw, recheck, plan)
    observation = protocol.monitoring.min_observation
    at = _floor_for_discharge(plan)
    if observation is not None:
        o = observation.value
        at = max(at, plan.anchor(o.anchor) + _minutes(math.ceil(o.duration.magnitude)))
    _discharge(draw, plan, at + _minutes(draw(st.integers(0, 30))))
    plan.extras = _extras(draw, plan)
    return plan


def _extras(draw: st.DrawFn, plan: _Plan) -> dict[str, Any]:
    """What the checks do not read: adverse events, notes, an amended status."""
    from kapproto._sessions import (
        AdverseEvent,
        AdverseEventOutcome,
        AdverseEventSeverity,
        Seriousness,
        SessionStatus,
    )

    first = min(a.start for a in plan.administrations)
    events = draw(
        st.lists(
            st.builds(
                AdverseEvent,
                term=st.sampled_from(["nausea", "dizziness", "headache", "anxiety"]),
                onset=st.integers(0, 60).map(lambda m: first + _minutes(m)),
                severity=st.sampled_from(AdverseEventSeverity),
                seriousness=st.sampled_from(Seriousness),
                action_taken=st.none() | st.just("observed"),
                outcome=st.sampled_from(AdverseEventOutcome),
            ),
            max_size=2,
        )
    )
    extras: dict[str, Any] = {
        "adverse_events": tuple(events),
        "notes": draw(st.sampled_from(["", "Tolerated well.", "Music and eyeshades."])),
    }
    if draw(st.booleans()):
        extras["status"] = SessionStatus.AMENDED
        extras["supersedes"] = f"{plan.ids[0]}-draft"
    return extras


def sessions(protocol: Any = None) -> st.SearchStrategy[Any]:
    """Dosing :class:`~kapproto.Session` records that comply with ``protocol``.

    Each session picks one of the protocol's ``[[doses]]`` entries, an allowed
    formulation, a weight of 45-120 kg and doses within every configured limit
    (per administration, per session and first session, whole devices spaced
    as the protocol asks, infusions slow enough for ``max_rate``). It has a
    pre-dose BP at or below the threshold, the recheck inside its window,
    SpO2 on every reading when pulse oximetry is required, and a discharge
    after the minimum observation with a reading at or below the threshold
    just before it. Times are whole minutes with a fixed UTC offset, as read
    back from JSON. Checked on its own the report is compliant with no
    findings; the doses also keep within ``first_session_max``, so they pass
    as a course's first dosing session too.

    Args:
        protocol: A :class:`~kapproto.Protocol` or a built-in protocol id;
            ``None`` draws a built-in protocol.

    Raises:
        ValidationError: The protocol's limits leave no dose to give.

    Example:
        >>> from hypothesis import given, settings
        >>> from kapproto import check_session, get_protocol
        >>> protocol = get_protocol("im-kap")
        >>> @settings(max_examples=10)
        ... @given(sessions(protocol))
        ... def test_compliant(session):
        ...     assert check_session(session, protocol).ok
        >>> test_compliant()
    """
    if protocol is None:
        from kapproto._catalog import Catalog

        ids = sorted({pid for pid, _ in Catalog.builtin().protocols.entries})
        return st.sampled_from(ids).flatmap(sessions)
    chosen = _protocol(protocol)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        return _draw_plan(draw, chosen).session()

    return build()


# -- violations ---------------------------------------------------------------


def _above_max(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    assert plan.per is not None
    low = max(plan.per + 1, plan.low)
    high = low + 200 if plan.total is None else min(low + 200, plan.total)
    if high < low:
        hypothesis.reject()
    return [_Dose(draw(st.integers(low, high)), draw(st.integers(5, 20)))]


def _cumulative(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    total = _cap(plan.entry.session_max, plan.kg)
    assert total is not None
    per = plan.per or total
    count = -(-(total + 1) // per)  # ceil: fewest doses that can pass the session limit
    if count > 3:
        hypothesis.reject()
    least = max(-(-(total + 1) // count), plan.low)
    if least > per:
        hypothesis.reject()
    each = draw(st.integers(least, per))
    return [_Dose(each, draw(st.integers(5, 20)) if i == 0 else 30) for i in range(count)]


def _device_multiple(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    if plan.device is None:  # the entry also allows a formulation that is not a device
        hypothesis.reject()
    devices = plan.entry.max_devices.value if plan.entry.max_devices else _PLAUSIBLE_DEVICES
    halves = [  # k and a half devices, within every other limit
        t
        for k in range(devices)
        if plan.low
        <= (t := plan.device * k + plan.device // 2)
        <= min(c for c in (plan.per, plan.total, t) if c is not None)
    ]
    if not halves:
        hypothesis.reject()
    return [_Dose(draw(st.sampled_from(halves)), draw(st.integers(5, 20)))]


def _device_spacing(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    if plan.device is None:
        hypothesis.reject()
    return [
        _Dose(plan.device, draw(st.integers(5, 20))),
        _Dose(plan.device, draw(st.integers(1, _spacing(plan.entry) - 1))),
    ]


def _other_formulation(entry: Any, fits: bool) -> Any:
    from kapproto._routes import Formulation

    return [
        f
        for f in sorted(Formulation, key=lambda f: f.value)
        if f.allows(entry.route) is fits
        and f.device_amount(entry.medication) is None
        and f not in entry.formulations
    ]


def _mismatch(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    doses = _compliant_doses(draw, plan)
    doses[0].formulation = draw(st.sampled_from(_other_formulation(plan.entry, False)))
    return doses


def _other_route(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    from kapproto._routes import Formulation

    taken = {(e.medication, e.route) for e in plan.protocol.doses}
    pairs = [
        (f, r)
        for f in sorted(Formulation, key=lambda f: f.value)
        for r in sorted(f.routes, key=lambda r: r.value)
        if (plan.entry.medication, r) not in taken
        and f.device_amount(plan.entry.medication) is None
    ]
    doses = _compliant_doses(draw, plan)
    doses[0].formulation, doses[0].route = draw(st.sampled_from(pairs))
    return doses


def _monitoring(protocol: Any, name: str) -> bool:
    param = getattr(protocol.monitoring, name)
    return param is not None and param.value is not False


def _no_predose(draw: st.DrawFn, plan: _Plan) -> None:
    del plan.vitals["predose"]


def _elevated_predose(draw: st.DrawFn, plan: _Plan) -> None:
    high_s, _ = _threshold(plan.protocol)
    old = plan.vitals["predose"]
    s = draw(st.integers(high_s + 1, high_s + 60))
    plan.vitals["predose"] = _bp(draw, old.time, plan, systolic=s)


def _late_recheck(draw: st.DrawFn, plan: _Plan) -> None:
    recheck = plan.protocol.monitoring.recheck.value
    closes = plan.anchor(recheck.anchor) + _minutes(
        recheck.at.magnitude + recheck.tolerance.magnitude
    )
    late = closes + _minutes(draw(st.integers(1, 10)))
    if draw(st.booleans()) or late >= plan.vitals["discharge"].time:
        del plan.vitals["recheck"]
    else:
        plan.vitals["recheck"] = attrs.evolve(plan.vitals["recheck"], time=late)


def _no_spo2(draw: st.DrawFn, plan: _Plan) -> None:
    plan.vitals = {k: attrs.evolve(v, spo2=None) for k, v in plan.vitals.items()}


def _early_discharge(draw: st.DrawFn, plan: _Plan) -> None:
    o = plan.protocol.monitoring.min_observation.value
    required = plan.anchor(o.anchor) + _minutes(o.duration.magnitude)
    room = int((required - _floor_for_discharge(plan)).total_seconds() // 60)
    if room < 1:
        hypothesis.reject()
    _discharge(draw, plan, required - _minutes(draw(st.integers(1, min(room, 60)))))


def _unsettled(draw: st.DrawFn, plan: _Plan) -> None:
    high_s, _ = _threshold(plan.protocol)
    old = plan.vitals["discharge"]
    plan.vitals["discharge"] = _bp(
        draw, old.time, plan, systolic=draw(st.integers(high_s + 1, high_s + 40))
    )


def _ideation(draw: st.DrawFn, plan: _Plan) -> None:
    plan.assessments = [_phq9(draw, plan.start, item9=draw(st.integers(1, 3)))]


# code -> (which [[doses]] entries can show it, or None if the protocol cannot;
#          doses drawer or None; plan edit or None)
_Entries = Callable[[Any], list[Any]]


def _entries_where(test: Callable[[Any, Any], bool]) -> _Entries:
    return lambda protocol: [e for e in protocol.doses if test(protocol, e)]


def _devices(e: Any) -> bool:
    """Whether a nasal device may be given under entry ``e``."""
    from kapproto._routes import Formulation

    return any(
        f.device_amount(e.medication) is not None and f.allows(e.route)
        for f in e.formulations or Formulation
    )


def _when_configured(name: str, edit: Any) -> tuple[_Entries, Any, Any]:
    """A monitoring violation: any entry, once the protocol sets ``monitoring.<name>``."""
    return _entries_where(lambda p, e: _monitoring(p, name)), None, edit


_VIOLATIONS: dict[str, tuple[_Entries, Any, Any]] = {
    "dose.above_max": (
        _entries_where(lambda p, e: e.per_administration_max is not None and not _devices(e)),
        _above_max,
        None,
    ),
    "dose.cumulative_above_max": (
        _entries_where(lambda p, e: e.session_max is not None and not _devices(e)),
        _cumulative,
        None,
    ),
    "dose.device_multiple": (_entries_where(lambda p, e: _devices(e)), _device_multiple, None),
    "dose.device_spacing": (
        _entries_where(
            lambda p, e: (
                _devices(e)
                and e.device_spacing is not None
                and _spacing(e) > 1
                and (e.max_devices is None or e.max_devices.value >= 2)
            )
        ),
        _device_spacing,
        None,
    ),
    "dose.formulation_route_mismatch": (
        _entries_where(lambda p, e: bool(_other_formulation(e, False))),
        _mismatch,
        None,
    ),
    "dose.route_not_allowed": (_entries_where(lambda p, e: True), _other_route, None),
    "monitoring.predose_vitals_missing": _when_configured("predose_bp", _no_predose),
    "monitoring.bp_elevated_predose": _when_configured("bp_threshold", _elevated_predose),
    "monitoring.recheck_missing": _when_configured("recheck", _late_recheck),
    "monitoring.spo2_missing": _when_configured("pulse_oximetry", _no_spo2),
    "monitoring.observation_too_short": _when_configured("min_observation", _early_discharge),
    "monitoring.bp_not_settled_at_discharge": _when_configured("bp_threshold", _unsettled),
    "assessment.suicidal_ideation": (_entries_where(lambda p, e: True), None, _ideation),
}


def violation_codes(protocol: Any) -> tuple[str, ...]:
    """The finding codes :func:`violations` can produce under ``protocol``, sorted.

    A code is left out when the protocol does not configure what it checks
    (no ``recheck``, no nasal devices, ...).

    Example:
        >>> "monitoring.spo2_missing" in violation_codes("esketamine-trd")
        True
        >>> "monitoring.spo2_missing" in violation_codes("im-kap")
        False
    """
    chosen = _protocol(protocol)
    return tuple(sorted(code for code, (entries, _, _) in _VIOLATIONS.items() if entries(chosen)))


def violations(protocol: Any, code: str) -> st.SearchStrategy[Any]:
    """Sessions that break ``protocol`` in one way: checked without a course, the one finding is ``code``.

    Each session is drawn as :func:`sessions` draws a compliant one, then
    changed in one place: a dose above ``per_administration_max``, a session
    total above ``session_max``, half a nasal device, two devices closer than
    ``device_spacing``, a formulation that cannot go by the route, a route the
    protocol does not list, no pre-dose BP, a pre-dose BP above the threshold,
    no BP inside the recheck window, no SpO2, a discharge before the minimum
    observation, a high BP at discharge, or a PHQ-9 with item 9 above zero.

    A formulation/route mismatch in an entry that lists its formulations is
    also reported as ``dose.formulation_not_allowed`` (both are true of the
    record); every other kind gives exactly one finding, ``code``.

    Args:
        protocol: A :class:`~kapproto.Protocol` or a built-in protocol id.
        code: One of :func:`violation_codes` for that protocol.

    Raises:
        UnknownReferenceError: ``code`` is not a finding code this module can produce.
        ValidationError: The protocol does not configure what ``code`` checks.
    """
    chosen = _protocol(protocol)
    if code not in _VIOLATIONS:
        raise UnknownReferenceError(
            f"code={code!r} is not a violation kapproto.testing generates; "
            f"known: {', '.join(sorted(_VIOLATIONS))}"
        )
    pick, doses, edit = _VIOLATIONS[code]
    entries = pick(chosen)
    if not entries:
        raise ValidationError(
            f"protocol {chosen.id}@{chosen.version} does not configure what {code} checks; "
            f"it can produce: {', '.join(violation_codes(chosen))}",
            path="code",
        )

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        plan = _draw_plan(draw, chosen, entries=entries, doses=doses)
        if edit is not None:
            edit(draw, plan)
        return plan.session()

    return build()


def _needed(plan: _Plan) -> list[str]:
    """Paths of the records the protocol's checks need in this session."""
    m, entry = plan.protocol.monitoring, plan.entry
    needed: list[str] = []
    bounds = (entry.per_administration_max, entry.min, entry.session_max, entry.max_rate)
    if any(b is not None and b.value.per_body_mass is not None for b in bounds):
        needed.append("$.weight")
    if m.min_observation is not None or m.bp_threshold is not None:
        needed.append("$.discharged_at")
    if _monitoring(plan.protocol, "predose_bp") or m.bp_threshold is not None:
        needed.append("predose")
    if m.recheck is not None:
        needed.append("recheck")
    elif m.bp_threshold is not None:
        needed.append("discharge")  # the only reading after the dose
    if _monitoring(plan.protocol, "pulse_oximetry"):
        needed.append("$.vitals[*].spo2")
    if entry.max_rate is not None:
        needed.append("$.administrations[0].end")
    return needed


def sessions_missing_a_record(protocol: Any) -> st.SearchStrategy[tuple[str, Any]]:
    """``(what, session)``: a compliant session with one record a check needs removed.

    ``what`` names the record: ``"$.weight"`` (for a per-kg limit),
    ``"$.discharged_at"``, ``"predose"`` / ``"recheck"`` / ``"discharge"`` (a
    BP reading), ``"$.vitals[*].spo2"`` or ``"$.administrations[0].end"`` (an
    infusion's end, for ``max_rate``). Checked against ``protocol``, such a
    session is never compliant: the check either finds the gap or reports it
    not evaluable.

    Args:
        protocol: A :class:`~kapproto.Protocol` or a built-in protocol id.
    """
    chosen = _protocol(protocol)

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, Any]:
        plan = _draw_plan(draw, chosen)
        needed = _needed(plan)
        if not needed:
            hypothesis.reject()
        what = draw(st.sampled_from(needed))
        session = plan.session()
        if what in plan.vitals:
            del plan.vitals[what]
            session = attrs.evolve(session, vitals=plan.session().vitals)
        elif what == "$.weight":
            session = attrs.evolve(session, weight=None)
        elif what == "$.discharged_at":
            session = attrs.evolve(session, discharged_at=None)
        elif what == "$.vitals[*].spo2":
            _no_spo2(draw, plan)
            session = plan.session()
        else:
            first, *rest = session.administrations
            session = attrs.evolve(session, administrations=(attrs.evolve(first, end=None), *rest))
        return what, session

    return build()


# --------------------------------------------------------------------------
# Screening
# --------------------------------------------------------------------------


def _fact_values(spec: Any) -> st.SearchStrategy[Any]:
    """Valid values of one fact (quantities as pint quantities at the kind's resolution)."""
    from kapproto.screening import FactType

    if spec.type is FactType.BOOL:
        return st.booleans()
    if spec.type is FactType.ENUM:
        return st.sampled_from(spec.values)
    if spec.type is FactType.STRING:
        return st.text(max_size=12)
    step = float(spec.kind.resolution) if spec.kind is not None else 1.0
    low = 0.0 if spec.low is None else spec.low
    high = 1000.0 if spec.high is None else spec.high
    lo_steps = int(low / step) + (1 if spec.low_exclusive else 0)
    steps = st.integers(min_value=lo_steps, max_value=int(high / step))
    if spec.type is FactType.INT:
        return steps
    if spec.type is FactType.NUMBER:
        return steps.map(lambda n: n * step)
    kind = spec.kind
    return steps.map(lambda n: kind.quantity(float(format(n * step, ".12g")), kind.canonical))


def facts(
    ruleset: Any = None,
    *,
    paths: Sequence[str] | None = None,
    complete: bool = False,
) -> st.SearchStrategy[Any]:
    """Valid :class:`~kapproto.screening.Facts`, each fact present or absent.

    Args:
        ruleset: Generate only the facts this :class:`~kapproto.screening.RuleSet`
            reads (with the clinic facts it declares); default every catalogue fact.
        paths: Generate only these fact paths (catalogue facts).
        complete: Every generated path present (no unknowns).

    Example:
        >>> from hypothesis import given
        >>> from kapproto.screening import Decision, get_ruleset, screen
        >>> rules = get_ruleset("ketamine-contraindications")
        >>> @given(facts(rules, complete=True))
        ... def test_never_incomplete(f):
        ...     assert screen(f, rules).decision is not Decision.INCOMPLETE
        >>> test_never_incomplete()
    """
    from kapproto.screening import Facts, FactSpec, FactType, fact_catalogue

    specs = dict(fact_catalogue())
    if ruleset is not None:
        specs.update({s.path: s for s in ruleset.facts})
        # a clinic fact read only by `present` is undeclared: any value will do
        specs = {p: specs.get(p, FactSpec(p, FactType.BOOL)) for p in ruleset.fact_paths}
    if paths is not None:
        specs = {p: fact_catalogue()[p] for p in paths}
    strategies = {p: _fact_values(s) for p, s in specs.items()}
    if complete:
        chosen = st.fixed_dictionaries(strategies)
    else:
        chosen = st.fixed_dictionaries({}, optional=strategies)
    return chosen.map(Facts.from_paths)


def _conditions(
    specs: Sequence[Any], allow_present: bool, max_leaves: int
) -> st.SearchStrategy[Any]:
    from kapproto.screening import AllOf, AnyOf, Comparison, FactType, Not, OneOf, Present

    ordered = {FactType.INT, FactType.NUMBER, FactType.QUANTITY}

    @st.composite
    def leaf(draw: st.DrawFn) -> Any:
        spec = draw(st.sampled_from(specs))
        ops = ["eq", "ne", "in"] + (["gt", "ge", "lt", "le"] if spec.type in ordered else [])
        if allow_present:
            ops.append("present")
        op = draw(st.sampled_from(ops))
        if op == "present":
            return Present(spec.path, draw(st.booleans()))
        if op == "in":
            return OneOf(spec.path, draw(st.lists(_fact_values(spec), min_size=1, max_size=3)))
        return Comparison(spec.path, op, draw(_fact_values(spec)))  # type: ignore[arg-type]

    def combine(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        parts = st.lists(inner, min_size=1, max_size=3)
        return st.one_of(parts.map(AllOf), parts.map(AnyOf), inner.map(Not))

    return st.recursive(leaf(), combine, max_leaves=max_leaves)


def rulesets(
    *,
    paths: Sequence[str] | None = None,
    allow_present: bool = True,
    max_rules: int = 6,
    max_leaves: int = 6,
) -> st.SearchStrategy[Any]:
    """Valid :class:`~kapproto.screening.RuleSet` values over catalogue facts.

    Args:
        paths: The facts rules may read (default every catalogue fact).
        allow_present: Also use ``present``, the one non-monotone operator.
        max_rules: Most rules in a set (at least one).
        max_leaves: Most fact tests in one rule's condition.

    Example:
        >>> from hypothesis import given
        >>> from kapproto.screening import RuleSet
        >>> @given(rulesets())
        ... def test_round_trip(rs):
        ...     assert RuleSet.from_dict(rs.to_dict()) == rs
        >>> test_round_trip()
    """
    from kapproto.screening import Rule, RuleSet, RuleSeverity, fact_catalogue

    catalogue = fact_catalogue()
    specs = [catalogue[p] for p in (paths if paths is not None else catalogue)]
    conditions = _conditions(specs, allow_present, max_leaves)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        count = draw(st.integers(min_value=1, max_value=max_rules))
        rules = [
            Rule(
                id=f"rule-{i}",
                title=f"Generated rule {i}",
                severity=draw(st.sampled_from(RuleSeverity)),
                source="kapproto.testing (generated)",
                when=draw(conditions),
            )
            for i in range(count)
        ]
        return RuleSet(
            id="generated",
            version=str(draw(st.integers(min_value=1, max_value=9))),
            title="Generated rule set",
            source="kapproto.testing (generated)",
            rules=rules,
        )

    return build()


# --------------------------------------------------------------------------
# Integration-plan templates
# --------------------------------------------------------------------------


def _window_bounds(calendar: bool) -> st.SearchStrategy[tuple[str, int]]:
    """A window bound as text with its nominal length in minutes."""
    if calendar:
        days = st.integers(min_value=0, max_value=60).map(lambda n: (f"{n} d", n * 1440))
        weeks = st.integers(min_value=0, max_value=8).map(lambda n: (f"{n} wk", n * 10080))
        return st.one_of(days, weeks)
    hours = st.integers(min_value=0, max_value=14 * 24).map(lambda n: (f"{n} h", n * 60))
    minutes = st.integers(min_value=0, max_value=24 * 60).map(lambda n: (f"{n} min", n))
    return st.one_of(hours, minutes)


def step_windows() -> st.SearchStrategy[Any]:
    """Valid :class:`~kapproto.StepWindow` values: after or before, elapsed or wall-clock bounds."""
    from kapproto._plan_steps import StepWindow, WindowSide

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        calendar = draw(st.booleans())
        bounds = sorted(
            [draw(_window_bounds(calendar)), draw(_window_bounds(calendar))], key=lambda b: b[1]
        )
        side = draw(st.sampled_from(WindowSide))
        near, far = bounds[0][0], bounds[1][0]
        return (
            StepWindow(side, near, far) if side is WindowSide.AFTER else StepWindow(side, far, near)
        )

    return build()


def plan_templates(*, max_steps: int = 6) -> st.SearchStrategy[Any]:
    """Valid :class:`~kapproto.PlanTemplate` values with 1 to ``max_steps`` steps.

    Steps of every kind and anchor, windows from :func:`step_windows`,
    ``every`` or ``doses`` on ``each_dosing`` steps, built-in instruments,
    prompts, and required or optional steps.

    Example:
        >>> import datetime as dt
        >>> from hypothesis import given
        >>> @given(plan_templates())
        ... def test_sorted(template):
        ...     start = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)
        ...     plan = template.instantiate(dosing=[start, start + dt.timedelta(days=7)])
        ...     assert [a.earliest for a in plan.activities] == sorted(a.earliest for a in plan.activities)
        >>> test_sorted()
    """
    from kapproto._activities import StepKind
    from kapproto._integration import PlanTemplate
    from kapproto._params import Confidence
    from kapproto._plan_steps import PlanAnchor, PlanStep
    from kapproto.instruments import INSTRUMENTS

    names = st.lists(st.sampled_from(sorted(INSTRUMENTS)), max_size=3, unique=True)
    words = st.text("abcdefghijklmnopqrstuvwxyz ?", min_size=1, max_size=20).filter(str.strip)

    @st.composite
    def step(draw: st.DrawFn, index: int) -> Any:
        kind = draw(st.sampled_from(StepKind))
        anchor = draw(st.sampled_from(PlanAnchor))
        every: int | None = None
        doses: tuple[int, ...] = ()
        if anchor is PlanAnchor.EACH_DOSING:
            choice = draw(st.sampled_from(("all", "every", "doses")))
            if choice == "every":
                every = draw(st.integers(min_value=1, max_value=3))
            elif choice == "doses":
                doses = tuple(
                    draw(
                        st.lists(
                            st.integers(min_value=1, max_value=6),
                            min_size=1,
                            max_size=3,
                            unique=True,
                        )
                    )
                )
        instruments = draw(names)
        if kind is StepKind.ASSESSMENT and not instruments:
            instruments = [draw(st.sampled_from(sorted(INSTRUMENTS)))]
        return PlanStep(
            id=f"step-{index}",
            title=f"Step {index}",
            kind=kind,
            anchor=anchor,
            window=draw(step_windows()),
            every=every,
            doses=doses,
            duration=draw(
                st.none() | st.sampled_from(["30 min", "1 h", "90 min", "2 h"]).map(_units.quantity)
            ),
            instruments=tuple(instruments),
            prompts=tuple(draw(st.lists(words, max_size=2, unique=True))),
            required=draw(st.booleans()),
            source="kapproto.testing (generated)",
            confidence=draw(st.sampled_from(Confidence)),
        )

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        count = draw(st.integers(min_value=1, max_value=max_steps))
        return PlanTemplate(
            id="generated",
            version=str(draw(st.integers(min_value=1, max_value=9))),
            title="Generated template",
            source="kapproto.testing (generated)",
            steps=[draw(step(i)) for i in range(count)],
        )

    return build()
