"""Strategies for routes and dosing: administrations, dose specs, dose limits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from kapproto import units as _units
from kapproto.testing._basics import aware_datetimes, quantities

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
    from kapproto._administration import Administration
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
