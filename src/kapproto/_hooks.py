"""The cattrs hooks behind :mod:`kapproto.serialization`, and its error walker.

Strict primitives, aware datetimes, enums, collections, records and
documents; cattrs errors turned into JSON paths. Quantities have their own
module, :mod:`kapproto._quantity_hooks`.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import zoneinfo
from collections import abc
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Final, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ForbiddenExtraKeysError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

from kapproto import _fast_records
from kapproto import units as _units
from kapproto._documents import _DOCUMENTS, _KIND_OF, _upgrade
from kapproto._hook_marks import mark_builtin
from kapproto.exceptions import KapprotoError, ValidationError, join_path

# --------------------------------------------------------------------------
# Hooks
# --------------------------------------------------------------------------


def _type_name(tp: object) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _strict_int(value: object, _: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValidationError(f"expected an integer, got {value!r}")
    return value


def _strict_float(value: object, _: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"expected a number, got {value!r}")
    mag = _units._as_finite(value)
    if mag is None:
        raise ValidationError(f"expected a finite number, got {value!r}")
    return mag


def _strict_str(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"expected a string, got {value!r}")
    return value


@mark_builtin
def _strict_bool(value: object, _: object) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"expected true or false, got {value!r}")
    return value


_fromisoformat = _dt.datetime.fromisoformat


@mark_builtin
def _structure_datetime(value: object, _: object) -> _dt.datetime:
    if type(value) is str:  # the hot path: an ISO string with an offset
        try:
            moment = _fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.utcoffset() is not None:
                return moment
    if isinstance(value, _dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = _dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(
                f"{value!r} is not an ISO 8601 date-time such as '2026-03-02T09:00:00-07:00'"
            ) from None
    else:
        raise ValidationError(f"expected an ISO 8601 date-time string, got {value!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(
            f"{value!r} is a naive date-time; give its UTC offset, e.g. '2026-03-02T09:00:00-07:00'"
        )
    return moment


def _structure_date(value: object, _: object) -> _dt.date:
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError(f"expected an ISO 8601 date such as '2026-03-02', got {value!r}")


def _structure_zone(value: object, _: object) -> zoneinfo.ZoneInfo:
    if isinstance(value, zoneinfo.ZoneInfo):
        return value
    if isinstance(value, str) and value:
        try:
            return zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    raise ValidationError(f"{value!r} is not an IANA time zone such as 'America/Denver'")


def _is_enum(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.Enum)


# enum class -> {value: member}, filled by _enum_hook
_BY_VALUE: dict[type, dict[object, enum.Enum]] = {}


@mark_builtin
def _structure_enum(value: object, tp: Any) -> enum.Enum:
    """Any enum: a member by its value (the hot path), else :func:`_enum_hook`'s checks."""
    try:
        return _BY_VALUE[tp][value]
    except (KeyError, TypeError):
        return _enum_hook(tp)(value, tp)


@cache
def _enum_hook(tp: type[enum.Enum]) -> Callable[[object, object], enum.Enum]:
    by_value = {m.value: m for m in tp}
    _BY_VALUE[tp] = by_value
    allowed = ", ".join(repr(v) for v in by_value)

    @mark_builtin
    def structure(value: object, _: object) -> enum.Enum:
        if isinstance(value, tp):
            return value
        try:
            return by_value[value]
        except (KeyError, TypeError):
            raise ValidationError(
                f"{value!r} is not a {tp.__name__}; expected one of {allowed}"
            ) from None

    return structure


def _primitive(
    check: Callable[[object, object], object],
) -> Callable[[object, object], object]:
    """``check`` for the builtin itself; the enum hook for a ``StrEnum``/``IntEnum``.

    cattrs dispatches on ``str`` and ``int`` before any predicate hook, so
    without this an ``IntEnum`` field would take any integer.
    """
    builtins = (str, int, float)

    @mark_builtin
    def structure(value: object, tp: object) -> object:
        if tp not in builtins and _is_enum(tp):
            return _enum_hook(tp)(value, tp)
        return check(value, tp)

    return structure


def _is_document(tp: object) -> bool:
    return isinstance(tp, type) and tp in _KIND_OF


def _is_record(tp: object) -> bool:
    return attrs.has(get_origin(tp) or tp)  # type: ignore[arg-type]


def _record_structure(
    conv: cattrs.Converter,
) -> Callable[[Any], Callable[[object, object], Any]]:
    """Structure attrs records from JSON objects; documents are upgraded first.

    kapproto's own records refuse unknown keys whatever the converter's
    ``forbid_extra_keys`` says; a value that is not an object is refused with
    the record's name rather than cattrs' ``AttributeError``. They first try
    the function :mod:`kapproto._fast_records` generated for the valid case.
    """

    def factory(tp: Any) -> Callable[[object, object], Any]:
        cls = get_origin(tp) or tp
        owned = cls.__module__.partition(".")[0] == "kapproto"
        base: Callable[[Any, Any], Any] = make_dict_structure_fn(
            tp, conv, _cattrs_forbid_extra_keys=True if owned else "from_converter"
        )
        kind = _KIND_OF.get(cls)
        what = f"a {kind} document" if kind else f"a {cls.__name__}"
        fast = _fast_records.compile_record(cls, conv) if owned and tp is cls else None

        def structure(value: object, _: object) -> Any:
            if fast is not None and type(value) is dict and _fast_records.enabled:
                try:
                    return fast(value)
                except Exception:
                    pass  # not the common valid case: the full path says what is wrong
            if kind is None and type(value) is dict:
                return base(value, tp)
            if not isinstance(value, Mapping):
                raise ValidationError(f"expected {what} (a JSON object), got {value!r}")
            return base(value if kind is None else _upgrade(value, kind), tp)

        if fast is not None:
            setattr(structure, _fast_records.FAST_ATTRIBUTE, fast)
        return structure

    return factory


def _document_unstructure(
    conv: cattrs.Converter,
) -> Callable[[type], Callable[[Any], dict[str, Any]]]:
    def factory(cls: type) -> Callable[[Any], dict[str, Any]]:
        base: Callable[[Any], dict[str, Any]] = make_dict_unstructure_fn(cls, conv)
        schema = f"kapproto.{_KIND_OF[cls]}/{_DOCUMENTS[_KIND_OF[cls]][1]}"

        def unstructure(value: Any) -> dict[str, Any]:
            return {"schema": schema, **base(value)}

        return unstructure

    return factory


# Collections: JSON arrays only (a string is not a list of characters, an
# object not a list of its keys); each element through the converter, every
# element's problems reported with its index.
_ARRAYS: Final[Mapping[object, type]] = {
    list: list,
    tuple: tuple,
    set: set,
    frozenset: frozenset,
    abc.Sequence: tuple,
    abc.MutableSequence: list,
    abc.Set: frozenset,
    abc.MutableSet: set,
}
_OBJECTS: Final = frozenset({dict, abc.Mapping, abc.MutableMapping})
_SETS: Final = frozenset({set, frozenset, abc.Set, abc.MutableSet})


def _fixed_tuple(tp: object) -> tuple[Any, ...] | None:
    """The item types of ``tuple[A, B]``; ``None`` for ``tuple[A, ...]`` and others."""
    args = get_args(tp)
    if get_origin(tp) is not tuple or (len(args) == 2 and args[1] is Ellipsis):
        return None
    return args


def _is_collection(tp: object) -> bool:
    origin = get_origin(tp)
    return origin in _ARRAYS or origin in _OBJECTS


def _collection_structure(
    conv: cattrs.Converter,
) -> Callable[[Any], Callable[[object, object], Any]]:
    def factory(tp: Any) -> Callable[[object, object], Any]:
        origin, args = get_origin(tp), get_args(tp) or (Any, Any)
        fixed, is_object = _fixed_tuple(tp), origin in _OBJECTS

        def each(pairs: abc.Iterable[tuple[Any, Any]], one: Callable[[Any, Any], Any]) -> list[Any]:
            out, problems = [], []
            for key, item in pairs:
                try:
                    out.append(one(key, item))
                except Exception as exc:
                    where = f"$[{key!r}]" if is_object else f"$[{key}]"
                    problems += _problems(exc, where, item)
            if problems:
                raise ValidationError(problems=problems)
            return out

        item_type = args[0]
        make = _ARRAYS.get(origin)
        item_hook: list[Callable[[Any, Any], Any]] = []  # resolved on first use

        @mark_builtin
        def structure(value: object, _: object) -> Any:
            if type(value) is list and fixed is None and make is not None:
                # hot path: every item valid; on any failure, the path below reports them all
                if not item_hook:
                    item_hook.append(conv.get_structure_hook(item_type))
                one = item_hook[0]
                try:
                    return make([one(v, item_type) for v in value])
                except Exception:
                    pass  # re-done below, where every problem is located
            if is_object:
                if not isinstance(value, Mapping):
                    raise ValidationError(f"expected a JSON object, got {value!r}")
                return dict(
                    each(
                        value.items(),
                        lambda k, v: (conv.structure(k, args[0]), conv.structure(v, args[1])),
                    )
                )
            if isinstance(value, str | bytes | Mapping) or not isinstance(value, abc.Iterable):
                raise ValidationError(f"expected a JSON array, got {value!r}")
            listed = list(value)
            if fixed is not None and len(listed) != len(fixed):
                raise ValidationError(f"expected an array of {len(fixed)} items, got {value!r}")
            return _ARRAYS[origin](
                each(
                    enumerate(listed),
                    lambda i, v: conv.structure(v, args[0] if fixed is None else fixed[i]),
                )
            )

        return structure

    return factory


def _is_set_or_fixed_tuple(tp: object) -> bool:
    return get_origin(tp) in _SETS or tp in _SETS or _fixed_tuple(tp) is not None


def _collection_unstructure(conv: cattrs.Converter) -> Callable[[Any], Callable[[Any], list[Any]]]:
    """Sets as sorted arrays, ``tuple[A, B]`` as arrays, each item by its declared type."""

    def factory(tp: Any) -> Callable[[Any], list[Any]]:
        fixed = _fixed_tuple(tp)
        if fixed is not None:
            return lambda value: [conv.unstructure(v, t) for v, t in zip(value, fixed, strict=True)]
        item = (get_args(tp) or (Any,))[0]

        def unstructure(value: Any) -> list[Any]:
            items = [conv.unstructure(v, item) for v in value]
            try:
                return sorted(items)
            except TypeError:
                return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))

        return unstructure

    return factory


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


def _child(node: object, key: object) -> object:
    try:
        return node[key]  # type: ignore[index]
    except Exception:
        return _MISSING


_MISSING: Final = object()


def _problems(exc: BaseException, path: str, node: object) -> list[tuple[str, str]]:
    if isinstance(exc, KapprotoError):
        return [(join_path(path, p), m) for p, m in exc.problems]
    if isinstance(exc, ForbiddenExtraKeysError):
        fields = ", ".join(a.name for a in attrs.fields(exc.cl)) if attrs.has(exc.cl) else ""
        return [
            (f"{path}.{key}", f"unknown key {key!r}; expected one of: {fields}")
            for key in sorted(exc.extra_fields)
        ]
    if isinstance(exc, BaseValidationError):
        found: list[tuple[str, str]] = []
        for sub in exc.exceptions:
            sub_path, sub_node = path, node
            for note in getattr(sub, "__notes__", ()):
                # a plain str note has a str.index method: only cattrs' notes locate
                if isinstance(note, AttributeValidationNote):
                    sub_path, sub_node = f"{path}.{note.name}", _child(node, note.name)
                    if isinstance(sub, KeyError) and sub_node is _MISSING:
                        found.append((sub_path, "required key is missing"))
                        break
                elif isinstance(note, IterableValidationNote):
                    index = note.index
                    sub_path, sub_node = (
                        f"{path}[{index!r}]" if isinstance(index, str) else f"{path}[{index}]",
                        _child(node, index),
                    )
            else:
                found.extend(_problems(sub, sub_path, sub_node))
        return found
    expected = ""
    value = "" if node is _MISSING else f", got {node!r}"
    return [(path, f"{type(exc).__name__}: {exc}{expected}{value}")]


def _validation_error(exc: BaseException, data: object) -> ValidationError:
    problems = _problems(exc, "$", data)
    return ValidationError(problems=problems or [("$", str(exc))])
