"""Sessions that break a protocol in exactly one way, or lack one record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import hypothesis
from hypothesis import strategies as st

from kapproto.exceptions import UnknownReferenceError, ValidationError
from kapproto.testing._sessions import (
    _PLAUSIBLE_DEVICES,
    _bp,
    _cap,
    _compliant_doses,
    _discharge,
    _Dose,
    _draw_plan,
    _floor_for_discharge,
    _minutes,
    _phq9,
    _Plan,
    _protocol,
    _spacing,
    _threshold,
)


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
