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

import math
import sys
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs
import cattrs

from kapproto._administration import Administration
from kapproto._bounds import (
    DoseBound,
    check_weight,
    format_decimal,
    physical_limits,
    quantity_text,
    round_to,
)
from kapproto._dose_checks import (
    DoseCheck,
    NotEvaluable,
    check_dose_limits,
    check_doses,
)
from kapproto._limits import DoseLimits
from kapproto._params import Confidence
from kapproto._routes import (
    Medication,
    Route,
    to_medication,
    to_route,
)
from kapproto.exceptions import UnitError, UnknownReferenceError, ValidationError
from kapproto.serialization import register_hooks
from kapproto.units import (
    CONCENTRATION,
    DOSE_PER_BODY_MASS,
    DURATION,
    MASS,
    MASS_RATE,
    VOLUME,
    Kind,
    Mass,
    MassRate,
    Quantity,
    Volume,
    canonical_number,
    format_quantity,
    get_registry,
    kind_of,
    quantity,
    to_ucum,
)

__all__ = [
    "Administration",
    "DoseBound",
    "DoseCheck",
    "DoseLimits",
    "DoseSpec",
    "ExposureEstimate",
    "NotEvaluable",
    "check_dose_limits",
    "check_doses",
    "check_weight",
    "infusion_rate",
    "iv_equivalent",
    "physical_limits",
    "volume_for",
]


# --------------------------------------------------------------------------
# DoseSpec and dose arithmetic
# --------------------------------------------------------------------------


def _rounded(
    magnitude: float,
    kind: Kind,
    name: str,
    *factors: float,
    per: float = 1.0,
    how: Callable[[], str] = str,
) -> Quantity:
    """``magnitude x factors / per`` rounded half-even to ``kind``'s resolution.

    Never rounded to zero, and never beyond what a quantity can hold: either
    is a :class:`~kapproto.exceptions.ValidationError`, the second saying
    ``how()`` the value was computed (``"0.5 mg/kg x 80 kg"``).
    """
    rounded = round_to(magnitude, kind, *factors, per=per)
    value = float(rounded)
    if rounded <= 0:
        raise ValidationError(
            f"{name}={canonical_number(math.prod(factors, start=magnitude) / per)} "
            f"{kind.canonical} rounds to {format_decimal(rounded)} at the {kind.resolution} "
            f"{kind.canonical} resolution; it cannot be given as computed",
        )
    if not math.isfinite(value):
        raise ValidationError(
            f"{name}={how()} is {rounded:.3e} {kind.canonical}, beyond the largest magnitude a "
            f"quantity can hold ({sys.float_info.max:.3e}); it cannot be given as computed",
        )
    return get_registry().Quantity(value, kind.unit)


def _quotient(amount: Quantity, per: Quantity, kind: Kind, name: str) -> Quantity:
    """``amount / per`` rounded half-even to ``kind``'s resolution (see :func:`_rounded`)."""
    return _rounded(
        amount.magnitude,
        kind,
        name,
        per=per.magnitude,
        how=lambda: f"{quantity_text(amount)} / {quantity_text(per)}",
    )


def _positive(value: object, kind: Kind, name: str) -> Quantity:
    checked = kind.check(value, name=name, path=f"$.{name}")
    if not checked.magnitude > 0:
        raise ValidationError(
            f"{name}={format_quantity(checked)} must be greater than zero", path=f"$.{name}"
        )
    return checked


def _dose_amount(value: object) -> Quantity:
    if isinstance(value, str):
        value = _parse(value)
    try:
        kind = kind_of(value)  # type: ignore[arg-type]
    except UnitError:
        kind = None
    if kind is not MASS and kind is not DOSE_PER_BODY_MASS:
        shown = f"{value!r} is a bare number" if isinstance(value, int | float) else f"{value!r}"
        raise UnitError(
            f"amount={shown}; a dose is a MASS (mg) or a DOSE_PER_BODY_MASS (mg/kg)",
            path="$.amount",
        )
    return kind.check(value, name="amount", path="$.amount")


def _parse(text: str, unit: str | None = None) -> Quantity:
    try:
        return quantity(text, unit)
    except UnitError as exc:
        raise UnitError(problems=exc.at("$.amount").problems) from None


def _amount_from_json(data: Mapping[str, Any]) -> Quantity:
    if set(data) != {"value", "unit"}:
        raise ValidationError(
            f'expected {{"value": 0.5, "unit": "mg/kg"}}, got {dict(data)!r}',
            path="$.amount",
        )
    value, unit = data["value"], data["unit"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"expected a finite number, got {value!r}", path="$.amount.value")
    if not isinstance(unit, str):
        raise ValidationError(f"expected a unit string, got {unit!r}", path="$.amount.unit")
    return _parse(value, unit)  # type: ignore[arg-type]


@attrs.frozen
class DoseSpec:
    """What to give: a fixed amount or an amount per body mass, by a route.

    ``amount`` is a MASS (a fixed dose, mg) or a DOSE_PER_BODY_MASS (a
    weight-based dose, mg/kg); a bare number or any other kind is a
    :class:`~kapproto.exceptions.UnitError`. :meth:`dose_for` gives the amount in mg for a
    recorded weight.

    Attributes:
        amount: The dose (MASS, mg; or DOSE_PER_BODY_MASS, mg/kg).
        route: The route it is for.
        medication: The medication, racemic ketamine by default.

    Example:
        >>> from kapproto import DoseSpec, Route, quantity, format_quantity
        >>> spec = DoseSpec(quantity("0.15 mg/kg"), Route.INTRAMUSCULAR)
        >>> format_quantity(spec.dose_for(quantity("41 kg")))
        '6.2 mg'
        >>> spec.dose_for(None)
        Traceback (most recent call last):
        ...
        kapproto.exceptions.ValidationError: $.weight: a weight-based dose (0.15 mg/kg) needs the patient's weight
    """

    amount: Quantity = attrs.field(converter=_dose_amount)
    route: Route = attrs.field(converter=to_route)
    medication: Medication = attrs.field(default=Medication.KETAMINE, converter=to_medication)
    _per_kg: bool = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not self.amount.magnitude > 0:
            raise ValidationError(
                f"amount={format_quantity(self.amount)} must be greater than zero", path="$.amount"
            )
        object.__setattr__(self, "_per_kg", kind_of(self.amount) is DOSE_PER_BODY_MASS)

    @property
    def weight_based(self) -> bool:
        """Whether the amount is per body mass (mg/kg) and so needs a weight."""
        return self._per_kg

    def dose_for(self, weight: Quantity | str | None = None) -> Mass:
        """The dose in mg for ``weight``, rounded half-even to 0.1 mg.

        Args:
            weight: The patient's weight (BODY_MASS: kg, lb, g); required for a
                weight-based spec, checked (1 kg to 700 kg) if given to a fixed one.

        Returns:
            A MASS in mg.

        Raises:
            ValidationError: A weight-based spec without a weight, an impossible
                weight, a dose that rounds to 0 mg, or one beyond the largest
                magnitude a quantity can hold (about 1.8e308 mg).
            UnitError: ``weight`` is not a BODY_MASS (a bare number, mg/kg, ...).
        """
        if weight is None:
            if self._per_kg:
                raise ValidationError(
                    f"a weight-based dose ({format_quantity(self.amount)}) needs the "
                    "patient's weight",
                    path="$.weight",
                )
            return _rounded(self.amount.magnitude, MASS, "dose")
        checked = check_weight(weight)
        if self._per_kg:
            return _rounded(
                self.amount.magnitude,
                MASS,
                "dose",
                checked.magnitude,
                how=lambda: f"{quantity_text(self.amount)} x {quantity_text(checked)}",
            )
        return _rounded(self.amount.magnitude, MASS, "dose")


def volume_for(amount: Quantity | str, concentration: Quantity | str) -> Volume:
    """The volume that holds ``amount`` at ``concentration``, rounded half-even to 0.01 mL.

    Args:
        amount: A MASS (mg); a dose per body mass must first go through
            :meth:`DoseSpec.dose_for`.
        concentration: A CONCENTRATION (mg/mL).

    Returns:
        A VOLUME in mL; ``volume * concentration`` is ``amount`` within half a
        0.01 mL step times the concentration.

    Raises:
        UnitError: Either argument of the wrong kind, a bare number, or not finite.
        ValidationError: Either not positive, or a volume that rounds to 0 mL or
            is beyond the largest magnitude a quantity can hold.

    Example:
        >>> from kapproto import quantity, format_quantity
        >>> format_quantity(volume_for(quantity("40 mg"), quantity("100 mg/mL")))
        '0.4 mL'
    """
    a = _positive(amount, MASS, "amount")
    c = _positive(concentration, CONCENTRATION, "concentration")
    return _quotient(a, c, VOLUME, "volume")


def infusion_rate(amount: Quantity | str, duration: Quantity | str) -> MassRate:
    """The mean rate that gives ``amount`` over ``duration``, rounded half-even to 0.01 mg/min.

    Raises:
        UnitError: Either argument of the wrong kind, a bare number, or not finite.
        ValidationError: Either not positive, or a rate that rounds to 0 mg/min or
            is beyond the largest magnitude a quantity can hold.

    Example:
        >>> from kapproto import quantity, format_quantity
        >>> format_quantity(infusion_rate(quantity("40 mg"), quantity("40 min")))
        '1 mg/min'
    """
    a = _positive(amount, MASS, "amount")
    d = _positive(duration, DURATION, "duration")
    return _quotient(a, d, MASS_RATE, "rate")


def _to_mass(value: object) -> Quantity:
    return MASS.check(value)


@attrs.frozen
class ExposureEstimate:
    """An estimate of systemic exposure, as the IV amount that would give it.

    It comes from the route's bioavailability range and is labelled an
    estimate: it is never a dose conversion, and the CLI never prints it as a
    dose.

    Attributes:
        low: Lower end (MASS, mg), from the low end of the bioavailability range.
        high: Upper end (MASS, mg).
        source: Where the bioavailability range comes from.
        confidence: How sure that source is.

    Example:
        >>> from kapproto import Route, iv_equivalent, quantity
        >>> est = iv_equivalent(quantity("100 mg"), Route.INTRAMUSCULAR)
        >>> str(est.low), str(est.high), est.confidence
        ('93.0 milligram', '93.0 milligram', <Confidence.S: 'S'>)
    """

    low: Mass = attrs.field(converter=_to_mass)
    high: Mass = attrs.field(converter=_to_mass)
    source: str
    confidence: Confidence | None = None

    NOTE: ClassVar[str] = "systemic-exposure estimate from bioavailability; not a dose conversion"

    def __str__(self) -> str:
        return (
            f"IV-equivalent exposure {format_quantity(self.low)} to {format_quantity(self.high)} "
            f"({self.NOTE}; {self.source})"
        )


def iv_equivalent(
    amount: Quantity | str, route: Route, medication: Medication = Medication.KETAMINE
) -> ExposureEstimate:
    """Estimate the systemic exposure of ``amount`` by ``route`` as an IV-equivalent range.

    Each end is ``amount x bioavailability`` rounded half-even to 0.1 mg.

    Raises:
        UnitError: ``amount`` is not a MASS.
        UnknownReferenceError: No source gives the route's bioavailability
            (subcutaneous): no estimate rather than a guess.

    Example:
        >>> from kapproto import Route, quantity
        >>> est = iv_equivalent(quantity("200 mg"), Route.SUBLINGUAL)
        >>> str(est.low), str(est.high)
        ('54.0 milligram', '64.0 milligram')
    """
    a = _positive(amount, MASS, "amount")
    route = to_route(route)
    medication = to_medication(medication)
    bio = route.bioavailability_for(medication)
    if bio is None:
        raise UnknownReferenceError(
            f"no source gives the bioavailability of {medication.value} by the {route.value} "
            "route (CLINICAL.md §1), so kapproto gives no exposure estimate",
            path="$.route",
        )
    reg = get_registry()
    low = round_to(a.magnitude, MASS, bio.low.magnitude, per=100.0)
    high = round_to(a.magnitude, MASS, bio.high.magnitude, per=100.0)
    return ExposureEstimate(
        reg.Quantity(float(low), MASS.unit),
        reg.Quantity(float(high), MASS.unit),
        bio.source,
        bio.confidence,
    )


@register_hooks
def _dose_spec_hooks(conv: cattrs.Converter) -> None:
    def unstructure(spec: DoseSpec) -> dict[str, Any]:
        value, unit = to_ucum(spec.amount)
        return {
            "amount": {"value": value, "unit": unit},
            "route": spec.route.value,
            "medication": spec.medication.value,
        }

    def structure(data: object, _: object) -> DoseSpec:
        if not isinstance(data, Mapping):
            raise ValidationError(f"expected a dose spec (a JSON object), got {data!r}")
        problems = [
            (f"$.{k}", f"unknown key {k!r}; expected amount, route, medication")
            for k in data
            if k not in {"amount", "route", "medication"}
        ]
        problems += [
            (f"$.{k}", "required key is missing") for k in ("amount", "route") if k not in data
        ]
        if problems:
            raise ValidationError(problems=problems)
        amount = data["amount"]
        if isinstance(amount, Mapping):
            amount = _amount_from_json(amount)
        return DoseSpec(amount, data["route"], data.get("medication", Medication.KETAMINE))

    conv.register_unstructure_hook(DoseSpec, unstructure)
    conv.register_structure_hook(DoseSpec, structure)
