"""The fact catalogue: every fact path a rule may name, with its type and range.

Read from ``data/facts.toml``. A :class:`FactSpec` checks one value of its
fact and returns the canonical primitive the compiled rules compare: a
quantity as its magnitude in the kind's canonical unit, rounded half-even to
the kind's resolution (DESIGN.md: limits compare after rounding both sides).
"""

from __future__ import annotations

import difflib
import enum
import math
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from typing import Any, Final, TypeAlias

import attrs

from kapproto import _unit_registry
from kapproto import units as _units
from kapproto._data import load_data
from kapproto._vitals import vital_ranges
from kapproto.exceptions import KapprotoError, ValidationError
from kapproto.units import KINDS, Kind, Quantity, canonical_number, get_registry, quantity

__all__ = ["EXTRA", "FactSpec", "FactType", "FactValue", "fact_catalogue"]

EXTRA: Final = "extra"
"""The top-level key under which clinic facts outside the catalogue live."""

FactValue: TypeAlias = bool | int | float | str | Quantity
"""A fact's value as users see it: quantities as :class:`pint.Quantity`."""

_KIND_BY_NAME: Final[Mapping[str, Kind]] = {k.name: k for k in KINDS}
_NUMBER: Final = _units._NUMBER


class FactType(enum.Enum):
    """The type of a fact's value.

    ``BOOL`` true/false; ``INT`` a whole number; ``NUMBER`` any finite number;
    ``QUANTITY`` a number with a unit of the fact's kind; ``ENUM`` one of a
    fixed list of strings; ``STRING`` free text.
    """

    BOOL = "bool"
    INT = "int"
    NUMBER = "number"
    QUANTITY = "quantity"
    ENUM = "enum"
    STRING = "string"


class _Magnitude(float):
    """A canonical magnitude that remembers its kind (quantities under ``extra.``)."""

    kind: Kind

    def __new__(cls, value: float, kind: Kind) -> _Magnitude:
        self = super().__new__(cls, value)
        self.kind = kind
        return self

    def __reduce__(self) -> tuple[object, ...]:
        return (_Magnitude, (float(self), self.kind))


@attrs.frozen
class FactSpec:
    """One fact of the catalogue (or a clinic fact declared by a rule set).

    Attributes:
        path: Dotted path, e.g. ``"vitals.systolic"``.
        type: The value's type.
        description: What the fact means.
        source: Why the fact exists (the rule or scale it serves).
        kind: For a quantity, its unit kind; values are held in the kind's
            canonical unit.
        values: For an enum, the allowed values.
        low: Lowest possible value (canonical magnitude), or ``None``.
        low_exclusive: Whether ``low`` itself is impossible.
        high: Highest possible value (canonical magnitude), or ``None``.
        bounds_source: Source of the bounds.
        instrument: Instrument id whose score fills this fact, or ``None``.
        from_score: What of the score fills it: ``"total"``,
            ``"item:<item id>"`` or ``"flag:<flag id>"``.
    """

    path: str
    type: FactType
    description: str = ""
    source: str = ""
    kind: Kind | None = None
    values: tuple[str, ...] = ()
    low: float | None = None
    low_exclusive: bool = False
    high: float | None = None
    bounds_source: str = ""
    instrument: str | None = None
    from_score: str | None = None

    def expected(self) -> str:
        """What a value of this fact looks like, for messages."""
        if self.type is FactType.BOOL:
            return "true or false"
        if self.type is FactType.INT:
            return "a whole number"
        if self.type is FactType.NUMBER:
            return "a number"
        if self.type is FactType.ENUM:
            return "one of " + ", ".join(repr(v) for v in self.values)
        if self.type is FactType.STRING:
            return "a string"
        assert self.kind is not None
        return f"a {self.kind.name} such as '120 {self.kind.canonical}'"

    def parse(self, value: object, *, bounds: bool = True) -> bool | int | float | str:
        """Check a value of this fact and return its canonical primitive.

        Args:
            value: The value as written (a quantity as ``"140 mm[Hg]"``,
                ``{"value": 140, "unit": "mm[Hg]"}`` or a :class:`pint.Quantity`).
            bounds: Also check the physically possible range.

        Raises:
            ValidationError: The value does not fit (message only; the caller
                adds the path).
        """
        kind = self.type
        out: bool | int | float | str
        if kind is FactType.BOOL:
            if value is not True and value is not False:
                raise ValidationError(f"expected true or false, got {value!r}")
            return value
        if kind is FactType.ENUM or kind is FactType.STRING:
            if not isinstance(value, str) or (kind is FactType.ENUM and value not in self.values):
                raise ValidationError(f"expected {self.expected()}, got {value!r}")
            return value
        if kind is FactType.QUANTITY:
            assert self.kind is not None
            out = _parse_quantity(value, self.kind)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"expected {self.expected()}, got {value!r}")
        elif not math.isfinite(value):
            raise ValidationError(f"expected a finite number, got {value!r}")
        elif kind is FactType.INT:
            if isinstance(value, float) and not value.is_integer():
                raise ValidationError(f"expected a whole number, got {value!r}")
            out = int(value)
        else:
            out = value
        if bounds:
            self._check_bounds(out)
        return out

    def _check_bounds(self, value: float) -> None:
        low, high = self.low, self.high
        too_low = low is not None and (value <= low if self.low_exclusive else value < low)
        if too_low or (high is not None and value > high):
            unit = f" {self.kind.canonical}" if self.kind is not None else ""
            parts = []
            if low is not None:
                parts.append(f"{'above' if self.low_exclusive else 'at least'} {low:g}{unit}")
            if high is not None:
                parts.append(f"at most {high:g}{unit}")
            raise ValidationError(
                f"{value:g}{unit} is not possible for {self.path}; expected "
                f"{' and '.join(parts)} ({self.bounds_source})"
            )

    def public(self, value: bool | int | float | str) -> FactValue:
        """The user-facing value of a canonical primitive (quantities as pint)."""
        if self.kind is None:
            return value
        return get_registry().Quantity(float(value), self.kind.unit)

    def to_json(self, value: bool | int | float | str) -> object:
        """The canonical JSON of a canonical primitive."""
        if self.kind is not None:
            return {"value": canonical_number(float(value)), "unit": self.kind.canonical}
        if isinstance(value, float):
            return canonical_number(value)
        return value


def _round(magnitude: float, kind: Kind) -> float:
    """A canonical magnitude rounded half-even to the kind's resolution (as ``Kind.round``)."""
    step = _RESOLUTION.get(kind.name)
    if step is None:
        step = _RESOLUTION[kind.name] = Decimal(kind.resolution)
    return float(Decimal(format(magnitude, ".12g")).quantize(step, rounding=ROUND_HALF_EVEN))


_RESOLUTION: dict[str, Decimal] = {}


def _fast_quantity(text: str, kind: Kind) -> float | None:
    """``"128 mmHg"`` as a rounded canonical magnitude without building a pint quantity.

    ``None`` when the text is anything but a plain finite number and a known
    unit of ``kind``; the caller then takes the general path, which words the error.
    """
    match = _NUMBER.match(text)
    if match is None:
        return None
    info = _unit_registry._UNITS.get(match.group(2))
    factor = kind._factor(info.unit._units) if info is not None else None
    magnitude = float(match.group(1))
    if factor is None or not math.isfinite(magnitude * factor):
        return None
    return _round(_units._scale(magnitude, factor), kind)


def _parse_quantity(value: object, kind: Kind) -> float:
    if type(value) is str and (fast := _fast_quantity(value, kind)) is not None:
        return fast
    try:
        if isinstance(value, str):
            q = quantity(value, kind=kind)
        elif isinstance(value, Mapping):
            if set(value) != {"value", "unit"}:
                raise ValidationError(
                    f"expected a quantity {{'value': ..., 'unit': ...}}, got keys {sorted(value)}"
                )
            unit = value["unit"]
            if not isinstance(unit, str):
                raise ValidationError(f"expected a unit string such as {kind.canonical!r}")
            q = quantity(value["value"], unit, kind=kind)
        elif isinstance(value, bool) or value is None:
            raise ValidationError(
                f"expected a {kind.name} such as '120 {kind.canonical}', got {value!r}"
            )
        elif isinstance(value, int | float):
            raise ValidationError(
                f"{value!r} is a bare number; a {kind.name} needs a unit, "
                f"e.g. '{canonical_number(float(value))} {kind.canonical}'"
            )
        else:
            q = kind.check(value)
        return _round(float(q.magnitude), kind)
    except KapprotoError as exc:
        raise ValidationError(problems=[("$", m) for _p, m in exc.problems]) from None


# --------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------


def _spec_from_entry(entry: Mapping[str, Any]) -> FactSpec:
    kind = _KIND_BY_NAME[entry["kind"]] if "kind" in entry else None
    bounds = dict(entry.get("bounds", {}))
    low: float | None = None
    high: float | None = None
    exclusive = False
    bounds_source = bounds.get("source", "")
    if "vital" in bounds:
        low, high, bounds_source = vital_ranges()[bounds["vital"]]
        exclusive = True
    else:
        for key in ("min", "min_exclusive", "max"):
            if key not in bounds:
                continue
            raw = bounds[key]
            mag = float(kind.quantity(raw).magnitude) if kind is not None else float(raw)
            if key == "max":
                high = mag
            else:
                low, exclusive = mag, key == "min_exclusive"
    return FactSpec(
        path=entry["path"],
        type=FactType(entry["type"]),
        description=entry.get("description", ""),
        source=entry.get("source", ""),
        kind=kind,
        values=tuple(entry.get("values", ())),
        low=low,
        low_exclusive=exclusive,
        high=high,
        bounds_source=bounds_source,
        instrument=entry.get("instrument"),
        from_score=entry.get("from_score"),
    )


@cache
def fact_catalogue() -> Mapping[str, FactSpec]:
    """Every fact path kapproto knows, from ``data/facts.toml``, in file order.

    Example:
        >>> fact_catalogue()["vitals.systolic"].kind
        <Kind PRESSURE (mm[Hg])>
    """
    return {e["path"]: _spec_from_entry(e) for e in load_data("facts.toml")["facts"]}


@cache
def _prefixes() -> Mapping[str, tuple[str, ...]]:
    """Each intermediate path (``"vitals"``, ``"scores.phq9"``) -> its child keys."""
    children: dict[str, list[str]] = {}
    for path in fact_catalogue():
        parts = path.split(".")
        for i in range(1, len(parts)):
            kids = children.setdefault(".".join(parts[:i]), [])
            if parts[i] not in kids:
                kids.append(parts[i])
    return {k: tuple(v) for k, v in children.items()}


def _unknown(path: str) -> str:
    known = [*fact_catalogue(), *_prefixes()]
    close = difflib.get_close_matches(path, known, n=3)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    return f"unknown fact {path!r}{hint}; clinic facts go under '{EXTRA}.'"
