"""Dose bounds, limit rounding, and what a dosing record can physically be.

:class:`DoseBound` is a limit given as a mass, a dose per body mass, or both
(every part given must hold: for a maximum the lower applies at the recorded
weight, for a minimum the higher). :func:`round_to` is the fast form of
:meth:`kapproto.units.Kind.round` that limit checks use on canonical
magnitudes; it rounds every finite magnitude, and products and quotients
beyond the float range, in the :data:`EXACT` decimal context.
:func:`check_weight` refuses a physically impossible body weight
(``data/dosing.toml``).

Example:
    >>> from kapproto import DoseBound
    >>> DoseBound.of("40 mg", "0.5 mg/kg").describe(weight=70.0)
    '40 mg or 0.5 mg/kg (35 mg at 70 kg)'
"""

from __future__ import annotations

import math
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal
from functools import cache
from typing import Final

import attrs

from kapproto import units as _units
from kapproto._data import load_data
from kapproto.exceptions import KapprotoError, UnitError, ValidationError
from kapproto.units import (
    BODY_MASS,
    DOSE_PER_BODY_MASS,
    DOSE_RATE_PER_BODY_MASS,
    MASS,
    MASS_RATE,
    VOLUME,
    Kind,
    Quantity,
    canonical_number,
    format_quantity,
    kind_of,
    quantity,
)

__all__ = [
    "DOSE_KINDS",
    "EXACT",
    "RATE_KINDS",
    "DoseBound",
    "PhysicalLimits",
    "check_weight",
    "format_decimal",
    "physical_limits",
    "quantity_text",
    "round_to",
]

DOSE_KINDS: Final = (MASS, DOSE_PER_BODY_MASS, 1.0)
"""A dose bound's kinds: fixed, per body mass, and the factor from per-kg x kg to fixed."""
RATE_KINDS: Final = (MASS_RATE, DOSE_RATE_PER_BODY_MASS, 1.0 / 60.0)
"""A rate bound's kinds: mg/kg/h x kg is mg/h, 1/60 of it mg/min."""


EXACT: Final = _units._EXACT
"""The decimal context of limit arithmetic, in which a rounded magnitude and a sum of them are exact.

A finite float is below 1.8e308 and no resolution is finer than 0.001, so a
rounded canonical magnitude has at most 312 digits (a dose converted between
base and hydrochloride, or a per-kg limit at 700 kg, a few more): 400 digits
hold every one of them, and sums of them, exactly. The exponent range is the
widest :mod:`decimal` allows, so nothing overflows.
"""


def round_to(magnitude: float, kind: Kind, *factors: float, per: float = 1.0) -> Decimal:
    """Round ``magnitude x factors / per`` half-even to ``kind``'s resolution, as :meth:`Kind.round` does.

    The fast path of limit checks: no unit check, the magnitude is already
    canonical. Float noise is removed first (12 significant digits), so
    ``0.15 mg/kg x 41 kg`` is exactly 6.15 mg. Every finite magnitude rounds,
    however large: a product or quotient beyond the float range is worked out
    in decimal arithmetic instead, so it is still exact to 12 significant
    digits and compares correctly with any limit.

    Args:
        magnitude: A finite canonical magnitude.
        kind: The kind whose resolution to round to.
        *factors: Finite numbers to multiply the magnitude by (a weight, a
            conversion factor), in this order, as floats.
        per: A finite, non-zero number to divide the product by (a duration,
            a concentration).

    Returns:
        The rounded magnitude, a :class:`~decimal.Decimal` with the
        resolution's exponent (``Decimal('6.2')`` for 0.1 mg).

    Raises:
        UnitError: A magnitude, factor or divisor that is NaN or infinite, or a
            divisor of zero.

    Example:
        >>> round_to(0.15 * 41, MASS)
        Decimal('6.2')
        >>> round_to(1e308, MASS, 100.0, per=1e-10) == Decimal("1e320")
        True
    """
    value = magnitude
    for factor in factors:
        value *= factor
    if per != 1.0:
        if per == 0.0:
            raise UnitError(f"cannot divide {magnitude!r} by zero")
        value /= per
    if value - value == 0.0:  # finite: the hot path
        return Decimal(format(value, ".12g")).quantize(_step(kind), ROUND_HALF_EVEN, EXACT)
    return _round_wide(magnitude, factors, per, kind)


def _step(kind: Kind) -> Decimal:
    step = _STEPS.get(kind)
    if step is None:
        step = _STEPS[kind] = Decimal(kind.resolution)
    return step


_STEPS: dict[Kind, Decimal] = {}
_TWELVE: Final = Context(prec=12, rounding=ROUND_HALF_EVEN, Emax=MAX_EMAX, Emin=MIN_EMIN)


def _round_wide(magnitude: float, factors: tuple[float, ...], per: float, kind: Kind) -> Decimal:
    """:func:`round_to` for a product or quotient that left the float range."""
    numbers = (magnitude, *factors, per)
    if not all(math.isfinite(n) for n in numbers):
        shown = ", ".join(repr(n) for n in numbers)
        raise UnitError(f"magnitude, factors and divisor ({shown}) must be finite")
    # each float's exact value (not its shortest repr: a subnormal's repr has few digits)
    exact = [Decimal(n) for n in numbers]
    whole = Context(prec=sum(len(d.as_tuple().digits) for d in exact), Emax=MAX_EMAX, Emin=MIN_EMIN)
    product = exact[0]
    for factor in exact[1:-1]:
        product = whole.multiply(product, factor)  # exact: the precision holds every digit
    value = _TWELVE.divide(product, exact[-1])  # 12 significant digits, as .12g
    step = _step(kind)
    digits = max(value.adjusted() - step.adjusted() + 2, 1)
    wide = EXACT if digits <= EXACT.prec else Context(prec=digits, Emax=MAX_EMAX, Emin=MIN_EMIN)
    return value.quantize(step, ROUND_HALF_EVEN, wide)


@attrs.frozen
class PhysicalLimits:
    """What a dosing record can physically be (``data/dosing.toml``); not clinical limits.

    Attributes:
        weight_min: Smallest body weight accepted (BODY_MASS, kg).
        weight_max: Largest body weight accepted (BODY_MASS, kg).
        volume_relative_tolerance: Allowed relative difference between a recorded
            volume and amount / concentration (a fraction, 0.05 = 5 %).
        volume_absolute_tolerance: Allowed absolute difference (VOLUME, mL); the
            larger of the two tolerances applies.
    """

    weight_min: Quantity
    weight_max: Quantity
    volume_relative_tolerance: float
    volume_absolute_tolerance: Quantity


@cache
def physical_limits() -> PhysicalLimits:
    """The physical limits of a dosing record, read once from ``data/dosing.toml``."""
    data = load_data("dosing.toml")
    return PhysicalLimits(
        weight_min=BODY_MASS.check(data["weight"]["min"]["value"]),
        weight_max=BODY_MASS.check(data["weight"]["max"]["value"]),
        volume_relative_tolerance=float(data["volume"]["relative_tolerance"]["value"]),
        volume_absolute_tolerance=VOLUME.check(data["volume"]["absolute_tolerance"]["value"]),
    )


def check_weight(weight: object, *, path: str = "$.weight") -> Quantity:
    """Return ``weight`` as a BODY_MASS in kg, refusing a physically impossible one.

    Args:
        weight: A quantity such as ``quantity("80 kg")`` or the text ``"176 lb"``.
        path: JSON path used in errors.

    Raises:
        UnitError: Not a BODY_MASS (a bare number, mg, mg/kg, ...), or not finite.
        ValidationError: Outside the physically possible range of ``data/dosing.toml``
            (1 kg to 700 kg).

    Example:
        >>> from kapproto.units import quantity
        >>> check_weight(quantity("800 kg"))
        Traceback (most recent call last):
        ...
        kapproto.exceptions.ValidationError: $.weight: weight=800 kg is outside the physically possible range 1 kg to 700 kg
    """
    checked = BODY_MASS.check(weight, name="weight", path=path)
    limits = physical_limits()
    if not limits.weight_min.magnitude <= checked.magnitude <= limits.weight_max.magnitude:
        raise ValidationError(
            f"weight={format_quantity(checked)} is outside the physically possible range "
            f"{format_quantity(limits.weight_min)} to {format_quantity(limits.weight_max)}",
            path=path,
        )
    return checked


# --------------------------------------------------------------------------
# DoseBound
# --------------------------------------------------------------------------


def quantity_text(q: Quantity) -> str:
    """``"84 mg"``: canonical magnitude and UCUM code, as a protocol file writes it."""
    kind = kind_of(q)
    return f"{canonical_number(float(q.magnitude))} {kind.canonical}"


@attrs.frozen
class DoseBound:
    """A limit given as a fixed amount, an amount per body mass, or both.

    For doses the fixed part is a MASS (mg) and the other a DOSE_PER_BODY_MASS
    (mg/kg); for infusion rates a MASS_RATE (mg/min) and a
    DOSE_RATE_PER_BODY_MASS (mg/kg/h). Every part given must hold: for a
    maximum the lower applies at the recorded weight, for a minimum the higher.

    Attributes:
        fixed: The fixed part (MASS, mg; or MASS_RATE, mg/min), or ``None``.
        per_body_mass: The per-body-mass part (DOSE_PER_BODY_MASS, mg/kg; or
            DOSE_RATE_PER_BODY_MASS, mg/kg/h), or ``None``.

    Example:
        >>> from kapproto.units import quantity
        >>> bound = DoseBound.of(quantity("40 mg"), quantity("0.5 mg/kg"))
        >>> bound.limits(weight=70.0)
        (Decimal('40.0'), Decimal('35.0'))
    """

    fixed: Quantity | None = None
    per_body_mass: Quantity | None = None
    _pair: tuple[Kind, Kind, float] = attrs.field(init=False, repr=False, eq=False)
    _fixed_rounded: Decimal | None = attrs.field(init=False, repr=False, eq=False)
    _memo: tuple[float, Decimal] | None = attrs.field(
        init=False, repr=False, eq=False, default=None
    )

    def __attrs_post_init__(self) -> None:
        if self.fixed is None and self.per_body_mass is None:
            raise ValidationError("a bound needs a fixed part, a per-body-mass part or both")
        pair = (
            RATE_KINDS if any(_is_rate(p) for p in (self.fixed, self.per_body_mass)) else DOSE_KINDS
        )
        problems: list[tuple[str, str]] = []
        error: type[KapprotoError] = ValidationError
        for name, kind in (("fixed", pair[0]), ("per_body_mass", pair[1])):
            part = getattr(self, name)
            if part is None:
                continue
            try:
                checked = kind.check(part, name=name, path=f"$.{name}")
            except KapprotoError as exc:
                problems += exc.problems
                error = UnitError
                continue
            if not checked.magnitude > 0:
                problems.append(
                    (f"$.{name}", f"{name}={quantity_text(checked)} must be greater than zero")
                )
            object.__setattr__(self, name, checked)
        if problems:
            raise error(problems=problems)
        object.__setattr__(self, "_pair", pair)
        fixed = self.fixed
        rounded = None if fixed is None else round_to(fixed.magnitude, pair[0])
        object.__setattr__(self, "_fixed_rounded", rounded)

    @classmethod
    def of(cls, *parts: Quantity | str) -> DoseBound:
        """Build a bound from one or two quantities, telling the parts apart by kind.

        Raises:
            UnitError: A part is neither a fixed amount nor one per body mass,
                or two parts of the same kind.
        """
        fixed: Quantity | None = None
        per_kg: Quantity | None = None
        for i, part in enumerate(parts):
            q = quantity(part) if isinstance(part, str) else part
            kind = kind_of(q)
            if kind in (MASS, MASS_RATE) and fixed is None:
                fixed = q
            elif kind in (DOSE_PER_BODY_MASS, DOSE_RATE_PER_BODY_MASS) and per_kg is None:
                per_kg = q
            else:
                raise UnitError(
                    f"{quantity_text(q)} must be a mass (mg), a dose per body mass (mg/kg), a rate "
                    "(mg/min) or a rate per body mass (mg/kg/h), at most one of each",
                    path=f"$[{i}]",
                )
        return cls(fixed, per_kg)

    @property
    def is_rate(self) -> bool:
        """Whether this bounds an infusion rate rather than a dose."""
        return self._pair is RATE_KINDS

    @property
    def kind(self) -> Kind:
        """The kind the bound resolves to, MASS (mg) or MASS_RATE (mg/min)."""
        return self._pair[0]

    def limits(self, *, weight: float | None) -> tuple[Decimal, ...] | None:
        """Each part as a magnitude of :attr:`kind`, rounded; ``None`` if a part needs a weight.

        Args:
            weight: Body weight in kg, or ``None`` when not recorded.
        """
        out: list[Decimal] = []
        if self._fixed_rounded is not None:
            out.append(self._fixed_rounded)
        if self.per_body_mass is not None:
            if weight is None:
                return None
            out.append(self._resolve(weight))
        return tuple(out)

    def _resolve(self, weight: float) -> Decimal:
        memo = self._memo
        if memo is not None and memo[0] == weight:
            return memo[1]
        assert self.per_body_mass is not None
        fixed_kind, _, factor = self._pair
        resolved = round_to(self.per_body_mass.magnitude, fixed_kind, weight, factor)
        object.__setattr__(self, "_memo", (weight, resolved))  # same weight, same limit
        return resolved

    def verdict(self, value: Decimal, *, weight: float | None, upper: bool) -> bool | None:
        """Whether a rounded value breaks this bound: ``True``, ``False`` or ``None`` (unknown).

        A value that breaks the fixed part breaks the bound even without a weight.
        """
        broken = self._fixed_rounded is not None and (
            value > self._fixed_rounded if upper else value < self._fixed_rounded
        )
        if broken:
            return True
        if self.per_body_mass is None:
            return False
        if weight is None:
            return None
        limit = self._resolve(weight)
        return value > limit if upper else value < limit

    def describe(self, *, weight: float | None) -> str:
        """The bound as people read it, e.g. ``"40 mg or 0.5 mg/kg (35 mg at 70 kg)"``."""
        parts = [format_quantity(p) for p in (self.fixed, self.per_body_mass) if p is not None]
        text = " or ".join(parts)
        if self.per_body_mass is not None and weight is not None:
            resolved = self._resolve(weight)
            text += f" ({format_decimal(resolved)} {self._pair[0].canonical} at {weight:g} kg)"
        return text

    def to_data(self) -> str | list[str]:
        """The protocol-file form: ``"84 mg"`` or ``["40 mg", "0.5 mg/kg"]``."""
        parts = [quantity_text(p) for p in (self.fixed, self.per_body_mass) if p is not None]
        return parts[0] if len(parts) == 1 else parts


def _is_rate(part: object) -> bool:
    try:
        return kind_of(part) in (MASS_RATE, DOSE_RATE_PER_BODY_MASS)  # type: ignore[arg-type]
    except KapprotoError:
        return False


def format_decimal(value: Decimal) -> str:
    """A rounded magnitude without trailing zeros (``Decimal('40.0')`` -> ``'40'``)."""
    text = format(value.normalize(EXACT), "f")
    return "0" if text in {"-0", "0"} else text
