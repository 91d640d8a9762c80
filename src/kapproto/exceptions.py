"""Errors raised by kapproto for bad input.

Every error kapproto raises for bad input is a :class:`KapprotoError`. Each
also inherits the builtin that callers already catch, so ``except ValueError``
keeps working::

    Exception
    ├── KapprotoError
    │   ├── ValidationError        (also ValueError)   a record or document is malformed
    │   ├── UnitError              (also ValueError)   a unit is missing, unknown or of the wrong kind
    │   ├── RuleError              (also ValueError)   a screening rule set is inconsistent
    │   ├── ProtocolError          (also ValueError)   a protocol file is inconsistent
    │   └── UnknownReferenceError  (also LookupError)  an id that no catalogue knows

An error carries one or more :class:`Problem` entries, each a ``(path,
message)`` pair. ``path`` is a JSON path such as ``$.administrations[1].amount``
relative to the object being built; the message names the value received and
what was expected. The rendered message is built from these fields in
``__str__``, so errors pickle and compare by content.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, Self

__all__ = [
    "KapprotoError",
    "Problem",
    "ProtocolError",
    "RuleError",
    "UnitError",
    "UnknownReferenceError",
    "ValidationError",
    "join_path",
]


class Problem(NamedTuple):
    """One problem found in the input.

    Attributes:
        path: JSON path of the offending value, ``$`` for the whole object.
        message: What was received and what was expected.
    """

    path: str
    message: str


def join_path(prefix: str, path: str) -> str:
    """Join a JSON path onto a prefix.

    Args:
        prefix: An absolute path such as ``$.administrations[1]``.
        path: A path relative to ``prefix``, itself starting with ``$``.

    Returns:
        The combined path.

    Example:
        >>> join_path("$.administrations[1]", "$.amount")
        '$.administrations[1].amount'
        >>> join_path("$.vitals", "$[0]")
        '$.vitals[0]'
    """
    if path == "$":
        return prefix
    return prefix + path[1:] if path.startswith("$") else f"{prefix}.{path}"


class KapprotoError(Exception):
    """Base class of every error kapproto raises for bad input.

    Args:
        message: The problem, for the common case of a single one.
        path: JSON path of ``message``; ``$`` when it concerns the whole input.
        problems: Further ``(path, message)`` entries.

    Attributes:
        problems: Every problem, in the order found.

    Example:
        >>> from kapproto import KapprotoError, UnitError, quantity
        >>> issubclass(UnitError, KapprotoError)
        True
        >>> try:
        ...     quantity("40 furlongs")
        ... except KapprotoError as err:
        ...     print(type(err).__name__, err.problems[0].path)
        UnitError $
    """

    problems: tuple[Problem, ...]

    def __init__(
        self,
        message: str | None = None,
        *,
        path: str = "$",
        problems: Iterable[tuple[str, str]] = (),
    ) -> None:
        found = [Problem(path, message)] if message is not None else []
        found.extend(Problem(p, m) for p, m in problems)
        self.problems = tuple(found)
        super().__init__(*self.problems)

    @property
    def entries(self) -> tuple[Problem, ...]:
        """The same as ``problems``: ``(path, message)`` pairs."""
        return self.problems

    def at(self, prefix: str) -> Self:
        """Return a copy whose paths are relative to ``prefix``.

        Example:
            >>> str(ValidationError("must be positive", path="$.amount").at("$.administrations[0]"))
            '$.administrations[0].amount: must be positive'
        """
        return type(self)(problems=[(join_path(prefix, p), m) for p, m in self.problems])

    def __str__(self) -> str:
        if not self.problems:
            return type(self).__name__
        if len(self.problems) == 1:
            path, message = self.problems[0]
            return f"{path}: {message}"
        lines = [f"{len(self.problems)} problems:"]
        lines.extend(f"  {p}: {m}" for p, m in self.problems)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(problems={list(self.problems)!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.problems))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, KapprotoError)
        return self.problems == other.problems

    def __hash__(self) -> int:
        return hash((type(self), self.problems))


def _rebuild(cls: type[KapprotoError], problems: tuple[Problem, ...]) -> KapprotoError:
    return cls(problems=problems)


class ValidationError(KapprotoError, ValueError):
    """A record or document is malformed or physically impossible.

    Example:
        >>> err = ValidationError(problems=[("$.start", "naive datetime"), ("$.end", "missing")])
        >>> print(err)
        2 problems:
          $.start: naive datetime
          $.end: missing
    """


class UnitError(KapprotoError, ValueError):
    """A quantity has no unit, an unknown unit, or a unit of the wrong kind.

    Example:
        >>> from kapproto import quantity
        >>> from kapproto.units import MASS
        >>> quantity("0.5 mg/kg", kind=MASS)
        Traceback (most recent call last):
        ...
        kapproto.exceptions.UnitError: $: 0.5 mg/kg must be a MASS (ug, mg, g)
    """


class RuleError(KapprotoError, ValueError):
    """A screening rule set is inconsistent; every problem is listed at once.

    Example:
        >>> from kapproto import RuleError
        >>> err = RuleError("unknown fact 'history.flu'", path="$.rules[0].when")
        >>> print(err)
        $.rules[0].when: unknown fact 'history.flu'
    """


class ProtocolError(KapprotoError, ValueError):
    """A protocol file is inconsistent; every problem is listed at once.

    Example:
        >>> from kapproto import load_protocol
        >>> load_protocol("examples/custom_protocol/clinic/clinic-kap.toml")
        Traceback (most recent call last):
        ...
        kapproto.exceptions.ProtocolError: 2 problems:
          clinic-x-kap@2:$.ruleset: no rule set clinic-x-eligibility@1 in the catalogue
          clinic-x-kap@2:$.template: no template clinic-x-kap-4@1 in the catalogue
    """


class UnknownReferenceError(KapprotoError, LookupError):
    """An id (instrument, protocol, rule set, template, ...) that is not known.

    Example:
        >>> from kapproto import get_protocol
        >>> get_protocol("no-such-protocol")
        Traceback (most recent call last):
        ...
        kapproto.exceptions.UnknownReferenceError: $: unknown protocol 'no-such-protocol'; known: ...
    """
