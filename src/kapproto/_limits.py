"""Dose limits: one ``[[doses]]`` entry of a protocol file.

:class:`DoseLimits` holds a protocol's limits for one medication by one route,
each limit a :class:`~kapproto._params.Parameter` that keeps its source for the
findings; each bound is a :class:`~kapproto.DoseBound` (mg and/or mg/kg). The
checks themselves are in :mod:`kapproto._dose_checks`.

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
from typing import Any, Final

import attrs
import cattrs

from kapproto._bounds import (
    DOSE_KINDS,
    RATE_KINDS,
    DoseBound,
    PhysicalLimits,
    check_weight,
    format_decimal,
    physical_limits,
    quantity_text,
    round_to,
)
from kapproto._params import Parameter, kind_parameter, parse_parameter
from kapproto._routes import (
    Basis,
    Formulation,
    Medication,
    Route,
    coerce_enum,
    to_medication,
    to_route,
)
from kapproto.exceptions import KapprotoError, ProtocolError, ValidationError
from kapproto.serialization import register_hooks
from kapproto.units import DURATION, MASS, Kind, Quantity, kind_of, quantity

# DoseBound, check_weight, ... live in kapproto._bounds; re-exported for callers of this module.
__all__ = [
    "DoseBound",
    "DoseLimits",
    "PhysicalLimits",
    "check_weight",
    "format_decimal",
    "physical_limits",
    "round_to",
]


def _bound_parser(rate: bool) -> Callable[[object, str], DoseBound]:
    pair = RATE_KINDS if rate else DOSE_KINDS

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


def _device_amount(raw: object, path: str) -> Quantity:
    q = _kind_parser(MASS, positive=True)(raw, path)
    problem = _device_amount_problem(q)
    if problem is not None:
        raise ProtocolError(problem, path=path)
    return q


def _device_amount_problem(amount: Quantity) -> str | None:
    """Why ``amount`` cannot be a device amount (devices are counted at the 0.1 mg resolution)."""
    if round_to(amount.magnitude, MASS) > 0:
        return None
    return (
        f"device_amount={quantity_text(amount)} rounds to 0 {MASS.canonical} at the "
        f"{MASS.resolution} {MASS.canonical} resolution; no dose is a number of such devices"
    )


def _device_amount_parameter(param: object) -> Parameter[Quantity] | None:
    """``device_amount`` in mg, whether read from a file or built in Python (an attrs converter)."""
    result: Parameter[Quantity] | None = kind_parameter(param, MASS, "device_amount")
    return result


def _device_spacing_parameter(param: object) -> Parameter[Quantity] | None:
    """``device_spacing`` in min, whether read from a file or built in Python (an attrs converter)."""
    result: Parameter[Quantity] | None = kind_parameter(param, DURATION, "device_spacing")
    return result


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
    "device_amount": _device_amount,
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

    Example:
        >>> from kapproto import get_protocol
        >>> limits = get_protocol("im-kap").doses[0]
        >>> limits.route
        <Route.INTRAMUSCULAR: 'intramuscular'>
        >>> str(limits.per_administration_max.value.per_body_mass)
        '0.75 milligram / kilogram'
    """

    medication: Medication = attrs.field(default=Medication.KETAMINE, converter=to_medication)
    route: Route = attrs.field(converter=to_route)
    formulations: frozenset[Formulation] = frozenset()
    basis: Basis | None = None
    min: Parameter[DoseBound] | None = None
    per_administration_max: Parameter[DoseBound] | None = None
    session_max: Parameter[DoseBound] | None = None
    first_session_max: Parameter[DoseBound] | None = None
    device_amount: Parameter[Quantity] | None = attrs.field(
        default=None, converter=_device_amount_parameter
    )
    max_devices: Parameter[int] | None = None
    device_spacing: Parameter[Quantity] | None = attrs.field(
        default=None, converter=_device_spacing_parameter
    )
    max_rate: Parameter[DoseBound] | None = None
    _devices: dict[Formulation, Parameter[Quantity] | None] = attrs.field(
        init=False, repr=False, eq=False, factory=dict
    )

    def __attrs_post_init__(self) -> None:
        count = self.max_devices
        if count is not None and (type(count.value) is not int or count.value < 1):
            raise ValidationError(
                f"max_devices={count.value!r} must be a whole number of devices, at least 1",
                path="$.max_devices",
            )
        device = self.device_amount
        if device is not None:
            problem = _device_amount_problem(device.value)
            if problem is not None:
                raise ValidationError(problem, path="$.device_amount")

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
                else quantity_text(value)
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
                        f"min {quantity_text(a)} is above per_administration_max {quantity_text(b)}",
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
