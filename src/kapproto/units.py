"""Unit-checked quantities: one registry, a whitelist of clinical units, unit kinds.

kapproto never treats a bare number as a dose. Every amount is a
:class:`pint.Quantity` held in its kind's canonical unit, so ``40 mg`` and
``0.04 g`` compare and hash alike, and ``mg/kg`` (a dose per body mass) is
never accepted where ``mg`` (a mass) is meant, although pint calls both
dimensionless-compatible.

The registry is built on first use from kapproto's own ``data/units.txt``
(a few milliseconds, against ~130 ms for pint's full default registry), never
at ``import kapproto``. An application with a registry of its own shares it
with :func:`use_registry` before first use.

Example:
    >>> from kapproto.units import quantity, MASS, format_quantity
    >>> format_quantity(MASS.check(quantity("0.04 g")))
    '40 mg'
    >>> quantity("40 mg") == quantity(0.04, "g")
    True
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal
from typing import TYPE_CHECKING, Annotated, Any, Final

import attrs

from kapproto._unit_registry import (
    _BY_CONTAINER,
    _CANONICAL,
    _CONVERSIONS,
    _ROWS,
    _UNITS,
    UCUM_CODES,
    UnitInfo,
    _signature,
    get_registry,
    make_quantity,
    parse_unit,
    use_registry,
)
from kapproto.exceptions import UnitError

if TYPE_CHECKING:
    import pint

    Quantity = pint.Quantity[Any]
    """A :class:`pint.Quantity` built on kapproto's registry."""
else:  # resolved lazily so that `import kapproto.units` does not import pint
    Quantity = Any

__all__ = [
    "BODY_MASS",
    "CONCENTRATION",
    "DOSE_PER_BODY_MASS",
    "DOSE_RATE_PER_BODY_MASS",
    "DURATION",
    "FRACTION",
    "FREQUENCY",
    "KINDS",
    "MASS",
    "MASS_RATE",
    "PRESSURE",
    "UCUM_CODES",
    "VOLUME",
    "VOLUME_RATE",
    "BodyMass",
    "Concentration",
    "DosePerBodyMass",
    "DoseRatePerBodyMass",
    "Duration",
    "Fraction",
    "Frequency",
    "Kind",
    "Mass",
    "MassRate",
    "Pressure",
    "Quantity",
    "UnitInfo",
    "Volume",
    "VolumeRate",
    "canonical_number",
    "format_quantity",
    "get_registry",
    "kind_field",
    "kind_of",
    "make_quantity",
    "parse_unit",
    "quantity",
    "to_ucum",
    "use_registry",
]

# --------------------------------------------------------------------------
# Kinds
# --------------------------------------------------------------------------


@attrs.frozen(eq=False)
class Kind:
    """A clinical kind of quantity: which units it accepts and how it rounds.

    A kind checks the *unit*, not only pint's dimensionality: ``mg/kg`` and
    ``%`` are both dimensionless to pint, yet neither is accepted for the
    other.

    Attributes:
        name: ``"MASS"``, ``"DOSE_PER_BODY_MASS"``, ...
        canonical: UCUM code of the canonical unit every value is held in.
        resolution: Step that limits are rounded to (half-even), in the
            canonical unit, as a decimal string.
        description: What the kind is for.
    """

    name: str
    canonical: str
    resolution: str
    description: str

    def __repr__(self) -> str:
        return f"<Kind {self.name} ({self.canonical})>"

    @property
    def unit(self) -> Any:
        """The canonical :class:`pint.Unit`."""
        return parse_unit(self.canonical).unit

    @property
    def accepted(self) -> tuple[str, ...]:
        """UCUM codes this kind accepts."""
        if not _UNITS:
            get_registry()
        return tuple(c for c in UCUM_CODES if self._factor(_UNITS[c].unit._units) is not None)

    def _factor(self, container: Any) -> float | None:
        key = (self.name, container)
        try:
            return _CONVERSIONS[key]
        except KeyError:
            pass
        reg = get_registry()
        target = parse_unit(self.canonical)
        unit = reg.Unit(container)
        factor: float | None = None
        listed = _BY_CONTAINER.get(container)
        if listed is not None and listed.code in _NOT_FOR.get(self.name, ()):
            pass  # e.g. kg for a dose: dimensionally a mass, clinically a typo
        elif _signature(reg, unit) == target.signature or (
            self.name not in _STRUCTURAL and unit.dimensionality == target.unit.dimensionality
        ):
            factor = float(reg.Quantity(1.0, unit).to(target.unit).magnitude)
        _CONVERSIONS[key] = factor
        return factor

    def check(self, value: object, *, name: str | None = None, path: str = "$") -> Quantity:
        """Return ``value`` as a quantity in this kind's canonical unit.

        Args:
            value: A :class:`pint.Quantity` or a string such as ``"40 mg"``.
            name: Field name used in the message, if any.
            path: JSON path used in the error.

        Raises:
            UnitError: ``value`` is a bare number, has no or an unknown unit,
                a unit of another kind, or a magnitude that is not finite.

        Example:
            >>> MASS.check(quantity("0.5 g"))
            <Quantity(500.0, 'milligram')>
            >>> DOSE_PER_BODY_MASS.check(quantity("40 mg"))
            Traceback (most recent call last):
            ...
            kapproto.exceptions.UnitError: $: 40 mg must be a DOSE_PER_BODY_MASS (mg/kg, ug/kg, mg/[lb_av])
        """
        canonical = _CANONICAL.get(self.name)
        if canonical is not None and getattr(value, "_units", None) is canonical:
            mag = value._magnitude  # type: ignore[attr-defined]
            if type(mag) is float and mag - mag == 0.0:  # finite float: the hot path
                return value  # type: ignore[return-value]
        label = f"{name}=" if name else ""
        if isinstance(value, str):
            try:
                value = quantity(value)
            except UnitError as exc:
                raise exc.at(path) from None
        reg = get_registry()
        if not isinstance(value, reg.Quantity):
            if isinstance(value, int | float) and not isinstance(value, bool):
                raise UnitError(
                    f"{label}{value!r} is a bare number; a {self.name} needs a unit "
                    f"({', '.join(self.accepted)})",
                    path=path,
                )
            raise UnitError(
                f"{label}{value!r} is not a quantity; expected a {self.name} "
                f"({', '.join(self.accepted)})",
                path=path,
            )
        target = self.unit
        _CANONICAL[self.name] = target._units
        if value._units is target._units:
            mag = value.magnitude
            if isinstance(mag, float) and math.isfinite(mag):
                return value
        factor = self._factor(value._units)
        if factor is None:
            raise UnitError(
                f"{label}{_plain(value)} must be a {self.name} ({', '.join(self.accepted)})",
                path=path,
            )
        mag = _finite(value.magnitude, path=path, label=label)
        return make_quantity(_scale(mag, factor, path=path), target)

    def round(self, value: Quantity) -> Decimal:
        """Round a quantity half-even to this kind's resolution.

        Float noise from unit conversion and multiplication is removed first
        (12 significant digits), so ``0.15 mg/kg x 41 kg`` is exactly 6.15 mg.

        Returns:
            The rounded magnitude in the canonical unit, as a :class:`~decimal.Decimal`.

        Example:
            >>> MASS.round(quantity(0.15 * 41, "mg")) == MASS.round(quantity("6.15 mg"))
            True
        """
        mag = self.check(value).magnitude
        # a context wide enough for any finite float: the default one (28
        # digits) cannot quantize 1e30 mg to 0.1 mg
        return Decimal(format(mag, ".12g")).quantize(
            Decimal(self.resolution), rounding=ROUND_HALF_EVEN, context=_EXACT
        )

    def quantity(self, value: float | str, unit: str | None = None) -> Quantity:
        """Build a quantity of this kind: ``MASS.quantity(40, "mg")``."""
        return self.check(quantity(value, unit) if unit is not None else quantity(value))


# Decimal context for rounding magnitudes: 400 digits hold any finite float at
# 0.001 resolution (kapproto._bounds.EXACT, which limit checks use, is this one)
_EXACT: Final = Context(prec=400, rounding=ROUND_HALF_EVEN, Emax=MAX_EMAX, Emin=MIN_EMIN)

# Units a kind refuses although pint would convert them: a dose is never written
# in kg or lb, so "40 kg" for a dose is a typo to stop, not 40,000,000 mg. (A body
# weight in mg converts, and then fails the physically possible weight range.)
_NOT_FOR: Final[Mapping[str, frozenset[str]]] = {
    "MASS": frozenset({"kg", "[lb_av]"}),
}

# Kinds that share pint dimensionality with another kind: told apart by structure.
_STRUCTURAL: Final = frozenset(
    {"DOSE_PER_BODY_MASS", "FRACTION", "FREQUENCY", "DOSE_RATE_PER_BODY_MASS"}
)

MASS: Final = Kind("MASS", "mg", "0.1", "an amount of drug (fixed dose)")
"""A drug amount (a fixed dose), held in ``mg`` at resolution 0.1 mg; ``kg`` and ``lb`` are refused."""
BODY_MASS: Final = Kind("BODY_MASS", "kg", "0.1", "a patient's body weight")
"""A patient's body weight, held in ``kg`` at resolution 0.1 kg."""
DOSE_PER_BODY_MASS: Final = Kind("DOSE_PER_BODY_MASS", "mg/kg", "0.001", "a weight-based dose")
"""A weight-based dose, held in ``mg/kg`` at resolution 0.001 mg/kg."""
VOLUME: Final = Kind("VOLUME", "mL", "0.01", "a volume drawn up or given")
"""A volume drawn up or given, held in ``mL`` at resolution 0.01 mL."""
CONCENTRATION: Final = Kind("CONCENTRATION", "mg/mL", "0.1", "strength of a solution")
"""The strength of a solution, held in ``mg/mL`` at resolution 0.1 mg/mL."""
DURATION: Final = Kind("DURATION", "min", "0.1", "a length of time")
"""A length of time, held in ``min`` at resolution 0.1 min."""
PRESSURE: Final = Kind("PRESSURE", "mm[Hg]", "1", "a blood pressure")
"""A blood pressure, held in ``mm[Hg]`` at resolution 1 mm[Hg]."""
FREQUENCY: Final = Kind("FREQUENCY", "/min", "1", "heart or respiratory rate")
"""A heart or respiratory rate, held in ``/min`` at resolution 1 /min."""
FRACTION: Final = Kind("FRACTION", "%", "1", "a percentage such as SpO2")
"""A percentage such as SpO2, held in ``%`` at resolution 1 %."""
MASS_RATE: Final = Kind("MASS_RATE", "mg/min", "0.01", "an infusion rate by mass")
"""An infusion rate by mass, held in ``mg/min`` at resolution 0.01 mg/min."""
DOSE_RATE_PER_BODY_MASS: Final = Kind(
    "DOSE_RATE_PER_BODY_MASS", "mg/kg/h", "0.001", "a weight-based infusion rate"
)
"""A weight-based infusion rate, held in ``mg/kg/h`` at resolution 0.001 mg/kg/h."""
VOLUME_RATE: Final = Kind("VOLUME_RATE", "mL/h", "0.1", "a pump rate")
"""A pump rate, held in ``mL/h`` at resolution 0.1 mL/h."""

KINDS: Final[tuple[Kind, ...]] = (
    MASS,
    BODY_MASS,
    DOSE_PER_BODY_MASS,
    VOLUME,
    CONCENTRATION,
    DURATION,
    PRESSURE,
    FREQUENCY,
    FRACTION,
    MASS_RATE,
    DOSE_RATE_PER_BODY_MASS,
    VOLUME_RATE,
)
"""Every kind, in documentation order."""

# Field types: `amount: Mass` is a quantity that the serializer checks as a MASS.
Mass = Annotated[Quantity, MASS]
BodyMass = Annotated[Quantity, BODY_MASS]
DosePerBodyMass = Annotated[Quantity, DOSE_PER_BODY_MASS]
Volume = Annotated[Quantity, VOLUME]
Concentration = Annotated[Quantity, CONCENTRATION]
Duration = Annotated[Quantity, DURATION]
Pressure = Annotated[Quantity, PRESSURE]
Frequency = Annotated[Quantity, FREQUENCY]
Fraction = Annotated[Quantity, FRACTION]
MassRate = Annotated[Quantity, MASS_RATE]
DoseRatePerBodyMass = Annotated[Quantity, DOSE_RATE_PER_BODY_MASS]
VolumeRate = Annotated[Quantity, VOLUME_RATE]


def kind_field(kind: Kind, *, optional: bool = False, **kwargs: Any) -> Any:
    """An attrs field that holds a quantity of ``kind`` in its canonical unit.

    Whether a record is built from Python or from JSON, the value is checked
    and normalised when the record is built; a bare number, a string without
    a unit or a unit of another kind raise :class:`~kapproto.exceptions.UnitError` naming the field.

    Args:
        kind: The kind required.
        optional: Allow ``None``.
        **kwargs: Passed to :func:`attrs.field` (``default``, ``validator``, ...).
    """
    name = kind.name

    def convert(value: object, field: attrs.Attribute[Any]) -> Any:
        if value is None and optional:
            return None
        # hot path (every structured record): already canonical, a finite float
        canonical = _CANONICAL.get(name)
        if canonical is not None and getattr(value, "_units", None) is canonical:
            mag = value._magnitude  # type: ignore[attr-defined]
            if type(mag) is float and mag - mag == 0.0:
                return value
        return kind.check(value, name=field.name, path=f"$.{field.name}")

    metadata = {**kwargs.pop("metadata", {}), _KIND_METADATA: (kind, optional)}
    return attrs.field(
        converter=attrs.Converter(convert, takes_field=True), metadata=metadata, **kwargs
    )


# Metadata key of a kind_field: (the Kind its converter checks, whether None
# passes). The converter
# returns a quantity already in that kind's canonical unit, with a finite float
# magnitude, unchanged; kapproto._fast_records relies on that to skip it.
_KIND_METADATA: Final = "kapproto.kind"


# The kind a unit's quantity is held in when no kind is asked for.
_DEFAULT_KIND: Final[Mapping[str, Kind]] = {
    r["code"]: next(k for k in KINDS if k.name == r["kind"]) for r in _ROWS
}

# --------------------------------------------------------------------------
# Building quantities
# --------------------------------------------------------------------------

_NUMBER = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$")


def _plain(q: Any) -> str:
    try:
        info = _BY_CONTAINER.get(q._units)
        unit = info.code if info else str(q.units)
        return f"{canonical_number(q.magnitude)} {unit}"
    except Exception:
        return repr(q)


def _as_finite(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` (not a number, a bool, NaN, too large)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        mag = float(value)
    except OverflowError:  # an int beyond the float range
        return None
    return mag if math.isfinite(mag) else None


def _finite(value: object, *, path: str = "$", label: str = "") -> float:
    mag = _as_finite(value)
    if mag is None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UnitError(f"{label}value {value!r} must be a number", path=path)
        raise UnitError(f"{label}value {value!r} must be finite", path=path)
    return mag


def _scale(mag: float, factor: float, *, path: str = "$") -> float:
    if factor == 1.0:
        return mag
    # drop float noise of the conversion so 0.0007 g is 0.7 mg, not 0.7000000000000001
    scaled = float(format(mag * factor, ".15g"))
    if not math.isfinite(scaled):
        raise UnitError(
            f"value {mag!r} is out of range once converted to the canonical unit", path=path
        )
    return scaled


def quantity(
    value: float | str | Any, unit: str | None = None, *, kind: Kind | None = None
) -> Quantity:
    """Build a quantity from ``"40 mg"`` or ``(40, "mg")``, in its kind's canonical unit.

    Args:
        value: A number with ``unit``, a string such as ``"0.5 mg/kg"``, or a
            quantity to normalise.
        unit: A UCUM code or common spelling (``mcg``, ``mmHg``, ``bpm``, ``lb``).
        kind: The kind required; without it the unit's usual kind is used
            (``mg`` a MASS, ``kg`` a BODY_MASS, ...).

    Returns:
        A :class:`pint.Quantity` in the kind's canonical unit, magnitude a float.

    Raises:
        UnitError: No unit (a bare number is never a dose), an unknown unit, a
            unit of another kind, NaN or an infinity.

    Example:
        >>> quantity("500 mcg")
        <Quantity(0.5, 'milligram')>
        >>> quantity("0.5")
        Traceback (most recent call last):
        ...
        kapproto.exceptions.UnitError: $: '0.5' has no unit; a bare number is never a quantity
    """
    if kind is not None and not isinstance(kind, Kind):
        raise UnitError(f"kind={kind!r} is not a kind; expected one of kapproto.units.KINDS")
    reg = get_registry()
    if isinstance(value, reg.Quantity) and unit is None:
        info = _BY_CONTAINER.get(value._units)
        if kind is None:
            kind = _DEFAULT_KIND[info.code] if info is not None else kind_of(value)
        return kind.check(value)
    if isinstance(value, str) and unit is None:
        match = _NUMBER.match(value)
        if match is None:
            raise UnitError(f"{value!r} is not a number followed by a unit, such as '40 mg'")
        number, unit = match.group(1), match.group(2)
        if not unit:
            raise UnitError(f"{value!r} has no unit; a bare number is never a quantity")
        mag = float(number)
        if not math.isfinite(mag):
            raise UnitError(f"{value!r} must be finite")
    else:
        if unit is None:
            raise UnitError(f"{value!r} has no unit; a bare number is never a quantity")
        mag = _finite(value)
    info = parse_unit(unit)
    target = kind or _DEFAULT_KIND[info.code]
    factor = target._factor(info.unit._units)
    if factor is None:
        raise UnitError(
            f"{canonical_number(mag)} {unit} must be a {target.name} ({', '.join(target.accepted)})"
        )
    return make_quantity(_scale(mag, factor), target.unit)


def kind_of(q: Quantity) -> Kind:
    """Return the kind whose units ``q`` has.

    Raises:
        UnitError: ``q``'s unit belongs to no kind.
    """
    reg = get_registry()
    if isinstance(q, reg.Quantity):
        info = _BY_CONTAINER.get(q._units)
        if info is not None:
            return _DEFAULT_KIND[info.code]
        for kind in KINDS:
            if kind._factor(q._units) is not None:
                return kind
    raise UnitError(f"{q!r} is not a quantity of any kapproto kind")


def to_ucum(q: Quantity) -> tuple[float | int, str]:
    """Return ``(magnitude, ucum_code)`` in the quantity's canonical unit.

    The magnitude is an ``int`` when it is integral (canonical JSON).

    Example:
        >>> to_ucum(quantity("120 mmHg"))
        (120, 'mm[Hg]')
    """
    info = _BY_CONTAINER.get(getattr(q, "_units", None))
    if (
        info is None
        or _DEFAULT_KIND.get(info.code) is None
        or info.code != _DEFAULT_KIND[info.code].canonical
    ):
        kind = kind_of(q)
        q = kind.check(q)
        info = _BY_CONTAINER[q._units]
    return canonical_number(float(q.magnitude)), info.code


def canonical_number(value: float) -> float | int:
    """An integral float as ``int``, anything else unchanged (canonical JSON)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def format_quantity(q: Quantity, unit: str | None = None) -> str:
    """Render a quantity for people by the ISMP rules.

    Leading zero (``0.5 mg``), no trailing zero (``5 mg``, never ``5.0 mg``),
    ``mcg`` rather than ``µg``, a space between number and unit.

    Args:
        q: The quantity.
        unit: Show it in this unit (same kind) rather than the canonical one.

    Example:
        >>> format_quantity(quantity("5.0 mg"))
        '5 mg'
        >>> format_quantity(quantity(".5 mg"), "ug")
        '500 mcg'
        >>> format_quantity(quantity("120 mm[Hg]"))
        '120 mmHg'
    """
    kind = kind_of(q)
    q = kind.check(q)
    if unit is None:
        info = parse_unit(kind.canonical)
        mag = float(q.magnitude)
    else:
        info = parse_unit(unit)
        factor = kind._factor(info.unit._units)
        if factor is None:
            raise UnitError(f"cannot show a {kind.name} in {unit!r}")
        mag = float(q.magnitude) / factor
    text = format(Decimal(format(mag, ".12g")).normalize(), "f")
    if text in {"-0", "0"}:
        text = "0"
    return f"{text} {info.display}"
