"""Kind-checked quantities for :mod:`kapproto.serialization`: ``Mass``, ``Mass | None``, ...

A quantity is ``{"value": 40, "unit": "mg"}`` or ``"40 mg"`` on input, held
in its kind's canonical unit with a finite float magnitude, and written back
as ``{"value", "unit"}`` in that unit. The common case (a dict in a unit
spelling seen before) builds the quantity without pint's constructor; any
other input takes the checks that say what is wrong.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from kapproto import units as _units
from kapproto._hook_marks import mark_builtin
from kapproto.exceptions import KapprotoError, ValidationError


def _is_kind(tp: object) -> bool:
    return get_origin(tp) is Annotated and any(isinstance(a, _units.Kind) for a in get_args(tp)[1:])


# kind name -> {unit spelling: factor to the kind's canonical unit}, filled on first sight
_FACTORS: dict[str, dict[str, float]] = {}


def kind_factors(kind: _units.Kind) -> dict[str, float]:
    """The factor cache of ``kind``: unit spellings seen so far, and their factors.

    Shared by every hook of the kind (and the generated record functions of
    :mod:`kapproto._fast_records`); only :func:`unit_factor` adds to it.
    """
    return _FACTORS.setdefault(kind.name, {})


def unit_factor(kind: _units.Kind, unit: object) -> float:
    """The factor from the spelling ``unit`` to ``kind``'s canonical unit, cached.

    Raises:
        ValidationError: At ``$.unit``: not a string, an unknown spelling, or
            a unit of another kind.
    """
    if not isinstance(unit, str):
        raise ValidationError(
            f"expected a unit string such as {kind.canonical!r}, got {unit!r}", path="$.unit"
        )
    factors = kind_factors(kind)
    factor = factors.get(unit)
    if factor is not None:
        return factor
    try:
        factor = kind._factor(_units.parse_unit(unit).unit._units)
    except KapprotoError as exc:
        raise ValidationError(problems=exc.at("$.unit").problems) from None
    if factor is None:
        raise ValidationError(
            f"{unit!r} is not a unit of a {kind.name}; expected one of {', '.join(kind.accepted)}",
            path="$.unit",
        )
    factors[unit] = factor
    return factor


def _quantity_hooks(
    tp: object, *, optional: bool = False
) -> tuple[Callable[[object, object], Any], Callable[[Any], Any]]:
    """Structure and unstructure hooks of one kind (``optional``: ``None`` passes)."""
    kind = next(a for a in get_args(tp)[1:] if isinstance(a, _units.Kind))
    reg = _units.get_registry()
    Q = reg.Quantity
    new = object.__new__
    canonical_number = _units.canonical_number
    target = kind.unit
    container = target._units
    code = kind.canonical

    factors = kind_factors(kind)

    @mark_builtin
    def structure(value: object, _: object) -> Any:
        # Fast path: {"value": <finite float or exact int>, "unit": <a spelling seen before>}.
        if type(value) is dict and len(value) == 2:
            mag, unit = value.get("value"), value.get("unit")
            factor = factors.get(unit) if type(unit) is str else None
            if factor is not None:
                if type(mag) is int and -(2**53) < mag < 2**53:
                    mag = float(mag)
                if type(mag) is float and mag - mag == 0.0:
                    if factor != 1.0:
                        scaled = mag * factor
                        mag = _units._scale(mag, factor) if abs(scaled) < 1e300 else None
                    if mag is not None:
                        q = new(Q)
                        q._magnitude = mag
                        q._units = container
                        return q
        if value is None and optional:
            return None
        return slow(value)

    def slow(value: object) -> Any:
        if isinstance(value, Mapping):
            if value.keys() != {"value", "unit"}:
                extra = sorted(set(value) - {"value", "unit"})
                missing = sorted({"value", "unit"} - set(value))
                problems = [
                    (f"$.{k}", "unknown key; a quantity has only 'value' and 'unit'") for k in extra
                ]
                problems += [(f"$.{k}", "missing") for k in missing]
                raise ValidationError(problems=problems)
            mag, factor, problems = _units._as_finite(value["value"]), 1.0, []
            try:
                factor = unit_factor(kind, value["unit"])
            except ValidationError as exc:
                problems += exc.problems
            if mag is None:
                problems.append(("$.value", f"expected a finite number, got {value['value']!r}"))
            if problems or mag is None:
                raise ValidationError(problems=problems)
            try:
                return _units.make_quantity(_units._scale(mag, factor, path="$.value"), target)
            except KapprotoError as exc:
                raise ValidationError(problems=exc.problems) from None
        if isinstance(value, str):
            try:
                return _units.quantity(value, kind=kind)
            except KapprotoError as exc:
                raise ValidationError(problems=exc.problems) from None
        if isinstance(value, Q):
            try:
                return kind.check(value)
            except KapprotoError as exc:
                raise ValidationError(problems=exc.problems) from None
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValidationError(
                f"{value!r} is a bare number; a {kind.name} needs a unit, "
                f'e.g. {{"value": {value!r}, "unit": {json.dumps(code)}}}'
            )
        raise ValidationError(
            f'expected a {kind.name} such as {{"value": 40, "unit": {json.dumps(code)}}} '
            f"or '40 {code}', got {value!r}"
        )

    def unstructure(value: Any) -> dict[str, Any]:
        if value._units is not target._units:
            value = kind.check(value)
        return {"value": canonical_number(float(value.magnitude)), "unit": code}

    return structure, unstructure


def _is_optional_kind(tp: object) -> bool:
    args = get_args(tp)
    return (
        get_origin(tp) in (Union, types.UnionType)
        and len(args) == 2
        and type(None) in args
        and any(_is_kind(a) for a in args)
    )


def _optional_kind_hook(tp: Any) -> Callable[[object, object], Any]:
    """``Mass | None`` in one hook, without cattrs' per-call union dispatch (a hot path)."""
    return _quantity_hooks(next(a for a in get_args(tp) if _is_kind(a)), optional=True)[0]
