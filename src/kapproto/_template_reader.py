"""Reading the integration-plan template file format (TOML or JSON, same shape).

Every key, value, unit and instrument id is checked, and every problem is
reported at once as a :class:`~kapproto.exceptions.ProtocolError` whose
entries carry the path and the step id (``$.steps[1].after: step
'integrate': ...``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

from kapproto._activities import StepKind
from kapproto._params import Confidence
from kapproto._plan_steps import PlanAnchor, PlanStep, StepWindow, WindowSide
from kapproto.exceptions import KapprotoError, ProtocolError, UnknownReferenceError, ValidationError
from kapproto.units import DURATION, Duration

__all__ = ["read_template"]

T = TypeVar("T")

_TOP_KEYS = ("id", "version", "title", "source", "steps")
_STEP_KEYS = (
    "id", "title", "kind", "anchor", "after", "before", "every", "doses", "duration",
    "instruments", "prompts", "required", "source", "confidence",
)  # fmt: skip


def _choices(cls: type[enum.Enum]) -> str:
    return ", ".join(repr(m.value) for m in cls)


def read_template(
    data: object, *, instruments: Collection[str] | None, build: Callable[..., T]
) -> T:
    """Read a parsed template file and build it with ``build(id=..., ..., steps=[...])``.

    Args:
        data: The parsed TOML or JSON document.
        instruments: The instrument ids steps may name; ``None``: the
            built-in instruments (:func:`kapproto.instruments.get_instrument`).
        build: Makes the template from its fields (``PlanTemplate``).

    Raises:
        ProtocolError: Every problem found, each with its path and step id.
    """
    return _Reader(instruments).template(data, build)


class _Reader:
    """Reads the template file format, collecting every problem before raising."""

    def __init__(self, instruments: Collection[str] | None) -> None:
        self.instruments = instruments
        self.problems: list[tuple[str, str]] = []

    def template(self, data: object, build: Callable[..., T]) -> T:
        if not isinstance(data, Mapping):
            raise ProtocolError(f"a template must be a table/object, got {data!r}")
        self._unknown(data, _TOP_KEYS, "$")
        head = {key: self._text(data, key, "$", required=True) for key in _TOP_KEYS[:4]}
        raw_steps = data.get("steps")
        steps: list[PlanStep | None] = []
        if not isinstance(raw_steps, list) or not raw_steps:
            self.problems.append(
                ("$.steps", f"expected a non-empty list of steps, got {raw_steps!r}")
            )
        else:
            steps = [self._step(raw, f"$.steps[{i}]") for i, raw in enumerate(raw_steps)]
            ids = [raw.get("id") if isinstance(raw, Mapping) else None for raw in raw_steps]
            self.problems += [
                (f"$.steps[{i}].id", f"duplicate step id {step_id!r}")
                for i, step_id in enumerate(ids)
                if step_id is not None and ids.index(step_id) != i
            ]
        if not self.problems:
            try:
                return build(**head, steps=[s for s in steps if s is not None])
            except ValidationError as exc:
                self.problems += exc.problems
        raise ProtocolError(problems=self.problems)

    # -- pieces ---------------------------------------------------------------

    def _unknown(self, data: Mapping[str, Any], keys: Sequence[str], path: str) -> None:
        self.problems += [
            (f"{path}.{key}", f"unknown key {key!r}; expected one of {', '.join(keys)}")
            for key in data
            if key not in keys
        ]

    def _text(self, data: Mapping[str, Any], key: str, path: str, *, required: bool) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            message = (
                "required key is missing"
                if value is None
                else f"expected a non-empty string, got {value!r}"
            )
            self.problems.append((f"{path}.{key}", message))
            return ""
        return value

    def _enum(self, data: Mapping[str, Any], key: str, cls: type[Any], path: str) -> Any:
        value = data.get(key)
        try:
            return cls(value)
        except ValueError:
            message = (
                "required key is missing" if value is None else f"{value!r} is not a valid {key}"
            )
            self.problems.append((f"{path}.{key}", f"{message}; expected one of {_choices(cls)}"))
            return None

    def _window(self, data: Mapping[str, Any], path: str) -> StepWindow | None:
        sides = [side for side in WindowSide if side.value in data]
        if len(sides) != 1:
            self.problems.append(
                (
                    f"{path}.after",
                    "give exactly one window: after = [from, to] or before = [from, to]",
                )
            )
            return None
        side = sides[0]
        raw = data[side.value]
        where = f"{path}.{side.value}"
        if not isinstance(raw, list) or len(raw) != 2:
            self.problems.append(
                (where, f"expected [from, to] such as ['24 h', '72 h'], got {raw!r}")
            )
            return None
        try:
            return StepWindow(side, *raw)
        except ValidationError as exc:
            self.problems += exc.at(where).problems
            return None

    def _list(self, data: Mapping[str, Any], key: str, kind: type, path: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(v, kind) and not isinstance(v, bool) for v in value
        ):
            self.problems.append(
                (f"{path}.{key}", f"expected a list of {kind.__name__}, got {value!r}")
            )
            return []
        return value

    def _instruments(self, data: Mapping[str, Any], path: str) -> list[str]:
        from kapproto.instruments import get_instrument

        names = self._list(data, "instruments", str, path)
        for i, name in enumerate(names):
            where = f"{path}.instruments[{i}]"
            if self.instruments is not None:
                if name not in self.instruments:
                    known = ", ".join(sorted(self.instruments))
                    self.problems.append((where, f"unknown instrument {name!r}; known: {known}"))
                continue
            try:
                get_instrument(name)
            except UnknownReferenceError as exc:
                self.problems += [(where, m) for _, m in exc.problems]
        return names

    def _scalar(self, data: Mapping[str, Any], key: str, kind: type, path: str) -> Any:
        value = data.get(key)
        if value is not None and (
            not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool)
        ):
            self.problems.append((f"{path}.{key}", f"expected {kind.__name__}, got {value!r}"))
            return None
        return value

    def _duration(self, data: Mapping[str, Any], path: str) -> Duration | None:
        value = data.get("duration")
        if value is None:
            return None
        try:
            return DURATION.check(value, path=f"{path}.duration")
        except KapprotoError as exc:
            self.problems += exc.problems
            return None

    def _step(self, raw: object, path: str) -> PlanStep | None:
        if not isinstance(raw, Mapping):
            self.problems.append((path, f"expected a step table/object, got {raw!r}"))
            return None
        before = len(self.problems)
        self._unknown(raw, _STEP_KEYS, path)
        fields: dict[str, Any] = {
            "id": self._text(raw, "id", path, required=True),
            "title": self._text(raw, "title", path, required=True),
            "kind": self._enum(raw, "kind", StepKind, path),
            "anchor": self._enum(raw, "anchor", PlanAnchor, path),
            "window": self._window(raw, path),
            "every": self._scalar(raw, "every", int, path),
            "doses": self._list(raw, "doses", int, path),
            "duration": self._duration(raw, path),
            "instruments": self._instruments(raw, path),
            "prompts": self._list(raw, "prompts", str, path),
            "required": self._scalar(raw, "required", bool, path),
            "source": self._text(raw, "source", path, required=False),
        }
        if "confidence" in raw:
            try:
                fields["confidence"] = Confidence(raw["confidence"])
            except ValueError:
                self.problems.append(
                    (
                        f"{path}.confidence",
                        f"{raw['confidence']!r} is not one of {_choices(Confidence)}",
                    )
                )
        if fields["required"] is None:
            del fields["required"]
        step: PlanStep | None = None
        if len(self.problems) == before:
            try:
                step = PlanStep(**fields)
            except ValidationError as exc:
                self.problems += exc.at(path).problems
        label = raw.get("id")
        if isinstance(label, str) and label:
            self.problems[before:] = [
                (p, f"step {label!r}: {m}") for p, m in self.problems[before:]
            ]
        return step
