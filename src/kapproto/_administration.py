"""What was given: :class:`Administration`, one dose as recorded.

A record is refused only when malformed or physically impossible; what is
clinically wrong but possible is kept and reported by the dose checks
(:mod:`kapproto._dose_checks`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, Final

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn

from kapproto._bounds import format_decimal, physical_limits
from kapproto._routes import (
    Basis,
    Formulation,
    Medication,
    Route,
    to_basis,
    to_formulation,
    to_medication,
    to_route,
)
from kapproto._validators import instant, text
from kapproto.exceptions import ValidationError
from kapproto.serialization import register_hooks
from kapproto.units import (
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

__all__ = ["Administration"]


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

    id: str = attrs.field(validator=text)
    medication: Medication = attrs.field(converter=to_medication)
    route: Route = attrs.field(converter=to_route)
    formulation: Formulation = attrs.field(converter=to_formulation)
    basis: Basis = attrs.field(
        default=attrs.Factory(_labelled_basis, takes_self=True), converter=to_basis
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
        # the common case, checked without building messages: a bolus as the
        # converters left it (no end, no volume to match)
        if (
            self.end is None
            and self.volume is None
            and type(self.id) is str
            and self.id
            and (self.site is None or type(self.site) is str)
            and (self.lot is None or type(self.lot) is str)
            and (self.administered_by is None or type(self.administered_by) is str)
            and type(self.start) is dt.datetime
            and self.start.utcoffset() is not None
            and self.amount.magnitude > 0
            and (self.concentration is None or self.concentration.magnitude > 0)
        ):
            return
        self._refuse()

    def _refuse(self) -> None:
        """Raise every problem, if any, of a record the common-case check did not pass."""
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
        if not problems and self.end is not None and _elapsed(self.start, self.end) < _ZERO:
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
        seconds = _elapsed(self.start, self.end).total_seconds()
        return get_registry().Quantity(seconds / 60.0, "minute")

    @property
    def rate(self) -> MassRate | None:
        """Mean infusion rate (MASS_RATE, mg/min), derived from amount, start and end.

        ``None`` for an administration without an ``end``, one whose end
        equals its start (no duration to divide by), or one whose rate is
        beyond the float range (a quantity is always finite; the dose checks
        work that case out exactly). Not rounded; limit checks round it to
        0.01 mg/min.
        """
        if self.end is None or _elapsed(self.start, self.end) == _ZERO:
            return None
        minutes = _elapsed(self.start, self.end).total_seconds() / 60.0
        rate = self.amount.magnitude / minutes
        if not math.isfinite(rate):
            return None
        return get_registry().Quantity(rate, MASS_RATE.unit)


_ZERO = dt.timedelta(0)


def _elapsed(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Real time from ``start`` to ``end`` (see :func:`instant`)."""
    return instant(end) - instant(start)


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
            f"{format_decimal(shown)} mL (tolerance: the larger of "
            f"{limits.volume_relative_tolerance:.0%} and "
            f"{format_quantity(limits.volume_absolute_tolerance)})",
        )
    ]


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
