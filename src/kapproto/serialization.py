"""JSON in and out: one cattrs converter, schema versions and migrations.

Every record goes to and from JSON through :data:`converter`. Bad input never
leaks a cattrs, pint or ``json`` exception: it becomes one
:class:`~kapproto.exceptions.ValidationError` that lists every problem with its
JSON path, the value received and what was expected.

Documents (sessions, courses, reports, ...) carry ``"schema":
"kapproto.<kind>/<n>"``. An older version is upgraded by the functions
registered with :func:`register_migration`; a newer or unknown one is refused
with a message naming it.

Canonical JSON: a quantity is ``{"value": 40, "unit": "mg"}`` in its kind's
canonical UCUM unit (``"40 mg"`` is accepted on input); a magnitude is an
integer when integral; datetimes are ISO 8601 with the offset as given; enum
values are snake-case strings; unknown keys are errors.

Example:
    >>> from kapproto.serialization import converter
    >>> from kapproto.units import Mass
    >>> converter.structure("0.04 g", Mass)
    <Quantity(40.0, 'milligram')>
    >>> converter.unstructure(converter.structure({"value": 40, "unit": "mg"}, Mass), Mass)
    {'value': 40, 'unit': 'mg'}
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import zoneinfo
from collections.abc import Callable
from typing import Any, Final, TypeVar

import cattrs

from kapproto import _unit_registry
from kapproto import units as _units
from kapproto._documents import (
    document_kind,
    register_document,
    register_migration,
    schema_of,
)
from kapproto._hooks import (
    _collection_structure,
    _collection_unstructure,
    _document_unstructure,
    _enum_hook,
    _is_collection,
    _is_document,
    _is_enum,
    _is_record,
    _is_set_or_fixed_tuple,
    _primitive,
    _record_structure,
    _strict_bool,
    _strict_float,
    _strict_int,
    _strict_str,
    _structure_date,
    _structure_datetime,
    _structure_enum,
    _structure_zone,
    _validation_error,
)
from kapproto._quantity_hooks import (
    _is_kind,
    _is_optional_kind,
    _optional_kind_hook,
    _quantity_hooks,
)
from kapproto.exceptions import KapprotoError, ValidationError

__all__ = [
    "configure_converter",
    "converter",
    "document_kind",
    "from_dict",
    "from_json",
    "loads",
    "register_document",
    "register_hooks",
    "register_migration",
    "schema_of",
    "to_dict",
    "to_json",
]

T = TypeVar("T")

# functions that add hooks to a converter; applied to every configured converter
_HOOKS: list[Callable[[cattrs.Converter], None]] = []
_CONFIGURED: list[cattrs.Converter] = []


def configure_converter(conv: cattrs.Converter) -> None:
    """Register kapproto's hooks on a cattrs converter of your own.

    Adds strict primitives (no ``"5"`` for an int, no ``true`` for a number),
    kind-checked quantities, aware datetimes, IANA zones, snake-case enums,
    frozensets as sorted lists, schema-versioned documents, and every hook a
    kapproto module has registered with :func:`register_hooks`.

    Args:
        conv: A :class:`cattrs.Converter`, ideally built with
            ``forbid_extra_keys=True`` and ``detailed_validation=True``.
    """
    conv.register_structure_hook(int, _primitive(_strict_int))
    conv.register_structure_hook(float, _primitive(_strict_float))
    conv.register_structure_hook(str, _primitive(_strict_str))
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook(_dt.datetime, _structure_datetime)
    conv.register_unstructure_hook(_dt.datetime, lambda v: v.isoformat())
    conv.register_structure_hook(_dt.date, _structure_date)
    conv.register_unstructure_hook(_dt.date, lambda v: v.isoformat())
    conv.register_structure_hook(zoneinfo.ZoneInfo, _structure_zone)
    conv.register_unstructure_hook(zoneinfo.ZoneInfo, lambda v: v.key)
    conv.register_structure_hook_factory(_is_enum, _enum_hook)
    # cattrs 24 dispatches Enum by class before any factory: override it there too
    conv.register_structure_hook(enum.Enum, _structure_enum)
    conv.register_unstructure_hook_factory(_is_enum, lambda _tp: lambda v: v.value)
    for mixed in (enum.StrEnum, enum.IntEnum):  # else cattrs' str/int hook passes the member on
        conv.register_unstructure_hook(mixed, lambda v: v.value)
    conv.register_structure_hook_factory(_is_kind, lambda tp: _quantity_hooks(tp)[0])
    conv.register_unstructure_hook_factory(_is_kind, lambda tp: _quantity_hooks(tp)[1])
    conv.register_structure_hook_factory(_is_optional_kind, _optional_kind_hook)
    conv.register_structure_hook_factory(_is_collection, _collection_structure(conv))
    conv.register_unstructure_hook_factory(_is_set_or_fixed_tuple, _collection_unstructure(conv))
    conv.register_structure_hook_factory(_is_record, _record_structure(conv))
    conv.register_unstructure_hook_factory(_is_document, _document_unstructure(conv))
    for add in _HOOKS:
        add(conv)
    _CONFIGURED.append(conv)


def register_hooks(add: Callable[[cattrs.Converter], None]) -> Callable[[cattrs.Converter], None]:
    """Register a function that adds hooks; applied to every configured converter.

    kapproto's domain modules use it for their own records, so a converter
    passed to :func:`configure_converter` gets them too.
    """
    _HOOKS.append(add)
    for conv in _CONFIGURED:
        add(conv)
    return add


converter: Final[cattrs.Converter] = cattrs.Converter(
    forbid_extra_keys=True, detailed_validation=True
)
"""kapproto's converter: strict, with every kapproto hook registered."""
configure_converter(converter)


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def to_dict(obj: Any) -> Any:
    """Unstructure a kapproto record to JSON-ready primitives (dicts, lists, str, numbers).

    Example:
        >>> from kapproto import Session, from_json, to_dict
        >>> session = from_json(open("examples/sessions/im-session.json").read(), Session)
        >>> data = to_dict(session)
        >>> data["schema"], data["weight"], data["administrations"][0]["amount"]
        ('kapproto.session/1', {'value': 80, 'unit': 'kg'}, {'value': 40, 'unit': 'mg'})
        >>> from kapproto import quantity
        >>> to_dict(quantity("0.04 g"))
        {'value': 40, 'unit': 'mg'}
    """
    registry = _unit_registry._registry
    if registry is not None and isinstance(obj, registry.Quantity):
        value, unit = _units.to_ucum(obj)
        return {"value": value, "unit": unit}
    return converter.unstructure(obj)


def from_dict(data: object, cls: type[T]) -> T:
    """Build a record of type ``cls`` from JSON-like primitives.

    Raises:
        ValidationError: Every problem found, each with its JSON path.

    Example:
        >>> from kapproto import Reference, from_dict
        >>> from_dict({"id": "im-kap", "version": "1"}, Reference)
        Reference(id='im-kap', version='1')
        >>> from_dict({"id": "im-kap"}, Reference)
        Traceback (most recent call last):
        ...
        kapproto.exceptions.ValidationError: $.version: required key is missing
    """
    try:
        return converter.structure(data, cls)
    except KapprotoError as exc:
        raise ValidationError(problems=exc.problems) from None
    except Exception as exc:
        raise _validation_error(exc, data) from None


class _NotJSON(Exception):
    """A duplicate key or a NaN/Infinity: located by :func:`_locate` before it is reported."""


def _reject_constant(name: str) -> None:
    raise _NotJSON


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _NotJSON
    return out


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as parsed for :func:`_locate`: its pairs, duplicates kept."""

    __slots__ = ()


class _Constant(str):
    """``NaN``, ``Infinity`` or ``-Infinity`` as parsed for :func:`_locate`."""

    __slots__ = ()


def _member(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"


class _Repeated(str):
    """A key given twice in one object: stands on :func:`_locate`'s stack before its value."""

    __slots__ = ()


def _locate(text: str | bytes) -> list[tuple[str, str]]:
    """Every duplicate key and non-finite number in ``text``, in document order, with paths.

    Only called once the strict parse has failed on one of them, so the
    common path pays nothing for the paths. The walk is iterative: a document
    as deep as the parser allows does not exhaust the stack here.
    """
    root = json.loads(text, object_pairs_hook=_Pairs, parse_constant=_Constant)
    problems: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [("$", root)]
    while stack:
        path, node = stack.pop()
        children: list[tuple[str, Any]] = []
        if isinstance(node, _Repeated):
            problems.append(
                (path, f"duplicate key {str(node)!r} in a JSON object; each key may appear once")
            )
        elif isinstance(node, _Pairs):
            seen: set[str] = set()
            for key, value in node:
                where = _member(path, key)
                if key in seen:
                    children.append((where, _Repeated(key)))
                seen.add(key)
                children.append((where, value))
        elif isinstance(node, list):
            children = [(f"{path}[{i}]", value) for i, value in enumerate(node)]
        elif isinstance(node, _Constant):
            problems.append((path, f"{node} is not valid JSON; numbers must be finite"))
        stack.extend(reversed(children))  # document order
    return problems


# one decoder for every call: json.loads with hooks would build a decoder and its scanner each time
_STRICT: Final = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)


def _text(data: object) -> str:
    """``str`` from the UTF-8 (or UTF-16/32, detected as ``json.loads`` does) bytes of a document."""
    if isinstance(data, bytes | bytearray):
        return data.decode(json.detect_encoding(data), "surrogatepass")
    raise TypeError(f"the JSON object must be str, bytes or bytearray, not {type(data).__name__}")


def loads(text: str | bytes) -> Any:
    """Parse JSON strictly: no NaN or Infinity, no duplicate keys.

    Raises:
        ValidationError: The text is not valid JSON. A duplicate key or a
            non-finite number is reported at its JSON path, every one of them.

    Example:
        >>> loads('{"vitals": [{"spo2": 98, "spo2": 97}]}')
        Traceback (most recent call last):
        ...
        kapproto.exceptions.ValidationError: $.vitals[0].spo2: duplicate key 'spo2' in a JSON object; each key may appear once
    """
    try:
        return _STRICT.decode(text if isinstance(text, str) else _text(text))
    except _NotJSON:
        try:
            problems = _locate(text)
        except (ValueError, TypeError, RecursionError) as exc:  # also broken further on
            raise ValidationError(f"not valid JSON: {exc}") from None
        raise ValidationError(problems=problems) from None
    except (ValueError, TypeError, RecursionError) as exc:
        # ValueError: JSONDecodeError, UnicodeDecodeError, an integer of over 4300 digits
        raise ValidationError(f"not valid JSON: {exc}") from None


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Parse a JSON document into a record of type ``cls``.

    Args:
        text: The JSON text (``str`` or UTF-8 ``bytes``).
        cls: The record type, e.g. ``Session``.

    Raises:
        ValidationError: Invalid JSON, or a document that does not fit ``cls``;
            every problem is listed with its JSON path.

    Example:
        >>> from kapproto import Session, from_json
        >>> session = from_json(open("examples/sessions/im-session.json").read(), Session)
        >>> session.id, session.protocol
        ('s-001', Reference(id='im-kap', version='1'))
    """
    return from_dict(loads(text), cls)


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """Serialize a record as canonical JSON (deterministic for the same input).

    Example:
        >>> from kapproto import get_protocol, to_json
        >>> to_json(get_protocol("im-kap").ref)
        '{"id": "im-kap", "version": "1"}'
    """
    return json.dumps(to_dict(obj), ensure_ascii=False, allow_nan=False, indent=indent)
