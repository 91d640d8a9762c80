"""Protocol parameters: a value with its source and confidence.

Every number in a protocol file may be written bare (``session_max = "84 mg"``)
or with its provenance (``session_max = { value = "84 mg", source = "Spravato
PI §2", confidence = "C" }``). An unset parameter means *not configured*.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import attrs

from kapproto.exceptions import KapprotoError, ProtocolError
from kapproto.units import Kind

__all__ = ["Confidence", "Parameter", "parse_parameter", "provenance"]

T = TypeVar("T")


class Confidence(enum.Enum):
    """How sure the source of a built-in number is (see CLINICAL.md).

    ``C`` confirmed in the source named; ``S`` secondary source; ``DESIGN`` a
    kapproto default with no clinical source.

    Example:
        >>> from kapproto import get_protocol
        >>> get_protocol("esketamine-trd").doses[0].session_max.confidence
        <Confidence.C: 'C'>
        >>> Confidence("design")
        <Confidence.DESIGN: 'design'>
    """

    C = "C"
    S = "S"
    DESIGN = "design"


@attrs.frozen
class Parameter(Generic[T]):
    """A protocol parameter: its value, where it comes from, how sure that is.

    Attributes:
        value: The value (a quantity, a number, a flag, ...).
        source: Citation, or ``""`` when the file gives none.
        confidence: ``C``, ``S`` or ``design``; ``None`` when not stated.

    Example:
        >>> from kapproto import Confidence, Parameter, get_protocol
        >>> get_protocol("im-kap").monitoring.predose_bp.value
        True
        >>> Parameter(True, source="clinic policy", confidence=Confidence.DESIGN).confidence
        <Confidence.DESIGN: 'design'>
    """

    value: T
    source: str = ""
    confidence: Confidence | None = None

    def cite(self, name: str) -> str:
        """A short text naming the parameter and its source, for findings."""
        return f"{name} ({self.source})" if self.source else name


def kind_parameter(param: object, kind: Kind, name: str) -> Any:
    """``param``, a :class:`Parameter` or ``None``, with its value in ``kind``'s canonical unit.

    The body of attrs converters for parameter fields that hold a quantity
    (:func:`~kapproto.units.kind_field` for a quantity wrapped in a
    :class:`Parameter`), so one built in Python holds its value as one read
    from a file does (``1 h`` as 60 min).

    Raises:
        ProtocolError: Not a :class:`Parameter`, at ``$.<name>``.
        UnitError: Its value is not a quantity of ``kind`` (a bare number, a
            unit of another kind), at ``$.<name>``.
    """
    if param is None:
        return None
    path = f"$.{name}"
    if not isinstance(param, Parameter):
        raise ProtocolError(f"expected a Parameter or None, got {param!r}", path=path)
    value = kind.check(param.value, name=name, path=path)
    return param if value is param.value else attrs.evolve(param, value=value)


_KEYS = frozenset({"value", "source", "confidence"})


def provenance(raw: Mapping[str, Any], *, path: str) -> tuple[str, Confidence | None]:
    """Read the ``source`` and ``confidence`` keys of a parameter table.

    Raises:
        ProtocolError: ``source`` is not a string or ``confidence`` is unknown.
    """
    problems: list[tuple[str, str]] = []
    source = raw.get("source", "")
    if not isinstance(source, str):
        problems.append((f"{path}.source", f"expected a string, got {source!r}"))
        source = ""
    confidence: Confidence | None = None
    if "confidence" in raw:
        try:
            confidence = Confidence(raw["confidence"])
        except ValueError:
            problems.append(
                (f"{path}.confidence", f"{raw['confidence']!r} is not one of 'C', 'S', 'design'")
            )
    if problems:
        raise ProtocolError(problems=problems)
    return source, confidence


def parse_parameter(
    raw: object,
    parse_value: Callable[[object, str], T],
    *,
    path: str,
    extra_keys: frozenset[str] = frozenset(),
) -> tuple[Parameter[T], dict[str, Any]]:
    """Read a bare value or a ``{value, source, confidence, ...}`` table.

    Args:
        raw: What the file holds for the parameter.
        parse_value: Turns the bare value into ``T``; called with ``(value, path)``.
        path: JSON path of the parameter, for errors.
        extra_keys: Further keys allowed in the table (``anchor``, ``at``, ...),
            returned in the second element.

    Returns:
        The parameter and a dict of the extra keys found.

    Raises:
        ProtocolError: An unknown key, an unknown confidence or a bad value.
    """
    if (isinstance(raw, Mapping) and "value" in raw) or (
        isinstance(raw, Mapping) and set(raw) & (_KEYS - {"value"}) and not extra_keys
    ):
        assert isinstance(raw, Mapping)
        problems: list[tuple[str, str]] = []
        unknown = sorted(set(raw) - _KEYS - extra_keys)
        allowed = ", ".join(["value", "source", "confidence", *sorted(extra_keys)])
        problems += [(f"{path}.{k}", f"unknown key {k!r}; expected {allowed}") for k in unknown]
        try:
            source, confidence = provenance(raw, path=path)
        except KapprotoError as exc:
            problems += exc.problems
            source, confidence = "", None
        if "value" not in raw:
            problems.append((f"{path}.value", "required key is missing"))
        value: Any = None
        if "value" in raw:
            try:
                value = parse_value(raw["value"], f"{path}.value")
            except KapprotoError as exc:
                problems += exc.problems
        if problems:
            raise ProtocolError(problems=problems)
        extras = {k: raw[k] for k in extra_keys if k in raw}
        return Parameter(value, source, confidence), extras
    try:
        return Parameter(parse_value(raw, path)), {}
    except KapprotoError as exc:
        raise ProtocolError(problems=exc.problems) from None
