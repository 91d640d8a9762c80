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
import zoneinfo
from typing import Any

from hypothesis import strategies as st

from kapproto import units as _units

__all__ = [
    "administrations",
    "aware_datetimes",
    "dose_limits",
    "dose_specs",
    "instrument_answers",
    "instrument_responses",
    "json_values",
    "quantities",
    "timezones",
    "unit_spellings",
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
        start: Strategy for the start time (default :func:`aware_datetimes`).
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
    from kapproto._limits import DoseBound

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
