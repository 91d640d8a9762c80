"""One generated function per kapproto record for the valid case of structuring.

Structuring a record through cattrs' generated function and attrs'
``__init__`` checks each field in general ways: a hook per field, a converter
per quantity, a validator per time. For a session document that is most of
the time :func:`~kapproto.from_json` takes. For each of kapproto's own record
classes, :func:`compile_record` writes one function that builds the record
straight from a JSON object when it looks the way valid input looks: a
quantity ``{"value", "unit"}`` in a unit spelling of its kind, an ISO 8601
string with an offset, an enum value, a list of records. It sets the fields,
runs the validators the parse has not already made true, then
``__attrs_post_init__``.

A generated function never reports a problem. On anything else (a missing
key, an unknown key, a null where a value is required, an older schema, a
number out of range) it raises, and the caller takes the full path, which
finds every problem and reports it at its JSON path. So it can only agree
with the full path or step aside; ``tests/test_fast_records.py`` holds it to
that over generated documents, valid and broken.
"""

from __future__ import annotations

import datetime as dt
import enum
import linecache
import types
from collections.abc import Callable
from typing import Annotated, Any, Final, Union, get_args, get_origin

import attrs
import cattrs

from kapproto import units as _units
from kapproto._documents import _DOCUMENTS, _KIND_OF
from kapproto._hook_marks import is_builtin
from kapproto._quantity_hooks import kind_factors, unit_factor
from kapproto._validators import aware, text

__all__ = ["FAST_ATTRIBUTE", "compile_record", "enabled"]

enabled: bool = True
"""Whether record hooks try their generated function first (tests turn it off to compare)."""

FAST_ATTRIBUTE: Final = "_kapproto_fast"
"""Attribute of a record's structure hook that holds its generated function, if any."""


class _GiveUp(Exception):
    """The input is not the common valid case; the full path decides."""


_MISSING: Final = object()
_EXACT_INT: Final = 2**53  # integers below this in magnitude are exact as floats

# classes being compiled: a record that contains itself gets no fast path
_COMPILING: set[type] = set()


def _optional(tp: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``X | None``, else ``(tp, False)``."""
    args = get_args(tp)
    if get_origin(tp) in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
        return next(a for a in args if a is not type(None)), True
    return tp, False


def _kind(tp: Any) -> _units.Kind | None:
    if get_origin(tp) is Annotated:
        return next((a for a in get_args(tp)[1:] if isinstance(a, _units.Kind)), None)
    return None


def _str_enum(tp: Any) -> bool:
    return (
        isinstance(tp, type) and issubclass(tp, enum.Enum) and all(type(m.value) is str for m in tp)
    )


class _Writer:
    """Source lines and the names they use, for one generated function."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {
            "_GiveUp": _GiveUp,
            "_MISSING": _MISSING,
            "_new": object.__new__,
            "_set": object.__setattr__,
            "_fromiso": dt.datetime.fromisoformat,
            "_scale": _units._scale,
            "_validators_off": attrs.validators.get_disabled,
        }

    def name(self, prefix: str, value: Any) -> str:
        key = f"_{prefix}{len(self.names)}"
        self.names[key] = value
        return key

    def add(self, indent: int, *lines: str) -> None:
        self.lines.extend("    " * indent + line for line in lines)


def _parse(w: _Writer, conv: cattrs.Converter, tp: Any, indent: int) -> bool:
    """Write code turning the JSON value in ``v`` into a value of ``tp`` in ``v``.

    A quantity of a kind comes out in the kind's canonical unit with a finite
    float magnitude. Returns whether the result is sure to be an aware
    datetime (or ``None`` where the type allows it).
    """
    inner, optional = _optional(tp)
    if not _builtin(conv, tp, inner, optional):
        # a hook the user registered: called as it is, for the whole type
        hook = conv.get_structure_hook(tp)
        w.add(indent, f"v = {w.name('hook', hook)}(v, {w.name('type', tp)})")
        return False
    if optional:
        w.add(indent, "if v is not None:")
        indent += 1
    kind = _kind(inner)
    if inner is str:
        w.add(indent, "if type(v) is not str: raise _GiveUp")
    elif inner is bool:
        w.add(indent, "if type(v) is not bool: raise _GiveUp")
    elif inner is dt.datetime:
        w.add(
            indent,
            "if type(v) is not str: raise _GiveUp",
            "v = _fromiso(v)",
            # fromisoformat gives a fixed-offset timezone or none at all
            "if v.tzinfo is None: raise _GiveUp",
        )
        return True
    elif _str_enum(inner):
        members = w.name("members", {m.value: m for m in inner})
        w.add(indent, "if type(v) is not str: raise _GiveUp", f"v = {members}[v]")
    elif kind is not None:
        factors = w.name("factors", kind_factors(kind))
        factor = w.name("factor", lambda unit, kind=kind: unit_factor(kind, unit))
        q = w.name("Q", _units.get_registry().Quantity)
        units = w.name("units", kind.unit._units)
        # v['value'] fails on a value that is not a JSON object, .get on a unit
        # that is not hashable, the factor function on one that is not a unit
        w.add(
            indent,
            "if len(v) != 2: raise _GiveUp",
            "m = v['value']",
            "u = v['unit']",
            f"f = {factors}.get(u)",
            f"if f is None: f = {factor}(u)",
            f"if type(m) is int and -{_EXACT_INT} < m < {_EXACT_INT}: m = float(m)",
            "elif type(m) is not float or m - m != 0.0: raise _GiveUp",
            "if f != 1.0: m = _scale(m, f)",
            f"v = _new({q})",
            "v._magnitude = m",
            f"v._units = {units}",
        )
    elif _tuple(inner):
        item = get_args(inner)[0]
        hook = conv.get_structure_hook(item)
        fast = getattr(hook, FAST_ATTRIBUTE, None)
        w.add(indent, "if type(v) is not list: raise _GiveUp")
        if fast is not None:
            w.add(indent, f"v = tuple([{w.name('record', fast)}(x) for x in v])")
        else:
            item_type = w.name("type", item)
            w.add(indent, f"v = tuple([{w.name('hook', hook)}(x, {item_type}) for x in v])")
    else:
        hook = conv.get_structure_hook(inner)
        fast = getattr(hook, FAST_ATTRIBUTE, None)
        if fast is not None:
            w.add(indent, f"v = {w.name('record', fast)}(v)")
        else:
            w.add(indent, f"v = {w.name('hook', hook)}(v, {w.name('type', inner)})")
    return False


_INLINE: Final = (str, bool, dt.datetime)


def _builtin(conv: cattrs.Converter, tp: Any, inner: Any, optional: bool) -> bool:
    """Whether the converter structures ``tp`` with kapproto's own hooks.

    Only then may the generated code write their valid case inline; a type
    the code does not write inline (records, other types) goes through the
    converter's hook anyway. An optional type is kapproto's when its hook is
    kapproto's or cattrs' own optional handling over kapproto's hook.
    """
    if not (inner in _INLINE or _str_enum(inner) or _kind(inner) is not None or _tuple(inner)):
        return True  # written as a call of the converter's hook
    if not is_builtin(conv.get_structure_hook(inner)):
        return False
    if not optional:
        return True
    outer = conv.get_structure_hook(tp)
    return is_builtin(outer) or getattr(outer, "__func__", None) is _STRUCTURE_OPTIONAL


_STRUCTURE_OPTIONAL: Final = getattr(cattrs.BaseConverter, "_structure_optional", None)


def _tuple(tp: Any) -> bool:
    """``tuple[X, ...]``."""
    return get_origin(tp) is tuple and len(get_args(tp)) == 2 and get_args(tp)[1] is ...


def _compilable(cls: type) -> bool:
    return (
        attrs.has(cls)
        and not hasattr(cls, "__attrs_init__")  # a hand-written __init__
        and not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "_attrs_cached_hash")
        and all(a.init and a.alias == a.name for a in attrs.fields(cls))
    )


def compile_record(cls: type, conv: cattrs.Converter) -> Callable[[Any], Any] | None:
    """A function building ``cls`` from a JSON object in the common valid case.

    It raises on anything else; the caller then takes the full path. ``None``
    when ``cls`` has features this does not reproduce (a hand-written or
    pre-init, fields that are not init arguments under their own name, a
    cached hash, a record that contains itself).
    """
    if cls in _COMPILING or not _compilable(cls):
        return None
    _COMPILING.add(cls)
    try:
        return _compile(cls, conv)
    finally:
        _COMPILING.discard(cls)


def _compile(cls: type, conv: cattrs.Converter) -> Callable[[Any], Any]:
    attrs.resolve_types(cls, include_extras=True)
    fields = attrs.fields(cls)
    w = _Writer()
    keys = {a.name for a in fields}
    kind = _KIND_OF.get(cls)
    w.add(1, "if type(o) is not dict: raise _GiveUp")
    if kind is not None:
        keys.add("schema")
        current = w.name("schema", f"kapproto.{kind}/{_DOCUMENTS[kind][1]}")
        # a document in an older schema is upgraded on the full path
        w.add(1, "s = o.get('schema', _MISSING)", f"if s is not _MISSING and s != {current}:")
        w.add(2, "raise _GiveUp")
    w.add(1, f"if not o.keys() <= {w.name('keys', frozenset(keys))}: raise _GiveUp")
    w.add(1, f"self = _new({w.name('cls', cls)})")
    checks: list[str] = []
    for i, a in enumerate(fields):
        field = w.name("field", a)
        given = 1
        if a.default is attrs.NOTHING:
            w.add(1, f"v = o[{a.name!r}]")
        elif _none_by_default(a):
            w.add(1, f"v = o.get({a.name!r})")  # missing or null: None either way
        else:
            w.add(1, f"v = o.get({a.name!r}, _MISSING)", "if v is _MISSING:")
            if isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
                factory = w.name("factory", a.default.factory)
                arg = "self" if a.default.takes_self else ""
                w.add(2, f"v = {factory}({arg})")
            else:
                w.add(2, f"v = {w.name('default', a.default)}")
            _convert(w, a, field, 2, source="default")
            w.add(1, "else:")
            given = 2
        made_aware = _parse(w, conv, a.type, given)
        inline = _builtin(conv, a.type, *_optional(a.type))
        _convert(w, a, field, given, source="inline" if inline else "hook")
        check = _validate(w, a, field, f"v{i}", made_aware)
        if check:
            w.add(1, f"v{i} = v")
            checks += check
        w.add(1, _setter(w, cls, a.name))
    if checks:
        w.add(1, "if not _validators_off():")
        w.add(2, *checks)
    if hasattr(cls, "__attrs_post_init__"):
        w.add(1, "self.__attrs_post_init__()")
    w.add(1, "return self")
    name = f"fast_structure_{cls.__name__}"
    source = "\n".join([f"def {name}(o):", *w.lines]) + "\n"
    filename = f"<kapproto fast structure {cls.__module__}.{cls.__qualname__}>"
    exec(compile(source, filename, "exec"), w.names)  # our own generated source
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    fn: Callable[[Any], Any] = w.names[name]
    return fn


def _none_by_default(a: attrs.Attribute[Any]) -> bool:
    """Whether a missing key and a null give the field the same value: ``None``.

    True for an optional field that defaults to ``None`` with no converter to
    apply to it (none, or a :func:`~kapproto.units.kind_field` that lets ``None`` pass).
    """
    if a.default is not None or not _optional(a.type)[1]:
        return False
    if a.converter is None:
        return True
    kind, none_passes = a.metadata.get(_units._KIND_METADATA, (None, False))
    return bool(none_passes) and kind is _kind(_optional(a.type)[0])


def _setter(w: _Writer, cls: type, name: str) -> str:
    """A statement setting field ``name`` of ``self`` to ``v``, as attrs' ``__init__`` does.

    A slot is set through its descriptor (what ``object.__setattr__`` ends up
    calling, without looking the name up); any other field by name.
    """
    slot = next((k.__dict__[name] for k in cls.__mro__ if name in k.__dict__), None)
    if isinstance(slot, types.MemberDescriptorType):
        return f"{w.name('slot', slot.__set__)}(self, v)"
    return f"_set(self, {name!r}, v)"


def _returns_members(converter: Any, tp: Any) -> bool:
    """Whether ``converter`` returns each member of the enum ``tp`` as it is (tried on each)."""
    if not _str_enum(tp) or hasattr(converter, "takes_self"):  # an attrs.Converter
        return False
    try:
        return all(converter(m) is m for m in tp)
    except Exception:
        return False


def _convert(w: _Writer, a: attrs.Attribute[Any], field: str, indent: int, *, source: str) -> None:
    """Write the field's attrs converter, unless the value is already what it would return.

    ``source`` says where the value came from: ``"inline"`` (the JSON, parsed
    by code written here: an enum member, a canonical quantity), ``"hook"``
    (the JSON, through a converter hook: anything) or ``"default"``.
    """
    converter = a.converter
    if converter is None:
        return
    inner, optional = _optional(a.type)
    kind, none_passes = a.metadata.get(_units._KIND_METADATA, (None, False))
    if source == "inline" and _returns_members(converter, inner):
        if not optional:
            return
        w.add(indent, "if v is None:")  # what the converter makes of None is up to it
        indent += 1
    elif source == "inline" and kind is not None and kind is _kind(inner):
        # the converter returns a canonical quantity as it is, and None if it may
        if not optional or none_passes:
            return
        w.add(indent, "if v is None:")
        indent += 1
    elif source == "default" and kind is not None and none_passes and a.default is None:
        return
    # an attrs.Converter may also take the instance and the field, in that order
    args = ["v"]
    if getattr(converter, "takes_self", False):
        args.append("self")
    if getattr(converter, "takes_field", False):
        args.append(field)
    fn = w.name("convert", getattr(converter, "converter", converter))
    w.add(indent, f"v = {fn}({', '.join(args)})")


def _validate(
    w: _Writer, a: attrs.Attribute[Any], field: str, value: str, made_aware: bool
) -> list[str]:
    """The validator calls of one field, minus those the parse already made true."""
    validator = a.validator
    if validator is None:
        return []
    if validator is aware and made_aware and (not _optional(a.type)[1] or a.default is None):
        return []  # the parse gave an aware datetime, or None where None is the default
    call = f"{w.name('validator', validator)}(self, {field}, {value})"
    if validator is text and a.type is str:
        # the common case without the validator: printable (so no control
        # character) and not blank; anything else asks the validator
        return [f"if not ({value}.isprintable() and {value}.strip()): {call}"]
    return [call]
