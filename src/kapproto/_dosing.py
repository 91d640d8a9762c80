"""Unit-checked dosing: what was given (:class:`Administration`) and what to give (:class:`DoseSpec`).

A dose per body mass (mg/kg) is never a mass (mg): :meth:`DoseSpec.dose_for`
turns one into the other only with a recorded weight. Results are rounded
half-even to their kind's resolution (0.1 mg, 0.01 mL, 0.01 mg/min), never
truncated.

Example:
    >>> from kapproto import DoseSpec, Route, quantity, format_quantity
    >>> spec = DoseSpec(quantity("0.5 mg/kg"), Route.INTRAVENOUS)
    >>> format_quantity(spec.dose_for(quantity("80 kg")))
    '40 mg'
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any, Final

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn

from kapproto._data import load_data
from kapproto._routes import Basis, Formulation, Medication, Route, coerce_enum
from kapproto.exceptions import ValidationError
from kapproto.serialization import register_hooks
from kapproto.units import (
    BODY_MASS,
    CONCENTRATION,
    MASS,
    MASS_RATE,
    VOLUME,
    Concentration,
    Mass,
    MassRate,
    Quantity,
    Volume,
    format_quantity,
    get_registry,
    kind_field,
)

__all__ = ["Administration", "check_weight", "physical_limits"]


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


def _to_medication(value: object) -> Medication:
    return coerce_enum(Medication, value, "medication")


def _to_route(value: object) -> Route:
    return coerce_enum(Route, value, "route")


def _to_formulation(value: object) -> Formulation:
    return coerce_enum(Formulation, value, "formulation")


def _to_basis(value: object) -> Basis:
    return coerce_enum(Basis, value, "basis")


def _labelled_basis(record: Administration) -> Basis:
    return record.formulation.basis


@attrs.frozen(kw_only=True)
class Administration:
    """One administration of a medication, as it happened.

    A record is refused only when it is malformed or physically impossible:
    a naive time, an ``end`` before ``start``, an amount that is not a
    positive finite MASS, a volume that does not match amount / concentration
    (within the larger of 5 % and 0.01 mL, ``data/dosing.toml``). What is
    clinically wrong but possible (a troche recorded by the IV route, 70 mg
    from 28 mg nasal devices, a dose above a protocol's limit) is kept as
    recorded; :func:`~kapproto.check_doses` reports it.

    Attributes:
        id: Identifier, unique within its session (``"a1"``).
        medication: The drug given.
        route: The route it went by.
        formulation: The dosage form.
        basis: Whether ``amount`` counts ketamine base or its hydrochloride
            salt; defaults to the basis the formulation's strength is labelled as.
        amount: The amount given (MASS, mg).
        start: When it started (timezone-aware).
        end: When an infusion ended (timezone-aware), or ``None``.
        concentration: Strength of the solution given (CONCENTRATION, mg/mL), or ``None``.
        volume: Volume given (VOLUME, mL), or ``None``.
        site: Injection site or nostril, free text, or ``None``.
        lot: Lot number, or ``None``.
        administered_by: Role of the person who gave it (``"nurse"``), or ``None``.

    Example:
        >>> import datetime as dt
        >>> from kapproto import Administration, Formulation, Medication, Route, quantity
        >>> a = Administration(
        ...     id="a1",
        ...     medication=Medication.KETAMINE,
        ...     route=Route.INTRAMUSCULAR,
        ...     formulation=Formulation.SOLUTION_FOR_INJECTION,
        ...     amount=quantity("40 mg"),
        ...     start=dt.datetime.fromisoformat("2026-03-02T09:10:00-07:00"),
        ... )
        >>> a.basis
        <Basis.BASE: 'base'>
    """

    id: str
    medication: Medication = attrs.field(converter=_to_medication)
    route: Route = attrs.field(converter=_to_route)
    formulation: Formulation = attrs.field(converter=_to_formulation)
    basis: Basis = attrs.field(
        default=attrs.Factory(_labelled_basis, takes_self=True), converter=_to_basis
    )
    amount: Mass = kind_field(MASS)
    start: dt.datetime
    end: dt.datetime | None = None
    concentration: Concentration | None = kind_field(CONCENTRATION, optional=True, default=None)
    volume: Volume | None = kind_field(VOLUME, optional=True, default=None)
    site: str | None = None
    lot: str | None = None
    administered_by: str | None = None

    def __attrs_post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        if not isinstance(self.id, str) or not self.id:
            problems.append(("$.id", f"id={self.id!r} must be a non-empty string"))
        for name in ("site", "lot", "administered_by"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                problems.append((f"$.{name}", f"{name}={value!r} must be a string or None"))
        for name in ("start", "end"):
            moment = getattr(self, name)
            if moment is None and name == "end":
                continue
            if not isinstance(moment, dt.datetime):
                problems.append((f"$.{name}", f"{name}={moment!r} must be a datetime"))
            elif moment.utcoffset() is None:
                problems.append(
                    (f"$.{name}", f"{name}={moment.isoformat()} is naive; give its UTC offset")
                )
        for name in ("amount", "concentration", "volume"):
            value = getattr(self, name)
            if value is not None and not value.magnitude > 0:
                problems.append(
                    (f"$.{name}", f"{name}={format_quantity(value)} must be greater than zero")
                )
        if not problems and self.end is not None and self.end < self.start:
            problems.append(
                (
                    "$.end",
                    f"end={self.end.isoformat()} is before start={self.start.isoformat()}",
                )
            )
        if not problems and self.volume is not None and self.concentration is not None:
            problems.extend(_volume_problems(self.amount, self.concentration, self.volume))
        if problems:
            raise ValidationError(problems=problems)

    @property
    def duration(self) -> Quantity | None:
        """Minutes from ``start`` to ``end`` (DURATION, min), or ``None`` without an end."""
        if self.end is None:
            return None
        seconds = (self.end - self.start).total_seconds()
        return get_registry().Quantity(seconds / 60.0, "minute")

    @property
    def rate(self) -> MassRate | None:
        """Mean infusion rate (MASS_RATE, mg/min), derived from amount, start and end.

        ``None`` for an administration without an ``end``, or one whose end
        equals its start (no duration to divide by). Not rounded; limit checks
        round it to 0.01 mg/min.
        """
        if self.end is None or self.end == self.start:
            return None
        minutes = (self.end - self.start).total_seconds() / 60.0
        return get_registry().Quantity(self.amount.magnitude / minutes, MASS_RATE.unit)


def _volume_problems(
    amount: Quantity, concentration: Quantity, volume: Quantity
) -> list[tuple[str, str]]:
    limits = physical_limits()
    expected = amount.magnitude / concentration.magnitude
    tolerance = max(
        limits.volume_relative_tolerance * expected, limits.volume_absolute_tolerance.magnitude
    )
    if math.fabs(volume.magnitude - expected) <= tolerance + 1e-12:
        return []
    shown = VOLUME.round(get_registry().Quantity(expected, VOLUME.unit))
    return [
        (
            "$.volume",
            f"volume={format_quantity(volume)} does not match amount={format_quantity(amount)} "
            f"at concentration={format_quantity(concentration)}, which is "
            f"{_plain_decimal(shown)} mL (tolerance: the larger of "
            f"{limits.volume_relative_tolerance:.0%} and "
            f"{format_quantity(limits.volume_absolute_tolerance)})",
        )
    ]


def _plain_decimal(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


_OPTIONAL: Final = ("end", "concentration", "volume", "site", "lot", "administered_by")


@register_hooks
def _administration_hooks(conv: cattrs.Converter) -> None:
    base = make_dict_unstructure_fn(Administration, conv)

    def unstructure(value: Administration) -> Mapping[str, Any]:
        data: dict[str, Any] = base(value)
        for name in _OPTIONAL:
            if data.get(name) is None:
                data.pop(name, None)
        return data

    conv.register_unstructure_hook(Administration, unstructure)
