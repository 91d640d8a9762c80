"""Foundation strategies: time zones, aware datetimes, quantities, JSON values."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from hypothesis import strategies as st

from kapproto import _unit_registry
from kapproto import units as _units

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
    """Timezone-aware datetimes, whole seconds, never naive, and each naming one instant.

    Wall times a zone skips (02:30 on the day clocks go forward) or repeats
    (01:30 on the day they go back) are left out: Python never finds the
    repeated ones equal to the same instant written with a fixed offset, which
    is what JSON gives back.
    """
    return (
        st.datetimes(min_value=min_value, max_value=max_value, timezones=timezones())
        .map(lambda d: d.replace(microsecond=0))
        .filter(_unambiguous)
    )


def _unambiguous(moment: dt.datetime) -> bool:
    other = moment.replace(fold=1 - moment.fold)
    return bool(
        moment.utcoffset() == other.utcoffset()
        and moment.astimezone(dt.UTC).astimezone(moment.tzinfo) == moment
    )


def unit_spellings(kind: _units.Kind) -> st.SearchStrategy[str]:
    """Every unit spelling (UCUM code or common spelling) that ``kind`` accepts."""
    _units.get_registry()
    accepted = set(kind.accepted)
    spellings = sorted(s for s, info in _unit_registry._UNITS.items() if info.code in accepted)
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
