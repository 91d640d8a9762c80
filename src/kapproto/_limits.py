"""Dose limits: one ``[[doses]]`` entry of a protocol file, and what a record can physically be.

:class:`DoseLimits` holds a protocol's limits for one medication by one route,
each limit a :class:`~kapproto._params.Parameter` that keeps its source for the
findings. :class:`DoseBound` is a limit given as a mass, a dose per body mass,
or both (every bound given must hold: for a maximum the lower applies at the
recorded weight, for a minimum the higher). The checks themselves are in
:mod:`kapproto._checks`.

Example:
    >>> from kapproto import DoseLimits
    >>> limits = DoseLimits.from_dict(
    ...     {"medication": "esketamine", "route": "intranasal", "session_max": "84 mg"}
    ... )
    >>> limits.session_max.value
    DoseBound(fixed=<Quantity(84.0, 'milligram')>, per_body_mass=None)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from typing import Any, Final

import attrs
import cattrs

from kapproto._data import load_data
from kapproto._params import Parameter, parse_parameter
from kapproto._routes import (
    Basis,
    Formulation,
    Medication,
    Route,
    coerce_enum,
    to_medication,
    to_route,
)
from kapproto.exceptions import KapprotoError, ProtocolError, UnitError, ValidationError
from kapproto.serialization import register_hooks
from kapproto.units import (
    BODY_MASS,
    DOSE_PER_BODY_MASS,
    DOSE_RATE_PER_BODY_MASS,
    DURATION,
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
    "DoseBound",
    "DoseLimits",
    "PhysicalLimits",
    "check_weight",
    "format_decimal",
    "physical_limits",
    "round_to",
]

# (fixed kind, per-body-mass kind, factor taking per-kg x kg into the fixed kind's unit)
_DOSE: Final = (MASS, DOSE_PER_BODY_MASS, 1.0)
_RATE: Final = (MASS_RATE, DOSE_RATE_PER_BODY_MASS, 1.0 / 60.0)  # mg/kg/h x kg -> mg/min


def round_to(magnitude: float, kind: Kind) -> Decimal:
    """Round a canonical magnitude half-even to ``kind``'s resolution, as :meth:`Kind.round` does.

    The fast path of limit checks: no unit check, the magnitude is already canonical.

    Example:
        >>> round_to(0.15 * 41, MASS)
        Decimal('6.2')
    """
    return Decimal(format(magnitude, ".12g")).quantize(
        _STEPS.get(kind.name) or Decimal(kind.resolution), rounding=ROUND_HALF_EVEN
    )


_STEPS: dict[str, Decimal] = {}


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


def _text(q: Quantity) -> str:
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
        pair = _RATE if any(_is_rate(p) for p in (self.fixed, self.per_body_mass)) else _DOSE
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
                problems.append((f"$.{name}", f"{name}={_text(checked)} must be greater than zero"))
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
                    f"{_text(q)} must be a mass (mg), a dose per body mass (mg/kg), a rate "
                    "(mg/min) or a rate per body mass (mg/kg/h), at most one of each",
                    path=f"$[{i}]",
                )
        return cls(fixed, per_kg)

    @property
    def is_rate(self) -> bool:
        """Whether this bounds an infusion rate rather than a dose."""
        return self._pair is _RATE

    @property
    def kind(self) -> Kind:
        """The kind the bound resolves to: MASS (mg) or MASS_RATE (mg/min)."""
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
        resolved = round_to(self.per_body_mass.magnitude * weight * factor, fixed_kind)
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
        parts = [_text(p) for p in (self.fixed, self.per_body_mass) if p is not None]
        return parts[0] if len(parts) == 1 else parts


def _is_rate(part: object) -> bool:
    try:
        return kind_of(part) in (MASS_RATE, DOSE_RATE_PER_BODY_MASS)  # type: ignore[arg-type]
    except KapprotoError:
        return False


def format_decimal(value: Decimal) -> str:
    """A rounded magnitude without trailing zeros (``Decimal('40.0')`` -> ``'40'``)."""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def _bound_parser(rate: bool) -> Callable[[object, str], DoseBound]:
    pair = _RATE if rate else _DOSE

    def parse(raw: object, path: str) -> DoseBound:
        items = raw if isinstance(raw, list) else [raw]
        if not 1 <= len(items) <= 2:
            raise ProtocolError(f"expected one or two quantities, got {raw!r}", path=path)
        parts: list[Quantity] = []
        for i, item in enumerate(items):
            where = f"{path}[{i}]" if isinstance(raw, list) else path
            if not isinstance(item, str):
                raise ProtocolError(
                    f"expected a quantity such as '84 mg' or '0.5 mg/kg', got {item!r}", path=where
                )
            try:
                q = quantity(item)
            except KapprotoError as exc:
                raise ProtocolError(problems=exc.at(where).problems) from None
            if kind_of(q) not in pair[:2]:
                raise ProtocolError(
                    f"{item!r} must be a {pair[0].name} ({pair[0].canonical}) or a "
                    f"{pair[1].name} ({pair[1].canonical})",
                    path=where,
                )
            parts.append(q)
        try:
            return DoseBound.of(*parts)
        except KapprotoError as exc:
            raise ProtocolError(problems=exc.at(path).problems) from None

    return parse


def _kind_parser(kind: Kind, *, positive: bool) -> Callable[[object, str], Quantity]:
    def parse(raw: object, path: str) -> Quantity:
        if not isinstance(raw, str):
            raise ProtocolError(
                f"expected a {kind.name} such as '5 {kind.canonical}', got {raw!r}", path=path
            )
        try:
            q = kind.check(quantity(raw, kind=kind), path=path)
        except KapprotoError as exc:
            raise ProtocolError(problems=[(path, m) for _, m in exc.problems]) from None
        if q.magnitude < 0 or (positive and q.magnitude == 0):
            raise ProtocolError(f"{raw!r} must be greater than zero", path=path)
        return q

    return parse


def _count(raw: object, path: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ProtocolError(f"expected a whole number of at least 1, got {raw!r}", path=path)
    return raw


def _enum_parser(tp: type[Any], name: str) -> Callable[[object, str], Any]:
    def parse(raw: object, path: str) -> Any:
        try:
            return coerce_enum(tp, raw, name)
        except KapprotoError as exc:
            raise ProtocolError(exc.problems[0].message, path=path) from None

    return parse


# Parameter name -> how its bare value is read.
_PARAMS: Final[Mapping[str, Callable[[object, str], Any]]] = {
    "min": _bound_parser(rate=False),
    "per_administration_max": _bound_parser(rate=False),
    "session_max": _bound_parser(rate=False),
    "first_session_max": _bound_parser(rate=False),
    "device_amount": _kind_parser(MASS, positive=True),
    "max_devices": _count,
    "device_spacing": _kind_parser(DURATION, positive=False),
    "max_rate": _bound_parser(rate=True),
}
_KEYS: Final = ("medication", "route", "formulations", "basis", *_PARAMS)


# --------------------------------------------------------------------------
# DoseLimits
# --------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DoseLimits:
    """One ``[[doses]]`` entry of a protocol file: the limits for one medication by one route.

    Every limit is a :class:`~kapproto._params.Parameter` (value, source,
    confidence) or ``None`` when the protocol does not configure it. Doses are
    compared in the basis this entry's ``basis`` names; without one, in the
    basis each administration's formulation is labelled as (an amount recorded
    in the other basis is converted with the medication's
    ``hydrochloride_per_base``).

    Attributes:
        medication: The medication the entry is for.
        route: The route the entry is for.
        formulations: Formulations the protocol allows; empty means any that the
            route allows.
        basis: The basis the limits are stated in, or ``None`` (the formulation's label).
        min: Minimum per administration (DoseBound: mg and/or mg/kg).
        per_administration_max: Maximum per administration (DoseBound: mg and/or mg/kg).
        session_max: Maximum per session (DoseBound: mg and/or mg/kg).
        first_session_max: Maximum in a course's first dosing session (DoseBound).
        device_amount: Amount per nasal device (MASS, mg); without it the
            formulation's own device amount applies.
        max_devices: Most devices in one session.
        device_spacing: Least time between devices (DURATION, min).
        max_rate: Maximum infusion rate (DoseBound: mg/min and/or mg/kg/h).
    """

    medication: Medication = attrs.field(default=Medication.KETAMINE, converter=to_medication)
    route: Route = attrs.field(converter=to_route)
    formulations: frozenset[Formulation] = frozenset()
    basis: Basis | None = None
    min: Parameter[DoseBound] | None = None
    per_administration_max: Parameter[DoseBound] | None = None
    session_max: Parameter[DoseBound] | None = None
    first_session_max: Parameter[DoseBound] | None = None
    device_amount: Parameter[Quantity] | None = None
    max_devices: Parameter[int] | None = None
    device_spacing: Parameter[Quantity] | None = None
    max_rate: Parameter[DoseBound] | None = None
    _devices: dict[Formulation, Parameter[Quantity] | None] = attrs.field(
        init=False, repr=False, eq=False, factory=dict
    )

    @classmethod
    def from_dict(cls, entry: object, *, path: str = "$") -> DoseLimits:
        """Read one ``[[doses]]`` entry (TOML or JSON shape); every problem at once.

        Every number may be bare (``session_max = "84 mg"``) or a table
        ``{ value, source, confidence }``; a bound may be a list of a mass and a
        dose per body mass (``per_administration_max = ["40 mg", "0.5 mg/kg"]``).
        ``medication`` defaults to ``"ketamine"``.

        Args:
            entry: The entry as parsed from TOML or JSON.
            path: JSON path of the entry, e.g. ``"$.doses[0]"``, for errors.

        Raises:
            ProtocolError: Every problem found, each with its path.
        """
        if not isinstance(entry, Mapping):
            raise ProtocolError(f"expected a [[doses]] table, got {entry!r}", path=path)
        problems: list[tuple[str, str]] = [
            (f"{path}.{k}", f"unknown key {k!r}; expected one of {', '.join(_KEYS)}")
            for k in entry
            if k not in _KEYS
        ]
        fields: dict[str, Any] = {}

        def read(key: str, parse: Callable[[object, str], Any]) -> None:
            if key in entry:
                try:
                    fields[key] = parse(entry[key], f"{path}.{key}")
                except KapprotoError as exc:
                    problems.extend(exc.problems)

        read("medication", _enum_parser(Medication, "medication"))
        if "route" not in entry:
            problems.append((f"{path}.route", "required key is missing"))
        read("route", _enum_parser(Route, "route"))
        read("basis", _enum_parser(Basis, "basis"))
        read("formulations", _formulations_parser)
        for key, parse in _PARAMS.items():
            read(key, _as_parameter(parse))
        if not problems:
            problems += _consistency(fields, path)
        if problems:
            raise ProtocolError(problems=problems)
        return cls(**fields)

    def to_data(self) -> dict[str, Any]:
        """The entry in protocol-file shape (what :meth:`from_dict` reads)."""
        data: dict[str, Any] = {"medication": self.medication.value, "route": self.route.value}
        if self.formulations:
            data["formulations"] = sorted(f.value for f in self.formulations)
        if self.basis is not None:
            data["basis"] = self.basis.value
        for key in _PARAMS:
            param: Parameter[Any] | None = getattr(self, key)
            if param is None:
                continue
            value = param.value
            bare = (
                value.to_data()
                if isinstance(value, DoseBound)
                else value
                if isinstance(value, int)
                else _text(value)
            )
            if not param.source and param.confidence is None:
                data[key] = bare
            else:
                table: dict[str, Any] = {"value": bare}
                if param.source:
                    table["source"] = param.source
                if param.confidence is not None:
                    table["confidence"] = param.confidence.value
                data[key] = table
        return data

    def device_amount_for(self, formulation: Formulation) -> Parameter[Quantity] | None:
        """The amount per device for ``formulation``: this entry's, else the formulation's data.

        ``None`` when ``formulation`` is not a device for this entry's medication.
        """
        try:
            return self._devices[formulation]
        except KeyError:
            data = formulation.device_amount(self.medication)
            found = None if data is None else (self.device_amount or data)
            self._devices[formulation] = found
            return found


def _as_parameter(parse: Callable[[object, str], Any]) -> Callable[[object, str], Any]:
    def read(raw: object, path: str) -> Parameter[Any]:
        return parse_parameter(raw, parse, path=path)[0]

    return read


def _formulations_parser(raw: object, path: str) -> frozenset[Formulation]:
    if not isinstance(raw, list) or not raw:
        raise ProtocolError(f"expected a non-empty list of formulations, got {raw!r}", path=path)
    found: set[Formulation] = set()
    problems: list[tuple[str, str]] = []
    for i, item in enumerate(raw):
        try:
            found.add(_enum_parser(Formulation, "formulation")(item, f"{path}[{i}]"))
        except KapprotoError as exc:
            problems += exc.problems
    if problems:
        raise ProtocolError(problems=problems)
    return frozenset(found)


def _consistency(fields: Mapping[str, Any], path: str) -> list[tuple[str, str]]:
    """Problems between keys of one entry (all keys already read without error)."""
    problems: list[tuple[str, str]] = []
    route: Route = fields["route"]
    medication: Medication = fields.get("medication", Medication.KETAMINE)
    for formulation in sorted(fields.get("formulations", ()), key=lambda f: f.value):
        if not formulation.allows(route):
            problems.append(
                (
                    f"{path}.formulations",
                    f"{formulation.value!r} cannot go by the {route.value} route "
                    f"(it goes by {', '.join(sorted(r.value for r in formulation.routes))})",
                )
            )
    low, high = fields.get("min"), fields.get("per_administration_max")
    if low is not None and high is not None:
        for part in ("fixed", "per_body_mass"):
            a, b = getattr(low.value, part), getattr(high.value, part)
            if a is not None and b is not None and a.magnitude > b.magnitude:
                problems.append(
                    (
                        f"{path}.min",
                        f"min {_text(a)} is above per_administration_max {_text(b)}",
                    )
                )
    devices = fields.get("formulations") or frozenset(Formulation)
    has_device = "device_amount" in fields or any(
        f.device_amount(medication) is not None and f.allows(route) for f in devices
    )
    for key in ("max_devices", "device_spacing"):
        if key in fields and not has_device:
            problems.append(
                (
                    f"{path}.{key}",
                    f"{key} is set but no device amount is known for {medication.value} by "
                    f"{route.value}; set device_amount",
                )
            )
    return problems


@register_hooks
def _limits_hooks(conv: cattrs.Converter) -> None:
    def structure(value: object, _: object) -> DoseLimits:
        try:
            return DoseLimits.from_dict(value)
        except KapprotoError as exc:
            raise ValidationError(problems=exc.problems) from None

    conv.register_structure_hook(DoseLimits, structure)
    conv.register_unstructure_hook(DoseLimits, DoseLimits.to_data)


for _kind in (MASS, MASS_RATE, VOLUME, DURATION):
    _STEPS[_kind.name] = Decimal(_kind.resolution)
