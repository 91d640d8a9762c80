"""Facts about a candidate: a typed, validated, flat view of a nested mapping.

:class:`Facts` checks a nested mapping against the fact catalogue once, at the
edge, and keeps a flat ``path -> value`` dict of canonical primitives
(quantities as their canonical magnitude at the kind's resolution) that the
compiled rule sets read without further interpretation.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from kapproto.exceptions import KapprotoError, ValidationError
from kapproto.screening._catalogue import (
    EXTRA,
    FactValue,
    _Magnitude,
    _prefixes,
    _unknown,
    fact_catalogue,
)
from kapproto.serialization import register_hooks
from kapproto.units import canonical_number, get_registry, kind_of, quantity

__all__ = ["Facts", "ScoreLike", "public_value"]


def _parse_extra(value: object) -> bool | int | float | str:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValidationError(f"expected a finite number, got {value!r}")
        return value
    is_mapping = isinstance(value, Mapping) and set(value) == {"value", "unit"}
    if is_mapping or isinstance(value, get_registry().Quantity):
        try:
            if isinstance(value, Mapping):
                if not isinstance(value["unit"], str):
                    raise ValidationError(f"expected a unit string, got {value['unit']!r}")
                q = quantity(value["value"], value["unit"])
            else:
                q = quantity(value)
            kind = kind_of(q)
        except KapprotoError as exc:
            raise ValidationError(problems=[("$", m) for _p, m in exc.problems]) from None
        return _Magnitude(float(kind.round(q)), kind)
    raise ValidationError(
        "a clinic fact is true/false, a number, a string or a quantity "
        f"{{'value': ..., 'unit': ...}}; got {value!r}"
    )


def _parse_leaf(path: str, value: object) -> bool | int | float | str:
    spec = fact_catalogue().get(path)
    if spec is not None:
        return spec.parse(value)
    if path.startswith(EXTRA + ".") and all(path.split(".")):
        return _parse_extra(value)
    prefixes = _prefixes()
    if path in prefixes or path == EXTRA:
        kids = ", ".join(prefixes.get(path, ()))
        raise ValidationError(
            f"expected a mapping of facts under {path!r} ({kids or 'any names'}), got {value!r}"
        )
    raise ValidationError(_unknown(path))


def _is_branch(path: str, value: object) -> bool:
    """Whether ``value`` is a mapping of further facts under ``path`` (not a leaf)."""
    if not isinstance(value, Mapping):
        return False
    if path in _prefixes():
        return True
    in_extra = path == EXTRA or path.startswith(EXTRA + ".")
    return in_extra and set(value) != {"value", "unit"}


def _flatten(
    node: Mapping[Any, Any],
    prefix: str,
    out: dict[str, Any],
    problems: list[tuple[str, str]],
) -> None:
    catalogue = fact_catalogue()
    for key, value in node.items():
        if not isinstance(key, str) or not key or "." in key:
            problems.append(
                (
                    f"$.{prefix}" if prefix else "$",
                    f"bad fact key {key!r}; a key is a non-empty string without dots",
                )
            )
            continue
        path = f"{prefix}.{key}" if prefix else key
        if value is None:
            continue  # null means not recorded: unknown, like an absent fact
        spec = catalogue.get(path)
        if spec is not None:
            try:
                out[path] = spec.parse(value)
            except ValidationError as exc:
                problems.extend((f"$.{path}", m) for _p, m in exc.problems)
            continue
        if _is_branch(path, value):
            _flatten(value, path, out, problems)
            continue
        try:
            out[path] = _parse_leaf(path, value)
        except ValidationError as exc:
            problems.extend((f"$.{path}", m) for _p, m in exc.problems)


class ScoreLike(Protocol):
    """What :meth:`Facts.with_scores` reads from a score (:class:`kapproto.instruments.Score`)."""

    @property
    def instrument(self) -> str: ...

    @property
    def total(self) -> int | None: ...

    @property
    def flags(self) -> frozenset[str]: ...

    @property
    def items(self) -> Mapping[str, int]: ...


class Facts(Mapping[str, FactValue]):
    """What is known about a candidate, checked against the fact catalogue.

    Built from a nested mapping (as in a JSON file). Every leaf is checked
    against its entry in ``data/facts.toml``: unknown paths outside
    ``extra.`` are errors, a quantity needs a unit of its fact's kind, and a
    value outside the physically possible range is refused. ``null`` and an
    absent key both mean *unknown*; ``false`` is only what someone recorded
    as false.

    A :class:`Facts` is an immutable mapping from dotted path to value
    (quantities as :class:`pint.Quantity` in their canonical unit, held at
    the kind's resolution, e.g. 1 mm[Hg]). Change it with
    :meth:`with_values`, :meth:`without` and :meth:`with_scores`.

    Args:
        mapping: Nested facts, e.g. ``{"vitals": {"systolic": "128 mmHg"}}``.

    Raises:
        ValidationError: Every problem, each with the JSON path of the fact.

    Example:
        >>> facts = Facts({"sex": "male", "vitals": {"systolic": "128 mmHg"}})
        >>> facts["vitals.systolic"]
        <Quantity(128.0, 'millimeter_Hg')>
        >>> "pregnant" in facts
        False
        >>> Facts({"vitals": {"systolic": 128}})
        Traceback (most recent call last):
        ...
        kapproto.exceptions.ValidationError: $.vitals.systolic: 128 is a bare number; a PRESSURE needs a unit, e.g. '128 mm[Hg]'
    """

    __slots__ = ("_hash", "_values")

    _values: dict[str, Any]
    _hash: int | None

    def __init__(self, mapping: Mapping[str, Any] | None = None) -> None:
        values: dict[str, Any] = {}
        if mapping is not None:
            if not isinstance(mapping, Mapping):
                raise ValidationError(f"expected a mapping of facts, got {mapping!r}")
            problems: list[tuple[str, str]] = []
            _flatten(mapping, "", values, problems)
            if problems:
                raise ValidationError(problems=problems)
        self._values = values
        self._hash = None

    @classmethod
    def _trusted(cls, values: dict[str, Any]) -> Facts:
        new = cls.__new__(cls)
        new._values = values
        new._hash = None
        return new

    @classmethod
    def from_paths(cls, paths: Mapping[str, Any]) -> Facts:
        """Build facts from a flat mapping of dotted paths.

        Example:
            >>> Facts.from_paths({"vitals.diastolic": "82 mm[Hg]"}) == Facts({"vitals": {"diastolic": "82 mmHg"}})
            True
        """
        return cls().with_values(paths)

    def with_values(self, paths: Mapping[str, Any]) -> Facts:
        """A copy with facts set by dotted path; a ``None`` value removes a fact.

        A mapping at a branch (``{"vitals": {"systolic": "150 mmHg"}}``) sets
        the facts under it, as in the constructor.

        Raises:
            ValidationError: Every bad path or value.
        """
        if not isinstance(paths, Mapping):
            raise ValidationError(f"expected a mapping of dotted fact paths, got {paths!r}")
        values = dict(self._values)
        problems: list[tuple[str, str]] = []
        for path, value in paths.items():
            if value is None:
                values.pop(path, None)
                continue
            try:
                if not isinstance(path, str):
                    raise ValidationError(f"a fact path is a dotted string, got {path!r}")
                if _is_branch(path, value):
                    _flatten(value, path, values, problems)
                    continue
                values[path] = _parse_leaf(path, value)
            except ValidationError as exc:
                problems.extend((f"$.{path}", m) for _p, m in exc.problems)
        if problems:
            raise ValidationError(problems=problems)
        return Facts._trusted(values)

    def without(self, *paths: str) -> Facts:
        """A copy with these facts made unknown."""
        return Facts._trusted({p: v for p, v in self._values.items() if p not in paths})

    def with_scores(self, *scores: ScoreLike) -> Facts:
        """A copy with the facts that instrument scores provide.

        Fills ``scores.<id>.total``, ``scores.phq9.item9`` (from the score's
        ``items``) and ``scores.cssrs_screener.high_risk`` (from its
        ``flags``), as the catalogue's ``from_score`` entries say. A value a
        score does not have (no total, an item not answered) stays as it was.

        Args:
            scores: :class:`kapproto.instruments.Score` values, at most one
                per instrument.

        Raises:
            ValidationError: Two scores of one instrument, or a value outside
                the fact's range.
        """
        by_instrument: dict[str, ScoreLike] = {}
        for s in scores:
            if s.instrument in by_instrument:
                raise ValidationError(
                    f"two {s.instrument} scores given; pass one score per instrument",
                    path=f"$.scores.{s.instrument}",
                )
            by_instrument[s.instrument] = s
        updates: dict[str, object] = {}
        for spec in fact_catalogue().values():
            found = by_instrument.get(spec.instrument) if spec.instrument else None
            if found is None or spec.from_score is None:
                continue
            what, _, key = spec.from_score.partition(":")
            value: object = (
                found.total
                if what == "total"
                else found.items.get(key)
                if what == "item"
                else key in found.flags
            )
            if value is not None:
                updates[spec.path] = value
        return self.with_values(updates)

    def raw(self, path: str) -> bool | int | float | str | None:
        """The canonical primitive of a fact (a quantity as its magnitude), or ``None``."""
        return self._values.get(path)

    def to_dict(self) -> dict[str, Any]:
        """The facts as a nested JSON-ready mapping (quantities as ``{"value", "unit"}``).

        Example:
            >>> Facts({"weight": "80 kg", "sex": "female"}).to_dict()
            {'weight': {'value': 80, 'unit': 'kg'}, 'sex': 'female'}
        """
        out: dict[str, Any] = {}
        for path, value in self._values.items():
            node = out
            *parents, leaf = path.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = _to_json(path, value)
        return out

    def __getitem__(self, path: str) -> FactValue:
        return public_value(path, self._values[path])

    def __contains__(self, path: object) -> bool:
        return path in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def _key(self) -> frozenset[tuple[str, object]]:
        return frozenset(
            (p, (float(v), v.kind.name) if isinstance(v, _Magnitude) else v)
            for p, v in self._values.items()
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Facts):
            return NotImplemented
        return self._values == other._values and self._key() == other._key()

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self._key())
        return self._hash

    def __repr__(self) -> str:
        shown = {p: _display(p, v) for p, v in self._values.items()}
        return f"Facts.from_paths({shown!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (Facts._trusted, (dict(self._values),))


def public_value(path: str, value: Any) -> FactValue:
    """The user-facing value of a fact's canonical primitive (quantities as pint)."""
    spec = fact_catalogue().get(path)
    if spec is not None:
        return spec.public(value)
    if isinstance(value, _Magnitude):
        return get_registry().Quantity(float(value), value.kind.unit)
    return value  # type: ignore[no-any-return]


def _to_json(path: str, value: Any) -> object:
    spec = fact_catalogue().get(path)
    if spec is not None:
        return spec.to_json(value)
    if isinstance(value, _Magnitude):
        return {"value": canonical_number(float(value)), "unit": value.kind.canonical}
    return value


def _display(path: str, value: Any) -> object:
    """A fact value for messages and reprs: quantities as ``"128 mm[Hg]"``."""
    spec = fact_catalogue().get(path)
    kind = spec.kind if spec is not None else getattr(value, "kind", None)
    if kind is None:
        return value
    return f"{canonical_number(float(value))} {kind.canonical}"


def _facts_hooks(conv: Any) -> None:
    def structure(value: object, _: object) -> Facts:
        if isinstance(value, Facts):
            return value
        if not isinstance(value, Mapping):
            raise ValidationError(f"expected a mapping of facts, got {value!r}")
        return Facts(value)

    conv.register_structure_hook(Facts, structure)
    conv.register_unstructure_hook(Facts, Facts.to_dict)


register_hooks(_facts_hooks)
