"""Compliant sessions with one record a check needs removed."""

from __future__ import annotations

from typing import Any

import attrs
import hypothesis
from hypothesis import strategies as st

from kapproto.testing._sessions import _draw_plan, _Plan, _protocol
from kapproto.testing._violations import _monitoring, _no_spo2


def _ends_needed(plan: _Plan) -> list[str]:
    """The infusion ``end`` paths a check needs: for ``max_rate``, or an anchor at the last end."""
    from kapproto._protocols import Anchor

    m = plan.protocol.monitoring
    ended = [(i, a) for i, a in enumerate(plan.administrations) if a.end is not None]
    if not ended:
        return []
    if plan.entry.max_rate is not None:  # every infusion's rate
        return [f"$.administrations[{i}].end" for i, _ in ended]
    anchors = [p.value.anchor for p in (m.recheck, m.min_observation) if p is not None]
    if Anchor.LAST_ADMINISTRATION_END in anchors:
        last, _ = max(ended, key=lambda pair: pair[1].end)
        return [f"$.administrations[{last}].end"]
    return []


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
    needed += _ends_needed(plan)
    return needed


def sessions_missing_a_record(protocol: Any) -> st.SearchStrategy[tuple[str, Any]]:
    """``(what, session)``: a compliant session with one record a check needs removed.

    ``what`` names the record:

    - ``"$.weight"``, for a per-kg limit: the check is *not evaluable*;
    - ``"$.discharged_at"``: the observation and discharge-BP checks are not evaluable;
    - ``"$.administrations[i].end"``, an infusion's end, where ``max_rate``
      or an observation or recheck anchored at ``last_administration_end``
      needs it: not evaluable;
    - ``"discharge"``, the BP reading at discharge, where it is the only one
      after the dose: the discharge-BP check is not evaluable (at ``$.vitals``);
    - ``"predose"``, the pre-dose BP: ``monitoring.predose_vitals_missing``
      where ``predose_bp`` is required, else the threshold check is not evaluable;
    - ``"recheck"``, the recheck BP: ``monitoring.recheck_missing``;
    - ``"$.vitals[*].spo2"``, every SpO2: ``monitoring.spo2_missing``.

    Checked against ``protocol``, such a session is never compliant: as
    DESIGN.md's finding table says, the check either finds the gap (an
    ERROR finding) or reports it not evaluable, with the missing path.

    Args:
        protocol: A :class:`~kapproto.Protocol` or a built-in protocol id.

    Example:
        >>> from hypothesis import given, settings
        >>> from kapproto import check_session, get_protocol
        >>> protocol = get_protocol("sc-racemic")
        >>> @settings(max_examples=10)
        ... @given(sessions_missing_a_record(protocol))
        ... def test_never_compliant(pair):
        ...     what, session = pair
        ...     assert not check_session(session, protocol).ok, what
        >>> test_never_compliant()
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
            i = int(what.split("[")[1].split("]")[0])
            given = list(session.administrations)
            given[i] = attrs.evolve(given[i], end=None)
            session = attrs.evolve(session, administrations=tuple(given))
        return what, session

    return build()
