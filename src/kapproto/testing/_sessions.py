"""Sessions that comply with a protocol."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import attrs
from hypothesis import strategies as st

from kapproto import units as _units
from kapproto.exceptions import ValidationError

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
    named: Any = None  # the protocol the session names, if not ``protocol``

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
            protocol=self.named or self.protocol.ref,
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
        most = _most_devices(plan, plan.total)
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
        return _device_doses(draw, plan, counts)
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


def _most_devices(plan: _Plan, cap: int | None) -> int:
    """The most whole devices a session may hold: ``max_devices``, and ``cap`` (tenths of a mg)."""
    assert plan.device is not None
    entry = plan.entry
    most: int = entry.max_devices.value if entry.max_devices else _PLAUSIBLE_DEVICES
    return most if cap is None else min(most, cap // plan.device)


def _device_doses(draw: st.DrawFn, plan: _Plan, counts: list[int]) -> list[_Dose]:
    """One administration of ``n`` devices for each ``n``, spaced as the entry asks."""
    assert plan.device is not None
    spacing = _spacing(plan.entry)
    return [
        _Dose(n * plan.device, spacing + draw(st.integers(0, 5)) if i else draw(st.integers(5, 20)))
        for i, n in enumerate(counts)
    ]


def _is_infusion(entry: Any) -> bool:
    from kapproto._routes import Route

    return entry.max_rate is not None or entry.route is Route.INTRAVENOUS


def _administer(draw: st.DrawFn, plan: _Plan, doses: list[_Dose]) -> None:
    """Administrations from planned doses; an infusion lasts long enough to keep under max_rate."""
    from kapproto._administration import Administration

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
    first: dt.datetime | None = None,
) -> _Plan:
    """A compliant plan; ``doses`` (``(draw, plan) -> [_Dose]``) replaces the compliant amounts.

    ``first`` fixes when the first administration starts (a course's dosing time).
    """
    candidates = list(entries if entries is not None else protocol.doses)
    entry = draw(st.sampled_from(candidates))
    plan = _entry_context(draw, protocol, entry)
    planned = (doses or _compliant_doses)(draw, plan)
    if first is not None:
        plan.start = first - _minutes(planned[0].offset)
    _administer(draw, plan, planned)
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


def _any_builtin(strategy: Callable[[str], st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """``strategy(id)`` for a built-in protocol id drawn at random."""
    from kapproto._catalog import Catalog

    ids = sorted({pid for pid, _ in Catalog.builtin().protocols.entries})
    return st.sampled_from(ids).flatmap(strategy)


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
        return _any_builtin(sessions)
    chosen = _protocol(protocol)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        return _draw_plan(draw, chosen).session()

    return build()


# -- violations ---------------------------------------------------------------
