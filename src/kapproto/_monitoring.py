"""The monitoring checks of a dosing session: pre-dose BP, recheck, SpO2, observation, discharge BP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from kapproto._compliance_report import _Results
from kapproto._findings import finding
from kapproto._protocols import Anchor, Protocol
from kapproto._sessions import Session
from kapproto._validators import instant
from kapproto._vitals import VitalSigns

if TYPE_CHECKING:
    from kapproto._administration import Administration

# ---------------------------------------------------------------------------
# Session checks
# ---------------------------------------------------------------------------


def _is_infusion(a: Administration, protocol: Protocol) -> bool:
    """Whether ``a`` is given over time, so that its ``end`` is a fact of its own.

    An administration by a route the reference data gives as an infusion
    (``infusion`` in ``data/routes.toml``: intravenous) is one, and so is one
    by a route the protocol gives a ``max_rate`` for (the first ``[[doses]]``
    entry for its medication and route, as the dose checks match it). Anything
    else is a bolus (IM, SC, SL, buccal, oral, intranasal): the record model
    gives it no ``end`` (DESIGN: ``end`` is for infusions), so it ends when it
    starts.
    """
    if a.route.infusion:
        return True
    entry = next(
        (e for e in protocol.doses if (e.medication, e.route) == (a.medication, a.route)), None
    )
    return entry is not None and entry.max_rate is not None


class _Anchor(NamedTuple):
    """An anchor instant in UTC, or its earliest possible value while some ends are unknown.

    Attributes:
        at: The anchor instant; with ``open`` not empty, the earliest it can be.
        open: Indices of infusions without an ``end`` (only for
            ``last_administration_end``): until they are recorded the anchor
            is not known.
    """

    at: dt.datetime
    open: tuple[int, ...] = ()


def _anchor_time(session: Session, anchor: Anchor, protocol: Protocol) -> _Anchor:
    """The anchor instant of a session that has at least one administration.

    ``last_administration_end`` takes each administration's ``end``; a bolus
    without one ends at its start, while an infusion without one leaves the
    anchor unknown (listed in ``open``; ``at`` is then a lower bound, since an
    infusion ends no earlier than it starts).
    """
    adms = session.administrations
    if anchor is Anchor.LAST_ADMINISTRATION_END:
        ends = [instant(a.end or a.start) for a in adms]
        open_ = tuple(i for i, a in enumerate(adms) if a.end is None and _is_infusion(a, protocol))
        return _Anchor(max(ends), open_)
    starts = [instant(a.start) for a in adms]
    return _Anchor(min(starts) if anchor is Anchor.FIRST_ADMINISTRATION_START else max(starts))


def _unknown_end(out: _Results, check: str, open_: tuple[int, ...], what: str) -> None:
    """Mark ``check`` not evaluable at the ``end`` of each infusion that lacks one."""
    for i in open_:
        out.missing(
            check,
            f"$.administrations[{i}].end",
            f"infusion {i} has no end time, so the {what} measured from the end of the "
            "last administration cannot be placed",
        )


def _bp_readings(vitals: Iterable[VitalSigns]) -> list[tuple[int, VitalSigns]]:
    return sorted(
        ((i, v) for i, v in enumerate(vitals) if v.has_bp), key=lambda pair: instant(pair[1].time)
    )


def _check_monitoring(session: Session, protocol: Protocol, out: _Results) -> None:
    m = protocol.monitoring
    first = session.first_administration
    if first is None:
        return
    bps = _bp_readings(session.vitals)
    predose = [(i, v) for i, v in bps if instant(v.time) <= instant(first.start)]

    if m.predose_bp is None:
        out.unset("monitoring.predose_bp")
    elif m.predose_bp.value and not predose:
        out.add(
            finding(
                "monitoring.predose_vitals_missing",
                f"no blood pressure recorded before the first administration at {first.start.isoformat()}",
                path="$.vitals",
                source=m.predose_bp.cite("monitoring.predose_bp"),
            )
        )

    if m.bp_threshold is None:
        out.unset("monitoring.bp_threshold")
    elif not predose:
        out.missing(
            "monitoring.bp_threshold",
            "$.vitals",
            "no pre-dose blood pressure to compare with the threshold",
        )
    else:
        i, last = predose[-1]
        threshold = m.bp_threshold.value
        assert last.systolic is not None
        assert last.diastolic is not None
        if threshold.exceeded_by(last.systolic.magnitude, last.diastolic.magnitude):
            out.add(
                finding(
                    "monitoring.bp_elevated_predose",
                    f"pre-dose BP {last.systolic.magnitude:g}/{last.diastolic.magnitude:g} mmHg is above "
                    f"{threshold} (a benefit/risk decision, not a hard stop)",
                    path=f"$.vitals[{i}]",
                    source=m.bp_threshold.cite("monitoring.bp_threshold"),
                )
            )

    if m.recheck is None:
        out.unset("monitoring.recheck")
    else:
        recheck = m.recheck.value
        anchor = _anchor_time(session, recheck.anchor, protocol)
        at = dt.timedelta(minutes=recheck.at.magnitude)
        tol = dt.timedelta(minutes=recheck.tolerance.magnitude)
        tz = first.start.tzinfo
        low, high = (anchor.at + at - tol).astimezone(tz), (anchor.at + at + tol).astimezone(tz)
        if anchor.open:
            _unknown_end(out, "monitoring.recheck", anchor.open, "recheck window")
        elif not any(instant(low) <= instant(v.time) <= instant(high) for _, v in bps):
            out.add(
                finding(
                    "monitoring.recheck_missing",
                    f"no blood pressure between {low.isoformat()} and {high.isoformat()} "
                    f"({recheck.at.magnitude:g} ± {recheck.tolerance.magnitude:g} min after the "
                    f"{recheck.anchor.value.replace('_', ' ')})",
                    path="$.vitals",
                    source=m.recheck.cite("monitoring.recheck"),
                )
            )

    if m.pulse_oximetry is None:
        out.unset("monitoring.pulse_oximetry")
    elif m.pulse_oximetry.value and not any(v.spo2 is not None for v in session.vitals):
        out.add(
            finding(
                "monitoring.spo2_missing",
                "the protocol requires pulse oximetry and no SpO2 was recorded",
                path="$.vitals",
                source=m.pulse_oximetry.cite("monitoring.pulse_oximetry"),
            )
        )

    if m.min_observation is None:
        out.unset("monitoring.min_observation")
    elif session.discharged_at is None:
        out.missing("monitoring.min_observation", "$.discharged_at", "no discharge time recorded")
    else:
        obs = m.min_observation.value
        anchor = _anchor_time(session, obs.anchor, protocol)
        # with an infusion's end unknown, this is the longest the observation can have been
        observed = instant(session.discharged_at) - anchor.at
        required = dt.timedelta(minutes=obs.duration.magnitude)
        if anchor.open and observed >= required:
            _unknown_end(out, "monitoring.min_observation", anchor.open, "observation")
        elif observed < required:
            out.add(
                finding(
                    "monitoring.observation_too_short",
                    f"discharged {'at most ' if anchor.open else ''}"
                    f"{observed.total_seconds() / 60:g} min after the "
                    f"{obs.anchor.value.replace('_', ' ')}; the protocol requires "
                    f"{obs.duration.magnitude:g} min",
                    path="$.discharged_at",
                    source=m.min_observation.cite("monitoring.min_observation"),
                )
            )

    if m.bp_threshold is not None:
        _check_discharge_bp(session, protocol, bps, out)


def _check_discharge_bp(
    session: Session, protocol: Protocol, bps: Sequence[tuple[int, VitalSigns]], out: _Results
) -> None:
    param = protocol.monitoring.bp_threshold
    assert param is not None
    last_dose = _anchor_time(session, Anchor.LAST_ADMINISTRATION_START, protocol).at
    if session.discharged_at is None:
        out.missing("monitoring.bp_at_discharge", "$.discharged_at", "no discharge time recorded")
        return
    discharged = instant(session.discharged_at)
    post = [(i, v) for i, v in bps if last_dose < instant(v.time) <= discharged]
    if not post:
        out.missing(
            "monitoring.bp_at_discharge",
            "$.vitals",
            "no blood pressure after the dose and before discharge",
        )
        return
    i, last = post[-1]
    assert last.systolic is not None
    assert last.diastolic is not None
    if not param.value.exceeded_by(last.systolic.magnitude, last.diastolic.magnitude):
        return
    before = [v for _, v in bps if instant(v.time) < instant(last.time)]
    settling = False
    if before:
        prev = before[-1]
        assert prev.systolic is not None
        assert prev.diastolic is not None
        settling = (
            last.systolic.magnitude <= prev.systolic.magnitude
            and last.diastolic.magnitude <= prev.diastolic.magnitude
            and (last.systolic.magnitude, last.diastolic.magnitude)
            != (prev.systolic.magnitude, prev.diastolic.magnitude)
        )
    if not settling:
        out.add(
            finding(
                "monitoring.bp_not_settled_at_discharge",
                f"last BP before discharge {last.systolic.magnitude:g}/{last.diastolic.magnitude:g} mmHg "
                f"is above {param.value} and not lower than the reading before it",
                path=f"$.vitals[{i}]",
                source=param.cite("monitoring.bp_threshold"),
            )
        )
