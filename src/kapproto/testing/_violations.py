"""Sessions that break a protocol in exactly one way."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import hypothesis
from hypothesis import strategies as st

from kapproto.exceptions import UnknownReferenceError, ValidationError
from kapproto.testing._sessions import (
    _PLAUSIBLE_DOSE_TENTHS,
    _bp,
    _cap,
    _compliant_doses,
    _device_doses,
    _discharge,
    _Dose,
    _draw_plan,
    _floor_for_discharge,
    _minutes,
    _most_devices,
    _phq9,
    _Plan,
    _protocol,
    _spacing,
    _tenths,
    _threshold,
)

# Finding codes that only a course can show: course_violations() draws them.
_COURSE_CODES = frozenset(
    {
        "dose.above_first_session_max",
        "schedule.interval_too_short",
        "screening.not_done",
        "screening.ineligible",
        "screening.review",
        "integration.missing",
        "integration.late",
        "assessment.missing",
    }
)


def _total_above(draw: st.DrawFn, plan: _Plan, limit: int, cap: int | None) -> list[_Dose]:
    """Doses whose total is above ``limit`` and at most ``cap`` (tenths of a mg), each within its limits."""
    if plan.device is not None:
        return _devices_above(draw, plan, limit, cap)
    per = plan.per or limit
    count = -(-(limit + 1) // per)  # ceil: fewest doses that can pass the limit
    if count > 3:
        hypothesis.reject()
    least = max(-(-(limit + 1) // count), plan.low)
    most = per if cap is None else min(per, cap // count)
    if least > most:
        hypothesis.reject()
    each = draw(st.integers(least, most))
    return [_Dose(each, draw(st.integers(5, 20)) if i == 0 else 30) for i in range(count)]


def _devices_above(draw: st.DrawFn, plan: _Plan, limit: int, cap: int | None) -> list[_Dose]:
    """Whole devices, more of them than ``limit`` allows, split into at most three administrations."""
    assert plan.device is not None
    most = _most_devices(plan, cap)
    fewest = limit // plan.device + 1
    if fewest > most:
        hypothesis.reject()
    n = draw(st.integers(fewest, most))
    each = n if plan.per is None else plan.per // plan.device
    if each < 1 or -(-n // each) > min(n, 3):
        hypothesis.reject()
    k = draw(st.integers(-(-n // each), min(n, 3)))
    counts = [n // k + (1 if i < n % k else 0) for i in range(k)]
    if min(counts) * plan.device < plan.low:
        hypothesis.reject()
    return _device_doses(draw, plan, counts)


def _above_max(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    assert plan.per is not None
    low = max(plan.per + 1, plan.low)
    high = low + 200 if plan.total is None else min(low + 200, plan.total)
    if high < low:
        hypothesis.reject()
    return [_Dose(draw(st.integers(low, high)), draw(st.integers(5, 20)))]


def _below_min(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    assert plan.entry.min is not None
    under = min(_tenths(v) for v in plan.entry.min.value.limits(weight=plan.kg)) - 1
    high = min(c for c in (under, plan.per, plan.total) if c is not None)
    if high < 1:
        hypothesis.reject()
    return [_Dose(draw(st.integers(1, high)), draw(st.integers(5, 20)))]


def _cumulative(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    total = _cap(plan.entry.session_max, plan.kg)
    assert total is not None
    return _total_above(draw, plan, total, None)


def _first_session(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    """A first dosing session above ``first_session_max`` and within every other limit."""
    limit = _cap(plan.entry.first_session_max, plan.kg)
    assert limit is not None
    return _total_above(draw, plan, limit, _cap(plan.entry.session_max, plan.kg))


def _rate_above(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    """One infusion given too fast: 5 % (and 0.02 mg/min) above ``max_rate`` at least."""
    assert plan.rate is not None
    fastest = plan.rate / 100 * 1.05 + 0.02  # mg/min; plan.rate is in hundredths
    low = max(plan.low, math.ceil(fastest * 10))  # a whole minute must be too fast
    high = min(c for c in (plan.per or _PLAUSIBLE_DOSE_TENTHS, plan.total) if c is not None)
    if low > high:
        hypothesis.reject()
    tenths = draw(st.integers(low, high))
    longest = math.floor(tenths / 10 / fastest)
    minutes = draw(st.integers(max(1, longest // 2), longest))
    return [_Dose(tenths, draw(st.integers(5, 20)), minutes=minutes)]


def _duplicate(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    """One administration recorded twice: same start, route and amount."""
    high = plan.per or _PLAUSIBLE_DOSE_TENTHS
    if plan.total is not None:
        high = min(high, plan.total // 2)
    if high < plan.low:
        hypothesis.reject()
    dose = _Dose(draw(st.integers(plan.low, high)), draw(st.integers(5, 20)))
    return [dose, _Dose(dose.tenths, 0)]


def _device_multiple(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
    if plan.device is None:  # the entry also allows a formulation that is not a device
        hypothesis.reject()
    halves = [  # k and a half devices, within every other limit
        t
        for k in range(_most_devices(plan, None))
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
    """Formulations outside the entry's list that can (``fits``) or cannot go by its route."""
    from kapproto._routes import Formulation

    return [
        f
        for f in sorted(Formulation, key=lambda f: f.value)
        if f.allows(entry.route) is fits
        and f.device_amount(entry.medication) is None
        and f not in entry.formulations
    ]


def _formulation(fits: bool) -> Callable[[st.DrawFn, _Plan], list[_Dose]]:
    """Compliant doses, the first in another formulation (one that can go by the route or not)."""

    def doses(draw: st.DrawFn, plan: _Plan) -> list[_Dose]:
        planned = _compliant_doses(draw, plan)
        planned[0].formulation = draw(st.sampled_from(_other_formulation(plan.entry, fits)))
        return planned

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


_WITHHELD = (
    "patient declined on the day",
    "acute illness on arrival",
    "pre-dose blood pressure above the threshold",
)


def _withheld(draw: st.DrawFn, plan: _Plan) -> None:
    """No dose given: a pre-dose reading (high, if that is the reason), then a withheld reason."""
    reason = draw(st.sampled_from(_WITHHELD))
    reading = plan.vitals["predose"]
    if reason == _WITHHELD[-1]:
        high_s, _ = _threshold(plan.protocol)
        reading = _bp(draw, reading.time, plan, systolic=draw(st.integers(high_s + 1, high_s + 40)))
    plan.administrations = []
    plan.vitals = {"predose": reading}
    plan.discharged_at = None
    plan.end = max(reading.time, plan.start) + _minutes(draw(st.integers(5, 60)))
    plan.extras = {**plan.extras, "adverse_events": (), "withheld_reason": reason}


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


def _other_protocol(draw: st.DrawFn, plan: _Plan) -> None:
    """The session names another version of the protocol, or another protocol."""
    from kapproto._sessions import Reference

    ref = plan.protocol.ref
    plan.named = draw(
        st.sampled_from(
            [Reference(ref.id, f"{ref.version}-draft"), Reference(f"{ref.id}-old", "1")]
        )
    )


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


_ANY_ENTRY = _entries_where(lambda p, e: True)

_VIOLATIONS: dict[str, tuple[_Entries, Any, Any]] = {
    "dose.above_max": (
        _entries_where(lambda p, e: e.per_administration_max is not None and not _devices(e)),
        _above_max,
        None,
    ),
    "dose.below_min": (
        _entries_where(lambda p, e: e.min is not None and not _devices(e)),
        _below_min,
        None,
    ),
    "dose.cumulative_above_max": (
        _entries_where(lambda p, e: e.session_max is not None and not _devices(e)),
        _cumulative,
        None,
    ),
    "dose.rate_above_max": (_entries_where(lambda p, e: e.max_rate is not None), _rate_above, None),
    # two devices at one time are also too close together
    "dose.duplicate_administration": (
        _entries_where(lambda p, e: not _devices(e)),
        _duplicate,
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
    "dose.formulation_not_allowed": (
        _entries_where(lambda p, e: bool(e.formulations and _other_formulation(e, True))),
        _formulation(fits=True),
        None,
    ),
    "dose.formulation_route_mismatch": (
        _entries_where(lambda p, e: bool(_other_formulation(e, False))),
        _formulation(fits=False),
        None,
    ),
    "dose.route_not_allowed": (_ANY_ENTRY, _other_route, None),
    "dose.withheld": (_ANY_ENTRY, None, _withheld),
    "monitoring.predose_vitals_missing": _when_configured("predose_bp", _no_predose),
    "monitoring.bp_elevated_predose": _when_configured("bp_threshold", _elevated_predose),
    "monitoring.recheck_missing": _when_configured("recheck", _late_recheck),
    "monitoring.spo2_missing": _when_configured("pulse_oximetry", _no_spo2),
    "monitoring.observation_too_short": _when_configured("min_observation", _early_discharge),
    "monitoring.bp_not_settled_at_discharge": _when_configured("bp_threshold", _unsettled),
    "assessment.suicidal_ideation": (_ANY_ENTRY, None, _ideation),
    "protocol.mismatch": (_ANY_ENTRY, None, _other_protocol),
}


def _catalogued(codes: Iterable[str]) -> list[str]:
    """The codes this kapproto's finding catalogue has (a generator draws no other)."""
    from kapproto._findings import finding_catalogue

    return [c for c in codes if c in finding_catalogue()]


def violation_codes(protocol: Any) -> tuple[str, ...]:
    """The finding codes :func:`violations` can produce under ``protocol``, sorted.

    A code is left out when the protocol does not configure what it checks
    (no ``recheck``, no nasal devices, no ``min``, ...). Codes that only a
    course can show are listed by :func:`course_violation_codes` instead.

    Example:
        >>> "monitoring.spo2_missing" in violation_codes("esketamine-trd")
        True
        >>> "monitoring.spo2_missing" in violation_codes("im-kap")
        False
        >>> "dose.rate_above_max" in violation_codes("iv-racemic-standard")
        True
    """
    chosen = _protocol(protocol)
    return tuple(sorted(c for c in _catalogued(_VIOLATIONS) if _VIOLATIONS[c][0](chosen)))


def _refuse_unproducible(
    chosen: Any,
    code: str,
    known: list[str],
    codes: tuple[str, ...],
    elsewhere: tuple[frozenset[str] | list[str], str, str],
) -> None:
    """Raise for a code a generator cannot produce under ``chosen``, naming the code and the protocol.

    Args:
        chosen: The protocol.
        code: The code asked for.
        known: Every code this generator knows.
        codes: The codes it can produce under ``chosen``.
        elsewhere: The codes the other generator draws, why, and its name.
    """
    others, why, generator = elsewhere
    if code in others:
        raise ValidationError(
            f"{code} {why}: draw it with {generator}(protocol, {code!r}) "
            f"(protocol {chosen.id}@{chosen.version})",
            path="code",
        )
    if code not in known:
        raise UnknownReferenceError(
            f"code={code!r} is not a violation kapproto.testing generates; "
            f"known: {', '.join(sorted({*known, *others}))}"
        )
    if code not in codes:
        raise ValidationError(
            f"protocol {chosen.id}@{chosen.version} does not configure what {code} checks, "
            f"so kapproto.testing cannot produce {code} under it; "
            f"it can produce: {', '.join(codes) or 'none'}",
            path="code",
        )


def violations(protocol: Any, code: str) -> st.SearchStrategy[Any]:
    """Sessions that break ``protocol`` in one way: checked without a course, the one finding is ``code``.

    Each session is drawn as :func:`sessions` draws a compliant one, then
    changed in one place, by code:

    - ``dose.above_max`` / ``dose.below_min``: one dose above
      ``per_administration_max`` / below ``min``;
    - ``dose.cumulative_above_max``: a session total above ``session_max``;
    - ``dose.rate_above_max``: an infusion run faster than ``max_rate``;
    - ``dose.duplicate_administration``: one dose recorded twice (same
      start, route and amount);
    - ``dose.device_multiple`` / ``dose.device_spacing``: half a nasal device /
      two devices closer than ``device_spacing``;
    - ``dose.formulation_not_allowed``: a formulation that can go by the route
      but is not in the entry's ``formulations``;
    - ``dose.formulation_route_mismatch``: a formulation that cannot go by the route;
    - ``dose.route_not_allowed``: a route the protocol does not list;
    - ``dose.withheld``: no dose given, with a withheld reason (an INFO
      finding: the report stays compliant);
    - ``monitoring.*``: no pre-dose BP, a pre-dose BP above the threshold, no
      BP inside the recheck window, no SpO2, a discharge before the minimum
      observation, a high BP at discharge;
    - ``assessment.suicidal_ideation``: a PHQ-9 with item 9 above zero;
    - ``protocol.mismatch``: the session names another protocol, or another
      version of it (a WARNING: the report stays compliant).

    A formulation/route mismatch in an entry that lists its formulations is
    also reported as ``dose.formulation_not_allowed`` (both are true of the
    record); every other kind gives exactly one finding, ``code``. Codes
    that need a course (``screening.*``, ``schedule.*``, ``integration.*``,
    ``assessment.missing``, ``dose.above_first_session_max``) are drawn by
    :func:`course_violations`. Only codes in kapproto's finding catalogue
    (:func:`~kapproto.finding_catalogue`) are drawn.

    Args:
        protocol: A :class:`~kapproto.Protocol` or a built-in protocol id.
        code: One of :func:`violation_codes` for that protocol.

    Raises:
        UnknownReferenceError: ``code`` is not a finding code this module can produce.
        ValidationError: The protocol does not configure what ``code``
            checks, or ``code`` needs a course; the message names the code
            and the protocol.

    Example:
        >>> from hypothesis import given, settings
        >>> from kapproto import check_session, get_protocol
        >>> protocol = get_protocol("iv-racemic-standard")
        >>> @settings(max_examples=10)
        ... @given(violations(protocol, "dose.rate_above_max"))
        ... def test_too_fast(session):
        ...     assert check_session(session, protocol).codes() == ["dose.rate_above_max"]
        >>> test_too_fast()
    """
    chosen = _protocol(protocol)
    course = (_COURSE_CODES, "needs a course", "course_violations")
    _refuse_unproducible(chosen, code, _catalogued(_VIOLATIONS), violation_codes(chosen), course)
    pick, doses, edit = _VIOLATIONS[code]
    entries = pick(chosen)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        plan = _draw_plan(draw, chosen, entries=entries, doses=doses)
        if edit is not None:
            edit(draw, plan)
        return plan.session()

    return build()
